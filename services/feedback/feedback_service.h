// The pep-feedback gRPC edge. SubmitFeedback is a callback (reactor) method: the request is
// checked on the gRPC thread, queued for the group-commit writer, and finished only after its
// batch is durable — no thread waits on the disk. The other methods are plain sync handlers.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "events/consumer.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/feedback/feedback_core.h"
#include "services/feedback/feedback_store.h"

namespace pep::feedback {

class FeedbackMetrics {
 public:
  explicit FeedbackMetrics(prometheus::Registry& registry);
  prometheus::Counter& Received(v1::Satisfaction s) { return *received_.at(s); }
  prometheus::Counter& Rejected(const std::string& reason) { return *rejected_.at(reason); }
  prometheus::Counter& PiiMasked(const std::string& kind) { return *pii_.at(kind); }
  prometheus::Gauge& RateLimitClients() { return *rate_limit_clients_; }
  prometheus::Gauge& StartupsByBand(v1::Band b) { return *bands_.at(b); }

 private:
  std::map<v1::Satisfaction, prometheus::Counter*> received_;
  std::map<std::string, prometheus::Counter*> rejected_;
  std::map<std::string, prometheus::Counter*> pii_;
  std::map<v1::Band, prometheus::Gauge*> bands_;
  prometheus::Gauge* rate_limit_clients_ = nullptr;
};

struct FeedbackServiceOptions {
  auth::AuthOptions auth;
  int rate_limit_per_minute = 5;  // per client key and start-up; 0 disables
  int rate_limit_max_clients = 200000;  // clients tracked at most (past it: refused, counted)
  int summary_threshold = 100;    // answers needed before a band is given
};

// Every method synchronous. SubmitFeedback was a callback-API method (its reply sent when the
// group commit completes, no thread held): with gRPC 1.51 that made the server poll through the
// callback queue's two threads, which sleep 100 ms after each idle second — every call to
// pep-feedback then waited up to 100 ms once a second (seen: 100 ms every 1.1 s on a kept-alive
// connection, any method). A handler thread waiting for the commit costs less than that.
class FeedbackService final : public v1::FeedbackService::Service {
 public:
  FeedbackService(FeedbackStore& store, const Clock& clock, FeedbackMetrics& metrics,
                  FeedbackServiceOptions options);
  absl::Status Init();  // loads the start-up read model
  // Reads the start-up read model again from the store: with several replicas on one database,
  // the consumer of another replica may have applied a creation or a phase change. main()
  // calls it every few seconds then, and a start-up not known yet is also looked up when asked
  // for (on SQLite this process's consumer is the only writer: the model in memory is whole).
  absl::Status RefreshProducts();
  // Recomputes pep_feedback_startups_by_band: each product open to feedback, by the band of its
  // rolling 12 months. main() calls it every minute (it reads a year of answers per product).
  absl::Status RefreshBands();

  // Consumer handler for pepiniere.incubation.events.
  absl::Status HandleIncubationEvent(const events::Record& record, const events::Envelope& env);

  grpc::Status SubmitFeedback(grpc::ServerContext* ctx, const v1::SubmitFeedbackRequest* req,
                              v1::Feedback* resp) override;
  grpc::Status ListFeedback(grpc::ServerContext*, const v1::ListFeedbackRequest*,
                            v1::ListFeedbackResponse*) override;
  grpc::Status ModerateFeedback(grpc::ServerContext*, const v1::ModerateFeedbackRequest*,
                                v1::Feedback*) override;
  grpc::Status GetSummary(grpc::ServerContext*, const v1::GetSummaryRequest*,
                          v1::Summary*) override;
  grpc::Status ExportFeedback(grpc::ServerContext*, const v1::ExportFeedbackRequest*,
                              grpc::ServerWriter<v1::ExportChunk>*) override;
  // The button's placements (placements.cc): coordinators and the start-up's team.
  grpc::Status CreatePlacement(grpc::ServerContext*, const v1::CreatePlacementRequest*, v1::Placement*) override;
  grpc::Status ListPlacements(grpc::ServerContext*, const v1::ListPlacementsRequest*,
                              v1::ListPlacementsResponse*) override;
  grpc::Status ListBands(grpc::ServerContext*, const v1::ListBandsRequest*, v1::ListBandsResponse*) override;

 private:
  absl::StatusOr<auth::Principal> Caller(const grpc::ServerContextBase& ctx) const;
  absl::Status CanRead(const auth::Principal& p, const std::string& startup_id) const;
  // Checks everything but durability; on success fills the answer (feedback, lineage root,
  // actor, client key). A rate-limited caller is told when to retry in `*retry_after_seconds`.
  absl::Status CheckSubmission(const grpc::ServerContextBase& ctx,
                               const v1::SubmitFeedbackRequest& req, PendingAnswer* answer,
                               int* retry_after_seconds);
  // The placement an answer came by, if it is one of this start-up's ("" otherwise).
  std::string KnownPlacement(const std::string& startup_id, const std::string& placement);

  FeedbackStore& store_;
  const Clock& clock_;
  FeedbackMetrics& metrics_;
  const FeedbackServiceOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Product> products_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> placements_ ABSL_GUARDED_BY(mu_);  // id -> start-up
  absl::flat_hash_map<std::string, v1::StartupBand> bands_ ABSL_GUARDED_BY(mu_);  // RefreshBands' last
  // One product's band over the rolling 12 months, read from the store.
  absl::StatusOr<v1::StartupBand> BandOf(const std::string& startup_id, absl::Time now);
  RateLimiter limiter_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pep::feedback
