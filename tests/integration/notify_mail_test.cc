// pep-notify against real parts: a Kafka broker, pep-ideas making the events, Mailpit as the
// SMTP relay (its HTTP API read back). Each rule's e-mails reach exactly the people concerned,
// once, in French with the console link and one-click unsubscribe; a 5xx recipient is recorded
// undeliverable while the others go through; a weekly-digest reader gets one e-mail with
// everything; the whole history redelivered to a new consumer group sends nothing twice; the
// clock's rules (a team's committee due, no milestone, a mission ending), a follower, and the
// coordinators' weekly picture, once each.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "harness/kafka_testing.h"
#include "harness/mailpit.h"
#include "pepiniere/notify/v1/events.pb.h"
#include "service_fixture.h"

namespace pep::testing {
namespace {

std::string Tag() {
  static const std::string t = absl::StrCat(getpid() % 100000);
  return t;
}

// Each person: account id, address, name.
struct Person {
  std::string id, email, name, roles;
};

class NotifyMailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(events::EnsureTopics(brokers_, events::PepiniereTopics()).ok());
    ideas_.Start();
    notify_.Start();
  }

  void Register(const Person& p) {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, p.id, p.roles);
    nv1::UpsertContactRequest req;
    req.set_email(p.email);
    req.set_display_name(p.name);
    nv1::Contact c;
    grpc::Status s = notify_.stub().UpsertContact(&ctx, req, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // An idea filed by `who`, with their address as its contact address.
  std::string Submit(const Person& who, const std::string& challenge, const std::string& title) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, who.id, "agent");
    iv1::SubmitIdeaRequest req = IdeasProcess::Idea(challenge, title);
    req.set_contact_email(who.email);
    req.set_author_name(who.name);
    iv1::SubmitIdeaResponse resp;
    grpc::Status s = ideas_.stub().SubmitIdea(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.idea().id();
  }

