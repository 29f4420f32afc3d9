// The five services behind the gateway: one gRPC channel each, their health watched every
// second (a metric and /readyz?verbose), a bound on calls in flight per service (past it the
// route answers 503 with Retry-After instead of queueing), and the metadata every call carries.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/periodic.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "pepiniere/audit/v1/audit.grpc.pb.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"
#include "pepiniere/notify/v1/notify.grpc.pb.h"
#include "services/gateway/router.h"

namespace prometheus {
class Gauge;
class Registry;
}  // namespace prometheus

namespace pep::gateway {

struct BackendAddresses {
  std::string ideas = "127.0.0.1:7101";
  std::string incubation = "127.0.0.1:7102";
  std::string feedback = "127.0.0.1:7103";
  std::string audit = "127.0.0.1:7104";
  std::string notify = "127.0.0.1:7105";
};

// The gRPC target of a --<service>_addr flag: "host:port" (one replica), "h1:p1,h2:p2" (several,
// as an ipv4: list), or a target with its resolver ("dns:///pep-ideas-headless:7101"). Channels
// spread calls over every resolved address (round robin).
std::string GrpcTarget(const std::string& address);

// One service: its name (as in messages: "pep-audit"), channel, health and calls in flight.
class Backend {
 public:
  Backend(std::string name, const std::string& address, int max_in_flight,
          prometheus::Registry* registry);
  const std::string& name() const { return name_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  bool healthy() const { return healthy_.load(); }
  void CheckHealth();  // blocking, at most 1 s
  // A slot for one call, or false when max_in_flight calls are running (release with Release).
  bool Acquire();
  void Release();

 private:
  std::string name_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::atomic<bool> healthy_{false};
  std::atomic<int> in_flight_{0};
  const int max_in_flight_;
  prometheus::Gauge* up_gauge_ = nullptr;
  prometheus::Gauge* in_flight_gauge_ = nullptr;
};

class Backends {
 public:
  Backends(const BackendAddresses& addresses, int max_in_flight, prometheus::Registry* registry);
  Backend ideas, incubation, feedback, audit, notify;
  std::unique_ptr<pepiniere::ideas::v1::IdeaService::Stub> ideas_stub;
  std::unique_ptr<pepiniere::incubation::v1::IncubationService::Stub> incubation_stub;
  std::unique_ptr<pepiniere::feedback::v1::FeedbackService::Stub> feedback_stub;
  std::unique_ptr<pepiniere::audit::v1::AuditService::Stub> audit_stub;
  std::unique_ptr<pepiniere::notify::v1::NotifyService::Stub> notify_stub;
  std::vector<Backend*> all() { return {&ideas, &incubation, &feedback, &audit, &notify}; }
  std::vector<const Backend*> all() const { return {&ideas, &incubation, &feedback, &audit, &notify}; }

 private:
  PeriodicTask watcher_;  // last: starts once the backends exist
};

// What every backend call carries: deadline, principal, gateway key, client key.
struct CallMetadata {
  absl::Duration deadline;
  Caller caller;
  std::string gateway_key;
  std::string client_key;
};
void ApplyMetadata(grpc::ClientContext& ctx, const CallMetadata& m);

// Gives pep-notify a person's address, name, roles and scopes (its address book: whom to write
// to, who is on which start-up's team), at each sign-in and grant. In the background: sign-in
// never waits for it; a failure is logged and the next sign-in or grant sends it again.
void SyncContact(Backends& b, const std::string& gateway_key, const Caller& person,
                 const std::string& email, const std::string& display_name);

}  // namespace pep::gateway
