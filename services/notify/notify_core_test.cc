// pep-notify without a broker or a relay: each rule's recipients (and nobody else), the French
// texts and links, the e-mail's MIME and headers, the unsubscribe token (forged, altered,
// expired), the retry schedule and the digest periods.
#include <unistd.h>

#include <filesystem>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/notify/notify_mail.h"
#include "services/notify/notify_rules.h"
#include "services/notify/notify_store.h"
#include "common/status.h"

namespace pep::notify {
namespace {

namespace iv1 = ::pepiniere::ideas::v1;
namespace incv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;

class FakeDirectory : public Directory {
 public:
  std::map<std::string, IdeaInfo> ideas;
  std::map<std::string, ChallengeInfo> challenges;
  std::map<std::string, StartupInfo> startups;
  std::map<std::string, std::vector<std::string>> teams;
  std::map<std::pair<std::string, std::string>, int> unscored;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> followers;

  std::optional<IdeaInfo> Idea(const std::string& id) override {
    auto it = ideas.find(id);
    return it == ideas.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<ChallengeInfo> Challenge(const std::string& id) override {
    auto it = challenges.find(id);
    return it == challenges.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<StartupInfo> Startup(const std::string& id) override {
    auto it = startups.find(id);
    return it == startups.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<std::string> Team(const std::string& id) override { return teams[id]; }
  int UnscoredBy(const std::string& c, const std::string& j) override { return unscored[{c, j}]; }
  std::vector<std::string> Followers(const std::string& type, const std::string& id) override {
    return followers[{type, id}];
  }
};

absl::Time Day(const char* d) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d %H:%M", d, absl::UTCTimeZone(), &t, &err)) << d;
  return t;
}

events::Envelope Env(const std::string& type, const std::string& actor,
                     const std::string& correlation = "") {
  events::Envelope e;
  e.id = "ev-1";
  e.type = type;
  e.actor = actor;
  e.correlation_id = correlation;
  e.time = e.effective_time = Day("2026-03-03 10:00");
  return e;
}

struct Platform : FakeDirectory {
  Platform() {
    challenges["c1"] = {"c1", "Simplifier la voirie", Day("2026-03-20 17:00"), true, {"j1", "j2"}};
    challenges["c2"] = {"c2", "Autre défi", Day("2026-03-20 17:00"), true, {"j3"}};
    ideas["i1"] = {"i1", "c1", "agent-chloé", "Signaler un nid-de-poule"};
    ideas["i2"] = {"i2", "c1", "agent-bob", "Autre idée"};
    startups["s1"] = {"s1", "Équipe voirie", "i1"};
    startups["s2"] = {"s2", "Cantine", ""};
    teams["s1"] = {"team-léa", "team-omar"};
    teams["s2"] = {"team-zoé"};
  }
};

std::vector<std::string> Recipients(const std::vector<Planned>& p) {
  std::vector<std::string> out;
  for (const auto& x : p) out.push_back(x.recipient_id);
  return out;
}

TEST(Rules, IdeaReceivedGoesToItsAuthorOnlyInFrenchWithItsLink) {
  Platform dir;
  iv1::IdeaSubmitted ev;
  ev.mutable_idea()->set_id("i1");
  ev.mutable_idea()->set_challenge_id("c1");
  ev.mutable_idea()->set_author_id("agent-chloé");
  ev.mutable_idea()->set_title("Signaler un nid-de-poule");
  auto p = ForEvent(Env("pepiniere.ideas.v1.IdeaSubmitted", "agent-chloé"), ev.SerializeAsString(), dir);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].recipient_id, "agent-chloé");
  EXPECT_EQ(p[0].rule, "idea_received");
  EXPECT_EQ(p[0].category, "idees");
  EXPECT_EQ(p[0].link, "/idees/i1");
  EXPECT_EQ(p[0].title, "Votre idée « Signaler un nid-de-poule » est bien reçue");
  EXPECT_TRUE(absl::StrContains(p[0].body, "le 3 mars 2026 dans le défi « Simplifier la voirie »"))
      << p[0].body;
}

TEST(Rules, DecisionTellsTheAuthorTheReasonsAndNobodyElse) {
  Platform dir;
  iv1::IdeaAwarded ev;
  ev.set_idea_id("i1");
  ev.mutable_decision()->set_outcome(iv1::IDEA_STATUS_AWARDED);
  ev.mutable_decision()->set_prize("1er prix");
  ev.mutable_decision()->set_rationale("Utile à 4 500 agents, peu coûteuse.");
  auto p = ForEvent(Env("pepiniere.ideas.v1.IdeaAwarded", "coordinatrice"), ev.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"agent-chloé"});
  EXPECT_TRUE(absl::StrContains(p[0].body, "est récompensée par le jury : 1er prix")) << p[0].body;
  EXPECT_TRUE(absl::StrContains(p[0].body, "Motifs du jury : Utile à 4 500 agents")) << p[0].body;
  // An unknown idea (before pep-notify's time): nobody.
  ev.set_idea_id("ailleurs");
  EXPECT_TRUE(ForEvent(Env("pepiniere.ideas.v1.IdeaAwarded", "c"), ev.SerializeAsString(), dir).empty());
}

TEST(Rules, JurorsAddedAreToldNotTheOthersNorTheActor) {
  Platform dir;
  iv1::JurorsAssigned ev;
  ev.set_challenge_id("c1");
  ev.add_added_juror_ids("j2");
  ev.add_added_juror_ids("coordinatrice");  // a coordinator who names herself is not told
  ev.add_juror_ids("j1");
  ev.add_juror_ids("j2");
  auto p = ForEvent(Env("pepiniere.ideas.v1.JurorsAssigned", "coordinatrice"), ev.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"j2"});
  EXPECT_EQ(p[0].link, "/jury");
  EXPECT_TRUE(absl::StrContains(p[0].body, "se clôt le 20 mars 2026")) << p[0].body;
}

