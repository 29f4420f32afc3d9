// pep-incubation service rules end to end on a real store — a SQLite file, then a PostgreSQL
// database — (no network): milestone
// idempotency and scope, the committee gate through the API, the IdeaSelected handler's inbox,
// and portfolio import (report, unchanged re-import, diff-only update, 2,000 start-ups).
#include "services/incubation/incubation_service.h"

#include <thread>
#include <vector>

#include "common/proto_time.h"
#include "common/uuid.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/postgres_testing.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "prometheus/registry.h"
#include "store/outbox.h"

namespace pep::incubation {
namespace {

absl::Time Day(const char* d) {
  absl::Time t;
  std::string err;
  absl::ParseTime("%Y-%m-%d", d, absl::UTCTimeZone(), &t, &err);
  return t;
}

class ServiceTest : public ::testing::TestWithParam<pep::testing::Backend> {
 protected:
  ServiceTest()
      : clock_(Day("2026-11-28")),
        path_(pep::testing::StoreUrl(GetParam(), dir_, "incubation.db")),
        store_(*IncubationStore::Open(path_, clock_)),
        metrics_(registry_),
        svc_(*store_, clock_, metrics_, nullptr, {.auth = {.insecure_dev = true}}) {}

  // A server context carrying the principal the gateway would pass. The spouse owns the
  // metadata strings the context points at, so both live together.
  struct CallContext {
    std::unique_ptr<grpc::ServerContext> ctx = std::make_unique<grpc::ServerContext>();
    std::unique_ptr<grpc::testing::ServerContextTestSpouse> spouse =
        std::make_unique<grpc::testing::ServerContextTestSpouse>(ctx.get());
    grpc::ServerContext* get() { return ctx.get(); }
  };
  CallContext As(const std::string& actor, const std::string& roles,
                 const std::string& scope = "") {
    CallContext c;
    c.spouse->AddClientMetadata("x-pep-actor", actor);
    c.spouse->AddClientMetadata("x-pep-roles", roles);
    if (!scope.empty()) c.spouse->AddClientMetadata("x-pep-scope", scope);
    return c;
  }

  v1::Startup Create(const std::string& name) {
    v1::CreateStartupRequest r;
    r.set_name(name);
    r.set_mission("Simplifier une démarche");
    r.set_incubator("lab06");
    *r.mutable_investigation_start() = ToTimestamp(Day("2026-01-05"));
    v1::Startup s;
    auto ctx = As("coord", "coordinator");
    EXPECT_TRUE(svc_.CreateStartup(ctx.get(), &r, &s).ok());
    return s;
  }

  std::vector<std::string> OutboxTypes() {
    std::vector<std::string> out;
    auto db = store::Db::Connect(path_);
    auto q = (*db)->Prepare("SELECT ce_type FROM outbox ORDER BY seq");
    while (q->Step().value_or(false)) out.push_back(q->Text(0));
    return out;
  }

  static v1::PushMilestoneRequest Milestone(const std::string& startup, const std::string& key,
                                            const std::string& title) {
    v1::PushMilestoneRequest m;
    m.set_startup_id(startup);
    m.set_idempotency_key(key);
    m.set_title(title);
    *m.mutable_date() = ToTimestamp(Day("2026-11-20"));
    m.set_kind(v1::MILESTONE_KIND_USERS_REACHED);
    auto* k = m.add_kpis();
    k->set_name("usagers");
    k->set_value(1200);
    return m;
  }

