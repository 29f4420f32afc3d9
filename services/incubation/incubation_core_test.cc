// Lifecycle rules of pep-incubation: every phase transition, the committee gate, effective
// dates, staleness with an injected time, validation, and the import normaliser rule by rule.
#include <limits>

#include "services/incubation/incubation_core.h"

#include <set>

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace pep::incubation {
namespace {

using P = v1::Phase;

absl::Time Day(const char* d) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d", d, absl::UTCTimeZone(), &t, &err)) << d;
  return t;
}

TEST(Lifecycle, EveryTransitionIsAllowedExactlyAsSpecified) {
  const std::set<std::pair<P, P>> allowed = {
      {P::PHASE_INVESTIGATION, P::PHASE_CONSTRUCTION},
      {P::PHASE_INVESTIGATION, P::PHASE_ABANDONED_IN_INVESTIGATION},
      {P::PHASE_CONSTRUCTION, P::PHASE_ACCELERATION},
      {P::PHASE_CONSTRUCTION, P::PHASE_ABANDONED},
      {P::PHASE_ACCELERATION, P::PHASE_CONSOLIDATION},
      {P::PHASE_ACCELERATION, P::PHASE_ABANDONED},
      {P::PHASE_CONSOLIDATION, P::PHASE_TRANSFERRED},
      {P::PHASE_CONSOLIDATION, P::PHASE_OPERATED},
      {P::PHASE_CONSOLIDATION, P::PHASE_ABANDONED},
  };
  int pairs = 0;
  for (int f = P::PHASE_UNSPECIFIED; f <= P::PHASE_ABANDONED; ++f) {
    for (int t = P::PHASE_UNSPECIFIED; t <= P::PHASE_ABANDONED; ++t) {
      const P from = static_cast<P>(f), to = static_cast<P>(t);
      const bool want = allowed.count({from, to}) > 0;
      EXPECT_EQ(TransitionAllowed(from, to), want) << PhaseName(from) << "->" << PhaseName(to);
      const absl::Status s = CheckTransition(from, to);
      if (!want) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_EQ(s.message(), "cannot move from " + PhaseName(from) + " to " + PhaseName(to));
      }
      ++pairs;
    }
  }
  EXPECT_EQ(pairs, 81);
  EXPECT_TRUE(RequiresCommittee(P::PHASE_INVESTIGATION));
  EXPECT_TRUE(RequiresCommittee(P::PHASE_CONSTRUCTION));
  EXPECT_TRUE(RequiresCommittee(P::PHASE_ACCELERATION));
  EXPECT_FALSE(RequiresCommittee(P::PHASE_CONSOLIDATION));
}

v1::CommitteeDecision Decision(v1::CommitteeOutcome outcome, const char* date = "2024-03-12") {
  v1::CommitteeDecision d;
  d.set_id("d1");
  d.set_startup_id("s1");
  d.set_outcome(outcome);
  *d.mutable_date() = ToTimestamp(Day(date));
  return d;
}

TEST(CommitteeGate, OutcomeMustFitTheMove) {
  const absl::Time when = Day("2024-03-15");
  const auto go = Decision(v1::COMMITTEE_OUTCOME_GO);
  const auto stop = Decision(v1::COMMITTEE_OUTCOME_STOP);
  const auto pivot = Decision(v1::COMMITTEE_OUTCOME_PIVOT);
  const auto extend = Decision(v1::COMMITTEE_OUTCOME_EXTEND);
  EXPECT_TRUE(CheckCommitteeGate(&go, "s1", P::PHASE_INVESTIGATION, P::PHASE_CONSTRUCTION, when).ok());
  EXPECT_FALSE(CheckCommitteeGate(&go, "s1", P::PHASE_INVESTIGATION,
                                  P::PHASE_ABANDONED_IN_INVESTIGATION, when).ok());
  EXPECT_TRUE(CheckCommitteeGate(&stop, "s1", P::PHASE_CONSTRUCTION, P::PHASE_ABANDONED, when).ok());
  EXPECT_FALSE(CheckCommitteeGate(&stop, "s1", P::PHASE_CONSTRUCTION, P::PHASE_ACCELERATION, when).ok());
  EXPECT_TRUE(CheckCommitteeGate(&pivot, "s1", P::PHASE_ACCELERATION, P::PHASE_CONSOLIDATION, when).ok());
  EXPECT_EQ(CheckCommitteeGate(&extend, "s1", P::PHASE_ACCELERATION, P::PHASE_CONSOLIDATION, when).message(),
            "an EXTEND decision keeps the start-up in its phase: no phase change");
}