TEST(Rules, AStartupFromAnIdeaTellsItsAuthorAndItsPhasesItsTeamAndAuthor) {
  Platform dir;
  incv1::StartupCreated created;
  created.mutable_startup()->set_id("s1");
  created.mutable_startup()->set_name("Équipe voirie");
  auto p = ForEvent(Env("pepiniere.incubation.v1.StartupCreated", "pep-incubation", "i1"),
                    created.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"agent-chloé"});
  EXPECT_EQ(p[0].link, "/startups/s1");
  created.set_imported(true);  // the portfolio import tells nobody
  EXPECT_TRUE(ForEvent(Env("pepiniere.incubation.v1.StartupCreated", "x", "i1"),
                       created.SerializeAsString(), dir).empty());

  incv1::PhaseChanged moved;
  moved.set_startup_id("s1");
  moved.set_from(incv1::PHASE_INVESTIGATION);
  moved.set_to(incv1::PHASE_CONSTRUCTION);
  p = ForEvent(Env("pepiniere.incubation.v1.PhaseChanged", "team-léa"), moved.SerializeAsString(), dir);
  // The team member who moved it is not told; the other and the idea's author are.
  EXPECT_EQ(Recipients(p), (std::vector<std::string>{"team-omar", "agent-chloé"}));
  EXPECT_TRUE(absl::StrContains(p[0].body, "de la phase investigation à la phase construction"));
  moved.set_startup_id("s2");
  p = ForEvent(Env("pepiniere.incubation.v1.PhaseChanged", "coord"), moved.SerializeAsString(), dir);
  EXPECT_EQ(Recipients(p), std::vector<std::string>{"team-zoé"});
}

TEST(Rules, FeedbackGoesToThatStartupsTeamOnlyWithoutTheVerbatim) {
  Platform dir;
  fv1::FeedbackReceived ev;
  ev.mutable_feedback()->set_startup_id("s2");
  ev.mutable_feedback()->set_satisfaction(fv1::SATISFACTION_BAD);
  ev.mutable_feedback()->set_verbatim("Le formulaire m'a demandé trois fois mon adresse");
  auto p = ForEvent(Env("pepiniere.feedback.v1.FeedbackReceived", "public"), ev.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"team-zoé"});
  EXPECT_EQ(p[0].category, "retours");
  EXPECT_FALSE(absl::StrContains(p[0].body, "trois fois")) << p[0].body;
}

TEST(Rules, JuryClosingRemindsOnlyJurorsWithIdeasLeftWithinTheWindow) {
  Platform dir;
  dir.unscored[{"c1", "j1"}] = 12;
  dir.unscored[{"c1", "j2"}] = 0;
  const ChallengeInfo c = dir.challenges["c1"];
  EXPECT_TRUE(JuryClosing(c, Day("2026-03-17 17:00"), absl::Hours(48), dir).empty());  // 3 days
  auto r = JuryClosing(c, Day("2026-03-18 18:00"), absl::Hours(48), dir);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].what.recipient_id, "j1");
  EXPECT_EQ(r[0].period, "2026-03-20");
  EXPECT_TRUE(absl::StrContains(r[0].what.title, "12 idées à évaluer")) << r[0].what.title;
  EXPECT_TRUE(JuryClosing(c, Day("2026-03-20 18:00"), absl::Hours(48), dir).empty());  // closed
}

// A start-up in construction since 1 March 2026 (12 months expected), a milestone on 10 May.
StartupInfo Voirie() {
  StartupInfo s{"s1", "Équipe voirie", "i1"};
  s.phase = incv1::PHASE_CONSTRUCTION;
  s.first_start = Day("2025-12-01 00:00");
  s.phase_start = Day("2026-03-01 00:00");
  s.last_milestone = Day("2026-05-10 00:00");
  return s;
}

std::vector<std::string> RulesOf(const std::vector<Reminder>& r) {
  std::vector<std::string> out;
  for (const auto& x : r) out.push_back(x.what.rule + "→" + x.what.recipient_id);
  return out;
}

