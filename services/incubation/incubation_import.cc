// pep-incubation's portfolio import at the RPC edge: each JSON Lines start-up (parsed and
// normalised by incubation_core's ParseImportLine) compared with what is stored, and the events
// that make the difference written in one transaction — or only counted, for a dry run.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/service_helpers.h"

namespace pep::incubation {

namespace {
constexpr int kMaxImportLines = 20000;
}  // namespace

using internal::AsOfFirstPhase;
using internal::Change;
using internal::LinksText;
using internal::RequireCoordinator;

absl::Status IncubationService::ImportOne(IncubationTx& tx, const ImportLine& line,
                                          const std::string& actor, v1::ImportReport* report,
                                          int* events) {
  const v1::StartupDetails& src = line.details;
  const std::string& slug = src.startup().slug();
  auto warn = [&](const std::string& rule, const std::string& detail) {
    auto* w = report->add_warnings();
    w->set_slug(slug);
    w->set_line(line.line);
    w->set_rule(rule);
    w->set_detail(detail);
  };
  auto snapshot = tx.ImportSnapshot(slug);
  if (!snapshot.ok()) return snapshot.status();
  const absl::Time now = tx.Now();
  auto emit = [&](v1::Startup& st, const google::protobuf::Message& ev, absl::Time eff) {
    st.set_version(st.version() + 1);
    ++*events;
    return tx.Emit(st, ev, actor, eff);
  };
  auto add_decision = [&](v1::Startup& st, const v1::CommitteeDecision& from) -> absl::Status {
    v1::CommitteeDecision d = from;
    d.set_id(NewUuidV7(now));
    d.set_startup_id(st.id());
    d.set_recorded_by(actor);
    *d.mutable_recorded_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutDecision(d));
    v1::CommitteeDecisionRecorded ev;
    *ev.mutable_decision() = d;
    return emit(st, ev, FromTimestamp(d.date()));
  };
  auto add_milestone = [&](v1::Startup& st, const v1::Milestone& from) -> absl::Status {
    v1::Milestone m = from;
    m.set_id(NewUuidV7(now));
    m.set_startup_id(st.id());
    m.set_idempotency_key(absl::StrCat("import:", m.date().seconds(), ":", m.title(), ":",
                                       m.description()).substr(0, 128));
    m.set_pushed_by(actor);
    *m.mutable_recorded_at() = ToTimestamp(now);
    auto dup = tx.MilestoneByKey(st.id(), m.idempotency_key());
    if (!dup.ok()) return dup.status();
    if (dup->has_value()) return absl::OkStatus();  // same event listed twice in the source
    PEP_RETURN_IF_ERROR(tx.PutMilestone(m, ""));
    if (!st.has_last_milestone_at() || st.last_milestone_at().seconds() < m.date().seconds()) {
      *st.mutable_last_milestone_at() = m.date();
    }
    metrics_.Milestone(m.kind()).Increment();
    v1::MilestonePushed ev;
    *ev.mutable_milestone() = m;
    return emit(st, ev, FromTimestamp(m.date()));
  };

  if (!snapshot->has_value()) {
    auto taken = tx.SlugTaken(slug);
    if (!taken.ok()) return taken.status();
    if (*taken) {
      auto* r = report->add_rejections();
      r->set_line(line.line);
      r->set_reason(absl::StrCat("slug '", slug, "' is used by a start-up not created by import"));
      report->set_rejected(report->rejected() + 1);
      metrics_.ImportLines("rejected").Increment();
      return absl::OkStatus();
    }
    v1::Startup st = src.startup();
    st.set_id(NewUuidV7(now));
    st.set_correlation_id(st.id());
    *st.mutable_created_at() = ToTimestamp(now);
    v1::StartupCreated created;
    *created.mutable_startup() = AsOfFirstPhase(st);
    created.mutable_startup()->set_id(st.id());
    created.set_imported(true);
    st.set_version(0);
    PEP_RETURN_IF_ERROR(emit(st, created, FromTimestamp(st.phases(0).start())));
    for (int i = 1; i < st.phases_size(); ++i) {
      v1::PhaseChanged ev;
      ev.set_startup_id(st.id());
      ev.set_from(st.phases(i - 1).phase());
      ev.set_to(st.phases(i).phase());
      *ev.mutable_effective_date() = st.phases(i).start();
      ev.set_comment(st.phases(i).comment());
      ev.set_imported(true);
      metrics_.Transition(ev.from(), ev.to()).Increment();
      PEP_RETURN_IF_ERROR(emit(st, ev, FromTimestamp(ev.effective_date())));
    }
    PEP_RETURN_IF_ERROR(tx.PutStartup(st, /*imported=*/true));
    for (const auto& d : src.decisions()) PEP_RETURN_IF_ERROR(add_decision(st, d));
    for (const auto& m : src.milestones()) PEP_RETURN_IF_ERROR(add_milestone(st, m));
    PEP_RETURN_IF_ERROR(tx.PutStartup(st, true));
    PEP_RETURN_IF_ERROR(tx.PutImportSnapshot(slug, src));
    report->set_created(report->created() + 1);
    metrics_.ImportLines("created").Increment();
    return absl::OkStatus();
  }

