// The pure rules of the flows around an idea: relais lists, links and merges, eligibility, and
// evaluation stages — which stage an idea is in, its clock stopped while a clarification waits.
#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/ideas/ideas_core.h"

namespace pep::ideas {

absl::Status ValidateRelays(const v1::SetRelaysRequest& r) {
  PEP_RETURN_IF_ERROR(CheckId("challenge_id", r.challenge_id()));
  if (r.relay_ids_size() > kMaxRelays) {
    return FieldError("relay_ids", absl::StrFormat("lists at most %d relais (got %d)", kMaxRelays, r.relay_ids_size()));
  }
  for (int i = 0; i < r.relay_ids_size(); ++i) {
    PEP_RETURN_IF_ERROR(CheckText(absl::StrCat("relay_ids[", i, "]"), r.relay_ids(i), 1, kNameMax));
  }
  return absl::OkStatus();
}

absl::Status ValidateLink(const v1::LinkIdeasRequest& r) {
  PEP_RETURN_IF_ERROR(CheckId("idea_id", r.idea_id()));
  PEP_RETURN_IF_ERROR(CheckId("other_idea_id", r.other_idea_id()));
  if (r.other_idea_id() == r.idea_id()) return FieldError("other_idea_id", "is the idea itself");
  if (r.kind() < v1::LINK_KIND_SIMILAR || r.kind() > v1::LINK_KIND_COMPLEMENTS) {
    return FieldError("kind", "must be LINK_KIND_SIMILAR, LINK_KIND_PART_OF or LINK_KIND_COMPLEMENTS");
  }
  return absl::OkStatus();
}

absl::Status ValidateMerge(const v1::MergeIdeasRequest& r) {
  PEP_RETURN_IF_ERROR(CheckId("idea_id", r.idea_id()));
  if (r.merged_idea_ids_size() < 1 || r.merged_idea_ids_size() > kMaxMerged) {
    return FieldError("merged_idea_ids", absl::StrFormat("must list 1-%d ideas (got %d)", kMaxMerged,
                                                         r.merged_idea_ids_size()));
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < r.merged_idea_ids_size(); ++i) {
    const std::string field = absl::StrCat("merged_idea_ids[", i, "]");
    PEP_RETURN_IF_ERROR(CheckId(field, r.merged_idea_ids(i)));
    if (r.merged_idea_ids(i) == r.idea_id()) return FieldError(field, "is the idea merged into");
    if (!seen.insert(r.merged_idea_ids(i)).second) return FieldError(field, "is listed twice");
  }
  return CheckText("rationale", r.rationale(), 1, kCommentMax);
}

absl::Status ValidateEligibility(const v1::CheckEligibilityRequest& r) {
  PEP_RETURN_IF_ERROR(CheckId("idea_id", r.idea_id()));
  if (!r.eligible() && r.reason().empty()) {
    return FieldError("reason", "is required when the idea is not eligible (it is said to its authors)");
  }
  return CheckText("reason", r.reason(), 0, kCommentMax);
}

std::string StageName(v1::StageKind k) {
  switch (k) {
    case v1::STAGE_KIND_ELIGIBILITY: return "eligibility";
    case v1::STAGE_KIND_SCORING: return "scoring";
    case v1::STAGE_KIND_AUDITION: return "audition";
    case v1::STAGE_KIND_DECISION: return "decision";
    default: return "no stage";
  }
}

absl::Status ValidateStages(const v1::SetStagesRequest& r, const v1::Challenge& c) {
  if (r.stages_size() > 4) return FieldError("stages", absl::StrCat("has at most 4 stages (got ", r.stages_size(), ")"));
  bool scoring = false;
  for (int i = 0; i < r.stages_size(); ++i) {
    const v1::Stage& s = r.stages(i);
    const std::string f = absl::StrCat("stages[", i, "]");
    if (s.kind() < v1::STAGE_KIND_ELIGIBILITY || s.kind() > v1::STAGE_KIND_DECISION) {
      return FieldError(f + ".kind", "must be STAGE_KIND_ELIGIBILITY, _SCORING, _AUDITION or _DECISION");
    }
    if (i > 0 && s.kind() <= r.stages(i - 1).kind()) {
      return FieldError(f + ".kind", "stages come in order (eligibility, scoring, audition, decision), each once");
    }
    scoring = scoring || s.kind() == v1::STAGE_KIND_SCORING;
    if (!s.has_starts_at()) return FieldError(f + ".starts_at", "is required");
    if (!s.has_ends_at()) return FieldError(f + ".ends_at", "is required");
    const absl::Time start = FromTimestamp(s.starts_at()), end = FromTimestamp(s.ends_at());
    if (end <= start) return FieldError(f + ".ends_at", "must be after starts_at");
    if (end - start > absl::Hours(24 * 366)) return FieldError(f + ".ends_at", "a stage lasts at most a year");
    if (i > 0 && start < FromTimestamp(r.stages(i - 1).ends_at())) {
      return FieldError(f + ".starts_at", absl::StrCat("must not be before the previous stage ends (",
                                                       FormatRfc3339(FromTimestamp(r.stages(i - 1).ends_at())), ")"));
    }
    if (s.reviewer_ids_size() > kMaxJurors) {
      return FieldError(f + ".reviewer_ids", absl::StrFormat("lists at most %d reviewers", kMaxJurors));
    }
    for (int j = 0; j < s.reviewer_ids_size(); ++j) {
      const std::string rf = absl::StrCat(f, ".reviewer_ids[", j, "]");
      PEP_RETURN_IF_ERROR(CheckText(rf, s.reviewer_ids(j), 1, kNameMax));
      const bool jury_stage = s.kind() == v1::STAGE_KIND_SCORING || s.kind() == v1::STAGE_KIND_AUDITION;
      if (jury_stage && std::find(c.juror_ids().begin(), c.juror_ids().end(), s.reviewer_ids(j)) == c.juror_ids().end()) {
        return FieldError(rf, absl::StrCat("'", s.reviewer_ids(j), "' is not on the challenge's jury: assign them first"));
      }
    }
  }
  if (r.stages_size() > 0 && !scoring) return FieldError("stages", "must include the scoring stage");
  return absl::OkStatus();
}

absl::Duration Stopped(const v1::Idea& idea, v1::StageKind k, absl::Time now) {
  absl::Duration d;
  for (const auto& q : idea.clarifications()) {
    if (q.stage() != k) continue;
    const absl::Time end = q.has_answered_at() ? FromTimestamp(q.answered_at()) : now;
    if (end > FromTimestamp(q.asked_at())) d += end - FromTimestamp(q.asked_at());
  }
  return d;
}

const v1::Stage* StageOf(const v1::Challenge& c, const v1::Idea& idea, absl::Time now, absl::Time* ends) {
  for (const auto& s : c.stages()) {
    const absl::Time end = FromTimestamp(s.ends_at()) + Stopped(idea, s.kind(), now);
    if (FromTimestamp(s.starts_at()) <= now && now < end) {
      if (ends) *ends = end;
      return &s;
    }
  }
  return nullptr;
}

const v1::Stage* FindStage(const v1::Challenge& c, v1::StageKind k) {
  for (const auto& s : c.stages()) {
    if (s.kind() == k) return &s;
  }
  return nullptr;
}

bool ClarificationOpen(const v1::Idea& idea) {
  const int n = idea.clarifications_size();
  return n > 0 && !idea.clarifications(n - 1).has_answered_at();
}

namespace {

std::string Window(const v1::Challenge& c) {
  std::string out;
  for (const auto& s : c.stages()) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", StageName(s.kind()), " ",
                    FormatRfc3339(FromTimestamp(s.starts_at())), " – ", FormatRfc3339(FromTimestamp(s.ends_at())));
  }
  return out;
}

}  // namespace