TEST(Clock, CommitteeDueThirtyDaysBeforeThePhaseEndsThenOnceItHasPassed) {
  Platform dir;
  const portfolio::StalenessPolicy policy;  // construction: 12 months; milestones: 6
  StartupInfo s = Voirie();
  s.last_milestone = Day("2026-12-20 00:00");  // no milestone gap in this test
  const absl::Duration notice = absl::Hours(30 * 24);
  EXPECT_TRUE(TeamReminders(s, {}, Day("2027-01-29 00:00"), policy, notice, dir).empty());
  auto before = TeamReminders(s, {}, Day("2027-02-02 00:00"), policy, notice, dir);
  ASSERT_EQ(RulesOf(before), (std::vector<std::string>{"committee_due→team-léa", "committee_due→team-omar"}));
  EXPECT_EQ(before[0].period, "avant:2026-03-01");
  EXPECT_EQ(before[0].what.link, "/startups/s1");
  EXPECT_TRUE(absl::StrContains(before[0].what.body, "arrive à son terme le 1er mars 2027")) << before[0].what.body;
  auto after = TeamReminders(s, {}, Day("2027-03-02 00:00"), policy, notice, dir);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].period, "depassee:2026-03-01");
  // A committee decided since the phase began: nothing is due.
  s.last_committee = Day("2027-02-20 00:00");
  EXPECT_TRUE(TeamReminders(s, {}, Day("2027-03-02 00:00"), policy, notice, dir).empty());
  // A committee before the phase began does not count.
  s.last_committee = Day("2026-02-20 00:00");
  EXPECT_EQ(TeamReminders(s, {}, Day("2027-03-02 00:00"), policy, notice, dir).size(), 2u);
  // Terminal phases and phases without an expected length are never due.
  s.phase = incv1::PHASE_CONSOLIDATION;
  EXPECT_TRUE(TeamReminders(s, {}, Day("2030-03-02 00:00"), policy, notice, dir).size() == 2u)
      << "consolidation: only the milestone gap (since 20 December 2026) by 2030";
  s.phase = incv1::PHASE_OPERATED;
  EXPECT_TRUE(TeamReminders(s, {}, Day("2030-03-02 00:00"), policy, notice, dir).empty());
}

// Issue 31: « enveloppe épuisée » — the team is told once per envelope when, at the pace of its
// payments, it runs out within 45 days (both sides of the threshold), and once when payments
// go beyond it.
TEST(Clock, EnvelopeRunsOutWithinFortyFiveDaysOrIsExceeded) {
  Platform dir;
  const portfolio::StalenessPolicy policy;
  const absl::Duration notice = absl::Hours(30 * 24);
  StartupInfo s = Voirie();
  s.budget.set_envelope_eur(90000);
  *s.budget.mutable_since() = ToTimestamp(Day("2026-07-01 00:00"));
  s.budget.set_paid_eur(60000);  // at day d, 30 000 € left at 60 000 / d a day: d / 2 days
  EXPECT_TRUE(TeamReminders(s, {}, Day("2026-09-30 00:00"), policy, notice, dir).empty())
      << "day 91: runs out in 45.5 days";
  auto soon = TeamReminders(s, {}, Day("2026-09-28 00:00"), policy, notice, dir);  // day 89: 44.5 days
  ASSERT_EQ(RulesOf(soon), (std::vector<std::string>{"envelope→team-léa", "envelope→team-omar"}));
  EXPECT_EQ(soon[0].period, "epuisee:2026-07-01");
  EXPECT_TRUE(absl::StrContains(soon[0].what.title, "enveloppe épuisée le 11 novembre 2026")) << soon[0].what.title;
  EXPECT_TRUE(absl::StrContains(soon[0].what.body, "60\u202f000 € payés sur 90\u202f000 €")) << soon[0].what.body;
  s.budget.set_paid_eur(95000);
  auto over = TeamReminders(s, {}, Day("2026-09-30 00:00"), policy, notice, dir);
  ASSERT_EQ(over.size(), 2u);
  EXPECT_EQ(over[0].what.rule, "envelope");
  EXPECT_EQ(over[0].period, "depassee:2026-07-01");
  EXPECT_TRUE(absl::StrContains(over[0].what.title, "enveloppe dépassée")) << over[0].what.title;
  // No envelope granted: nothing to run out.
  s.budget.set_envelope_eur(0);
  EXPECT_TRUE(TeamReminders(s, {}, Day("2026-09-30 00:00"), policy, notice, dir).empty());
}

// Issue 31: when the last committee set its next review, « comité dû » follows that date (30
// days before, then once passed) instead of the phase's expected length.
TEST(Clock, CommitteeDueAtTheReviewTheLastCommitteeSet) {
  Platform dir;
  const portfolio::StalenessPolicy policy;
  StartupInfo s = Voirie();  // construction since 1 March 2026: its 12 months end 1 March 2027
  s.last_milestone = Day("2026-12-20 00:00");
  s.last_committee = Day("2026-07-01 00:00");
  s.next_review = Day("2027-01-01 00:00");
  const absl::Duration notice = absl::Hours(30 * 24);
  EXPECT_TRUE(TeamReminders(s, {}, Day("2026-12-01 23:59"), policy, notice, dir).empty());
  auto before = TeamReminders(s, {}, Day("2026-12-02 00:00"), policy, notice, dir);
  ASSERT_EQ(RulesOf(before), (std::vector<std::string>{"committee_due→team-léa", "committee_due→team-omar"}));
  EXPECT_EQ(before[0].period, "revue-avant:2027-01-01");
  EXPECT_TRUE(absl::StrContains(before[0].what.body, "prochaine revue au 1er janvier 2027.")) << before[0].what.body;
  auto after = TeamReminders(s, {}, Day("2027-03-02 00:00"), policy, notice, dir);
  ASSERT_EQ(after.size(), 2u) << "the phase's length no longer adds its own reminder";
  EXPECT_EQ(after[0].period, "revue-depassee:2027-01-01");
  const auto overdue = OverdueFrench(s, Day("2027-01-01 00:01"), policy);
  ASSERT_FALSE(overdue.empty());
  EXPECT_EQ(overdue[0], "comité dû depuis le 1er janvier 2027");
  EXPECT_TRUE(OverdueFrench(s, Day("2027-01-01 00:00"), policy).empty());
}

