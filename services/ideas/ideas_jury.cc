// pep-ideas' jury at the RPC edge: jurors assigned and removed, scorecards (never by a juror on
// their own idea), the ranking and the decisions that need the jury's quorum.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "sealed/sealed.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

using internal::RequireCoordinator;
using internal::RequireCoordinatorOrJuror;

grpc::Status IdeasService::AssignJurors(grpc::ServerContext* ctx,
                                        const v1::AssignJurorsRequest* req, v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "assigning jurors"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateAssignJurors(*req));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetChallenge(req->challenge_id());
    if (!got.ok()) return got.status();
    c = std::move(*got);
    // Jurors may be added in any status: scoring mostly happens after submissions close.
    v1::JurorsAssigned ev;
    ev.set_challenge_id(c.id());
    for (const auto& j : req->juror_ids()) {
      if (std::find(c.juror_ids().begin(), c.juror_ids().end(), j) == c.juror_ids().end()) {
        c.add_juror_ids(j);
        ev.add_added_juror_ids(j);
      }
    }
    if (c.juror_ids_size() > kMaxJurors) {
      return FieldError("juror_ids", absl::StrFormat("a jury has at most %d members", kMaxJurors));
    }
    if (ev.added_juror_ids_size() == 0) return absl::OkStatus();  // all already assigned
    *ev.mutable_juror_ids() = c.juror_ids();
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::RemoveJurors(grpc::ServerContext* ctx,
                                        const v1::RemoveJurorsRequest* req, v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "removing jurors"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateRemoveJurors(*req));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetChallenge(req->challenge_id());
    if (!got.ok()) return got.status();
    c = std::move(*got);
    v1::JurorsRemoved ev;
    ev.set_challenge_id(c.id());
    google::protobuf::RepeatedPtrField<std::string> kept;
    for (const auto& j : c.juror_ids()) {
      if (std::find(req->juror_ids().begin(), req->juror_ids().end(), j) == req->juror_ids().end()) {
        *kept.Add() = j;
      } else {
        ev.add_removed_juror_ids(j);
      }
    }
    if (ev.removed_juror_ids_size() == 0) return absl::OkStatus();  // none was on the jury
    *c.mutable_juror_ids() = kept;
    *ev.mutable_juror_ids() = kept;
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::ScoreIdea(grpc::ServerContext* ctx, const v1::ScoreIdeaRequest* req,
                                     v1::Scorecard* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->idea_id())) return ToGrpcStatus(FieldError("idea_id", "is not a valid id"));
  v1::Scorecard card;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto idea = tx.GetIdea(req->idea_id());
    if (!idea.ok()) return idea.status();
    auto c = tx.GetChallenge(idea->challenge_id());
    if (!c.ok()) return c.status();
    if (std::find(c->juror_ids().begin(), c->juror_ids().end(), p->id) == c->juror_ids().end()) {
      return absl::PermissionDeniedError(
          absl::StrCat("'", p->id, "' is not a juror of this idea's challenge"));
    }
    if (IsAuthor(*idea, p->id)) {  // a juror's own idea is judged by the rest of the jury
      return absl::PermissionDeniedError(
          absl::StrCat("'", p->id, "' is an author of this idea: a juror does not score their own idea"));
    }
    if (std::find(idea->conflicted_juror_ids().begin(), idea->conflicted_juror_ids().end(), p->id) !=
        idea->conflicted_juror_ids().end()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "'", p->id, "' declared a conflict of interest on this idea: the rest of the jury scores it"));
    }
    PEP_RETURN_IF_ERROR(ValidateScore(*req, *c));
    PEP_RETURN_IF_ERROR(CheckScorable(*idea));
    PEP_RETURN_IF_ERROR(CheckScoringRules(*c, *idea, p->id, tx.Now()));
    if (c->sealed_scoring() && c->scores_revealed()) {
      return absl::FailedPreconditionError(
          "the scores of this challenge were revealed: scoring is closed (a revealed card is final)");
    }
    card.set_idea_id(idea->id());
    card.set_juror_id(p->id);
    *card.mutable_scores() = req->scores();
    card.set_comment(req->comment());
    card.set_weighted_score(WeightedScore(*c, card));
    *card.mutable_scored_at() = ToTimestamp(tx.Now());
    auto replaced = tx.PutScorecard(card);
    if (!replaced.ok()) return replaced.status();
    idea->set_version(idea->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutIdea(*idea));
    if (c->sealed_scoring()) {  // on the ledger, only a commitment to the card until the reveal
      const std::string salt = sealed::NewSalt();
      const std::string commitment = sealed::Commitment(salt, card.SerializeAsString());
      PEP_RETURN_IF_ERROR(tx.PutSeal(card.idea_id(), card.juror_id(), salt, commitment));
      v1::ScorecardCommitted ev;
      ev.set_idea_id(idea->id());
      ev.set_challenge_id(c->id());
      ev.set_juror_id(p->id);
      ev.set_commitment(commitment);
      return tx.Emit(idea->id(), idea->id(), idea->version(), ev, p->id, tx.Now());
    }
    v1::IdeaScored ev;
    *ev.mutable_scorecard() = card;
    ev.set_challenge_id(c->id());
    ev.set_replaced_previous(*replaced);
    return tx.Emit(idea->id(), idea->id(), idea->version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(card);
  return grpc::Status::OK;
}

