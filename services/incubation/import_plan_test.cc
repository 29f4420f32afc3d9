// PlanImport without a store: a new slug, a slug another start-up holds, the same line again,
// appended phases, a rewritten history, new and already-stored milestones, and the same inputs
// giving the same plan.
#include "services/incubation/import_plan.h"

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace pep::incubation {
namespace {

using P = v1::Phase;
using Outcome = ImportPlan::Outcome;

absl::Time Day(const char* d) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d", d, absl::UTCTimeZone(), &t, &err)) << d;
  return t;
}

const absl::Time kNow = Day("2026-11-28");

ImportLine Line(const std::string& phases, const std::string& events) {
  ImportLine l = ParseImportLine(
      R"({"slug":"equipe-voirie","title":"Équipe voirie","mission":"Signaler un nid-de-poule",)"
      R"("incubator":"lab06","sponsors":["cd06"],"phases":[)" + phases + R"(],"events":[)" +
          events + "]}",
      7, kNow);
  EXPECT_TRUE(l.rejection.empty()) << l.rejection;
  return l;
}

const char kTwoPhases[] = R"({"name":"investigation","start":"2021-02-01"},
                             {"name":"construction","start":"2021-06-01"})";
const char kEvents[] = R"({"name":"committee","date":"2021-05-20","comment":"GO"},
                          {"name":"product_launch","date":"2021-09-01"})";

struct Ids {
  int n = 0;
  ImportContext Context() {
    return {.actor = "coordinatrice", .now = kNow, .new_id = [this] {
              return "id-" + std::to_string(++n);
            }};
  }
};

template <typename T>
const T& As(const PlannedEvent& e) {
  EXPECT_TRUE(std::holds_alternative<T>(e.payload)) << "event index " << e.payload.index();
  return std::get<T>(e.payload);
}

// The state the store holds after `plan` was written.
ImportState After(const ImportPlan& plan, const ImportLine& line) {
  ImportState s;
  s.snapshot = line.details;
  s.current = plan.startup;
  for (const auto& m : plan.milestones) s.milestone_keys.insert(m.idempotency_key());
  return s;
}

TEST(PlanImport, NewSlugIsCreatedWithItsWholeHistoryInOrder) {
  Ids ids;
  const ImportLine line = Line(kTwoPhases, kEvents);
  const ImportPlan plan = PlanImport({}, line, ids.Context());
  ASSERT_EQ(plan.outcome, Outcome::kCreated);
  EXPECT_EQ(plan.startup.id(), "id-1");
  EXPECT_EQ(plan.startup.slug(), "equipe-voirie");
  EXPECT_EQ(plan.startup.name(), "Équipe voirie");
  EXPECT_EQ(plan.startup.phase(), P::PHASE_CONSTRUCTION);
  ASSERT_EQ(plan.events.size(), 4u);  // created, investigation→construction, committee, launch
  const auto& created = As<v1::StartupCreated>(plan.events[0]);
  EXPECT_TRUE(created.imported());
  EXPECT_EQ(created.startup().phase(), P::PHASE_INVESTIGATION);
  EXPECT_EQ(plan.events[0].effective, Day("2021-02-01"));
  EXPECT_EQ(As<v1::PhaseChanged>(plan.events[1]).to(), P::PHASE_CONSTRUCTION);
  EXPECT_EQ(As<v1::CommitteeDecisionRecorded>(plan.events[2]).decision().startup_id(), "id-1");
  EXPECT_EQ(As<v1::MilestonePushed>(plan.events[3]).milestone().pushed_by(), "coordinatrice");
  for (size_t i = 0; i < plan.events.size(); ++i) EXPECT_EQ(plan.events[i].version, i + 1);
  EXPECT_EQ(plan.startup.version(), 4);
  ASSERT_EQ(plan.decisions.size(), 1u);
  ASSERT_EQ(plan.milestones.size(), 1u);
  EXPECT_EQ(FromTimestamp(plan.startup.last_milestone_at()), Day("2021-09-01"));
}

TEST(PlanImport, SlugHeldByAStartupNotImportedIsRejected) {
  Ids ids;
  ImportState taken;
  taken.slug_taken = true;
  const ImportPlan plan = PlanImport(taken, Line(kTwoPhases, kEvents), ids.Context());
  EXPECT_EQ(plan.outcome, Outcome::kRejected);
  EXPECT_NE(plan.rejection.find("'equipe-voirie' is used by a start-up not created by import"),
            std::string::npos);
  EXPECT_TRUE(plan.events.empty());
  EXPECT_EQ(ids.n, 0);
}

