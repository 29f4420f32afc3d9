// Who may do what in pep-ideas, shared by its RPC handlers (ideas_service.cc: challenges and
// ideas; ideas_jury.cc: the jury, scores and decisions).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auth/principal.h"
#include "pepiniere/ideas/v1/ideas.pb.h"
#include "services/ideas/ideas_core.h"

namespace pep::ideas::internal {

namespace v1 = ::pepiniere::ideas::v1;

inline absl::Status RequireCoordinator(const auth::Principal& p, std::string_view action) {
  if (p.HasRole("coordinator")) return absl::OkStatus();
  return absl::PermissionDeniedError(std::string(action) + " requires the coordinator role");
}

inline absl::Status RequireAuthorOrCoordinator(const auth::Principal& p, const v1::Idea& idea) {
  if (IsAuthor(idea, p.id) || p.HasRole("coordinator")) return absl::OkStatus();
  return absl::PermissionDeniedError("only the idea's authors or a coordinator may change it");
}

// Per-resource rules, here and not only in the gateway: a call with the gateway key but the
// wrong principal is refused by the service itself.
inline bool IsJurorOf(const auth::Principal& p, const v1::Challenge& c) {
  return std::find(c.juror_ids().begin(), c.juror_ids().end(), p.id) != c.juror_ids().end();
}

// A reviewer named on one of the challenge's evaluation stages (eligibility reviewers are often
// not jurors): they read its ideas as the jury does.
inline bool IsReviewerOf(const auth::Principal& p, const v1::Challenge& c) {
  if (IsJurorOf(p, c)) return true;
  for (const auto& s : c.stages()) {
    if (std::find(s.reviewer_ids().begin(), s.reviewer_ids().end(), p.id) != s.reviewer_ids().end()) return true;
  }
  return false;
}

inline absl::Status RequireCoordinatorOrJuror(const auth::Principal& p, const v1::Challenge& c,
                                       const std::string& what) {
  if (p.HasRole("coordinator") || IsJurorOf(p, c)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      what, " is for coordinators and the jury of challenge ", c.id(), " ('", p.id, "' is not on it)"));
}

// The contact e-mail is the coordinators' (and the author's own): jurors judge the idea, not
// the person.
inline void RedactContact(const auth::Principal& p, v1::Idea* idea) {
  if (!p.HasRole("coordinator") && !IsAuthor(*idea, p.id)) idea->clear_contact_email();
}

// Who reads an idea: its author, coordinators, its challenge's jury — and, in a challenge
// visible to all agents, every agent (a withdrawn idea stays its author's, a draft its authors').
inline bool MayRead(const auth::Principal& p, const v1::Challenge& c, const v1::Idea& idea) {
  if (IsAuthor(idea, p.id)) return true;
  if (!idea.filed_by().empty() && idea.filed_by() == p.id) return true;  // the relais who filed it
  if (idea.status() == v1::IDEA_STATUS_DRAFT) return false;  // its authors' until they send it
  if (p.HasRole("coordinator") || IsReviewerOf(p, c)) return true;
  return c.visibility() == v1::VISIBILITY_AGENTS && p.HasRole("agent") &&
         idea.status() != v1::IDEA_STATUS_WITHDRAWN;
}

// A relais of the challenge: coordinators, and the agents they named on it.
inline absl::Status RequireRelay(const auth::Principal& p, const v1::Challenge& c) {
  if (p.HasRole("coordinator")) return absl::OkStatus();
  if (std::find(c.relay_ids().begin(), c.relay_ids().end(), p.id) != c.relay_ids().end()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "filing an idea for a colleague is for coordinators and the relais of challenge ", c.id(),
      " ('", p.id, "' is not one)"));
}

// Co-authors who hid their name on the idea they brought in a merge stay hidden here.
inline void ClearHiddenCoauthors(v1::Idea* idea) {
  auto* co = idea->mutable_coauthors();
  co->erase(std::remove_if(co->begin(), co->end(), [](const v1::Coauthor& a) { return a.hide_name(); }),
            co->end());
}

inline void ClearAuthor(v1::Idea* idea) {
  idea->clear_coauthors();
  for (auto& origin : *idea->mutable_merged_from()) origin.clear_author_name();  // theirs too
  idea->clear_filed_by();
  idea->clear_author_id();
  idea->clear_author_name();
  idea->clear_department();
}

// Until the jury has decided on it, an idea is under review (blind review lasts that long).
inline bool UnderReview(const v1::Idea& idea) {
  return idea.status() == v1::IDEA_STATUS_SUBMITTED || idea.status() == v1::IDEA_STATUS_SHORTLISTED;
}

// What a reader sees of an idea: no contact address unless coordinator or author; a juror of a
// blind challenge no author or service while it is under review; nobody off the jury its
// conflicts; another agent no jury reasons (those are the author's), and no author or service
// when the author hid them.
inline void ShowTo(const auth::Principal& p, const v1::Challenge& c, v1::Idea* idea) {
  RedactContact(p, idea);
  if (p.HasRole("coordinator")) return;
  if (IsAuthor(*idea, p.id)) {  // who on the jury stepped aside is the jury's business,
    idea->clear_conflicted_juror_ids();  // and a result is the author's once it is announced
    idea->clear_pending_decisions();
    return;
  }
  idea->clear_public_credit();  // whose name the public page may show is the authors' affair
  if (IsReviewerOf(p, c)) {
    if (c.blind_review() && UnderReview(*idea)) ClearAuthor(idea);
    return;
  }
  idea->mutable_last_decision()->clear_rationale();
  idea->clear_conflicted_juror_ids();
  idea->clear_pending_decisions();
  idea->clear_clarifications();  // between the jury and the authors
  idea->clear_eligibility();
  ClearHiddenCoauthors(idea);
  if (idea->hide_author()) ClearAuthor(idea);
}

}  // namespace pep::ideas::internal
