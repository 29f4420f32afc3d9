#include "server/grpc_server.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/grpc_errors.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

namespace pep::server {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    grpc::Service* service, const GrpcServerOptions& options,
    telemetry::GrpcServerMetrics& metrics) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto out = std::unique_ptr<GrpcServer>(new GrpcServer());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(options.bind_address, ":", options.port),
                           grpc::InsecureServerCredentials(), &out->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  // Synchronous handlers: gRPC keeps at most this many idle polling threads and ends the others
  // as each call finishes, so under load (a handler waiting for a group commit) it would create
  // and end a thread per call with its default of 2.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kSyncMaxPollers);
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age_grace)));
  }
  builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> icpt;
  icpt.push_back(MakeRequestParseErrorInterceptorFactory());  // first: metrics see its result
  icpt.push_back(metrics.MakeFactory());
  builder.experimental().SetInterceptorCreators(std::move(icpt));
  out->server_ = builder.BuildAndStart();
  if (!out->server_ || out->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.bind_address, ":", options.port));
  }
  out->server_->GetHealthCheckService()->SetServingStatus(options.service_name, true);
  out->server_->GetHealthCheckService()->SetServingStatus(true);
  return out;
}

void GrpcServer::Shutdown(absl::Duration grace) {
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(grace)));
}

absl::Status EnsureDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

void ExitAfterOrderlyStop() {
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace pep::server
