// Links and merges, by coordinators. A link says how two ideas of one challenge relate
// (similar, part of, complements), kept on both. A merge folds ideas into one that stays: every
// author of a merged idea becomes a co-author of it (hidden if they had hidden their name), its
// supporters count there unless they supported it already (a person once), and the merged idea
// turns into a read-only pointer — MERGED, `merged_into` — while the one that stays lists every
// origin (`merged_from`). UndoMerge takes back exactly what the merge brought.
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/service_rules.h"

namespace pep::ideas {

using internal::RequireCoordinator;
using internal::UnderReview;

namespace {

// Two ideas of one challenge, both neither drafts nor withdrawn nor merged.
absl::Status CheckLinkable(const v1::Idea& a, const v1::Idea& b, std::string_view what) {
  if (a.challenge_id() != b.challenge_id()) {
    return absl::FailedPreconditionError(absl::StrCat(std::string(what), " ideas of one challenge (", b.id(), " is in another)"));
  }
  for (const v1::Idea* i : {&a, &b}) {
    if (i->status() == v1::IDEA_STATUS_DRAFT || i->status() == v1::IDEA_STATUS_WITHDRAWN ||
        i->status() == v1::IDEA_STATUS_MERGED) {
      return absl::FailedPreconditionError(
          absl::StrCat("idea ", i->id(), " is ", StatusName(i->status()), ": ", std::string(what), " ideas in the running"));
    }
  }
  return absl::OkStatus();
}

bool SameLink(const v1::IdeaLink& l, const std::string& other) { return l.idea_id() == other; }

void DropLink(v1::Idea* idea, const std::string& other) {
  auto* links = idea->mutable_links();
  links->erase(std::remove_if(links->begin(), links->end(), [&](const v1::IdeaLink& l) { return SameLink(l, other); }),
               links->end());
}

}  // namespace

grpc::Status IdeasService::LinkIdeas(grpc::ServerContext* ctx, const v1::LinkIdeasRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "linking ideas"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateLink(*req));
  v1::Idea idea;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto a = tx.GetIdea(req->idea_id());
    if (!a.ok()) return a.status();
    auto b = tx.GetIdea(req->other_idea_id());
    if (!b.ok()) return b.status();
    PEP_RETURN_IF_ERROR(CheckLinkable(*a, *b, "links join"));
    for (const auto& l : a->links()) {
      if (SameLink(l, b->id()) && l.kind() == req->kind() && !l.inverse()) {
        idea = *a;
        return absl::OkStatus();  // linked so already
      }
    }
    DropLink(&*a, b->id());  // one link between two ideas: a new kind replaces the old
    DropLink(&*b, a->id());
    const absl::Time now = tx.Now();
    auto link = [&](v1::Idea& from, const v1::Idea& to, bool inverse) {
      auto* l = from.add_links();
      l->set_idea_id(to.id());
      l->set_kind(req->kind());
      l->set_inverse(inverse && req->kind() != v1::LINK_KIND_SIMILAR);
      l->set_title(to.title());
      l->set_linked_by(p->id);
      *l->mutable_linked_at() = ToTimestamp(now);
      from.set_version(from.version() + 1);
      return tx.PutIdea(from);
    };
    PEP_RETURN_IF_ERROR(link(*a, *b, false));
    PEP_RETURN_IF_ERROR(link(*b, *a, true));
    v1::IdeasLinked ev;
    ev.set_idea_id(a->id());
    ev.set_other_idea_id(b->id());
    ev.set_kind(req->kind());
    idea = *a;
    return tx.Emit(a->id(), a->id(), a->version(), ev, p->id, now);
  }));
  Committed(false);
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::UnlinkIdeas(grpc::ServerContext* ctx, const v1::UnlinkIdeasRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "unlinking ideas"));
  PEP_GRPC_RETURN_IF_ERROR(CheckId("idea_id", req->idea_id()));
  PEP_GRPC_RETURN_IF_ERROR(CheckId("other_idea_id", req->other_idea_id()));
  v1::Idea idea;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto a = tx.GetIdea(req->idea_id());
    if (!a.ok()) return a.status();
    auto b = tx.GetIdea(req->other_idea_id());
    if (!b.ok()) return b.status();
    auto it = std::find_if(a->links().begin(), a->links().end(),
                           [&](const v1::IdeaLink& l) { return SameLink(l, b->id()); });
    if (it == a->links().end()) return absl::NotFoundError("these two ideas are not linked");
    v1::IdeasUnlinked ev;
    ev.set_idea_id(a->id());
    ev.set_other_idea_id(b->id());
    ev.set_kind(it->kind());
    DropLink(&*a, b->id());
    DropLink(&*b, a->id());
    for (v1::Idea* i : {&*a, &*b}) {
      i->set_version(i->version() + 1);
      PEP_RETURN_IF_ERROR(tx.PutIdea(*i));
    }
    idea = *a;
    return tx.Emit(a->id(), a->id(), a->version(), ev, p->id, tx.Now());
  }));
  Committed(false);
  *out = std::move(idea);
  return grpc::Status::OK;
}

