// pep-incubation's budget RPCs (issue 31): commitments (AE) and payments (CP) recorded against a
// start-up (idempotent by key, like a milestone), counted against the envelope its latest
// committee granted (Startup.budget, which the overdue rules read), the outlook at the current
// pace, and the finance department's CSV of the whole portfolio.
#include <map>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "portfolio/budget.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/service_helpers.h"
#include "services/incubation/steering_rules.h"

namespace pep::incubation {

using internal::CheckScope;
using internal::RequirePortfolioReader;

grpc::Status IncubationService::RecordBudgetEntry(grpc::ServerContext* ctx, const v1::RecordBudgetEntryRequest* req,
                                                  v1::BudgetEntry* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateBudgetEntry(*req, clock_.Now()));
  bool wrote = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto existing = tx.BudgetEntryByKey(st->id(), req->idempotency_key());
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {  // a retry: the same entry, or a refusal naming the key
      const v1::BudgetEntry& e = **existing;
      if (e.date().seconds() != req->date().seconds() || e.kind() != req->kind() || e.resource() != req->resource() ||
          e.amount_eur() != req->amount_eur() || e.label() != req->label()) {
        return absl::AlreadyExistsError(absl::StrCat("idempotency_key: '", req->idempotency_key(),
                                                     "' already recorded another budget entry"));
      }
      *out = e;
      return absl::OkStatus();
    }
    const absl::Time now = tx.Now();
    v1::BudgetEntry e;
    e.set_id(NewUuidV7(now));
    e.set_startup_id(st->id());
    *e.mutable_date() = req->date();
    e.set_kind(req->kind());
    e.set_resource(req->resource());
    e.set_amount_eur(req->amount_eur());
    e.set_label(req->label());
    e.set_idempotency_key(req->idempotency_key());
    e.set_recorded_by(p->id);
    *e.mutable_recorded_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutBudgetEntry(e));
    portfolio::Count(st->mutable_budget(), e);
    st->set_version(st->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
    v1::BudgetEntryRecorded ev;
    *ev.mutable_entry() = e;
    PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, p->id, FromTimestamp(req->date())));
    *out = std::move(e);
    wrote = true;
    return absl::OkStatus();
  }));
  if (wrote) Committed();
  return grpc::Status::OK;
}

grpc::Status IncubationService::GetBudget(grpc::ServerContext* ctx, const v1::GetBudgetRequest* req, v1::Budget* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  return ToGrpcStatus(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    if (!p->HasRole("auditor")) PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto entries = tx.BudgetEntries(st->id());
    if (!entries.ok()) return entries.status();
    *out->mutable_state() = st->budget();
    const portfolio::BudgetOutlook o = portfolio::Outlook(st->budget(), clock_.Now());
    out->set_remaining_eur(o.remaining_eur);
    out->set_paid_per_day_eur(o.paid_per_day_eur);
    if (o.runs_out != absl::InfiniteFuture()) *out->mutable_runs_out() = ToTimestamp(o.runs_out);
    out->set_exceeded(o.exceeded);
    out->set_overcommitted(o.overcommitted);
    for (auto& e : *entries) *out->add_entries() = std::move(e);
    return absl::OkStatus();
  }));
}

grpc::Status IncubationService::ExportBudget(grpc::ServerContext* ctx, const v1::ExportBudgetRequest*, v1::BudgetCsv* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequirePortfolioReader(*p, "exporting the budget"));
  return ToGrpcStatus(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto entries = tx.BudgetEntries("");
    if (!entries.ok()) return entries.status();
    auto decisions = tx.AllDecisions();
    if (!decisions.ok()) return decisions.status();
    std::map<std::string, portfolio::CsvStartup> by_id;
    for (auto& e : *entries) by_id[e.startup_id()].entries.push_back(std::move(e));
    for (auto& d : *decisions) {
      if (d.envelope_eur() > 0) by_id[d.startup_id()].decisions.push_back(std::move(d));
    }
    std::vector<portfolio::CsvStartup> rows;
    for (auto& [id, row] : by_id) {
      auto st = tx.GetStartup(id);
      if (!st.ok()) return st.status();
      row.id = id;
      row.name = st->name();
      rows.push_back(std::move(row));
    }
    out->set_csv(portfolio::BudgetCsvText(rows));
    return absl::OkStatus();
  }));
}

}  // namespace pep::incubation
