// pep-ideas: wiring only — flags, store, outbox relay, gRPC server, metrics, graceful stop.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/shutdown.h"
#include "server/grpc_server.h"
#include "server/service_flags.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/ideas_store.h"
#include "store/outbox_relay.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

ABSL_FLAG(double, duplicate_threshold, 0.25, "Similarity from which an idea is hinted as alike");

int main(int argc, char** argv) {
  pep::BlockShutdownSignals();
  // Debian's Abseil build leaves mutex deadlock detection on: a per-lock cost in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pep::server::SetServiceDefaults({.grpc_port = 7101, .metrics_port = 9101, .data_dir = ".run/data/ideas"});
  pep::ParseFlagsWithEnv(argc, argv);
  const pep::server::ServiceFlags flags = pep::server::ReadServiceFlags();
  pep::SetLogService("pep-ideas");
  const std::string bind = flags.bind_address;
  const std::string data_dir = flags.data_dir;
  if (auto s = pep::server::EnsureDir(data_dir); !s.ok()) {
    pep::LogError("cannot create data dir", {{"error", std::string(s.message())}});
    return 1;
  }
  const std::string db_path = data_dir + "/ideas.db";
  auto store = pep::ideas::IdeasStore::Open(db_path, pep::SystemClock::Get());
  if (!store.ok()) {
    pep::LogError("cannot open store", {{"error", std::string(store.status().message())}});
    return 1;
  }

  pep::telemetry::MetricsServer metrics(absl::StrCat(bind, ":", flags.metrics_port));
  pep::telemetry::GrpcServerMetrics grpc_metrics(metrics.registry());
  pep::telemetry::EventMetrics event_metrics(metrics.registry());
  pep::ideas::IdeasMetrics ideas_metrics(metrics.registry());

  pep::store::OutboxRelay relay(
      db_path, {.brokers = flags.kafka_brokers, .keep_sent = flags.outbox_keep_sent},
      &event_metrics);
  if (auto s = relay.Start(); !s.ok()) {
    pep::LogError("cannot start outbox relay", {{"error", std::string(s.message())}});
    return 1;
  }
  pep::ideas::IdeasService service(
      **store, ideas_metrics, [&relay] { relay.Notify(); },
      {.auth = {.insecure_dev = flags.insecure_dev,
                .gateway_key = flags.gateway_key},
       .duplicate_threshold = absl::GetFlag(FLAGS_duplicate_threshold)});
  if (auto s = service.Init(); !s.ok()) {
    pep::LogError("cannot load state", {{"error", std::string(s.message())}});
    return 1;
  }
  auto server = pep::server::GrpcServer::Start(
      &service,
      pep::server::GrpcOptions(flags, "pepiniere.ideas.v1.IdeaService"),
      grpc_metrics);
  if (!server.ok()) {
    pep::LogError("cannot start gRPC server", {{"error", std::string(server.status().message())}});
    return 1;
  }
  pep::LogInfo("pep-ideas serving", {{"grpc", absl::StrCat(bind, ":", (*server)->port())},
                                     {"metrics", absl::StrCat(bind, ":", metrics.port())},
                                     {"db", db_path},
                                     {"kafka", flags.kafka_brokers}});

  const int sig = pep::WaitForShutdownSignal();
  pep::LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  const absl::Duration grace = flags.shutdown_grace;
  // Stop accepting, let in-flight calls finish (their commits are durable), then drain the relay.
  (*server)->Shutdown(grace);
  relay.Stop(grace);
  pep::LogInfo("stopped", {{"outbox_backlog", absl::StrCat(relay.Backlog())}});
  server->reset();
  store->reset();  // closes SQLite: every acknowledged write is already durable
  pep::server::ExitAfterOrderlyStop();
}