TEST(PlanImport, TheSameLineAgainChangesNothing) {
  Ids ids;
  const ImportLine line = Line(kTwoPhases, kEvents);
  const ImportPlan first = PlanImport({}, line, ids.Context());
  const ImportPlan again = PlanImport(After(first, line), line, ids.Context());
  EXPECT_EQ(again.outcome, Outcome::kUnchanged);
  EXPECT_TRUE(again.events.empty());
}

TEST(PlanImport, AppendedPhaseIsATransitionAndARewrittenHistoryACorrection) {
  Ids ids;
  const ImportLine line = Line(kTwoPhases, kEvents);
  const ImportPlan first = PlanImport({}, line, ids.Context());
  const ImportLine later = Line(std::string(kTwoPhases) +
                                    R"(,{"name":"acceleration","start":"2022-09-01"})",
                                kEvents);
  const ImportPlan step = PlanImport(After(first, line), later, ids.Context());
  ASSERT_EQ(step.outcome, Outcome::kUpdated);
  ASSERT_EQ(step.events.size(), 1u);
  EXPECT_EQ(As<v1::PhaseChanged>(step.events[0]).from(), P::PHASE_CONSTRUCTION);
  EXPECT_EQ(As<v1::PhaseChanged>(step.events[0]).to(), P::PHASE_ACCELERATION);
  EXPECT_EQ(step.events[0].version, first.startup.version() + 1);
  EXPECT_EQ(step.startup.phase(), P::PHASE_ACCELERATION);

  const ImportLine rewritten = Line(R"({"name":"investigation","start":"2021-03-01"},
                                       {"name":"construction","start":"2021-06-01"})",
                                    kEvents);
  const ImportPlan fix = PlanImport(After(first, line), rewritten, ids.Context());
  ASSERT_EQ(fix.events.size(), 1u);
  EXPECT_EQ(As<v1::PhaseHistoryCorrected>(fix.events[0]).phases(0).start().seconds(),
            ToTimestamp(Day("2021-03-01")).seconds());
  EXPECT_EQ(fix.events[0].effective, kNow);
}

TEST(PlanImport, NewMilestonesAreAddedOnceAndDroppedOnesKeptWithAWarning) {
  Ids ids;
  const ImportLine line = Line(kTwoPhases, kEvents);
  const ImportPlan first = PlanImport({}, line, ids.Context());
  // The launch dropped from the source, a new one listed twice.
  const ImportLine next = Line(kTwoPhases, R"({"name":"committee","date":"2021-05-20","comment":"GO"},
                                             {"name":"end","date":"2023-01-10"},
                                             {"name":"end","date":"2023-01-10"})");
  const ImportPlan plan = PlanImport(After(first, line), next, ids.Context());
  ASSERT_EQ(plan.outcome, Outcome::kUpdated);
  ASSERT_EQ(plan.milestones.size(), 1u);
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_TRUE(plan.decisions.empty());
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_EQ(plan.warnings[0].rule(), "removed_in_source");
  EXPECT_EQ(plan.warnings[0].line(), 7);
  // The launch listed again later: its key is stored already, so nothing is added.
  ImportState state = After(first, line);
  state.snapshot = next.details;
  const ImportPlan back = PlanImport(state, line, ids.Context());
  EXPECT_TRUE(back.milestones.empty());
}

TEST(PlanImport, SameInputsGiveTheSamePlan) {
  Ids a, b;
  const ImportLine line = Line(kTwoPhases, kEvents);
  const ImportPlan x = PlanImport({}, line, a.Context());
  const ImportPlan y = PlanImport({}, line, b.Context());
  ASSERT_EQ(x.events.size(), y.events.size());
  EXPECT_EQ(x.startup.SerializeAsString(), y.startup.SerializeAsString());
  for (size_t i = 0; i < x.events.size(); ++i) {
    EXPECT_EQ(x.events[i].payload.index(), y.events[i].payload.index());
    EXPECT_EQ(x.events[i].version, y.events[i].version);
  }
}

}  // namespace
}  // namespace pep::incubation