TEST(CommitteeGate, DecisionRequiredUnusedOwnAndNotLater) {
  const absl::Time when = Day("2024-03-15");
  absl::Status none = CheckCommitteeGate(nullptr, "s1", P::PHASE_CONSTRUCTION,
                                         P::PHASE_ACCELERATION, when);
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.message().find("requires a committee decision"), absl::string_view::npos);
  // Consolidation onwards needs none.
  EXPECT_TRUE(CheckCommitteeGate(nullptr, "s1", P::PHASE_CONSOLIDATION, P::PHASE_OPERATED, when).ok());
  auto d = Decision(v1::COMMITTEE_OUTCOME_GO);
  EXPECT_FALSE(CheckCommitteeGate(&d, "other", P::PHASE_CONSTRUCTION, P::PHASE_ACCELERATION, when).ok());
  auto later = Decision(v1::COMMITTEE_OUTCOME_GO, "2024-04-01");
  EXPECT_NE(CheckCommitteeGate(&later, "s1", P::PHASE_CONSTRUCTION, P::PHASE_ACCELERATION, when)
                .message().find("after the phase change"), absl::string_view::npos);
  d.set_used(true);
  EXPECT_NE(CheckCommitteeGate(&d, "s1", P::PHASE_CONSTRUCTION, P::PHASE_ACCELERATION, when)
                .message().find("already used"), absl::string_view::npos);
  auto imported = Decision(v1::COMMITTEE_OUTCOME_UNSPECIFIED);
  EXPECT_FALSE(CheckCommitteeGate(&imported, "s1", P::PHASE_CONSTRUCTION, P::PHASE_ACCELERATION, when).ok());
}

TEST(EffectiveDate, BackDatingAllowedFutureAndOverlapRefused) {
  const absl::Time now = Day("2026-11-28");
  const absl::Time phase_start = Day("2025-01-01");
  EXPECT_TRUE(CheckEffectiveDate(Day("2025-03-12"), phase_start, now).ok());  // back-dated
  EXPECT_TRUE(CheckEffectiveDate(now + absl::Hours(23), phase_start, now).ok());
  absl::Status future = CheckEffectiveDate(now + absl::Hours(25), phase_start, now);
  EXPECT_EQ(future.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(future.message(), "effective_date: more than one day in the future");
  absl::Status overlap = CheckEffectiveDate(Day("2024-12-31"), phase_start, now);
  EXPECT_EQ(overlap.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(overlap.message().find("2025-01-01"), absl::string_view::npos);
}

TEST(PhaseHistory, ChangeClosesThePreviousPeriod) {
  v1::Startup s;
  ApplyPhaseChange(&s, P::PHASE_INVESTIGATION, Day("2024-01-01"), "", "");
  ApplyPhaseChange(&s, P::PHASE_CONSTRUCTION, Day("2024-04-01"), "d1", "GO");
  ASSERT_EQ(s.phases_size(), 2);
  EXPECT_EQ(FromTimestamp(s.phases(0).end()), Day("2024-04-01"));
  EXPECT_FALSE(s.phases(1).has_end());
  EXPECT_EQ(s.phases(1).decision_id(), "d1");
  EXPECT_EQ(s.phase(), P::PHASE_CONSTRUCTION);
}

TEST(Staleness, OverdueFromPhaseLengthAndMilestoneGap) {
  StalenessPolicy policy;
  v1::Startup s;
  ApplyPhaseChange(&s, P::PHASE_INVESTIGATION, Day("2026-01-10"), "", "");
  *s.mutable_last_milestone_at() = ToTimestamp(Day("2026-03-01"));
  EXPECT_TRUE(OverdueReasons(s, Day("2026-04-09"), policy).empty());  // 3 months not yet over
  auto late = OverdueReasons(s, Day("2026-04-11"), policy);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0], "phase INVESTIGATION has run past its expected 3 months");
  // Move on to construction: 12 months allowed, but no milestone since March.
  ApplyPhaseChange(&s, P::PHASE_CONSTRUCTION, Day("2026-04-01"), "", "");
  auto quiet = OverdueReasons(s, Day("2026-09-02"), policy);
  ASSERT_EQ(quiet.size(), 1u);
  EXPECT_EQ(quiet[0], "no milestone for 6 months");
  policy.milestone_gap_months = 12;  // configurable
  EXPECT_TRUE(OverdueReasons(s, Day("2026-09-02"), policy).empty());
  // Terminal phases are never overdue.
  ApplyPhaseChange(&s, P::PHASE_ABANDONED, Day("2026-10-01"), "", "");
  EXPECT_TRUE(OverdueReasons(s, Day("2030-01-01"), policy).empty());
  // No milestone at all: counted from the first phase.
  v1::Startup fresh;
  ApplyPhaseChange(&fresh, P::PHASE_CONSOLIDATION, Day("2026-01-01"), "", "");
  EXPECT_EQ(OverdueReasons(fresh, Day("2026-07-02"), StalenessPolicy{}).size(), 1u);
}

