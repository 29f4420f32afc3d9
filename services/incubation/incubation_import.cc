// pep-incubation's portfolio import at the RPC edge: each JSON Lines start-up parsed and
// normalised (ParseImportLine, import_line.cc), what is stored for its slug read, the difference
// planned (PlanImport, import_plan.cc, pure), and the plans written in one transaction — or, for
// a dry run, read in a read transaction and only counted.
#include <set>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/status.h"
#include "common/uuid.h"
#include "services/incubation/import_plan.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/service_helpers.h"

namespace pep::incubation {

namespace {
constexpr int kMaxImportLines = 20000;
}  // namespace

using internal::RequireCoordinator;

namespace {

absl::StatusOr<ImportState> LoadImportState(IncubationTx& tx, const std::string& slug) {
  ImportState state;
  auto snapshot = tx.ImportSnapshot(slug);
  if (!snapshot.ok()) return snapshot.status();
  state.snapshot = std::move(*snapshot);
  if (!state.snapshot.has_value()) {
    auto taken = tx.SlugTaken(slug);
    if (!taken.ok()) return taken.status();
    state.slug_taken = *taken;
    return state;
  }
  auto current = tx.GetStartup(slug);
  if (!current.ok()) return current.status();
  auto milestones = tx.Milestones(current->id());
  if (!milestones.ok()) return milestones.status();
  for (const auto& m : *milestones) state.milestone_keys.insert(m.idempotency_key());
  state.current = std::move(*current);
  return state;
}

const char* OutcomeName(ImportPlan::Outcome o) {
  switch (o) {
    case ImportPlan::Outcome::kCreated: return "created";
    case ImportPlan::Outcome::kUpdated: return "updated";
    case ImportPlan::Outcome::kUnchanged: return "unchanged";
    case ImportPlan::Outcome::kRejected: return "rejected";
  }
  return "unchanged";
}

// Counts one plan in the report (the same for an import and its rehearsal).
void Report(const ImportPlan& plan, const ImportLine& line, v1::ImportReport* report) {
  for (const auto& w : plan.warnings) *report->add_warnings() = w;
  report->set_events_emitted(report->events_emitted() + static_cast<int>(plan.events.size()));
  switch (plan.outcome) {
    case ImportPlan::Outcome::kCreated: report->set_created(report->created() + 1); break;
    case ImportPlan::Outcome::kUpdated: report->set_updated(report->updated() + 1); break;
    case ImportPlan::Outcome::kUnchanged: report->set_unchanged(report->unchanged() + 1); break;
    case ImportPlan::Outcome::kRejected: {
      auto* r = report->add_rejections();
      r->set_line(line.line);
      r->set_reason(plan.rejection);
      report->set_rejected(report->rejected() + 1);
      break;
    }
  }
}

}  // namespace

absl::Status IncubationService::WritePlan(IncubationTx& tx, const ImportPlan& plan,
                                          const std::string& slug, const v1::StartupDetails& src,
                                          const std::string& actor) {
  metrics_.ImportLines(OutcomeName(plan.outcome)).Increment();
  if (plan.outcome == ImportPlan::Outcome::kUnchanged ||
      plan.outcome == ImportPlan::Outcome::kRejected) {
    return absl::OkStatus();
  }
  PEP_RETURN_IF_ERROR(tx.PutStartup(plan.startup, /*imported=*/true));
  for (const auto& d : plan.decisions) PEP_RETURN_IF_ERROR(tx.PutDecision(d));
  for (const auto& m : plan.milestones) {
    PEP_RETURN_IF_ERROR(tx.PutMilestone(m, ""));
    metrics_.Milestone(m.kind()).Increment();
  }
  v1::Startup at = plan.startup;  // the envelope reads id, correlation id and version
  for (const PlannedEvent& e : plan.events) {
    at.set_version(e.version);
    PEP_RETURN_IF_ERROR(std::visit(
        [&](const auto& payload) {
          if constexpr (std::is_same_v<std::decay_t<decltype(payload)>, v1::PhaseChanged>) {
            metrics_.Transition(payload.from(), payload.to()).Increment();
          }
          return tx.Emit(at, payload, actor, e.effective);
        },
        e.payload));
  }
  return tx.PutImportSnapshot(slug, src);
}

grpc::Status IncubationService::ImportPortfolio(grpc::ServerContext* ctx,
                                                const v1::ImportPortfolioRequest* req,
                                                v1::ImportReport* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "importing a portfolio"));
  const absl::Time now = clock_.Now();
  std::vector<ImportLine> lines;
  std::set<std::string> seen;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(req->jsonl(), '\n')) {
    ++line_no;
    if (absl::StripAsciiWhitespace(raw).empty()) continue;
    if (static_cast<int>(lines.size()) == kMaxImportLines) {
      return ToGrpcStatus(absl::ResourceExhaustedError(
          absl::StrCat("jsonl: at most ", kMaxImportLines, " start-ups per import")));
    }
    lines.push_back(ParseImportLine(std::string_view(raw.data(), raw.size()), line_no, now));
    ImportLine& l = lines.back();
    if (l.rejection.empty() && !seen.insert(l.details.startup().slug()).second) {
      l.rejection = absl::StrCat("slug '", l.details.startup().slug(),
                                 "' appears on an earlier line of this file");
    }
  }
  v1::ImportReport report;
  report.set_read(static_cast<int>(lines.size()));
  for (const auto& l : lines) {
    for (const auto& w : l.warnings) *report.add_warnings() = w;
    if (!l.rejection.empty()) {
      auto* r = report.add_rejections();
      r->set_line(l.line);
      r->set_reason(l.rejection);
      report.set_rejected(report.rejected() + 1);
      if (!req->dry_run()) metrics_.ImportLines("rejected").Increment();
    }
  }
  // Plans are independent of one another (a slug appears once per file), so a rehearsal reads
  // what is stored and plans every line exactly as the import would, and writes nothing.
  const ImportContext ictx{.actor = p->id, .now = now, .new_id = [now] { return NewUuidV7(now); }};
  auto run = [&](IncubationTx& tx) -> absl::Status {
    for (const auto& l : lines) {
      if (!l.rejection.empty()) continue;
      const std::string& slug = l.details.startup().slug();
      auto state = LoadImportState(tx, slug);
      if (!state.ok()) return state.status();
      const ImportPlan plan = PlanImport(*state, l, ictx);
      Report(plan, l, &report);
      if (!req->dry_run()) PEP_RETURN_IF_ERROR(WritePlan(tx, plan, slug, l.details, p->id));
    }
    return absl::OkStatus();
  };
  if (req->dry_run()) {
    PEP_GRPC_RETURN_IF_ERROR(store_.Read(run));
  } else {
    PEP_GRPC_RETURN_IF_ERROR(store_.Write(run));
    if (report.events_emitted() > 0) Committed();
  }
  for (const auto& w : report.warnings()) ++(*report.mutable_warnings_by_rule())[w.rule()];
  LogInfo("portfolio imported", {{"read", absl::StrCat(report.read())},
                                 {"created", absl::StrCat(report.created())},
                                 {"updated", absl::StrCat(report.updated())},
                                 {"unchanged", absl::StrCat(report.unchanged())},
                                 {"rejected", absl::StrCat(report.rejected())},
                                 {"dry_run", req->dry_run() ? "true" : "false"}});
  *out = std::move(report);
  return grpc::Status::OK;
}

}  // namespace pep::incubation
