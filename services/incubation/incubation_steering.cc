// pep-incubation's steering RPCs (issue 31): indicators and their measures (the start-up's team
// or a coordinator), committee meetings (coordinators), the team's ask to a meeting, and the
// pre-read — folded from the start-up's journal (libs/portfolio/preread.h), its hash on the
// ledger in PreReadIssued, so pep-audit regenerates it from the ledger byte for byte.
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "portfolio/preread.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/service_helpers.h"
#include "services/incubation/steering_rules.h"

namespace pep::incubation {

using internal::CheckScope;
using internal::RequireCoordinator;

namespace {

// Coordinators and auditors read every meeting; a product team the meetings judging one of its
// start-ups.
bool ReadsAllMeetings(const auth::Principal& p) { return p.HasRole("coordinator") || p.HasRole("auditor"); }

bool SeesMeeting(const auth::Principal& p, const v1::CommitteeMeeting& m) {
  if (ReadsAllMeetings(p)) return true;
  for (const auto& id : m.startup_ids()) {
    if (p.CoversStartup(id)) return true;
  }
  return false;
}

bool OnAgenda(const v1::CommitteeMeeting& m, const std::string& startup_id) {
  for (const auto& id : m.startup_ids()) {
    if (id == startup_id) return true;
  }
  return false;
}

absl::Status NotOnAgenda(const v1::CommitteeMeeting& m, const std::string& startup_id) {
  return absl::FailedPreconditionError(absl::StrCat("start-up ", startup_id,
                                                    " is not on the agenda of committee meeting ", m.id()));
}

}  // namespace

grpc::Status IncubationService::DefineKpi(grpc::ServerContext* ctx, const v1::DefineKpiRequest* req,
                                          v1::KpiDefinition* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!req->has_kpi()) return ToGrpcStatus(FieldError("kpi", "is required"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateKpiDefinition(req->kpi()));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    const absl::Time now = tx.Now();
    v1::KpiDefinition k = req->kpi();
    k.set_startup_id(st->id());
    k.set_defined_by(p->id);
    *k.mutable_defined_at() = ToTimestamp(now);
    if (k.north_star()) {  // one North Star: the others lose it (their rows; the event says it)
      auto all = tx.Kpis(st->id());
      if (!all.ok()) return all.status();
      for (auto& other : *all) {
        if (other.id() == k.id() || !other.north_star()) continue;
        other.set_north_star(false);
        PEP_RETURN_IF_ERROR(tx.PutKpi(other));
      }
    }
    PEP_RETURN_IF_ERROR(tx.PutKpi(k));
    st->set_version(st->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
    v1::KpiDefined ev;
    *ev.mutable_kpi() = k;
    PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, p->id, now));
    *out = std::move(k);
    return absl::OkStatus();
  }));
  Committed();
  return grpc::Status::OK;
}

grpc::Status IncubationService::RecordKpiPoint(grpc::ServerContext* ctx, const v1::RecordKpiPointRequest* req,
                                               v1::KpiPoint* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateKpiPoint(*req, clock_.Now()));
  bool wrote = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto kpis = tx.Kpis(st->id());
    if (!kpis.ok()) return kpis.status();
    bool known = false;
    for (const auto& k : *kpis) known = known || k.id() == req->kpi();
    if (!known) {
      return absl::NotFoundError(absl::StrCat("kpi: start-up ", st->id(), " has no indicator '", req->kpi(),
                                              "' (define it first)"));
    }
    auto existing = tx.KpiPointByKey(st->id(), req->kpi(), req->idempotency_key());
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {  // a retried push: the same point, or a refusal naming the key
      const v1::KpiPoint& e = **existing;
      if (e.date().seconds() != req->date().seconds() || e.value() != req->value()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "idempotency_key: '", req->idempotency_key(), "' already recorded another measure of ", req->kpi()));
      }
      *out = e;
      return absl::OkStatus();
    }
    const absl::Time now = tx.Now();
    v1::KpiPoint pt;
    pt.set_startup_id(st->id());
    pt.set_kpi(req->kpi());
    *pt.mutable_date() = req->date();
    pt.set_value(req->value());
    pt.set_idempotency_key(req->idempotency_key());
    pt.set_recorded_by(p->id);
    *pt.mutable_recorded_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutKpiPoint(pt));
    st->set_version(st->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
    v1::KpiPointRecorded ev;
    *ev.mutable_point() = pt;
    PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, p->id, FromTimestamp(req->date())));
    *out = std::move(pt);
    wrote = true;
    return absl::OkStatus();
  }));
  if (wrote) Committed();
  return grpc::Status::OK;
}

