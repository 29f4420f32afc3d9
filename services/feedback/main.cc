// pep-feedback: wiring only — its parts in the order they start (ServiceMain stops them in
// reverse): store, outbox relay, the group-commit writer, the domain service, the
// pepiniere.incubation.events consumer, the gRPC server, the band gauge refresher.
#include <algorithm>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "server/service_main.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"

ABSL_FLAG(std::string, consumer_group, "pep-feedback", "Kafka consumer group");
ABSL_FLAG(int, products_refresh_seconds, 5,
          "How often the start-ups' phases are read again from the database (replicas)");
ABSL_FLAG(std::string, consumer_instance, "pep-feedback-0",
          "Static member id in the consumer group (a restart reclaims the partitions at once; "
          "empty: dynamic membership)");
ABSL_FLAG(int, rate_limit_per_minute, 5, "Answers per client key and start-up per minute (0: off)");
ABSL_FLAG(int, rate_limit_max_clients, 200000,
          "Clients the rate limiter tracks at most; past it a new client is refused for a minute");
ABSL_FLAG(int, summary_threshold, 100, "Answers needed before a summary gives a band");
ABSL_FLAG(int, band_refresh_seconds, 60, "How often pep_feedback_startups_by_band is recomputed");
ABSL_FLAG(int, max_batch, 512, "Most answers committed in one group-commit transaction");
ABSL_FLAG(int, max_queued_answers, 8192,
          "Answers waiting for the writer at most; past it RESOURCE_EXHAUSTED (retry shortly)");

int main(int argc, char** argv) {
  return pep::server::ServiceMain(
      {.name = "pep-feedback",
       .defaults = {.grpc_port = 7103, .metrics_port = 9103,
                    .data_dir = ".run/data/feedback", .max_receive_bytes = 64 << 10},
       .database_file = "feedback.db"},
      argc, argv, [](pep::server::ServiceContext& ctx) -> absl::Status {
        const std::string db_url = ctx.DatabaseUrl("feedback.db");
        auto store = pep::feedback::FeedbackStore::Open(db_url, ctx.clock(),
                                                        absl::GetFlag(FLAGS_max_batch),
                                                        absl::GetFlag(FLAGS_max_queued_answers));
        if (!store.ok()) return store.status();
        auto& feedback_store = ctx.Own("store", std::move(*store));
        auto relay = ctx.StartOutboxRelay(db_url);
        if (!relay.ok()) return relay.status();
        // Stopped after the server: in-flight submissions return once their batch is durable.
        feedback_store.StartWriter([r = *relay] { r->Notify(); });
        ctx.components().Add("group-commit-writer",
                             [&feedback_store](absl::Duration) { feedback_store.StopWriter(); });
        auto& metrics = ctx.Own(
            "metrics", std::make_unique<pep::feedback::FeedbackMetrics>(ctx.registry()));
        auto& service = ctx.Own(
            "feedback-service",
            std::make_unique<pep::feedback::FeedbackService>(
                feedback_store, ctx.clock(), metrics,
                pep::feedback::FeedbackServiceOptions{
                    .auth = {.insecure_dev = ctx.flags().insecure_dev,
                             .gateway_key = ctx.flags().gateway_key},
                    .rate_limit_per_minute = absl::GetFlag(FLAGS_rate_limit_per_minute),
                    .rate_limit_max_clients = absl::GetFlag(FLAGS_rate_limit_max_clients),
                    .summary_threshold = absl::GetFlag(FLAGS_summary_threshold)}));
        if (auto s = service.Init(); !s.ok()) return s;
        auto consumer = ctx.StartConsumer(
            {.group_id = absl::GetFlag(FLAGS_consumer_group),
             .instance_id = absl::GetFlag(FLAGS_consumer_instance),
             .topics = {"pepiniere.incubation.events"}},
            [&service](const pep::events::Record& r, const pep::events::Envelope& e) {
              return service.HandleIncubationEvent(r, e);
            });
        if (!consumer.ok()) return consumer.status();
        if (auto s = ctx.Serve(&service, "pepiniere.feedback.v1.FeedbackService"); !s.ok()) {
          return s;
        }
        if (feedback_store.shared()) {
          // Replicas on one database: what another replica's consumer applied (a phase change)
          // is taken within this period; and the rows of clients gone quiet for a window go.
          ctx.EveryChecked("products-refresh",
                           absl::Seconds(std::max(1, absl::GetFlag(FLAGS_products_refresh_seconds))),
                           [&service] { return service.RefreshProducts(); });
          ctx.EveryChecked("rate-limit-prune", absl::Minutes(1), [&feedback_store, &ctx] {
            return feedback_store.ForgetIdleLimits(ctx.clock().Now() - absl::Minutes(1)).status();
          });
        }
        // The band gauge is a view over a year of answers: recomputed every minute, not per answer.
        ctx.EveryChecked("band-gauge",
                         absl::Seconds(std::max(1, absl::GetFlag(FLAGS_band_refresh_seconds))),
                         [&service] { return service.RefreshBands(); });
        return absl::OkStatus();
      });
}
