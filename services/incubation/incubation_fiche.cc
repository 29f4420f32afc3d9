// The team keeps its fiche (issue 30): a member of the start-up's team (or a coordinator)
// proposes its mission, links and thematiques; as the incubator chose, the change is live at
// once or waits for a coordinator, who approves or rejects it with a reason. Every change is on
// the ledger with who made it: FicheEditProposed / FicheEditDecided, and the StartupUpdated that
// applies it, whose actor is the proposer (live) or the approving coordinator.

#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/service_helpers.h"

namespace pep::incubation {

using internal::Change;
using internal::CheckScope;
using internal::LinksText;
using internal::RequireCoordinator;

namespace {

bool HasControl(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return true;
  }
  return false;
}

// « usagers = 1200 familles; … », as StartupUpdated records a change.
std::string KpisText(const google::protobuf::RepeatedPtrField<v1::Kpi>& kpis) {
  std::vector<std::string> out;
  for (const auto& k : kpis) out.push_back(absl::StrCat(k.name(), " = ", k.value(), k.unit().empty() ? "" : " ", k.unit()));
  return absl::StrJoin(out, "; ");
}

// The fields are those of UpdateStartup, checked by its rules (ValidateUpdate), plus what its
// document says of a fiche: no control characters, and something to change.
absl::Status ValidateFiche(const v1::ProposeFicheEditRequest& r) {
  if (r.startup_id().empty()) return FieldError("startup_id", "is required");
  const bool links = !r.links().product().empty() || !r.links().repository().empty() || !r.links().stats().empty();
  if (r.mission().empty() && !links && r.tags_size() == 0 && r.kpis_size() == 0) {
    return FieldError("mission", "nothing to change: give a mission, links, thematiques or indicators");
  }
  if (r.kpis_size() > 10) return FieldError("kpis", "at most 10 indicators");
  for (int i = 0; i < r.kpis_size(); ++i) PEP_RETURN_IF_ERROR(ValidateKpi(absl::StrCat("kpis[", i, "]"), r.kpis(i)));
  v1::UpdateStartupRequest same;
  same.set_mission(r.mission());
  *same.mutable_links() = r.links();
  *same.mutable_tags() = r.tags();
  PEP_RETURN_IF_ERROR(ValidateUpdate(same));
  if (HasControl(r.mission())) return FieldError("mission", "must not contain control characters");
  for (int i = 0; i < r.tags_size(); ++i) {
    if (HasControl(r.tags(i))) return FieldError(absl::StrCat("tags[", i, "]"), "must not contain control characters");
  }
  return absl::OkStatus();
}

}  // namespace

// Applies an edit to the start-up: a StartupUpdated with what changed (nothing: no event).
static absl::Status ApplyFiche(IncubationTx& tx, v1::Startup& st, const v1::FicheEdit& e, const std::string& actor) {
  v1::StartupUpdated ev;
  ev.set_startup_id(st.id());
  if (!e.mission().empty() && Change(&ev, "mission", st.mission(), e.mission())) st.set_mission(e.mission());
  if (e.has_links() && Change(&ev, "links", LinksText(st.links()), LinksText(e.links()))) *st.mutable_links() = e.links();
  if (e.tags_size() > 0 && Change(&ev, "tags", absl::StrJoin(st.tags(), ","), absl::StrJoin(e.tags(), ","))) {
    *st.mutable_tags() = e.tags();
  }
  if (e.kpis_size() > 0 && Change(&ev, "kpis", KpisText(st.public_kpis()), KpisText(e.kpis()))) {
    *st.mutable_public_kpis() = e.kpis();
  }
  if (ev.changes_size() == 0) return absl::OkStatus();
  st.set_version(st.version() + 1);
  PEP_RETURN_IF_ERROR(tx.PutStartup(st));
  return tx.Emit(st, ev, actor, tx.Now());
}

