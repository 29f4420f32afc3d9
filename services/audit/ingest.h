// The ledger's intake: one consumer group over every Pépinière topic. Records wait in a reorder
// buffer until no partition can still deliver an older one (the watermark: the oldest progress
// among partitions not at their end, and never later than now − grace), then are sealed in
// chain order with their offsets in one transaction. Offsets live in the ledger database, so
// dropping it replays the topics from the beginning (a rebuild).
#pragma once

#include <atomic>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "events/consumer.h"
#include "events/kafka.h"
#include "services/audit/ledger_store.h"

namespace pep::audit {

// The ledger record of a consumed message whose envelope is decoded, before any chaining.
LedgerRecord RecordOf(const rd_kafka_message_t* msg, events::Envelope envelope, std::string topic);

struct IngestOptions {
  std::string brokers;
  std::string group_id = "pep-audit";
  // Static group membership: a restarted pep-audit takes its partitions back at once instead
  // of waiting for the dead member's session to time out (45 s by default).
  std::string instance_id = "pep-audit-0";
  std::vector<std::string> topics;
  // How long a record waits for older ones still in flight upstream. Later ones are still
  // placed correctly (inserted, suffix re-hashed), only at a higher cost.
  absl::Duration grace = absl::Seconds(2);
  int max_poll_records = 50000;  // per round
  events::KafkaProperties extra;
  telemetry::EventMetrics* metrics = nullptr;  // pep_consumer_lag_messages from statistics
};

class AuditIngest {
 public:
  using OnSealed = std::function<void(const SealResult&, int64_t undecodable)>;

  static absl::StatusOr<std::unique_ptr<AuditIngest>> Create(IngestOptions options,
                                                             LedgerStore* store, const Clock& clock,
                                                             OnSealed on_sealed);
  ~AuditIngest();

  // Every assigned partition is at its end, nothing waits in the buffer and every batch is
  // sealed. Any thread.
  bool CaughtUp() const { return caught_up_.load(); }
  size_t buffered() const { return buffered_.load(); }
  int64_t taken() const { return taken_.load(); }  // Kafka records read so far
  absl::Time first_taken() const {                 // when the first one was read
    absl::MutexLock l(&mu_);
    return first_taken_;
  }
  absl::Duration seal_time() const {  // spent in LedgerStore::Seal
    absl::MutexLock l(&mu_);
    return seal_time_;
  }
  // Recorded time of the newest record sealed so far (InfinitePast before the first).
  absl::Time newest_sealed() const {
    const int64_t us = newest_sealed_us_.load();
    return us == INT64_MIN ? absl::InfinitePast() : absl::FromUnixMicros(us);
  }

  // Starts the reading thread and the sealer thread.
  void Start();
  // Stops reading, lets the sealer finish the batches already handed (up to 10 s), closes.
  void Stop();

 private:
  struct Partition {
    std::string topic;
    int partition = 0;
    absl::Time progress = absl::InfinitePast();  // newest ce_time read
    bool at_end = false;
    int64_t last_offset = -1;
    int64_t min_pending = 0;  // lowest offset still in the buffer (HandOver's scratch)
    bool dirty = false;       // offsets to store at the next seal
  };
  struct Buffered {
    LedgerRecord record;
    Partition* from;
  };

  AuditIngest(IngestOptions options, LedgerStore* store, const Clock& clock, OnSealed on_sealed)
      : options_(std::move(options)), store_(store), clock_(clock), on_sealed_(std::move(on_sealed)) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void Assign(rd_kafka_topic_partition_list_t* partitions);
  void Revoke();
  struct Batch {
    std::vector<LedgerRecord> records;  // chain order
    std::vector<UndecodableRecord> undecodable;
    std::vector<PartitionOffset> offsets;
  };

  void ReadLoop();
  void SealLoop();
  // One round on the reading thread: read what is available, hand over what may be sealed.
  void RunOnce(absl::Duration timeout);
  void Take(const rd_kafka_message_t* msg);
  absl::Time Watermark() const;
  void HandOver();
  void WaitUntilSealed();  // every handed batch is written (rebalances wait for it)

  IngestOptions options_;
  LedgerStore* store_;
  const Clock& clock_;
  OnSealed on_sealed_;
  events::KafkaHandle rk_;
  // Reading thread only.
  std::map<std::pair<std::string, int>, Partition> partitions_;
  const rd_kafka_topic_t* last_rkt_ = nullptr;  // Take's cache of the last partition found
  int32_t last_partition_ = -1;
  Partition* last_ = nullptr;
  // Read, not yet handed over: in arrival order; HandOver sorts what the watermark lets go.
  std::vector<Buffered> buffer_;
  std::vector<UndecodableRecord> undecodable_;

  mutable absl::Mutex mu_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  bool sealing_ ABSL_GUARDED_BY(mu_) = false;     // the sealer holds a batch
  bool stop_sealer_ ABSL_GUARDED_BY(mu_) = false;  // exit once the queue is empty
  bool abandon_ ABSL_GUARDED_BY(mu_) = false;      // exit now, even with batches left
  absl::Duration seal_time_ ABSL_GUARDED_BY(mu_);
  absl::Time first_taken_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  std::atomic<int64_t> taken_{0};
  std::atomic<size_t> buffered_{0};
  std::atomic<bool> caught_up_{false};
  std::atomic<int64_t> newest_sealed_us_{INT64_MIN};
  std::atomic<bool> stop_{false};
  std::thread reader_, sealer_;
  bool closed_ = false;
};

}  // namespace pep::audit
