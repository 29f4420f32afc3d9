// Comments on an idea: by whoever may read the idea, threaded one level, PII masked before
// anything is stored (libs/pii, pep-feedback's scanners), edited by their author within 15
// minutes, reported by readers, hidden by coordinators with a reason — a hidden text reaches
// coordinators only, never another agent, an export or the ledger's withheld copies.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pii/pii.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

using internal::MayRead;
using internal::RequireCoordinator;
using internal::ShowTo;

namespace {

// The idea and its challenge, if the caller may read the idea (its comments go with it).
absl::Status LoadReadable(IdeasTx& tx, const auth::Principal& p, const std::string& idea_id,
                          v1::Idea* idea, v1::Challenge* c) {
  PEP_RETURN_IF_ERROR(tx.GetIdeaAndChallenge(idea_id, idea, c));
  if (!MayRead(p, *c, *idea)) {
    return absl::PermissionDeniedError("this idea and its comments are not readable by '" + p.id + "'");
  }
  return absl::OkStatus();
}

// What the event carries: the comment without its author's name (the account id is there).
v1::IdeaCommented CommentedEvent(const v1::Comment& c) {
  v1::IdeaCommented ev;
  *ev.mutable_comment() = c;
  ev.mutable_comment()->clear_author_name();
  return ev;
}

}  // namespace

absl::Status IdeasService::CheckCommentRate(const auth::Principal& p, absl::Time now) {
  if (options_.comments_per_minute <= 0) return absl::OkStatus();
  absl::MutexLock l(&rate_mu_);
  auto wait = comment_rate_.Allow(p.id, now);
  if (!wait) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "at most %d comments a minute per person: retry in %d s", options_.comments_per_minute,
      static_cast<int>(absl::ToInt64Seconds(*wait) + 1)));
}

// How a reader sees a comment: hidden text for coordinators only, reports for them only, and
// the idea's author unnamed where the idea hides them.
void IdeasService::ShowComment(const auth::Principal& p, const v1::Idea& shown_idea,
                               const v1::Idea& idea, v1::Comment* c) const {
  const bool coordinator = p.HasRole("coordinator");
  if (c->hidden() && !coordinator) {
    c->clear_body();
    c->clear_pii_kinds();
  }
  if (!coordinator) {
    c->set_reports(0);
    c->clear_report_reasons();
  }
  if (shown_idea.author_id().empty() && IsAuthor(idea, c->author_id())) {
    c->set_author_name(c->author_id() == idea.author_id() ? "L'auteur·e de l'idée" : "Un·e co-auteur·e de l'idée");
    c->clear_author_id();
  }
}

void IdeasService::ShowComment(const auth::Principal& p, const v1::Challenge& c, const v1::Idea& idea,
                               v1::Comment* comment) const {
  v1::Idea shown = idea;
  ShowTo(p, c, &shown);
  ShowComment(p, shown, idea, comment);
}