  pep::testing::TempDir dir_;
  FakeClock clock_;
  std::string path_;  // the store's URL
  std::unique_ptr<IncubationStore> store_;
  prometheus::Registry registry_;
  IncubationMetrics metrics_;
  IncubationService svc_;
};

// Phase changes are counted from gRPC threads at once. In the plain build this passes with or
// without the cache's lock (the race rarely shows); under ThreadSanitizer
// (tests/sanitize/run tsan) a missing lock is a report, and the test fails.
TEST(IncubationMetricsTest, TransitionCountersFromManyThreadsAtOnce) {
  prometheus::Registry registry;
  IncubationMetrics metrics(registry);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int round = 0; round < 50; ++round) {
        for (int from = v1::Phase_MIN + 1; from <= v1::Phase_MAX; ++from) {
          for (int to = v1::Phase_MIN + 1; to <= v1::Phase_MAX; ++to) {
            metrics.Transition(static_cast<v1::Phase>(from), static_cast<v1::Phase>(to)).Increment();
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(metrics.Transition(v1::PHASE_INVESTIGATION, v1::PHASE_CONSTRUCTION).Value(), 4 * 50);
}

TEST_P(ServiceTest, MilestoneRetryIsOneMilestoneAndOtherPayloadIsAlreadyExists) {
  const v1::Startup s = Create("Dossier unique");
  auto ctx = As("ci-bot", "product_team", "startup:" + s.id());
  v1::Milestone first, again, other;
  auto req = Milestone(s.id(), "run-42", "1 200 usagers");
  grpc::Status pushed = svc_.PushMilestone(ctx.get(), &req, &first);
  ASSERT_TRUE(pushed.ok()) << pushed.error_code() << " " << pushed.error_message();
  auto ctx2 = As("ci-bot", "product_team", "startup:" + s.id());
  auto same = Milestone(s.id(), "run-42", "1 200 usagers");
  ASSERT_TRUE(svc_.PushMilestone(ctx2.get(), &same, &again).ok());
  EXPECT_EQ(again.id(), first.id());
  auto ctx3 = As("ci-bot", "product_team", "startup:" + s.id());
  auto changed = Milestone(s.id(), "run-42", "1 300 usagers");
  grpc::Status st = svc_.PushMilestone(ctx3.get(), &changed, &other);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(st.error_message().find("idempotency_key: 'run-42'"), std::string::npos);
  v1::ListMilestonesRequest lr;
  lr.set_startup_id(s.id());
  v1::ListMilestonesResponse list;
  auto ctx4 = As("ci-bot", "product_team", "startup:" + s.id());
  ASSERT_TRUE(svc_.ListMilestones(ctx4.get(), &lr, &list).ok());
  EXPECT_EQ(list.milestones_size(), 1);
  const auto types = OutboxTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.incubation.v1.MilestonePushed"), 1);
}

TEST_P(ServiceTest, NothingIsPublicUntilPublishedThenOnlyWhatThePolicyNames) {
  const v1::Startup a = Create("Cantine en ligne");
  const v1::Startup b = Create("Dossier unique");
  v1::ListPublicStartupsRequest lr;
  v1::ListPublicStartupsResponse list;
  ASSERT_TRUE(svc_.ListPublicStartups(As("public", "").get(), &lr, &list).ok());
  EXPECT_EQ(list.startups_size(), 0) << "nothing before a coordinator publishes";
  v1::SetPublicationRequest pub;
  pub.set_startup_id(a.slug());  // by its slug, as the public URL names it
  pub.mutable_policy()->set_published(true);
  pub.mutable_policy()->set_phases(true);
  v1::Startup got;
  EXPECT_EQ(svc_.SetPublication(As("ci", "product_team", "startup:" + a.id()).get(), &pub, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(svc_.SetPublication(As("coord", "coordinator").get(), &pub, &got).ok());
  EXPECT_EQ(got.publication().changed_by(), "coord");
  ASSERT_TRUE(svc_.SetPublication(As("coord", "coordinator").get(), &pub, &got).ok());  // as it is: no event
  ASSERT_TRUE(svc_.ListPublicStartups(As("public", "").get(), &lr, &list).ok());
  ASSERT_EQ(list.startups_size(), 1);
  EXPECT_EQ(list.startups(0).id(), a.slug());
  EXPECT_EQ(list.startups(0).mission(), "") << "the mission is not public under this policy";
  EXPECT_EQ(list.startups(0).phases_size(), 1);
  EXPECT_EQ(list.startups(0).policy().changed_by(), "") << "who published it stays inside";
  const auto types = OutboxTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.incubation.v1.PublicationChanged"), 1);
  (void)b;
}

// Each fact a public page shows is attested once on the ledger, in its own lineage, with nothing
// private in it; a fact hidden again is withdrawn (its second version), shown again attested anew.
TEST_P(ServiceTest, EachPublicFactIsAttestedOnceAndWithdrawnWhenHidden) {
  const v1::Startup a = Create("Équipe voirie");
  struct Fact {
    std::string key, subject, actor, version, type;
    v1::PublicFactPublished published;
    v1::PublicFactWithdrawn withdrawn;
  };
  auto facts = [this] {
    std::vector<Fact> out;
    auto db = store::Db::Connect(path_);
    auto q = (*db)->Prepare("SELECT msg_key, headers, payload, ce_type FROM outbox WHERE ce_type LIKE '%PublicFact%' ORDER BY seq");
    while (q->Step().value_or(false)) {
      Fact f;
      f.key = q->Text(0);
      auto h = store::DecodeHeaders(q->Text(1));
      EXPECT_TRUE(h.ok());
      f.subject = *events::FindHeader(*h, "ce_subject");
      EXPECT_EQ(*events::FindHeader(*h, "ce_correlationid"), f.subject) << "its own lineage";
      f.actor = *events::FindHeader(*h, "ce_actor");
      f.version = *events::FindHeader(*h, "ce_aggregateversion");
      f.type = q->Text(3);
      if (absl::EndsWith(f.type, "Published")) EXPECT_TRUE(f.published.ParseFromString(q->Text(2)));
      else EXPECT_TRUE(f.withdrawn.ParseFromString(q->Text(2)));
      out.push_back(std::move(f));
    }
    return out;
  };
  auto publish = [&](bool published, bool phases, bool events) {
    v1::SetPublicationRequest pub;
    pub.set_startup_id(a.id());
    pub.mutable_policy()->set_published(published);
    pub.mutable_policy()->set_phases(phases);
    pub.mutable_policy()->set_events(events);
    v1::Startup got;
    ASSERT_TRUE(svc_.SetPublication(As("coord", "coordinator").get(), &pub, &got).ok());
  };
  auto shown = [&] {
    v1::ListPublicStartupsRequest lr;
    v1::ListPublicStartupsResponse list;
    EXPECT_TRUE(svc_.ListPublicStartups(As("public", "").get(), &lr, &list).ok());
    return list;
  };
  // A decision before publication: nothing attested while nothing is public.
  v1::RecordCommitteeDecisionRequest dr;
  dr.set_startup_id(a.id());
  *dr.mutable_date() = ToTimestamp(Day("2026-03-10"));
  dr.set_outcome(v1::COMMITTEE_OUTCOME_GO);
  dr.set_rationale("RAISONS-PRIVÉES du comité");
  dr.add_participants("DGS");
  v1::CommitteeDecision d;
  ASSERT_TRUE(svc_.RecordCommitteeDecision(As("coord", "coordinator").get(), &dr, &d).ok());
  EXPECT_TRUE(facts().empty());

  publish(true, true, false);
  auto f = facts();
  ASSERT_EQ(f.size(), 1u) << "the investigation phase";
  EXPECT_EQ(f[0].published.kind(), "phase");
  EXPECT_EQ(f[0].published.statement(), "Équipe voirie : entrée en investigation le 05/01/2026");
  EXPECT_EQ(f[0].subject, f[0].published.fact_id());
  EXPECT_EQ(f[0].key, f[0].published.fact_id());
  EXPECT_EQ(f[0].actor, "pep-incubation") << "no person's id in a public entry";
  EXPECT_EQ(f[0].version, "1");
  EXPECT_EQ(shown().startups(0).phases(0).fact_id(), f[0].published.fact_id()) << "the page links to it";

  // A phase change while phases are public: one fact more; the committee is not public yet.
  v1::ChangePhaseRequest cp;
  cp.set_startup_id(a.id());
  cp.set_to(v1::PHASE_CONSTRUCTION);
  cp.set_decision_id(d.id());
  cp.set_comment("COMMENTAIRE-PRIVÉ");
  *cp.mutable_effective_date() = ToTimestamp(Day("2026-03-12"));
  v1::Startup out;
  ASSERT_TRUE(svc_.ChangePhase(As("coord", "coordinator").get(), &cp, &out).ok());
  f = facts();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].published.phase(), v1::PHASE_CONSTRUCTION);
  EXPECT_EQ(FromTimestamp(f[1].published.date()), Day("2026-03-12"));

  // Events made public: the decision is attested, with its outcome and never its reasons.
  publish(true, true, true);
  f = facts();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[2].published.kind(), "committee");
  EXPECT_EQ(f[2].published.source_id(), d.id());
  for (const Fact& x : f) {
    const std::string bytes = x.published.SerializeAsString();
    EXPECT_EQ(bytes.find("PRIVÉ"), std::string::npos) << x.published.statement();
    EXPECT_EQ(bytes.find("DGS"), std::string::npos);
  }
  publish(true, true, true);  // as it is: nothing new
  EXPECT_EQ(facts().size(), 3u);

  // Events hidden again: the decision's fact is withdrawn (version 2 of the same lineage).
  publish(true, true, false);
  f = facts();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[3].type, "pepiniere.incubation.v1.PublicFactWithdrawn");
  EXPECT_EQ(f[3].subject, f[2].subject);
  EXPECT_EQ(f[3].version, "2");
  EXPECT_EQ(f[3].withdrawn.reason(), "part_hidden");
  // Unpublished: both phases withdrawn; published again: attested anew, under new ids.
  publish(false, true, false);
  f = facts();
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[4].withdrawn.reason(), "unpublished");
  EXPECT_TRUE(shown().startups().empty());
  publish(true, true, false);
  f = facts();
  ASSERT_EQ(f.size(), 8u);
  EXPECT_NE(f[6].published.fact_id(), f[0].published.fact_id());
  const auto list = shown();
  ASSERT_EQ(list.startups(0).phases_size(), 2);
  EXPECT_EQ(list.startups(0).phases(1).fact_id(), f[7].published.fact_id());
}

TEST_P(ServiceTest, TheTeamKeepsItsFicheAfterACoordinatorsReviewOrAtOnce) {
  const v1::Startup a = Create("Cantine en ligne");
  const v1::Startup b = Create("Dossier unique");
  v1::ProposeFicheEditRequest edit;
  edit.set_startup_id(a.id());
  edit.set_mission("Inscrire son enfant à la cantine en deux minutes");
  edit.add_tags("Éducation");
  v1::FicheEdit e;
  EXPECT_EQ(svc_.ProposeFicheEdit(As("lea", "product_team", "startup:" + b.id()).get(), &edit, &e).error_code(),
            grpc::StatusCode::PERMISSION_DENIED) << "another start-up's team";
  ASSERT_TRUE(svc_.ProposeFicheEdit(As("lea", "product_team", "startup:" + a.id()).get(), &edit, &e).ok());
  EXPECT_EQ(e.status(), v1::FICHE_EDIT_STATUS_PENDING);
  v1::GetStartupRequest gr;
  gr.set_startup_id(a.id());
  v1::StartupDetails det;
  ASSERT_TRUE(svc_.GetStartup(As("coord", "coordinator").get(), &gr, &det).ok());
  EXPECT_EQ(det.startup().mission(), "Simplifier une démarche") << "nothing changes before the review";
  v1::ListFicheEditsRequest lr;
  lr.set_status(v1::FICHE_EDIT_STATUS_PENDING);
  v1::ListFicheEditsResponse queue;
  EXPECT_EQ(svc_.ListFicheEdits(As("lea", "product_team", "startup:" + a.id()).get(), &lr, &queue).error_code(),
            grpc::StatusCode::PERMISSION_DENIED) << "the whole queue is the coordinators'";
  ASSERT_TRUE(svc_.ListFicheEdits(As("coord", "coordinator").get(), &lr, &queue).ok());
  ASSERT_EQ(queue.edits_size(), 1);
  v1::DecideFicheEditRequest dr;
  dr.set_edit_id(e.id());
  EXPECT_EQ(svc_.DecideFicheEdit(As("lea", "product_team", "startup:" + a.id()).get(), &dr, &e).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(svc_.DecideFicheEdit(As("coord", "coordinator").get(), &dr, &e).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT) << "a refusal says why";
  dr.set_approve(true);
  ASSERT_TRUE(svc_.DecideFicheEdit(As("coord", "coordinator").get(), &dr, &e).ok());
  EXPECT_EQ(e.status(), v1::FICHE_EDIT_STATUS_APPROVED);
  EXPECT_EQ(svc_.DecideFicheEdit(As("coord", "coordinator").get(), &dr, &e).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(svc_.GetStartup(As("coord", "coordinator").get(), &gr, &det).ok());
  EXPECT_EQ(det.startup().mission(), "Inscrire son enfant à la cantine en deux minutes");
  ASSERT_EQ(det.startup().tags_size(), 1);
  // An incubator that lets teams publish at once: live, applied with the member as its actor.
  IncubationService live(*store_, clock_, metrics_, nullptr,
                         {.auth = {.insecure_dev = true}, .fiche_edits_reviewed = false});
  edit.set_mission("Inscrire à la cantine, sans papier");
  ASSERT_TRUE(live.ProposeFicheEdit(As("lea", "product_team", "startup:" + a.id()).get(), &edit, &e).ok());
  EXPECT_EQ(e.status(), v1::FICHE_EDIT_STATUS_APPLIED);
  ASSERT_TRUE(svc_.GetStartup(As("coord", "coordinator").get(), &gr, &det).ok());
  EXPECT_EQ(det.startup().mission(), "Inscrire à la cantine, sans papier");
  const auto types = OutboxTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.incubation.v1.FicheEditProposed"), 2);
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.incubation.v1.FicheEditDecided"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.incubation.v1.StartupUpdated"), 2);
  // The public indicators are the team's too: the whole list, each named.
  v1::ProposeFicheEditRequest kpis;
  kpis.set_startup_id(a.id());
  auto* k = kpis.add_kpis();
  k->set_name("");
  k->set_value(120);
  EXPECT_EQ(live.ProposeFicheEdit(As("lea", "product_team", "startup:" + a.id()).get(), &kpis, &e).error_message(),
            "kpis[0].name: is required (1-80 characters)");
  k->set_name("Familles inscrites en ligne");
  k->set_unit("familles");
  ASSERT_TRUE(live.ProposeFicheEdit(As("lea", "product_team", "startup:" + a.id()).get(), &kpis, &e).ok());
  ASSERT_TRUE(svc_.GetStartup(As("coord", "coordinator").get(), &gr, &det).ok());
  ASSERT_EQ(det.startup().public_kpis_size(), 1);
  EXPECT_EQ(det.startup().public_kpis(0).value(), 120);
  EXPECT_EQ(det.startup().mission(), "Inscrire à la cantine, sans papier") << "what the edit does not name stays";
}

TEST_P(ServiceTest, ScopedCallerReachesOnlyItsStartup) {
  const v1::Startup a = Create("Start-up A");
  const v1::Startup b = Create("Start-up B");
  const std::string scope = "startup:" + a.id();
  v1::Milestone m;
  auto push_b = Milestone(b.id(), "k1", "x");
  EXPECT_EQ(svc_.PushMilestone(As("ci", "product_team", scope).get(), &push_b, &m).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListMilestonesRequest lr;
  lr.set_startup_id(b.id());
  v1::ListMilestonesResponse list;
  EXPECT_EQ(svc_.ListMilestones(As("ci", "product_team", scope).get(), &lr, &list).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetStartupRequest gr;
  gr.set_startup_id(b.slug());  // by slug too
  v1::StartupDetails det;
  EXPECT_EQ(svc_.GetStartup(As("ci", "product_team", scope).get(), &gr, &det).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListStartupsRequest all;
  v1::ListStartupsResponse resp;
  EXPECT_EQ(svc_.ListStartups(As("ci", "product_team", scope).get(), &all, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto push_a = Milestone(a.id(), "k1", "x");
  EXPECT_TRUE(svc_.PushMilestone(As("ci", "product_team", scope).get(), &push_a, &m).ok());
  // Without the role, even the right scope cannot push.
  auto push_a2 = Milestone(a.id(), "k2", "x");
  EXPECT_EQ(svc_.PushMilestone(As("agent-1", "agent", scope).get(), &push_a2, &m).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(ServiceTest, PhaseChangeNeedsARecordedDecisionAndKeepsHistory) {
  const v1::Startup s = Create("Cantine en ligne");
  v1::ChangePhaseRequest cp;
  cp.set_startup_id(s.id());
  cp.set_to(v1::PHASE_CONSTRUCTION);
  *cp.mutable_effective_date() = ToTimestamp(Day("2026-03-12"));
  v1::Startup out;
  grpc::Status no_decision = svc_.ChangePhase(As("coord", "coordinator").get(), &cp, &out);
  EXPECT_EQ(no_decision.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::RecordCommitteeDecisionRequest dr;
  dr.set_startup_id(s.id());
  *dr.mutable_date() = ToTimestamp(Day("2026-03-10"));
  dr.set_outcome(v1::COMMITTEE_OUTCOME_GO);
  dr.set_rationale("Problème confirmé par 30 entretiens");
  dr.add_participants("DGS");
  dr.add_document_refs("https://docs.example/comite-2026-03");
  v1::CommitteeDecision d;
  ASSERT_TRUE(svc_.RecordCommitteeDecision(As("coord", "coordinator").get(), &dr, &d).ok());
  cp.set_decision_id(d.id());
  ASSERT_TRUE(svc_.ChangePhase(As("coord", "coordinator").get(), &cp, &out).ok());
  EXPECT_EQ(out.phase(), v1::PHASE_CONSTRUCTION);
  ASSERT_EQ(out.phases_size(), 2);
  EXPECT_EQ(FromTimestamp(out.phases(0).end()), Day("2026-03-12"));
  EXPECT_EQ(out.phases(1).decision_id(), d.id());

  // The same decision cannot open another phase; an illegal move names both phases.
  cp.set_to(v1::PHASE_ACCELERATION);
  cp.clear_effective_date();
  grpc::Status reused = svc_.ChangePhase(As("coord", "coordinator").get(), &cp, &out);
  EXPECT_NE(reused.error_message().find("already used"), std::string::npos);
  cp.set_to(v1::PHASE_OPERATED);
  EXPECT_EQ(svc_.ChangePhase(As("coord", "coordinator").get(), &cp, &out).error_message(),
            "cannot move from CONSTRUCTION to OPERATED");
  // Back-dating before the current phase began would overlap history.
  cp.set_to(v1::PHASE_ABANDONED);
  *cp.mutable_effective_date() = ToTimestamp(Day("2026-03-01"));
  EXPECT_EQ(svc_.ChangePhase(As("coord", "coordinator").get(), &cp, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Non-coordinators cannot move phases at all.
  EXPECT_EQ(svc_.ChangePhase(As("x", "product_team", "startup:" + s.id()).get(), &cp, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(ServiceTest, OverdueFilterUsesTheInjectedClock) {
  const v1::Startup s = Create("Vieille start-up");  // investigation since 2026-01-05
  v1::ListStartupsRequest r;
  r.set_overdue_only(true);
  v1::ListStartupsResponse resp;
  ASSERT_TRUE(svc_.ListStartups(As("coord", "coordinator").get(), &r, &resp).ok());
  ASSERT_EQ(resp.startups_size(), 1);
  EXPECT_TRUE(resp.startups(0).overdue());
  clock_.Set(Day("2026-02-01"));  // back in time: neither rule applies yet
  v1::ListStartupsResponse early;
  ASSERT_TRUE(svc_.ListStartups(As("coord", "coordinator").get(), &r, &early).ok());
  EXPECT_EQ(early.startups_size(), 0);
}

TEST_P(ServiceTest, SearchSortAndSkipPageThroughTheWholeMatchingSet) {
  for (const char* name : {"Dossier unique", "Cantine à l'école", "Écoles numériques", "Aides", "Zéro papier"}) {
    Create(name);
  }
  auto list = [&](v1::ListStartupsRequest r) {
    v1::ListStartupsResponse resp;
    EXPECT_TRUE(svc_.ListStartups(As("coord", "coordinator").get(), &r, &resp).ok());
    std::vector<std::string> names;
    for (const auto& s : resp.startups()) names.push_back(s.name());
    return std::make_pair(resp.total_size(), names);
  };
  v1::ListStartupsRequest r;
  r.set_order_by("name");
  r.set_page_size(2);
  EXPECT_EQ(list(r), std::make_pair(5, std::vector<std::string>{"Aides", "Cantine à l'école"}));
  r.set_skip(4);
  EXPECT_EQ(list(r), std::make_pair(5, std::vector<std::string>{"Zéro papier"}));
  r.set_skip(6);  // past the end: an empty page, the total still told
  EXPECT_EQ(list(r), std::make_pair(5, std::vector<std::string>{}));
  v1::ListStartupsRequest q;
  q.set_query("ECOLE");  // accents and case ignored, name or slug or mission
  q.set_order_by("name desc");
  EXPECT_EQ(list(q), std::make_pair(2, std::vector<std::string>{"Écoles numériques", "Cantine à l'école"}));
  q.set_phase(v1::PHASE_CONSTRUCTION);  // filters combine
  EXPECT_EQ(list(q), std::make_pair(0, std::vector<std::string>{}));

  v1::ListStartupsRequest bad;
  bad.set_order_by("budget");
  v1::ListStartupsResponse resp;
  const grpc::Status st = svc_.ListStartups(As("coord", "coordinator").get(), &bad, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().substr(0, 9), "order_by:");
  bad.set_order_by("");
  bad.set_skip(-1);
  EXPECT_EQ(svc_.ListStartups(As("coord", "coordinator").get(), &bad, &resp).error_message().substr(0, 5), "skip:");
}

TEST_P(ServiceTest, IdeaSelectedTwiceOpensOneStartupCorrelatedToTheIdea) {
  pepiniere::ideas::v1::IdeaSelected sel;
  sel.set_idea_id(NewUuidV7(clock_.Now()));
  sel.set_title("Dossier unique pour les aides sociales");
  sel.set_proposal("Un dossier numérique unique");
  sel.set_challenge_id(NewUuidV7(clock_.Now()));
  events::Record rec;
  rec.topic = "pepiniere.ideas.events";
  rec.value = sel.SerializeAsString();
  events::Envelope env;
  env.id = NewUuidV7(clock_.Now());
  env.type = "pepiniere.ideas.v1.IdeaSelected";
  env.subject = sel.idea_id();
  env.correlation_id = sel.idea_id();
  env.actor = "coord-1";
  env.time = env.effective_time = Day("2026-11-01");
  ASSERT_TRUE(svc_.HandleIdeaEvent(rec, env).ok());
  ASSERT_TRUE(svc_.HandleIdeaEvent(rec, env).ok());  // redelivery
  v1::ListStartupsRequest r;
  v1::ListStartupsResponse resp;
  ASSERT_TRUE(svc_.ListStartups(As("coord", "coordinator").get(), &r, &resp).ok());
  ASSERT_EQ(resp.startups_size(), 1);
  const auto& s = resp.startups(0);
  EXPECT_EQ(s.origin_idea_id(), sel.idea_id());
  EXPECT_EQ(s.correlation_id(), sel.idea_id());
  EXPECT_EQ(s.phase(), v1::PHASE_INVESTIGATION);
  EXPECT_EQ(s.slug(), "dossier-unique-pour-les-aides-sociales");
  EXPECT_EQ(s.mission(), "Un dossier numérique unique");
  EXPECT_EQ(FromTimestamp(s.phases(0).start()), Day("2026-11-01"));
  EXPECT_EQ(OutboxTypes(), std::vector<std::string>{"pepiniere.incubation.v1.StartupCreated"});
  // Another event type is acknowledged and ignored.
  env.id = NewUuidV7(clock_.Now());
  env.type = "pepiniere.ideas.v1.IdeaSubmitted";
  EXPECT_TRUE(svc_.HandleIdeaEvent(rec, env).ok());
  EXPECT_EQ(OutboxTypes().size(), 1u);
}

TEST_P(ServiceTest, TeamUpdateAndListFilters) {
  const v1::Startup a = Create("Alpha");
  const v1::Startup b = Create("Beta");
  v1::AddTeamMemberRequest add;
  add.set_startup_id(a.id());
  add.set_name("Lina Haddad");
  add.set_role("intrapreneuse");
  v1::Startup out;
  ASSERT_TRUE(svc_.AddTeamMember(As("coord", "coordinator").get(), &add, &out).ok());
  ASSERT_EQ(out.team_size(), 1);
  v1::RemoveTeamMemberRequest rm;
  rm.set_startup_id(a.id());
  rm.set_member_id(out.team(0).id());
  ASSERT_TRUE(svc_.RemoveTeamMember(As("coord", "coordinator").get(), &rm, &out).ok());
  EXPECT_TRUE(out.team(0).has_end());
  EXPECT_EQ(svc_.RemoveTeamMember(As("coord", "coordinator").get(), &rm, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // already left

  v1::UpdateStartupRequest up;
  up.set_startup_id(b.id());
  up.set_incubator("dinum");
  up.add_sponsors("cd06");
  up.add_sponsors("region-sud");
  ASSERT_TRUE(svc_.UpdateStartup(As("coord", "coordinator").get(), &up, &out).ok());
  EXPECT_EQ(out.version(), 2);
  up.mutable_links()->set_product("ftp://nope");
  EXPECT_EQ(svc_.UpdateStartup(As("coord", "coordinator").get(), &up, &out).error_message().substr(0, 14),
            "links.product:");
  const auto types = OutboxTypes();
  EXPECT_EQ(types.back(), "pepiniere.incubation.v1.StartupUpdated");

  auto list = [&](v1::ListStartupsRequest r) {
    v1::ListStartupsResponse resp;
    EXPECT_TRUE(svc_.ListStartups(As("coord", "coordinator").get(), &r, &resp).ok());
    std::vector<std::string> slugs;
    for (const auto& s : resp.startups()) slugs.push_back(s.slug());
    return std::make_pair(slugs, resp.next_page_token());
  };
  v1::ListStartupsRequest by_sponsor;
  by_sponsor.set_sponsor("region-sud");
  EXPECT_EQ(list(by_sponsor).first, std::vector<std::string>{"beta"});
  v1::ListStartupsRequest by_incubator;
  by_incubator.set_incubator("lab06");
  EXPECT_EQ(list(by_incubator).first, std::vector<std::string>{"alpha"});
  v1::ListStartupsRequest paged;
  paged.set_page_size(1);
  auto [first, token] = list(paged);
  EXPECT_EQ(first, std::vector<std::string>{"alpha"});
  paged.set_page_token(token);
  EXPECT_EQ(list(paged).first, std::vector<std::string>{"beta"});
}

// Issue 31: the team edits its members (each change on the log once), signals are computed
// when read, filter the list and are counted in the statistics.
TEST_P(ServiceTest, TheTeamEditsItsMembersAndTheSignalsFollow) {
  const v1::Startup a = Create("Alpha");
  const v1::Startup b = Create("Beta");
  v1::AddTeamMemberRequest add;
  add.set_startup_id(a.id());
  add.set_name("Marc Petit");
  add.set_kind(v1::TEAM_ROLE_COACH);
  add.set_status(v1::MEMBER_STATUS_CONTRACTOR);
  v1::Startup out;
  ASSERT_TRUE(svc_.AddTeamMember(As("coord", "coordinator").get(), &add, &out).ok());
  ASSERT_EQ(out.team_size(), 1);
  EXPECT_EQ(out.team(0).role(), "coach");  // the kind's word when no title is given
  const std::string marc = out.team(0).id();
  auto codes = [](const v1::Startup& s) {
    std::vector<std::string> c;
    for (const auto& sig : s.team_signals()) c.push_back(sig.code());
    return c;
  };
  EXPECT_EQ(codes(out), std::vector<std::string>{"no_intrapreneur"});

  v1::UpdateTeamMemberRequest up;
  up.set_startup_id(a.id());
  up.set_member_id(marc);
  *up.mutable_mission_end() = ToTimestamp(clock_.Now() + absl::Hours(24 * 10));
  // Another start-up's team may not touch Alpha's members; Alpha's own team may.
  EXPECT_EQ(svc_.UpdateTeamMember(As("team-b", "product_team", "startup:" + b.id()).get(), &up, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const size_t events = OutboxTypes().size();
  ASSERT_TRUE(svc_.UpdateTeamMember(As("team-a", "product_team", "startup:" + a.id()).get(), &up, &out).ok());
  EXPECT_EQ(codes(out), (std::vector<std::string>{"no_intrapreneur", "mission_ending"}));
  EXPECT_EQ(OutboxTypes().size(), events + 1);
  EXPECT_EQ(OutboxTypes().back(), "pepiniere.incubation.v1.TeamMemberUpdated");
  // The same values again: nothing recorded.
  ASSERT_TRUE(svc_.UpdateTeamMember(As("team-a", "product_team", "startup:" + a.id()).get(), &up, &out).ok());
  EXPECT_EQ(OutboxTypes().size(), events + 1);
  v1::UpdateTeamMemberRequest empty;
  empty.set_startup_id(a.id());
  empty.set_member_id(marc);
  EXPECT_EQ(svc_.UpdateTeamMember(As("coord", "coordinator").get(), &empty, &out).error_message().substr(0, 5), "body:");

  v1::ListStartupsRequest ending;
  ending.set_team_signal("mission_ending");
  v1::ListStartupsResponse resp;
  ASSERT_TRUE(svc_.ListStartups(As("coord", "coordinator").get(), &ending, &resp).ok());
  ASSERT_EQ(resp.startups_size(), 1);
  EXPECT_EQ(resp.startups(0).id(), a.id());
  ending.set_team_signal("nobody_home");
  EXPECT_EQ(svc_.ListStartups(As("coord", "coordinator").get(), &ending, &resp).error_message().substr(0, 12),
            "team_signal:");
  v1::GetPortfolioStatsRequest sreq;
  v1::PortfolioStats stats;
  ASSERT_TRUE(svc_.GetPortfolioStats(As("coord", "coordinator").get(), &sreq, &stats).ok());
  EXPECT_EQ(stats.team_signals().at("no_intrapreneur"), 2);  // Alpha and Beta
  EXPECT_EQ(stats.team_signals().at("no_coach"), 1);         // Beta only
  EXPECT_EQ(stats.team_signals().at("mission_ending"), 1);
}

constexpr char kPortfolio[] =
    R"({"slug":"dossier-unique","title":"Dossier unique","mission":"Un seul dossier","incubator":"lab06","sponsors":["cd06"],"phases":[{"name":"investigation","start":"2021-02-01","end":"2021-05-26"},{"name":"construction","start":"2021-05-26"}],"events":[{"name":"committee","date":"2021-05-20","comment":"GO"}]})"
    "\n"
    R"({"slug":"cantine","title":"Cantine","mission":"Inscription en ligne","incubator":"lab06","phases":[{"name":"construction","start":"2022-06-01"},{"name":"investigation","start":"2022-01-10","end":"2022-07-01"}]})"
    "\n"
    "not json at all\n"
    "\n"
    R"({"title":"sans slug","phases":[]})"
    "\n";

TEST_P(ServiceTest, ImportReportsThenReimportIsUnchangedThenUpdatesOnlyTheDifference) {
  v1::ImportPortfolioRequest req;
  req.set_jsonl(kPortfolio);
  v1::ImportReport rep;
  ASSERT_TRUE(svc_.ImportPortfolio(As("coord", "coordinator").get(), &req, &rep).ok());
  EXPECT_EQ(rep.read(), 4);  // the blank line is not a line to import
  EXPECT_EQ(rep.created(), 2);
  EXPECT_EQ(rep.rejected(), 2);
  ASSERT_EQ(rep.rejections_size(), 2);
  EXPECT_EQ(rep.rejections(0).line(), 3);
  EXPECT_EQ(rep.rejections(1).line(), 5);
  EXPECT_EQ(rep.rejections(1).reason(), "no slug");
  EXPECT_EQ(rep.warnings_by_rule().at("unsorted_phases"), 1);
  EXPECT_EQ(rep.warnings_by_rule().at("overlap"), 1);
  const auto after_first = OutboxTypes();
  // Created: 2 StartupCreated, 2 PhaseChanged (one per start-up), 1 committee record.
  EXPECT_EQ(after_first.size(), 5u);
  EXPECT_EQ(rep.events_emitted(), 5);

  v1::GetStartupRequest gr;
  gr.set_startup_id("dossier-unique");
  v1::StartupDetails det;
  ASSERT_TRUE(svc_.GetStartup(As("coord", "coordinator").get(), &gr, &det).ok());
  EXPECT_EQ(det.startup().phase(), v1::PHASE_CONSTRUCTION);
  EXPECT_EQ(det.startup().correlation_id(), det.startup().id());
  ASSERT_EQ(det.decisions_size(), 1);
  EXPECT_EQ(det.decisions(0).rationale(), "GO");

  v1::ImportReport again;
  ASSERT_TRUE(svc_.ImportPortfolio(As("coord", "coordinator").get(), &req, &again).ok());
  EXPECT_EQ(again.unchanged(), 2);
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.updated(), 0);
  EXPECT_EQ(again.events_emitted(), 0);
  EXPECT_EQ(OutboxTypes().size(), after_first.size());

  // One line changes: a new mission and a new phase. Only that difference is emitted.
  std::string changed = kPortfolio;
  const std::string from = R"("mission":"Un seul dossier")";
  changed.replace(changed.find(from), from.size(), R"("mission":"Un seul dossier, partagé")");
  const std::string phases = R"({"name":"construction","start":"2021-05-26"}])";
  changed.replace(changed.find(phases), phases.size(),
                  R"({"name":"construction","start":"2021-05-26"},{"name":"acceleration","start":"2023-01-15"}])");
  req.set_jsonl(changed);
  // The rehearsal first: it reports what the import will do, and writes nothing.
  req.set_dry_run(true);
  v1::ImportReport rehearsal;
  ASSERT_TRUE(svc_.ImportPortfolio(As("coord", "coordinator").get(), &req, &rehearsal).ok());
  EXPECT_EQ(rehearsal.updated(), 1);
  EXPECT_EQ(rehearsal.unchanged(), 1);
  EXPECT_EQ(rehearsal.rejected(), 2);
  EXPECT_EQ(rehearsal.events_emitted(), 2);
  EXPECT_EQ(OutboxTypes().size(), after_first.size());
  ASSERT_TRUE(svc_.GetStartup(As("coord", "coordinator").get(), &gr, &det).ok());
  EXPECT_EQ(det.startup().mission(), "Un seul dossier");
  req.set_dry_run(false);
  v1::ImportReport upd;
  ASSERT_TRUE(svc_.ImportPortfolio(As("coord", "coordinator").get(), &req, &upd).ok());
  EXPECT_EQ(upd.updated(), 1);
  EXPECT_EQ(upd.unchanged(), 1);
  EXPECT_EQ(upd.events_emitted(), rehearsal.events_emitted());
  EXPECT_EQ(upd.warnings_size(), rehearsal.warnings_size());
  const auto after_update = OutboxTypes();
  ASSERT_EQ(after_update.size(), after_first.size() + 2);
  EXPECT_EQ(after_update[after_first.size()], "pepiniere.incubation.v1.StartupUpdated");
  EXPECT_EQ(after_update[after_first.size() + 1], "pepiniere.incubation.v1.PhaseChanged");
  ASSERT_TRUE(svc_.GetStartup(As("coord", "coordinator").get(), &gr, &det).ok());
  EXPECT_EQ(det.startup().phase(), v1::PHASE_ACCELERATION);
  EXPECT_EQ(det.startup().mission(), "Un seul dossier, partagé");
}

TEST_P(ServiceTest, ImportedPhasesAreBackDatedEvents) {
  v1::ImportPortfolioRequest req;
  req.set_jsonl(kPortfolio);
  v1::ImportReport rep;
  ASSERT_TRUE(svc_.ImportPortfolio(As("coord", "coordinator").get(), &req, &rep).ok());
  auto db = store::Db::Connect(path_);
  auto q = (*db)->Prepare("SELECT headers FROM outbox WHERE ce_type LIKE '%PhaseChanged' ORDER BY seq");
  ASSERT_TRUE(q->Step().value_or(false));
  auto h = store::DecodeHeaders(q->Text(0));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*events::FindHeader(*h, "ce_effectivetime"), "2021-05-26T00:00:00.000000Z");
  EXPECT_EQ(*events::FindHeader(*h, "ce_time"), "2026-11-28T00:00:00.000000Z");  // recorded now
}

TEST_P(ServiceTest, TwoThousandGeneratedStartupsImport) {
  std::string jsonl;
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&jsonl, R"({"slug":"su-)", i, R"(","title":"Start-up )", i,
                    R"(","mission":"m","incubator":"inc-)", i % 7,
                    R"(","sponsors":["cd06"],"phases":[{"name":"investigation","start":"2021-02-01"},)",
                    R"({"name":"construction","start":"2021-06-01"},{"name":"acceleration","start":"2022-09-01"}],)",
                    R"("events":[{"name":"committee","date":"2021-05-20"},{"name":"product_launch","date":"2022-01-10"}]})",
                    "\n");
  }
  v1::ImportPortfolioRequest req;
  req.set_jsonl(jsonl);
  v1::ImportReport rep;
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(svc_.ImportPortfolio(As("coord", "coordinator").get(), &req, &rep).ok());
  const absl::Duration took = absl::Now() - t0;
  std::printf("import of 2000 start-ups (service, no network): %s, %d events\n",
              absl::FormatDuration(took).c_str(), rep.events_emitted());
  EXPECT_EQ(rep.created(), 2000);
  EXPECT_EQ(rep.events_emitted(), 2000 * 5);
  v1::GetPortfolioStatsRequest sr;
  v1::PortfolioStats stats;
  ASSERT_TRUE(svc_.GetPortfolioStats(As("coord", "coordinator").get(), &sr, &stats).ok());
  EXPECT_EQ(stats.startups_by_phase().at("ACCELERATION"), 2000);
}

PEP_ON_BOTH_ENGINES(ServiceTest);

}  // namespace
}  // namespace pep::incubation
