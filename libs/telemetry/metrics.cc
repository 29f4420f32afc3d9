#include "telemetry/metrics.h"

#include "absl/strings/str_cat.h"

namespace pep::telemetry {

MetricsServer::MetricsServer(const std::string& bind_address)
    : registry_(std::make_shared<prometheus::Registry>()),
      exposer_(std::make_unique<prometheus::Exposer>(bind_address, 2)) {
  exposer_->RegisterCollectable(registry_);
}

int MetricsServer::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

EventMetrics::EventMetrics(prometheus::Registry& r)
    : published_(prometheus::BuildCounter()
                     .Name("pep_events_published_total")
                     .Help("Events whose delivery to Kafka was confirmed by the broker.")
                     .Register(r)),
      publish_failed_(prometheus::BuildCounter()
                          .Name("pep_events_publish_failed_total")
                          .Help("Event deliveries that failed and will be retried.")
                          .Register(r)),
      consumed_(prometheus::BuildCounter()
                    .Name("pep_events_consumed_total")
                    .Help("Events read from Kafka, by outcome (handled, duplicate, dead_lettered).")
                    .Register(r)),
      dead_lettered_(prometheus::BuildCounter()
                         .Name("pep_events_dead_lettered_total")
                         .Help("Events sent to a dead-letter topic.")
                         .Register(r)),
      lag_(prometheus::BuildGauge()
               .Name("pep_consumer_lag_messages")
               .Help("Messages between the consumer position and the partition's high watermark.")
               .Register(r)),
      transient_(prometheus::BuildCounter()
                     .Name("pep_consumer_transient_failures_total")
                     .Help("Handler failures retried without end (store busy or full, a dependency down).")
                     .Register(r)),
      blocked_(prometheus::BuildGauge()
                   .Name("pep_consumer_blocked")
                   .Help("1 while a partition waits on a transient handler failure, else 0.")
                   .Register(r)) {
  auto& backlog = prometheus::BuildGauge()
                      .Name("pep_outbox_backlog_events")
                      .Help("Outbox events written but not yet confirmed by Kafka.")
                      .Register(r);
  outbox_backlog_ = &backlog.Add({});
  auto& age = prometheus::BuildGauge()
                  .Name("pep_outbox_oldest_unsent_age_seconds")
                  .Help("Age of the oldest outbox event not yet confirmed by Kafka (0 if none).")
                  .Register(r);
  outbox_oldest_age_ = &age.Add({});
}

prometheus::Counter& EventMetrics::Cached(prometheus::Family<prometheus::Counter>& family,
                                          const prometheus::Labels& labels) {
  std::string key = absl::StrCat(reinterpret_cast<uintptr_t>(&family));
  for (const auto& [k, v] : labels) absl::StrAppend(&key, "|", k, "=", v);
  absl::MutexLock l(&mu_);
  auto it = counters_.find(key);
  if (it != counters_.end()) return *it->second;
  prometheus::Counter& c = family.Add(labels);
  counters_.emplace(key, &c);
  return c;
}

prometheus::Counter& EventMetrics::Published(const std::string& topic) {
  return Cached(published_, {{"topic", topic}});
}
prometheus::Counter& EventMetrics::PublishFailed(const std::string& topic) {
  return Cached(publish_failed_, {{"topic", topic}});
}
prometheus::Counter& EventMetrics::Consumed(const std::string& topic, const std::string& outcome) {
  return Cached(consumed_, {{"topic", topic}, {"outcome", outcome}});
}
prometheus::Counter& EventMetrics::DeadLettered(const std::string& topic) {
  return Cached(dead_lettered_, {{"topic", topic}});
}
prometheus::Gauge& EventMetrics::ConsumerLag(const std::string& topic, int partition) {
  return PartitionGauge(lag_, topic, partition);
}
prometheus::Counter& EventMetrics::TransientFailures(const std::string& topic) {
  return Cached(transient_, {{"topic", topic}});
}
prometheus::Gauge& EventMetrics::Blocked(const std::string& topic, int partition) {
  return PartitionGauge(blocked_, topic, partition);
}
prometheus::Gauge& EventMetrics::PartitionGauge(prometheus::Family<prometheus::Gauge>& family,
                                                const std::string& topic, int partition) {
  std::string key = absl::StrCat(reinterpret_cast<uintptr_t>(&family), "|", topic, "|", partition);
  absl::MutexLock l(&mu_);
  auto it = gauges_.find(key);
  if (it != gauges_.end()) return *it->second;
  prometheus::Gauge& g = family.Add({{"topic", topic}, {"partition", absl::StrCat(partition)}});
  gauges_.emplace(key, &g);
  return g;
}

}  // namespace pep::telemetry