grpc::Status IdeasService::AddComment(grpc::ServerContext* ctx, const v1::AddCommentRequest* req,
                                      v1::Comment* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateAddComment(*req));
  const pii::Masked body = pii::MaskPii(req->body());
  v1::Comment comment;
  v1::Idea idea;
  v1::Challenge c;
  bool replay = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    if (!req->request_id().empty()) {
      auto first = tx.FindCommentByRequestId(p->id, req->request_id());
      if (!first.ok()) return first.status();
      if (first->has_value()) {
        if ((*first)->idea_id() != req->idea_id()) {  // a key reused for something else: 409
          return absl::AlreadyExistsError("request_id: was used for a comment on another idea");
        }
        comment = std::move(**first);
        replay = true;
        return LoadReadable(tx, *p, comment.idea_id(), &idea, &c);
      }
    }
    PEP_RETURN_IF_ERROR(LoadReadable(tx, *p, req->idea_id(), &idea, &c));
    if (idea.status() == v1::IDEA_STATUS_WITHDRAWN) {
      return absl::FailedPreconditionError("this idea was withdrawn by its author: comments are closed");
    }
    if (idea.status() == v1::IDEA_STATUS_MERGED) {
      return absl::FailedPreconditionError("this idea was merged into " + idea.merged_into() +
                                           ": the discussion goes on there");
    }
    if (idea.status() == v1::IDEA_STATUS_DRAFT) {
      return absl::FailedPreconditionError("this idea is a draft: comments open once it is sent");
    }
    if (!req->parent_id().empty()) {
      auto parent = tx.GetComment(req->parent_id());
      if (absl::IsNotFound(parent.status()) || (parent.ok() && parent->idea_id() != idea.id())) {
        // A reference to nothing there is 404, as everywhere (the fuzzer held it to it).
        return absl::NotFoundError("parent_id: no comment of this idea has this id");
      }
      if (!parent.ok()) return parent.status();
      if (!parent->parent_id().empty()) {
        return FieldError("parent_id", absl::StrCat("is an answer; answers are one level deep: answer ",
                                                    parent->parent_id(), " instead"));
      }
      if (parent->hidden()) {
        return absl::FailedPreconditionError("a comment hidden by the moderation takes no answers");
      }
    }
    const absl::Time now = tx.Now();
    PEP_RETURN_IF_ERROR(CheckCommentRate(*p, now));
    comment.set_id(NewUuidV7(now));
    comment.set_idea_id(idea.id());
    comment.set_parent_id(req->parent_id());
    comment.set_author_id(p->id);
    comment.set_author_name(req->author_name());
    comment.set_body(body.text);
    for (const auto& k : body.kinds) comment.add_pii_kinds(k);
    *comment.mutable_created_at() = ToTimestamp(now);
    *comment.mutable_editable_until() = ToTimestamp(now + kCommentEditWindow);
    comment.set_version(1);
    PEP_RETURN_IF_ERROR(tx.PutComment(comment, req->request_id()));
    return tx.Emit(comment.id(), idea.id(), comment.version(), CommentedEvent(comment), p->id, now);
  }));
  if (!replay) Committed(false);
  ShowComment(*p, c, idea, &comment);
  *out = std::move(comment);
  return grpc::Status::OK;
}

grpc::Status IdeasService::EditComment(grpc::ServerContext* ctx, const v1::EditCommentRequest* req,
                                       v1::Comment* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateEditComment(*req));
  const pii::Masked body = pii::MaskPii(req->body());
  v1::Comment comment;
  v1::Idea idea;
  v1::Challenge c;
  bool changed = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetComment(req->comment_id());
    if (!got.ok()) return got.status();
    comment = std::move(*got);
    PEP_RETURN_IF_ERROR(LoadReadable(tx, *p, comment.idea_id(), &idea, &c));
    if (comment.author_id() != p->id) {
      return absl::PermissionDeniedError("only its author edits a comment ('" + p->id + "' is not)");
    }
    if (comment.hidden()) {
      return absl::FailedPreconditionError("this comment was hidden by the moderation: it stays as it is");
    }
    const absl::Time now = tx.Now();
    if (now >= FromTimestamp(comment.editable_until())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a comment is edited within 15 minutes of posting; this one was posted at ",
          absl::FormatTime("%H:%M UTC", FromTimestamp(comment.created_at()), absl::UTCTimeZone())));
    }
    if (comment.body() == body.text) return absl::OkStatus();  // as it is: nothing to record
    changed = true;
    comment.set_body(body.text);
    comment.clear_pii_kinds();
    for (const auto& k : body.kinds) comment.add_pii_kinds(k);
    *comment.mutable_edited_at() = ToTimestamp(now);
    comment.set_version(comment.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutComment(comment));
    v1::CommentEdited ev;
    ev.set_comment_id(comment.id());
    ev.set_idea_id(idea.id());
    ev.set_body(comment.body());
    *ev.mutable_pii_kinds() = comment.pii_kinds();
    return tx.Emit(comment.id(), idea.id(), comment.version(), ev, p->id, now);
  }));
  if (changed) Committed(false);
  ShowComment(*p, c, idea, &comment);
  *out = std::move(comment);
  return grpc::Status::OK;
}

