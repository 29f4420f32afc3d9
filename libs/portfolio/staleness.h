// When a start-up is due something: a committee at the end of its phase's expected length, a
// milestone after N months without one. One definition for pep-incubation (the overdue flags and
// gauges) and pep-notify (the teams' reminders), with the flags that set it. Pure.
#pragma once

#include "absl/time/time.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::portfolio {

namespace incv1 = ::pepiniere::incubation::v1;

struct StalenessPolicy {
  int milestone_gap_months = 6;
  int investigation_months = 3;
  int construction_months = 12;
  int acceleration_months = 24;
};

// From --overdue_milestone_months, --investigation_months, --construction_months,
// --acceleration_months (defined here, so both services take the same flags).
StalenessPolicy StalenessFromFlags();

bool IsAbandon(incv1::Phase p);
bool IsTerminal(incv1::Phase p);  // abandoned, transferred or operated

// `t` plus calendar months (UTC): 31 January + 1 month = 3 March, as civil time normalises.
absl::Time AddMonths(absl::Time t, int months);

// The phase's expected length in months (0: none — consolidation and the terminal phases).
int ExpectedMonths(incv1::Phase p, const StalenessPolicy& policy);
// When a phase begun at `start` is expected to end and a committee to decide what follows;
// InfiniteFuture when the phase has no expected length.
absl::Time PhaseDueAt(incv1::Phase p, absl::Time start, const StalenessPolicy& policy);
// When a start-up whose last milestone (or, with none, its start) was at `since` is overdue.
absl::Time MilestoneDueAt(absl::Time since, const StalenessPolicy& policy);

}  // namespace pep::portfolio
