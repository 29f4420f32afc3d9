#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"

namespace pep::ideas {

namespace {

constexpr v1::IdeaStatus kDecisions[] = {
    v1::IDEA_STATUS_SHORTLISTED, v1::IDEA_STATUS_AWARDED, v1::IDEA_STATUS_REJECTED,
    v1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION};

std::string Lower(std::string s) { return absl::AsciiStrToLower(s); }

}  // namespace

using internal::IsJurorOf;
using internal::MayRead;
using internal::RedactContact;
using internal::ShowTo;
using internal::RequireAuthorOrCoordinator;
using internal::RequireCoordinator;

IdeasMetrics::IdeasMetrics(prometheus::Registry& r) {
  submitted_ = &prometheus::BuildCounter()
                    .Name("pep_ideas_submitted_total")
                    .Help("Ideas submitted (first submission; retries with the same request_id "
                          "are not counted).")
                    .Register(r)
                    .Add({});
  auto& decisions = prometheus::BuildCounter()
                        .Name("pep_ideas_decisions_total")
                        .Help("Jury decisions recorded, by decision.")
                        .Register(r);
  for (auto d : kDecisions) decisions_[d] = &decisions.Add({{"decision", Lower(StatusName(d))}});
  auto& gauge = prometheus::BuildGauge()
                    .Name("pep_ideas")
                    .Help("Ideas currently in each status.")
                    .Register(r);
  for (int s = v1::IDEA_STATUS_SUBMITTED; s <= v1::IDEA_STATUS_MERGED; ++s) {
    const auto st = static_cast<v1::IdeaStatus>(s);
    if (st == v1::IDEA_STATUS_DRAFT) continue;  // not an idea of the challenge yet
    by_status_[st] = &gauge.Add({{"status", Lower(StatusName(st))}});
  }
}

void IdeasMetrics::SetCounts(const std::map<v1::IdeaStatus, int64_t>& counts) {
  for (auto& [status, g] : by_status_) {
    auto it = counts.find(status);
    g->Set(it == counts.end() ? 0.0 : static_cast<double>(it->second));
  }
}

IdeasService::IdeasService(IdeasStore& store, IdeasMetrics& metrics,
                           std::function<void()> on_commit, IdeasServiceOptions options)
    : store_(store), metrics_(metrics), on_commit_(std::move(on_commit)),
      options_(std::move(options)),
      comment_rate_(std::max(1, options_.comments_per_minute), absl::Minutes(1)) {}

absl::Status IdeasService::Init() { return Reload(); }

absl::Status IdeasService::Reload() {
  auto ideas = store_.IdeasOfChallenge("");
  if (!ideas.ok()) return ideas.status();
  DuplicateIndex fresh;  // built aside: hints go on from the old one meanwhile
  for (const auto& idea : *ideas) {
    if (idea.status() != v1::IDEA_STATUS_WITHDRAWN && idea.status() != v1::IDEA_STATUS_DRAFT &&
        idea.status() != v1::IDEA_STATUS_MERGED) {  // a pointer is no look-alike to offer
      fresh.Upsert(idea.challenge_id(), idea.id(), idea.title(), IdeaText(idea));
    }
  }
  {
    absl::MutexLock l(&index_mu_);
    index_ = std::move(fresh);
  }
  auto counts = store_.CountIdeasByStatus();
  if (!counts.ok()) return counts.status();
  metrics_.SetCounts(*counts);
  return absl::OkStatus();
}

absl::StatusOr<auth::Principal> IdeasService::Caller(grpc::ServerContext* ctx) const {
  return auth::Authenticate(*ctx, options_.auth);
}

void IdeasService::Committed(bool idea_counts_changed) {
  if (on_commit_) on_commit_();
  if (idea_counts_changed) {
    auto counts = store_.CountIdeasByStatus();
    if (counts.ok()) metrics_.SetCounts(*counts);
  }
}

grpc::Status IdeasService::CreateChallenge(grpc::ServerContext* ctx,
                                           const v1::CreateChallengeRequest* req,
                                           v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "creating a challenge"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateCreateChallenge(*req));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    const absl::Time now = tx.Now();
    c.set_id(NewUuidV7(now));
    c.set_title(req->title());
    c.set_theme(req->theme());
    c.set_description(req->description());
    if (req->has_opens_at()) *c.mutable_opens_at() = req->opens_at();
    if (req->has_closes_at()) *c.mutable_closes_at() = req->closes_at();
    *c.mutable_criteria() = req->criteria();
    c.set_jury_quorum(req->jury_quorum());
    c.set_visibility(req->visibility() == v1::VISIBILITY_AGENTS ? v1::VISIBILITY_AGENTS
                                                                 : v1::VISIBILITY_JURY);
    c.set_support_threshold(req->support_threshold());
    c.set_blind_review(req->blind_review());
    c.set_sealed_scoring(req->sealed_scoring());
    c.set_status(v1::CHALLENGE_STATUS_DRAFT);
    c.set_created_by(p->id);
    *c.mutable_created_at() = ToTimestamp(now);
    c.set_version(1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    v1::ChallengeCreated ev;
    *ev.mutable_challenge() = c;
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, now);
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::TransitionChallenge(grpc::ServerContext* ctx, const std::string& id,
                                               v1::ChallengeStatus to, v1::Challenge* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(
      *p, to == v1::CHALLENGE_STATUS_OPEN ? "opening a challenge" : "closing a challenge"));
  if (!IsUuid(id)) return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetChallenge(id);
    if (!got.ok()) return got.status();
    c = std::move(*got);
    PEP_RETURN_IF_ERROR(CheckChallengeTransition(c.status(), to));
    c.set_status(to);
    c.set_version(c.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutChallenge(c));
    if (to == v1::CHALLENGE_STATUS_OPEN) {
      v1::ChallengeOpened ev;
      ev.set_challenge_id(c.id());
      return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, tx.Now());
    }
    v1::ChallengeClosed ev;
    ev.set_challenge_id(c.id());
    return tx.Emit(c.id(), c.id(), c.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::OpenChallenge(grpc::ServerContext* ctx,
                                         const v1::ChallengeTransitionRequest* req,
                                         v1::Challenge* out) {
  return TransitionChallenge(ctx, req->challenge_id(), v1::CHALLENGE_STATUS_OPEN, out);
}

grpc::Status IdeasService::CloseChallenge(grpc::ServerContext* ctx,
                                          const v1::ChallengeTransitionRequest* req,
                                          v1::Challenge* out) {
  return TransitionChallenge(ctx, req->challenge_id(), v1::CHALLENGE_STATUS_CLOSED, out);
}

grpc::Status IdeasService::GetChallenge(grpc::ServerContext* ctx,
                                        const v1::GetChallengeRequest* req, v1::Challenge* out) {
  PEP_GRPC_RETURN_IF_ERROR(Caller(ctx).status());
  if (!IsUuid(req->challenge_id())) {
    return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
  }
  auto c = store_.GetChallenge(req->challenge_id());
  PEP_GRPC_RETURN_IF_ERROR(c.status());
  *out = std::move(*c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::ListChallenges(grpc::ServerContext* ctx,
                                          const v1::ListChallengesRequest* req,
                                          v1::ListChallengesResponse* out) {
  PEP_GRPC_RETURN_IF_ERROR(Caller(ctx).status());
  auto list = store_.ListChallenges(req->status());
  PEP_GRPC_RETURN_IF_ERROR(list.status());
  for (auto& c : *list) *out->add_challenges() = std::move(c);
  return grpc::Status::OK;
}

grpc::Status IdeasService::SubmitIdea(grpc::ServerContext* ctx, const v1::SubmitIdeaRequest* req,
                                      v1::SubmitIdeaResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateSubmit(*req));
  v1::Idea idea;
  bool replay = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    if (!req->request_id().empty()) {
      auto existing = tx.FindByRequestId(p->id, req->request_id());
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) {
        idea = **existing;
        replay = true;
        return absl::OkStatus();
      }
    }
    auto c = tx.GetChallenge(req->challenge_id());
    if (!c.ok()) return c.status();
    const absl::Time now = tx.Now();
    if (req->draft()) {
      if (c->status() == v1::CHALLENGE_STATUS_CLOSED) {
        return absl::FailedPreconditionError("challenge is CLOSED: it takes no more ideas, drafts included");
      }
    } else {
      PEP_RETURN_IF_ERROR(CheckAcceptsSubmissions(*c, now));
    }
    idea.set_id(NewUuidV7(now));
    idea.set_challenge_id(req->challenge_id());
    idea.set_title(req->title());
    idea.set_problem(req->problem());
    idea.set_proposal(req->proposal());
    idea.set_author_id(p->id);
    idea.set_author_name(req->author_name());
    idea.set_department(req->department());
    idea.set_contact_email(req->contact_email());
    idea.set_hide_author(req->hide_author());
    *idea.mutable_updated_at() = ToTimestamp(now);
    if (req->on_behalf()) {  // a relais files it; its author claims it at sign-in
      PEP_RETURN_IF_ERROR(internal::RequireRelay(*p, *c));
      if (req->draft()) return FieldError("draft", "an idea filed for a colleague is sent, not kept as a draft");
      idea.set_filed_by(p->id);
      idea.set_awaiting_claim(true);
    }
    if (req->draft()) {  // its authors' alone: no event, no version until it is sent
      idea.set_status(v1::IDEA_STATUS_DRAFT);
      return tx.PutIdea(idea, req->request_id());
    }
    idea.set_status(v1::IDEA_STATUS_SUBMITTED);
    *idea.mutable_submitted_at() = ToTimestamp(now);
    idea.set_version(1);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea, req->request_id()));
    if (idea.awaiting_claim()) PEP_RETURN_IF_ERROR(tx.PutClaim(idea.id(), ClaimKey(req->contact_email())));
    v1::IdeaSubmitted ev;
    *ev.mutable_idea() = idea;
    ev.mutable_idea()->clear_contact_email();  // personal data stays in pep-ideas, off the log
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now);
  }));
  if (idea.status() == v1::IDEA_STATUS_DRAFT) {
    *out->mutable_idea() = std::move(idea);
    return grpc::Status::OK;
  }
  if (!replay) {
    Committed(true);
    metrics_.submitted().Increment();
  }
  return Hinted(*p, std::move(idea), out);
}

