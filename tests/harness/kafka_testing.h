// Kafka helpers for tests: librdkafka's in-process mock cluster (unit tests only), and a plain
// reader that assigns partitions directly (no group, no envelope decoding) for assertions.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "events/consumer.h"
#include "events/kafka.h"

namespace pep::testing {

class MockCluster {
 public:
  explicit MockCluster(const std::vector<std::string>& topics, int partitions = 1);
  ~MockCluster();
  std::string bootstrap() const;
  rd_kafka_mock_cluster_t* get() { return mc_; }

 private:
  events::KafkaHandle rk_;
  rd_kafka_mock_cluster_t* mc_;
};

// Reads every partition of `topic` from the beginning until `n` records are seen or `timeout`.
std::vector<events::Record> ReadTopic(const std::string& brokers, const std::string& topic,
                                      size_t n, absl::Duration timeout = absl::Seconds(30));

// Reads every partition of `topic` from the beginning until `done(records)` or `timeout`.
// `extra`: more consumer properties (isolation.level=read_uncommitted: aborted records too).
std::vector<events::Record> ReadTopicUntil(
    const std::string& brokers, const std::string& topic,
    const std::function<bool(const std::vector<events::Record>&)>& done,
    absl::Duration timeout = absl::Seconds(60), const events::KafkaProperties& extra = {});

// The broker (node id) leading each partition of `topic`, as the cluster's metadata says now.
std::map<int32_t, int32_t> PartitionLeaders(const std::string& brokers, const std::string& topic);

// Partitions (of every topic) with fewer in-sync replicas than replicas; -1 without metadata.
int UnderReplicatedPartitions(const std::string& brokers);

}  // namespace pep::testing
