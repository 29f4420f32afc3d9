// Steering's rules (issue 31), pure: what an indicator, a measure, an objective, a committee
// meeting and a team's ask must be; when a committee decision says the start-up is next reviewed.
// Each refusal is a FieldError naming the field as the request spells it.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::incubation {

namespace v1 = ::pepiniere::incubation::v1;

// An indicator's id: 1-60 of a-z, 0-9, '-', '_', starting with a letter or digit.
bool IsValidKpiId(std::string_view id);
absl::Status ValidateKpiDefinition(const v1::KpiDefinition& k);
// A measure: a finite value, dated at most one day ahead of `now` and not before 1990 (its
// indicator is looked up by the caller: an id no indicator has is NOT_FOUND, whatever its form).
absl::Status ValidateKpiPoint(const v1::RecordKpiPointRequest& r, absl::Time now);
// `field` is its path ("objectives[0]"): an indicator id or a sentence (or both), a finite target.
absl::Status ValidateObjective(const std::string& field, const v1::Objective& o);
// A meeting within a year before `now` and two years after it; a title; start-ups listed once.
absl::Status ValidateCommittee(const v1::ScheduleCommitteeRequest& r, absl::Time now);
absl::Status ValidateAsk(const v1::CommitteeAsk& a);
// A budget entry: AE or CP, a kind of resource, 1-100 000 000 euros, dated from 1990 to a day
// ahead of `now`, a one-line label.
absl::Status ValidateBudgetEntry(const v1::RecordBudgetEntryRequest& r, absl::Time now);
// A decision dated from 1990 on (issue 34 met one in 1677); its own next_review when given
// (after its date, within three years), else six months after its date — none after a STOP.
absl::Status ValidateDecisionSteering(const v1::RecordCommitteeDecisionRequest& r);
std::optional<absl::Time> NextReview(const v1::RecordCommitteeDecisionRequest& r);

}  // namespace pep::incubation
