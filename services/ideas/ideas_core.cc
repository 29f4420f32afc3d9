#include "services/ideas/ideas_core.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"

namespace pep::ideas {

namespace {

absl::Status Text(std::string_view field, const std::string& value, int min, int max) {
  const int n = Utf8Length(value);
  if (n < 0) return FieldError(field, "is not valid UTF-8");
  if (n < min || n > max) {
    if (min > 0 && n == 0) return FieldError(field, absl::StrFormat("is required (1-%d characters)", max));
    return FieldError(field, absl::StrFormat("must be %d-%d characters (got %d)", min, max, n));
  }
  for (unsigned char c : value) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
      return FieldError(field, "must not contain control characters");
    }
  }
  return absl::OkStatus();
}

absl::Status Id(std::string_view field, const std::string& value) {
  if (value.empty()) return FieldError(field, "is required");
  if (!IsUuid(value)) return FieldError(field, absl::StrCat("is not a valid id: '", value.substr(0, 64), "'"));
  return absl::OkStatus();
}

absl::Status Email(std::string_view field, const std::string& v) {
  PEP_RETURN_IF_ERROR(Text(field, v, 3, 254));
  const size_t at = v.find('@');
  const bool ok = at != std::string::npos && at > 0 && v.find('@', at + 1) == std::string::npos &&
                  v.find('.', at + 2) != std::string::npos && v.back() != '.' &&
                  v.find(' ') == std::string::npos;
  if (!ok) return FieldError(field, absl::StrCat("is not an e-mail address: '", v, "'"));
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckText(std::string_view field, const std::string& value, int min, int max) {
  return Text(field, value, min, max);
}
absl::Status CheckId(std::string_view field, const std::string& value) { return Id(field, value); }

absl::Status ValidateCreateChallenge(const v1::CreateChallengeRequest& r) {
  PEP_RETURN_IF_ERROR(Text("title", r.title(), 1, kTitleMax));
  PEP_RETURN_IF_ERROR(Text("theme", r.theme(), 1, kNameMax));
  PEP_RETURN_IF_ERROR(Text("description", r.description(), 0, kTextMax));
  if (r.has_opens_at() && r.has_closes_at() &&
      r.closes_at().seconds() <= r.opens_at().seconds()) {
    return FieldError("closes_at", "must be after opens_at");
  }
  if (r.criteria_size() < 1 || r.criteria_size() > kMaxCriteria) {
    return FieldError("criteria", absl::StrFormat("must list 1-%d scoring criteria (got %d)",
                                                  kMaxCriteria, r.criteria_size()));
  }
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < r.criteria_size(); ++i) {
    const auto& c = r.criteria(i);
    PEP_RETURN_IF_ERROR(Text(absl::StrCat("criteria[", i, "].name"), c.name(), 1, 60));
    if (!names.insert(c.name()).second) {
      return FieldError(absl::StrCat("criteria[", i, "].name"),
                        absl::StrCat("duplicate criterion '", c.name(), "'"));
    }
    if (!(c.weight() > 0 && c.weight() <= 100)) {
      return FieldError(absl::StrCat("criteria[", i, "].weight"),
                        absl::StrFormat("must be > 0 and <= 100 (got %g)", c.weight()));
    }
  }
  if (r.jury_quorum() < 1 || r.jury_quorum() > kMaxJurors) {
    return FieldError("jury_quorum",
                      absl::StrFormat("must be 1-%d (got %d)", kMaxJurors, r.jury_quorum()));
  }
  return ValidateVisibility(r.visibility(), r.support_threshold(), /*required=*/false);
}

absl::Status ValidateSimilar(const v1::FindSimilarIdeasRequest& r) {
  PEP_RETURN_IF_ERROR(Id("challenge_id", r.challenge_id()));
  PEP_RETURN_IF_ERROR(Text("title", r.title(), 1, kTitleMax));
  PEP_RETURN_IF_ERROR(Text("problem", r.problem(), 0, kTextMax));
  return Text("proposal", r.proposal(), 0, kTextMax);
}

absl::Status ValidateVisibility(v1::Visibility v, int support_threshold, bool required) {
  if (!(v == v1::VISIBILITY_JURY || v == v1::VISIBILITY_AGENTS ||
        (!required && v == v1::VISIBILITY_UNSPECIFIED))) {
    return FieldError("visibility", "must be VISIBILITY_JURY or VISIBILITY_AGENTS");
  }
  if (support_threshold < 0 || support_threshold > 100000) {
    return FieldError("support_threshold", absl::StrFormat("must be 0-100000 (got %d)", support_threshold));
  }
  return absl::OkStatus();
}