  const v1::StartupDetails& old = **snapshot;
  if (DeterministicBytes(old) == DeterministicBytes(src)) {
    report->set_unchanged(report->unchanged() + 1);
    metrics_.ImportLines("unchanged").Increment();
    return absl::OkStatus();
  }
  auto current = tx.GetStartup(slug);
  if (!current.ok()) return current.status();
  v1::Startup st = std::move(*current);
  const v1::Startup& n = src.startup();
  const v1::Startup& o = old.startup();
  v1::StartupUpdated upd;
  upd.set_startup_id(st.id());
  if (Change(&upd, "name", o.name(), n.name())) st.set_name(n.name());
  if (Change(&upd, "mission", o.mission(), n.mission())) st.set_mission(n.mission());
  if (Change(&upd, "incubator", o.incubator(), n.incubator())) st.set_incubator(n.incubator());
  if (Change(&upd, "sponsors", absl::StrJoin(o.sponsors(), ","), absl::StrJoin(n.sponsors(), ","))) {
    *st.mutable_sponsors() = n.sponsors();
  }
  if (Change(&upd, "links", LinksText(o.links()), LinksText(n.links()))) {
    *st.mutable_links() = n.links();
  }
  if (upd.changes_size() > 0) PEP_RETURN_IF_ERROR(emit(st, upd, now));

  // Phases: appended ones are transitions; any other difference corrects the history.
  if (DeterministicBytes(AsOfFirstPhase(o)) != DeterministicBytes(AsOfFirstPhase(n)) ||
      o.phases_size() != n.phases_size() || [&] {
        for (int i = 0; i < o.phases_size(); ++i) {
          if (DeterministicBytes(o.phases(i)) != DeterministicBytes(n.phases(i))) return true;
        }
        return false;
      }()) {
    bool prefix = n.phases_size() > o.phases_size();
    for (int i = 0; prefix && i < o.phases_size(); ++i) {
      v1::PhasePeriod a = o.phases(i), b = n.phases(i);
      if (i == o.phases_size() - 1) {
        a.clear_end();
        b.clear_end();
      }
      prefix = DeterministicBytes(a) == DeterministicBytes(b);
    }
    if (prefix) {
      *st.mutable_phases() = n.phases();
      st.set_phase(n.phase());
      for (int i = o.phases_size(); i < n.phases_size(); ++i) {
        v1::PhaseChanged ev;
        ev.set_startup_id(st.id());
        ev.set_from(n.phases(i - 1).phase());
        ev.set_to(n.phases(i).phase());
        *ev.mutable_effective_date() = n.phases(i).start();
        ev.set_comment(n.phases(i).comment());
        ev.set_imported(true);
        metrics_.Transition(ev.from(), ev.to()).Increment();
        PEP_RETURN_IF_ERROR(emit(st, ev, FromTimestamp(ev.effective_date())));
      }
    } else {
      *st.mutable_phases() = n.phases();
      st.set_phase(n.phase());
      v1::PhaseHistoryCorrected ev;
      ev.set_startup_id(st.id());
      *ev.mutable_phases() = n.phases();
      PEP_RETURN_IF_ERROR(emit(st, ev, now));
    }
  }
  // Decisions and milestones: new ones are added; ones gone from the source are kept, reported.
  auto key_d = [](const v1::CommitteeDecision& d) { return DeterministicBytes(d); };
  std::multiset<std::string> old_d, new_d;
  for (const auto& d : old.decisions()) old_d.insert(key_d(d));
  for (const auto& d : src.decisions()) {
    new_d.insert(key_d(d));
    auto it = old_d.find(key_d(d));
    if (it != old_d.end()) {
      old_d.erase(it);
    } else {
      PEP_RETURN_IF_ERROR(add_decision(st, d));
    }
  }
  if (!old_d.empty()) {
    warn("removed_in_source", absl::StrCat(old_d.size(), " committee event(s) no longer in the "
                                           "source: kept"));
  }
  std::multiset<std::string> old_m;
  for (const auto& m : old.milestones()) old_m.insert(DeterministicBytes(m));
  for (const auto& m : src.milestones()) {
    auto it = old_m.find(DeterministicBytes(m));
    if (it != old_m.end()) {
      old_m.erase(it);
    } else {
      PEP_RETURN_IF_ERROR(add_milestone(st, m));
    }
  }
  if (!old_m.empty()) {
    warn("removed_in_source",
         absl::StrCat(old_m.size(), " event(s) no longer in the source: kept"));
  }
  PEP_RETURN_IF_ERROR(tx.PutStartup(st, true));
  PEP_RETURN_IF_ERROR(tx.PutImportSnapshot(slug, src));
  report->set_updated(report->updated() + 1);
  metrics_.ImportLines("updated").Increment();
  return absl::OkStatus();
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
  int events = 0;
  if (!req->dry_run()) {
    PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
      for (const auto& l : lines) {
        if (l.rejection.empty()) PEP_RETURN_IF_ERROR(ImportOne(tx, l, p->id, &report, &events));
      }
      return absl::OkStatus();
    }));
    if (events > 0) Committed();
  }
  report.set_events_emitted(events);
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
