// pep-audit end to end on a real broker, through the real services: challenge → idea →
// scorecards → selection → start-up → committee → phase → milestone → feedback, then the
// timeline, lineage and verification; the offline script on an export (a withheld payload
// still verifies, a cut or forged file fails); a second replica rebuilding its index from the
// log; tampering and deletion named; as-of over an imported portfolio.
#include <cstdio>
#include <fstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "events/kafka.h"
#include "absl/strings/escaping.h"
#include "harness/harness.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "tlog/note.h"
#include "integration/service_fixture.h"

namespace pep::testing {
namespace {

std::string SourceDir() { return std::getenv("PEP_SOURCE_DIR"); }

// Runs the offline verification script on `lines` with the log's published key; returns its exit
// code and output.
std::pair<int, std::string> VerifyOffline(const std::vector<std::string>& lines, const std::string& dir,
                                          const std::string& key) {
  const std::string in = dir + "/export.jsonl", out = dir + "/verify.out";
  {
    std::ofstream f(in);
    for (const auto& l : lines) f << l << "\n";
  }
  const int rc = RunCommand(absl::StrCat("python3 ", SourceDir(), "/services/audit/tools/verify-ledger.py --key '",
                                         key, "' ", in, " > ", out, " 2>&1"));
  std::ifstream f(out);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return {rc, text};
}

class AuditE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = KafkaBroker::Shared().bootstrap();
    ASSERT_TRUE(events::EnsureTopics(brokers_, events::PepiniereTopics()).ok());
    ideas_ = std::make_unique<IdeasProcess>(brokers_, ideas_dir_.path());
    ideas_->Start();
    incubation_ = std::make_unique<IncubationProcess>(brokers_, incubation_dir_.path());
    incubation_->Start();
    feedback_ = std::make_unique<FeedbackProcess>(brokers_, feedback_dir_.path());
    feedback_->Start();
    audit_ = std::make_unique<AuditProcess>(brokers_, audit_dir_.path());
    audit_->Start();
  }

  static void As(grpc::ClientContext& ctx, const std::string& actor, const std::string& roles,
                 const std::string& scope = "") {
    ctx.AddMetadata("x-pep-actor", actor);
    ctx.AddMetadata("x-pep-roles", roles);
    if (!scope.empty()) ctx.AddMetadata("x-pep-scope", scope);
  }

  av1::Timeline Timeline(const std::string& id, AuditProcess& audit) {
    grpc::ClientContext ctx;
    As(ctx, "inspector-1", "auditor");
    av1::GetTimelineRequest req;
    req.set_id(id);
    av1::Timeline t;
    audit.stub().GetTimeline(&ctx, req, &t);
    return t;
  }

  av1::StateAsOf AsOf(const std::string& id, const std::string& date,
                      std::optional<absl::Time> known_at = std::nullopt, bool waiting = false) {
    absl::Time d;
    EXPECT_TRUE(ParseRfc3339(date, &d));
    grpc::ClientContext ctx;
    av1::GetStateAsOfRequest req;
    req.set_id(id);
    *req.mutable_as_of() = ToTimestamp(d);
    if (known_at) *req.mutable_known_at() = ToTimestamp(*known_at);
    av1::StateAsOf s;
    grpc::Status st = audit_->stub().GetStateAsOf(&ctx, req, &s);
    if (!waiting) {  // while waiting, "not in the ledger yet" is expected
      EXPECT_TRUE(st.ok()) << st.error_message();
    }
    return s;
  }

  std::string brokers_;
  TempDir ideas_dir_, incubation_dir_, feedback_dir_, audit_dir_, scratch_;
  std::unique_ptr<IdeasProcess> ideas_;
  std::unique_ptr<IncubationProcess> incubation_;
  std::unique_ptr<FeedbackProcess> feedback_;
  std::unique_ptr<AuditProcess> audit_;
};

