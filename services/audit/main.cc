// pep-audit: wiring only — flags, the signing key, the log index and its follower, the
// sequencer candidate, the gRPC server, metrics, graceful stop.
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
#include "services/audit/log_follower.h"
#include "services/audit/log_index.h"
#include "services/audit/sequencer.h"
#include "tlog/note.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

ABSL_FLAG(std::string, topics,
          "pepiniere.ideas.events,pepiniere.incubation.events,pepiniere.feedback.events,"
          "pepiniere.access.events",
          "Comma-separated topics the sequencer integrates into the log");
ABSL_FLAG(std::string, log_topic, "pepiniere.audit.log", "The ledger's own topic (one partition)");
ABSL_FLAG(std::string, ledger_signing_key_file, "",
          "File holding the log's Ed25519 signer key (PRIVATE+KEY+<origin>+<id>+<base64>); its "
          "name is the log's origin");
ABSL_FLAG(bool, ledger_create_key, false,
          "Create the signing key file (origin --ledger_origin) when it does not exist (local use)");
ABSL_FLAG(std::string, ledger_origin, "pepiniere.localhost/ledger",
          "Origin of a key made by --ledger_create_key");
ABSL_FLAG(std::string, sequencer_id, "pep-audit-sequencer",
          "Kafka transactional id (the fence) and election group of the log's sequencer");
ABSL_FLAG(std::string, migrate_v1, "",
          "A version 1 ledger database whose records become the log's first entries when the "
          "log is empty (default: <data_dir>/audit.db when it exists)");

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
  auto signer_key = pep::audit::LoadSigningKey(absl::GetFlag(FLAGS_ledger_signing_key_file),
                                               absl::GetFlag(FLAGS_ledger_create_key),
                                               absl::GetFlag(FLAGS_ledger_origin));
  if (!signer_key.ok()) {
    pep::LogError("no ledger signing key", {{"error", std::string(signer_key.status().message())}});
    return 1;
  }
  auto signer = pep::tlog::NoteSigner::FromSignerKey(*signer_key);
  if (!signer.ok()) {
    pep::LogError("bad ledger signing key", {{"error", std::string(signer.status().message())}});
    return 1;
  }
  const std::string origin = signer->name();
  const std::string verifier_key = signer->VerifierKey();
  const std::string db_path = flags.data_dir + "/ledger-index.db";
  auto index = pep::audit::LogIndex::Open(db_path, origin, verifier_key);
  if (!index.ok()) {
    pep::LogError("cannot open the ledger index", {{"error", std::string(index.status().message())}});
    return 1;
  }
  const pep::Clock& clock = pep::SystemClock::Get();
  pep::telemetry::MetricsServer metrics(absl::StrCat(bind, ":", flags.metrics_port));
  pep::telemetry::GrpcServerMetrics grpc_metrics(metrics.registry());
  pep::audit::AuditMetrics audit_metrics(metrics.registry());
  const std::string log_topic = absl::GetFlag(FLAGS_log_topic);

  // Every replica follows the log into its own index...
  auto follower = pep::audit::LogFollower::Create(
      flags.kafka_brokers, log_topic, {}, index->get(),
      [&audit_metrics](const pep::audit::Applied& a) { audit_metrics.Applied(a); });
  if (!follower.ok()) {
    pep::LogError("cannot create the log reader", {{"error", std::string(follower.status().message())}});
    return 1;
  }
  // ...and stands for election as its sequencer.
  std::string v1 = absl::GetFlag(FLAGS_migrate_v1);
  if (v1.empty()) v1 = flags.data_dir + "/audit.db";
  const std::string sequencer_id = absl::GetFlag(FLAGS_sequencer_id);
  auto sequencer = pep::audit::Sequencer::Create(
      {.brokers = flags.kafka_brokers,
       .topics = std::vector<std::string>(absl::StrSplit(absl::GetFlag(FLAGS_topics), ',', absl::SkipEmpty())),
       .log_topic = log_topic,
       .transactional_id = sequencer_id,
       .election_group = sequencer_id,
       .origin = origin,
       .signer_key = *signer_key,
       .v1_ledger = v1});
  if (!sequencer.ok()) {
    pep::LogError("cannot create the sequencer", {{"error", std::string(sequencer.status().message())}});
    return 1;
  }
  (*follower)->Start();
  (*sequencer)->Start();

  pep::audit::AuditService service(
      **index, audit_metrics,
      {.insecure_dev = flags.insecure_dev, .gateway_key = flags.gateway_key});
  service.set_verifier_key(verifier_key);
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
                                     {"index", db_path},
                                     {"origin", origin},
                                     {"verifier_key", verifier_key},
                                     {"kafka", flags.kafka_brokers}});

  // pep_audit_lag_seconds is "now − newest indexed": it must grow while nothing arrives, so it
  // is refreshed on a clock, not only when the log moves.
  pep::PeriodicTask lag(absl::Seconds(1), [&] {
    audit_metrics.SetLag(clock.Now(), (*index)->NewestRecorded().value_or(absl::InfinitePast()));
    const auto latest = (*index)->Latest();
    audit_metrics.SetLog(static_cast<double>((*index)->size()),
                         latest ? static_cast<double>(latest->checkpoint.size) : 0,
                         (*sequencer)->leading());
  });
  const int sig = pep::WaitForShutdownSignal();
  lag.Stop();
  pep::LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  (*server)->Shutdown(flags.shutdown_grace);
  (*sequencer)->Stop();
  (*follower)->Stop();
  server->reset();
  sequencer->reset();
  follower->reset();
  index->reset();
  pep::server::ExitAfterOrderlyStop();
}