grpc::Status IncubationService::ListKpis(grpc::ServerContext* ctx, const v1::ListKpisRequest* req,
                                         v1::ListKpisResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  return ToGrpcStatus(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    if (!p->HasRole("auditor")) PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto kpis = tx.Kpis(st->id());
    if (!kpis.ok()) return kpis.status();
    auto points = tx.KpiPoints(st->id());
    if (!points.ok()) return points.status();
    for (auto& k : *kpis) *out->add_kpis() = std::move(k);
    for (auto& pt : *points) *out->add_points() = std::move(pt);
    return absl::OkStatus();
  }));
}

grpc::Status IncubationService::ScheduleCommittee(grpc::ServerContext* ctx, const v1::ScheduleCommitteeRequest* req,
                                                  v1::CommitteeMeeting* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "scheduling a committee"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateCommittee(*req, clock_.Now()));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    const absl::Time now = tx.Now();
    v1::CommitteeMeeting m;
    m.set_id(NewUuidV7(now));
    *m.mutable_date() = req->date();
    m.set_title(req->title());
    *m.mutable_invitees() = req->invitees();
    std::set<std::string> seen;
    for (int i = 0; i < req->startup_ids_size(); ++i) {
      auto st = tx.GetStartup(req->startup_ids(i));
      if (absl::IsNotFound(st.status())) {
        return absl::NotFoundError(absl::StrCat("startup_ids[", i, "]: no start-up '", req->startup_ids(i), "'"));
      }
      if (!st.ok()) return st.status();
      if (!seen.insert(st->id()).second) {
        return FieldError(absl::StrCat("startup_ids[", i, "]"), "listed twice");
      }
      m.add_startup_ids(st->id());
    }
    m.set_scheduled_by(p->id);
    *m.mutable_scheduled_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutCommittee(m));
    v1::CommitteeScheduled ev;
    ev.set_meeting_id(m.id());
    *ev.mutable_date() = m.date();
    ev.set_title(m.title());
    *ev.mutable_startup_ids() = m.startup_ids();
    ev.set_invitees(m.invitees_size());
    PEP_RETURN_IF_ERROR(tx.EmitOwn(m.id(), 1, p->id, now, ev));
    *out = std::move(m);
    return absl::OkStatus();
  }));
  Committed();
  return grpc::Status::OK;
}

grpc::Status IncubationService::ListCommittees(grpc::ServerContext* ctx, const v1::ListCommitteesRequest*,
                                               v1::ListCommitteesResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  return ToGrpcStatus(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto all = tx.Committees();
    if (!all.ok()) return all.status();
    for (auto& m : *all) {
      if (SeesMeeting(*p, m)) *out->add_meetings() = std::move(m);
    }
    return absl::OkStatus();
  }));
}

grpc::Status IncubationService::GetCommittee(grpc::ServerContext* ctx, const v1::GetCommitteeRequest* req,
                                             v1::CommitteeDetails* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->meeting_id())) return ToGrpcStatus(FieldError("meeting_id", "must be a committee meeting's id"));
  return ToGrpcStatus(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto m = tx.GetCommittee(req->meeting_id());
    if (!m.ok()) return m.status();
    if (!SeesMeeting(*p, *m)) {
      return absl::PermissionDeniedError(absl::StrCat("'", p->id, "' is not concerned by committee meeting ", m->id()));
    }
    const bool all = ReadsAllMeetings(*p);
    for (const auto& id : m->startup_ids()) {
      auto st = tx.GetStartup(id);
      out->add_startup_names(st.ok() ? st->name() : id);
    }
    auto asks = tx.Asks(m->id());
    if (!asks.ok()) return asks.status();
    for (auto& a : *asks) {
      if (all || p->CoversStartup(a.startup_id())) *out->add_asks() = std::move(a);
    }
    auto reads = tx.PreReads(m->id());
    if (!reads.ok()) return reads.status();
    for (auto& r : *reads) {
      if (!all && !p->CoversStartup(r.startup_id())) continue;
      r.clear_document();
      *out->add_prereads() = std::move(r);
    }
    *out->mutable_meeting() = std::move(*m);
    return absl::OkStatus();
  }));
}