grpc::Status IdeasService::DeclareConflict(grpc::ServerContext* ctx,
                                           const v1::DeclareConflictRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->idea_id())) return ToGrpcStatus(FieldError("idea_id", "is not a valid id"));
  v1::Idea idea;
  v1::Challenge c;
  bool changed = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(req->idea_id(), &idea, &c));
    if (!internal::IsJurorOf(*p, c) || idea.status() == v1::IDEA_STATUS_DRAFT) {
      return absl::PermissionDeniedError(
          absl::StrCat("'", p->id, "' is not a juror of this idea's challenge: no conflict to declare"));
    }
    const auto& conflicted = idea.conflicted_juror_ids();
    if (std::find(conflicted.begin(), conflicted.end(), p->id) != conflicted.end()) {
      return absl::OkStatus();  // declared already
    }
    auto cards = tx.Scorecards(idea.id());
    if (!cards.ok()) return cards.status();
    const bool had_scored = std::any_of(cards->begin(), cards->end(),
                                        [&](const v1::Scorecard& k) { return k.juror_id() == p->id; });
    changed = true;
    idea.add_conflicted_juror_ids(p->id);
    idea.set_version(idea.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    v1::ConflictDeclared ev;
    ev.set_idea_id(idea.id());
    ev.set_juror_id(p->id);
    ev.set_challenge_id(c.id());
    ev.set_had_scored(had_scored);
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, tx.Now());
  }));
  if (changed) Committed(false);
  internal::ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::ListScorecards(grpc::ServerContext* ctx,
                                          const v1::ListScorecardsRequest* req,
                                          v1::ListScorecardsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  // Both given (a challenge's route filtered to one idea, or an idea's checked against its
  // challenge): that idea's scorecards, if it belongs to that challenge.
  if (!req->challenge_id().empty() && req->idea_id().empty()) {
    if (!IsUuid(req->challenge_id())) return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
    auto c = store_.GetChallenge(req->challenge_id());
    PEP_GRPC_RETURN_IF_ERROR(c.status());
    PEP_GRPC_RETURN_IF_ERROR(RequireCoordinatorOrJuror(*p, *c, "reading scorecards"));
    auto cards = store_.ScorecardsOfChallenge(c->id());
    PEP_GRPC_RETURN_IF_ERROR(cards.status());
    for (auto& [idea_id, of_idea] : *cards) {
      for (auto& card : of_idea) *out->add_scorecards() = Sealed(*p, *c, std::move(card));
    }
    return grpc::Status::OK;
  }
  if (!IsUuid(req->idea_id())) return ToGrpcStatus(FieldError("idea_id", "is not a valid id"));
  auto idea = store_.GetIdea(req->idea_id());
  PEP_GRPC_RETURN_IF_ERROR(idea.status());
  if (!req->challenge_id().empty() && idea->challenge_id() != req->challenge_id()) {
    if (!IsUuid(req->challenge_id())) return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("idea_id: idea ", idea->id(), " is not in challenge ", req->challenge_id()));
  }
  auto c = store_.GetChallenge(idea->challenge_id());
  PEP_GRPC_RETURN_IF_ERROR(c.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinatorOrJuror(*p, *c, "reading scorecards"));
  auto cards = store_.Scorecards(req->idea_id());
  PEP_GRPC_RETURN_IF_ERROR(cards.status());
  for (auto& card : *cards) *out->add_scorecards() = Sealed(*p, *c, std::move(card));
  return grpc::Status::OK;
}

