// pep-gateway: REST/JSON in front of the gRPC services. Authenticates bearer tokens, checks the
// caller's role (and scope) per route, translates JSON <-> protobuf with the standard JSON
// mapping, calls the service with a deadline and the principal as metadata, maps the gRPC
// status to HTTP; serves tokens, the OpenAPI document, the web console and health checks.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "pepiniere/audit/v1/audit.grpc.pb.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/gateway/http_server.h"
#include "services/gateway/router.h"
#include "services/gateway/tokens.h"

namespace pep::gateway {

struct Backends {
  std::string ideas = "127.0.0.1:7101";
  std::string incubation = "127.0.0.1:7102";
  std::string feedback = "127.0.0.1:7103";
  std::string audit = "127.0.0.1:7104";
};

struct GatewayOptions {
  Backends backends;
  std::string gateway_key;     // sent to services as x-pep-gateway-key
  std::string client_ip_salt;  // pep-feedback's client key = SHA-256(salt || IP)
  std::string console_dir;     // static files of the web console
  absl::Duration default_deadline = absl::Seconds(10);
  absl::Duration max_deadline = absl::Seconds(60);
};

class HttpMetrics {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);
  void Observe(const std::string& route, const std::string& method, int code, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  absl::Mutex mu_;
  std::map<std::string, prometheus::Counter*> counters_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Histogram*> histograms_ ABSL_GUARDED_BY(mu_);
};

class Gateway {
 public:
  Gateway(GatewayOptions options, TokenStore& tokens, HttpMetrics& metrics);
  HttpResponse Handle(const HttpRequest& req);
  const std::vector<Route>& routes() const { return routes_; }
  std::string OpenApi() const;

 private:
  void BuildRoutes();
  HttpResponse Dispatch(const HttpRequest& req, std::string* route_label);
  absl::StatusOr<Caller> Authenticate(const HttpRequest& req);
  HttpResponse Static(const HttpRequest& req) const;
  HttpResponse Ready();

  GatewayOptions options_;
  TokenStore& tokens_;
  HttpMetrics& metrics_;
  std::shared_ptr<grpc::Channel> ideas_ch_, incubation_ch_, feedback_ch_, audit_ch_;
  std::unique_ptr<pepiniere::ideas::v1::IdeaService::Stub> ideas_;
  std::unique_ptr<pepiniere::incubation::v1::IncubationService::Stub> incubation_;
  std::unique_ptr<pepiniere::feedback::v1::FeedbackService::Stub> feedback_;
  std::unique_ptr<pepiniere::audit::v1::AuditService::Stub> audit_;
  std::vector<Route> routes_;
};

// The grpc-gateway mapping of status codes to HTTP.
int HttpStatusOf(grpc::StatusCode code);
HttpResponse ErrorResponse(grpc::StatusCode code, const std::string& message);

}  // namespace pep::gateway
