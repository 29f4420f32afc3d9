// pep-ideas: wiring only — its parts in the order they start (ServiceMain stops them in
// reverse): store, outbox relay, the domain service, the gRPC server.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "server/service_main.h"
#include "services/ideas/ideas_service.h"
#include "services/ideas/ideas_store.h"

ABSL_FLAG(double, duplicate_threshold, 0.25, "Similarity from which an idea is hinted as alike");
ABSL_FLAG(int, comments_per_minute, 5, "Comments one person may post per minute (0: no limit)");
ABSL_FLAG(int, reload_seconds, 30,
          "On PostgreSQL (replicas): how often the duplicate hints and idea counts are read again");

int main(int argc, char** argv) {
  return pep::server::ServiceMain(
      {.name = "pep-ideas",
       .defaults = {.grpc_port = 7101, .metrics_port = 9101, .data_dir = ".run/data/ideas"},
       .database_file = "ideas.db"},
      argc, argv, [](pep::server::ServiceContext& ctx) -> absl::Status {
        const std::string db_url = ctx.DatabaseUrl("ideas.db");
        auto store = pep::ideas::IdeasStore::Open(db_url, ctx.clock());
        if (!store.ok()) return store.status();
        auto& ideas_store = ctx.Own("store", std::move(*store));
        auto relay = ctx.StartOutboxRelay(db_url);
        if (!relay.ok()) return relay.status();
        auto& metrics = ctx.Own("metrics", std::make_unique<pep::ideas::IdeasMetrics>(ctx.registry()));
        auto& service = ctx.Own(
            "ideas-service",
            std::make_unique<pep::ideas::IdeasService>(
                ideas_store, metrics, [r = *relay] { r->Notify(); },
                pep::ideas::IdeasServiceOptions{
                    .auth = {.insecure_dev = ctx.flags().insecure_dev,
                             .gateway_key = ctx.flags().gateway_key},
                    .duplicate_threshold = absl::GetFlag(FLAGS_duplicate_threshold),
                    .comments_per_minute = absl::GetFlag(FLAGS_comments_per_minute)}));
        if (auto s = service.Init(); !s.ok()) return s;
        if (auto s = ctx.Serve(&service, "pepiniere.ideas.v1.IdeaService"); !s.ok()) return s;
        // Results announced together: published when their time comes (any replica may).
        ctx.EveryChecked("results", absl::Seconds(1),
                         [&service] { return service.PublishDueResults().status(); });
        if (ideas_store.shared()) {  // replicas: take in what the others stored
          ctx.EveryChecked("reload", absl::Seconds(std::max(1, absl::GetFlag(FLAGS_reload_seconds))),
                           [&service] { return service.Reload(); });
        }
        return absl::OkStatus();
      });
}
