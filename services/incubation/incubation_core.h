// The start-up lifecycle domain: phase state machine, committee gate, effective-date rules,
// staleness, validation, and the portfolio-import normaliser. Pure: no gRPC, no SQLite, no
// clock (time is passed in).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "portfolio/staleness.h"

namespace pep::incubation {

namespace v1 = ::pepiniere::incubation::v1;

std::string PhaseName(v1::Phase p);  // "INVESTIGATION", …
using ::pep::portfolio::IsAbandon;
using ::pep::portfolio::IsTerminal;

// The beta.gouv.fr model. Every other move is FAILED_PRECONDITION naming both phases.
bool TransitionAllowed(v1::Phase from, v1::Phase to);
absl::Status CheckTransition(v1::Phase from, v1::Phase to);
// Leaving investigation, construction or acceleration needs a committee decision.
bool RequiresCommittee(v1::Phase from);
// The decision must belong to the start-up, be unused, dated on or before the move, and its
// outcome must fit: GO moves forward, STOP abandons, PIVOT allows either, EXTEND keeps the phase.
absl::Status CheckCommitteeGate(const v1::CommitteeDecision* decision, const std::string& startup_id,
                                v1::Phase from, v1::Phase to, absl::Time effective);
// Effective dates may be back-dated but not before the current phase began (history never
// overlaps), and not more than one day ahead of `now`.
absl::Status CheckEffectiveDate(absl::Time effective, absl::Time current_phase_start,
                                absl::Time now);
// Closes the current period at `effective` and opens `to`.
void ApplyPhaseChange(v1::Startup* s, v1::Phase to, absl::Time effective,
                      const std::string& decision_id, const std::string& comment);

using ::pep::portfolio::AddMonths;
using ::pep::portfolio::StalenessPolicy;
// Why the start-up is overdue at `now` (empty: it is not). Terminal phases are never overdue.
std::vector<std::string> OverdueReasons(const v1::Startup& s, absl::Time now,
                                        const StalenessPolicy& policy);

absl::Status ValidateCreate(const v1::CreateStartupRequest& r);
absl::Status ValidateUpdate(const v1::UpdateStartupRequest& r);
absl::Status ValidateDecision(const v1::RecordCommitteeDecisionRequest& r, absl::Time now);
absl::Status ValidateMilestone(const v1::PushMilestoneRequest& r, absl::Time now);
absl::Status ValidateTeamMember(const v1::AddTeamMemberRequest& r);
std::string Slugify(std::string_view name);  // "Aides sociales !" -> "aides-sociales"
bool IsValidSlug(std::string_view slug);
// An imported start-up keeps the id its source gave it, exactly (beta.gouv.fr has `auxAJ`):
// ASCII letters of either case, digits, '-', '_' and '.', at most 100. New start-ups' slugs stay
// lower-case (IsValidSlug); the public URL uses either as it is.
bool IsValidImportedId(std::string_view id);

// An indicator (a milestone's, or the fiche's public ones): named 1-80 characters, unit at most
// 40, neither with control characters, a finite value. `field` is its path ("kpis[0]").
absl::Status ValidateKpi(const std::string& field, const v1::Kpi& k);
// Deterministic bytes of a milestone push without its idempotency key: same key + same
// fingerprint = a retry; same key + other fingerprint = ALREADY_EXISTS.
std::string MilestoneFingerprint(const v1::PushMilestoneRequest& r);

// Portfolio import ------------------------------------------------------------------------
struct ImportLine {
  int line = 0;
  // startup: slug, name, mission, incubator, sponsors, links, phases (normalised), phase.
  v1::StartupDetails details;
  std::vector<v1::ImportWarning> warnings;
  std::string rejection;  // non-empty: the line cannot be imported at all
};
// Parses and normalises one JSON line; `now` decides what "in the future" means.
ImportLine ParseImportLine(std::string_view json, int line_no, absl::Time now);
v1::Phase ParseImportPhaseName(std::string_view name);  // PHASE_UNSPECIFIED if unknown

// Portfolio listing ----------------------------------------------------------------------

// Lower case, accents and ligatures of French folded to plain letters ("Église" -> "eglise"),
// anything that is not a letter or digit -> one space: what portfolio search compares.
std::string FoldForSearch(std::string_view text);
// Every word of the folded query appears in the folded name, mission or slug.
bool MatchesQuery(const v1::Startup& s, const std::vector<std::string>& folded_words);
// Sorts by ListStartupsRequest.order_by ("name", "phase", "incubator", "phase_since",
// "last_milestone_at", "created_at", optionally " desc"), ties by name then id;
// INVALID_ARGUMENT naming order_by otherwise.
absl::Status SortStartups(std::vector<v1::Startup>* startups, std::string_view order_by);

// Portfolio statistics -------------------------------------------------------------------
double Percentile(std::vector<double> values, double p);  // nearest-rank, p in (0, 1]
v1::PortfolioStats ComputeStats(const std::vector<v1::Startup>& startups, absl::Time now,
                                const StalenessPolicy& policy);

}  // namespace pep::incubation