TEST(Validation, MilestoneAndDecisionFieldsNamed) {
  const absl::Time now = Day("2026-11-28");
  v1::PushMilestoneRequest m;
  m.set_idempotency_key("ci-123");
  m.set_title("Mise en production");
  *m.mutable_date() = ToTimestamp(Day("2026-11-20"));
  m.set_kind(v1::MILESTONE_KIND_PRODUCT_LAUNCH);
  EXPECT_TRUE(ValidateMilestone(m, now).ok());
  auto bad = m;
  bad.clear_idempotency_key();
  EXPECT_EQ(ValidateMilestone(bad, now).message().substr(0, 16), "idempotency_key:");
  bad = m;
  bad.set_kind(v1::MILESTONE_KIND_KPI);
  EXPECT_EQ(ValidateMilestone(bad, now).message(), "kpis: a KPI milestone needs at least one value");
  bad = m;
  bad.add_links("ftp://x");
  EXPECT_EQ(ValidateMilestone(bad, now).message().substr(0, 9), "links[0]:");
  bad = m;
  *bad.mutable_date() = ToTimestamp(now + absl::Hours(48));
  EXPECT_EQ(ValidateMilestone(bad, now).message(), "date: more than one day in the future");

  v1::RecordCommitteeDecisionRequest d;
  *d.mutable_date() = ToTimestamp(Day("2026-11-01"));
  d.set_outcome(v1::COMMITTEE_OUTCOME_GO);
  d.set_rationale("Usage avéré");
  d.add_participants("DGS");
  EXPECT_TRUE(ValidateDecision(d, now).ok());
  auto nd = d;
  nd.clear_participants();
  EXPECT_EQ(ValidateDecision(nd, now).message(), "participants: at least one participant");
  nd = d;
  nd.set_outcome(v1::COMMITTEE_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(ValidateDecision(nd, now).message().substr(0, 8), "outcome:");
}

TEST(Slug, FromFrenchNames) {
  EXPECT_EQ(Slugify("Dossier unique : aides sociales"), "dossier-unique-aides-sociales");
  EXPECT_EQ(Slugify("Élèves & Cantine à l'école"), "eleves-cantine-a-l-ecole");
  EXPECT_TRUE(IsValidSlug("a-b_c.d1"));
  EXPECT_FALSE(IsValidSlug("A b"));
  EXPECT_FALSE(IsValidSlug("auxAJ")) << "a new start-up's slug is lower-case";
}

TEST(Import, AnImportedIdKeepsItsCapitalLetters) {
  // beta.gouv.fr's `auxAJ`: imported as it is, so that the source's id round-trips.
  const ImportLine l = ParseImportLine(
      R"({"slug":"auxAJ","title":"Aux AJ","mission":"m","incubator":"dinum","phases":[{"name":"investigation","start":"2024-02-01"}]})",
      1, Day("2026-11-28"));
  EXPECT_EQ(l.rejection, "");
  EXPECT_EQ(l.details.startup().slug(), "auxAJ");
  EXPECT_TRUE(IsValidImportedId("auxAJ"));
  EXPECT_FALSE(IsValidImportedId("aux AJ"));
  EXPECT_FALSE(IsValidImportedId("auxÀJ"));
}

TEST(Slug, LigaturesAndOtherLatinLettersFold) {
  EXPECT_EQ(Slugify("Cœur de métier — Æquo"), "coeur-de-metier-aequo");
  EXPECT_EQ(Slugify("  --  "), "");
}

TEST(Search, FoldsCaseAccentsAndPunctuation) {
  EXPECT_EQ(FoldForSearch("L'Église, À PARIS !"), "l eglise a paris");
  EXPECT_EQ(FoldForSearch("ÇA×ÿ"), "ca y");  // × is not a letter
  EXPECT_EQ(FoldForSearch(""), "");
  v1::Startup s;
  s.set_name("Démarches Simplifiées");
  s.set_slug("ds");
  s.set_mission("Dématérialiser les procédures administratives");
  EXPECT_TRUE(MatchesQuery(s, {"demarches"}));
  EXPECT_TRUE(MatchesQuery(s, {"simpl", "procedures"}));     // every word, anywhere
  EXPECT_FALSE(MatchesQuery(s, {"demarches", "cantine"}));  // one word missing
  EXPECT_TRUE(MatchesQuery(s, {}));
}

TEST(Search, SortsByEachKeyWithNameAsTieBreak) {
  auto make = [](std::string name, v1::Phase phase, int64_t milestone) {
    v1::Startup s;
    s.set_id(name);
    s.set_name(std::move(name));
    s.set_phase(phase);
    s.mutable_last_milestone_at()->set_seconds(milestone);
    return s;
  };
  const std::vector<v1::Startup> base = {make("écoles", v1::PHASE_CONSTRUCTION, 30),
                                         make("Zéro papier", v1::PHASE_INVESTIGATION, 10),
                                         make("aides", v1::PHASE_CONSTRUCTION, 20)};
  auto names = [](const std::vector<v1::Startup>& v) {
    std::vector<std::string> n;
    for (const auto& s : v) n.push_back(s.name());
    return n;
  };
  auto v = base;
  ASSERT_TRUE(SortStartups(&v, "").ok());
  EXPECT_EQ(names(v), (std::vector<std::string>{"aides", "écoles", "Zéro papier"}));  // folded, not bytes
  v = base;
  ASSERT_TRUE(SortStartups(&v, "name desc").ok());
  EXPECT_EQ(names(v), (std::vector<std::string>{"Zéro papier", "écoles", "aides"}));
  v = base;
  ASSERT_TRUE(SortStartups(&v, "phase desc").ok());  // ties by name, ascending
  EXPECT_EQ(names(v), (std::vector<std::string>{"aides", "écoles", "Zéro papier"}));
  v = base;
  ASSERT_TRUE(SortStartups(&v, "last_milestone_at").ok());
  EXPECT_EQ(names(v), (std::vector<std::string>{"Zéro papier", "aides", "écoles"}));
  v = base;
  const absl::Status bad = SortStartups(&v, "budget");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message().substr(0, 9), "order_by:");
}