  void Assign(const std::string& challenge, const std::vector<std::string>& jurors) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "coord-1", "coordinator");
    iv1::AssignJurorsRequest req;
    req.set_challenge_id(challenge);
    for (const auto& j : jurors) req.add_juror_ids(j);
    iv1::Challenge c;
    grpc::Status s = ideas_.stub().AssignJurors(&ctx, req, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void Score(const std::string& juror, const std::string& idea) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, juror, "juror");
    iv1::ScoreIdeaRequest req;
    req.set_idea_id(idea);
    auto* cs = req.add_scores();
    cs->set_criterion("impact");
    cs->set_score(4);
    iv1::Scorecard card;
    grpc::Status s = ideas_.stub().ScoreIdea(&ctx, req, &card);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void Decide(const std::string& idea, iv1::IdeaStatus d, const std::string& rationale,
              const std::string& prize = "") {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "coord-1", "coordinator");
    iv1::DecideIdeaRequest req;
    req.set_idea_id(idea);
    req.set_decision(d);
    req.set_rationale(rationale);
    req.set_prize(prize);
    iv1::Idea out;
    grpc::Status s = ideas_.stub().DecideIdea(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The person's delivery of one category (« Mes notifications »).
  void Prefer(const Person& p, const std::string& category, nv1::Delivery d,
              const std::string& scopes = "") {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, p.id, p.roles, scopes);
    nv1::SetPreferencesRequest req;
    auto* c = req.add_categories();
    c->set_category(category);
    c->set_delivery(d);
    nv1::Preferences prefs;
    grpc::Status s = notify_.stub().SetPreferences(&ctx, req, &prefs);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  nv1::SendDigestsResponse SendWeekly(const Person& coordinator) {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, coordinator.id, "coordinator");
    nv1::SendDigestsRequest req;
    req.set_cadence(nv1::DELIVERY_WEEKLY);
    nv1::SendDigestsResponse resp;
    grpc::Status s = notify_.stub().SendDigests(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  nv1::ListNotificationsResponse Bell(const Person& p) {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, p.id, p.roles);
    nv1::ListNotificationsRequest req;
    req.set_page_size(50);
    nv1::ListNotificationsResponse resp;
    grpc::Status s = notify_.stub().ListNotifications(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  // Waits until Mailpit holds exactly `want` messages per address (and none for others).
  void ExpectMail(const std::map<std::string, int>& want, absl::Duration timeout = absl::Seconds(60)) {
    const bool reached = WaitFor([&] { return mail_.CountByRecipient() == want; }, timeout,
                                 absl::Milliseconds(200));
    auto got = mail_.CountByRecipient();
    std::string seen;
    for (const auto& [to, n] : got) absl::StrAppend(&seen, to, "=", n, " ");
    if (!reached) {
      for (const auto& m : mail_.Messages()) absl::StrAppend(&seen, "\n  ", m.to, ": ", m.subject);
    }
    EXPECT_TRUE(reached) << "mail per recipient: " << seen << "\nnotify log:\n"
                         << FileTail(notify_.log_path(), 3000);
  }

  std::vector<MailpitMessage> To(const std::string& address) {
    std::vector<MailpitMessage> out;
    for (auto& m : mail_.Messages()) {
      if (m.to == address) out.push_back(std::move(m));
    }
    return out;
  }

  const std::string brokers_ = KafkaBroker::Shared().bootstrap();
  TempDir ideas_dir_, notify_dir_, incubation_dir_;
  // The relay refuses (5xx) any address outside the department's domain.
  Mailpit mail_{{"--smtp-allowed-recipients", "@departement06\\.fr$"}};
  IdeasProcess ideas_{brokers_, ideas_dir_.path()};
  NotifyProcess notify_{brokers_, notify_dir_.path(),
                        {"--smtp_url", mail_.smtp_url(), "--ideas_addr", ideas_.address()}};
  IncubationProcess incubation_{brokers_, incubation_dir_.path()};  // started where needed
};

TEST_F(NotifyMailTest, EachRuleReachesExactlyThePeopleConcernedOnce) {
  const Person chloe{"chloe-" + Tag(), "chloe.martin@departement06.fr", "Chloé Martin", "agent"};
  const Person bob{"bob-" + Tag(), "bob.durand@departement06.fr", "Bob Durand", "agent"};
  const Person dan{"dan-" + Tag(), "dan@ailleurs.example", "Dan Ailleurs", "agent"};  // refused
  const Person j1{"j1-" + Tag(), "j1@departement06.fr", "Juré Un", "juror"};
  const Person j2{"j2-" + Tag(), "j2@departement06.fr", "Jurée Deux", "juror"};
  const Person j3{"j3-" + Tag(), "j3@departement06.fr", "Juré d'un autre défi", "juror"};
  const Person coord{"coord-1", "coordination@departement06.fr", "Coordinatrice", "coordinator"};
  for (const auto& p : {chloe, bob, dan, j1, j2, j3, coord}) Register(p);
  // Gus never signed in: his receipt goes to the address he filed his idea with (from pep-ideas).
  const Person gus{"gus-" + Tag(), "gus.blanc@departement06.fr", "Gus Blanc", "agent"};

  const std::string c1 = ideas_.OpenChallenge(1);
  const std::string c2 = ideas_.OpenChallenge(1);
  Assign(c1, {j1.id, j2.id});
  Assign(c2, {j3.id});
  const std::string i_chloe = Submit(chloe, c1, "Signaler un nid-de-poule en deux clics");
  const std::string i_bob = Submit(bob, c1, "Un guichet unique pour la voirie");
  Submit(dan, c1, "Une idée d'ailleurs");
  Submit(gus, c1, "Des horaires d'ouverture en ligne");
  Score(j1.id, i_chloe);
  Score(j1.id, i_bob);
  Decide(i_chloe, iv1::IDEA_STATUS_SHORTLISTED, "Retenue pour la finale.");
  Decide(i_chloe, iv1::IDEA_STATUS_AWARDED, "Utile à 4 500 agents, peu coûteuse.", "1er prix");
  Decide(i_bob, iv1::IDEA_STATUS_REJECTED, "Déjà en cours à la direction des routes.");

  // chloé: receipt, shortlist, prize; bob: receipt, rejection; each juror: assignment. Nobody
  // else — not the coordinator who acted, not dan (refused by the relay), not j3 for c1.
  ExpectMail({{chloe.email, 3}, {bob.email, 2}, {gus.email, 1}, {j1.email, 1}, {j2.email, 1},
              {j3.email, 1}});
  EXPECT_TRUE(absl::StrContains(mail_.Text(To(gus.email).front().id), "Bonjour Gus Blanc,"));

  std::set<std::string> ids;
  for (const auto& m : mail_.Messages()) EXPECT_TRUE(ids.insert(m.message_id).second) << m.message_id;

  const auto prize = To(chloe.email);
  const MailpitMessage* award = nullptr;
  for (const auto& m : prize) {
    if (absl::StrContains(mail_.Text(m.id), "1er prix")) award = &m;
  }
  ASSERT_NE(award, nullptr);
  EXPECT_EQ(award->subject, "Décision du jury sur votre idée « Signaler un nid-de-poule en deux clics »");
  const std::string text = mail_.Text(award->id);
  EXPECT_TRUE(absl::StrContains(text, "Bonjour Chloé Martin,")) << text;
  EXPECT_TRUE(absl::StrContains(text, "Motifs du jury : Utile à 4 500 agents, peu coûteuse.")) << text;
  EXPECT_TRUE(absl::StrContains(text, "http://console.test/idees/" + i_chloe)) << text;
  auto headers = mail_.Headers(award->id);
  ASSERT_EQ(headers["List-Unsubscribe-Post"].size(), 1u);
  EXPECT_EQ(headers["List-Unsubscribe-Post"][0], "List-Unsubscribe=One-Click");
  ASSERT_EQ(headers["List-Unsubscribe"].size(), 1u);
  const std::string link = headers["List-Unsubscribe"][0];
  EXPECT_TRUE(absl::StartsWith(link, "<http://console.test/v1/notifications/unsubscribe?token="))
      << link;
  EXPECT_TRUE(absl::StrContains(mail_.Html(award->id), "#000091"));

  // The relay refused dan for good: recorded, shown to coordinators, not retried.
  nv1::ListUndeliverableResponse und;
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, coord.id, "coordinator");
    und.Clear();
    return notify_.stub().ListUndeliverable(&ctx, nv1::ListUndeliverableRequest(), &und).ok() &&
           und.undeliverable_size() == 1;
  }, absl::Seconds(30)));
  EXPECT_EQ(und.undeliverable(0).account_id(), dan.id);
  EXPECT_EQ(und.undeliverable(0).rule(), "idea_received");
  EXPECT_GE(und.undeliverable(0).smtp_code(), 500);
  {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, chloe.id, "agent");
    nv1::ListUndeliverableResponse no;
    EXPECT_EQ(notify_.stub().ListUndeliverable(&ctx, nv1::ListUndeliverableRequest(), &no).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // The bell: chloé's three, unread, newest first; marked read.
  auto bell = Bell(chloe);
  ASSERT_EQ(bell.notifications_size(), 3);
  EXPECT_EQ(bell.unread(), 3);
  EXPECT_EQ(bell.notifications(0).rule(), "idea_decision");
  EXPECT_EQ(bell.notifications(2).rule(), "idea_received");
  EXPECT_EQ(bell.notifications(0).link(), "/idees/" + i_chloe);
  {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, chloe.id, "agent");
    nv1::MarkReadRequest req;
    req.set_all(true);
    nv1::MarkReadResponse resp;
    ASSERT_TRUE(notify_.stub().MarkRead(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.marked(), 3);
    EXPECT_EQ(resp.unread(), 0);
  }
  EXPECT_EQ(Bell(bob).notifications_size(), 2);  // bob sees only his own

  // One-click unsubscribe from the link (the gateway passes the token on): a forged token is
  // refused, the real one stops chloé's « Mes idées » e-mails; the console still shows them.
  const std::string token = link.substr(link.find("token=") + 6, link.size() - link.find("token=") - 7);
  {
    std::string forged = token;
    forged[forged.size() / 3] = forged[forged.size() / 3] == 'A' ? 'B' : 'A';
    grpc::ClientContext ctx;
    nv1::UnsubscribeRequest req;
    req.set_token(forged);
    nv1::UnsubscribeResponse resp;
    EXPECT_EQ(notify_.stub().Unsubscribe(&ctx, req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    nv1::UnsubscribeRequest req;
    req.set_token(token);
    nv1::UnsubscribeResponse resp;
    grpc::Status s = notify_.stub().Unsubscribe(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.category(), "idees");
  }
  Submit(chloe, c1, "Une deuxième idée de Chloé");
  ASSERT_TRUE(WaitFor([&] { return Bell(chloe).notifications_size() == 4; }, absl::Seconds(30)));

  // bob reads « Mes idées » as a weekly digest: two more ideas, no e-mail until the digest,
  // then one e-mail with both. His receipt for a third idea is the barrier for chloé's above.
  Prefer(bob, "idees", nv1::DELIVERY_WEEKLY);
  Submit(bob, c1, "Des bancs à l'ombre");
  Submit(bob, c1, "Des fontaines en été");
  ASSERT_TRUE(WaitFor([&] { return Bell(bob).notifications_size() == 4; }, absl::Seconds(30)));
  const nv1::SendDigestsResponse weekly = SendWeekly(coord);
  EXPECT_EQ(weekly.digests(), 1);
  EXPECT_EQ(weekly.notifications(), 2);
  // The weekly on demand also made the coordinators' picture of the week (« pilotage », at once).
  ExpectMail({{chloe.email, 3}, {bob.email, 3}, {gus.email, 1}, {j1.email, 1}, {j2.email, 1},
              {j3.email, 1}, {coord.email, 1}});
  const auto bobs = To(bob.email);
  const std::string digest = mail_.Text(bobs.front().id);  // newest first
  EXPECT_TRUE(absl::StrContains(bobs.front().subject, "Votre point de la semaine")) << bobs.front().subject;
  EXPECT_TRUE(absl::StrContains(digest, "Des bancs à l'ombre")) << digest;
  EXPECT_TRUE(absl::StrContains(digest, "Des fontaines en été")) << digest;

  // Every e-mail is an event, without address or body.
  auto sent = ReadTopicUntil(brokers_, "pepiniere.notify.events", [&](const auto& recs) {
    int n = 0;
    for (const auto& r : recs) {
      nv1::NotificationSent ev;
      if (ev.ParseFromString(r.value) && ev.recipient_id() == chloe.id) ++n;
    }
    return n >= 4;  // three e-mails and one console-only
  }, absl::Seconds(30));
  for (const auto& r : sent) {
    EXPECT_FALSE(absl::StrContains(r.value, "@departement06.fr"));
    EXPECT_FALSE(absl::StrContains(r.value, "Motifs"));
  }
}

TEST_F(NotifyMailTest, TheClockTellsTeamsFollowersAndCoordinatorsOnceEach) {
  incubation_.Start();
  // An imported start-up: construction since 7 April 2025 (12 months expected: a committee was
  // due by 7 April 2026 and none has decided since), its last milestone on 15 May 2025.
  const std::string slug = absl::StrCat("voirie-", Tag());
  std::string id;
  {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, "coord-1", "coordinator");
    incv1::ImportPortfolioRequest req;
    req.set_jsonl(absl::StrCat(
        R"({"slug":")", slug, R"(","title":"Équipe voirie","mission":"Signaler la voirie","incubator":"lab06",)",
        R"("phases":[{"name":"investigation","start":"2025-01-06"},{"name":"construction","start":"2025-04-07"}],)",
        R"("events":[{"name":"committee","date":"2025-04-01"},{"name":"product_launch","date":"2025-05-15"}]})", "\n"));
    incv1::ImportReport rep;
    grpc::Status s = incubation_.stub().ImportPortfolio(&ctx, req, &rep);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(rep.created(), 1);
    grpc::ClientContext get;
    NotifyProcess::As(get, "coord-1", "coordinator");
    incv1::GetStartupRequest gr;
    gr.set_startup_id(slug);
    incv1::StartupDetails d;
    ASSERT_TRUE(incubation_.stub().GetStartup(&get, gr, &d).ok());
    id = d.startup().id();
  }
  // Léa signed in as its team and wants « Mes start-ups » at once; her mission ends in 10 days.
  const Person lea{"lea-" + Tag(), "lea.martin@departement06.fr", "Léa Martin", "product_team"};
  {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, lea.id, lea.roles, "startup:" + id);
    nv1::UpsertContactRequest req;
    req.set_email(lea.email);
    req.set_display_name(lea.name);
    nv1::Contact c;
    ASSERT_TRUE(notify_.stub().UpsertContact(&ctx, req, &c).ok());
  }
  Prefer(lea, "startups", nv1::DELIVERY_IMMEDIATE, "startup:" + id);
  {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, "coord-1", "coordinator");
    incv1::AddTeamMemberRequest req;
    req.set_startup_id(id);
    req.set_name("Léa Martin");
    req.set_role("développeuse");
    *req.mutable_mission_end() = pep::ToTimestamp(absl::Now() + absl::Hours(24 * 10));
    incv1::Startup out;
    grpc::Status s = incubation_.stub().AddTeamMember(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ExpectMail({{lea.email, 3}});
  std::set<std::string> subjects;
  for (const auto& m : To(lea.email)) subjects.insert(m.subject);
  std::string all;
  for (const auto& sub : subjects) absl::StrAppend(&all, sub, " | ");
  EXPECT_TRUE(subjects.count("Comité d'investissement à prévoir pour « Équipe voirie »")) << all;
  EXPECT_TRUE(subjects.count("« Équipe voirie » : aucun jalon depuis 6 mois")) << all;
  EXPECT_TRUE(absl::StrContains(all, "« Équipe voirie » : la mission de Léa Martin se termine le")) << all;
  // Two more passes of the clock: nothing again (once per rule, subject and period).
  auto runs = [&] { return Sample(HttpGet(notify_.metrics_port(), "/metrics"), "pep_notify_schedule_runs_total"); };
  const double before = runs();
  ASSERT_TRUE(WaitFor([&] { return runs() >= before + 2; }, absl::Seconds(30)));

  // Camille follows the start-up: a milestone reaches her (and not the team, who pushed it).
  const Person camille{"camille-" + Tag(), "camille.roux@departement06.fr", "Camille Roux", "agent"};
  Register(camille);
  {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, camille.id, "agent");
    nv1::FollowRequest req;
    req.set_subject_type("startup");
    req.set_subject_id(id);
    nv1::FollowResponse out;
    ASSERT_TRUE(notify_.stub().Follow(&ctx, req, &out).ok());
    EXPECT_TRUE(out.created());
  }
  Prefer(camille, "suivis", nv1::DELIVERY_IMMEDIATE);
  {
    grpc::ClientContext ctx;
    NotifyProcess::As(ctx, lea.id, lea.roles, "startup:" + id);
    incv1::PushMilestoneRequest req;
    req.set_startup_id(id);
    req.set_idempotency_key("jalon-1");
    req.set_title("Première démarche en ligne");
    *req.mutable_date() = pep::ToTimestamp(absl::Now());
    req.set_kind(incv1::MILESTONE_KIND_PRODUCT_LAUNCH);
    incv1::Milestone out;
    grpc::Status s = incubation_.stub().PushMilestone(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ExpectMail({{lea.email, 3}, {camille.email, 1}});
  EXPECT_TRUE(absl::StrContains(mail_.Text(To(camille.email).front().id),
                                "« Équipe voirie », que vous suivez, a publié un jalon : « Première démarche en ligne »"));

  // The coordinator's weekly picture: once a week, however often the weekly is asked for.
  const Person coord{"coord-1", "coordination@departement06.fr", "Coordinatrice", "coordinator"};
  Register(coord);
  SendWeekly(coord);
  SendWeekly(coord);
  ExpectMail({{lea.email, 3}, {camille.email, 1}, {coord.email, 1}});
  const auto picture = To(coord.email);
  EXPECT_TRUE(absl::StartsWith(picture.front().subject, "Pépinière : la semaine du portefeuille (")) << picture.front().subject;
  const std::string text = mail_.Text(picture.front().id);
  EXPECT_TRUE(absl::StrContains(text, "Start-ups en retard : ")) << text;
  EXPECT_TRUE(absl::StrContains(text, "Satisfaction des usagers : indisponible")) << text;  // no pep-feedback here
  EXPECT_TRUE(absl::StrContains(text, "http://console.test/portefeuille")) << text;
}

TEST_F(NotifyMailTest, TheWholeHistoryRedeliveredSendsNothingTwice) {
  const Person eve{"eve-" + Tag(), "eve.leroy@departement06.fr", "Ève Leroy", "agent"};
  Register(eve);
  const std::string c = ideas_.OpenChallenge(1);
  for (int i = 0; i < 5; ++i) Submit(eve, c, absl::StrCat("Idée numéro ", i, " d'Ève"));
  ExpectMail({{eve.email, 5}});
  // The same database, a new consumer group: every event of the topics comes again.
  ASSERT_EQ(notify_.Terminate(), 0);
  NotifyProcess again{brokers_, notify_dir_.path(),
                      {"--smtp_url", mail_.smtp_url(), "--ideas_addr", ideas_.address()}};
  again.Start();
  Submit(eve, c, "La sixième, après le redémarrage");
  ExpectMail({{eve.email, 6}});
  const std::string metrics = HttpGet(again.metrics_port(), "/metrics");
  ASSERT_TRUE(WaitFor([&] {
    return SampleSum(HttpGet(again.metrics_port(), "/metrics"), "pep_consumer_lag_messages") == 0;
  }, absl::Seconds(30)));
  EXPECT_EQ(mail_.CountByRecipient()[eve.email], 6);
}

}  // namespace
}  // namespace pep::testing