grpc::Status IncubationService::SubmitCommitteeAsk(grpc::ServerContext* ctx, const v1::SubmitCommitteeAskRequest* req,
                                                   v1::CommitteeAsk* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->meeting_id())) return ToGrpcStatus(FieldError("meeting_id", "must be a committee meeting's id"));
  if (!req->has_ask()) return ToGrpcStatus(FieldError("ask", "is required"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateAsk(req->ask()));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto m = tx.GetCommittee(req->meeting_id());
    if (!m.ok()) return m.status();
    if (!OnAgenda(*m, st->id())) return NotOnAgenda(*m, st->id());
    const absl::Time now = tx.Now();
    if (FromTimestamp(m->date()) + absl::Hours(24) < now) {
      return absl::FailedPreconditionError(absl::StrCat("committee meeting ", m->id(),
                                                        " has taken place: its asks are closed"));
    }
    v1::CommitteeAsk a = req->ask();
    a.set_meeting_id(m->id());
    a.set_startup_id(st->id());
    a.set_submitted_by(p->id);
    *a.mutable_submitted_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutAsk(a));
    st->set_version(st->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
    v1::CommitteeAskSubmitted ev;
    *ev.mutable_ask() = a;
    *ev.mutable_meeting_date() = m->date();
    PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, p->id, now));
    *out = std::move(a);
    return absl::OkStatus();
  }));
  Committed();
  return grpc::Status::OK;
}

grpc::Status IncubationService::IssuePreRead(grpc::ServerContext* ctx, const v1::IssuePreReadRequest* req,
                                             v1::PreRead* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "issuing a pre-read"));
  if (!IsUuid(req->meeting_id())) return ToGrpcStatus(FieldError("meeting_id", "must be a committee meeting's id"));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    auto m = tx.GetCommittee(req->meeting_id());
    if (!m.ok()) return m.status();
    if (!OnAgenda(*m, st->id())) return NotOnAgenda(*m, st->id());
    portfolio::SteeringFold fold;
    PEP_RETURN_IF_ERROR(tx.FoldJournal(st->id(), &fold));
    const absl::Time now = tx.Now();
    v1::PreRead r;
    r.set_id(NewUuidV7(now));
    r.set_meeting_id(m->id());
    r.set_startup_id(st->id());
    *r.mutable_issued_at() = ToTimestamp(now);
    r.set_issued_by(p->id);
    // The instant as the ledger will carry it (PreReadIssued.issued_at), so a reader of the
    // ledger regenerates from exactly the same inputs.
    r.set_document(portfolio::BuildPreRead(
        fold.state(), {.id = m->id(), .title = m->title(), .date = FromTimestamp(m->date())},
        FromTimestamp(r.issued_at())));
    r.set_sha256(portfolio::DocumentSha256(r.document()));
    PEP_RETURN_IF_ERROR(tx.PutPreRead(r));
    st->set_version(st->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
    v1::PreReadIssued ev;
    ev.set_preread_id(r.id());
    ev.set_meeting_id(m->id());
    ev.set_startup_id(st->id());
    *ev.mutable_meeting_date() = m->date();
    ev.set_meeting_title(m->title());
    ev.set_sha256(r.sha256());
    *ev.mutable_issued_at() = r.issued_at();
    PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, p->id, now));
    *out = std::move(r);
    return absl::OkStatus();
  }));
  Committed();
  return grpc::Status::OK;
}

grpc::Status IncubationService::GetPreRead(grpc::ServerContext* ctx, const v1::GetPreReadRequest* req,
                                           v1::PreRead* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->preread_id())) return ToGrpcStatus(FieldError("preread_id", "must be a pre-read's id"));
  return ToGrpcStatus(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto r = tx.GetPreRead(req->preread_id());
    if (!r.ok()) return r.status();
    if (!p->HasRole("auditor")) PEP_RETURN_IF_ERROR(CheckScope(*p, r->startup_id()));
    *out = std::move(*r);
    return absl::OkStatus();
  }));
}

}  // namespace pep::incubation