TEST(Clock, NoMilestoneOncePerGapToTheTeamOfThatStartupOnly) {
  Platform dir;
  const portfolio::StalenessPolicy policy;
  StartupInfo s = Voirie();
  const absl::Duration notice = absl::Hours(30 * 24);
  EXPECT_TRUE(TeamReminders(s, {}, Day("2026-11-09 00:00"), policy, notice, dir).empty());
  auto r = TeamReminders(s, {}, Day("2026-11-11 00:00"), policy, notice, dir);
  ASSERT_EQ(RulesOf(r), (std::vector<std::string>{"no_milestone→team-léa", "no_milestone→team-omar"}));
  EXPECT_EQ(r[0].period, "2026-05-10");  // the gap, named by its start: once per gap
  EXPECT_TRUE(absl::StrContains(r[0].what.body, "depuis le 10 mai 2026")) << r[0].what.body;
  // With no milestone ever, the gap starts when the start-up began.
  s.last_milestone = absl::InfinitePast();
  r = TeamReminders(s, {}, Day("2026-06-02 00:00"), policy, notice, dir);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].period, "2025-12-01");
  // Nobody of the team signed in: nobody to tell (the coordinators' picture lists it).
  dir.teams["s1"].clear();
  EXPECT_TRUE(TeamReminders(s, {}, Day("2026-06-02 00:00"), policy, notice, dir).empty());
}

TEST(Clock, MissionEndingFifteenThenTwoDaysBefore) {
  Platform dir;
  const portfolio::StalenessPolicy policy;
  StartupInfo s = Voirie();
  s.last_milestone = Day("2026-06-01 00:00");
  const std::vector<MemberInfo> members{{"m1", "Léa Martin", Day("2026-07-01 00:00")},
                                        {"m2", "Omar Benali", absl::InfiniteFuture()}};
  const absl::Duration notice = absl::Hours(30 * 24);
  EXPECT_TRUE(TeamReminders(s, members, Day("2026-06-15 00:00"), policy, notice, dir).empty());
  auto r15 = TeamReminders(s, members, Day("2026-06-16 12:00"), policy, notice, dir);
  ASSERT_EQ(RulesOf(r15), (std::vector<std::string>{"mission_ending→team-léa", "mission_ending→team-omar"}));
  EXPECT_EQ(r15[0].period, "m1:15j:2026-07-01");
  EXPECT_TRUE(absl::StrContains(r15[0].what.title, "la mission de Léa Martin se termine le 1er juillet 2026"))
      << r15[0].what.title;
  EXPECT_TRUE(absl::StrContains(r15[0].what.body, "(dans 15 jours)")) << r15[0].what.body;
  auto r2 = TeamReminders(s, members, Day("2026-06-29 12:00"), policy, notice, dir);
  ASSERT_EQ(r2.size(), 2u);
  EXPECT_EQ(r2[0].period, "m1:2j:2026-07-01");
  EXPECT_TRUE(TeamReminders(s, members, Day("2026-07-01 00:00"), policy, notice, dir).empty());
}

TEST(Clock, OverdueInFrenchMatchesTheIncubationPolicy) {
  const portfolio::StalenessPolicy policy;
  StartupInfo s = Voirie();
  EXPECT_TRUE(OverdueFrench(s, Day("2026-11-09 00:00"), policy).empty());
  auto r = OverdueFrench(s, Day("2027-03-02 00:00"), policy);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], "phase construction au-delà de ses 12 mois prévus (depuis le 1er mars 2027)");
  EXPECT_EQ(r[1], "aucun jalon depuis le 10 mai 2026");
  s.phase = 0;  // not known (created before pep-notify kept lifecycles): never claimed overdue
  EXPECT_TRUE(OverdueFrench(s, Day("2030-01-01 00:00"), policy).empty());
}

TEST(Clock, PortfolioWeeklyToEachCoordinatorWithEverySection) {
  PortfolioFacts f;
  f.overdue = {{"s1", "Équipe voirie", {"aucun jalon depuis le 10 mai 2026"}}};
  f.unscored = {{"c1", "Simplifier la voirie", 7, Day("2026-03-20 17:00")}};
  f.red_known = true;
  f.red = {{"s2", "Cantine"}};
  f.undone = {{"s3", "Collèges", incv1::COMMITTEE_OUTCOME_GO, Day("2026-02-27 00:00")}};
  auto r = PortfolioWeekly(f, {"coord-claire", "coord-paul"}, Day("2026-03-02 08:00"));
  ASSERT_EQ(RulesOf(r), (std::vector<std::string>{"portfolio_weekly→coord-claire", "portfolio_weekly→coord-paul"}));
  EXPECT_EQ(r[0].period, WeeklyPeriod(Day("2026-03-02 08:00")));
  EXPECT_EQ(r[0].what.category, "pilotage");
  EXPECT_EQ(r[0].what.link, "/portefeuille");
  const std::string& b = r[0].what.body;
  for (const char* part : {"Start-ups en retard : 1", "Équipe voirie — aucun jalon depuis le 10 mai 2026",
                           "attendent encore des notes du jury : 7",
                           "« Simplifier la voirie » : 7 idées, clôture le 20 mars 2026",
                           "dans le rouge (12 derniers mois) : 1", "- Cantine",
                           "pas encore suivies d'un changement de phase : 1",
                           "Collèges — GO, passage à la phase suivante, décidé le 27 février 2026"}) {
    EXPECT_TRUE(absl::StrContains(b, part)) << part << "\n" << b;
  }
  f.red_known = false;
  r = PortfolioWeekly(f, {"coord-claire"}, Day("2026-03-02 08:00"));
  EXPECT_TRUE(absl::StrContains(r[0].what.body, "Satisfaction des usagers : indisponible")) << r[0].what.body;
  // Long lists stop at 30 lines.
  f.overdue.assign(45, {"x", "Une start-up", {"aucun jalon"}});
  r = PortfolioWeekly(f, {"coord-claire"}, Day("2026-03-02 08:00"));
  EXPECT_TRUE(absl::StrContains(r[0].what.body, "… et 15 autres")) << r[0].what.body;
}

