// pep-ideas repository: SQLite tables (challenges, ideas, scorecards) holding each record as its
// protobuf with indexed columns beside it, migrations, and outbox rows in the same transaction.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "google/protobuf/message.h"
#include "pepiniere/ideas/v1/ideas.pb.h"
#include "store/proto_rows.h"
#include "store/read_pool.h"
#include "store/sqlite.h"

namespace pep::ideas {

namespace v1 = ::pepiniere::ideas::v1;

inline constexpr char kTopic[] = "pepiniere.ideas.events";
inline constexpr char kSource[] = "/pepiniere/ideas";

// The row a retried request made first (ideas, comments: unique per author and request id).
template <typename M>
absl::StatusOr<std::optional<M>> FindByRequest(store::Db& db, const std::string& sql,
                                               const std::string& author_id,
                                               const std::string& request_id, const std::string& what) {
  auto q = db.Prepare(sql);
  if (!q.ok()) return q.status();
  q->Bind(1, author_id).Bind(2, request_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<M>();
  auto m = store::ParseRow<M>(q->Text(0), what);
  if (!m.ok()) return m.status();
  return std::optional<M>(std::move(*m));
}

// A scorecard of a sealed challenge as stored: the exact bytes committed to, and the seal.
struct SealedCard {
  std::string idea_id, juror_id, card, salt, commitment;  // salt/commitment empty: no seal
};

// Operations available inside one write transaction.
class IdeasTx {
 public:
  IdeasTx(store::Db& db, const Clock& clock) : db_(db), clock_(clock) {}

  absl::StatusOr<v1::Challenge> GetChallenge(const std::string& id);
  absl::Status PutChallenge(const v1::Challenge& c);
  absl::StatusOr<v1::Idea> GetIdea(const std::string& id);
  // An idea and its challenge.
  absl::Status GetIdeaAndChallenge(const std::string& idea_id, v1::Idea* idea, v1::Challenge* c);
  absl::StatusOr<std::optional<v1::Idea>> FindByRequestId(const std::string& author_id,
                                                          const std::string& request_id);
  absl::Status PutIdea(const v1::Idea& idea, const std::string& request_id = "");
  // Deletes a draft (never published, so nothing else refers to it but its co-authors' rows).
  absl::Status DeleteDraft(const std::string& idea_id);
  absl::StatusOr<std::vector<v1::Scorecard>> Scorecards(const std::string& idea_id);
  absl::StatusOr<std::vector<v1::Idea>> IdeasOfChallenge(const std::string& challenge_id);
  // An agent's support: true if it is new (PutSupport) or was there (DeleteSupport).
  absl::StatusOr<bool> PutSupport(const std::string& idea_id, const std::string& account_id);
  absl::StatusOr<bool> DeleteSupport(const std::string& idea_id, const std::string& account_id);
  absl::StatusOr<v1::Comment> GetComment(const std::string& id);
  absl::StatusOr<std::optional<v1::Comment>> FindCommentByRequestId(const std::string& author_id,
                                                                    const std::string& request_id);
  absl::Status PutComment(const v1::Comment& c, const std::string& request_id = "");
  // One report per account and comment: false if this account had reported it already.
  absl::StatusOr<bool> PutReport(const std::string& comment_id, const std::string& account_id,
                                 const std::string& reason);
  // Co-authors: an invitation by the hash of its code; using it marks it used by `account_id`
  // (NOT_FOUND: no such invitation for this idea; FAILED_PRECONDITION: expired or used).
  absl::Status PutInvitation(const std::string& code_hash, const std::string& idea_id, absl::Time expires);
  absl::Status UseInvitation(const std::string& code_hash, const std::string& idea_id,
                             const std::string& account_id);
  absl::Status PutCoauthor(const std::string& idea_id, const std::string& account_id);
  absl::Status DeleteCoauthor(const std::string& idea_id, const std::string& account_id);
  // Assisted submission (ideas_store_flows.cc): an idea waiting for the agent with this e-mail
  // (its SHA-256, lower-cased); TakeClaims hands over and forgets those waiting for it.
  absl::Status PutClaim(const std::string& idea_id, const std::string& email_hash);
  absl::StatusOr<std::vector<std::string>> TakeClaims(const std::string& email_hash);
  // Merges: the merged idea, the one it went into, its status before; the supports it brought.
  absl::Status PutMerge(const std::string& idea_id, const std::string& into_id, v1::IdeaStatus previous);
  // NOT_FOUND if the idea was not merged.
  absl::StatusOr<v1::IdeaStatus> TakeMerge(const std::string& idea_id, const std::string& into_id);
  // Copies `from`'s supporters to `into`, but not those who support `into` already nor its
  // authors (`skip`); remembers whom it added. Returns how many.
  absl::StatusOr<int> MoveSupports(const std::string& from, const std::string& into,
                                   const std::vector<std::string>& skip);
  // Takes back from `into` the supports a merge of `from` added (those still there).
  absl::StatusOr<int> TakeBackSupports(const std::string& from, const std::string& into);
  absl::StatusOr<int> CountSupports(const std::string& idea_id);
  absl::Status PutSeal(const std::string& idea_id, const std::string& juror_id,
                       const std::string& salt, const std::string& commitment);
  absl::StatusOr<std::vector<SealedCard>> SealedCards(const std::string& challenge_id);
  // Returns true if this juror had a scorecard for the idea (now replaced).
  absl::StatusOr<bool> PutScorecard(const v1::Scorecard& card);
  // Appends the event to the outbox with a full envelope (ce_type = payload's proto name).
  absl::Status Emit(const std::string& aggregate_id, const std::string& correlation_id,
                    int64_t aggregate_version, const google::protobuf::Message& payload,
                    const std::string& actor, absl::Time effective_time);
  absl::Time Now() const { return clock_.Now(); }

 private:
  store::Db& db_;
  const Clock& clock_;
};

class IdeasStore {
 public:
  // `database_url`: see store::Db::Connect (a SQLite path, sqlite:///…, postgres://…).
  static absl::StatusOr<std::unique_ptr<IdeasStore>> Open(const std::string& database_url,
                                                          const Clock& clock);

  absl::Time Now() const { return clock_.Now(); }
  // True on PostgreSQL: other replicas may write the same database.
  bool shared() const { return shared_; }

  // Runs `fn` in one BEGIN IMMEDIATE transaction; commits (durably: WAL, synchronous=FULL) only
  // if it returns OK, otherwise rolls back so nothing of a refused request is stored.
  absl::Status Write(const std::function<absl::Status(IdeasTx&)>& fn);

  absl::StatusOr<v1::Challenge> GetChallenge(const std::string& id);
  absl::StatusOr<std::vector<v1::Challenge>> ListChallenges(v1::ChallengeStatus status);
  absl::StatusOr<v1::Idea> GetIdea(const std::string& id);
  absl::StatusOr<v1::ListIdeasResponse> ListIdeas(const v1::ListIdeasRequest& r);
  absl::StatusOr<std::vector<v1::Idea>> IdeasOfChallenge(const std::string& challenge_id);
  absl::StatusOr<std::vector<v1::Scorecard>> Scorecards(const std::string& idea_id);
  absl::StatusOr<absl::flat_hash_map<std::string, std::vector<v1::Scorecard>>>
  ScorecardsOfChallenge(const std::string& challenge_id);
  absl::StatusOr<std::map<v1::IdeaStatus, int64_t>> CountIdeasByStatus();
  // The ideas (of one challenge; empty: any) this account supports.
  absl::StatusOr<absl::flat_hash_set<std::string>> SupportedBy(const std::string& account_id,
                                                              const std::string& challenge_id);
  absl::StatusOr<std::vector<SealedCard>> SealedCards(const std::string& challenge_id);
  // An idea's comments in creation order (ideas_store_comments.cc).
  absl::StatusOr<std::vector<v1::Comment>> Comments(const std::string& idea_id);
  // The comments of an idea this account reported, and (for coordinators) every report's reason.
  absl::StatusOr<absl::flat_hash_set<std::string>> ReportedBy(const std::string& account_id,
                                                             const std::string& idea_id);
  absl::StatusOr<absl::flat_hash_map<std::string, std::vector<std::string>>> ReportReasons(
      const std::string& idea_id);

 private:
  IdeasStore(std::unique_ptr<store::Db> db, std::unique_ptr<store::ReadPool> reads,
             const Clock& clock)
      : shared_(db->engine() == store::Engine::kPostgres), db_(std::move(db)),
        reads_(std::move(reads)), clock_(clock) {}

  const bool shared_;
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<store::ReadPool> reads_;  // PostgreSQL: readers on connections of their own
  const Clock& clock_;
};

}  // namespace pep::ideas
