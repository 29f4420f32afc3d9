// What the ledger says to people: French one-line summaries and changed fields in timeline
// order, feedback folded by day, the bi-temporal as-of fold over an imported (back-dated)
// portfolio, and the lineage document.
#include "services/audit/audit_core.h"

#include "common/clock.h"
#include "common/proto_time.h"
#include "common/uuid.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"

namespace pep::audit {
namespace {

namespace iv1 = pepiniere::ideas::v1;
namespace nv1 = pepiniere::incubation::v1;
namespace fv1 = pepiniere::feedback::v1;

absl::Time At(const std::string& rfc3339) {
  absl::Time t;
  EXPECT_TRUE(ParseRfc3339(rfc3339, &t)) << rfc3339;
  return t;
}

class Lineage {
 public:
  // Appends a record in chain order; `effective` defaults to `recorded`.
  template <typename M>
  void Add(const std::string& aggregate, const M& payload, const std::string& recorded,
           const std::string& effective = "", const std::string& actor = "agent-7") {
    LedgerRecord r;
    r.subject = "idea-1";
    r.subject_seq = static_cast<int64_t>(records.size()) + 1;
    r.envelope.time = At(recorded);
    r.envelope.effective_time = effective.empty() ? r.envelope.time : At(effective);
    r.envelope.id = NewUuidV7(r.envelope.time);
    r.envelope.type = std::string(payload.GetDescriptor()->full_name());
    r.envelope.subject = aggregate;
    r.envelope.actor = actor;
    r.envelope.correlation_id = "idea-1";
    r.envelope.aggregate_version = ++versions[aggregate];
    r.payload = payload.SerializeAsString();
    r.leaf = std::string(32, static_cast<char>(records.size()));
    r.log_index = static_cast<int64_t>(records.size());
    records.push_back(std::move(r));
  }
  std::vector<LedgerRecord> records;
  std::map<std::string, int64_t> versions;
};

fv1::FeedbackReceived Answer(fv1::Satisfaction s, int nps) {
  fv1::FeedbackReceived ev;
  ev.mutable_feedback()->set_id(NewUuidV7(absl::Now()));
  ev.mutable_feedback()->set_startup_id("startup-1");
  ev.mutable_feedback()->set_satisfaction(s);
  ev.mutable_feedback()->set_nps(nps);
  return ev;
}

// The whole path of one idea: submitted, scored twice, selected, start-up, committee, phase,
// milestone, three answers over two days.
Lineage IdeaToProduct() {
  Lineage l;
  iv1::IdeaSubmitted sub;
  sub.mutable_idea()->set_id("idea-1");
  sub.mutable_idea()->set_challenge_id("challenge-1");
  sub.mutable_idea()->set_title("Simplifier les aides");
  sub.mutable_idea()->set_author_name("Marie Curie");
  sub.mutable_idea()->set_department("DRH");
  l.Add("idea-1", sub, "2025-01-10T09:00:00Z", "", "agent-42");
  for (auto [juror, score] : {std::pair{"juror-a", 4.0}, std::pair{"juror-b", 3.0}}) {
    iv1::IdeaScored sc;
    sc.mutable_scorecard()->set_idea_id("idea-1");
    sc.mutable_scorecard()->set_juror_id(juror);
    sc.mutable_scorecard()->set_weighted_score(score);
    l.Add("idea-1", sc, "2025-02-01T10:00:00Z", "", juror);
  }
  iv1::IdeaSelected sel;
  sel.set_idea_id("idea-1");
  sel.mutable_decision()->set_outcome(iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION);
  sel.mutable_decision()->set_rationale("Fort impact");
  l.Add("idea-1", sel, "2025-02-15T10:00:00Z", "", "coordo-1");
  nv1::StartupCreated created;
  created.mutable_startup()->set_id("startup-1");
  created.mutable_startup()->set_name("Aides Faciles");
  created.mutable_startup()->set_phase(nv1::PHASE_INVESTIGATION);
  auto* first = created.mutable_startup()->add_phases();
  first->set_phase(nv1::PHASE_INVESTIGATION);
  *first->mutable_start() = ToTimestamp(At("2025-02-15T10:00:00Z"));
  l.Add("startup-1", created, "2025-02-15T10:00:01Z", "2025-02-15T10:00:00Z", "coordo-1");
  nv1::CommitteeDecisionRecorded dec;
  dec.mutable_decision()->set_id("decision-1");
  *dec.mutable_decision()->mutable_date() = ToTimestamp(At("2025-03-12T00:00:00Z"));
  dec.mutable_decision()->set_outcome(nv1::COMMITTEE_OUTCOME_GO);
  l.Add("startup-1", dec, "2025-03-12T15:00:00Z", "2025-03-12T00:00:00Z", "coordo-1");
  nv1::PhaseChanged pc;
  pc.set_startup_id("startup-1");
  pc.set_from(nv1::PHASE_INVESTIGATION);
  pc.set_to(nv1::PHASE_CONSTRUCTION);
  pc.set_decision_id("decision-1");
  *pc.mutable_effective_date() = ToTimestamp(At("2025-03-13T00:00:00Z"));
  l.Add("startup-1", pc, "2025-03-12T15:05:00Z", "2025-03-13T00:00:00Z", "coordo-1");
  nv1::MilestonePushed ms;
  ms.mutable_milestone()->set_title("mise en production");
  ms.mutable_milestone()->set_kind(nv1::MILESTONE_KIND_PRODUCT_LAUNCH);
  *ms.mutable_milestone()->mutable_date() = ToTimestamp(At("2025-06-01T00:00:00Z"));
  l.Add("startup-1", ms, "2025-06-01T08:00:00Z", "2025-06-01T00:00:00Z", "team-ci");
  l.Add("fb-1", Answer(fv1::SATISFACTION_GOOD, 10), "2025-06-02T09:00:00Z", "", "public");
  l.Add("fb-2", Answer(fv1::SATISFACTION_MEDIUM, 5), "2025-06-02T17:00:00Z", "", "public");
  l.Add("fb-3", Answer(fv1::SATISFACTION_BAD, 8), "2025-06-03T11:00:00Z", "", "public");
  return l;
}

TEST(Timeline, EveryStepInOrderWithFrenchSummariesAndChanges) {
  const Lineage l = IdeaToProduct();
  auto t = BuildTimeline("idea-1", l.records, /*individual_feedback=*/false);
  ASSERT_EQ(t.entries_size(), 10);  // 8 events + 2 feedback days
  std::vector<std::string> types;
  for (const auto& e : t.entries()) types.push_back(e.type());
  EXPECT_EQ(types, (std::vector<std::string>{
                       "IdeaSubmitted", "IdeaScored", "IdeaScored", "IdeaSelected",
                       "StartupCreated", "CommitteeDecisionRecorded", "PhaseChanged",
                       "MilestonePushed", "FeedbackDaily", "FeedbackDaily"}));
  EXPECT_EQ(t.entries(0).summary(), "Idée déposée par Marie Curie (DRH) : « Simplifier les aides »");
  EXPECT_EQ(t.entries(0).actor(), "agent-42");
  EXPECT_EQ(t.entries(1).summary(), "Évaluation du juré juror-a : 4/5");
  EXPECT_EQ(t.entries(3).summary(), "Idée retenue pour expérimentation : Fort impact");
  ASSERT_EQ(t.entries(3).changes_size(), 1);
  EXPECT_EQ(t.entries(3).changes(0).old_value(), "déposée");
  EXPECT_EQ(t.entries(3).changes(0).new_value(), "retenue pour expérimentation");
  EXPECT_EQ(t.entries(4).summary(), "Start-up créée : Aides Faciles, en investigation");
  EXPECT_EQ(t.entries(5).summary(), "Comité du 12/03/2025 : GO");
  EXPECT_EQ(t.entries(6).summary(), "Passage en construction (comité du 12/03/2025, GO)");
  ASSERT_EQ(t.entries(6).changes_size(), 1);
  EXPECT_EQ(t.entries(6).changes(0).field(), "phase");
  EXPECT_EQ(t.entries(6).changes(0).old_value(), "investigation");
  EXPECT_EQ(t.entries(6).changes(0).new_value(), "construction");
  EXPECT_EQ(t.entries(7).summary(), "Jalon : mise en production");
  EXPECT_EQ(t.entries(8).feedback_day().date(), "2025-06-02");
  EXPECT_EQ(t.entries(8).feedback_day().answers(), 2);
  EXPECT_DOUBLE_EQ(t.entries(8).feedback_day().satisfaction_score(), 7.5);  // (10 + 5) / 2
  EXPECT_EQ(t.entries(8).summary(), "Avis usagers du 02/06/2025 : 2 réponses, satisfaction 7,5/10");
  EXPECT_EQ(t.entries(9).feedback_day().answers(), 1);
  EXPECT_DOUBLE_EQ(t.entries(9).feedback_day().satisfaction_score(), 0);

  auto each = BuildTimeline("idea-1", l.records, /*individual_feedback=*/true);
  ASSERT_EQ(each.entries_size(), 11);
  EXPECT_EQ(each.entries(10).summary(), "Avis usager : satisfaction mauvaise");
}

// Issue 26: a product team reads its lineage without each juror's name, score and comment
// (pep-ideas shows those to the jury and coordinators only); the entries stay, with their hashes.
TEST(Timeline, AProductTeamDoesNotReadTheJurysScorecards) {
  const Lineage l = IdeaToProduct();
  auto t = BuildTimeline("idea-1", l.records, false);
  const std::string full = t.SerializeAsString();
  ASSERT_NE(full.find("juror-a"), std::string::npos);
  WithholdJuryDetail(t);
  EXPECT_EQ(t.SerializeAsString().find("juror-a"), std::string::npos);
  EXPECT_EQ(t.SerializeAsString().find("juror-b"), std::string::npos);
  ASSERT_EQ(t.entries_size(), 10);
  EXPECT_EQ(t.entries(1).type(), "IdeaScored");
  EXPECT_FALSE(t.entries(1).hash().empty());
  EXPECT_EQ(t.entries(1).summary(), "Évaluation d'un juré (le détail est réservé au jury et aux coordinateurs)");
  EXPECT_EQ(t.entries(4).summary(), "Start-up créée : Aides Faciles, en investigation") << "the rest as it was";
  auto lineage = BuildLineage("idea-1", l.records, {});
  ASSERT_GT(lineage.idea().scores_size(), 0);
  const double mean = lineage.idea().mean_score();
  WithholdJuryDetail(lineage);
  EXPECT_EQ(lineage.idea().scores_size(), 0);
  EXPECT_DOUBLE_EQ(lineage.idea().mean_score(), mean);
  for (const LedgerRecord& r : l.records) {
    EXPECT_EQ(JuryOnly(r), r.envelope.type == "pepiniere.ideas.v1.IdeaScored");
  }
}

TEST(Timeline, BuilderFedInAnyOrderGivesTheSameTimeline) {
  const Lineage l = IdeaToProduct();
  for (const bool individual : {false, true}) {
    TimelineBuilder b("idea-1", individual);
    for (auto it = l.records.rbegin(); it != l.records.rend(); ++it) ASSERT_TRUE(b.Add(*it).ok());
    EXPECT_EQ(b.Build().SerializeAsString(),
              BuildTimeline("idea-1", l.records, individual).SerializeAsString())
        << "individual_feedback=" << individual;
  }
}

TEST(Timeline, IndividualAnswersAreCappedWithTheFieldNamed) {
  const Lineage l = IdeaToProduct();  // three answers
  TimelineBuilder b("idea-1", /*individual_feedback=*/true, /*max_individual=*/2);
  absl::Status last;
  for (const auto& r : l.records) {
    last = b.Add(r);
    if (!last.ok()) break;
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StartsWith(last.message(), "individual_feedback:")) << last.message();
  TimelineBuilder daily("idea-1", /*individual_feedback=*/false, /*max_individual=*/0);
  for (const auto& r : l.records) EXPECT_TRUE(daily.Add(r).ok()) << "daily aggregates are not capped";
}

TEST(Timeline, EffectiveTimeOrdersBackDatedRecordsBeforeLaterOnes) {
  Lineage l;
  nv1::MilestonePushed late;
  late.mutable_milestone()->set_title("recorded first, happened later");
  l.Add("startup-1", late, "2025-01-01T00:00:00Z", "2025-05-01T00:00:00Z");
  nv1::MilestonePushed early;
  early.mutable_milestone()->set_title("recorded later, happened earlier");
  l.Add("startup-1", early, "2025-02-01T00:00:00Z", "2024-12-01T00:00:00Z");
  auto t = BuildTimeline("idea-1", l.records, false);
  ASSERT_EQ(t.entries_size(), 2);
  EXPECT_EQ(t.entries(0).summary(), "Jalon : recorded later, happened earlier");
  ASSERT_EQ(t.entries(1).changes_size(), 1);  // the milestone before it is the old value
  EXPECT_EQ(t.entries(1).changes(0).old_value(), "recorded later, happened earlier");
}

// An imported start-up: recorded on 2025-11-01, its phases back-dated to 2022-2023; a later
// correction (recorded 2025-12-01) moves the start of construction.
Lineage Imported() {
  Lineage l;
  nv1::StartupCreated created;
  created.set_imported(true);
  auto* st = created.mutable_startup();
  st->set_id("startup-9");
  st->set_name("Dossier Simple");
  st->set_phase(nv1::PHASE_INVESTIGATION);
  auto* p = st->add_phases();
  p->set_phase(nv1::PHASE_INVESTIGATION);
  *p->mutable_start() = ToTimestamp(At("2022-01-10T00:00:00Z"));
  l.Add("startup-9", created, "2025-11-01T10:00:00Z", "2022-01-10T00:00:00Z", "importer");
  for (auto [from, to, when] :
       {std::tuple{nv1::PHASE_INVESTIGATION, nv1::PHASE_CONSTRUCTION, "2022-09-01T00:00:00Z"},
        std::tuple{nv1::PHASE_CONSTRUCTION, nv1::PHASE_ACCELERATION, "2023-06-01T00:00:00Z"}}) {
    nv1::PhaseChanged pc;
    pc.set_startup_id("startup-9");
    pc.set_from(from);
    pc.set_to(to);
    pc.set_imported(true);
    *pc.mutable_effective_date() = ToTimestamp(At(when));
    l.Add("startup-9", pc, "2025-11-01T10:00:00Z", when, "importer");
  }
  nv1::TeamMemberAdded add;
  add.set_startup_id("startup-9");
  add.mutable_member()->set_id("m-1");
  add.mutable_member()->set_name("Ada");
  add.mutable_member()->set_role("dev");
  *add.mutable_member()->mutable_start() = ToTimestamp(At("2022-02-01T00:00:00Z"));
  l.Add("startup-9", add, "2025-11-01T10:00:00Z", "2022-02-01T00:00:00Z", "importer");
  nv1::TeamMemberRemoved rm;
  rm.set_startup_id("startup-9");
  rm.set_member_id("m-1");
  *rm.mutable_end() = ToTimestamp(At("2023-01-01T00:00:00Z"));
  l.Add("startup-9", rm, "2025-11-01T10:00:00Z", "2023-01-01T00:00:00Z", "importer");
  nv1::PhaseHistoryCorrected fix;
  fix.set_startup_id("startup-9");
  for (auto [phase, start] : {std::pair{nv1::PHASE_INVESTIGATION, "2022-01-10T00:00:00Z"},
                              std::pair{nv1::PHASE_CONSTRUCTION, "2022-10-01T00:00:00Z"},
                              std::pair{nv1::PHASE_ACCELERATION, "2023-06-01T00:00:00Z"}}) {
    auto* period = fix.add_phases();
    period->set_phase(phase);
    *period->mutable_start() = ToTimestamp(At(start));
  }
  l.Add("startup-9", fix, "2025-12-01T10:00:00Z", "", "importer");
  return l;
}

TEST(StateAsOf, BackDatedPhasesBeforeInsideAndAfter) {
  const Lineage l = Imported();
  auto before = FoldStateAsOf("startup-9", l.records, At("2021-12-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(before.startup_id(), "");
  EXPECT_EQ(before.phase(), nv1::PHASE_UNSPECIFIED);
  auto inv = FoldStateAsOf("startup-9", l.records, At("2022-03-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(inv.startup_id(), "startup-9");
  EXPECT_EQ(inv.phase(), nv1::PHASE_INVESTIGATION);
  EXPECT_EQ(FromTimestamp(inv.phase_since()), At("2022-01-10T00:00:00Z"));
  ASSERT_EQ(inv.team_size(), 1);
  EXPECT_EQ(inv.team(0).name(), "Ada");
  auto cons = FoldStateAsOf("startup-9", l.records, At("2023-03-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(cons.phase(), nv1::PHASE_CONSTRUCTION);
  EXPECT_EQ(cons.team_size(), 0);  // left on 2023-01-01
  auto acc = FoldStateAsOf("startup-9", l.records, At("2024-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(acc.phase(), nv1::PHASE_ACCELERATION);
  // The phase boundary itself belongs to the new phase.
  EXPECT_EQ(FoldStateAsOf("startup-9", l.records, At("2023-06-01T00:00:00Z"), std::nullopt).phase(),
            nv1::PHASE_ACCELERATION);
}

TEST(StateAsOf, KnownAtHidesWhatWasRecordedLater) {
  const Lineage l = Imported();
  const absl::Time d = At("2022-09-15T00:00:00Z");
  // Today's belief: the correction moved construction to October, so mid-September is still
  // investigation.
  EXPECT_EQ(FoldStateAsOf("startup-9", l.records, d, std::nullopt).phase(),
            nv1::PHASE_INVESTIGATION);
  // What we believed on 15 November 2025, before the correction: construction since 1 Sept.
  auto believed = FoldStateAsOf("startup-9", l.records, d, At("2025-11-15T00:00:00Z"));
  EXPECT_EQ(believed.phase(), nv1::PHASE_CONSTRUCTION);
  EXPECT_EQ(believed.records_hidden_by_known_at(), 1);
  // Before the import nobody knew the start-up.
  auto unknown = FoldStateAsOf("startup-9", l.records, d, At("2025-10-01T00:00:00Z"));
  EXPECT_EQ(unknown.startup_id(), "");
  EXPECT_EQ(unknown.records_hidden_by_known_at(), 6);
}

TEST(StateAsOf, MilestoneAndFeedbackScoresAtTheDate) {
  const Lineage l = IdeaToProduct();
  auto s = FoldStateAsOf("idea-1", l.records, At("2025-06-02T23:59:59Z"), std::nullopt);
  EXPECT_EQ(s.idea_status(), "SELECTED_FOR_EXPERIMENTATION");
  EXPECT_EQ(s.phase(), nv1::PHASE_CONSTRUCTION);
  EXPECT_EQ(s.last_milestone().title(), "mise en production");
  EXPECT_EQ(s.feedback().answers(), 2);
  EXPECT_DOUBLE_EQ(s.feedback().satisfaction_score(), 7.5);
  EXPECT_DOUBLE_EQ(s.feedback().nps(), 0);  // one promoter (10), one detractor (5)
  auto early = FoldStateAsOf("idea-1", l.records, At("2025-01-20T00:00:00Z"), std::nullopt);
  EXPECT_EQ(early.idea_status(), "SUBMITTED");
  EXPECT_EQ(early.startup_id(), "");
  EXPECT_FALSE(early.has_last_milestone());
}

// A renamed start-up, a new team member and an edited idea: the folds read each change's
// fields from a message kept alive for the loop (they once iterated over a temporary's member,
// and pep-audit crashed on GET …/state of any renamed start-up).
TEST(StateAsOf, RenamesTeamAndEditsFoldFromLiveMessages) {
  Lineage l = IdeaToProduct();
  iv1::IdeaEdited edited;
  edited.set_idea_id("idea-1");
  auto* ch = edited.add_changes();
  ch->set_field("title");
  ch->set_old_value("Simplifier les aides");
  ch->set_new_value(std::string(200, 'T'));  // long enough to live on the heap
  l.Add("idea-1", edited, "2025-01-11T09:00:00Z");
  nv1::StartupUpdated upd;
  upd.set_startup_id("startup-1");
  for (int i = 0; i < 20; ++i) {
    auto* c = upd.add_changes();
    c->set_field(i == 19 ? "name" : absl::StrCat("tag", i));
    c->set_new_value(i == 19 ? std::string(300, 'N') : std::string(100, 'x'));
  }
  l.Add("startup-1", upd, "2025-07-01T09:00:00Z");
  auto s = FoldStateAsOf("idea-1", l.records, At("2025-07-02T00:00:00Z"), std::nullopt);
  EXPECT_EQ(s.startup_name(), std::string(300, 'N'));
  auto t = BuildTimeline("idea-1", l.records, false);
  bool seen = false;
  for (const auto& e : t.entries()) {
    for (const auto& c : e.changes()) seen |= c.new_value() == std::string(300, 'N');
  }
  EXPECT_TRUE(seen);
  auto lineage = BuildLineage("idea-1", l.records, {});
  EXPECT_EQ(lineage.records(), static_cast<int64_t>(l.records.size()));
}

TEST(LineageDoc, IdeaStartupPhasesMilestonesFeedback) {
  const Lineage l = IdeaToProduct();
  Lineage challenge;
  iv1::ChallengeCreated cc;
  cc.mutable_challenge()->set_id("challenge-1");
  cc.mutable_challenge()->set_title("Simplification administrative");
  challenge.Add("challenge-1", cc, "2024-12-01T00:00:00Z");
  EXPECT_EQ(ChallengeOf(l.records), "challenge-1");
  auto doc = BuildLineage("idea-1", l.records, challenge.records);
  EXPECT_EQ(doc.idea().title(), "Simplifier les aides");
  EXPECT_EQ(doc.idea().challenge_title(), "Simplification administrative");
  EXPECT_EQ(doc.idea().scores_size(), 2);
  EXPECT_DOUBLE_EQ(doc.idea().mean_score(), 3.5);
  EXPECT_EQ(doc.idea().status(), "SELECTED_FOR_EXPERIMENTATION");
  EXPECT_EQ(doc.idea().decided_by(), "coordo-1");
  EXPECT_EQ(doc.startup().id(), "startup-1");
  ASSERT_EQ(doc.startup().phases_size(), 2);
  EXPECT_EQ(doc.startup().phases(0).end().seconds(), doc.startup().phases(1).start().seconds());
  EXPECT_EQ(doc.startup().phases(1).decision_id(), "decision-1");
  EXPECT_EQ(doc.startup().phase(), nv1::PHASE_CONSTRUCTION);
  ASSERT_EQ(doc.startup().decisions_size(), 1);
  EXPECT_EQ(doc.startup().decisions(0).outcome(), "GO");
  ASSERT_EQ(doc.startup().milestones_size(), 1);
  EXPECT_EQ(doc.feedback().answers(), 3);
  EXPECT_DOUBLE_EQ(doc.feedback().satisfaction_score(), 5);
  EXPECT_EQ(doc.records(), 11);
  EXPECT_EQ(doc.head_hash(), Hex(l.records.back().leaf));

  Lineage direct = Imported();
  auto imported = BuildLineage("startup-9", direct.records, {});
  EXPECT_FALSE(imported.has_idea());
  EXPECT_TRUE(imported.startup().imported());
  ASSERT_EQ(imported.startup().phases_size(), 3);  // the corrected history
  EXPECT_EQ(FromTimestamp(imported.startup().phases(1).start()), At("2022-10-01T00:00:00Z"));
}

}  // namespace
}  // namespace pep::audit
