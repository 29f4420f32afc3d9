// pep-feedback repository: answers (protobuf blob + indexed columns), the local read model of
// start-ups learned from pepiniere.incubation.events, and the group-commit writer that makes
// many concurrent submissions durable in one transaction each.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "pepiniere/feedback/v1/feedback.pb.h"
#include "store/checkpointer.h"
#include "store/outbox.h"
#include "store/read_pool.h"
#include "store/sqlite.h"

namespace pep::feedback {

namespace v1 = ::pepiniere::feedback::v1;

inline constexpr char kTopic[] = "pepiniere.feedback.events";
inline constexpr char kSource[] = "/pepiniere/feedback";

struct Product {
  std::string startup_id;
  int phase = 0;  // pepiniere.incubation.v1.Phase
  std::string correlation_id;
  std::string name;
  // The start-up's aggregate version the phase came from: an older event (a replayed dead
  // letter) never sets the phase back, so an abandoned product's form stays closed.
  int64_t version = 0;
};

// One submission waiting for its batch. `done` runs on the writer thread after the commit
// (or with the error that prevented it).
struct PendingAnswer {
  v1::Feedback feedback;  // id, fields, masked verbatim, received_at already set
  std::string idempotency_key;  // scoped to client_key: a replay answers only its own client
  std::string client_key;       // the gateway's salted hash of the client's network
  std::string correlation_id;
  std::string actor;
  // Filled by Prepare() on the caller's thread, so the single writer only binds and steps.
  std::string feedback_bytes;
  store::EncodedOutboxRow event;  // FeedbackReceived, encoded on the request's thread
  std::function<void(absl::StatusOr<v1::Feedback>, bool replayed)> done;
};

class FeedbackStore {
 public:
  // `max_queued`: answers waiting for the writer at most; past it Enqueue refuses with
  // RESOURCE_EXHAUSTED (overload is refused, not queued without end).
  // `database_url`: see store::Db::Connect (a SQLite path, sqlite:///…, postgres://…).
  static absl::StatusOr<std::unique_ptr<FeedbackStore>> Open(const std::string& database_url,
                                                             const Clock& clock,
                                                             int max_batch = 512,
                                                             int max_queued = 8192);
  ~FeedbackStore();

  // Group commit: queued answers are written in batches, one durable transaction per batch;
  // `on_commit` runs after each committed batch (wakes the outbox relay).
  void StartWriter(std::function<void()> on_commit);
  // Serialises the answer and builds its FeedbackReceived outbox row (any thread).
  static void Prepare(PendingAnswer& answer, absl::Time now);
  void Enqueue(PendingAnswer answer);
  void StopWriter();  // drains the queue first

  absl::StatusOr<std::vector<Product>> Products();
  absl::StatusOr<std::optional<Product>> FindProduct(const std::string& startup_id);

  // True on PostgreSQL: other replicas may write the same database. Their start-up read model
  // is then read again from it, and their rate limits are shared: AllowShared is the limit (as
  // RateLimiter::Allow, the client's hits kept in a row of its own, updated under that row's
  // lock). On SQLite one process holds both in memory.
  bool shared() const { return limits_db_ != nullptr; }
  absl::StatusOr<std::optional<absl::Duration>> AllowShared(const std::string& key, absl::Time now,
                                                            int limit, absl::Duration window);
  // Deletes the rows of clients not seen since `before`; how many.
  absl::StatusOr<int64_t> ForgetIdleLimits(absl::Time before);
  // The product as it stands after the event, or nullopt when the event was seen before.
  absl::StatusOr<std::optional<Product>> ApplyProduct(const std::string& ce_id, const std::string& topic,
                                                      const Product& p);

  absl::StatusOr<v1::Feedback> Get(const std::string& id);
  absl::StatusOr<std::vector<v1::Feedback>> List(const std::string& startup_id,
                                                 const std::string& after_id, int limit);
  // Every answer of `startup_id` received in [from, to), oldest first, read in pages of 2,000:
  // a year of a busy product's answers is never held in memory at once (on either engine).
  absl::Status ForEachInRange(const std::string& startup_id, absl::Time from, absl::Time to,
                              const std::function<void(const v1::Feedback&)>& each);
  // Hides the verbatim and emits FeedbackModerated, in one transaction.
  absl::StatusOr<v1::Feedback> Hide(const std::string& id, const std::string& reason,
                                    const std::string& actor, const std::string& correlation_id);
  // The button's placements (placements.cc): one stored; one by id; a start-up's, oldest first,
  // each with its count of answers, and the count of its answers by no placement.
  absl::Status PutPlacement(const v1::Placement& p);
  absl::StatusOr<std::optional<v1::Placement>> FindPlacement(const std::string& id);
  absl::StatusOr<v1::ListPlacementsResponse> Placements(const std::string& startup_id);
  absl::StatusOr<std::vector<v1::Placement>> AllPlacements();
  // Batches committed so far, and answers in them (for tests and the benchmark).
  int64_t batches() const { return batches_.load(); }

 private:
  FeedbackStore(std::unique_ptr<store::Db> writer, std::unique_ptr<store::Db> aux,
                const Clock& clock, int max_batch, int max_queued)
      : writer_db_(std::move(writer)), aux_db_(std::move(aux)), clock_(clock),
        max_batch_(max_batch), max_queued_(max_queued) {}
  void WriterLoop();
  void CompleterLoop();
  // The writer thread's statements, prepared once on its connection.
  struct WriterStatements {
    store::Stmt insert;
    store::Stmt by_key;
    store::OutboxAppender outbox;
  };
  absl::StatusOr<WriterStatements> PrepareWriter();
  absl::Status WriteBatch(WriterStatements& st, std::vector<PendingAnswer>& batch,
                          std::vector<bool>& replayed);
  absl::StatusOr<std::vector<v1::Feedback>> ListOn(store::Db& db, const std::string& startup_id,
                                                   const std::string& after_id, int limit);

  std::unique_ptr<store::Db> writer_db_;  // the writer thread's own connection
  std::unique_ptr<store::WalCheckpointer> checkpointer_;  // keeps checkpoints out of its commits
  absl::Mutex aux_mu_;
  std::unique_ptr<store::Db> aux_db_ ABSL_GUARDED_BY(aux_mu_);  // reads and rare writes
  // PostgreSQL: the reads (an answer, a page of answers, a range scan) on connections of their
  // own; SQLite: none, reads stay on aux_db_.
  std::unique_ptr<store::ReadPool> reads_;
  absl::Mutex limits_mu_;
  std::unique_ptr<store::Db> limits_db_;  // PostgreSQL only: the shared rate limits
  const Clock& clock_;
  const int max_batch_;
  const int max_queued_;

  absl::Mutex queue_mu_;
  std::deque<PendingAnswer> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_;
  // Replies are sent by a second thread so the writer can start the next batch at once: sending
  // a gRPC reply costs about as much as writing the answer.
  struct Completed {
    std::vector<PendingAnswer> batch;
    std::vector<bool> replayed;
    absl::Status status;
  };
  absl::Mutex done_mu_;
  std::deque<Completed> done_ ABSL_GUARDED_BY(done_mu_);
  bool writer_finished_ ABSL_GUARDED_BY(done_mu_) = false;
  std::thread completer_;
  std::function<void()> on_commit_;
  std::atomic<int64_t> batches_{0};
};

}  // namespace pep::feedback
