// The idea-intake domain: validation, the challenge and idea state machines, weighted scoring,
// ranking with quorum, and the duplicate hint. Pure: no gRPC, no SQLite, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pepiniere/ideas/v1/ideas.pb.h"

namespace pep::ideas {

namespace v1 = ::pepiniere::ideas::v1;

// Limits, in Unicode code points.
inline constexpr int kTitleMax = 140;
inline constexpr int kTextMax = 10000;
inline constexpr int kNameMax = 120;
inline constexpr int kCommentMax = 2000;
inline constexpr int kMaxCriteria = 10;
inline constexpr int kMaxJurors = 50;
inline constexpr int kScoreMin = 0;
inline constexpr int kScoreMax = 5;

absl::Status ValidateCreateChallenge(const v1::CreateChallengeRequest& r);
// A challenge's visibility (JURY or AGENTS; UNSPECIFIED, meaning JURY, unless `required`) and
// its support threshold (0-100000).
absl::Status ValidateVisibility(v1::Visibility v, int support_threshold, bool required);
absl::Status ValidateSimilar(const v1::FindSimilarIdeasRequest& r);
absl::Status ValidateSubmit(const v1::SubmitIdeaRequest& r);
absl::Status ValidateEdit(const v1::EditIdeaRequest& r);
absl::Status ValidateWithdraw(const v1::WithdrawIdeaRequest& r);
// Comments: bodies 1-2000 characters, names 1-120, reasons 1-500; ids as ids.
inline constexpr int kReasonMax = 500;
inline constexpr absl::Duration kCommentEditWindow = absl::Minutes(15);
absl::Status ValidateAddComment(const v1::AddCommentRequest& r);
absl::Status ValidateJoin(const v1::JoinIdeaRequest& r);
absl::Status ValidateEditComment(const v1::EditCommentRequest& r);
absl::Status ValidateReportComment(const v1::ReportCommentRequest& r);
absl::Status ValidateHideComment(const v1::HideCommentRequest& r);
// A thread as it is read: comments oldest first, each answer right after the comment it answers
// (answers oldest first too). `comments` come in creation order (ids are time-ordered).
std::vector<v1::Comment> ThreadOrder(std::vector<v1::Comment> comments);
absl::Status ValidateAssignJurors(const v1::AssignJurorsRequest& r);
absl::Status ValidateRemoveJurors(const v1::RemoveJurorsRequest& r);
// Checks each criterion is scored exactly once within 0..5 against the challenge's criteria.
absl::Status ValidateScore(const v1::ScoreIdeaRequest& r, const v1::Challenge& challenge);
absl::Status ValidateDecide(const v1::DecideIdeaRequest& r);

// State machines. An illegal move is FAILED_PRECONDITION naming the current state.
bool ChallengeTransitionAllowed(v1::ChallengeStatus from, v1::ChallengeStatus to);
absl::Status CheckChallengeTransition(v1::ChallengeStatus from, v1::ChallengeStatus to);
bool IdeaTransitionAllowed(v1::IdeaStatus from, v1::IdeaStatus to);
absl::Status CheckIdeaTransition(v1::IdeaStatus from, v1::IdeaStatus to);
std::string StatusName(v1::IdeaStatus s);       // "SUBMITTED", …
std::string StatusName(v1::ChallengeStatus s);  // "OPEN", …

// Submissions are accepted while the challenge is OPEN and `now` is before closes_at (if set).
absl::Status CheckAcceptsSubmissions(const v1::Challenge& c, absl::Time now);
// Ideas can be scored while SUBMITTED or SHORTLISTED.
absl::Status CheckScorable(const v1::Idea& idea);
// Author may edit/withdraw their own idea while it is SUBMITTED.
absl::Status CheckEditable(const v1::Idea& idea);

// Weighted score of one scorecard, 0..5: sum(weight_i * score_i) / sum(weight_i).
double WeightedScore(const v1::Challenge& c, const v1::Scorecard& card);
// Ranks non-withdrawn ideas by the mean of their counted scorecards' weighted scores (desc),
// then the number of scorecards (desc), then id (asc, i.e. earlier submission first); with the
// scores' dispersion (population standard deviation), lowest and highest beside the mean.
std::vector<v1::RankedIdea> RankIdeas(
    const v1::Challenge& c, const std::vector<v1::Idea>& ideas,
    const absl::flat_hash_map<std::string, std::vector<v1::Scorecard>>& scorecards);
// The idea's author or one of its co-authors.
bool IsAuthor(const v1::Idea& idea, std::string_view account_id);
// Whether a juror's scorecard counts for an idea: not its author's, not a juror's who declared
// a conflict of interest on it.
bool CardCounts(const v1::Idea& idea, const v1::Scorecard& card);
int CountedCards(const v1::Idea& idea, const std::vector<v1::Scorecard>& cards);
// Deciding needs at least jury_quorum (counted) scorecards.
absl::Status CheckQuorum(const v1::Challenge& c, int scorecards);

// Duplicate hint: Jaccard similarity of the sets of word trigrams (lower-cased words, split on
// anything that is not a letter or digit; texts under three words use single words).
std::vector<uint64_t> Shingles(std::string_view text);
double Jaccard(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);  // sorted, unique

class DuplicateIndex {
 public:
  void Upsert(const std::string& challenge_id, const std::string& idea_id,
              const std::string& title, std::string_view text);
  void Remove(const std::string& challenge_id, const std::string& idea_id);
  // Ideas of the challenge with similarity >= threshold, best first, at most `limit`.
  std::vector<v1::DuplicateHint> Similar(const std::string& challenge_id, std::string_view text,
                                         double threshold, int limit,
                                         const std::string& exclude_id = "") const;

