// Publishes outbox rows to Kafka in sequence order through an idempotent producer, and marks a
// row sent only after its successful delivery report. Broker down: rows wait, writes go on.
// On PostgreSQL, several replicas of a service share one outbox: one relay at a time publishes,
// the holder of a session advisory lock ("outbox-relay") on its own connection; the others try
// to take it every `idle_poll`, and one does as soon as the holder's connection ends (the holder
// stopped or died). A new holder starts from the first unsent row: rows the old holder produced
// but had not marked sent go again, with the same ce_id (consumers' inboxes drop them).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "store/db.h"
#include "telemetry/metrics.h"

namespace pep::store {

struct RelayOptions {
  std::string brokers;
  int batch_size = 500;        // rows read per query
  int max_in_flight = 10000;   // produced but not yet reported
  absl::Duration idle_poll = absl::Milliseconds(100);
  // Rows confirmed sent longer ago than this are deleted (PruneSentOutbox), checked every
  // `prune_every`. Zero keeps them forever.
  absl::Duration keep_sent = absl::ZeroDuration();
  absl::Duration prune_every = absl::Minutes(10);
  events::KafkaProperties extra;  // librdkafka producer overrides
};

class OutboxRelay {
 public:
  // `database`: a database URL (store/db.h) or a SQLite path.
  OutboxRelay(std::string database, RelayOptions options, telemetry::EventMetrics* metrics);
  ~OutboxRelay();

  absl::Status Start();
  // Wakes the relay after a commit that added outbox rows.
  void Notify();
  // Publishes what it can until the backlog is empty or `drain` passes, then stops.
  void Stop(absl::Duration drain = absl::Seconds(10));
  // Rows not yet confirmed (reads the database).
  int64_t Backlog();
  // True while this relay is the one that publishes (always, on SQLite).
  bool Active() const { return active_.load(); }

 private:
  void Run();
  bool PublishRound();  // returns true if it did work
  void ApplyDeliveries();
  void UpdateBacklogMetrics();
  void PruneIfDue();
  absl::Status EnsureProducer();
  bool HoldLeadership();  // PostgreSQL: takes or keeps the relay lock; false if another has it

  const std::string db_path_;
  const RelayOptions options_;
  telemetry::EventMetrics* metrics_;
  std::unique_ptr<Db> db_;
  // Prepared once in Start(): the relay runs them every round.
  std::optional<Stmt> select_unsent_;
  std::optional<Stmt> mark_sent_;
  std::unique_ptr<events::Producer> producer_;
  int64_t next_seq_ = 0;  // rows with seq > next_seq_ not yet produced in this session
  bool rewind_ = false;   // a delivery failed: re-read unsent rows once in-flight is empty
  std::atomic<bool> active_{false};

  absl::Mutex mu_;
  std::vector<uint64_t> delivered_ ABSL_GUARDED_BY(mu_);
  int failed_ ABSL_GUARDED_BY(mu_) = 0;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time drain_deadline_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
  absl::Time last_metrics_ = absl::InfinitePast();
  absl::Time last_prune_ = absl::InfinitePast();
};

}  // namespace pep::store
