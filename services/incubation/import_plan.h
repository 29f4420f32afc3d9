// The portfolio import as a plan: what one normalised JSON line (ImportLine) does to what is
// stored for its slug (ImportState), computed without touching the store, the clock or metrics.
// The RPC edge (incubation_import.cc) reads the state, plans, and either writes the plan in the
// import's transaction or, for a dry run, only counts it — so a rehearsal reports the same
// created / updated / unchanged / events as the import it rehearses.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "services/incubation/incubation_core.h"

namespace pep::incubation {

// What the store knows of one slug before the line is applied.
struct ImportState {
  std::optional<v1::StartupDetails> snapshot;  // the source as last imported (absent: never)
  std::optional<v1::Startup> current;          // the stored start-up, when `snapshot` is set
  bool slug_taken = false;                     // by a start-up not created by an import
  std::set<std::string> milestone_keys;        // idempotency keys stored for `current`
};

struct ImportContext {
  std::string actor;
  absl::Time now;
  std::function<std::string()> new_id;  // fresh ids for the start-up, decisions, milestones
};

using ImportEventPayload =
    std::variant<v1::StartupCreated, v1::PhaseChanged, v1::StartupUpdated,
                 v1::PhaseHistoryCorrected, v1::CommitteeDecisionRecorded, v1::MilestonePushed>;

struct PlannedEvent {
  ImportEventPayload payload;
  absl::Time effective;
  int64_t version = 0;  // the start-up's version this event brings it to
};

struct ImportPlan {
  enum class Outcome { kCreated, kUpdated, kUnchanged, kRejected };
  Outcome outcome = Outcome::kUnchanged;
  std::string rejection;  // kRejected: why
  v1::Startup startup;    // kCreated / kUpdated: as it is to be stored
  std::vector<v1::CommitteeDecision> decisions;  // rows to add, in event order
  std::vector<v1::Milestone> milestones;         // rows to add, in event order
  std::vector<PlannedEvent> events;              // in order; versions follow one another
  std::vector<v1::ImportWarning> warnings;       // beyond the line's own (ImportLine.warnings)
};

// `line` must carry no rejection of its own.
ImportPlan PlanImport(const ImportState& state, const ImportLine& line, const ImportContext& ctx);

}  // namespace pep::incubation
