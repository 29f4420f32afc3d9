// What every Pépinière gRPC server has: health (grpc.health.v1), server reflection, a request
// size limit, the undecodable-request and metrics interceptors, and an orderly stop.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "telemetry/grpc_metrics.h"

namespace pep::server {

inline constexpr int kSyncMaxPollers = 64;

struct GrpcServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0 = a free port
  int max_receive_bytes = 1 << 20;
  std::string service_name;  // full proto name, reported SERVING by the health service
  // A client connection is closed (GOAWAY, in-flight calls given `max_connection_age_grace`)
  // after about this long, so clients resolve the service's name again and spread over replicas
  // that appeared since (gRPC re-resolves dns:/// only when a connection drops). 0: never.
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::Seconds(30);
};

class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      grpc::Service* service, const GrpcServerOptions& options,
      telemetry::GrpcServerMetrics& metrics);

  int port() const { return port_; }
  // Health NOT_SERVING, stop accepting, let in-flight calls finish (up to `grace`).
  void Shutdown(absl::Duration grace);

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// Creates `dir` (and parents) or returns why not.
absl::Status EnsureDir(const std::string& dir);

// Ends the process once its data path is closed: the metrics HTTP server (civetweb) takes
// seconds to join its threads and holds nothing durable, so it is not waited for.
[[noreturn]] void ExitAfterOrderlyStop();

}  // namespace pep::server