TEST(Followers, AnIdeasFollowersAreToldItsDecisionWithoutTheJurysReasons) {
  Platform dir;
  dir.followers[{"idea", "i1"}] = {"agent-camille", "agent-chloé", "coord"};
  iv1::IdeaRejected ev;
  ev.set_idea_id("i1");
  ev.mutable_decision()->set_outcome(iv1::IDEA_STATUS_REJECTED);
  ev.mutable_decision()->set_rationale("Déjà couvert par le marché de voirie");
  auto p = ForEvent(Env("pepiniere.ideas.v1.IdeaRejected", "coord"), ev.SerializeAsString(), dir);
  // The author once (as author, with the reasons), Camille as follower, not the deciding coordinator.
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"agent-chloé", "agent-camille"}));
  EXPECT_EQ(p[1].rule, "followed_idea");
  EXPECT_EQ(p[1].category, "suivis");
  EXPECT_TRUE(absl::StrContains(p[1].body, "que vous suivez, n'a pas été retenue")) << p[1].body;
  EXPECT_FALSE(absl::StrContains(p[1].body, "marché de voirie")) << p[1].body;
  // A rejection is not told to the challenge's followers (nor to another idea's).
  dir.followers[{"challenge", "c1"}] = {"agent-zoé"};
  dir.followers[{"idea", "i2"}] = {"agent-yann"};
  p = ForEvent(Env("pepiniere.ideas.v1.IdeaRejected", "coord"), ev.SerializeAsString(), dir);
  EXPECT_EQ(Recipients(p), (std::vector<std::string>{"agent-chloé", "agent-camille"}));
}

TEST(Followers, AnIdeasAuthorAndFollowersAreToldOfACommentNeverItsText) {
  Platform dir;
  dir.followers[{"idea", "i1"}] = {"agent-camille", "agent-yann"};
  iv1::IdeaCommented ev;
  ev.mutable_comment()->set_id("k1");
  ev.mutable_comment()->set_idea_id("i1");
  ev.mutable_comment()->set_author_id("agent-yann");
  ev.mutable_comment()->set_body("Voyez avec Jean Dupont à la voirie");
  dir.ideas["i1"].coauthor_ids = {"agent-zoé"};
  auto p = ForEvent(Env("pepiniere.ideas.v1.IdeaCommented", "agent-yann"), ev.SerializeAsString(), dir);
  // The authors, then a follower; not the one who commented (who follows it too).
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"agent-chloé", "agent-zoé", "agent-camille"}));
  EXPECT_EQ(p[0].rule, "idea_commented");
  EXPECT_EQ(p[0].category, "idees");
  EXPECT_EQ(p[2].rule, "followed_idea");
  for (const auto& m : p) EXPECT_FALSE(absl::StrContains(m.body, "Dupont")) << m.body;
  // A co-author is told the jury's decision as the author is, with its reasons.
  iv1::IdeaRejected rejected;
  rejected.set_idea_id("i1");
  rejected.mutable_decision()->set_outcome(iv1::IDEA_STATUS_REJECTED);
  rejected.mutable_decision()->set_rationale("Déjà couvert");
  p = ForEvent(Env("pepiniere.ideas.v1.IdeaRejected", "coord"), rejected.SerializeAsString(), dir);
  ASSERT_GE(p.size(), 2u);
  EXPECT_EQ(p[1].recipient_id, "agent-zoé");
  EXPECT_EQ(p[1].rule, "idea_decision");
  EXPECT_TRUE(absl::StrContains(p[1].body, "Déjà couvert")) << p[1].body;
}

