// One shape for starting and stopping a Pépinière service. main() declares its parts in the
// order they start (store, relay, domain service, consumer, periodic tasks, gRPC server last);
// ServiceMain parses the flags, makes the data dir and the metrics server, runs that
// declaration, waits for SIGTERM/SIGINT and stops the parts in reverse, each with its drain:
// the server lets in-flight calls finish (their commits are durable), the consumer finishes
// the record in hand and commits its offsets, the relay publishes the outbox until it is empty
// or the grace ends, the store closes. A start that fails half-way stops what it started.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "events/consumer.h"
#include "grpcpp/grpcpp.h"
#include "server/components.h"
#include "server/grpc_server.h"
#include "server/service_flags.h"
#include "store/outbox_relay.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

namespace pep::server {

struct ServiceSpec {
  std::string name;  // "pep-ideas": the log's service field
  ServiceDefaults defaults;
  // The SQLite file in the data dir that `--backup_to FILE` copies (online, SQLite's backup
  // API; the running service goes on) before exiting without starting the service.
  std::string database_file;
};

// What a service's declaration is given: its flags, metrics, and the parts it starts.
class ServiceContext {
 public:
  explicit ServiceContext(ServiceFlags flags);

  const ServiceFlags& flags() const { return flags_; }
  // The system's clock, or with --clock_offset_file one running ahead of it (tests, rehearsals).
  const Clock& clock() const { return offset_clock_ ? *offset_clock_ : SystemClock::Get(); }
  // A file in the service's data dir.
  std::string DataPath(const std::string& file) const { return flags_.data_dir + "/" + file; }
  // The service's database: --database_url, or the SQLite file `sqlite_file` in the data dir.
  std::string DatabaseUrl(const std::string& sqlite_file) const {
    return ServiceDatabaseUrl(flags_, sqlite_file);
  }
  prometheus::Registry& registry() { return metrics_.registry(); }
  telemetry::EventMetrics& event_metrics() { return event_metrics_; }
  Components& components() { return components_; }

  // Takes a started part (a store, the domain service): destroyed when the service stops,
  // after every part declared later.
  template <typename T>
  T& Own(std::string name, std::unique_ptr<T> part,
         std::function<void(T&, absl::Duration)> drain = nullptr) {
    return components_.Own(std::move(name), std::move(part), std::move(drain));
  }
  // The outbox relay of the database at `database_url`; on stop it publishes until the outbox
  // is empty or the grace ends. On PostgreSQL one relay of all the service's replicas publishes.
  absl::StatusOr<store::OutboxRelay*> StartOutboxRelay(const std::string& database_url);
  // A started consumer; on stop it finishes the record in hand, commits, leaves its group.
  absl::StatusOr<events::Consumer*> StartConsumer(events::ConsumerOptions options,
                                                  events::Consumer::Handler handler);
  // `run` at once and then every `every` on a thread of its own, until the service stops.
  void Every(std::string name, absl::Duration every, std::function<void()> run);
  // The same for a task that can fail: a failed run is logged (a warning naming the task) and
  // the next one comes at its time.
  void EveryChecked(std::string name, absl::Duration every, std::function<absl::Status()> run);
  // The gRPC server for `service` (health reports `proto_name` SERVING): declare it last, so it
  // is the first to stop taking calls.
  absl::Status Serve(grpc::Service* service, std::string proto_name);
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_.port(); }

 private:
  const ServiceFlags flags_;
  std::unique_ptr<OffsetFileClock> offset_clock_;
  telemetry::MetricsServer metrics_;
  telemetry::GrpcServerMetrics grpc_metrics_;
  telemetry::EventMetrics event_metrics_;
  int grpc_port_ = 0;
  Components components_;  // last: its parts stop before the metrics they report to go away
};

// The whole of a service's main(): returns the exit code when the start fails, and ends the
// process once every part has stopped otherwise.
int ServiceMain(const ServiceSpec& spec, int argc, char** argv,
                const std::function<absl::Status(ServiceContext&)>& declare);

}  // namespace pep::server