grpc::Status IdeasService::MergeIdeas(grpc::ServerContext* ctx, const v1::MergeIdeasRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "merging ideas"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateMerge(*req));
  v1::Idea into;
  std::vector<v1::Idea> merged;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetIdea(req->idea_id());
    if (!got.ok()) return got.status();
    into = std::move(*got);
    if (!UnderReview(into) || !into.pending_decisions().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "idea ", into.id(), " is ", StatusName(into.status()),
          into.pending_decisions().empty() ? "" : " with a decision recorded", ": ideas merge while the jury examines them"));
    }
    PEP_RETURN_IF_ERROR(CheckNotWaiting(into));  // a question to its authors is answered first
    const absl::Time now = tx.Now();
    for (int i = 0; i < req->merged_idea_ids_size(); ++i) {
      auto m = tx.GetIdea(req->merged_idea_ids(i));
      if (!m.ok()) return m.status();
      PEP_RETURN_IF_ERROR(CheckLinkable(into, *m, "merges join"));
      if (!UnderReview(*m) || !m->pending_decisions().empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "idea ", m->id(), " has a decision: only ideas the jury is examining merge"));
      }
      PEP_RETURN_IF_ERROR(CheckNotWaiting(*m));
      // Its authors join the idea that stays, unless they are among its authors already.
      std::vector<std::string> authors{m->author_id()};
      for (const auto& co : m->coauthors()) authors.push_back(co.account_id());
      v1::IdeaMerged ev;
      std::vector<std::string> skip;  // the authors of the idea that stays do not support it
      for (size_t k = 0; k < authors.size(); ++k) {
        const std::string& account = authors[k];
        if (account.empty() || IsAuthor(into, account)) continue;
        auto* co = into.add_coauthors();
        co->set_account_id(account);
        co->set_name(k == 0 ? m->author_name() : m->coauthors(static_cast<int>(k) - 1).name());
        *co->mutable_joined_at() = ToTimestamp(now);
        co->set_via_merge(m->id());
        co->set_hide_name(m->hide_author());
        PEP_RETURN_IF_ERROR(tx.PutCoauthor(into.id(), account));
        ev.add_coauthor_ids(account);
      }
      skip.push_back(into.author_id());
      for (const auto& co : into.coauthors()) skip.push_back(co.account_id());
      auto moved = tx.MoveSupports(m->id(), into.id(), skip);
      if (!moved.ok()) return moved.status();
      auto* origin = into.add_merged_from();
      origin->set_idea_id(m->id());
      origin->set_title(m->title());
      if (!m->hide_author()) origin->set_author_name(m->author_name());
      *origin->mutable_merged_at() = ToTimestamp(now);
      origin->set_merged_by(p->id);
      origin->set_rationale(req->rationale());
      origin->set_supports_moved(*moved);
      PEP_RETURN_IF_ERROR(tx.PutMerge(m->id(), into.id(), m->status()));
      m->set_status(v1::IDEA_STATUS_MERGED);
      m->set_merged_into(into.id());
      m->set_version(m->version() + 1);
      *m->mutable_updated_at() = ToTimestamp(now);
      PEP_RETURN_IF_ERROR(tx.PutIdea(*m));
      auto count = tx.CountSupports(into.id());
      if (!count.ok()) return count.status();
      ev.set_idea_id(m->id());
      ev.set_into_idea_id(into.id());
      ev.set_supports_moved(*moved);
      ev.set_supports_after(*count);
      ev.set_rationale(req->rationale());
      PEP_RETURN_IF_ERROR(tx.Emit(m->id(), into.id(), m->version(), ev, p->id, now));
      into.set_supports(*count);
      merged.push_back(*std::move(m));
    }
    into.set_version(into.version() + 1);
    *into.mutable_updated_at() = ToTimestamp(now);
    return tx.PutIdea(into);
  }));
  Committed(true);
  {
    absl::MutexLock l(&index_mu_);  // a pointer is no look-alike to offer
    for (const auto& m : merged) index_.Remove(m.challenge_id(), m.id());
  }
  *out = std::move(into);
  return grpc::Status::OK;
}