TEST(Rules, RelaisMergesAndQuestionsReachTheRightPeople) {
  Platform dir;
  // A relais files for Marc: the relais gets the receipt, worded for the colleague.
  iv1::IdeaSubmitted filed;
  filed.mutable_idea()->set_id("i3");
  filed.mutable_idea()->set_author_id("relais-nadia");
  filed.mutable_idea()->set_author_name("Marc Giraud");
  filed.mutable_idea()->set_title("Gants chauffants");
  filed.mutable_idea()->set_awaiting_claim(true);
  auto p = ForEvent(Env("pepiniere.ideas.v1.IdeaSubmitted", "relais-nadia"), filed.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"relais-nadia"}));
  EXPECT_TRUE(absl::StrContains(p[0].body, "que vous avez déposée pour Marc Giraud")) << p[0].body;
  // Bob's idea merged into Chloé's: Bob and his co-author are told, with the reasons.
  dir.ideas["i2"].coauthor_ids = {"agent-zoé"};
  iv1::IdeaMerged merged;
  merged.set_idea_id("i2");
  merged.set_into_idea_id("i1");
  merged.set_rationale("Même besoin");
  p = ForEvent(Env("pepiniere.ideas.v1.IdeaMerged", "coord"), merged.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"agent-bob", "agent-zoé"}));
  EXPECT_EQ(p[0].rule, "idea_merged");
  EXPECT_EQ(p[0].link, "/idees/i1");
  EXPECT_TRUE(absl::StrContains(p[0].body, "Motifs : Même besoin")) << p[0].body;
  // A juror's question goes to the authors; the answer's coming to the juror, not its text.
  iv1::ClarificationRequested asked;
  asked.set_idea_id("i1");
  asked.set_question("Quel coût ?");
  p = ForEvent(Env("pepiniere.ideas.v1.ClarificationRequested", "j1"), asked.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"agent-chloé"}));
  EXPECT_TRUE(absl::StrContains(p[0].body, "Question : Quel coût ?")) << p[0].body;
  iv1::ClarificationAnswered answered;
  answered.set_idea_id("i1");
  answered.set_answer("2 000 € par collège");
  answered.set_asked_by("j1");
  p = ForEvent(Env("pepiniere.ideas.v1.ClarificationAnswered", "agent-chloé"), answered.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"j1"}));
  EXPECT_EQ(p[0].category, "jury");
  EXPECT_FALSE(absl::StrContains(p[0].body, "2 000")) << p[0].body;
}

TEST(Followers, AChallengesFollowersHearOfItsOpeningClosingAndPrizes) {
  Platform dir;
  dir.followers[{"challenge", "c1"}] = {"agent-zoé", "agent-yann"};
  iv1::ChallengeClosed closed;
  closed.set_challenge_id("c1");
  auto p = ForEvent(Env("pepiniere.ideas.v1.ChallengeClosed", "coord"), closed.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"agent-zoé", "agent-yann"}));
  EXPECT_EQ(p[0].rule, "followed_challenge");
  EXPECT_EQ(p[0].link, "/defis/c1");
  EXPECT_TRUE(absl::StrContains(p[0].title, "« Simplifier la voirie » est clos")) << p[0].title;
  iv1::IdeaAwarded awarded;
  awarded.set_idea_id("i2");
  awarded.mutable_decision()->set_outcome(iv1::IDEA_STATUS_AWARDED);
  awarded.mutable_decision()->set_prize("1er prix");
  p = ForEvent(Env("pepiniere.ideas.v1.IdeaAwarded", "coord"), awarded.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"agent-bob", "agent-zoé", "agent-yann"}));
  EXPECT_TRUE(absl::StrContains(p[1].body, "l'idée « Autre idée » est récompensée")) << p[1].body;
  // Followers of the other challenge hear nothing.
  dir.followers[{"challenge", "c1"}].clear();
  dir.followers[{"challenge", "c2"}] = {"agent-xavier"};
  p = ForEvent(Env("pepiniere.ideas.v1.ChallengeClosed", "coord"), closed.SerializeAsString(), dir);
  EXPECT_TRUE(p.empty());
}

TEST(Followers, AStartupsFollowersHearOfPhasesCommitteesAndMilestonesOnce) {
  Platform dir;
  dir.followers[{"startup", "s1"}] = {"citoyen-1", "team-léa"};
  incv1::MilestonePushed ms;
  ms.mutable_milestone()->set_startup_id("s1");
  ms.mutable_milestone()->set_title("Première démarche en ligne");
  auto p = ForEvent(Env("pepiniere.incubation.v1.MilestonePushed", "team-omar"), ms.SerializeAsString(), dir);
  // Milestones tell only followers; the team member who follows is one of them.
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"citoyen-1", "team-léa"}));
  EXPECT_EQ(p[0].rule, "followed_startup");
  incv1::PhaseChanged ph;
  ph.set_startup_id("s1");
  ph.set_from(incv1::PHASE_INVESTIGATION);
  ph.set_to(incv1::PHASE_CONSTRUCTION);
  p = ForEvent(Env("pepiniere.incubation.v1.PhaseChanged", "coord"), ph.SerializeAsString(), dir);
  // team-léa is told once, as team (startup_phase), not again as follower.
  ASSERT_EQ(Recipients(p), (std::vector<std::string>{"team-léa", "team-omar", "agent-chloé", "citoyen-1"}));
  EXPECT_EQ(p[0].rule, "startup_phase");
  EXPECT_EQ(p[3].rule, "followed_startup");
  ph.set_imported(true);  // the import's history tells nobody
  EXPECT_TRUE(ForEvent(Env("pepiniere.incubation.v1.PhaseChanged", "coord"), ph.SerializeAsString(), dir).empty());
}

TEST(Rules, EveryRuleHasACategoryThatExists) {
  for (const Rule& r : Rules()) EXPECT_NE(FindCategory(r.category), nullptr) << r.name;
}

