// Agents taking part: a challenge's visibility (who reads its ideas) and supports — one per
// agent per idea, withdrawable, counted on the idea, a signal for the jury; a coordinator's
// threshold may shortlist an idea by its supports alone.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

using internal::MayRead;
using internal::RequireCoordinator;
using internal::ShowTo;

grpc::Status IdeasService::SetChallengeVisibility(grpc::ServerContext* ctx,
                                                  const v1::SetChallengeVisibilityRequest* req,
                                                  v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "changing who reads a challenge's ideas"));
  if (!IsUuid(req->challenge_id())) return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateVisibility(req->visibility(), req->support_threshold(), /*required=*/true));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetChallenge(req->challenge_id());
    if (!got.ok()) return got.status();
    c = std::move(*got);
    if (c.visibility() == req->visibility() && c.support_threshold() == req->support_threshold() &&
        c.blind_review() == req->blind_review()) {
      return absl::OkStatus();  // as it is: nothing to record
    }
    c.set_visibility(req->visibility());
    c.set_support_threshold(req->support_threshold());
    c.set_blind_review(req->blind_review());
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    v1::ChallengeVisibilityChanged ev;
    ev.set_challenge_id(c.id());
    ev.set_visibility(c.visibility());
    ev.set_support_threshold(c.support_threshold());
    ev.set_blind_review(c.blind_review());
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::ChangeSupport(grpc::ServerContext* ctx, const std::string& idea_id,
                                         bool support, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!p->HasRole("agent")) {
    return ToGrpcStatus(absl::PermissionDeniedError("supporting an idea is for agents"));
  }
  if (!IsUuid(idea_id)) return ToGrpcStatus(FieldError("idea_id", "is not a valid id"));
  v1::Idea idea;
  v1::Challenge c;
  bool shortlisted = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(idea_id, &idea, &c));
    if (!MayRead(*p, c, idea)) {
      return absl::PermissionDeniedError("this idea is not readable by '" + p->id + "'");
    }
    const absl::Time now = tx.Now();
    if (support) {
      if (c.visibility() != v1::VISIBILITY_AGENTS) {
        return absl::FailedPreconditionError(
            "supports are open in challenges visible to all agents; this one is its jury's");
      }
      if (IsAuthor(idea, p->id)) {
        return absl::FailedPreconditionError("an author does not support their own idea");
      }
      if (idea.status() != v1::IDEA_STATUS_SUBMITTED && idea.status() != v1::IDEA_STATUS_SHORTLISTED) {
        return absl::FailedPreconditionError("the jury has decided on this idea: supports are closed");
      }
      auto fresh = tx.PutSupport(idea.id(), p->id);
      if (!fresh.ok()) return fresh.status();
      if (!*fresh) return absl::AlreadyExistsError("'" + p->id + "' supports this idea already");
      idea.set_supports(idea.supports() + 1);
    } else {
      auto removed = tx.DeleteSupport(idea.id(), p->id);
      if (!removed.ok()) return removed.status();
      if (!*removed) return absl::NotFoundError("'" + p->id + "' does not support this idea");
      idea.set_supports(std::max(0, idea.supports() - 1));
    }
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(now);
    // The coordinator's threshold: enough agents shortlist a submitted idea by themselves.
    shortlisted = support && c.support_threshold() > 0 && idea.supports() >= c.support_threshold() &&
                  idea.status() == v1::IDEA_STATUS_SUBMITTED;
    if (shortlisted) {
      v1::Decision d;
      d.set_outcome(v1::IDEA_STATUS_SHORTLISTED);
      d.set_rationale(absl::StrFormat("%d agents la soutiennent (seuil du défi : %d)", idea.supports(),
                                      c.support_threshold()));
      d.set_decided_by("pep-ideas");
      *d.mutable_decided_at() = ToTimestamp(now);
      idea.set_status(v1::IDEA_STATUS_SHORTLISTED);
      *idea.mutable_last_decision() = d;
    }
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    auto emit = [&](auto ev) {
      ev.set_idea_id(idea.id());
      ev.set_account_id(p->id);
      ev.set_supports(idea.supports());
      return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now);
    };
    PEP_RETURN_IF_ERROR(support ? emit(v1::IdeaSupported()) : emit(v1::IdeaSupportWithdrawn()));
    if (!shortlisted) return absl::OkStatus();
    v1::IdeaShortlisted ev;
    ev.set_idea_id(idea.id());
    *ev.mutable_decision() = idea.last_decision();
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, "pep-ideas", now);
  }));
  Committed(shortlisted);
  idea.set_supported_by_me(support);
  ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::SupportIdea(grpc::ServerContext* ctx, const v1::SupportIdeaRequest* req,
                                       v1::Idea* out) {
  return ChangeSupport(ctx, req->idea_id(), true, out);
}

grpc::Status IdeasService::WithdrawSupport(grpc::ServerContext* ctx,
                                           const v1::SupportIdeaRequest* req, v1::Idea* out) {
  return ChangeSupport(ctx, req->idea_id(), false, out);
}

absl::StatusOr<std::vector<v1::DuplicateHint>> IdeasService::ReadableHints(
    const auth::Principal& p, const std::string& challenge_id, std::vector<v1::DuplicateHint> hints) {
  std::vector<v1::DuplicateHint> out;
  if (hints.empty()) return out;
  auto c = store_.GetChallenge(challenge_id);
  if (!c.ok()) return c.status();
  for (auto& h : hints) {
    auto idea = store_.GetIdea(h.idea_id());
    if (!idea.ok()) continue;  // gone since the index saw it
    if (MayRead(p, *c, *idea)) out.push_back(std::move(h));
  }
  return out;
}

std::string IdeasService::SimilarityMethod() const {
  return absl::StrFormat("Jaccard similarity of word-trigram sets (title, problem, proposal) >= %.2f",
                         options_.duplicate_threshold);
}

grpc::Status IdeasService::FindSimilarIdeas(grpc::ServerContext* ctx,
                                            const v1::FindSimilarIdeasRequest* req,
                                            v1::FindSimilarIdeasResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateSimilar(*req));
  v1::Idea draft;  // the text as IdeaText joins it for a stored idea
  draft.set_title(req->title());
  draft.set_problem(req->problem());
  draft.set_proposal(req->proposal());
  std::vector<v1::DuplicateHint> hints;
  {
    absl::MutexLock l(&index_mu_);
    hints = index_.Similar(req->challenge_id(), IdeaText(draft), options_.duplicate_threshold,
                           options_.duplicate_limit);
  }
  auto readable = ReadableHints(*p, req->challenge_id(), std::move(hints));
  PEP_GRPC_RETURN_IF_ERROR(readable.status());
  for (auto& h : *readable) *out->add_similar_ideas() = std::move(h);
  out->set_similarity_method(SimilarityMethod());
  return grpc::Status::OK;
}

}  // namespace pep::ideas
