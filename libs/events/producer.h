// Idempotent Kafka producer (enable.idempotence, acks=all) with per-message delivery reports.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "events/kafka.h"

namespace pep::events {

class Producer {
 public:
  // Runs inside Poll()/Flush() on the caller's thread, once per produced message.
  using DeliveryCallback = std::function<void(uint64_t tag, const absl::Status& status)>;

  // `props` must hold bootstrap.servers; idempotence and acks=all are always set.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const KafkaProperties& props,
                                                          DeliveryCallback on_delivery);
  ~Producer();

  // Enqueues a copy of the message; RESOURCE_EXHAUSTED when the local queue is full.
  absl::Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                       const Headers& headers, uint64_t tag);
  void Poll(int timeout_ms);
  // Waits for every queued message's delivery report (or the timeout).
  absl::Status Flush(absl::Duration timeout);
  int InFlight() const;
  // Non-OK once librdkafka raised a fatal error: the producer must be recreated.
  absl::Status FatalError() const;

 private:
  Producer() = default;
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);

  KafkaHandle rk_;
  DeliveryCallback on_delivery_;
};

}  // namespace pep::events
