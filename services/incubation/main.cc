// pep-incubation: wiring only — its parts in the order they start (ServiceMain stops them in
// reverse): store, outbox relay, the domain service, the pepiniere.ideas.events consumer, the
// gauge refresher, the gRPC server.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "server/service_main.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/incubation_store.h"

ABSL_FLAG(std::string, consumer_group, "pep-incubation", "Kafka consumer group");
ABSL_FLAG(std::string, consumer_instance, "pep-incubation-0",
          "Static member id in the consumer group (a restart reclaims the partitions at once; "
          "empty: dynamic membership)");
ABSL_FLAG(std::string, default_incubator, "Incubateur des Alpes-Maritimes",
          "Incubator of start-ups opened from selected ideas");
ABSL_FLAG(bool, fiche_edits_reviewed, true,
          "A team's edit of its fiche waits for a coordinator's approval (false: it is live at once)");

int main(int argc, char** argv) {
  return pep::server::ServiceMain(
      {.name = "pep-incubation",
       .defaults = {.grpc_port = 7102, .metrics_port = 9102,
                    .data_dir = ".run/data/incubation", .max_receive_bytes = 32 << 20},
       .database_file = "incubation.db"},
      argc, argv, [](pep::server::ServiceContext& ctx) -> absl::Status {
        const std::string db_url = ctx.DatabaseUrl("incubation.db");
        auto store = pep::incubation::IncubationStore::Open(db_url, ctx.clock());
        if (!store.ok()) return store.status();
        auto& incubation_store = ctx.Own("store", std::move(*store));
        auto relay = ctx.StartOutboxRelay(db_url);
        if (!relay.ok()) return relay.status();
        auto& metrics = ctx.Own(
            "metrics", std::make_unique<pep::incubation::IncubationMetrics>(ctx.registry()));
        auto& service = ctx.Own(
            "incubation-service",
            std::make_unique<pep::incubation::IncubationService>(
                incubation_store, ctx.clock(), metrics, [r = *relay] { r->Notify(); },
                pep::incubation::IncubationServiceOptions{
                    .auth = {.insecure_dev = ctx.flags().insecure_dev,
                             .gateway_key = ctx.flags().gateway_key},
                    .staleness = pep::portfolio::StalenessFromFlags(),
                    .default_incubator = absl::GetFlag(FLAGS_default_incubator),
                    .fiche_edits_reviewed = absl::GetFlag(FLAGS_fiche_edits_reviewed)}));
        auto consumer = ctx.StartConsumer(
            {.group_id = absl::GetFlag(FLAGS_consumer_group),
             .instance_id = absl::GetFlag(FLAGS_consumer_instance),
             .topics = {"pepiniere.ideas.events"}},
            [&service](const pep::events::Record& r, const pep::events::Envelope& e) {
              return service.HandleIdeaEvent(r, e);
            });
        if (!consumer.ok()) return consumer.status();
        // Overdue depends on time passing, not only on writes.
        ctx.Every("gauges", absl::Seconds(30), [&service] { service.RefreshGauges(); });
        return ctx.Serve(&service, "pepiniere.incubation.v1.IncubationService");
      });
}