std::vector<std::string> Rules(const ImportLine& l) {
  std::vector<std::string> r;
  for (const auto& w : l.warnings) r.push_back(w.rule());
  return r;
}

TEST(Import, CleanLineHasNoWarning) {
  const ImportLine l = ParseImportLine(
      R"({"slug":"dossier-unique","title":"Dossier unique","mission":"Un seul dossier",
          "incubator":"lab06","sponsors":["cd06"],
          "phases":[{"name":"investigation","start":"2021-02-01","end":"2021-05-26"},
                    {"name":"Construction","start":"2021-05-26"}],
          "events":[{"name":"committee","date":"2021-05-20","comment":"GO"},
                    {"name":"product_launch","date":"2021-09-01"}],
          "links":{"repository":"https://git.example/dossier"}})",
      1, Day("2026-11-28"));
  EXPECT_TRUE(l.rejection.empty()) << l.rejection;
  EXPECT_TRUE(l.warnings.empty()) << l.warnings[0].rule();
  const auto& s = l.details.startup();
  EXPECT_EQ(s.phase(), P::PHASE_CONSTRUCTION);
  ASSERT_EQ(s.phases_size(), 2);
  EXPECT_EQ(FromTimestamp(s.phases(0).end()), Day("2021-05-26"));
  EXPECT_EQ(s.links().repository(), "https://git.example/dossier");
  ASSERT_EQ(l.details.decisions_size(), 1);
  EXPECT_EQ(l.details.decisions(0).rationale(), "GO");
  ASSERT_EQ(l.details.milestones_size(), 1);
  EXPECT_EQ(l.details.milestones(0).kind(), v1::MILESTONE_KIND_PRODUCT_LAUNCH);
}

