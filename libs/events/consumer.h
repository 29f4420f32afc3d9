// At-least-once Kafka consumer: the handler's transaction commits first, then the offset is
// stored (auto-committed by librdkafka). A handler failure that is transient (IsTransient: the
// store busy or full, a dependency down) is retried for as long as it takes — the partition is
// paused meanwhile, so nothing behind the record is handled out of order, and the consumer keeps
// polling (its other partitions, its group membership). Any other failure gets a few attempts;
// a record that still fails, or cannot be decoded, is copied to `<topic>.dlt` with the error in
// headers, then skipped.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "telemetry/metrics.h"

namespace pep::events {

struct Record {
  std::string topic;
  int partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  Headers headers;
};

struct ConsumerOptions {
  std::string brokers;
  std::string group_id;
  // Static group membership (group.instance.id) when set: a restarted process takes its
  // partitions back at once instead of waiting for the dead member's session to time out
  // (45 s). One live process per id: a second one with the same id fences the first.
  std::string instance_id;
  std::vector<std::string> topics;
  int max_attempts = 5;  // handler calls before dead-lettering a failure that is not transient
  absl::Duration retry_backoff = absl::Milliseconds(200);  // doubled on each retry
  absl::Duration max_retry_backoff = absl::Seconds(30);    // transient failures: the longest wait
  std::string dlt_suffix = ".dlt";
  KafkaProperties extra;  // any librdkafka consumer property
};

// Sets pep_consumer_lag_messages{topic,partition} from one librdkafka statistics JSON document
// (statistics.interval.ms): each assigned partition's "consumer_lag" (unknown ones, -1, are
// skipped). Returns how many partitions it set; INVALID_ARGUMENT if the JSON cannot be read.
absl::StatusOr<int> ApplyLagStatistics(std::string_view json, telemetry::EventMetrics& metrics);
// The librdkafka stats callback that calls ApplyLagStatistics; opaque = the EventMetrics.
int LagStatisticsCallback(rd_kafka_t* rk, char* json, size_t len, void* opaque);

// The headers a dead letter carries beside the event's own (written by the consumer, read by
// dead_letters.h); every one begins with kDltPrefix.
inline constexpr char kDltPrefix[] = "pep_dlt_";
inline constexpr char kDltError[] = "pep_dlt_error";
inline constexpr char kDltErrorCode[] = "pep_dlt_error_code";
inline constexpr char kDltAttempts[] = "pep_dlt_attempts";
inline constexpr char kDltOriginalTopic[] = "pep_dlt_original_topic";
inline constexpr char kDltOriginalPartition[] = "pep_dlt_original_partition";
inline constexpr char kDltOriginalOffset[] = "pep_dlt_original_offset";
inline constexpr char kDltConsumerGroup[] = "pep_dlt_consumer_group";
inline constexpr char kDltFailedAt[] = "pep_dlt_failed_at";

// UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED, DEADLINE_EXCEEDED: conditions of the moment (the
// stores map SQLITE_BUSY, FULL and IOERR to UNAVAILABLE), worth waiting for however long they last.
bool IsTransient(const absl::Status& s);

class Consumer {
 public:
  // The handler applies the event (inbox + effect in one transaction). A non-OK status is
  // retried; it must be safe to call again with the same record.
  using Handler = std::function<absl::Status(const Record&, const Envelope&)>;

  static absl::StatusOr<std::unique_ptr<Consumer>> Create(ConsumerOptions options, Handler handler,
                                                          telemetry::EventMetrics* metrics);
  ~Consumer();

  // Polls once (up to timeout) and processes at most one record. Returns true if one was read.
  bool PollOnce(absl::Duration timeout);
  // Background loop until Stop(); Stop() closes the consumer (final offset commit).
  void Start();
  void Stop();

 private:
  Consumer() = default;
  // A record held on its paused partition, until its handler stops failing transiently.
  struct Held {
    Record record;
    Envelope envelope;
    int attempts = 0;
    absl::Duration backoff;
    absl::Time next;
  };
  using PartitionKey = std::pair<std::string, int>;

  void Process(const rd_kafka_message_t* msg);
  // Calls the handler until it succeeds, fails for good (dead letter) or fails transiently (held).
  void Handle(Record record, const Envelope& envelope, int attempts);
  void DeadLetterAndSkip(const Record& record, const absl::Status& error, int attempts);
  void Hold(Held held);
  void RetryHeld();              // the held records whose time has come
  void Release(const PartitionKey& key);  // resume the partition after its record
  absl::Duration UntilNextRetry(absl::Duration cap) const;
  absl::Status DeadLetter(const Record& record, const absl::Status& error, int attempts);
  void StoreOffset(const Record& record);
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);

  ConsumerOptions options_;
  Handler handler_;
  telemetry::EventMetrics* metrics_ = nullptr;
  KafkaHandle rk_;
  std::map<PartitionKey, Held> held_;  // the consumer thread's only
  absl::BitGen bitgen_;
  std::atomic<bool> stop_{false};
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace pep::events
