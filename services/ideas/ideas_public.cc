// The idea behind a public start-up (issue 30): each author says whether their name may appear
// on the start-up's public page (SetPublicCredit, on the ledger as PublicCreditChanged), and the
// gateway asks what of selected ideas it may show (ListPublicOrigins: title, challenge, date, the
// names of the authors who agreed) for start-ups whose publication policy shows their origin.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "services/ideas/ideas_core.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

using internal::ShowTo;

grpc::Status IdeasService::SetPublicCredit(grpc::ServerContext* ctx, const v1::SetPublicCreditRequest* req,
                                           v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(CheckId("idea_id", req->idea_id()));
  v1::Idea idea;
  v1::Challenge c;
  bool changed = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(req->idea_id(), &idea, &c));
    if (!IsAuthor(idea, p->id)) {
      return absl::PermissionDeniedError("only an author of the idea says whether their own name is shown");
    }
    auto* credit = idea.mutable_public_credit();
    const auto at = std::find(credit->begin(), credit->end(), p->id);
    if ((at != credit->end()) == req->consent()) return absl::OkStatus();  // as it is
    if (req->consent()) {
      credit->Add(std::string(p->id));
    } else {
      credit->erase(at);
    }
    changed = true;
    const absl::Time now = tx.Now();
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    v1::PublicCreditChanged ev;
    ev.set_idea_id(idea.id());
    ev.set_account_id(p->id);
    ev.set_consent(req->consent());
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now);
  }));
  if (changed) Committed(false);
  ShowStage(c, store_.Now(), &idea);
  ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::ListPublicOrigins(grpc::ServerContext* ctx, const v1::ListPublicOriginsRequest* req,
                                             v1::ListPublicOriginsResponse* out) {
  PEP_GRPC_RETURN_IF_ERROR(Caller(ctx).status());  // anyone: only selected ideas, only consented names
  if (req->idea_ids_size() > 1000) return ToGrpcStatus(FieldError("idea_ids", "at most 1000"));
  for (const std::string& id : req->idea_ids()) {
    auto idea = store_.GetIdea(id);
    if (absl::IsNotFound(idea.status()) || absl::IsInvalidArgument(idea.status())) continue;
    PEP_GRPC_RETURN_IF_ERROR(idea.status());
    if (idea->status() != v1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION) continue;
    auto c = store_.GetChallenge(idea->challenge_id());
    PEP_GRPC_RETURN_IF_ERROR(c.status());
    v1::PublicOrigin& o = *out->add_origins();
    o.set_idea_id(idea->id());
    o.set_title(idea->title());
    o.set_challenge_title(c->title());
    *o.mutable_submitted_at() = idea->submitted_at();
    auto agreed = [&](const std::string& account) {
      return std::find(idea->public_credit().begin(), idea->public_credit().end(), account) !=
             idea->public_credit().end();
    };
    if (!idea->awaiting_claim() && agreed(idea->author_id())) o.add_credited(idea->author_name());
    for (const auto& co : idea->coauthors()) {
      if (agreed(co.account_id())) o.add_credited(co.name());
    }
  }
  return grpc::Status::OK;
}

}  // namespace pep::ideas
