// Sealed scoring: while a challenge's scores are sealed, the ledger holds only a commitment to
// each scorecard (SHA-256 of a secret salt and the card's bytes, libs/sealed), nobody reads
// another's scores and there is no ranking; the reveal publishes every card with its salt after
// checking it against its commitment, and closes scoring. A card altered in the store is caught
// at the reveal, and again at every ranking after it.
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "sealed/sealed.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

absl::Status IdeasService::CheckSeals(const std::vector<SealedCard>& cards) {
  for (const SealedCard& k : cards) {
    if (k.commitment.empty() || sealed::Commitment(k.salt, k.card) != k.commitment) {
      return absl::DataLossError(absl::StrCat(
          "juror ", k.juror_id, "'s scorecard on idea ", k.idea_id,
          " does not match its commitment on the ledger: it was changed after it was sealed"));
    }
  }
  return absl::OkStatus();
}

v1::Scorecard IdeasService::Sealed(const auth::Principal& p, const v1::Challenge& c, v1::Scorecard card) {
  if (!c.sealed_scoring() || c.scores_revealed() || card.juror_id() == p.id) return card;
  card.clear_scores();  // who scored what, and when, is the jury's progress; the scores are sealed
  card.clear_comment();
  card.clear_weighted_score();
  return card;
}

grpc::Status IdeasService::RevealScores(grpc::ServerContext* ctx, const v1::ChallengeTransitionRequest* req,
                                        v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(internal::RequireCoordinator(*p, "revealing the scores"));
  if (!IsUuid(req->challenge_id())) return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetChallenge(req->challenge_id());
    if (!got.ok()) return got.status();
    c = std::move(*got);
    if (!c.sealed_scoring()) return absl::FailedPreconditionError("this challenge's scores are not sealed");
    if (c.scores_revealed()) return absl::OkStatus();  // revealed already
    auto cards = tx.SealedCards(c.id());
    if (!cards.ok()) return cards.status();
    PEP_RETURN_IF_ERROR(CheckSeals(*cards));  // refused whole: nothing is revealed
    const absl::Time now = tx.Now();
    for (const SealedCard& k : *cards) {
      auto idea = tx.GetIdea(k.idea_id);
      if (!idea.ok()) return idea.status();
      idea->set_version(idea->version() + 1);
      PEP_RETURN_IF_ERROR(tx.PutIdea(*idea));
      v1::ScorecardRevealed ev;
      ev.set_idea_id(k.idea_id);
      ev.set_challenge_id(c.id());
      ev.set_juror_id(k.juror_id);
      ev.set_card(k.card);
      ev.set_salt(k.salt);
      PEP_RETURN_IF_ERROR(tx.Emit(k.idea_id, k.idea_id, idea->version(), ev, p->id, now));
    }
    c.set_scores_revealed(true);
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    v1::ScoresRevealed ev;
    ev.set_challenge_id(c.id());
    ev.set_scorecards(static_cast<int>(cards->size()));
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, now);
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

}  // namespace pep::ideas
