// A start-up's budget against its envelope (issue 31), pure: what remains, the pace of payments
// since the envelope began, when it runs out at that pace; the finance department's CSV. One
// definition for pep-incubation (its overdue rules, GetBudget, ExportBudget) and the pre-read.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::portfolio {

namespace incv1 = ::pepiniere::incubation::v1;

// How far ahead « enveloppe épuisée » is announced.
inline constexpr absl::Duration kRunOutNotice = absl::Hours(24 * 45);

struct BudgetOutlook {
  int64_t remaining_eur = 0;
  double paid_per_day_eur = 0;
  absl::Time runs_out = absl::InfiniteFuture();  // InfiniteFuture: no envelope, or nothing paid
  bool exceeded = false;       // paid beyond the envelope
  bool overcommitted = false;  // committed beyond it
};

// At `now`: the pace is what was paid since the envelope began over the days since (30 at
// least); the envelope runs out when what remains is paid at that pace.
BudgetOutlook Outlook(const incv1::BudgetState& b, absl::Time now);

// Adds an entry to the state when it belongs to the current envelope's period (dated on or
// after `since`; any entry when no envelope was granted yet).
void Count(incv1::BudgetState* b, const incv1::BudgetEntry& e);

// The state once a decision grants `envelope_eur` on `since`: the entries dated from then on.
incv1::BudgetState WithEnvelope(int32_t envelope_eur, absl::Time since,
                                const std::vector<incv1::BudgetEntry>& entries);

// The CSV of the finance department (RFC 4180, « ; »-free: commas, quoted text): one line per
// start-up, year (UTC) and resource with its AE (commitments) and CP (payments), then one line
// per start-up and year with the envelopes its committees granted that year, then the totals.
struct CsvStartup {
  std::string id, name;
  std::vector<incv1::BudgetEntry> entries;
  std::vector<incv1::CommitteeDecision> decisions;
};
std::string BudgetCsvText(const std::vector<CsvStartup>& startups);

std::string ResourceWord(int resource);  // "prestations", …

}  // namespace pep::portfolio
