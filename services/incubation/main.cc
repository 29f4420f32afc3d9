// pep-incubation: wiring only — flags, store, outbox relay, the pepiniere.ideas.events
// consumer, gRPC server (health, reflection, interceptors), metrics, graceful shutdown.
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/shutdown.h"
#include "events/consumer.h"
#include "server/grpc_server.h"
#include "server/service_flags.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/incubation_store.h"
#include "store/outbox_relay.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

ABSL_FLAG(std::string, consumer_group, "pep-incubation", "Kafka consumer group");
ABSL_FLAG(std::string, consumer_instance, "pep-incubation-0",
          "Static member id in the consumer group (a restart reclaims the partitions at once; "
          "empty: dynamic membership)");
ABSL_FLAG(std::string, default_incubator, "Incubateur des Alpes-Maritimes",
          "Incubator of start-ups opened from selected ideas");
ABSL_FLAG(int, overdue_milestone_months, 6, "Months without a milestone before overdue");
ABSL_FLAG(int, investigation_months, 3, "Expected length of investigation");
ABSL_FLAG(int, construction_months, 12, "Expected length of construction");
ABSL_FLAG(int, acceleration_months, 24, "Expected length of acceleration");

int main(int argc, char** argv) {
  pep::BlockShutdownSignals();
  // Debian's Abseil build leaves mutex deadlock detection on: a per-lock cost in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pep::server::SetServiceDefaults({.grpc_port = 7102, .metrics_port = 9102, .data_dir = ".run/data/incubation", .max_receive_bytes = 32 << 20});
  pep::ParseFlagsWithEnv(argc, argv);
  const pep::server::ServiceFlags flags = pep::server::ReadServiceFlags();
  pep::SetLogService("pep-incubation");
  const std::string bind = flags.bind_address;
  const std::string data_dir = flags.data_dir;
  if (auto s = pep::server::EnsureDir(data_dir); !s.ok()) {
    pep::LogError("cannot create data dir", {{"error", std::string(s.message())}});
    return 1;
  }
  const std::string db_path = data_dir + "/incubation.db";
  const pep::Clock& clock = pep::SystemClock::Get();
  auto store = pep::incubation::IncubationStore::Open(db_path, clock);
  if (!store.ok()) {
    pep::LogError("cannot open store", {{"error", std::string(store.status().message())}});
    return 1;
  }

  pep::telemetry::MetricsServer metrics(absl::StrCat(bind, ":", flags.metrics_port));
  pep::telemetry::GrpcServerMetrics grpc_metrics(metrics.registry());
  pep::telemetry::EventMetrics event_metrics(metrics.registry());
  pep::incubation::IncubationMetrics incubation_metrics(metrics.registry());

  const std::string brokers = flags.kafka_brokers;
  pep::store::OutboxRelay relay(db_path, {.brokers = brokers, .keep_sent = flags.outbox_keep_sent},
                                &event_metrics);
  if (auto s = relay.Start(); !s.ok()) {
    pep::LogError("cannot start outbox relay", {{"error", std::string(s.message())}});
    return 1;
  }
  pep::incubation::IncubationService service(
      **store, clock, incubation_metrics, [&relay] { relay.Notify(); },
      {.auth = {.insecure_dev = flags.insecure_dev,
                .gateway_key = flags.gateway_key},
       .staleness = {.milestone_gap_months = absl::GetFlag(FLAGS_overdue_milestone_months),
                     .investigation_months = absl::GetFlag(FLAGS_investigation_months),
                     .construction_months = absl::GetFlag(FLAGS_construction_months),
                     .acceleration_months = absl::GetFlag(FLAGS_acceleration_months)},
       .default_incubator = absl::GetFlag(FLAGS_default_incubator)});
  service.RefreshGauges();

  auto consumer = pep::events::Consumer::Create(
      {.brokers = brokers,
       .group_id = absl::GetFlag(FLAGS_consumer_group),
       .instance_id = absl::GetFlag(FLAGS_consumer_instance),
       .topics = {"pepiniere.ideas.events"}},
      [&service](const pep::events::Record& r, const pep::events::Envelope& e) {
        return service.HandleIdeaEvent(r, e);
      },
      &event_metrics);
  if (!consumer.ok()) {
    pep::LogError("cannot create consumer", {{"error", std::string(consumer.status().message())}});
    return 1;
  }
  (*consumer)->Start();

  // Overdue depends on time passing, not only on writes.
  absl::Notification stop_gauges;
  std::thread gauges([&] {
    while (!stop_gauges.WaitForNotificationWithTimeout(absl::Seconds(30))) service.RefreshGauges();
  });

  auto server = pep::server::GrpcServer::Start(
      &service,
      pep::server::GrpcOptions(flags, "pepiniere.incubation.v1.IncubationService"),
      grpc_metrics);
  if (!server.ok()) {
    pep::LogError("cannot start gRPC server", {{"error", std::string(server.status().message())}});
    return 1;
  }
  pep::LogInfo("pep-incubation serving", {{"grpc", absl::StrCat(bind, ":", (*server)->port())},
                                          {"metrics", absl::StrCat(bind, ":", metrics.port())},
                                          {"db", db_path},
                                          {"kafka", brokers}});

  const int sig = pep::WaitForShutdownSignal();
  pep::LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  const absl::Duration grace = flags.shutdown_grace;
  (*server)->Shutdown(grace);
  (*consumer)->Stop();  // finishes the record in hand, commits offsets, leaves the group
  stop_gauges.Notify();
  gauges.join();
  relay.Stop(grace);
  pep::LogInfo("stopped", {{"outbox_backlog", absl::StrCat(relay.Backlog())}});
  server->reset();
  consumer->reset();
  store->reset();  // every acknowledged write is already durable
  pep::server::ExitAfterOrderlyStop();
}