grpc::Status IncubationService::ProposeFicheEdit(grpc::ServerContext* ctx, const v1::ProposeFicheEditRequest* req,
                                                 v1::FicheEdit* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateFiche(*req));
  v1::FicheEdit e;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));  // its team, or a coordinator
    const absl::Time now = tx.Now();
    e.set_id(NewUuidV7(now));
    e.set_startup_id(st->id());
    e.set_startup_name(st->name());
    e.set_mission(req->mission());
    if (req->has_links()) *e.mutable_links() = req->links();
    *e.mutable_tags() = req->tags();
    *e.mutable_kpis() = req->kpis();
    e.set_proposed_by(p->id);
    *e.mutable_proposed_at() = ToTimestamp(now);
    const bool live = !options_.fiche_edits_reviewed || p->HasRole("coordinator");
    e.set_status(live ? v1::FICHE_EDIT_STATUS_APPLIED : v1::FICHE_EDIT_STATUS_PENDING);
    PEP_RETURN_IF_ERROR(tx.PutFicheEdit(e));
    v1::FicheEditProposed ev;
    *ev.mutable_edit() = e;
    PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, p->id, now));
    return live ? ApplyFiche(tx, *st, e, p->id) : absl::OkStatus();
  }));
  Committed();
  *out = std::move(e);
  return grpc::Status::OK;
}

grpc::Status IncubationService::ListFicheEdits(grpc::ServerContext* ctx, const v1::ListFicheEditsRequest* req,
                                               v1::ListFicheEditsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->startup_id().empty()) PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "the queue of every fiche edit"));
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](IncubationTx& tx) -> absl::Status {
    std::string id;
    if (!req->startup_id().empty()) {
      auto st = tx.GetStartup(req->startup_id());
      if (!st.ok()) return st.status();
      PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));  // a team reads its own start-up's
      id = st->id();
    }
    auto edits = tx.FicheEdits(id, req->status());
    if (!edits.ok()) return edits.status();
    for (auto& e : *edits) *out->add_edits() = std::move(e);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status IncubationService::DecideFicheEdit(grpc::ServerContext* ctx, const v1::DecideFicheEditRequest* req,
                                                v1::FicheEdit* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "reviewing a fiche edit"));
  if (!IsUuid(req->edit_id())) return ToGrpcStatus(FieldError("edit_id", "is not a valid id"));
  if (!req->approve() && req->reason().empty()) {
    return ToGrpcStatus(FieldError("reason", "is required to reject an edit (the team reads it)"));
  }
  if (Utf8Length(req->reason()) > 500) return ToGrpcStatus(FieldError("reason", "at most 500 characters"));
  if (HasControl(req->reason())) return ToGrpcStatus(FieldError("reason", "must not contain control characters"));
  v1::FicheEdit e;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto got = tx.GetFicheEdit(req->edit_id());
    if (!got.ok()) return got.status();
    e = std::move(*got);
    if (e.status() != v1::FICHE_EDIT_STATUS_PENDING) {
      return absl::FailedPreconditionError("this fiche edit was decided already");
    }
    auto st = tx.GetStartup(e.startup_id());
    if (!st.ok()) return st.status();
    const absl::Time now = tx.Now();
    e.set_status(req->approve() ? v1::FICHE_EDIT_STATUS_APPROVED : v1::FICHE_EDIT_STATUS_REJECTED);
    e.set_decided_by(p->id);
    *e.mutable_decided_at() = ToTimestamp(now);
    e.set_reason(req->reason());
    PEP_RETURN_IF_ERROR(tx.PutFicheEdit(e));
    v1::FicheEditDecided ev;
    *ev.mutable_edit() = e;
    PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, p->id, now));
    return req->approve() ? ApplyFiche(tx, *st, e, p->id) : absl::OkStatus();
  }));
  Committed();
  *out = std::move(e);
  return grpc::Status::OK;
}

}  // namespace pep::incubation