Mail Sample() {
  Mail m;
  m.message_id = "<0190-abc@pepiniere.localhost>";
  m.from_address = "ne-pas-repondre@pepiniere.localhost";
  m.from_name = "Pépinière";
  m.to_address = "chloe.martin@departement06.fr";
  m.to_name = "Chloé Martin";
  m.subject = "Décision du jury sur votre idée « Signaler un nid-de-poule »";
  m.items = {{"Décision du jury", "Votre idée est récompensée.\n\nMotifs : <utile> & simple",
              "http://127.0.0.1:8080/idees/i1"}};
  m.unsubscribe_url = "http://127.0.0.1:8080/v1/notifications/unsubscribe?token=abc";
  m.unsubscribe_label = "Mes idées";
  m.date = Day("2026-03-03 10:00");
  return m;
}

std::string DecodedPart(const std::string& mime, const std::string& type) {
  const size_t at = mime.find("Content-Type: " + type);
  const size_t body = mime.find("\r\n\r\n", at) + 4;
  const size_t end = mime.find("--", body);
  std::string b64 = mime.substr(body, end - body), out;
  b64.erase(std::remove(b64.begin(), b64.end(), '\r'), b64.end());
  b64.erase(std::remove(b64.begin(), b64.end(), '\n'), b64.end());
  EXPECT_TRUE(absl::Base64Unescape(b64, &out));
  return out;
}

