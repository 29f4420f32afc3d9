#include "services/incubation/steering_rules.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "portfolio/staleness.h"

namespace pep::incubation {

namespace {

// 1-`max` characters (0 allowed when `min` is 0), no control character but tab and line breaks
// where `multiline`.
absl::Status Words(const std::string& field, const std::string& v, int min, int max, bool multiline = false) {
  const int n = Utf8Length(v);
  if (n < min) return FieldError(field, absl::StrFormat("is required (1-%d characters)", max));
  if (n > max) return FieldError(field, absl::StrFormat("must be at most %d characters (got %d)", max, n));
  for (unsigned char c : v) {
    if (c < 0x20 && !(multiline && (c == '\t' || c == '\n' || c == '\r'))) {
      return FieldError(field, multiline ? "must not contain control characters other than tabs and line breaks"
                                         : "must be one line, without control characters");
    }
  }
  return absl::OkStatus();
}

absl::Status Finite(const std::string& field, double v) {
  if (!std::isfinite(v)) return FieldError(field, "must be a finite number");
  return absl::OkStatus();
}

const absl::Time kEarliest = absl::FromCivil(absl::CivilDay(1990, 1, 1), absl::UTCTimeZone());

}  // namespace

bool IsValidKpiId(std::string_view id) {
  if (id.empty() || id.size() > 60) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

absl::Status ValidateKpiDefinition(const v1::KpiDefinition& k) {
  if (!IsValidKpiId(k.id())) {
    return FieldError("kpi.id", "must be 1-60 of a-z, 0-9, '-' and '_', starting with a letter or digit");
  }
  PEP_RETURN_IF_ERROR(Words("kpi.name", k.name(), 1, 80));
  PEP_RETURN_IF_ERROR(Words("kpi.definition", k.definition(), 0, 1000, true));
  PEP_RETURN_IF_ERROR(Words("kpi.unit", k.unit(), 0, 40));
  PEP_RETURN_IF_ERROR(Words("kpi.source", k.source(), 0, 200));
  if (k.direction() != v1::KPI_DIRECTION_UP && k.direction() != v1::KPI_DIRECTION_DOWN) {
    return FieldError("kpi.direction", "must be KPI_DIRECTION_UP or KPI_DIRECTION_DOWN");
  }
  PEP_RETURN_IF_ERROR(Finite("kpi.baseline", k.baseline()));
  if (k.targets_size() > 20) return FieldError("kpi.targets", "at most 20 targets");
  std::set<int64_t> dates;
  for (int i = 0; i < k.targets_size(); ++i) {
    const std::string f = absl::StrCat("kpi.targets[", i, "]");
    if (!k.targets(i).has_date()) return FieldError(f + ".date", "is required");
    if (FromTimestamp(k.targets(i).date()) < kEarliest) return FieldError(f + ".date", "must be in 1990 or later");
    if (!dates.insert(k.targets(i).date().seconds()).second) return FieldError(f + ".date", "two targets at the same date");
    PEP_RETURN_IF_ERROR(Finite(f + ".value", k.targets(i).value()));
  }
  return absl::OkStatus();
}

absl::Status ValidateKpiPoint(const v1::RecordKpiPointRequest& r, absl::Time now) {
  PEP_RETURN_IF_ERROR(Words("idempotency_key", r.idempotency_key(), 1, 128));
  if (!r.has_date()) return FieldError("date", "is required");
  const absl::Time d = FromTimestamp(r.date());
  if (d > now + absl::Hours(24)) return FieldError("date", "more than one day in the future");
  if (d < kEarliest) return FieldError("date", "must be in 1990 or later");
  return Finite("value", r.value());
}

absl::Status ValidateObjective(const std::string& field, const v1::Objective& o) {
  if (o.kpi().empty() && o.text().empty()) {
    return FieldError(field, "names an indicator (kpi) or says the objective in words (text)");
  }
  if (!o.kpi().empty() && !IsValidKpiId(o.kpi())) return FieldError(field + ".kpi", "must be an indicator's id");
  PEP_RETURN_IF_ERROR(Words(field + ".text", o.text(), 0, 500));
  if (o.has_by() && FromTimestamp(o.by()) < kEarliest) return FieldError(field + ".by", "must be in 1990 or later");
  return Finite(field + ".target", o.target());
}

absl::Status ValidateCommittee(const v1::ScheduleCommitteeRequest& r, absl::Time now) {
  if (!r.has_date()) return FieldError("date", "is required");
  const absl::Time d = FromTimestamp(r.date());
  if (d < now - absl::Hours(24 * 366)) return FieldError("date", "more than a year ago");
  if (d > now + absl::Hours(24 * 731)) return FieldError("date", "more than two years ahead");
  PEP_RETURN_IF_ERROR(Words("title", r.title(), 1, 120));
  if (r.invitees_size() > 50) return FieldError("invitees", "at most 50");
  for (int i = 0; i < r.invitees_size(); ++i) {
    PEP_RETURN_IF_ERROR(Words(absl::StrCat("invitees[", i, "]"), r.invitees(i), 1, 120));
  }
  if (r.startup_ids_size() == 0) return FieldError("startup_ids", "at least one start-up on the agenda");
  if (r.startup_ids_size() > 40) return FieldError("startup_ids", "at most 40 start-ups a meeting");
  return absl::OkStatus();
}

absl::Status ValidateAsk(const v1::CommitteeAsk& a) {
  PEP_RETURN_IF_ERROR(Words("ask.team", a.team(), 0, 2000, true));
  if (a.envelope_eur() < 0 || a.envelope_eur() > 100000000) {
    return FieldError("ask.envelope_eur", "must be 0-100000000 euros");
  }
  if (a.hypotheses_size() > 20) return FieldError("ask.hypotheses", "at most 20");
  for (int i = 0; i < a.hypotheses_size(); ++i) {
    PEP_RETURN_IF_ERROR(Words(absl::StrCat("ask.hypotheses[", i, "]"), a.hypotheses(i), 1, 500));
  }
  if (a.criteria_size() > 20) return FieldError("ask.criteria", "at most 20");
  for (int i = 0; i < a.criteria_size(); ++i) {
    PEP_RETURN_IF_ERROR(ValidateObjective(absl::StrCat("ask.criteria[", i, "]"), a.criteria(i)));
  }
  if (a.team().empty() && a.envelope_eur() == 0 && a.hypotheses_size() == 0 && a.criteria_size() == 0) {
    return FieldError("ask", "says at least the team, the envelope, a hypothesis or a criterion");
  }
  return absl::OkStatus();
}

absl::Status ValidateBudgetEntry(const v1::RecordBudgetEntryRequest& r, absl::Time now) {
  if (!r.has_date()) return FieldError("date", "is required");
  const absl::Time d = FromTimestamp(r.date());
  if (d > now + absl::Hours(24)) return FieldError("date", "more than one day in the future");
  if (d < kEarliest) return FieldError("date", "must be in 1990 or later");
  if (r.kind() != v1::BUDGET_KIND_COMMITMENT && r.kind() != v1::BUDGET_KIND_PAYMENT) {
    return FieldError("kind", "must be BUDGET_KIND_COMMITMENT (AE) or BUDGET_KIND_PAYMENT (CP)");
  }
  if (r.resource() == v1::RESOURCE_KIND_UNSPECIFIED) return FieldError("resource", "is required");
  if (r.amount_eur() < 1 || r.amount_eur() > 100000000) return FieldError("amount_eur", "must be 1-100000000 euros");
  PEP_RETURN_IF_ERROR(Words("label", r.label(), 0, 200));
  return Words("idempotency_key", r.idempotency_key(), 1, 128);
}

absl::Status ValidateDecisionSteering(const v1::RecordCommitteeDecisionRequest& r) {
  if (r.has_date() && FromTimestamp(r.date()) < kEarliest) return FieldError("date", "must be in 1990 or later");
  if (r.envelope_eur() < 0 || r.envelope_eur() > 100000000) {
    return FieldError("envelope_eur", "must be 0-100000000 euros");
  }
  if (r.objectives_size() > 20) return FieldError("objectives", "at most 20");
  for (int i = 0; i < r.objectives_size(); ++i) {
    PEP_RETURN_IF_ERROR(ValidateObjective(absl::StrCat("objectives[", i, "]"), r.objectives(i)));
  }
  if (r.has_next_review()) {
    const absl::Time next = FromTimestamp(r.next_review());
    const absl::Time date = FromTimestamp(r.date());
    if (next <= date) return FieldError("next_review", "must be after the committee's date");
    if (next > date + absl::Hours(24 * 1096)) return FieldError("next_review", "at most three years after the committee");
    if (r.outcome() == v1::COMMITTEE_OUTCOME_STOP) return FieldError("next_review", "a STOP has no next review");
  }
  return absl::OkStatus();
}

std::optional<absl::Time> NextReview(const v1::RecordCommitteeDecisionRequest& r) {
  if (r.outcome() == v1::COMMITTEE_OUTCOME_STOP) return std::nullopt;
  if (r.has_next_review()) return FromTimestamp(r.next_review());
  return portfolio::AddMonths(FromTimestamp(r.date()), 6);
}

}  // namespace pep::incubation
