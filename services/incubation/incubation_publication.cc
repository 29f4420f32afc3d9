// Publication (issue 30): a coordinator publishes a start-up with a policy — which parts anyone
// may read — recorded on the start-up and as PublicationChanged on the ledger; ListPublicStartups
// answers anyone (no role needed) with the published start-ups' public parts only (PublicView),
// each fact shown with the id of its attestation on the ledger (IncubationTx::AttestPublicFacts).
#include "common/proto_time.h"
#include "common/status.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/publication.h"
#include "services/incubation/service_helpers.h"

namespace pep::incubation {

using internal::RequireCoordinator;

grpc::Status IncubationService::SetPublication(grpc::ServerContext* ctx, const v1::SetPublicationRequest* req,
                                               v1::Startup* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "publishing a start-up"));
  if (req->startup_id().empty()) return ToGrpcStatus(FieldError("startup_id", "is required"));
  if (!req->has_policy()) return ToGrpcStatus(FieldError("policy", "is required"));
  v1::Startup st;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto got = tx.GetStartup(req->startup_id());
    if (!got.ok()) return got.status();
    st = std::move(*got);
    v1::PublicationPolicy next = req->policy();
    next.clear_changed_by();
    next.clear_changed_at();
    v1::PublicationPolicy now_policy = st.publication();
    now_policy.clear_changed_by();
    now_policy.clear_changed_at();
    if (next.SerializeAsString() == now_policy.SerializeAsString()) return absl::OkStatus();  // as it is
    next.set_changed_by(p->id);
    *next.mutable_changed_at() = ToTimestamp(tx.Now());
    *st.mutable_publication() = next;
    st.set_version(st.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    v1::PublicationChanged ev;
    ev.set_startup_id(st.id());
    *ev.mutable_policy() = next;
    return tx.Emit(st, ev, p->id, tx.Now());
  }));
  Committed();
  Decorate(&st);
  *out = std::move(st);
  return grpc::Status::OK;
}

grpc::Status IncubationService::ListPublicStartups(grpc::ServerContext* ctx, const v1::ListPublicStartupsRequest*,
                                                   v1::ListPublicStartupsResponse* out) {
  auto p = Caller(ctx);  // anyone: the gateway's public caller included
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  auto all = store_.AllStartups();
  PEP_GRPC_RETURN_IF_ERROR(all.status());
  std::vector<v1::Startup> published;
  for (auto& s : *all) {
    if (s.publication().published()) published.push_back(std::move(s));
  }
  std::sort(published.begin(), published.end(),
            [](const v1::Startup& a, const v1::Startup& b) { return a.slug() < b.slug(); });
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](IncubationTx& tx) -> absl::Status {
    for (auto& s : published) {
      v1::StartupDetails d;
      if (s.publication().events()) {  // read only what may be shown
        auto decisions = tx.Decisions(s.id());
        if (!decisions.ok()) return decisions.status();
        auto milestones = tx.Milestones(s.id());
        if (!milestones.ok()) return milestones.status();
        for (auto& c : *decisions) *d.add_decisions() = std::move(c);
        for (auto& m : *milestones) *d.add_milestones() = std::move(m);
      }
      auto facts = tx.FactIds(s.id());
      if (!facts.ok()) return facts.status();
      *d.mutable_startup() = std::move(s);
      if (auto view = PublicView(d, &*facts)) *out->add_startups() = std::move(*view);
    }
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

}  // namespace pep::incubation
