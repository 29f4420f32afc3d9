// pep-audit: wiring only — flags, the ledger store, the ingest over every Pépinière topic, the
// gRPC server, metrics, graceful stop.
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/shutdown.h"
#include "server/grpc_server.h"
#include "server/service_flags.h"
#include "services/audit/audit_service.h"
#include "services/audit/ingest.h"
#include "services/audit/ledger_store.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

ABSL_FLAG(std::string, consumer_group, "pep-audit", "Kafka consumer group");
ABSL_FLAG(std::string, consumer_instance, "pep-audit-0",
          "Static member id in the consumer group (a restart reclaims the partitions at once)");
ABSL_FLAG(std::string, topics,
          "pepiniere.ideas.events,pepiniere.incubation.events,pepiniere.feedback.events,"
          "pepiniere.access.events",
          "Comma-separated topics the ledger reads");
ABSL_FLAG(absl::Duration, seal_grace, absl::Seconds(2),
          "How long a record waits for older ones still in flight before it is sealed");

int main(int argc, char** argv) {
  pep::BlockShutdownSignals();
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pep::server::SetServiceDefaults(
      {.grpc_port = 7104, .metrics_port = 9104, .data_dir = ".run/data/audit"});
  pep::ParseFlagsWithEnv(argc, argv);
  const pep::server::ServiceFlags flags = pep::server::ReadServiceFlags();
  pep::SetLogService("pep-audit");
  const std::string bind = flags.bind_address;
  if (auto s = pep::server::EnsureDir(flags.data_dir); !s.ok()) {
    pep::LogError("cannot create data dir", {{"error", std::string(s.message())}});
    return 1;
  }
  const std::string db_path = flags.data_dir + "/audit.db";
  auto store = pep::audit::LedgerStore::Open(db_path);
  if (!store.ok()) {
    pep::LogError("cannot open ledger", {{"error", std::string(store.status().message())}});
    return 1;
  }
  const pep::Clock& clock = pep::SystemClock::Get();
  pep::telemetry::MetricsServer metrics(absl::StrCat(bind, ":", flags.metrics_port));
  pep::telemetry::GrpcServerMetrics grpc_metrics(metrics.registry());
  pep::audit::AuditMetrics audit_metrics(metrics.registry());
  pep::telemetry::EventMetrics event_metrics(metrics.registry());

  auto ingest = pep::audit::AuditIngest::Create(
      {.brokers = flags.kafka_brokers,
       .group_id = absl::GetFlag(FLAGS_consumer_group),
       .instance_id = absl::GetFlag(FLAGS_consumer_instance),
       .topics = std::vector<std::string>(absl::StrSplit(absl::GetFlag(FLAGS_topics), ',', absl::SkipEmpty())),
       .grace = absl::GetFlag(FLAGS_seal_grace),
       .metrics = &event_metrics},
      store->get(), clock,
      [&audit_metrics](const pep::audit::SealResult& r, int64_t undecodable) {
        audit_metrics.Sealed(r, undecodable);  // lag and buffer gauges: the clock thread below
      });
  if (!ingest.ok()) {
    pep::LogError("cannot create consumer", {{"error", std::string(ingest.status().message())}});
    return 1;
  }
  (*ingest)->Start();

  pep::audit::AuditService service(
      **store, audit_metrics,
      {.insecure_dev = flags.insecure_dev, .gateway_key = flags.gateway_key});
  auto server = pep::server::GrpcServer::Start(
      &service,
      pep::server::GrpcOptions(flags, "pepiniere.audit.v1.AuditService"),
      grpc_metrics);
  if (!server.ok()) {
    pep::LogError("cannot start gRPC server", {{"error", std::string(server.status().message())}});
    return 1;
  }
  pep::LogInfo("pep-audit serving", {{"grpc", absl::StrCat(bind, ":", (*server)->port())},
                                     {"metrics", absl::StrCat(bind, ":", metrics.port())},
                                     {"db", db_path},
                                     {"kafka", flags.kafka_brokers}});

  // pep_audit_lag_seconds is "now − newest applied": it must grow while nothing arrives, so it
  // is refreshed on a clock, not only when a batch is sealed.
  const absl::Time newest_at_start = (*store)->NewestRecorded().value_or(absl::InfinitePast());
  pep::PeriodicTask lag(absl::Seconds(1), [&] {
    audit_metrics.SetLag(clock.Now(), std::max(newest_at_start, (*ingest)->newest_sealed()));
    audit_metrics.SetBuffered(static_cast<double>((*ingest)->buffered()));
  });
  const int sig = pep::WaitForShutdownSignal();
  lag.Stop();
  pep::LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  (*server)->Shutdown(flags.shutdown_grace);
  (*ingest)->Stop();
  server->reset();
  ingest->reset();
  store->reset();
  pep::server::ExitAfterOrderlyStop();
}