grpc::Status IdeasService::Hinted(const auth::Principal& p, v1::Idea idea, v1::SubmitIdeaResponse* out) {
  std::vector<v1::DuplicateHint> hints;
  {
    absl::MutexLock l(&index_mu_);
    hints = index_.Similar(idea.challenge_id(), IdeaText(idea), options_.duplicate_threshold,
                           options_.duplicate_limit, idea.id());
    index_.Upsert(idea.challenge_id(), idea.id(), idea.title(), IdeaText(idea));
  }
  auto readable = ReadableHints(p, idea.challenge_id(), std::move(hints));
  PEP_GRPC_RETURN_IF_ERROR(readable.status());
  for (auto& h : *readable) *out->add_similar_ideas() = std::move(h);
  out->set_similarity_method(SimilarityMethod());
  *out->mutable_idea() = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::DiscardDraft(grpc::ServerContext* ctx, const v1::SubmitDraftRequest* req,
                                        v1::DiscardDraftResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->idea_id())) return ToGrpcStatus(FieldError("idea_id", "is not a valid id"));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto idea = tx.GetIdea(req->idea_id());
    if (!idea.ok()) return idea.status();
    if (!IsAuthor(*idea, p->id)) return absl::PermissionDeniedError("only its authors throw a draft away");
    if (idea->status() != v1::IDEA_STATUS_DRAFT) {
      return absl::FailedPreconditionError(absl::StrCat(
          "idea is ", StatusName(idea->status()), ": only a draft is deleted (a sent idea is withdrawn)"));
    }
    return tx.DeleteDraft(idea->id());
  }));
  out->set_idea_id(req->idea_id());
  return grpc::Status::OK;
}

