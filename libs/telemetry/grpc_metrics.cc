#include "telemetry/grpc_metrics.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace pep::telemetry {

namespace {

const char* TypeName(grpc::experimental::ServerRpcInfo::Type t) {
  switch (t) {
    case grpc::experimental::ServerRpcInfo::Type::UNARY: return "unary";
    case grpc::experimental::ServerRpcInfo::Type::CLIENT_STREAMING: return "client_stream";
    case grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING: return "server_stream";
    case grpc::experimental::ServerRpcInfo::Type::BIDI_STREAMING: return "bidi_stream";
  }
  return "unary";
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcServerMetrics* metrics, grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics), info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using HP = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(HP::POST_RECV_INITIAL_METADATA)) {
      series_ = &metrics_->ForMethod(info_->method(), TypeName(info_->type()));
      series_->started->Increment();
      start_ = std::chrono::steady_clock::now();
    }
    if (methods->QueryInterceptionHookPoint(HP::PRE_SEND_STATUS) && series_ != nullptr) {
      const grpc::Status st = methods->GetSendStatus();
      metrics_->Handled(*series_, st.error_code()).Increment();
      series_->seconds->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    methods->Proceed();
  }

 private:
  GrpcServerMetrics* metrics_;
  grpc::experimental::ServerRpcInfo* info_;
  GrpcServerMetrics::MethodSeries* series_ = nullptr;
  std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcServerMetrics* m) : metrics_(m) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info);
  }

 private:
  GrpcServerMetrics* metrics_;
};

}  // namespace

// Label values as go-grpc-prometheus writes them (Go's codes.Code.String()), so dashboards and
// alert rules written for it work unchanged.
const char* GrpcCodeName(int code) {
  static const char* kNames[] = {"OK",           "Canceled",        "Unknown",
                                 "InvalidArgument", "DeadlineExceeded", "NotFound",
                                 "AlreadyExists", "PermissionDenied", "ResourceExhausted",
                                 "FailedPrecondition", "Aborted",      "OutOfRange",
                                 "Unimplemented", "Internal",         "Unavailable",
                                 "DataLoss",      "Unauthenticated"};
  return (code >= 0 && code <= 16) ? kNames[code] : "Unknown";
}

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& r)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(r)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of success.")
                   .Register(r)),
      seconds_(prometheus::BuildHistogram()
                   .Name("grpc_server_handling_seconds")
                   .Help("Histogram of response latency of RPCs handled by the server.")
                   .Register(r)) {}

GrpcServerMetrics::MethodSeries& GrpcServerMetrics::ForMethod(const std::string& full_method,
                                                              const char* type) {
  absl::MutexLock l(&mu_);
  auto it = methods_.find(full_method);
  if (it != methods_.end()) return *it->second;
  auto m = std::make_unique<MethodSeries>();
  // "/pkg.Service/Method" -> service "pkg.Service", method "Method".
  std::string_view fm = full_method;
  if (!fm.empty() && fm[0] == '/') fm.remove_prefix(1);
  const size_t slash = fm.find('/');
  m->service = std::string(fm.substr(0, slash));
  m->method = slash == std::string_view::npos ? "" : std::string(fm.substr(slash + 1));
  // Method names come from clients: only known ones become label values, so a caller cannot
  // create unbounded series by calling made-up methods.
  const auto* svc =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(m->service);
  const bool known = (svc != nullptr && svc->FindMethodByName(m->method) != nullptr) ||
                     (m->service == "grpc.health.v1.Health" &&
                      (m->method == "Check" || m->method == "Watch"));
  std::string key = full_method;
  if (!known) {
    m->service = "unknown";
    m->method = "unknown";
    key = "?";
    if (auto u = methods_.find(key); u != methods_.end()) return *u->second;
  }
  m->type = type;
  const prometheus::Labels labels{
      {"grpc_service", m->service}, {"grpc_method", m->method}, {"grpc_type", m->type}};
  m->started = &started_.Add(labels);
  m->seconds = &seconds_.Add(labels, prometheus::Histogram::BucketBoundaries{
                                         0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25, 0.5, 1, 2.5, 5, 10});
  auto& ref = *m;
  methods_.emplace(key, std::move(m));
  return ref;
}

prometheus::Counter& GrpcServerMetrics::Handled(MethodSeries& m, int code) {
  const std::string key = absl::StrCat(m.service, "/", m.method, "#", code);
  absl::MutexLock l(&mu_);
  auto it = handled_cache_.find(key);
  if (it != handled_cache_.end()) return *it->second;
  prometheus::Counter& c = handled_.Add({{"grpc_service", m.service},
                                         {"grpc_method", m.method},
                                         {"grpc_type", m.type},
                                         {"grpc_code", GrpcCodeName(code)}});
  handled_cache_.emplace(key, &c);
  return c;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcServerMetrics::MakeFactory() {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

}  // namespace pep::telemetry
