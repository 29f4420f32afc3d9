#include "server/service_main.h"

#include "store/sqlite.h"


#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/config.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/shutdown.h"
#include "common/status.h"

namespace pep::server {

ServiceContext::ServiceContext(ServiceFlags flags)
    : flags_(std::move(flags)),
      offset_clock_(flags_.clock_offset_file.empty() ? nullptr
                                                     : std::make_unique<OffsetFileClock>(flags_.clock_offset_file)),
      metrics_(absl::StrCat(flags_.bind_address, ":", flags_.metrics_port)),
      grpc_metrics_(metrics_.registry()),
      event_metrics_(metrics_.registry()) {}

absl::StatusOr<store::OutboxRelay*> ServiceContext::StartOutboxRelay(const std::string& database_url) {
  auto relay = std::make_unique<store::OutboxRelay>(
      database_url,
      store::RelayOptions{.brokers = flags_.kafka_brokers,
                          .keep_sent = flags_.outbox_keep_sent,
                          .extra = flags_.producer_overrides},
      &event_metrics_);
  if (auto s = relay->Start(); !s.ok()) {
    return Prefixed("outbox relay", s);
  }
  return &Own<store::OutboxRelay>("outbox-relay", std::move(relay),
                                  [](store::OutboxRelay& r, absl::Duration grace) {
                                    r.Stop(grace);
                                    LogInfo("outbox drained",
                                            {{"outbox_backlog", absl::StrCat(r.Backlog())}});
                                  });
}

absl::StatusOr<events::Consumer*> ServiceContext::StartConsumer(events::ConsumerOptions options,
                                                                events::Consumer::Handler handler) {
  if (options.brokers.empty()) options.brokers = flags_.kafka_brokers;
  const std::string name = absl::StrCat("consumer:", options.group_id);
  auto consumer = events::Consumer::Create(std::move(options), std::move(handler), &event_metrics_);
  if (!consumer.ok()) {
    return Prefixed("consumer", consumer.status());
  }
  (*consumer)->Start();
  return &Own<events::Consumer>(name, std::move(*consumer),
                                [](events::Consumer& c, absl::Duration) { c.Stop(); });
}

void ServiceContext::Every(std::string name, absl::Duration every, std::function<void()> run) {
  Own<PeriodicTask>(std::move(name), std::make_unique<PeriodicTask>(every, std::move(run)),
      [](PeriodicTask& t, absl::Duration) { t.Stop(); });
}

void ServiceContext::EveryChecked(std::string name, absl::Duration every,
                                  std::function<absl::Status()> run) {
  Every(name, every, [name, run = std::move(run)] {
    if (absl::Status s = run(); !s.ok()) {
      LogWarn("periodic task failed", {{"task", name}, {"error", std::string(s.message())}});
    }
  });
}

absl::Status ServiceContext::Serve(grpc::Service* service, std::string proto_name) {
  auto server = GrpcServer::Start(service, GrpcOptions(flags_, std::move(proto_name)), grpc_metrics_);
  if (!server.ok()) {
    return Prefixed("gRPC server", server.status());
  }
  grpc_port_ = (*server)->port();
  Own<GrpcServer>("grpc-server", std::move(*server),
                  [](GrpcServer& s, absl::Duration grace) { s.Shutdown(grace); });
  return absl::OkStatus();
}

int ServiceMain(const ServiceSpec& spec, int argc, char** argv,
                const std::function<absl::Status(ServiceContext&)>& declare) {
  BlockShutdownSignals();  // before any thread starts: every thread inherits the mask
  // Debian's Abseil build leaves mutex deadlock detection on: a per-lock cost in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  SetServiceDefaults(spec.defaults);
  ParseFlagsWithEnv(argc, argv);
  SetLogService(spec.name);
  ServiceFlags flags = ReadServiceFlags();
  if (!flags.backup_to.empty()) {
    if (spec.database_file.empty()) {
      LogError("backup_to: not offered by this service (its state is rebuilt from Kafka)", {});
      return 2;
    }
    auto db = store::ParseDatabaseUrl(ServiceDatabaseUrl(flags, spec.database_file));
    if (!db.ok()) {
      LogError("backup failed", {{"error", std::string(db.status().message())}});
      return 2;
    }
    if (db->engine == store::Engine::kPostgres) {
      LogError("backup_to: the database is PostgreSQL; back it up with pg_dump or the server's "
               "continuous archiving (README, Backups)", {});
      return 2;
    }
    const std::string from = db->target;
    auto pages = store::BackupSqlite(from, flags.backup_to);
    if (!pages.ok()) {
      LogError("backup failed", {{"from", from}, {"error", std::string(pages.status().message())}});
      return 1;
    }
    LogInfo("backup written", {{"from", from}, {"to", flags.backup_to},
                               {"pages", absl::StrCat(*pages)}});
    return 0;
  }
  if (!flags.database_url.empty() && spec.database_file.empty()) {
    LogError("database_url: not taken by this service (its state is rebuilt from Kafka into "
             "--data_dir)", {});
    return 2;
  }
  if (auto s = EnsureDir(flags.data_dir); !s.ok()) {
    LogError("cannot create data dir", {{"error", std::string(s.message())}});
    return 1;
  }
  ServiceContext ctx(std::move(flags));
  if (auto s = declare(ctx); !s.ok()) {
    LogError("cannot start", {{"error", std::string(s.message())}});
    ctx.components().StopAll(absl::ZeroDuration());
    return 1;
  }
  const ServiceFlags& f = ctx.flags();
  LogInfo(absl::StrCat(spec.name, " serving"),
          {{"grpc", absl::StrCat(f.bind_address, ":", ctx.grpc_port())},
           {"metrics", absl::StrCat(f.bind_address, ":", ctx.metrics_port())},
           {"data_dir", f.data_dir},
           {"database", store::RedactDatabaseUrl(ServiceDatabaseUrl(f, spec.database_file))},
           {"kafka", f.kafka_brokers}});
  const int sig = WaitForShutdownSignal();
  LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  ctx.components().StopAll(f.shutdown_grace, [](const std::string& part) {
    LogInfo("stopped", {{"component", part}});
  });
  ExitAfterOrderlyStop();
}

}  // namespace pep::server