grpc::Status IdeasService::SubmitDraft(grpc::ServerContext* ctx, const v1::SubmitDraftRequest* req,
                                       v1::SubmitIdeaResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!IsUuid(req->idea_id())) return ToGrpcStatus(FieldError("idea_id", "is not a valid id"));
  v1::Idea idea;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    v1::Challenge c;
    PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(req->idea_id(), &idea, &c));
    if (!IsAuthor(idea, p->id)) return absl::PermissionDeniedError("only its authors send a draft");
    if (idea.status() != v1::IDEA_STATUS_DRAFT) {
      return absl::FailedPreconditionError(absl::StrCat("idea is ", StatusName(idea.status()), ": sent already"));
    }
    const absl::Time now = tx.Now();
    PEP_RETURN_IF_ERROR(CheckAcceptsSubmissions(c, now));
    idea.set_status(v1::IDEA_STATUS_SUBMITTED);
    *idea.mutable_submitted_at() = ToTimestamp(now);
    *idea.mutable_updated_at() = ToTimestamp(now);
    idea.set_version(1);  // the aggregate's first event
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    v1::IdeaSubmitted ev;
    *ev.mutable_idea() = idea;
    ev.mutable_idea()->clear_contact_email();
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, now);
  }));
  Committed(true);
  metrics_.submitted().Increment();
  return Hinted(*p, std::move(idea), out);
}