TEST(Import, UnimportableLinesAreRejectedWithTheReason) {
  const absl::Time now = Day("2026-11-28");
  EXPECT_NE(ParseImportLine("{not json", 2, now).rejection.find("not a JSON object"), std::string::npos);
  EXPECT_EQ(ParseImportLine(R"({"title":"x","phases":[]})", 3, now).rejection, "no slug");
  EXPECT_EQ(ParseImportLine(R"({"slug":"x","title":"x"})", 4, now).rejection,
            "no phase: 'phases' is missing or not a list");
  EXPECT_EQ(ParseImportLine(R"({"slug":"x","phases":[{"name":"lunar","start":"2021-01-01"}]})", 5, now)
                .rejection,
            "no phase: none of the listed phases could be read");
  EXPECT_NE(ParseImportLine(R"({"slug":"Pas Un Slug","phases":[]})", 6, now).rejection.find("not a slug"),
            std::string::npos);
}

TEST(Import, MessyLineIsNormalisedAndEveryRuleReported) {
  const ImportLine l = ParseImportLine(
      R"({"slug":"messy","title":"Messy","incubator":"lab06","foo":1,
          "phases":[{"name":"construction","start":"2021-06-01","end":"2021-08-01"},
                    {"name":"investigation","start":"2021-01-10","end":"2021-07-01"},
                    {"name":"acceleration","start":"2022-03-01"},
                    {"name":"Perennisation","start":"2022-03-01","end":"2023-01-01"},
                    {"name":"lunar","start":"2022-01-01"},
                    {"name":"opere","start":"2021-13-45"},
                    {"name":"transfere","start":"2031-01-01"}],
          "events":[{"name":"party","date":"2021-07-01"},
                    {"name":"product_launch","date":"bad-date"}]})",
      7, Day("2026-11-28"));
  ASSERT_TRUE(l.rejection.empty()) << l.rejection;
  EXPECT_EQ(Rules(l), (std::vector<std::string>{
                          "unknown_field", "missing_field", "unknown_phase", "invalid_date",
                          "future_start", "unsorted_phases", "overlap", "gap", "same_start_date",
                          "gap", "unknown_event", "invalid_date"}));
  for (const auto& w : l.warnings) {
    EXPECT_EQ(w.slug(), "messy");
    EXPECT_EQ(w.line(), 7);
  }
  EXPECT_EQ(l.warnings[1].detail(), "mission is missing");
  EXPECT_EQ(l.warnings[6].detail(),
            "INVESTIGATION ends 2021-07-01 after CONSTRUCTION starts 2021-06-01: end moved to 2021-06-01");
  EXPECT_EQ(l.warnings[7].detail(),
            "212 days between CONSTRUCTION (ended 2021-08-01) and ACCELERATION (started 2022-03-01)");
  // Normalised history: sorted, alias mapped, overlap cut, missing end filled, nothing invented.
  const auto& s = l.details.startup();
  ASSERT_EQ(s.phases_size(), 5);
  const P want[] = {P::PHASE_INVESTIGATION, P::PHASE_CONSTRUCTION, P::PHASE_ACCELERATION,
                    P::PHASE_CONSOLIDATION, P::PHASE_TRANSFERRED};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.phases(i).phase(), want[i]) << i;
  EXPECT_EQ(FromTimestamp(s.phases(0).end()), Day("2021-06-01"));
  EXPECT_EQ(FromTimestamp(s.phases(2).end()), Day("2022-03-01"));  // filled from the next start
  EXPECT_FALSE(s.phases(4).has_end());
  EXPECT_EQ(s.phase(), P::PHASE_TRANSFERRED);
  EXPECT_TRUE(s.mission().empty());
}

