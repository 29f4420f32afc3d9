// pep-audit: wiring only — its parts in the order they start (ServiceMain stops them in
// reverse): the signing key, the log index, its follower, the sequencer candidate, the domain
// service, the gRPC server, the lag refresher.
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/status.h"
#include "server/service_main.h"
#include "services/audit/audit_service.h"
#include "services/audit/log_follower.h"
#include "services/audit/log_index.h"
#include "services/audit/sequencer.h"
#include "tlog/note.h"

ABSL_FLAG(std::string, topics,
          "pepiniere.ideas.events,pepiniere.incubation.events,pepiniere.feedback.events,"
          "pepiniere.access.events,pepiniere.notify.events",
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
          "A version 1 ledger database whose records become the log's first entries, resumed "
          "until its last bundle is in the log (default: <data_dir>/audit.db when it exists)");

ABSL_FLAG(int, sequencer_bundle_entries, 256, "Entries per log record (bundle)");
ABSL_FLAG(int, test_interrupt_migration_after, 0,
          "Tests only: the first v1 migration stops after this many bundles, as a crash would");
ABSL_FLAG(int, test_abort_transaction, 0,
          "Tests only: the Nth transaction carrying bundles reaches the broker, then is aborted");

int main(int argc, char** argv) {
  return pep::server::ServiceMain(
      {.name = "pep-audit",
       .defaults = {.grpc_port = 7104, .metrics_port = 9104, .data_dir = ".run/data/audit"}},
      argc, argv, [](pep::server::ServiceContext& ctx) -> absl::Status {
        const pep::server::ServiceFlags& flags = ctx.flags();
        auto signer_key = pep::audit::LoadSigningKey(absl::GetFlag(FLAGS_ledger_signing_key_file),
                                                     absl::GetFlag(FLAGS_ledger_create_key),
                                                     absl::GetFlag(FLAGS_ledger_origin));
        if (!signer_key.ok()) return pep::Prefixed("no ledger signing key", signer_key.status());
        auto signer = pep::tlog::NoteSigner::FromSignerKey(*signer_key);
        if (!signer.ok()) return pep::Prefixed("bad ledger signing key", signer.status());
        const std::string origin = signer->name();
        const std::string verifier_key = signer->VerifierKey();
        auto opened = pep::audit::LogIndex::Open(ctx.DataPath("ledger-index.db"), origin, verifier_key);
        if (!opened.ok()) return pep::Prefixed("ledger index", opened.status());
        auto& index = ctx.Own("ledger-index", std::move(*opened));
        auto& audit_metrics = ctx.Own("metrics", std::make_unique<pep::audit::AuditMetrics>(ctx.registry()));
        const std::string log_topic = absl::GetFlag(FLAGS_log_topic);

        // Every replica follows the log into its own index...
        auto follower = pep::audit::LogFollower::Create(
            flags.kafka_brokers, log_topic, {}, &index,
            [&audit_metrics](const pep::audit::Applied& a) { audit_metrics.Applied(a); });
        if (!follower.ok()) return pep::Prefixed("log reader", follower.status());
        (*follower)->Start();
        ctx.Own<pep::audit::LogFollower>("log-follower", std::move(*follower),
                                         [](pep::audit::LogFollower& f, absl::Duration) { f.Stop(); });
        // ...and stands for election as its sequencer.
        std::string v1 = absl::GetFlag(FLAGS_migrate_v1);
        if (v1.empty()) v1 = ctx.DataPath("audit.db");
        const std::string sequencer_id = absl::GetFlag(FLAGS_sequencer_id);
        auto created = pep::audit::Sequencer::Create(
            {.brokers = flags.kafka_brokers,
             .topics = std::vector<std::string>(
                 absl::StrSplit(absl::GetFlag(FLAGS_topics), ',', absl::SkipEmpty())),
             .log_topic = log_topic,
             .transactional_id = sequencer_id,
             .election_group = sequencer_id,
             .origin = origin,
             .signer_key = *signer_key,
             .bundle_entries = absl::GetFlag(FLAGS_sequencer_bundle_entries),
             .v1_ledger = v1,
             .interrupt_migration_after = absl::GetFlag(FLAGS_test_interrupt_migration_after),
             .abort_transaction = absl::GetFlag(FLAGS_test_abort_transaction)});
        if (!created.ok()) return pep::Prefixed("sequencer", created.status());
        (*created)->Start();
        auto& sequencer = ctx.Own<pep::audit::Sequencer>(
            "sequencer", std::move(*created),
            [](pep::audit::Sequencer& s, absl::Duration) { s.Stop(); });

        auto& service = ctx.Own(
            "audit-service",
            std::make_unique<pep::audit::AuditService>(
                index, audit_metrics,
                pep::auth::AuthOptions{.insecure_dev = flags.insecure_dev,
                                       .gateway_key = flags.gateway_key}));
        service.set_verifier_key(verifier_key);
        if (auto s = ctx.Serve(&service, "pepiniere.audit.v1.AuditService"); !s.ok()) return s;
        pep::LogInfo("ledger", {{"origin", origin}, {"verifier_key", verifier_key}});

        // pep_audit_lag_seconds is "now − newest indexed": it must grow while nothing arrives,
        // so it is refreshed on a clock, not only when the log moves.
        ctx.Every("lag-gauge", absl::Seconds(1), [&ctx, &index, &audit_metrics, &sequencer] {
          audit_metrics.SetLag(ctx.clock().Now(),
                               index.NewestRecorded().value_or(absl::InfinitePast()));
          const auto latest = index.Latest();
          audit_metrics.SetLog(static_cast<double>(index.size()),
                               latest ? static_cast<double>(latest->checkpoint.size) : 0,
                               sequencer.leading());
        });
        return absl::OkStatus();
      });
}
