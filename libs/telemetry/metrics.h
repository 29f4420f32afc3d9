// Prometheus registry + HTTP exposer for a service, and the event-pipeline metric families
// shared by the outbox relay and consumers.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pep::telemetry {

class MetricsServer {
 public:
  // bind_address like "127.0.0.1:9101"; port 0 picks a free one (see port()).
  explicit MetricsServer(const std::string& bind_address);
  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  int port() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Event pipeline metrics; counters are cached per topic so hot paths never call Family::Add.
class EventMetrics {
 public:
  explicit EventMetrics(prometheus::Registry& registry);

  prometheus::Counter& Published(const std::string& topic);
  prometheus::Counter& PublishFailed(const std::string& topic);
  prometheus::Counter& Consumed(const std::string& topic, const std::string& outcome);
  prometheus::Counter& DeadLettered(const std::string& topic);
  prometheus::Gauge& ConsumerLag(const std::string& topic, int partition);
  // Handler failures worth waiting for (store busy or full, a dependency down): each retry.
  prometheus::Counter& TransientFailures(const std::string& topic);
  // 1 while the partition waits on a transient failure (nothing behind it is handled), else 0.
  prometheus::Gauge& Blocked(const std::string& topic, int partition);
  prometheus::Gauge& outbox_backlog() { return *outbox_backlog_; }
  prometheus::Gauge& outbox_oldest_age() { return *outbox_oldest_age_; }

 private:
  prometheus::Counter& Cached(prometheus::Family<prometheus::Counter>& family,
                              const prometheus::Labels& labels);

  prometheus::Family<prometheus::Counter>& published_;
  prometheus::Family<prometheus::Counter>& publish_failed_;
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Family<prometheus::Counter>& dead_lettered_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Family<prometheus::Counter>& transient_;
  prometheus::Family<prometheus::Gauge>& blocked_;
  prometheus::Gauge& PartitionGauge(prometheus::Family<prometheus::Gauge>& family, const std::string& topic,
                                    int partition);
  prometheus::Gauge* outbox_backlog_;
  prometheus::Gauge* outbox_oldest_age_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, prometheus::Counter*> counters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Gauge*> gauges_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pep::telemetry