 private:
  struct Entry {
    std::string title;
    std::vector<uint64_t> shingles;
  };
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, Entry>> by_challenge_;
};

std::string IdeaText(const v1::Idea& idea);  // title, problem and proposal joined

// Field checks shared by the validators (ideas_core.cc): text length in code points without
// control characters, a UUID.
absl::Status CheckText(std::string_view field, const std::string& value, int min, int max);
absl::Status CheckId(std::string_view field, const std::string& value);

// --- The flows around an idea (ideas_flows_core.cc) ---
inline constexpr int kMaxRelays = 200;
inline constexpr int kMaxMerged = 20;
inline constexpr int kAnswerMax = 5000;
absl::Status ValidateRelays(const v1::SetRelaysRequest& r);
absl::Status ValidateLink(const v1::LinkIdeasRequest& r);
absl::Status ValidateMerge(const v1::MergeIdeasRequest& r);
absl::Status ValidateEligibility(const v1::CheckEligibilityRequest& r);
// Stages: in order (eligibility, scoring, audition, decision), each at most once, scoring among
// them, each ending after it starts and starting no earlier than the previous one ends; the
// reviewers of scoring and audition are jurors of the challenge.
absl::Status ValidateStages(const v1::SetStagesRequest& r, const v1::Challenge& c);
std::string StageName(v1::StageKind k);  // "eligibility", "scoring", "audition", "decision"

// How long the idea's clarifications asked during stage `k` kept its clock stopped (an open one
// counts until `now`).
absl::Duration Stopped(const v1::Idea& idea, v1::StageKind k, absl::Time now);
// The stage the idea is in at `now`: the first whose window — its end moved later by the time
// the idea's clock was stopped in it — holds `now`; nullptr before the first, after the last,
// or between two. `ends` gets that stage's end for this idea.
const v1::Stage* StageOf(const v1::Challenge& c, const v1::Idea& idea, absl::Time now,
                         absl::Time* ends = nullptr);
const v1::Stage* FindStage(const v1::Challenge& c, v1::StageKind k);
bool ClarificationOpen(const v1::Idea& idea);
// The stage rules for an action on an idea, when the challenge has stages (OK when it has none):
// FAILED_PRECONDITION naming the stage and its dates otherwise.
absl::Status CheckInStage(const v1::Challenge& c, const v1::Idea& idea, absl::Time now,
                          std::initializer_list<v1::StageKind> allowed, std::string_view action);
// FAILED_PRECONDITION while a clarification waits for the authors.
absl::Status CheckNotWaiting(const v1::Idea& idea);
// Scoring by `juror` at `now`: no clarification waiting; with stages, in scoring (or audition
// for a shortlisted idea), by that stage's reviewers, once the idea is found eligible.
absl::Status CheckScoringRules(const v1::Challenge& c, const v1::Idea& idea, const std::string& juror,
                               absl::Time now);
// Decisions: once scoring has ended for the idea and until the decision stage ends.
absl::Status CheckDecisionTime(const v1::Challenge& c, const v1::Idea& idea, absl::Time now);

}  // namespace pep::ideas
