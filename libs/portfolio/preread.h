// A start-up's pre-read for a committee meeting (issue 31): what the committee promised last time
// against what the indicators say now, the milestones and team changes since, the team's ask.
// Pure and deterministic: the start-up's own events in, one Markdown document out. pep-incubation
// folds its journal (the events it emitted) when it issues a pre-read; pep-audit folds the same
// events read back from the ledger; both call BuildPreRead, so the document — and its SHA-256,
// on the ledger in PreReadIssued — is the same byte for byte.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pepiniere/incubation/v1/events.pb.h"

namespace pep::portfolio {

namespace incv1 = ::pepiniere::incubation::v1;

// The start-up as its events tell it.
struct SteeringState {
  std::string startup_id, name, slug;
  incv1::Phase phase = incv1::PHASE_UNSPECIFIED;
  std::vector<incv1::PhasePeriod> phases;
  std::map<std::string, incv1::TeamMember> members;  // by id, those who left too (with `end`)
  std::vector<incv1::Milestone> milestones;          // in the order pushed
  std::vector<incv1::CommitteeDecision> decisions;   // in the order recorded
  std::map<std::string, incv1::KpiDefinition> kpis;  // by id
  // Per indicator, per measure date (Unix seconds): the measure recorded last.
  std::map<std::string, std::map<int64_t, incv1::KpiPoint>> points;
  std::map<std::string, incv1::CommitteeAsk> asks;  // by meeting id
  std::vector<incv1::BudgetEntry> budget_entries;
  incv1::BudgetState budget;  // as pep-incubation keeps it (Startup.budget)
};

// Applies the start-up's events one by one, in the order they were emitted.
class SteeringFold {
 public:
  // `type`: the event's type as on the ledger ("pepiniere.incubation.v1.MilestonePushed"), or its
  // short name. Events of other types (publication, fiche edits, public facts) change nothing;
  // a payload that does not parse is INVALID_ARGUMENT naming the type.
  absl::Status Add(std::string_view type, std::string_view payload);
  const SteeringState& state() const { return s_; }

 private:
  SteeringState s_;
};

struct PreReadMeeting {
  std::string id;
  std::string title;
  absl::Time date;
};

// The document (French, Markdown, UTF-8). Dates are UTC days (jj/mm/aaaa).
std::string BuildPreRead(const SteeringState& s, const PreReadMeeting& meeting, absl::Time issued_at);

// How an objective stands at `at` against the measures of its indicator.
enum class ObjectiveStatus { kNoIndicator, kNoMeasure, kReached, kInProgress, kMissed };
struct ObjectiveJudgement {
  ObjectiveStatus status = ObjectiveStatus::kNoIndicator;
  double value = 0;        // the measure judged (the last one on or before `by`, else the last)
  absl::Time measured_at;  // its date
  double gap = 0;          // how far from the target, in the indicator's direction (0 once reached)
};
ObjectiveJudgement JudgeObjective(const SteeringState& s, const incv1::Objective& o, absl::Time at);

// SHA-256 of the document, in lower-case hex.
std::string DocumentSha256(std::string_view document);

// French words used by the pre-read (and anyone who writes about a start-up in French).
std::string PhaseWord(int phase);           // "construction", "abandonnée en investigation", …
std::string OutcomeWord(int outcome);       // "poursuite (GO)", …
std::string MilestoneKindWord(int kind);    // "lancement du produit", …
std::string RoleWord(int team_role);        // "intrapreneur", "coach", "développement", …
std::string StatusWord(int member_status);  // "agent public", "prestataire", "indépendant"
// 1234567.5 -> "1 234 567,5" (narrow no-break spaces), at most 2 decimals; integers without any.
std::string FrenchNumber(double v);

}  // namespace pep::portfolio