absl::Status CheckInStage(const v1::Challenge& c, const v1::Idea& idea, absl::Time now,
                          std::initializer_list<v1::StageKind> allowed, std::string_view action) {
  if (c.stages_size() == 0) return absl::OkStatus();
  const v1::Stage* s = StageOf(c, idea, now);
  if (s && std::find(allowed.begin(), allowed.end(), s->kind()) != allowed.end()) return absl::OkStatus();
  std::string wanted;
  for (v1::StageKind k : allowed) absl::StrAppend(&wanted, wanted.empty() ? "" : " or ", StageName(k));
  return absl::FailedPreconditionError(absl::StrCat(
      std::string(action), " is done during the ", wanted, " stage; this idea is ",
      s ? absl::StrCat("in the ", StageName(s->kind()), " stage") : std::string("in no stage now"), " (", Window(c), ")"));
}

absl::Status CheckDecisionTime(const v1::Challenge& c, const v1::Idea& idea, absl::Time now) {
  if (c.stages_size() == 0) return absl::OkStatus();
  if (const v1::Stage* scoring = FindStage(c, v1::STAGE_KIND_SCORING)) {
    const absl::Time end = FromTimestamp(scoring->ends_at()) + Stopped(idea, v1::STAGE_KIND_SCORING, now);
    if (now < end) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the jury decides once scoring has ended for this idea (", FormatRfc3339(end), ")"));
    }
  }
  if (const v1::Stage* decision = FindStage(c, v1::STAGE_KIND_DECISION)) {
    const absl::Time end = FromTimestamp(decision->ends_at()) + Stopped(idea, v1::STAGE_KIND_DECISION, now);
    if (now >= end) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the decision stage ended (", FormatRfc3339(end), "): a coordinator moves its dates first"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNotWaiting(const v1::Idea& idea) {
  if (!ClarificationOpen(idea)) return absl::OkStatus();
  const auto& q = idea.clarifications(idea.clarifications_size() - 1);
  return absl::FailedPreconditionError(absl::StrCat(
      "this idea waits for its authors' clarification (asked ", FormatRfc3339(FromTimestamp(q.asked_at())),
      "): its clock is stopped until they answer"));
}

absl::Status CheckScoringRules(const v1::Challenge& c, const v1::Idea& idea, const std::string& juror,
                               absl::Time now) {
  PEP_RETURN_IF_ERROR(CheckNotWaiting(idea));
  if (c.stages_size() == 0) return absl::OkStatus();
  const bool audition = idea.status() == v1::IDEA_STATUS_SHORTLISTED;
  PEP_RETURN_IF_ERROR(audition ? CheckInStage(c, idea, now, {v1::STAGE_KIND_SCORING, v1::STAGE_KIND_AUDITION}, "scoring")
                               : CheckInStage(c, idea, now, {v1::STAGE_KIND_SCORING}, "scoring"));
  const v1::Stage* s = StageOf(c, idea, now);
  if (s->reviewer_ids_size() > 0 &&
      std::find(s->reviewer_ids().begin(), s->reviewer_ids().end(), juror) == s->reviewer_ids().end()) {
    return absl::PermissionDeniedError(absl::StrCat("'", juror, "' is not a reviewer of the ",
                                                    StageName(s->kind()), " stage"));
  }
  if (FindStage(c, v1::STAGE_KIND_ELIGIBILITY) && !(idea.has_eligibility() && idea.eligibility().eligible())) {
    return absl::FailedPreconditionError("this idea's eligibility has not been confirmed: it is not scored yet");
  }
  return absl::OkStatus();
}

}  // namespace pep::ideas
