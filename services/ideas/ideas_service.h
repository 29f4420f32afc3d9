// The pep-ideas gRPC edge: authenticate, validate, run the domain inside one store
// transaction (state + outbox event), map absl::Status to grpc::Status.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "common/rate_limit.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/ideas/ideas_core.h"
#include "services/ideas/ideas_store.h"

namespace pep::ideas {

// Business metrics of idea intake (series created up front so dashboards see zeros).
class IdeasMetrics {
 public:
  explicit IdeasMetrics(prometheus::Registry& registry);
  prometheus::Counter& submitted() { return *submitted_; }
  prometheus::Counter& decisions(v1::IdeaStatus d) { return *decisions_.at(d); }
  void SetCounts(const std::map<v1::IdeaStatus, int64_t>& counts);

 private:
  prometheus::Counter* submitted_;
  std::map<v1::IdeaStatus, prometheus::Counter*> decisions_;
  std::map<v1::IdeaStatus, prometheus::Gauge*> by_status_;
};

struct IdeasServiceOptions {
  auth::AuthOptions auth;
  double duplicate_threshold = 0.25;
  int duplicate_limit = 5;
  int comments_per_minute = 5;  // per person, in this process; 0: no limit
};

// The key under which an assisted idea waits for its author: SHA-256 of the lower-cased e-mail.
std::string ClaimKey(std::string_view email);

class IdeasService final : public v1::IdeaService::Service {
 public:
  IdeasService(IdeasStore& store, IdeasMetrics& metrics, std::function<void()> on_commit,
               IdeasServiceOptions options);

  // Loads the duplicate index and the status gauges from the store.
  absl::Status Init();
  // Reads the duplicate-hint index and the status counts again from the store: with replicas
  // on one database, what the others stored (main() calls it periodically on PostgreSQL).
  absl::Status Reload();