grpc::Status IdeasService::ListComments(grpc::ServerContext* ctx, const v1::ListCommentsRequest* req,
                                        v1::ListCommentsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  v1::Idea idea;
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(ReadableIdea(*p, req->idea_id(), &idea, &c));
  auto comments = store_.Comments(idea.id());
  PEP_GRPC_RETURN_IF_ERROR(comments.status());
  auto mine = store_.ReportedBy(p->id, idea.id());
  PEP_GRPC_RETURN_IF_ERROR(mine.status());
  absl::flat_hash_map<std::string, std::vector<std::string>> reasons;
  if (p->HasRole("coordinator")) {
    auto r = store_.ReportReasons(idea.id());
    PEP_GRPC_RETURN_IF_ERROR(r.status());
    reasons = std::move(*r);
  }
  v1::Idea shown = idea;
  ShowTo(*p, c, &shown);
  for (v1::Comment& comment : ThreadOrder(std::move(*comments))) {
    comment.set_reported_by_me(mine->contains(comment.id()));
    if (auto it = reasons.find(comment.id()); it != reasons.end()) {
      for (auto& r : it->second) comment.add_report_reasons(std::move(r));
    }
    ShowComment(*p, shown, idea, &comment);
    *out->add_comments() = std::move(comment);
  }
  return grpc::Status::OK;
}

grpc::Status IdeasService::ReportComment(grpc::ServerContext* ctx,
                                         const v1::ReportCommentRequest* req, v1::Comment* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateReportComment(*req));
  const pii::Masked reason = pii::MaskPii(req->reason());
  v1::Comment comment;
  v1::Idea idea;
  v1::Challenge c;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetComment(req->comment_id());
    if (!got.ok()) return got.status();
    comment = std::move(*got);
    PEP_RETURN_IF_ERROR(LoadReadable(tx, *p, comment.idea_id(), &idea, &c));
    if (comment.author_id() == p->id) {
      return absl::FailedPreconditionError("one does not report one's own comment (edit it instead)");
    }
    auto fresh = tx.PutReport(comment.id(), p->id, reason.text);
    if (!fresh.ok()) return fresh.status();
    if (!*fresh) return absl::AlreadyExistsError("'" + p->id + "' reported this comment already");
    comment.set_reports(comment.reports() + 1);
    comment.set_version(comment.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutComment(comment));
    v1::CommentReported ev;
    ev.set_comment_id(comment.id());
    ev.set_idea_id(idea.id());
    ev.set_account_id(p->id);
    ev.set_reports(comment.reports());
    return tx.Emit(comment.id(), idea.id(), comment.version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  comment.set_reported_by_me(true);
  ShowComment(*p, c, idea, &comment);
  *out = std::move(comment);
  return grpc::Status::OK;
}

grpc::Status IdeasService::HideComment(grpc::ServerContext* ctx, const v1::HideCommentRequest* req,
                                       v1::Comment* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "hiding a comment"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateHideComment(*req));
  const std::string reason = pii::MaskPii(req->reason()).text;
  v1::Comment comment;
  bool changed = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetComment(req->comment_id());
    if (!got.ok()) return got.status();
    comment = std::move(*got);
    if (comment.hidden()) return absl::OkStatus();  // hidden already: the first reason stands
    changed = true;
    const absl::Time now = tx.Now();
    comment.set_hidden(true);
    comment.set_hidden_reason(reason);
    comment.set_hidden_by(p->id);
    *comment.mutable_hidden_at() = ToTimestamp(now);
    comment.set_version(comment.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutComment(comment));
    v1::CommentHidden ev;
    ev.set_comment_id(comment.id());
    ev.set_idea_id(comment.idea_id());
    ev.set_reason(reason);
    return tx.Emit(comment.id(), comment.idea_id(), comment.version(), ev, p->id, now);
  }));
  if (changed) Committed(false);
  *out = std::move(comment);
  return grpc::Status::OK;
}

}  // namespace pep::ideas
