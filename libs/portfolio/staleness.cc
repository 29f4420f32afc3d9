#include "portfolio/staleness.h"

#include "absl/flags/flag.h"

ABSL_FLAG(int, overdue_milestone_months, 6, "Months without a milestone before a start-up is overdue");
ABSL_FLAG(int, investigation_months, 3, "Expected length of investigation (months)");
ABSL_FLAG(int, construction_months, 12, "Expected length of construction (months)");
ABSL_FLAG(int, acceleration_months, 24, "Expected length of acceleration (months)");

namespace pep::portfolio {

StalenessPolicy StalenessFromFlags() {
  return {.milestone_gap_months = absl::GetFlag(FLAGS_overdue_milestone_months),
          .investigation_months = absl::GetFlag(FLAGS_investigation_months),
          .construction_months = absl::GetFlag(FLAGS_construction_months),
          .acceleration_months = absl::GetFlag(FLAGS_acceleration_months)};
}

bool IsAbandon(incv1::Phase p) {
  return p == incv1::PHASE_ABANDONED || p == incv1::PHASE_ABANDONED_IN_INVESTIGATION;
}

bool IsTerminal(incv1::Phase p) {
  return IsAbandon(p) || p == incv1::PHASE_TRANSFERRED || p == incv1::PHASE_OPERATED;
}

absl::Time AddMonths(absl::Time t, int months) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  return absl::FromCivil(absl::CivilSecond(c.year(), c.month() + months, c.day(), c.hour(),
                                           c.minute(), c.second()),
                         absl::UTCTimeZone());
}

int ExpectedMonths(incv1::Phase p, const StalenessPolicy& policy) {
  switch (p) {
    case incv1::PHASE_INVESTIGATION: return policy.investigation_months;
    case incv1::PHASE_CONSTRUCTION: return policy.construction_months;
    case incv1::PHASE_ACCELERATION: return policy.acceleration_months;
    default: return 0;
  }
}

absl::Time PhaseDueAt(incv1::Phase p, absl::Time start, const StalenessPolicy& policy) {
  const int months = ExpectedMonths(p, policy);
  return months > 0 ? AddMonths(start, months) : absl::InfiniteFuture();
}

absl::Time MilestoneDueAt(absl::Time since, const StalenessPolicy& policy) {
  return AddMonths(since, policy.milestone_gap_months);
}

}  // namespace pep::portfolio