grpc::Status IdeasService::GetIdea(grpc::ServerContext* ctx, const v1::GetIdeaRequest* req,
                                   v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  v1::Idea idea;
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(ReadableIdea(*p, req->idea_id(), &idea, &c));
  auto mine = store_.SupportedBy(p->id, idea.challenge_id());
  PEP_GRPC_RETURN_IF_ERROR(mine.status());
  idea.set_supported_by_me(mine->contains(idea.id()));
  ShowStage(c, store_.Now(), &idea);
  ShowTo(*p, c, &idea);
  *out = std::move(idea);
  return grpc::Status::OK;
}

absl::Status IdeasService::ReadableIdea(const auth::Principal& p, const std::string& idea_id,
                                        v1::Idea* idea, v1::Challenge* c) {
  if (!IsUuid(idea_id)) return FieldError("idea_id", "is not a valid id");
  auto got = store_.GetIdea(idea_id);
  if (!got.ok()) return got.status();
  *idea = std::move(*got);
  auto ch = store_.GetChallenge(idea->challenge_id());
  if (!ch.ok()) return ch.status();
  *c = std::move(*ch);
  if (MayRead(p, *c, *idea)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "an idea (and its comments) is readable by its author, coordinators, the jury of its "
      "challenge, and every agent when the challenge is visible to all agents");
}

grpc::Status IdeasService::ListIdeas(grpc::ServerContext* ctx, const v1::ListIdeasRequest* req,
                                     v1::ListIdeasResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->page_size() < 0 || req->page_size() > 500) {
    return ToGrpcStatus(FieldError("page_size", absl::StrCat("must be 0-500 (got ", req->page_size(), ")")));
  }
  if (!req->challenge_id().empty() && !IsUuid(req->challenge_id())) {
    return ToGrpcStatus(FieldError("challenge_id", "is not a valid id"));
  }
  if (!req->page_token().empty() && !IsUuid(req->page_token())) {
    return ToGrpcStatus(FieldError("page_token", "is not a token returned by ListIdeas"));
  }
  v1::ListIdeasRequest q = *req;
  std::optional<v1::Challenge> c;
  if (!q.challenge_id().empty()) {
    auto got = store_.GetChallenge(q.challenge_id());
    PEP_GRPC_RETURN_IF_ERROR(got.status());
    c = std::move(*got);
  }
  const bool coordinator = p->HasRole("coordinator");
  const bool juror = c && internal::IsReviewerOf(*p, *c);  // a stage's reviewers list them as the jury does
  const bool all_agents = c && c->visibility() == v1::VISIBILITY_AGENTS && p->HasRole("agent");
  // Nobody else asks for a given person's ideas (an author may have hidden their name; a blind
  // jury must not learn who wrote what).
  if (!coordinator && !(juror && !c->blind_review()) && !q.author_id().empty() && q.author_id() != p->id) {
    return ToGrpcStatus(FieldError(
        "author_id", "only coordinators and the challenge's jury (unless it judges blind) list others' ideas"));
  }
  if (!coordinator && !juror && !all_agents) q.set_author_id(p->id);  // their own ideas only
  auto list = store_.ListIdeas(q);
  PEP_GRPC_RETURN_IF_ERROR(list.status());
  auto mine = store_.SupportedBy(p->id, q.challenge_id());
  PEP_GRPC_RETURN_IF_ERROR(mine.status());
  v1::ListIdeasResponse shown;
  shown.set_next_page_token(list->next_page_token());
  for (auto& idea : *list->mutable_ideas()) {
    if (c && !MayRead(*p, *c, idea)) continue;  // another's withdrawn idea, or draft
    if (idea.status() == v1::IDEA_STATUS_DRAFT && !IsAuthor(idea, p->id)) continue;
    idea.set_supported_by_me(mine->contains(idea.id()));
    if (c) {
      ShowStage(*c, store_.Now(), &idea);
      ShowTo(*p, *c, &idea);
    } else {
      RedactContact(*p, &idea);  // the caller's own ideas, across challenges
    }
    *shown.add_ideas() = std::move(idea);
  }
  *out = std::move(shown);
  return grpc::Status::OK;
}