  grpc::Status CreateChallenge(grpc::ServerContext*, const v1::CreateChallengeRequest*,
                               v1::Challenge*) override;
  grpc::Status OpenChallenge(grpc::ServerContext*, const v1::ChallengeTransitionRequest*,
                             v1::Challenge*) override;
  grpc::Status CloseChallenge(grpc::ServerContext*, const v1::ChallengeTransitionRequest*,
                              v1::Challenge*) override;
  grpc::Status GetChallenge(grpc::ServerContext*, const v1::GetChallengeRequest*,
                            v1::Challenge*) override;
  grpc::Status ListChallenges(grpc::ServerContext*, const v1::ListChallengesRequest*,
                              v1::ListChallengesResponse*) override;
  grpc::Status SubmitIdea(grpc::ServerContext*, const v1::SubmitIdeaRequest*,
                          v1::SubmitIdeaResponse*) override;
  grpc::Status GetIdea(grpc::ServerContext*, const v1::GetIdeaRequest*, v1::Idea*) override;
  grpc::Status ListIdeas(grpc::ServerContext*, const v1::ListIdeasRequest*,
                         v1::ListIdeasResponse*) override;
  grpc::Status EditIdea(grpc::ServerContext*, const v1::EditIdeaRequest*, v1::Idea*) override;
  grpc::Status WithdrawIdea(grpc::ServerContext*, const v1::WithdrawIdeaRequest*,
                            v1::Idea*) override;
  grpc::Status RemoveJurors(grpc::ServerContext*, const v1::RemoveJurorsRequest*,
                            v1::Challenge*) override;
  grpc::Status AssignJurors(grpc::ServerContext*, const v1::AssignJurorsRequest*,
                            v1::Challenge*) override;
  grpc::Status ScoreIdea(grpc::ServerContext*, const v1::ScoreIdeaRequest*,
                         v1::Scorecard*) override;
  grpc::Status ListScorecards(grpc::ServerContext*, const v1::ListScorecardsRequest*,
                              v1::ListScorecardsResponse*) override;
  grpc::Status RankIdeas(grpc::ServerContext*, const v1::RankIdeasRequest*,
                         v1::RankIdeasResponse*) override;
  grpc::Status DecideIdea(grpc::ServerContext*, const v1::DecideIdeaRequest*,
                          v1::Idea*) override;
  grpc::Status SetChallengeVisibility(grpc::ServerContext*, const v1::SetChallengeVisibilityRequest*,
                                      v1::Challenge*) override;
  grpc::Status SupportIdea(grpc::ServerContext*, const v1::SupportIdeaRequest*, v1::Idea*) override;
  grpc::Status WithdrawSupport(grpc::ServerContext*, const v1::SupportIdeaRequest*,
                               v1::Idea*) override;
  grpc::Status FindSimilarIdeas(grpc::ServerContext*, const v1::FindSimilarIdeasRequest*,
                                v1::FindSimilarIdeasResponse*) override;
  grpc::Status AddComment(grpc::ServerContext*, const v1::AddCommentRequest*, v1::Comment*) override;
  grpc::Status EditComment(grpc::ServerContext*, const v1::EditCommentRequest*, v1::Comment*) override;
  grpc::Status ListComments(grpc::ServerContext*, const v1::ListCommentsRequest*,
                            v1::ListCommentsResponse*) override;
  grpc::Status ReportComment(grpc::ServerContext*, const v1::ReportCommentRequest*,
                             v1::Comment*) override;
  grpc::Status HideComment(grpc::ServerContext*, const v1::HideCommentRequest*, v1::Comment*) override;
  grpc::Status DeclareConflict(grpc::ServerContext*, const v1::DeclareConflictRequest*, v1::Idea*) override;
  grpc::Status ScheduleResults(grpc::ServerContext*, const v1::ScheduleResultsRequest*,
                               v1::Challenge*) override;
  grpc::Status RevealScores(grpc::ServerContext*, const v1::ChallengeTransitionRequest*,
                            v1::Challenge*) override;
  grpc::Status InviteCoauthor(grpc::ServerContext*, const v1::InviteCoauthorRequest*,
                              v1::CoauthorInvitation*) override;
  grpc::Status JoinIdea(grpc::ServerContext*, const v1::JoinIdeaRequest*, v1::Idea*) override;
  grpc::Status SubmitDraft(grpc::ServerContext*, const v1::SubmitDraftRequest*,
                           v1::SubmitIdeaResponse*) override;
  grpc::Status DiscardDraft(grpc::ServerContext*, const v1::SubmitDraftRequest*,
                            v1::DiscardDraftResponse*) override;
  grpc::Status SetRelays(grpc::ServerContext*, const v1::SetRelaysRequest*, v1::Challenge*) override;
  grpc::Status ClaimIdeas(grpc::ServerContext*, const v1::ClaimIdeasRequest*,
                          v1::ClaimIdeasResponse*) override;
  grpc::Status LinkIdeas(grpc::ServerContext*, const v1::LinkIdeasRequest*, v1::Idea*) override;
  grpc::Status UnlinkIdeas(grpc::ServerContext*, const v1::UnlinkIdeasRequest*, v1::Idea*) override;
  grpc::Status MergeIdeas(grpc::ServerContext*, const v1::MergeIdeasRequest*, v1::Idea*) override;
  grpc::Status UndoMerge(grpc::ServerContext*, const v1::UndoMergeRequest*, v1::Idea*) override;
  grpc::Status SetStages(grpc::ServerContext*, const v1::SetStagesRequest*, v1::Challenge*) override;
  grpc::Status CheckEligibility(grpc::ServerContext*, const v1::CheckEligibilityRequest*,
                                v1::Idea*) override;
  grpc::Status RequestClarification(grpc::ServerContext*, const v1::RequestClarificationRequest*,
                                    v1::Idea*) override;
  grpc::Status AnswerClarification(grpc::ServerContext*, const v1::AnswerClarificationRequest*,
                                   v1::Idea*) override;
  // ideas_public.cc (issue 30)
  grpc::Status SetPublicCredit(grpc::ServerContext*, const v1::SetPublicCreditRequest*, v1::Idea*) override;
  grpc::Status ListPublicOrigins(grpc::ServerContext*, const v1::ListPublicOriginsRequest*,
                                 v1::ListPublicOriginsResponse*) override;

