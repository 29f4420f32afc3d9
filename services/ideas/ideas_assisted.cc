// Assisted submission: a relais — a coordinator, or an agent a coordinator named on the
// challenge (a service's référent, a collège's secretary) — files an idea for a colleague who
// has no computer at work. Until that colleague signs in, the relais holds the idea as its
// author (the receipt and the jury's decisions come to them, to pass on); when the colleague
// signs in with the e-mail the relais gave, the gateway asks pep-ideas to hand it over
// (ClaimIdeas). Only the SHA-256 of the lower-cased address indexes the waiting ideas; the
// address stays the idea's contact, off the topic like every contact.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"
#include "tlog/merkle.h"

namespace pep::ideas {

std::string ClaimKey(std::string_view email) {
  const tlog::Hash h = tlog::Sha256(absl::AsciiStrToLower(absl::StripAsciiWhitespace(std::string(email))));
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

grpc::Status IdeasService::SetRelays(grpc::ServerContext* ctx, const v1::SetRelaysRequest* req,
                                     v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(internal::RequireCoordinator(*p, "naming a challenge's relais"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateRelays(*req));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetChallenge(req->challenge_id());
    if (!got.ok()) return got.status();
    c = std::move(*got);
    google::protobuf::RepeatedPtrField<std::string> relays;
    for (const auto& id : req->relay_ids()) {
      if (std::find(relays.begin(), relays.end(), id) == relays.end()) *relays.Add() = id;
    }
    if (std::equal(relays.begin(), relays.end(), c.relay_ids().begin(), c.relay_ids().end())) {
      return absl::OkStatus();  // as it is
    }
    *c.mutable_relay_ids() = relays;
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    v1::RelaysSet ev;
    ev.set_challenge_id(c.id());
    *ev.mutable_relay_ids() = relays;
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::ClaimIdeas(grpc::ServerContext* ctx, const v1::ClaimIdeasRequest* req,
                                      v1::ClaimIdeasResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!p->HasRole("agent")) return ToGrpcStatus(absl::PermissionDeniedError("ideas are claimed by agents"));
  PEP_GRPC_RETURN_IF_ERROR(CheckText("email", req->email(), 3, 254));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto ids = tx.TakeClaims(ClaimKey(req->email()));
    if (!ids.ok()) return ids.status();
    const absl::Time now = tx.Now();
    for (const std::string& id : *ids) {
      auto idea = tx.GetIdea(id);
      if (!idea.ok()) return idea.status();
      if (!idea->awaiting_claim()) continue;
      if (idea->filed_by() == p->id) {  // the relais filed it with their own address: theirs already
        idea->set_awaiting_claim(false);
      } else {
        auto& co = *idea->mutable_coauthors();  // a co-author claiming it becomes its author
        co.erase(std::remove_if(co.begin(), co.end(),
                                [&](const v1::Coauthor& a) { return a.account_id() == p->id; }),
                 co.end());
        PEP_RETURN_IF_ERROR(tx.DeleteCoauthor(id, p->id));
        idea->set_author_id(p->id);
        idea->set_awaiting_claim(false);
      }
      idea->set_version(idea->version() + 1);
      *idea->mutable_updated_at() = ToTimestamp(now);
      PEP_RETURN_IF_ERROR(tx.PutIdea(*idea));
      v1::IdeaClaimed ev;
      ev.set_idea_id(id);
      ev.set_account_id(p->id);
      ev.set_filed_by(idea->filed_by());
      PEP_RETURN_IF_ERROR(tx.Emit(id, id, idea->version(), ev, p->id, now));
      out->add_idea_ids(id);
    }
    return absl::OkStatus();
  }));
  if (out->idea_ids_size() > 0) Committed(false);
  return grpc::Status::OK;
}

}  // namespace pep::ideas
