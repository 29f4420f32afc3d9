// Evaluation stages (eligibility → scoring → optional audition → decision), each with its
// reviewers and dates, set by coordinators; the eligibility check; and clarification — a
// question sent back to an idea's authors that stops its clock: while it waits the idea is
// neither scored nor decided, its authors may edit it, and the stage lasts that much longer for
// it alone. Texts are masked for personal data before storage, as comments are.
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pii/pii.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

using internal::IsJurorOf;
using internal::RequireCoordinator;
using internal::ShowTo;
using internal::UnderReview;

void IdeasService::ShowStage(const v1::Challenge& c, absl::Time now, v1::Idea* idea) {
  absl::Time ends;
  if (!UnderReview(*idea)) return;
  if (const v1::Stage* s = StageOf(c, *idea, now, &ends)) {
    idea->set_stage(s->kind());
    *idea->mutable_stage_ends_at() = ToTimestamp(ends);
  }
}

grpc::Status IdeasService::SetStages(grpc::ServerContext* ctx, const v1::SetStagesRequest* req,
                                     v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "setting a challenge's evaluation stages"));
  PEP_GRPC_RETURN_IF_ERROR(CheckId("challenge_id", req->challenge_id()));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetChallenge(req->challenge_id());
    if (!got.ok()) return got.status();
    c = std::move(*got);
    PEP_RETURN_IF_ERROR(ValidateStages(*req, c));
    *c.mutable_stages() = req->stages();
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    v1::StagesSet ev;
    ev.set_challenge_id(c.id());
    *ev.mutable_stages() = c.stages();
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::CheckEligibility(grpc::ServerContext* ctx, const v1::CheckEligibilityRequest* req,
                                            v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateEligibility(*req));
  v1::Idea idea;
  v1::Challenge c;
  bool held = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(req->idea_id(), &idea, &c));
    const v1::Stage* stage = FindStage(c, v1::STAGE_KIND_ELIGIBILITY);
    if (!stage) return absl::FailedPreconditionError("this challenge has no eligibility stage");
    const bool reviewer = std::find(stage->reviewer_ids().begin(), stage->reviewer_ids().end(), p->id) !=
                          stage->reviewer_ids().end();
    if (!p->HasRole("coordinator") && !reviewer) {
      return absl::PermissionDeniedError(absl::StrCat(
          "checking eligibility is for coordinators and the eligibility stage's reviewers ('", p->id, "' is not one)"));
    }
    if (IsAuthor(idea, p->id)) return absl::PermissionDeniedError("an author does not check their own idea");
    if (idea.status() != v1::IDEA_STATUS_SUBMITTED || !idea.pending_decisions().empty()) {
      return absl::FailedPreconditionError(absl::StrCat("idea is ", StatusName(idea.status()),
                                                        ": eligibility is checked on a submitted idea"));
    }
    const absl::Time now = tx.Now();
    PEP_RETURN_IF_ERROR(CheckNotWaiting(idea));
    PEP_RETURN_IF_ERROR(CheckInStage(c, idea, now, {v1::STAGE_KIND_ELIGIBILITY}, "checking eligibility"));
    v1::Eligibility& e = *idea.mutable_eligibility();
    e.set_eligible(req->eligible());
    e.set_reason(pii::MaskPii(req->reason()).text);
    e.set_checked_by(p->id);
    *e.mutable_checked_at() = ToTimestamp(now);
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    v1::EligibilityChecked ev;
    ev.set_idea_id(idea.id());
    *ev.mutable_eligibility() = e;
    PEP_RETURN_IF_ERROR(tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now));
    if (req->eligible()) return absl::OkStatus();
    // Not eligible: rejected with the reason — a check of the rules, not the jury's judgement, so
    // no quorum; told to the author as any decision (at the announcement, if there is one).
    v1::Decision d;
    d.set_outcome(v1::IDEA_STATUS_REJECTED);
    d.set_rationale(absl::StrCat("Idée non recevable : ", e.reason()));
    d.set_decided_by(p->id);
    *d.mutable_decided_at() = ToTimestamp(now);
    return DecideOrHold(tx, idea, c, d, p->id, now, &held);
  }));
  Committed(!req->eligible() && !held);
  if (!req->eligible() && !held) metrics_.decisions(v1::IDEA_STATUS_REJECTED).Increment();
  ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::RequestClarification(grpc::ServerContext* ctx,
                                                const v1::RequestClarificationRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(CheckId("idea_id", req->idea_id()));
  PEP_GRPC_RETURN_IF_ERROR(CheckText("question", req->question(), 1, kCommentMax));
  v1::Idea idea;
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(req->idea_id(), &idea, &c));
    const absl::Time now = tx.Now();
    const v1::Stage* stage = StageOf(c, idea, now);
    // Who asks: coordinators; the jury; with stages, the current stage's reviewers.
    const bool reviewer = stage && std::find(stage->reviewer_ids().begin(), stage->reviewer_ids().end(), p->id) !=
                                       stage->reviewer_ids().end();
    if (!p->HasRole("coordinator") && !IsJurorOf(*p, c) && !reviewer) {
      return absl::PermissionDeniedError("asking an idea's authors to clarify is for coordinators, the jury "
                                         "and the current stage's reviewers");
    }
    if (IsAuthor(idea, p->id)) return absl::PermissionDeniedError("an author does not question their own idea");
    if (!UnderReview(idea) || !idea.pending_decisions().empty()) {
      return absl::FailedPreconditionError(absl::StrCat("idea is ", StatusName(idea.status()),
                                                        ": clarification is asked while the jury examines it"));
    }
    PEP_RETURN_IF_ERROR(CheckNotWaiting(idea));
    if (c.stages_size() > 0 && !stage) {
      return absl::FailedPreconditionError("this idea is in no evaluation stage now: nothing to stop");
    }
    v1::Clarification& q = *idea.add_clarifications();
    q.set_question(pii::MaskPii(req->question()).text);
    q.set_asked_by(p->id);
    *q.mutable_asked_at() = ToTimestamp(now);
    if (stage) q.set_stage(stage->kind());
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    v1::ClarificationRequested ev;
    ev.set_idea_id(idea.id());
    ev.set_question(q.question());
    ev.set_stage(q.stage());
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now);
  }));
  Committed(false);
  ShowStage(c, store_.Now(), &idea);
  ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::AnswerClarification(grpc::ServerContext* ctx,
                                               const v1::AnswerClarificationRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(CheckId("idea_id", req->idea_id()));
  PEP_GRPC_RETURN_IF_ERROR(CheckText("answer", req->answer(), 1, kAnswerMax));
  v1::Idea idea;
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(req->idea_id(), &idea, &c));
    if (!IsAuthor(idea, p->id)) return absl::PermissionDeniedError("only the idea's authors answer the jury's question");
    if (!ClarificationOpen(idea)) return absl::FailedPreconditionError("no question waits for an answer on this idea");
    const absl::Time now = tx.Now();
    v1::Clarification& q = *idea.mutable_clarifications(idea.clarifications_size() - 1);
    q.set_answer(pii::MaskPii(req->answer()).text);
    *q.mutable_answered_at() = ToTimestamp(now);
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    v1::ClarificationAnswered ev;
    ev.set_idea_id(idea.id());
    ev.set_answer(q.answer());
    ev.set_waited_seconds(absl::ToInt64Seconds(now - FromTimestamp(q.asked_at())));
    ev.set_asked_by(q.asked_by());
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now);
  }));
  Committed(false);
  ShowStage(c, store_.Now(), &idea);
  ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

}  // namespace pep::ideas
