// RAII handles and small helpers around the librdkafka C API.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "events/envelope.h"

namespace pep::events {

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, RdKafkaDeleter>;
using KafkaPartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, RdKafkaDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, RdKafkaDeleter>;
using KafkaHeaders = std::unique_ptr<rd_kafka_headers_t, RdKafkaDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, RdKafkaDeleter>;

using KafkaProperties = std::map<std::string, std::string>;

// Builds a conf from properties; an unknown or invalid property is INVALID_ARGUMENT naming it.
absl::StatusOr<KafkaConf> MakeConf(const KafkaProperties& props);

absl::Status KafkaError(rd_kafka_resp_err_t err, std::string_view context);

// A producer or consumer from `props`, overridden by `extra`; `setup` may set callbacks and an
// opaque on the conf first. INVALID_ARGUMENT naming a bad property.
absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, KafkaProperties props,
                                      const KafkaProperties& extra = {},
                                      const std::function<void(rd_kafka_conf_t*)>& setup = nullptr);

// Copies a message's headers (names and values) out of librdkafka.
Headers ReadHeaders(const rd_kafka_message_t* msg);
// FromHeaders(ReadHeaders(msg)) without copying every header first (hot consumers).
absl::StatusOr<Envelope> EnvelopeOf(const rd_kafka_message_t* msg);
KafkaHeaders MakeHeaders(const Headers& headers);

// The services' event topics (each with a ".dlt"), in PepiniereTopics and the ACLs.
inline constexpr const char* kEventTopics[] = {"pepiniere.ideas.events", "pepiniere.incubation.events",
                                              "pepiniere.feedback.events", "pepiniere.access.events",
                                              "pepiniere.notify.events"};

struct TopicSpec {
  std::string name;
  int partitions = 6;
  int replication_factor = 1;
  std::map<std::string, std::string> config;  // e.g. retention.ms=-1
};

// Creates topics that don't exist yet (an existing topic is fine); waits for the result.
absl::Status EnsureTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                          absl::Duration timeout = absl::Seconds(30));

// The project's topics: the event topics, their dead-letter topics, and pep-audit's log
// (pepiniere.audit.log, one partition).
std::vector<TopicSpec> PepiniereTopics(int partitions = 6, int replication_factor = 1);

}  // namespace pep::events
