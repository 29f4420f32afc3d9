// pep-feedback: wiring only — flags, store and its group-commit writer, outbox relay, the
// pepiniere.incubation.events consumer, gRPC server, metrics, graceful stop.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/shutdown.h"
#include "events/consumer.h"
#include "server/grpc_server.h"
#include "server/service_flags.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "store/outbox_relay.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

ABSL_FLAG(std::string, consumer_group, "pep-feedback", "Kafka consumer group");
ABSL_FLAG(std::string, consumer_instance, "pep-feedback-0",
          "Static member id in the consumer group (a restart reclaims the partitions at once; "
          "empty: dynamic membership)");
ABSL_FLAG(int, rate_limit_per_minute, 5, "Answers per client key and start-up per minute (0: off)");
ABSL_FLAG(int, summary_threshold, 100, "Answers needed before a summary gives a band");
ABSL_FLAG(int, band_refresh_seconds, 60, "How often pep_feedback_startups_by_band is recomputed");
ABSL_FLAG(int, max_batch, 512, "Most answers committed in one group-commit transaction");
ABSL_FLAG(int, max_queued_answers, 8192,
          "Answers waiting for the writer at most; past it RESOURCE_EXHAUSTED (retry shortly)");

int main(int argc, char** argv) {
  pep::BlockShutdownSignals();
  // Debian's Abseil build leaves mutex deadlock detection on: a per-lock cost in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pep::server::SetServiceDefaults({.grpc_port = 7103, .metrics_port = 9103, .data_dir = ".run/data/feedback", .max_receive_bytes = 64 << 10});
  pep::ParseFlagsWithEnv(argc, argv);
  const pep::server::ServiceFlags flags = pep::server::ReadServiceFlags();
  pep::SetLogService("pep-feedback");
  const std::string bind = flags.bind_address;
  const std::string data_dir = flags.data_dir;
  if (auto s = pep::server::EnsureDir(data_dir); !s.ok()) {
    pep::LogError("cannot create data dir", {{"error", std::string(s.message())}});
    return 1;
  }
  const std::string db_path = data_dir + "/feedback.db";
  const pep::Clock& clock = pep::SystemClock::Get();
  auto store = pep::feedback::FeedbackStore::Open(db_path, clock, absl::GetFlag(FLAGS_max_batch),
                                                    absl::GetFlag(FLAGS_max_queued_answers));
  if (!store.ok()) {
    pep::LogError("cannot open store", {{"error", std::string(store.status().message())}});
    return 1;
  }
  pep::telemetry::MetricsServer metrics(absl::StrCat(bind, ":", flags.metrics_port));
  pep::telemetry::GrpcServerMetrics grpc_metrics(metrics.registry());
  pep::telemetry::EventMetrics event_metrics(metrics.registry());
  pep::feedback::FeedbackMetrics feedback_metrics(metrics.registry());

  const std::string brokers = flags.kafka_brokers;
  pep::store::OutboxRelay relay(db_path, {.brokers = brokers, .keep_sent = flags.outbox_keep_sent},
                                &event_metrics);
  if (auto s = relay.Start(); !s.ok()) {
    pep::LogError("cannot start outbox relay", {{"error", std::string(s.message())}});
    return 1;
  }
  (*store)->StartWriter([&relay] { relay.Notify(); });
  pep::feedback::FeedbackService service(
      **store, clock, feedback_metrics,
      {.auth = {.insecure_dev = flags.insecure_dev,
                .gateway_key = flags.gateway_key},
       .rate_limit_per_minute = absl::GetFlag(FLAGS_rate_limit_per_minute),
       .summary_threshold = absl::GetFlag(FLAGS_summary_threshold)});
  if (auto s = service.Init(); !s.ok()) {
    pep::LogError("cannot load state", {{"error", std::string(s.message())}});
    return 1;
  }
  auto consumer = pep::events::Consumer::Create(
      {.brokers = brokers,
       .group_id = absl::GetFlag(FLAGS_consumer_group),
       .instance_id = absl::GetFlag(FLAGS_consumer_instance),
       .topics = {"pepiniere.incubation.events"}},
      [&service](const pep::events::Record& r, const pep::events::Envelope& e) {
        return service.HandleIncubationEvent(r, e);
      },
      &event_metrics);
  if (!consumer.ok()) {
    pep::LogError("cannot create consumer", {{"error", std::string(consumer.status().message())}});
    return 1;
  }
  (*consumer)->Start();

  auto server = pep::server::GrpcServer::Start(
      &service,
      pep::server::GrpcOptions(flags, "pepiniere.feedback.v1.FeedbackService"),
      grpc_metrics);
  if (!server.ok()) {
    pep::LogError("cannot start gRPC server", {{"error", std::string(server.status().message())}});
    return 1;
  }
  pep::LogInfo("pep-feedback serving", {{"grpc", absl::StrCat(bind, ":", (*server)->port())},
                                        {"metrics", absl::StrCat(bind, ":", metrics.port())},
                                        {"db", db_path},
                                        {"kafka", brokers}});

  // The band gauge is a view over a year of answers: recomputed every minute, not per answer.
  pep::PeriodicTask bands(absl::Seconds(std::max(1, absl::GetFlag(FLAGS_band_refresh_seconds))), [&] {
    if (auto s = service.RefreshBands(); !s.ok()) {
      pep::LogWarn("band gauge not refreshed", {{"error", std::string(s.message())}});
    }
  });
  const int sig = pep::WaitForShutdownSignal();
  bands.Stop();
  pep::LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  const absl::Duration grace = flags.shutdown_grace;
  (*server)->Shutdown(grace);  // in-flight submissions finish once their batch is durable
  (*store)->StopWriter();
  (*consumer)->Stop();
  relay.Stop(grace);
  pep::LogInfo("stopped", {{"outbox_backlog", absl::StrCat(relay.Backlog())}});
  server->reset();
  consumer->reset();
  store->reset();
  pep::server::ExitAfterOrderlyStop();
}
