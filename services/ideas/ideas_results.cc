// Decisions made public, at once or all together at the time a coordinator announced: the
// event pep-notify (the author's e-mail) and pep-incubation (the start-up) act on goes out only
// then, so nobody learns a result before the others.
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

absl::Status IdeasService::Publish(IdeasTx& tx, v1::Idea& idea, const v1::Decision& d, absl::Time when) {
  idea.set_status(d.outcome());
  *idea.mutable_last_decision() = d;
  idea.set_version(idea.version() + 1);
  *idea.mutable_updated_at() = ToTimestamp(when);
  PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
  auto emit = [&](auto ev) {
    ev.set_idea_id(idea.id());
    *ev.mutable_decision() = d;
    return ev;
  };
  const std::string& actor = d.decided_by();
  switch (d.outcome()) {
    case v1::IDEA_STATUS_SHORTLISTED:
      return tx.Emit(idea.id(), idea.id(), idea.version(), emit(v1::IdeaShortlisted()), actor, when);
    case v1::IDEA_STATUS_AWARDED:
      return tx.Emit(idea.id(), idea.id(), idea.version(), emit(v1::IdeaAwarded()), actor, when);
    case v1::IDEA_STATUS_REJECTED:
      return tx.Emit(idea.id(), idea.id(), idea.version(), emit(v1::IdeaRejected()), actor, when);
    case v1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION: {
      v1::IdeaSelected ev = emit(v1::IdeaSelected());
      ev.set_challenge_id(idea.challenge_id());
      ev.set_title(idea.title());
      ev.set_problem(idea.problem());
      ev.set_proposal(idea.proposal());
      ev.set_author_name(idea.author_name());
      ev.set_department(idea.department());
      return tx.Emit(idea.id(), idea.id(), idea.version(), ev, actor, when);
    }
    default:
      return absl::InternalError(absl::StrCat("not a decision: ", StatusName(d.outcome())));
  }
}

grpc::Status IdeasService::ScheduleResults(grpc::ServerContext* ctx, const v1::ScheduleResultsRequest* req,
                                           v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(internal::RequireCoordinator(*p, "scheduling a challenge's results"));
  if (!IsUuid(req->challenge_id())) return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
  if (!req->has_results_at()) return ToGrpcStatus(FieldError("results_at", "is required"));
  const absl::Time at = FromTimestamp(req->results_at());
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    const absl::Time now = tx.Now();
    if (at <= now) return FieldError("results_at", "must be in the future (the announcement)");
    if (at > now + absl::Hours(24 * 366)) return FieldError("results_at", "at most a year ahead");
    auto got = tx.GetChallenge(req->challenge_id());
    if (!got.ok()) return got.status();
    c = std::move(*got);
    *c.mutable_results_at() = req->results_at();
    c.set_results_announced(false);
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    v1::ResultsScheduled ev;
    ev.set_challenge_id(c.id());
    *ev.mutable_results_at() = c.results_at();
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, now);
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

absl::StatusOr<int> IdeasService::PublishDueResults() {
  auto all = store_.ListChallenges(v1::CHALLENGE_STATUS_UNSPECIFIED);
  if (!all.ok()) return all.status();
  int published = 0;
  std::vector<v1::IdeaStatus> outcomes;
  for (const v1::Challenge& listed : *all) {
    if (!listed.has_results_at() || listed.results_announced()) continue;
    PEP_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
      auto got = tx.GetChallenge(listed.id());  // as it is now (another replica may have published)
      if (!got.ok()) return got.status();
      v1::Challenge c = std::move(*got);
      const absl::Time at = FromTimestamp(c.results_at());
      if (!c.has_results_at() || c.results_announced() || at > tx.Now()) return absl::OkStatus();
      auto ideas = tx.IdeasOfChallenge(c.id());
      if (!ideas.ok()) return ideas.status();
      int n = 0;
      for (v1::Idea& idea : *ideas) {
        if (idea.pending_decisions_size() == 0) continue;
        auto pending = std::move(*idea.mutable_pending_decisions());
        idea.clear_pending_decisions();
        for (const v1::Decision& d : pending) {
          PEP_RETURN_IF_ERROR(Publish(tx, idea, d, at));
          outcomes.push_back(d.outcome());
          ++n;
        }
      }
      c.set_pending_decisions(0);
      c.set_results_announced(true);
      c.set_version(c.version() + 1);
      PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
      v1::ResultsAnnounced ev;
      ev.set_challenge_id(c.id());
      ev.set_decisions(n);
      published += n;
      return tx.Emit(c.id(), c.id(), c.version(), ev, "pep-ideas", at);
    }));
  }
  if (published > 0) {
    Committed(true);
    for (auto o : outcomes) metrics_.decisions(o).Increment();
  }
  return published;
}

}  // namespace pep::ideas
