// How pep-audit's views read ledger records: the event's short type, its payload, a running
// feedback tally, a start-up's phase history, the timeline's order. Shared by the timeline
// (audit_core.cc) and the state-as-of and lineage views (audit_views.cc); internal to pep-audit.
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "pepiniere/audit/v1/audit.pb.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/audit/audit_core.h"

namespace pep::audit::internal {

namespace av1 = ::pepiniere::audit::v1;
namespace iv1 = ::pepiniere::ideas::v1;
namespace nv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;

inline std::string IdeaStatusName(int s) {
  std::string n = iv1::IdeaStatus_Name(static_cast<iv1::IdeaStatus>(s));
  return n.rfind("IDEA_STATUS_", 0) == 0 ? n.substr(12) : n;
}

inline std::string OutcomeName(int o) {
  if (o == nv1::COMMITTEE_OUTCOME_UNSPECIFIED) return "issue non renseignée";  // imported records
  std::string n = nv1::CommitteeOutcome_Name(static_cast<nv1::CommitteeOutcome>(o));
  return n.rfind("COMMITTEE_OUTCOME_", 0) == 0 ? n.substr(18) : n;
}

inline std::string MilestoneKindName(int k) {
  std::string n = nv1::MilestoneKind_Name(static_cast<nv1::MilestoneKind>(k));
  return n.rfind("MILESTONE_KIND_", 0) == 0 ? n.substr(15) : n;
}

inline double SatisfactionPoints(int s) {
  return s == fv1::SATISFACTION_GOOD ? 10.0 : s == fv1::SATISFACTION_MEDIUM ? 5.0 : 0.0;
}

inline bool Is(const LedgerRecord& r, std::string_view short_type) {
  return ShortType(r.envelope.type) == short_type;
}

template <typename M>
inline M Parse(const LedgerRecord& r) {
  M m;
  m.ParseFromString(r.payload);  // an unparsable payload reads as empty: the record still shows
  return m;
}

// Running feedback scores.
struct FeedbackTally {
  int64_t answers = 0;
  double satisfaction_points = 0;
  int64_t nps_answers = 0, promoters = 0, detractors = 0;
  void Add(const fv1::Feedback& f) {
    ++answers;
    satisfaction_points += SatisfactionPoints(f.satisfaction());
    if (f.has_nps()) {
      ++nps_answers;
      if (f.nps() >= 9) ++promoters;
      if (f.nps() <= 6) ++detractors;
    }
  }
  av1::FeedbackScores Scores() const {
    av1::FeedbackScores s;
    s.set_answers(answers);
    if (answers > 0) s.set_satisfaction_score(satisfaction_points / static_cast<double>(answers));
    if (nps_answers > 0) {
      s.set_has_nps(true);
      s.set_nps(100.0 * static_cast<double>(promoters - detractors) /
                static_cast<double>(nps_answers));
    }
    return s;
  }
};

// Where an entry sits in the timeline: effective time, then recorded time, then chain order.
struct TimelineKey {
  absl::Time effective, recorded;
  int64_t seq;
  static TimelineKey Of(const LedgerRecord& r) {
    return {r.envelope.effective_time, r.envelope.time, r.subject_seq};
  }
  bool operator<(const TimelineKey& o) const {
    return std::tie(effective, recorded, seq) < std::tie(o.effective, o.recorded, o.seq);
  }
};

// Folds a start-up's phase events into its phase history: the initial phase (from
// StartupCreated), each PhaseChanged's period, a PhaseHistoryCorrected replacing the list.
void ApplyPhaseEvent(const LedgerRecord& r, const std::string& type,
                     std::vector<nv1::PhasePeriod>* phases);
std::vector<const LedgerRecord*> InTimelineOrder(const std::vector<LedgerRecord>& records);

}  // namespace pep::audit::internal