absl::Status ValidateSubmit(const v1::SubmitIdeaRequest& r) {
  PEP_RETURN_IF_ERROR(Id("challenge_id", r.challenge_id()));
  PEP_RETURN_IF_ERROR(Text("title", r.title(), 1, kTitleMax));
  PEP_RETURN_IF_ERROR(Text("problem", r.problem(), 1, kTextMax));
  PEP_RETURN_IF_ERROR(Text("proposal", r.proposal(), 1, kTextMax));
  PEP_RETURN_IF_ERROR(Text("author_name", r.author_name(), 1, kNameMax));
  PEP_RETURN_IF_ERROR(Text("department", r.department(), 1, kNameMax));
  PEP_RETURN_IF_ERROR(Email("contact_email", r.contact_email()));
  PEP_RETURN_IF_ERROR(Text("request_id", r.request_id(), 0, 64));
  return absl::OkStatus();
}

absl::Status ValidateEdit(const v1::EditIdeaRequest& r) {
  PEP_RETURN_IF_ERROR(Id("idea_id", r.idea_id()));
  if (r.title().empty() && r.problem().empty() && r.proposal().empty() &&
      r.department().empty() && r.contact_email().empty()) {
    return FieldError("idea_id", "nothing to change: set at least one of title, problem, "
                                 "proposal, department, contact_email");
  }
  if (!r.title().empty()) PEP_RETURN_IF_ERROR(Text("title", r.title(), 1, kTitleMax));
  if (!r.problem().empty()) PEP_RETURN_IF_ERROR(Text("problem", r.problem(), 1, kTextMax));
  if (!r.proposal().empty()) PEP_RETURN_IF_ERROR(Text("proposal", r.proposal(), 1, kTextMax));
  if (!r.department().empty()) PEP_RETURN_IF_ERROR(Text("department", r.department(), 1, kNameMax));
  if (!r.contact_email().empty()) PEP_RETURN_IF_ERROR(Email("contact_email", r.contact_email()));
  return absl::OkStatus();
}

absl::Status ValidateWithdraw(const v1::WithdrawIdeaRequest& r) {
  PEP_RETURN_IF_ERROR(Id("idea_id", r.idea_id()));
  return Text("reason", r.reason(), 0, kCommentMax);
}

absl::Status ValidateAddComment(const v1::AddCommentRequest& r) {
  PEP_RETURN_IF_ERROR(Id("idea_id", r.idea_id()));
  if (!r.parent_id().empty()) PEP_RETURN_IF_ERROR(Id("parent_id", r.parent_id()));
  PEP_RETURN_IF_ERROR(Text("body", r.body(), 1, kCommentMax));
  PEP_RETURN_IF_ERROR(Text("author_name", r.author_name(), 1, kNameMax));
  return Text("request_id", r.request_id(), 0, 64);
}

absl::Status ValidateJoin(const v1::JoinIdeaRequest& r) {
  PEP_RETURN_IF_ERROR(Id("idea_id", r.idea_id()));
  if (r.code().size() != 32 || r.code().find_first_not_of("0123456789abcdef") != std::string::npos) {
    return FieldError("code", "is the 32-character code of an invitation");
  }
  return Text("name", r.name(), 1, kNameMax);
}

absl::Status ValidateEditComment(const v1::EditCommentRequest& r) {
  PEP_RETURN_IF_ERROR(Id("comment_id", r.comment_id()));
  return Text("body", r.body(), 1, kCommentMax);
}

absl::Status ValidateReportComment(const v1::ReportCommentRequest& r) {
  PEP_RETURN_IF_ERROR(Id("comment_id", r.comment_id()));
  return Text("reason", r.reason(), 1, kReasonMax);
}

absl::Status ValidateHideComment(const v1::HideCommentRequest& r) {
  PEP_RETURN_IF_ERROR(Id("comment_id", r.comment_id()));
  return Text("reason", r.reason(), 1, kReasonMax);
}

std::vector<v1::Comment> ThreadOrder(std::vector<v1::Comment> comments) {
  absl::flat_hash_map<std::string, std::vector<size_t>> answers;
  std::vector<bool> is_answer(comments.size());  // read before anything is moved out
  for (size_t i = 0; i < comments.size(); ++i) {
    is_answer[i] = !comments[i].parent_id().empty();
    if (is_answer[i]) answers[comments[i].parent_id()].push_back(i);
  }
  std::vector<v1::Comment> out;
  out.reserve(comments.size());
  for (size_t i = 0; i < comments.size(); ++i) {
    if (is_answer[i]) continue;
    auto it = answers.find(comments[i].id());
    out.push_back(std::move(comments[i]));
    if (it == answers.end()) continue;
    for (size_t a : it->second) out.push_back(std::move(comments[a]));
  }
  return out;  // an answer whose parent is not in the list (never stored so) is left out
}