TEST(Mime, HeadersForOneClickUnsubscribeAndAStableMessageId) {
  const std::string mime = RenderMime(Sample());
  EXPECT_TRUE(absl::StrContains(mime, "Message-ID: <0190-abc@pepiniere.localhost>\r\n"));
  EXPECT_TRUE(absl::StrContains(
      mime, "List-Unsubscribe: <http://127.0.0.1:8080/v1/notifications/unsubscribe?token=abc>\r\n"));
  EXPECT_TRUE(absl::StrContains(mime, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
  EXPECT_TRUE(absl::StrContains(mime, "Subject: =?UTF-8?B?"));
  EXPECT_TRUE(absl::StrContains(mime, "Content-Type: multipart/alternative; boundary="));
  EXPECT_EQ(mime, RenderMime(Sample()));  // a retry sends the same bytes
  for (size_t i = 0; i + 1 < mime.size(); ++i) {  // no bare LF, 7-bit only
    if (mime[i + 1] == '\n') ASSERT_EQ(mime[i], '\r') << i;
    ASSERT_LT(static_cast<unsigned char>(mime[i]), 0x80) << i;
  }
}

TEST(Mime, FrenchTextAndEscapedHtmlWithTheLink) {
  const std::string mime = RenderMime(Sample());
  const std::string text = DecodedPart(mime, "text/plain");
  EXPECT_TRUE(absl::StrContains(text, "Bonjour Chloé Martin,")) << text;
  EXPECT_TRUE(absl::StrContains(text, "Voir dans la console : http://127.0.0.1:8080/idees/i1"));
  const std::string html = DecodedPart(mime, "text/html");
  EXPECT_TRUE(absl::StrContains(html, "&lt;utile&gt; &amp; simple")) << html;
  EXPECT_FALSE(absl::StrContains(html, "<utile>"));
  EXPECT_TRUE(absl::StrContains(html, "href=\"http://127.0.0.1:8080/idees/i1\""));
  EXPECT_TRUE(absl::StrContains(html, "#000091"));
  EXPECT_FALSE(absl::StrContains(html, "<img"));
}

TEST(Mime, LongAccentedSubjectsSplitBetweenCharacters) {
  const std::string subject(200, 'a');
  std::string accented;
  for (int i = 0; i < 60; ++i) accented += "é";
  for (const std::string& s : {subject + "é", accented}) {
    const std::string enc = EncodeHeaderWord(s);
    std::string decoded;
    for (absl::string_view word : absl::StrSplit(enc, "\r\n ")) {
      ASSERT_LE(word.size(), 75u);
      ASSERT_TRUE(absl::StartsWith(word, "=?UTF-8?B?"));
      std::string part;
      ASSERT_TRUE(absl::Base64Unescape(word.substr(10, word.size() - 12), &part));
      decoded += part;
    }
    EXPECT_EQ(decoded, s);
  }
}

TEST(Unsubscribe, GoodForgedAlteredAndExpired) {
  const absl::Time now = Day("2026-03-03 10:00");
  const std::string t = SignUnsubscribe("clé", "agent-chloé", "idees", now + absl::Hours(24));
  auto ok = VerifyUnsubscribe("clé", t, now);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->account_id, "agent-chloé");
  EXPECT_EQ(ok->category, "idees");
  EXPECT_EQ(VerifyUnsubscribe("autre clé", t, now).status().code(), absl::StatusCode::kInvalidArgument);
  // Someone else's account in the same token shape, signed with another key.
  const std::string forged = SignUnsubscribe("devinée", "agent-bob", "idees", now + absl::Hours(24));
  EXPECT_EQ(VerifyUnsubscribe("clé", forged, now).status().code(), absl::StatusCode::kInvalidArgument);
  // The payload of one, the signature of the other.
  const std::string spliced = forged.substr(0, forged.find('.')) + t.substr(t.find('.'));
  EXPECT_EQ(VerifyUnsubscribe("clé", spliced, now).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyUnsubscribe("clé", "n'importe quoi", now).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyUnsubscribe("clé", t, now + absl::Hours(25)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Schedule, RetryDelaysGrowToTenMinutesAndPeriodsFollowParis) {
  EXPECT_EQ(RetryDelay(1), absl::Seconds(5));
  EXPECT_EQ(RetryDelay(2), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(7), absl::Seconds(320));
  EXPECT_EQ(RetryDelay(8), absl::Minutes(10));
  EXPECT_EQ(RetryDelay(50), absl::Minutes(10));
  // 23:30 UTC on 6 December is 00:30 on the 7th in Paris (a Monday, ISO week 50).
  EXPECT_EQ(DailyPeriod(Day("2026-12-06 23:30")), "2026-12-07");
  EXPECT_EQ(WeeklyPeriod(Day("2026-12-06 23:30")), "2026-W50");
  EXPECT_EQ(WeeklyPeriod(Day("2026-12-06 12:00")), "2026-W49");
  EXPECT_EQ(WeeklyPeriod(Day("2027-01-01 12:00")), "2026-W53");  // a Friday of 2026's last week
  EXPECT_EQ(FrenchDate(Day("2026-03-01 10:00")), "1er mars 2026");
}

// The jury's reminder counts what a juror has left to score: not their own or co-authored ideas,
// not those they stepped aside on (a ConflictDeclared is projected as "nothing to score there").
TEST(JuryReminder, AJurorsOwnIdeasAndConflictsAreNotLeftToScore) {
  const std::string dir = ::testing::TempDir() + "/notify-unscored-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = NotifyStore::Open(dir + "/notify.db");
  ASSERT_TRUE(store.ok()) << store.status();
  int left = -1;
  ASSERT_TRUE((*store)->Write([&](NotifyTx& tx) -> absl::Status {
    for (const char* id : {"i1", "i2", "i3", "i4"}) {
      PEP_RETURN_IF_ERROR(tx.PutIdea({id, "c1", std::string(id) == "i1" ? "juror-k" : "agent-a", "Idée"}));
    }
    PEP_RETURN_IF_ERROR(tx.PutScore("i2", "juror-k"));  // scored
    PEP_RETURN_IF_ERROR(tx.PutScore("i3", "juror-k"));  // stepped aside
    PEP_RETURN_IF_ERROR(tx.PutIdea({"i5", "c1", "agent-b", "Idée"}));
    PEP_RETURN_IF_ERROR(tx.PutCoauthor("i5", "juror-k"));  // co-authored: theirs too
    left = tx.UnscoredBy("c1", "juror-k");
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(left, 1) << "i4 only: i1 and i5 are theirs";
  std::filesystem::remove_all(dir);
}

// Issue 31: the budget as pep-notify counts it from the events — entries kept once, the
// latest-dated envelope opening the period, entries before it left out, as pep-incubation does.
TEST(BudgetProjection, EnvelopesAndEntriesCountedAsPepIncubationCountsThem) {
  const std::string dir = ::testing::TempDir() + "/notify-budget-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = NotifyStore::Open(dir + "/notify.db");
  ASSERT_TRUE(store.ok()) << store.status();
  auto entry = [](const char* id, const char* day, incv1::BudgetKind kind, int amount) {
    incv1::BudgetEntry e;
    e.set_id(id);
    e.set_startup_id("s1");
    *e.mutable_date() = ToTimestamp(Day(day));
    e.set_kind(kind);
    e.set_amount_eur(amount);
    return e;
  };
  std::optional<StartupInfo> s;
  ASSERT_TRUE((*store)->Write([&](NotifyTx& tx) -> absl::Status {
    StartupInfo info;
    info.id = "s1";
    info.name = "Équipe voirie";
    PEP_RETURN_IF_ERROR(tx.PutStartup(info));
    PEP_RETURN_IF_ERROR(tx.PutBudgetEntry(entry("e1", "2026-06-15 00:00", incv1::BUDGET_KIND_PAYMENT, 5000)));
    PEP_RETURN_IF_ERROR(tx.SetEnvelope("s1", 90000, Day("2026-07-01 00:00")));
    PEP_RETURN_IF_ERROR(tx.PutBudgetEntry(entry("e2", "2026-07-10 00:00", incv1::BUDGET_KIND_COMMITMENT, 60000)));
    PEP_RETURN_IF_ERROR(tx.PutBudgetEntry(entry("e3", "2026-08-01 00:00", incv1::BUDGET_KIND_PAYMENT, 20000)));
    PEP_RETURN_IF_ERROR(tx.PutBudgetEntry(entry("e3", "2026-08-01 00:00", incv1::BUDGET_KIND_PAYMENT, 20000)));  // again
    PEP_RETURN_IF_ERROR(tx.SetEnvelope("s1", 50000, Day("2026-03-01 00:00")));  // an older decision
    s = tx.Startup("s1");
    return absl::OkStatus();
  }).ok());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->budget.envelope_eur(), 90000);
  EXPECT_EQ(FromTimestamp(s->budget.since()), Day("2026-07-01 00:00"));
  EXPECT_EQ(s->budget.committed_eur(), 60000);
  EXPECT_EQ(s->budget.paid_eur(), 20000) << "e1 is before the envelope; e3 counted once";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pep::notify
