// pep-audit's state-as-of (bitemporal: effective date D, optionally as known at K) and lineage
// (idea → start-up → phases → milestones → feedback) views, folded from a lineage's records.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "services/audit/audit_core.h"
#include "services/audit/record_reading.h"

namespace pep::audit {

namespace av1 = pepiniere::audit::v1;
namespace iv1 = pepiniere::ideas::v1;
namespace nv1 = pepiniere::incubation::v1;
namespace fv1 = pepiniere::feedback::v1;

using namespace internal;  // the record readers of record_reading.h

namespace {

// The as-of fold over a lineage's records without its users' answers, which come already
// folded (`answers`, and how many were hidden by K or folded).
av1::StateAsOf FoldWithAnswers(const std::string& subject, const std::vector<LedgerRecord>& records,
                               absl::Time as_of, std::optional<absl::Time> known_at,
                               const FeedbackTally& answers, int64_t answers_hidden,
                               int64_t answers_folded) {
  av1::StateAsOf out;
  out.set_subject(subject);
  struct Member {
    nv1::TeamMember m;
    absl::Time start, end = absl::InfiniteFuture();
  };
  std::vector<nv1::PhasePeriod> phases;  // as known at K, whatever D is
  std::map<std::string, Member> team;
  FeedbackTally feedback = answers;
  std::optional<nv1::Milestone> last_milestone;
  absl::Time last_milestone_at = absl::InfinitePast();
  bool startup_exists = false;
  for (const LedgerRecord* r : InTimelineOrder(records)) {
    if (known_at && r->envelope.time > *known_at) {
      out.set_records_hidden_by_known_at(out.records_hidden_by_known_at() + 1);
      continue;
    }
    const absl::Time eff = r->envelope.effective_time;
    const std::string t = ShortType(r->envelope.type);
    // The phase history is a statement about the past: keep what was known at K.
    ApplyPhaseEvent(*r, t, &phases);
    if (eff > as_of) continue;
    out.set_records_folded(out.records_folded() + 1);
    if (t == "IdeaSubmitted") {
      auto idea = Parse<iv1::IdeaSubmitted>(*r).idea();
      out.set_idea_id(idea.id());
      out.set_idea_status(IdeaStatusName(iv1::IDEA_STATUS_SUBMITTED));
    } else if (t == "IdeaShortlisted" || t == "IdeaAwarded" || t == "IdeaRejected" ||
               t == "IdeaSelected") {
      // All four carry the decision in field 2; IdeaSelected is the richest shape.
      out.set_idea_status(IdeaStatusName(Parse<iv1::IdeaSelected>(*r).decision().outcome()));
    } else if (t == "IdeaWithdrawn") {
      out.set_idea_status(IdeaStatusName(iv1::IDEA_STATUS_WITHDRAWN));
    } else if (t == "StartupCreated") {
      auto st = Parse<nv1::StartupCreated>(*r).startup();
      startup_exists = true;
      out.set_startup_id(st.id());
      out.set_startup_name(st.name());
      for (const auto& m : st.team()) {
        Member mem{m, m.has_start() ? FromTimestamp(m.start()) : eff};
        if (m.has_end()) mem.end = FromTimestamp(m.end());
        team[m.id()] = mem;
      }
    } else if (t == "StartupUpdated") {
      const auto updated = Parse<nv1::StartupUpdated>(*r);  // named, as in Context
      for (const auto& c : updated.changes()) {
        if (c.field() == "name") out.set_startup_name(c.new_value());
      }
    } else if (t == "TeamMemberAdded") {
      auto m = Parse<nv1::TeamMemberAdded>(*r).member();
      team[m.id()] = Member{m, m.has_start() ? FromTimestamp(m.start()) : eff};
    } else if (t == "TeamMemberUpdated") {
      auto m = Parse<nv1::TeamMemberUpdated>(*r).member();
      auto it = team.find(m.id());
      if (it != team.end()) it->second.m = m;  // its start and end as they were
    } else if (t == "TeamMemberRemoved") {
      auto ev = Parse<nv1::TeamMemberRemoved>(*r);
      auto it = team.find(ev.member_id());
      if (it != team.end()) it->second.end = ev.has_end() ? FromTimestamp(ev.end()) : eff;
    } else if (t == "MilestonePushed") {
      auto m = Parse<nv1::MilestonePushed>(*r).milestone();
      const absl::Time at = m.has_date() ? FromTimestamp(m.date()) : eff;
      if (at <= as_of && at >= last_milestone_at) {
        last_milestone = m;
        last_milestone_at = at;
      }
    } else if (t == "FeedbackReceived") {
      feedback.Add(Parse<fv1::FeedbackReceived>(*r).feedback());
    }
  }
  if (startup_exists) {
    for (const auto& p : phases) {  // the last period begun by D
      if (FromTimestamp(p.start()) <= as_of) {
        out.set_phase(p.phase());
        *out.mutable_phase_since() = p.start();
      }
    }
    for (const auto& [id, mem] : team) {
      if (mem.start <= as_of && as_of < mem.end) {
        auto* t = out.add_team();
        t->set_id(id);
        t->set_name(mem.m.name());
        t->set_role(mem.m.role());
      }
    }
  }
  if (last_milestone) {
    auto* m = out.mutable_last_milestone();
    m->set_title(last_milestone->title());
    m->set_kind(MilestoneKindName(last_milestone->kind()));
    *m->mutable_date() = ToTimestamp(last_milestone_at);
  }
  *out.mutable_feedback() = feedback.Scores();
  out.set_records_hidden_by_known_at(out.records_hidden_by_known_at() + answers_hidden);
  out.set_records_folded(out.records_folded() + answers_folded);
  return out;
}

}  // namespace

struct StateAsOfBuilder::Answers {
  FeedbackTally tally;
  int64_t hidden = 0, folded = 0;
};

StateAsOfBuilder::StateAsOfBuilder(std::string subject, absl::Time as_of,
                                   std::optional<absl::Time> known_at)
    : subject_(std::move(subject)), as_of_(as_of), known_at_(known_at),
      answers_(std::make_unique<Answers>()) {}

StateAsOfBuilder::~StateAsOfBuilder() = default;

void StateAsOfBuilder::Add(LedgerRecord r) {
  if (!Is(r, "FeedbackReceived")) {
    kept_.push_back(std::move(r));
    return;
  }
  // As the fold treats any record: hidden when recorded after K, left out when after D.
  if (known_at_ && r.envelope.time > *known_at_) {
    ++answers_->hidden;
  } else if (r.envelope.effective_time <= as_of_) {
    ++answers_->folded;
    answers_->tally.Add(Parse<fv1::FeedbackReceived>(r).feedback());
  }
}

av1::StateAsOf StateAsOfBuilder::Build() {
  return FoldWithAnswers(subject_, kept_, as_of_, known_at_, answers_->tally, answers_->hidden,
                         answers_->folded);
}

av1::StateAsOf FoldStateAsOf(const std::string& subject, const std::vector<LedgerRecord>& records,
                             absl::Time as_of, std::optional<absl::Time> known_at) {
  StateAsOfBuilder b(subject, as_of, known_at);
  for (const auto& r : records) b.Add(r);
  return b.Build();
}

std::string ChallengeOf(const std::vector<LedgerRecord>& records) {
  for (const auto& r : records) {
    if (Is(r, "IdeaSubmitted")) return Parse<iv1::IdeaSubmitted>(r).idea().challenge_id();
  }
  return "";
}

namespace {

// The lineage view over its records without the users' answers, which come already tallied;
// `count` and `head_leaf` are the whole lineage's.
av1::Lineage LineageWithAnswers(const std::string& subject, const std::vector<LedgerRecord>& records,
                                const std::vector<LedgerRecord>& challenge_records,
                                const FeedbackTally& answers, int64_t count,
                                const std::string& head_leaf) {
  av1::Lineage out;
  out.set_subject(subject);
  out.set_records(count);
  if (count > 0) out.set_head_hash(Hex(head_leaf));
  FeedbackTally feedback = answers;
  std::map<std::string, double> scores;  // juror -> latest weighted score
  std::vector<nv1::PhasePeriod> phases;
  for (const LedgerRecord* r : InTimelineOrder(records)) {
    const std::string t = ShortType(r->envelope.type);
    auto* idea = out.mutable_idea();
    if (t == "IdeaSubmitted") {
      auto i = Parse<iv1::IdeaSubmitted>(*r).idea();
      idea->set_id(i.id());
      idea->set_title(i.title());
      idea->set_author_name(i.author_name());
      idea->set_department(i.department());
      idea->set_challenge_id(i.challenge_id());
      idea->set_status(IdeaStatusName(iv1::IDEA_STATUS_SUBMITTED));
    } else if (t == "IdeaEdited") {
      const auto edited = Parse<iv1::IdeaEdited>(*r);  // named, as in Context
      for (const auto& c : edited.changes()) {
        if (c.field() == "title") idea->set_title(c.new_value());
      }
    } else if (t == "IdeaScored") {
      auto card = Parse<iv1::IdeaScored>(*r).scorecard();
      scores[card.juror_id()] = card.weighted_score();
    } else if (t == "ScorecardRevealed") {  // a sealed card, once revealed
      iv1::Scorecard card;
      if (card.ParseFromString(Parse<iv1::ScorecardRevealed>(*r).card())) {
        scores[card.juror_id()] = card.weighted_score();
      }
    } else if (t == "IdeaShortlisted" || t == "IdeaAwarded" || t == "IdeaRejected" ||
               t == "IdeaSelected") {
      auto d = Parse<iv1::IdeaSelected>(*r).decision();
      idea->set_status(IdeaStatusName(d.outcome()));
      idea->set_decision_rationale(d.rationale());
      if (!d.prize().empty()) idea->set_prize(d.prize());
      idea->set_decided_by(d.decided_by().empty() ? r->envelope.actor : d.decided_by());
    } else if (t == "IdeaWithdrawn") {
      idea->set_status(IdeaStatusName(iv1::IDEA_STATUS_WITHDRAWN));
    } else if (t == "StartupCreated") {
      auto ev = Parse<nv1::StartupCreated>(*r);
      auto* st = out.mutable_startup();
      st->set_id(ev.startup().id());
      st->set_name(ev.startup().name());
      st->set_imported(ev.imported());
      st->set_phase(ev.startup().phase());
      ApplyPhaseEvent(*r, t, &phases);
    } else if (t == "StartupUpdated") {
      const auto updated = Parse<nv1::StartupUpdated>(*r);  // named, as in Context
      for (const auto& c : updated.changes()) {
        if (c.field() == "name") out.mutable_startup()->set_name(c.new_value());
      }
    } else if (t == "PhaseChanged" || t == "PhaseHistoryCorrected") {
      ApplyPhaseEvent(*r, t, &phases);
      if (!phases.empty()) out.mutable_startup()->set_phase(phases.back().phase());
    } else if (t == "CommitteeDecisionRecorded") {
      auto d = Parse<nv1::CommitteeDecisionRecorded>(*r).decision();
      auto* ld = out.mutable_startup()->add_decisions();
      ld->set_id(d.id());
      *ld->mutable_date() = d.date();
      ld->set_outcome(OutcomeName(d.outcome()));
      ld->set_rationale(d.rationale());
    } else if (t == "MilestonePushed") {
      auto m = Parse<nv1::MilestonePushed>(*r).milestone();
      auto* lm = out.mutable_startup()->add_milestones();
      lm->set_title(m.title());
      lm->set_kind(MilestoneKindName(m.kind()));
      *lm->mutable_date() = m.has_date() ? m.date() : ToTimestamp(r->envelope.effective_time);
    } else if (t == "FeedbackReceived") {
      feedback.Add(Parse<fv1::FeedbackReceived>(*r).feedback());
    }
  }
  if (out.idea().id().empty()) {
    out.clear_idea();
  } else {
    double sum = 0;
    for (const auto& [juror, s] : scores) {
      auto* js = out.mutable_idea()->add_scores();
      js->set_juror_id(juror);
      js->set_weighted_score(s);
      sum += s;
    }
    if (!scores.empty()) out.mutable_idea()->set_mean_score(sum / static_cast<double>(scores.size()));
    for (const auto& r : challenge_records) {
      if (Is(r, "ChallengeCreated")) {
        out.mutable_idea()->set_challenge_title(Parse<iv1::ChallengeCreated>(r).challenge().title());
      }
    }
  }
  if (out.has_startup()) {
    for (size_t i = 0; i < phases.size(); ++i) {
      auto* lp = out.mutable_startup()->add_phases();
      lp->set_phase(phases[i].phase());
      *lp->mutable_start() = phases[i].start();
      if (phases[i].has_end()) {
        *lp->mutable_end() = phases[i].end();
      } else if (i + 1 < phases.size()) {
        *lp->mutable_end() = phases[i + 1].start();
      }
      lp->set_decision_id(phases[i].decision_id());
    }
  }
  *out.mutable_feedback() = feedback.Scores();
  return out;
}

}  // namespace

struct LineageBuilder::Answers {
  FeedbackTally tally;
};

LineageBuilder::LineageBuilder(std::string subject)
    : subject_(std::move(subject)), answers_(std::make_unique<Answers>()) {}

LineageBuilder::~LineageBuilder() = default;

void LineageBuilder::Add(LedgerRecord r) {
  ++count_;
  head_leaf_ = r.leaf;
  if (Is(r, "FeedbackReceived")) {
    answers_->tally.Add(Parse<fv1::FeedbackReceived>(r).feedback());
    return;
  }
  kept_.push_back(std::move(r));
}

av1::Lineage LineageBuilder::Build(const std::vector<LedgerRecord>& challenge_records) {
  return LineageWithAnswers(subject_, kept_, challenge_records, answers_->tally, count_, head_leaf_);
}

av1::Lineage BuildLineage(const std::string& subject, const std::vector<LedgerRecord>& records,
                          const std::vector<LedgerRecord>& challenge_records) {
  LineageBuilder b(subject);
  for (const auto& r : records) b.Add(r);
  return b.Build(challenge_records);
}

// Scorecards, and decisions recorded before their announcement (published later as their own
// events): the jury's and the coordinators'.
bool JuryOnly(const LedgerRecord& r) {
  return r.envelope.type == "pepiniere.ideas.v1.IdeaScored" ||
         r.envelope.type == "pepiniere.ideas.v1.ScorecardRevealed" ||
         r.envelope.type == "pepiniere.ideas.v1.IdeaDecisionRecorded";
}

}  // namespace pep::audit
