// gRPC server interceptor exporting go-grpc-prometheus metrics:
// grpc_server_started_total, grpc_server_handled_total, grpc_server_handling_seconds.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace pep::telemetry {

class GrpcServerMetrics {
 public:
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  struct MethodSeries {
    prometheus::Counter* started;
    prometheus::Histogram* seconds;
    std::string service, method, type;
  };
  // Cached per full method name ("/pkg.Service/Method").
  MethodSeries& ForMethod(const std::string& full_method, const char* type);
  prometheus::Counter& Handled(MethodSeries& m, int code);

  // Register with ServerBuilder::experimental().SetInterceptorCreators().
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeFactory();

 private:
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodSeries>> methods_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Counter*> handled_cache_ ABSL_GUARDED_BY(mu_);
};

// Canonical upper-case name of a gRPC status code ("OK", "INVALID_ARGUMENT", …).
const char* GrpcCodeName(int code);

}  // namespace pep::telemetry