TEST_F(AuditE2ETest, IdeaToFeedbackTimelineLineageVerifyExportRebuildTamper) {
  // --- the life of one idea, through the services ---
  const std::string challenge = ideas_->OpenChallenge(/*quorum=*/2);
  auto& ideas = ideas_->stub();
  iv1::SubmitIdeaResponse sub;
  {
    grpc::ClientContext ctx;
    As(ctx, "agent-camille", "agent");
    ASSERT_TRUE(ideas.SubmitIdea(&ctx, IdeasProcess::Idea(challenge, "Aide unique"), &sub).ok());
  }
  const std::string idea_id = sub.idea().id();
  {
    grpc::ClientContext ctx;
    As(ctx, "coord-1", "coordinator");
    iv1::AssignJurorsRequest a;
    a.set_challenge_id(challenge);
    a.add_juror_ids("juror-a");
    a.add_juror_ids("juror-b");
    iv1::Challenge ch;
    ASSERT_TRUE(ideas.AssignJurors(&ctx, a, &ch).ok());
  }
  for (auto [juror, score] : {std::pair{"juror-a", 5}, std::pair{"juror-b", 3}}) {
    grpc::ClientContext ctx;
    As(ctx, juror, "juror");
    iv1::ScoreIdeaRequest s;
    s.set_idea_id(idea_id);
    auto* cs = s.add_scores();
    cs->set_criterion("impact");
    cs->set_score(score);
    iv1::Scorecard card;
    grpc::Status st = ideas.ScoreIdea(&ctx, s, &card);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  for (auto decision : {iv1::IDEA_STATUS_SHORTLISTED, iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION}) {
    grpc::ClientContext ctx;
    As(ctx, "coord-1", "coordinator");
    iv1::DecideIdeaRequest d;
    d.set_idea_id(idea_id);
    d.set_decision(decision);
    d.set_rationale("Fort impact pour les usagers");
    iv1::Idea idea;
    ASSERT_TRUE(ideas.DecideIdea(&ctx, d, &idea).ok());
  }
  std::string startup_id;
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext ctx;
    incv1::ListStartupsRequest req;
    incv1::ListStartupsResponse resp;
    if (incubation_->stub().ListStartups(&ctx, req, &resp).ok() && resp.startups_size() == 1) {
      startup_id = resp.startups(0).id();
    }
    return !startup_id.empty();
  }, absl::Seconds(60))) << "the selected idea never became a start-up";
  incv1::CommitteeDecision decision;
  {
    grpc::ClientContext ctx;
    As(ctx, "coord-2", "coordinator");
    incv1::RecordCommitteeDecisionRequest d;
    d.set_startup_id(startup_id);
    *d.mutable_date() = ToTimestamp(absl::Now());
    d.set_outcome(incv1::COMMITTEE_OUTCOME_GO);
    d.set_rationale("Problème confirmé");
    d.add_participants("DGS");
    ASSERT_TRUE(incubation_->stub().RecordCommitteeDecision(&ctx, d, &decision).ok());
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "coord-2", "coordinator");
    incv1::ChangePhaseRequest cp;
    cp.set_startup_id(startup_id);
    cp.set_to(incv1::PHASE_CONSTRUCTION);
    cp.set_decision_id(decision.id());
    incv1::Startup out;
    grpc::Status s = incubation_->stub().ChangePhase(&ctx, cp, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "team-ci", "product_team", "startup:" + startup_id);
    incv1::PushMilestoneRequest m;
    m.set_startup_id(startup_id);
    m.set_idempotency_key("release-1");
    m.set_title("mise en production");
    m.set_kind(incv1::MILESTONE_KIND_PRODUCT_LAUNCH);
    *m.mutable_date() = ToTimestamp(absl::Now());
    incv1::Milestone out;
    grpc::Status s = incubation_->stub().PushMilestone(&ctx, m, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  int answers = 0;
  for (auto sat : {fv1::SATISFACTION_GOOD, fv1::SATISFACTION_GOOD, fv1::SATISFACTION_MEDIUM}) {
    ASSERT_TRUE(WaitFor([&] {
      grpc::ClientContext ctx;
      ctx.AddMetadata("x-pep-actor", "public");
      ctx.AddMetadata("x-pep-client-key", absl::StrCat("client-", answers));
      fv1::SubmitFeedbackRequest r;
      r.set_startup_id(startup_id);
      r.set_satisfaction(sat);
      fv1::Feedback f;
      return feedback_->stub().SubmitFeedback(&ctx, r, &f).ok();
    }, absl::Seconds(60))) << "feedback never opened for the start-up in construction";
    ++answers;
  }

  // --- the timeline, by the start-up's id (an alias of the idea's lineage) ---
  av1::Timeline t;
  ASSERT_TRUE(WaitFor([&] {
    t = Timeline(startup_id, *audit_);
    return t.entries_size() > 0 && t.entries(t.entries_size() - 1).type() == "FeedbackDaily" &&
           t.entries(t.entries_size() - 1).feedback_day().answers() == 3;
  }, absl::Seconds(60))) << "the ledger never caught up; last timeline has " << t.entries_size();
  EXPECT_EQ(t.subject(), idea_id);
  std::vector<std::string> steps, actors;
  for (const auto& e : t.entries()) {
    EXPECT_FALSE(e.summary().empty()) << e.type();
    if (e.type() == "CommitteeDecisionRecorded") continue;  // dated by the committee, checked below
    steps.push_back(e.type());
    actors.push_back(e.actor());
  }
  EXPECT_EQ(absl::StrJoin(steps, " "),
            "IdeaSubmitted IdeaScored IdeaScored IdeaShortlisted IdeaSelected StartupCreated "
            "PhaseChanged MilestonePushed FeedbackDaily");
  EXPECT_EQ(absl::StrJoin(actors, " "),
            "agent-camille juror-a juror-b coord-1 coord-1 coord-1 coord-2 team-ci ");
  for (const auto& e : t.entries()) {
    if (e.type() == "IdeaSubmitted") {
      EXPECT_EQ(e.summary(), "Idée déposée par Camille Martin (Direction de l'action sociale) : « Aide unique »");
    } else if (e.type() == "PhaseChanged") {
      EXPECT_EQ(e.summary(), absl::StrCat("Passage en construction (comité du ",
                                          absl::FormatTime("%d/%m/%Y", absl::Now(), absl::UTCTimeZone()),
                                          ", GO)"));
    } else if (e.type() == "MilestonePushed") {
      EXPECT_EQ(e.summary(), "Jalon : mise en production");
    } else if (e.type() == "CommitteeDecisionRecorded") {
      EXPECT_EQ(e.actor(), "coord-2");
    }
  }

  // --- the lineage document; the idea id finds the same lineage ---
  av1::Lineage lineage;
  {
    grpc::ClientContext ctx;
    av1::GetLineageRequest req;
    req.set_id(idea_id);
    ASSERT_TRUE(audit_->stub().GetLineage(&ctx, req, &lineage).ok());
  }
  EXPECT_EQ(lineage.idea().id(), idea_id);
  EXPECT_EQ(lineage.idea().challenge_title(), "Simplification administrative");
  EXPECT_EQ(lineage.idea().scores_size(), 2);
  EXPECT_DOUBLE_EQ(lineage.idea().mean_score(), 4);
  EXPECT_EQ(lineage.idea().status(), "SELECTED_FOR_EXPERIMENTATION");
  EXPECT_EQ(lineage.startup().id(), startup_id);
  ASSERT_EQ(lineage.startup().phases_size(), 2);
  EXPECT_EQ(lineage.startup().phases(1).decision_id(), decision.id());
  EXPECT_EQ(lineage.startup().milestones_size(), 1);
  EXPECT_EQ(lineage.feedback().answers(), 3);

  // --- verification: clean, whole ledger and this lineage; every record has its log index ---
  // A checkpoint signs only what its sequencer committed before it: the seal follows the entries.
  auto sealed = [&] {
    av1::VerifyLedgerResponse v = audit_->Verify();
    return v.tree_size() == static_cast<uint64_t>(v.records());
  };
  ASSERT_TRUE(WaitFor(sealed, absl::Seconds(60)));
  av1::VerifyLedgerResponse clean = audit_->Verify();
  EXPECT_TRUE(clean.ok()) << (clean.broken_size() ? clean.broken(0).reason() : "");
  EXPECT_EQ(clean.gaps_size(), 0) << clean.gaps(0);
  EXPECT_EQ(clean.duplicates_size(), 0);
  EXPECT_GT(clean.tree_size(), 0u);
  EXPECT_EQ(audit_->Verify(startup_id).records(), lineage.records());
  std::set<int64_t> indexes;
  for (const auto& e : t.entries()) {
    if (e.type() != "FeedbackDaily") EXPECT_TRUE(indexes.insert(e.log_index()).second) << e.type();
  }
  EXPECT_EQ(*indexes.begin() >= 0, true);

  // --- one answer moderated: a product team's export withholds that payload ---
  std::string moderated_id;
  {
    grpc::ClientContext ctx;
    As(ctx, "coord-1", "coordinator");
    fv1::ListFeedbackRequest req;
    req.set_startup_id(startup_id);
    fv1::ListFeedbackResponse resp;
    ASSERT_TRUE(feedback_->stub().ListFeedback(&ctx, req, &resp).ok());
    ASSERT_GT(resp.feedback_size(), 0);
    moderated_id = resp.feedback(0).id();
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "coord-1", "coordinator");
    fv1::ModerateFeedbackRequest req;
    req.set_feedback_id(moderated_id);
    req.set_reason("données personnelles");
    fv1::Feedback out;
    grpc::Status s = feedback_->stub().ModerateFeedback(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Two comments on the idea, one hidden by a coordinator: its text is withheld as well.
  std::string hidden_comment;
  for (const char* body : {"Pensez aux collèges", "Un commentaire à masquer"}) {
    grpc::ClientContext ctx;
    As(ctx, "coord-1", "coordinator");
    iv1::AddCommentRequest req;
    req.set_idea_id(idea_id);
    req.set_body(body);
    req.set_author_name("Claire");
    iv1::Comment out;
    grpc::Status s = ideas_->stub().AddComment(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    hidden_comment = out.id();
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "coord-1", "coordinator");
    iv1::HideCommentRequest req;
    req.set_comment_id(hidden_comment);
    req.set_reason("nom d'un collègue");
    iv1::Comment out;
    ASSERT_TRUE(ideas_->stub().HideComment(&ctx, req, &out).ok());
  }
  const int64_t with_moderation = lineage.records() + 1 + 3;
  ASSERT_TRUE(WaitFor([&] { return audit_->Verify(startup_id).records() == with_moderation && sealed(); },
                      absl::Seconds(60)));

  // --- the offline procedure, with the key as published: the export verifies ---
  const std::string key = audit_->Checkpoint().verifier_key();
  ASSERT_FALSE(key.empty());
  const std::vector<std::string> exported = audit_->Export(startup_id);
  ASSERT_EQ(static_cast<int64_t>(exported.size()), with_moderation + 2) << "head + entries + end line";
  EXPECT_NE(exported.back().find(absl::StrCat("\"export_end\":true,\"entries\":", with_moderation)),
            std::string::npos) << exported.back();
  auto [ok_rc, ok_out] = VerifyOffline(exported, scratch_.path(), key);
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find(absl::StrCat("OK: ", with_moderation, " entries of lineage ", idea_id)), std::string::npos) << ok_out;
  // The product team's copy: the moderated answer's and the hidden comment's payloads withheld,
  // and each juror's scorecard (issue 26: the jury's and the coordinators' only), still verified.
  const std::vector<std::string> team = audit_->Export(startup_id, "product_team");
  int withheld = 0, scorecards = 0;
  for (const auto& l : team) {
    const bool scored = l.find("\"ce_type\":\"pepiniere.ideas.v1.IdeaScored\"") != std::string::npos;
    const bool hidden = l.find("\"payload_withheld\":true") != std::string::npos;
    scorecards += scored;
    withheld += hidden;
    if (scored) EXPECT_TRUE(hidden) << l;
  }
  EXPECT_GE(scorecards, 1);
  EXPECT_EQ(withheld, 2 + scorecards);
  auto [team_rc, team_out] = VerifyOffline(team, scratch_.path(), key);
  EXPECT_EQ(team_rc, 0) << team_out;
  EXPECT_NE(team_out.find(absl::StrCat(2 + scorecards, " payloads withheld")), std::string::npos) << team_out;
  // Cut short anywhere — even between entries, where every proof still verifies — it fails.
  for (size_t keep : {exported.size() - 1, exported.size() / 2}) {
    std::vector<std::string> cut(exported.begin(), exported.begin() + keep);
    auto [cut_rc, cut_out] = VerifyOffline(cut, scratch_.path(), key);
    EXPECT_EQ(cut_rc, 1) << keep << " lines: " << cut_out;
    EXPECT_NE(cut_out.find("cut short"), std::string::npos) << cut_out;
  }
  std::vector<std::string> dropped = exported;  // an entry removed, the end line kept
  dropped.erase(dropped.begin() + 2);
  auto [drop_rc, drop_out] = VerifyOffline(dropped, scratch_.path(), key);
  EXPECT_EQ(drop_rc, 1) << drop_out;
  // One changed byte in an entry (a juror's name): its proof no longer leads to the root.
  std::vector<std::string> forged = exported;
  {
    const size_t at = forged[2].find("\"entry\":\"") + 9;
    const size_t end = forged[2].find('"', at);
    std::string entry;
    ASSERT_TRUE(absl::Base64Unescape(forged[2].substr(at, end - at), &entry));
    const size_t juror = entry.find("juror-a");
    ASSERT_NE(juror, std::string::npos) << "the second entry is juror-a's scorecard";
    entry[juror + 6] = 'x';
    forged[2].replace(at, end - at, absl::Base64Escape(entry));
  }
  auto [bad_rc, bad_out] = VerifyOffline(forged, scratch_.path(), key);
  EXPECT_EQ(bad_rc, 1) << bad_out;
  EXPECT_NE(bad_out.find("entry 2 (index"), std::string::npos) << bad_out;
  EXPECT_NE(bad_out.find("inclusion proof does not lead to the signed root"), std::string::npos) << bad_out;
  // Another key than the log's: the checkpoint is refused.
  auto other = tlog::NoteSigner::Generate(audit_->Checkpoint().origin());
  auto [key_rc, key_out] = VerifyOffline(exported, scratch_.path(), other->VerifierKey());
  EXPECT_EQ(key_rc, 1) << key_out;
  EXPECT_NE(key_out.find("checkpoint:"), std::string::npos) << key_out;
  const std::vector<std::string> whole = audit_->Export();
  auto [whole_rc, whole_out] = VerifyOffline(whole, scratch_.path(), key);
  EXPECT_EQ(whole_rc, 0) << whole_out;
  EXPECT_NE(whole_out.find("of the whole log"), std::string::npos) << whole_out;

  const std::string metrics = HttpGet(audit_->metrics_port(), "/metrics");
  EXPECT_EQ(Sample(metrics, "pep_audit_events_total{type=\"IdeaSubmitted\"}"), 1);
  EXPECT_EQ(Sample(metrics, "pep_audit_events_total{type=\"FeedbackReceived\"}"), 3);
  EXPECT_EQ(Sample(metrics, "pep_audit_gaps_total"), 0);
  EXPECT_GT(Sample(metrics, "pep_audit_lag_seconds"), 0) << "now minus the newest indexed event";
  EXPECT_EQ(Sample(metrics, "pep_audit_sequencer_leading"), 1);

  // --- sealed scoring: a commitment on the log, then the reveal; a reveal altered in the index
  // is named by VerifyLedger and by the independent offline verifier ---
  std::string sealed_idea;
  {
    auto as = [](grpc::ClientContext& ctx, const char* who, const char* roles) { As(ctx, who, roles); };
    iv1::CreateChallengeRequest create;
    create.set_title("Défi scellé");
    create.set_theme("collèges");
    auto* crit = create.add_criteria();
    crit->set_name("impact");
    crit->set_weight(1);
    create.set_jury_quorum(1);
    create.set_sealed_scoring(true);
    iv1::Challenge ch;
    {
      grpc::ClientContext ctx;
      as(ctx, "coord-1", "coordinator");
      ASSERT_TRUE(ideas.CreateChallenge(&ctx, create, &ch).ok());
    }
    iv1::ChallengeTransitionRequest id;
    id.set_challenge_id(ch.id());
    {
      grpc::ClientContext ctx;
      as(ctx, "coord-1", "coordinator");
      ASSERT_TRUE(ideas.OpenChallenge(&ctx, id, &ch).ok());
    }
    {
      grpc::ClientContext ctx;
      as(ctx, "coord-1", "coordinator");
      iv1::AssignJurorsRequest a;
      a.set_challenge_id(ch.id());
      a.add_juror_ids("juror-s");
      ASSERT_TRUE(ideas.AssignJurors(&ctx, a, &ch).ok());
    }
    {
      grpc::ClientContext ctx;
      as(ctx, "agent-zoe", "agent");
      iv1::SubmitIdeaResponse r;
      ASSERT_TRUE(ideas.SubmitIdea(&ctx, IdeasProcess::Idea(ch.id(), "Composteurs"), &r).ok());
      sealed_idea = r.idea().id();
    }
    {
      grpc::ClientContext ctx;
      as(ctx, "juror-s", "juror");
      iv1::ScoreIdeaRequest sc;
      sc.set_idea_id(sealed_idea);
      auto* k = sc.add_scores();
      k->set_criterion("impact");
      k->set_score(4);
      iv1::Scorecard card;
      ASSERT_TRUE(ideas.ScoreIdea(&ctx, sc, &card).ok());
    }
    {
      grpc::ClientContext ctx;
      as(ctx, "coord-1", "coordinator");
      grpc::Status st = ideas.RevealScores(&ctx, id, &ch);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
  }
  // IdeaSubmitted, ScorecardCommitted, ScorecardRevealed.
  auto sealed_records = [&] {  // NOT_FOUND until the sequencer has the idea
    grpc::ClientContext ctx;
    audit_->AsGateway(ctx, false);
    av1::VerifyLedgerRequest req;
    req.set_subject(sealed_idea);
    av1::VerifyLedgerResponse resp;
    return audit_->stub().VerifyLedger(&ctx, req, &resp).ok() ? resp.records() : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return sealed_records() == 3 && sealed(); }, absl::Seconds(60)));
  EXPECT_TRUE(audit_->Verify(sealed_idea).ok());
  auto [seal_rc, seal_out] = VerifyOffline(audit_->Export(sealed_idea), scratch_.path(), key);
  EXPECT_EQ(seal_rc, 0) << seal_out;
  {
    auto db = store::Db::Open(audit_->index_path());
    ASSERT_TRUE(db.ok());
    auto q = (*db)->Prepare("SELECT payload FROM entries WHERE ce_type = 'pepiniere.ideas.v1.ScorecardRevealed'");
    ASSERT_TRUE(q->Step().value_or(false));
    iv1::ScorecardRevealed reveal;
    ASSERT_TRUE(reveal.ParseFromString(q->Text(0)));
    iv1::Scorecard card;
    ASSERT_TRUE(card.ParseFromString(reveal.card()));
    card.mutable_scores(0)->set_score(1);  // a 4 become a 1 after the reveal
    reveal.set_card(card.SerializeAsString());
    auto u = (*db)->Prepare("UPDATE entries SET payload = ? WHERE ce_type = 'pepiniere.ideas.v1.ScorecardRevealed'");
    ASSERT_TRUE(u.ok());
    ASSERT_TRUE(u->BindBlob(1, reveal.SerializeAsString()).Run().ok());
  }
  const std::string named = absl::StrCat("juror juror-s's scorecard on idea ", sealed_idea,
                                         " does not match its commitment");
  av1::VerifyLedgerResponse unsealed = audit_->Verify(sealed_idea);
  EXPECT_FALSE(unsealed.ok());
  bool said = false;
  for (const auto& b : unsealed.broken()) said |= b.reason().find(named) != std::string::npos;
  EXPECT_TRUE(said) << unsealed.DebugString();
  auto [forged_rc, forged_out] = VerifyOffline(audit_->Export(sealed_idea), scratch_.path(), key);
  EXPECT_EQ(forged_rc, 1) << forged_out;
  EXPECT_NE(forged_out.find(named), std::string::npos) << forged_out;

  // --- rebuild: a second replica of the same ledger, fresh database, reads the log: same ---
  TempDir rebuild_dir;
  AuditProcess rebuilt(brokers_, rebuild_dir.path(), {}, audit_->ledger());
  rebuilt.Start();
  ASSERT_TRUE(WaitFor([&] { return rebuilt.Checkpoint().note() == audit_->Checkpoint().note(); }, absl::Seconds(60)))
      << rebuilt.Checkpoint().tree_size() << " of " << audit_->Checkpoint().tree_size();
  EXPECT_EQ(rebuilt.Export(startup_id), audit_->Export(startup_id)) << "the rebuilt index differs";
  EXPECT_EQ(Timeline(startup_id, rebuilt).SerializeAsString(), Timeline(startup_id, *audit_).SerializeAsString());
  EXPECT_EQ(Sample(HttpGet(rebuilt.metrics_port(), "/metrics"), "pep_audit_sequencer_leading"), 0)
      << "one sequencer: the first replica";

  // --- tampering with the rebuilt index, live: one field changed, then one entry deleted ---
  std::string selected_ce_id, phase_ce_id;
  int64_t phase_index = -1;
  for (const auto& e : t.entries()) {
    if (e.type() == "IdeaSelected") selected_ce_id = e.ce_id();
    if (e.type() == "PhaseChanged") {
      phase_ce_id = e.ce_id();  // not its aggregate's last
      phase_index = e.log_index();
    }
  }
  {
    auto db = store::Db::Open(rebuilt.index_path());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(absl::StrCat("UPDATE entries SET actor = 'coord-X' WHERE ce_id = '",
                                         selected_ce_id, "'")).ok());
  }
  av1::VerifyLedgerResponse tampered = rebuilt.Verify(idea_id);
  EXPECT_FALSE(tampered.ok());
  ASSERT_GE(tampered.broken_size(), 1);
  EXPECT_EQ(tampered.broken(0).ce_id(), selected_ce_id);
  EXPECT_EQ(tampered.broken(0).chain(), idea_id);
  EXPECT_NE(tampered.broken(0).reason().find("index row differs from its entry"), std::string::npos)
      << tampered.broken(0).reason();
  {
    auto db = store::Db::Open(rebuilt.index_path());
    ASSERT_TRUE((*db)->Exec(absl::StrCat("UPDATE entries SET actor = 'coord-1' WHERE ce_id = '",
                                         selected_ce_id, "'")).ok());
    ASSERT_TRUE((*db)->Exec(absl::StrCat("DELETE FROM entries WHERE ce_id = '", phase_ce_id, "'")).ok());
  }
  av1::VerifyLedgerResponse deleted = rebuilt.Verify();
  EXPECT_FALSE(deleted.ok());
  bool hole = false;
  for (const auto& b : deleted.broken()) hole |= b.chain() == "index" && b.seq() == phase_index;
  EXPECT_TRUE(hole) << "entry " << phase_index << " named missing";
  ASSERT_EQ(deleted.gaps_size(), 1);
  EXPECT_NE(deleted.gaps(0).find(startup_id), std::string::npos) << deleted.gaps(0);
  const std::string after = HttpGet(rebuilt.metrics_port(), "/metrics");
  EXPECT_EQ(Sample(after, "pep_audit_verify_failures_total"), 2);
  ASSERT_EQ(rebuilt.Terminate(), 0);
}

