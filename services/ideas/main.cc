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
#include "services/ideas/ideas_service.h"
#include "services/ideas/ideas_store.h"
#include "store/outbox_relay.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

ABSL_FLAG(std::string, bind_address, "127.0.0.1", "Address the gRPC and metrics servers bind to");
ABSL_FLAG(int, grpc_port, 7101, "gRPC port (0 = pick a free one; printed on start)");
ABSL_FLAG(int, metrics_port, 9101, "Prometheus /metrics port (0 = pick a free one)");
ABSL_FLAG(std::string, data_dir, ".run/data/ideas", "Directory of the SQLite database");
ABSL_FLAG(std::string, kafka_brokers, "127.0.0.1:9092", "Kafka bootstrap servers");
ABSL_FLAG(bool, insecure_dev, false, "Accept calls without x-pep-gateway-key (local dev, tests)");
ABSL_FLAG(std::string, gateway_key, "", "Shared secret expected in x-pep-gateway-key");
ABSL_FLAG(int, max_receive_bytes, 1 << 20, "Largest request message accepted");
ABSL_FLAG(double, duplicate_threshold, 0.25, "Similarity from which an idea is hinted as alike");
ABSL_FLAG(int, shutdown_grace_seconds, 10, "Time given to in-flight calls and the relay on stop");

int main(int argc, char** argv) {
  pep::BlockShutdownSignals();
  // Debian's Abseil build leaves mutex deadlock detection on: a per-lock cost in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pep::ParseFlagsWithEnv(argc, argv);
  pep::SetLogService("pep-ideas");
  const std::string bind = absl::GetFlag(FLAGS_bind_address);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
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

  pep::telemetry::MetricsServer metrics(absl::StrCat(bind, ":", absl::GetFlag(FLAGS_metrics_port)));
  pep::telemetry::GrpcServerMetrics grpc_metrics(metrics.registry());
  pep::telemetry::EventMetrics event_metrics(metrics.registry());
  pep::ideas::IdeasMetrics ideas_metrics(metrics.registry());

  pep::store::OutboxRelay relay(db_path, {.brokers = absl::GetFlag(FLAGS_kafka_brokers)},
                                &event_metrics);
  if (auto s = relay.Start(); !s.ok()) {
    pep::LogError("cannot start outbox relay", {{"error", std::string(s.message())}});
    return 1;
  }
  pep::ideas::IdeasService service(
      **store, ideas_metrics, [&relay] { relay.Notify(); },
      {.auth = {.insecure_dev = absl::GetFlag(FLAGS_insecure_dev),
                .gateway_key = absl::GetFlag(FLAGS_gateway_key)},
       .duplicate_threshold = absl::GetFlag(FLAGS_duplicate_threshold)});
  if (auto s = service.Init(); !s.ok()) {
    pep::LogError("cannot load state", {{"error", std::string(s.message())}});
    return 1;
  }
  auto server = pep::server::GrpcServer::Start(
      &service,
      {.bind_address = bind,
       .port = absl::GetFlag(FLAGS_grpc_port),
       .max_receive_bytes = absl::GetFlag(FLAGS_max_receive_bytes),
       .service_name = "pepiniere.ideas.v1.IdeaService"},
      grpc_metrics);
  if (!server.ok()) {
    pep::LogError("cannot start gRPC server", {{"error", std::string(server.status().message())}});
    return 1;
  }
  pep::LogInfo("pep-ideas serving", {{"grpc", absl::StrCat(bind, ":", (*server)->port())},
                                     {"metrics", absl::StrCat(bind, ":", metrics.port())},
                                     {"db", db_path},
                                     {"kafka", absl::GetFlag(FLAGS_kafka_brokers)}});

  const int sig = pep::WaitForShutdownSignal();
  pep::LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  const absl::Duration grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  // Stop accepting, let in-flight calls finish (their commits are durable), then drain the relay.
  (*server)->Shutdown(grace);
  relay.Stop(grace);
  pep::LogInfo("stopped", {{"outbox_backlog", absl::StrCat(relay.Backlog())}});
  server->reset();
  store->reset();  // closes SQLite: every acknowledged write is already durable
  pep::server::ExitAfterOrderlyStop();
}