TEST(Import, IrregularHistoryAndWrongTypesAreReported) {
  const ImportLine l = ParseImportLine(
      R"({"slug":"irregular","title":"I","mission":"m","incubator":"x","sponsors":"dinum",
          "phases":[{"name":"investigation","start":"2020-01-01"},
                    {"name":"acceleration","start":"2020-06-01","end":"2021-01-01"}]})",
      8, Day("2026-11-28"));
  EXPECT_EQ(Rules(l), (std::vector<std::string>{"invalid_field", "irregular_transition",
                                                 "ended_without_successor"}));
  EXPECT_EQ(l.details.startup().phase(), P::PHASE_ACCELERATION);
}

TEST(Import, PhaseNamesAndAliases) {
  EXPECT_EQ(ParseImportPhaseName("success"), P::PHASE_CONSOLIDATION);
  EXPECT_EQ(ParseImportPhaseName("TRANSFERRED"), P::PHASE_TRANSFERRED);
  EXPECT_EQ(ParseImportPhaseName("transfer"), P::PHASE_TRANSFERRED);
  EXPECT_EQ(ParseImportPhaseName("operated"), P::PHASE_OPERATED);
  EXPECT_EQ(ParseImportPhaseName("abandoned"), P::PHASE_ABANDONED);
  EXPECT_EQ(ParseImportPhaseName("Abandon-Investigation"), P::PHASE_ABANDONED_IN_INVESTIGATION);
  EXPECT_EQ(ParseImportPhaseName("alpha"), P::PHASE_UNSPECIFIED);
}

TEST(Stats, MedianAndP90OfCompletedPeriods) {
  EXPECT_DOUBLE_EQ(Percentile({5, 1, 3, 2, 4}, 0.5), 3);
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9), 9);
  std::vector<v1::Startup> all(3);
  ApplyPhaseChange(&all[0], P::PHASE_INVESTIGATION, Day("2024-01-01"), "", "");
  ApplyPhaseChange(&all[0], P::PHASE_CONSTRUCTION, Day("2024-01-31"), "", "");  // 30 days
  ApplyPhaseChange(&all[1], P::PHASE_INVESTIGATION, Day("2024-01-01"), "", "");
  ApplyPhaseChange(&all[1], P::PHASE_CONSTRUCTION, Day("2024-04-10"), "", "");  // 100 days
  ApplyPhaseChange(&all[1], P::PHASE_ACCELERATION, Day("2025-02-01"), "", "");
  ApplyPhaseChange(&all[2], P::PHASE_INVESTIGATION, Day("2026-11-01"), "", "");
  auto st = ComputeStats(all, Day("2026-11-28"), StalenessPolicy{});
  EXPECT_EQ(st.total(), 3);
  EXPECT_EQ(st.startups_by_phase().at("CONSTRUCTION"), 1);
  EXPECT_EQ(st.startups_by_phase().at("ACCELERATION"), 1);
  EXPECT_EQ(st.startups_by_phase().at("INVESTIGATION"), 1);
  ASSERT_GE(st.durations_size(), 1);
  EXPECT_EQ(st.durations(0).phase(), P::PHASE_INVESTIGATION);
  EXPECT_EQ(st.durations(0).completed(), 2);
  EXPECT_DOUBLE_EQ(st.durations(0).median_days(), 30);
  EXPECT_DOUBLE_EQ(st.durations(0).p90_days(), 100);
  ASSERT_EQ(st.transitions_per_year_size(), 2);
  EXPECT_EQ(st.transitions_per_year(0).year(), 2024);
  EXPECT_EQ(st.transitions_per_year(0).transitions(), 2);
  EXPECT_EQ(st.transitions_per_year(1).year(), 2025);
  // Both older start-ups have had no milestone for 6 months.
  EXPECT_EQ(st.overdue(), 2);
}

// An indicator is public text (a milestone's, the fiche's): no control characters in it.
TEST(Kpi, NamedFiniteAndWithoutControlCharacters) {
  v1::Kpi k;
  k.set_name("Familles accompagnées");
  k.set_value(100);
  EXPECT_TRUE(ValidateKpi("kpis[0]", k).ok());
  k.set_unit(std::string("famil\x0fles"));
  EXPECT_EQ(ValidateKpi("kpis[0]", k).message(), "kpis[0].unit: must not contain control characters");
  k.set_unit("familles");
  k.set_value(std::numeric_limits<double>::infinity());
  EXPECT_EQ(ValidateKpi("kpis[2]", k).message(), "kpis[2].value: must be a finite number");
}

}  // namespace
}  // namespace pep::incubation