grpc::Status IdeasService::RankIdeas(grpc::ServerContext* ctx, const v1::RankIdeasRequest* req,
                                     v1::RankIdeasResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->challenge_id())) {
    return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
  }
  auto c = store_.GetChallenge(req->challenge_id());
  PEP_GRPC_RETURN_IF_ERROR(c.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinatorOrJuror(*p, *c, "the ranking"));
  if (c->sealed_scoring()) {
    if (!c->scores_revealed()) {
      return ToGrpcStatus(absl::FailedPreconditionError(
          "the scores are sealed: the ranking is computed once a coordinator reveals them"));
    }
    auto sealed = store_.SealedCards(c->id());  // what is ranked is what was committed to
    PEP_GRPC_RETURN_IF_ERROR(sealed.status());
    PEP_GRPC_RETURN_IF_ERROR(CheckSeals(*sealed));
  }
  auto ideas = store_.IdeasOfChallenge(c->id());
  PEP_GRPC_RETURN_IF_ERROR(ideas.status());
  auto cards = store_.ScorecardsOfChallenge(c->id());
  PEP_GRPC_RETURN_IF_ERROR(cards.status());
  for (auto& r : pep::ideas::RankIdeas(*c, *ideas, *cards)) *out->add_ideas() = std::move(r);
  out->set_jury_quorum(c->jury_quorum());
  return grpc::Status::OK;
}

grpc::Status IdeasService::DecideIdea(grpc::ServerContext* ctx, const v1::DecideIdeaRequest* req,
                                      v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "deciding on an idea"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateDecide(*req));
  v1::Idea idea;
  bool held = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetIdea(req->idea_id());
    if (!got.ok()) return got.status();
    idea = std::move(*got);
    // A decision waiting for the announcement counts as taken: the next one follows from it.
    const int waiting = idea.pending_decisions_size();
    PEP_RETURN_IF_ERROR(CheckIdeaTransition(
        waiting > 0 ? idea.pending_decisions(waiting - 1).outcome() : idea.status(), req->decision()));
    auto c = tx.GetChallenge(idea.challenge_id());
    if (!c.ok()) return c.status();
    if (c->sealed_scoring() && !c->scores_revealed()) {
      return absl::FailedPreconditionError("the scores are sealed: decide once they are revealed");
    }
    auto cards = tx.Scorecards(idea.id());
    if (!cards.ok()) return cards.status();
    PEP_RETURN_IF_ERROR(CheckQuorum(*c, CountedCards(idea, *cards)));
    const absl::Time now = tx.Now();
    PEP_RETURN_IF_ERROR(CheckNotWaiting(idea));
    PEP_RETURN_IF_ERROR(CheckDecisionTime(*c, idea, now));
    v1::Decision d;
    d.set_outcome(req->decision());
    d.set_rationale(req->rationale());
    d.set_prize(req->prize());
    d.set_decided_by(p->id);
    *d.mutable_decided_at() = ToTimestamp(now);
    return DecideOrHold(tx, idea, *c, d, p->id, now, &held);
  }));
  Committed(!held);
  if (!held) metrics_.decisions(req->decision()).Increment();
  *out = std::move(idea);
  return grpc::Status::OK;
}

absl::Status IdeasService::DecideOrHold(IdeasTx& tx, v1::Idea& idea, v1::Challenge& c, const v1::Decision& d,
                                        const std::string& actor, absl::Time now, bool* held) {
  *held = c.has_results_at() && !c.results_announced();
  if (!*held) return Publish(tx, idea, d, now);
  // Results are announced together: recorded now, published at results_at.
  *idea.add_pending_decisions() = d;
  idea.set_version(idea.version() + 1);
  PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
  c.set_pending_decisions(c.pending_decisions() + 1);
  c.set_version(c.version() + 1);
  PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
  v1::IdeaDecisionRecorded ev;
  ev.set_idea_id(idea.id());
  ev.set_challenge_id(c.id());
  *ev.mutable_decision() = d;
  *ev.mutable_results_at() = c.results_at();
  return tx.Emit(idea.id(), idea.id(), idea.version(), ev, actor, now);
}

}  // namespace pep::ideas