grpc::Status IdeasService::EditIdea(grpc::ServerContext* ctx, const v1::EditIdeaRequest* req,
                                    v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateEdit(*req));
  v1::Idea idea;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetIdea(req->idea_id());
    if (!got.ok()) return got.status();
    idea = std::move(*got);
    PEP_RETURN_IF_ERROR(RequireAuthorOrCoordinator(*p, idea));
    // Asked to clarify, its authors edit it while the question waits, whatever the dates.
    const bool clarifying = ClarificationOpen(idea) && IsAuthor(idea, p->id);
    if (!clarifying) PEP_RETURN_IF_ERROR(CheckEditable(idea));
    const bool draft = idea.status() == v1::IDEA_STATUS_DRAFT;
    if (!p->HasRole("coordinator") && !clarifying) {  // the jury examines a closed challenge's ideas as filed
      auto c = tx.GetChallenge(idea.challenge_id());
      if (!c.ok()) return c.status();
      if (c->status() == v1::CHALLENGE_STATUS_CLOSED || (!draft && c->status() != v1::CHALLENGE_STATUS_OPEN)) {
        return absl::FailedPreconditionError(
            "the challenge is closed: its ideas are examined as they were filed (a coordinator may correct one)");
      }
    }
    v1::IdeaEdited ev;
    ev.set_idea_id(idea.id());
    auto change = [&](const char* field, const std::string& next, std::string* cur, bool pii) {
      if (next.empty() || next == *cur) return;
      auto* fc = ev.add_changes();
      fc->set_field(field);
      if (!pii) {
        fc->set_old_value(*cur);
        fc->set_new_value(next);
      }
      *cur = next;
    };
    change("title", req->title(), idea.mutable_title(), false);
    change("problem", req->problem(), idea.mutable_problem(), false);
    change("proposal", req->proposal(), idea.mutable_proposal(), false);
    change("department", req->department(), idea.mutable_department(), false);
    change("contact_email", req->contact_email(), idea.mutable_contact_email(), true);
    if (ev.changes_size() == 0) return absl::OkStatus();  // same values: nothing to record
    if (idea.awaiting_claim() && !req->contact_email().empty()) {  // the relais corrects the address
      PEP_RETURN_IF_ERROR(tx.PutClaim(idea.id(), ClaimKey(idea.contact_email())));
    }
    if (draft) {  // its authors' alone: no event, no version
      *idea.mutable_updated_at() = ToTimestamp(tx.Now());
      return tx.PutIdea(idea);
    }
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(tx.Now());
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  if (idea.status() != v1::IDEA_STATUS_DRAFT) {
    absl::MutexLock l(&index_mu_);
    index_.Upsert(idea.challenge_id(), idea.id(), idea.title(), IdeaText(idea));
  }
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::WithdrawIdea(grpc::ServerContext* ctx,
                                        const v1::WithdrawIdeaRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateWithdraw(*req));
  v1::Idea idea;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetIdea(req->idea_id());
    if (!got.ok()) return got.status();
    idea = std::move(*got);
    PEP_RETURN_IF_ERROR(RequireAuthorOrCoordinator(*p, idea));
    PEP_RETURN_IF_ERROR(CheckIdeaTransition(idea.status(), v1::IDEA_STATUS_WITHDRAWN));
    idea.set_status(v1::IDEA_STATUS_WITHDRAWN);
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(tx.Now());
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    v1::IdeaWithdrawn ev;
    ev.set_idea_id(idea.id());
    ev.set_reason(req->reason());
    return tx.Emit(idea.id(), idea.id(), idea.version(), ev, p->id, tx.Now());
  }));
  Committed(true);
  {
    absl::MutexLock l(&index_mu_);
    index_.Remove(idea.challenge_id(), idea.id());
  }
  *out = std::move(idea);
  return grpc::Status::OK;
}

}  // namespace pep::ideas