grpc::Status IdeasService::UndoMerge(grpc::ServerContext* ctx, const v1::UndoMergeRequest* req, v1::Idea* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "undoing a merge"));
  PEP_GRPC_RETURN_IF_ERROR(CheckId("idea_id", req->idea_id()));
  v1::Idea idea;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IdeasTx& tx) -> absl::Status {
    auto got = tx.GetIdea(req->idea_id());
    if (!got.ok()) return got.status();
    idea = std::move(*got);
    if (idea.status() != v1::IDEA_STATUS_MERGED) {
      return absl::FailedPreconditionError(absl::StrCat("idea is ", StatusName(idea.status()), ": it was not merged"));
    }
    auto into = tx.GetIdea(idea.merged_into());
    if (!into.ok()) return into.status();
    if (!UnderReview(*into) || !into->pending_decisions().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "idea ", into->id(), " it was merged into has a decision now: the merge stands"));
    }
    auto previous = tx.TakeMerge(idea.id(), into->id());
    if (!previous.ok()) return previous.status();
    v1::MergeUndone ev;
    auto* co = into->mutable_coauthors();
    for (const auto& a : *co) {
      if (a.via_merge() != idea.id()) continue;
      PEP_RETURN_IF_ERROR(tx.DeleteCoauthor(into->id(), a.account_id()));
      ev.add_coauthor_ids(a.account_id());
    }
    co->erase(std::remove_if(co->begin(), co->end(), [&](const v1::Coauthor& a) { return a.via_merge() == idea.id(); }),
              co->end());
    auto* origins = into->mutable_merged_from();
    origins->erase(std::remove_if(origins->begin(), origins->end(),
                                  [&](const v1::MergedOrigin& o) { return o.idea_id() == idea.id(); }),
                   origins->end());
    auto removed = tx.TakeBackSupports(idea.id(), into->id());
    if (!removed.ok()) return removed.status();
    auto count = tx.CountSupports(into->id());
    if (!count.ok()) return count.status();
    const absl::Time now = tx.Now();
    into->set_supports(*count);
    into->set_version(into->version() + 1);
    *into->mutable_updated_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutIdea(*into));
    idea.set_status(*previous);
    idea.clear_merged_into();
    idea.set_version(idea.version() + 1);
    *idea.mutable_updated_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutIdea(idea));
    ev.set_idea_id(idea.id());
    ev.set_from_idea_id(into->id());
    ev.set_supports_removed(*removed);
    ev.set_status(*previous);
    return tx.Emit(idea.id(), into->id(), idea.version(), ev, p->id, now);
  }));
  Committed(true);
  {
    absl::MutexLock l(&index_mu_);
    index_.Upsert(idea.challenge_id(), idea.id(), idea.title(), IdeaText(idea));
  }
  *out = std::move(idea);
  return grpc::Status::OK;
}

}  // namespace pep::ideas
