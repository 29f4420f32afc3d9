#include "portfolio/budget.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/proto_time.h"

namespace pep::portfolio {

namespace {

absl::Time At(const google::protobuf::Timestamp& ts) { return FromTimestamp(ts); }

std::string Quoted(const std::string& s) { return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\""); }

int Year(const google::protobuf::Timestamp& ts) {
  return static_cast<int>(absl::ToCivilYear(At(ts), absl::UTCTimeZone()).year());
}

}  // namespace

BudgetOutlook Outlook(const incv1::BudgetState& b, absl::Time now) {
  BudgetOutlook o;
  o.remaining_eur = static_cast<int64_t>(b.envelope_eur()) - b.paid_eur();
  o.exceeded = b.envelope_eur() > 0 && b.paid_eur() > b.envelope_eur();
  o.overcommitted = b.envelope_eur() > 0 && b.committed_eur() > b.envelope_eur();
  if (b.envelope_eur() <= 0 || !b.has_since() || b.paid_eur() <= 0) return o;
  // Over 30 days at least: a first invoice the day after the committee is not a pace.
  const double days = std::max(30.0, absl::ToDoubleHours(now - At(b.since())) / 24.0);
  o.paid_per_day_eur = static_cast<double>(b.paid_eur()) / days;
  o.runs_out = o.remaining_eur <= 0 ? now : now + absl::Hours(24.0 * static_cast<double>(o.remaining_eur) / o.paid_per_day_eur);
  return o;
}

void Count(incv1::BudgetState* b, const incv1::BudgetEntry& e) {
  if (b->has_since() && At(e.date()) < At(b->since())) return;
  if (e.kind() == incv1::BUDGET_KIND_COMMITMENT) b->set_committed_eur(b->committed_eur() + e.amount_eur());
  if (e.kind() == incv1::BUDGET_KIND_PAYMENT) b->set_paid_eur(b->paid_eur() + e.amount_eur());
}

incv1::BudgetState WithEnvelope(int32_t envelope_eur, absl::Time since,
                                const std::vector<incv1::BudgetEntry>& entries) {
  incv1::BudgetState b;
  b.set_envelope_eur(envelope_eur);
  *b.mutable_since() = ToTimestamp(since);
  for (const auto& e : entries) Count(&b, e);
  return b;
}

std::string BudgetCsvText(const std::vector<CsvStartup>& startups) {
  std::string out = "startup_id,startup,annee,nature,ae_eur,cp_eur,enveloppes_accordees_eur\r\n";
  int64_t ae_total = 0, cp_total = 0, env_total = 0;
  for (const CsvStartup& s : startups) {
    std::map<std::pair<int, int>, std::pair<int64_t, int64_t>> lines;  // (year, resource) -> AE, CP
    for (const auto& e : s.entries) {
      auto& [ae, cp] = lines[{Year(e.date()), e.resource()}];
      (e.kind() == incv1::BUDGET_KIND_COMMITMENT ? ae : cp) += e.amount_eur();
    }
    for (const auto& [key, sums] : lines) {
      absl::StrAppend(&out, s.id, ",", Quoted(s.name), ",", key.first, ",", Quoted(ResourceWord(key.second)), ",",
                      sums.first, ",", sums.second, ",0\r\n");
      ae_total += sums.first;
      cp_total += sums.second;
    }
    std::map<int, int64_t> granted;
    for (const auto& d : s.decisions) {
      if (d.envelope_eur() > 0) granted[Year(d.date())] += d.envelope_eur();
    }
    for (const auto& [year, eur] : granted) {
      absl::StrAppend(&out, s.id, ",", Quoted(s.name), ",", year, ",\"enveloppe accordée\",0,0,", eur, "\r\n");
      env_total += eur;
    }
  }
  absl::StrAppend(&out, "total,\"\",,\"\",", ae_total, ",", cp_total, ",", env_total, "\r\n");
  return out;
}

std::string ResourceWord(int resource) {
  switch (resource) {
    case incv1::RESOURCE_KIND_STAFF: return "agents publics (titre 2)";
    case incv1::RESOURCE_KIND_SERVICES: return "prestations";
    case incv1::RESOURCE_KIND_COACHING: return "coaching";
    case incv1::RESOURCE_KIND_HOSTING: return "hébergement et outils";
    case incv1::RESOURCE_KIND_OTHER: return "autre";
    default: return "non précisé";
  }
}

}  // namespace pep::portfolio
