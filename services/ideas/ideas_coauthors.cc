// Co-authors: an idea's author (or a co-author) makes a single-use invitation — a random code
// shown once, of which only the SHA-256 is kept, valid 14 days — and sends it to a colleague;
// the colleague joins with it and is an author from then on (reads, edits, withdraws, is told;
// never on its jury). Neither the code nor the co-author's name goes on the topic.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "sealed/sealed.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"
#include "tlog/merkle.h"

namespace pep::ideas {

namespace {

constexpr absl::Duration kInvitationLife = absl::Hours(24 * 14);

std::string CodeHash(const std::string& code) {
  const tlog::Hash h = tlog::Sha256(code);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

grpc::Status IdeasService::InviteCoauthor(grpc::ServerContext* ctx, const v1::InviteCoauthorRequest* req,
                                          v1::CoauthorInvitation* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->idea_id())) return ToGrpcStatus(FieldError("idea_id", "is not a valid id"));
  const std::string code = absl::BytesToHexString(sealed::NewSalt().substr(0, 16));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto idea = tx.GetIdea(req->idea_id());
    if (!idea.ok()) return idea.status();
    if (!IsAuthor(*idea, p->id)) {
      return absl::PermissionDeniedError("only the idea's authors invite a co-author");
    }
    if (idea->status() == v1::IDEA_STATUS_WITHDRAWN) {
      return absl::FailedPreconditionError("this idea was withdrawn: it takes no co-author");
    }
    if (idea->status() == v1::IDEA_STATUS_MERGED) {
      return absl::FailedPreconditionError("this idea was merged into " + idea->merged_into() +
                                           ": invite co-authors there");
    }
    if (idea->status() == v1::IDEA_STATUS_DRAFT) {
      return absl::FailedPreconditionError("this idea is a draft: send it first, then invite co-authors");
    }
    const absl::Time now = tx.Now();
    PEP_RETURN_IF_ERROR(tx.PutInvitation(CodeHash(code), idea->id(), now + kInvitationLife));
    idea->set_version(idea->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutIdea(*idea));
    v1::CoauthorInvited ev;
    ev.set_idea_id(idea->id());
    *ev.mutable_expires_at() = ToTimestamp(now + kInvitationLife);
    out->set_idea_id(idea->id());
    out->set_code(code);
    *out->mutable_expires_at() = ev.expires_at();
    return tx.Emit(idea->id(), idea->id(), idea->version(), ev, p->id, now);
  }));
  Committed(false);
  return grpc::Status::OK;
}

grpc::Status IdeasService::JoinIdea(grpc::ServerContext* ctx, const v1::JoinIdeaRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!p->HasRole("agent")) return ToGrpcStatus(absl::PermissionDeniedError("co-authors are agents"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateJoin(*req));
  v1::Idea idea;
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(req->idea_id(), &idea, &c));
    if (IsAuthor(idea, p->id)) return absl::AlreadyExistsError("'" + p->id + "' is an author of this idea already");
    if (internal::IsJurorOf(*p, c)) {
      return absl::FailedPreconditionError("a juror of this challenge does not join one of its ideas");
    }
    PEP_RETURN_IF_ERROR(tx.UseInvitation(CodeHash(req->code()), idea.id(), p->id));
    const absl::Time now = tx.Now();
    auto* co = idea.add_coauthors();
    co->set_account_id(p->id);
    co->set_name(req->name());
    *co->mutable_joined_at() = ToTimestamp(now);
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    PEP_RETURN_IF_ERROR(tx.PutCoauthor(idea.id(), p->id));
    v1::CoauthorJoined ev;
    ev.set_idea_id(idea.id());
    ev.set_account_id(p->id);
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now);
  }));
  Committed(false);
  internal::ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

}  // namespace pep::ideas