namespace {
template <typename JurorsRequest>
absl::Status ValidateJurorList(const JurorsRequest& r) {
  PEP_RETURN_IF_ERROR(Id("challenge_id", r.challenge_id()));
  if (r.juror_ids_size() < 1 || r.juror_ids_size() > kMaxJurors) {
    return FieldError("juror_ids", absl::StrFormat("must list 1-%d jurors (got %d)", kMaxJurors,
                                                   r.juror_ids_size()));
  }
  for (int i = 0; i < r.juror_ids_size(); ++i) {
    PEP_RETURN_IF_ERROR(Text(absl::StrCat("juror_ids[", i, "]"), r.juror_ids(i), 1, kNameMax));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status ValidateAssignJurors(const v1::AssignJurorsRequest& r) { return ValidateJurorList(r); }
absl::Status ValidateRemoveJurors(const v1::RemoveJurorsRequest& r) { return ValidateJurorList(r); }

absl::Status ValidateScore(const v1::ScoreIdeaRequest& r, const v1::Challenge& challenge) {
  PEP_RETURN_IF_ERROR(Text("comment", r.comment(), 0, kCommentMax));
  absl::flat_hash_set<std::string> known, seen;
  for (const auto& c : challenge.criteria()) known.insert(c.name());
  for (int i = 0; i < r.scores_size(); ++i) {
    const auto& s = r.scores(i);
    const std::string field = absl::StrCat("scores[", i, "]");
    if (!known.contains(s.criterion())) {
      return FieldError(field + ".criterion",
                        absl::StrCat("unknown criterion '", s.criterion(), "' for this challenge"));
    }
    if (!seen.insert(s.criterion()).second) {
      return FieldError(field + ".criterion",
                        absl::StrCat("criterion '", s.criterion(), "' scored twice"));
    }
    if (s.score() < kScoreMin || s.score() > kScoreMax) {
      return FieldError(field + ".score", absl::StrFormat("must be %d-%d (got %d)", kScoreMin,
                                                          kScoreMax, s.score()));
    }
  }
  for (const auto& c : challenge.criteria()) {
    if (!seen.contains(c.name())) {
      return FieldError("scores", absl::StrCat("missing criterion '", c.name(), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDecide(const v1::DecideIdeaRequest& r) {
  PEP_RETURN_IF_ERROR(Id("idea_id", r.idea_id()));
  switch (r.decision()) {
    case v1::IDEA_STATUS_SHORTLISTED:
    case v1::IDEA_STATUS_AWARDED:
    case v1::IDEA_STATUS_REJECTED:
    case v1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION:
      break;
    default:
      return FieldError("decision", "must be SHORTLISTED, AWARDED, REJECTED or "
                                    "SELECTED_FOR_EXPERIMENTATION");
  }
  PEP_RETURN_IF_ERROR(Text("rationale", r.rationale(), 1, kCommentMax));
  return Text("prize", r.prize(), 0, kNameMax);
}

std::string StatusName(v1::IdeaStatus s) {
  std::string n = v1::IdeaStatus_Name(s);
  return n.rfind("IDEA_STATUS_", 0) == 0 ? n.substr(12) : n;
}
std::string StatusName(v1::ChallengeStatus s) {
  std::string n = v1::ChallengeStatus_Name(s);
  return n.rfind("CHALLENGE_STATUS_", 0) == 0 ? n.substr(17) : n;
}

bool ChallengeTransitionAllowed(v1::ChallengeStatus from, v1::ChallengeStatus to) {
  return (from == v1::CHALLENGE_STATUS_DRAFT && to == v1::CHALLENGE_STATUS_OPEN) ||
         (from == v1::CHALLENGE_STATUS_OPEN && to == v1::CHALLENGE_STATUS_CLOSED);
}

absl::Status CheckChallengeTransition(v1::ChallengeStatus from, v1::ChallengeStatus to) {
  if (ChallengeTransitionAllowed(from, to)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("challenge is ", StatusName(from),
                                                    ": cannot become ", StatusName(to)));
}

bool IdeaTransitionAllowed(v1::IdeaStatus from, v1::IdeaStatus to) {
  using S = v1::IdeaStatus;
  switch (from) {
    case S::IDEA_STATUS_SUBMITTED:
      return to == S::IDEA_STATUS_SHORTLISTED || to == S::IDEA_STATUS_REJECTED ||
             to == S::IDEA_STATUS_WITHDRAWN;
    case S::IDEA_STATUS_SHORTLISTED:
      return to == S::IDEA_STATUS_AWARDED || to == S::IDEA_STATUS_REJECTED ||
             to == S::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION;
    case S::IDEA_STATUS_AWARDED:
      return to == S::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION;
    default:
      return false;  // REJECTED, SELECTED_FOR_EXPERIMENTATION and WITHDRAWN are final
  }
}

absl::Status CheckIdeaTransition(v1::IdeaStatus from, v1::IdeaStatus to) {
  if (IdeaTransitionAllowed(from, to)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("idea is ", StatusName(from), ": cannot become ", StatusName(to)));
}

absl::Status CheckAcceptsSubmissions(const v1::Challenge& c, absl::Time now) {
  if (c.status() != v1::CHALLENGE_STATUS_OPEN) {
    return absl::FailedPreconditionError(
        absl::StrCat("challenge is ", StatusName(c.status()), ": ideas are accepted only while it is OPEN"));
  }
  if (c.has_closes_at() && absl::FromUnixSeconds(c.closes_at().seconds()) <= now) {
    return absl::FailedPreconditionError("challenge submission period has ended (closes_at passed)");
  }
  return absl::OkStatus();
}

absl::Status CheckScorable(const v1::Idea& idea) {
  if (idea.status() == v1::IDEA_STATUS_SUBMITTED || idea.status() == v1::IDEA_STATUS_SHORTLISTED) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("idea is ", StatusName(idea.status()), ": only SUBMITTED or SHORTLISTED ideas can be scored"));
}

absl::Status CheckEditable(const v1::Idea& idea) {
  if (idea.status() == v1::IDEA_STATUS_SUBMITTED || idea.status() == v1::IDEA_STATUS_DRAFT) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "idea is ", StatusName(idea.status()), ": only a SUBMITTED idea (or a draft) can be edited"));
}

double WeightedScore(const v1::Challenge& c, const v1::Scorecard& card) {
  double num = 0, den = 0;
  for (const auto& crit : c.criteria()) {
    for (const auto& s : card.scores()) {
      if (s.criterion() == crit.name()) {
        num += crit.weight() * s.score();
        den += crit.weight();
      }
    }
  }
  return den > 0 ? num / den : 0.0;
}

std::vector<v1::RankedIdea> RankIdeas(
    const v1::Challenge& c, const std::vector<v1::Idea>& ideas,
    const absl::flat_hash_map<std::string, std::vector<v1::Scorecard>>& scorecards) {
  std::vector<v1::RankedIdea> out;
  for (const auto& idea : ideas) {
    if (idea.status() == v1::IDEA_STATUS_WITHDRAWN || idea.status() == v1::IDEA_STATUS_DRAFT ||
        idea.status() == v1::IDEA_STATUS_MERGED || (idea.has_eligibility() && !idea.eligibility().eligible())) {
      continue;  // not in the running (an ineligible one is rejected, or will be at the announcement)
    }
    v1::RankedIdea r;
    r.set_idea_id(idea.id());
    r.set_title(idea.title());
    r.set_status(idea.status());
    double sum = 0, sum_sq = 0, lo = kScoreMax, hi = kScoreMin;
    int n = 0;
    if (auto it = scorecards.find(idea.id()); it != scorecards.end()) {
      for (const auto& card : it->second) {
        if (!CardCounts(idea, card)) continue;
        const double w = WeightedScore(c, card);
        sum += w;
        sum_sq += w * w;
        lo = std::min(lo, w);
        hi = std::max(hi, w);
        ++n;
      }
    }
    const double mean = n > 0 ? sum / n : 0.0;
    r.set_weighted_mean(mean);
    r.set_dispersion(n > 1 ? std::sqrt(std::max(0.0, sum_sq / n - mean * mean)) : 0.0);
    r.set_min_score(n > 0 ? lo : 0.0);
    r.set_max_score(n > 0 ? hi : 0.0);
    r.set_conflicts(idea.conflicted_juror_ids_size());
    r.set_scorecard_count(n);
    r.set_quorum_reached(n >= c.jury_quorum());
    r.set_supports(idea.supports());
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const v1::RankedIdea& a, const v1::RankedIdea& b) {
    if (a.weighted_mean() != b.weighted_mean()) return a.weighted_mean() > b.weighted_mean();
    if (a.scorecard_count() != b.scorecard_count()) return a.scorecard_count() > b.scorecard_count();
    return a.idea_id() < b.idea_id();
  });
  for (size_t i = 0; i < out.size(); ++i) out[i].set_rank(static_cast<int>(i) + 1);
  return out;
}

bool IsAuthor(const v1::Idea& idea, std::string_view account_id) {
  if (account_id.empty()) return false;
  if (idea.author_id() == account_id) return true;
  return std::any_of(idea.coauthors().begin(), idea.coauthors().end(),
                     [&](const v1::Coauthor& c) { return c.account_id() == account_id; });
}

bool CardCounts(const v1::Idea& idea, const v1::Scorecard& card) {
  if (IsAuthor(idea, card.juror_id())) return false;
  return std::find(idea.conflicted_juror_ids().begin(), idea.conflicted_juror_ids().end(),
                   card.juror_id()) == idea.conflicted_juror_ids().end();
}

int CountedCards(const v1::Idea& idea, const std::vector<v1::Scorecard>& cards) {
  return static_cast<int>(std::count_if(cards.begin(), cards.end(),
                                        [&](const v1::Scorecard& k) { return CardCounts(idea, k); }));
}

absl::Status CheckQuorum(const v1::Challenge& c, int scorecards) {
  if (scorecards >= c.jury_quorum()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "jury quorum not reached: %d of %d scorecards", scorecards, c.jury_quorum()));
}

std::vector<uint64_t> Shingles(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    // Bytes >= 0x80 belong to UTF-8 letters (é, à, ç…): kept inside words. Latin-1 capitals
    // (U+00C0-U+00DE, bytes C3 80-9E, except U+00D7 ×) are folded to lower case.
    if (c == 0xC3 && i + 1 < text.size()) {
      unsigned char n = static_cast<unsigned char>(text[i + 1]);
      if (n >= 0x80 && n <= 0x9E && n != 0x97) n = static_cast<unsigned char>(n + 0x20);
      cur.push_back(static_cast<char>(c));
      cur.push_back(static_cast<char>(n));
      ++i;
    } else if (absl::ascii_isalnum(c) || c >= 0x80) {
      cur.push_back(static_cast<char>(absl::ascii_tolower(c)));
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  std::vector<uint64_t> out;
  std::hash<std::string> h;
  if (words.size() < 3) {
    for (const auto& w : words) out.push_back(h(w));
  } else {
    for (size_t i = 0; i + 2 < words.size(); ++i) {
      out.push_back(h(absl::StrCat(words[i], " ", words[i + 1], " ", words[i + 2])));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double Jaccard(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  if (a.empty() && b.empty()) return 0.0;
  size_t i = 0, j = 0, inter = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      ++inter;
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

void DuplicateIndex::Upsert(const std::string& challenge_id, const std::string& idea_id,
                            const std::string& title, std::string_view text) {
  by_challenge_[challenge_id][idea_id] = Entry{title, Shingles(text)};
}

void DuplicateIndex::Remove(const std::string& challenge_id, const std::string& idea_id) {
  auto it = by_challenge_.find(challenge_id);
  if (it != by_challenge_.end()) it->second.erase(idea_id);
}

std::vector<v1::DuplicateHint> DuplicateIndex::Similar(const std::string& challenge_id,
                                                       std::string_view text, double threshold,
                                                       int limit,
                                                       const std::string& exclude_id) const {
  std::vector<v1::DuplicateHint> out;
  auto it = by_challenge_.find(challenge_id);
  if (it == by_challenge_.end()) return out;
  const std::vector<uint64_t> mine = Shingles(text);
  for (const auto& [id, entry] : it->second) {
    if (id == exclude_id) continue;
    const double sim = Jaccard(mine, entry.shingles);
    if (sim >= threshold) {
      v1::DuplicateHint h;
      h.set_idea_id(id);
      h.set_title(entry.title);
      h.set_similarity(sim);
      out.push_back(std::move(h));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.similarity() != b.similarity() ? a.similarity() > b.similarity()
                                            : a.idea_id() < b.idea_id();
  });
  if (static_cast<int>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
  return out;
}

std::string IdeaText(const v1::Idea& idea) {
  return absl::StrCat(idea.title(), "\n", idea.problem(), "\n", idea.proposal());
}

}  // namespace pep::ideas