  // Publishes together the decisions of each challenge whose announcement time has come;
  // returns how many (main() calls it every second; tests with their clock).
  absl::StatusOr<int> PublishDueResults();

 private:
  absl::StatusOr<auth::Principal> Caller(grpc::ServerContext* ctx) const;
  grpc::Status TransitionChallenge(grpc::ServerContext* ctx, const std::string& id,
                                   v1::ChallengeStatus to, v1::Challenge* out);
  void Committed(bool idea_counts_changed);
  // The hints the caller may read (a jury-private challenge's others' ideas are not theirs to see).
  absl::StatusOr<std::vector<v1::DuplicateHint>> ReadableHints(const auth::Principal& p,
                                                              const std::string& challenge_id,
                                                              std::vector<v1::DuplicateHint> hints);
  std::string SimilarityMethod() const;
  grpc::Status ChangeSupport(grpc::ServerContext* ctx, const std::string& idea_id, bool support,
                             v1::Idea* out);

  // The idea and its challenge, if `p` may read the idea (PERMISSION_DENIED otherwise).
  absl::Status ReadableIdea(const auth::Principal& p, const std::string& idea_id, v1::Idea* idea,
                            v1::Challenge* c);
  // Makes a decision public: the idea's status and last decision, and the event pep-notify and
  // pep-incubation act on (IdeaShortlisted, IdeaAwarded, IdeaRejected, IdeaSelected).
  absl::Status Publish(IdeasTx& tx, v1::Idea& idea, const v1::Decision& d, absl::Time when);
  // Publishes the decision, or records it until the challenge's announcement (`*held`).
  absl::Status DecideOrHold(IdeasTx& tx, v1::Idea& idea, v1::Challenge& c, const v1::Decision& d,
                            const std::string& actor, absl::Time now, bool* held);
  // The stage an idea is in and when it ends for it (answers: GetIdea, ListIdeas).
  static void ShowStage(const v1::Challenge& c, absl::Time now, v1::Idea* idea);
  // Sealed scoring (ideas_sealed.cc): each stored card against its commitment (DATA_LOSS naming
  // the first that differs), and a card as `p` may see it while the scores are sealed.
  static absl::Status CheckSeals(const std::vector<SealedCard>& cards);
  static v1::Scorecard Sealed(const auth::Principal& p, const v1::Challenge& c, v1::Scorecard card);
  // A submitted idea's answer: the look-alikes the caller may read, and the idea in the index.
  grpc::Status Hinted(const auth::Principal& p, v1::Idea idea, v1::SubmitIdeaResponse* out);
  absl::Status CheckCommentRate(const auth::Principal& p, absl::Time now);
  void ShowComment(const auth::Principal& p, const v1::Idea& shown_idea, const v1::Idea& idea,
                   v1::Comment* c) const;
  // The same for one comment: the idea as `p` sees it worked out here.
  void ShowComment(const auth::Principal& p, const v1::Challenge& c, const v1::Idea& idea,
                   v1::Comment* comment) const;

  IdeasStore& store_;
  IdeasMetrics& metrics_;
  std::function<void()> on_commit_;
  const IdeasServiceOptions options_;
  mutable absl::Mutex index_mu_;
  DuplicateIndex index_ ABSL_GUARDED_BY(index_mu_);
  absl::Mutex rate_mu_;
  RateLimiter comment_rate_ ABSL_GUARDED_BY(rate_mu_);
};

}  // namespace pep::ideas