TEST_F(AuditE2ETest, AsOfAnImportedPortfolioAndWhatWasKnownWhen) {
  auto import = [&](const std::string& construction_start) {
    grpc::ClientContext ctx;
    incv1::ImportPortfolioRequest req;
    req.set_jsonl(absl::StrCat(
        R"({"slug":"rdv-pmi","title":"Rendez-vous PMI","mission":"Prendre rendez-vous en PMI.",)",
        R"("incubator":"lab06","phases":[{"name":"investigation","start":"2022-03-01"},)",
        R"({"name":"construction","start":")", construction_start, R"("},)",
        R"({"name":"acceleration","start":"2023-06-01"}]})", "\n"));
    incv1::ImportReport rep;
    grpc::Status s = incubation_->stub().ImportPortfolio(&ctx, req, &rep);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(rep.rejected(), 0);
  };
  const absl::Time before_import = absl::Now();
  import("2022-09-01");
  std::string startup_id;
  {
    grpc::ClientContext ctx;
    incv1::ListStartupsRequest req;
    incv1::ListStartupsResponse resp;
    ASSERT_TRUE(incubation_->stub().ListStartups(&ctx, req, &resp).ok());
    for (const auto& st : resp.startups()) {
      if (st.slug() == "rdv-pmi") startup_id = st.id();
    }
    ASSERT_FALSE(startup_id.empty());
  }
  ASSERT_TRUE(WaitFor([&] {
    return AsOf(startup_id, "2024-01-01T00:00:00Z", std::nullopt, true).phase() ==
           incv1::PHASE_ACCELERATION;
  }, absl::Seconds(60))) << "the imported start-up never reached the ledger";
  EXPECT_EQ(AsOf(startup_id, "2022-01-15T00:00:00Z").startup_id(), "");  // before it existed
  EXPECT_EQ(AsOf(startup_id, "2022-05-01T00:00:00Z").phase(), incv1::PHASE_INVESTIGATION);
  EXPECT_EQ(AsOf(startup_id, "2022-09-01T00:00:00Z").phase(), incv1::PHASE_CONSTRUCTION);
  EXPECT_EQ(AsOf(startup_id, "2023-01-01T00:00:00Z").phase(), incv1::PHASE_CONSTRUCTION);
  EXPECT_EQ(AsOf(startup_id, "2023-06-02T00:00:00Z").phase(), incv1::PHASE_ACCELERATION);

  // A corrected history, imported later: construction really began in October.
  const absl::Time between = absl::Now();
  import("2022-10-01");
  ASSERT_TRUE(WaitFor([&] {
    return AsOf(startup_id, "2022-09-15T00:00:00Z").phase() == incv1::PHASE_INVESTIGATION;
  }, absl::Seconds(60))) << "the correction never reached the ledger";
  // What we believed before the correction, and before the import at all.
  auto believed = AsOf(startup_id, "2022-09-15T00:00:00Z", between);
  EXPECT_EQ(believed.phase(), incv1::PHASE_CONSTRUCTION);
  EXPECT_GE(believed.records_hidden_by_known_at(), 1);
  auto unknown = AsOf(startup_id, "2024-01-01T00:00:00Z", before_import);
  EXPECT_EQ(unknown.startup_id(), "");
  EXPECT_EQ(unknown.phase(), incv1::PHASE_UNSPECIFIED);
  EXPECT_TRUE(audit_->Verify().ok());
}

}  // namespace
}  // namespace pep::testing
