#include "server/grpc_server.h"

#include <chrono>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "pepiniere/bench/v1/echo.grpc.pb.h"

namespace pep::server {
namespace {

// Whether a client's one connection to `port` is let go by the server: the channel connects,
// answers a health check, then waits up to `within` for its state to leave READY (the server's
// GOAWAY after max_connection_age puts it back to IDLE; the next call connects anew and, for a
// dns:/// target, resolves again).
bool ConnectionClosedByServer(int port, absl::Duration within) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  EXPECT_TRUE(stub->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  const absl::Time deadline = absl::Now() + within;
  while (channel->GetState(false) == GRPC_CHANNEL_READY) {
    const auto until = std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (absl::Now() >= deadline || !channel->WaitForStateChange(GRPC_CHANNEL_READY, until)) return false;
  }
  return true;
}

TEST(GrpcServer, ClosesClientConnectionsAfterTheirMaxAgeSoClientsResolveAgain) {
  prometheus::Registry registry;
  telemetry::GrpcServerMetrics metrics(registry);
  pepiniere::bench::v1::EchoService::Service echo;  // any service: the test calls health
  GrpcServerOptions options{.port = 0, .service_name = "test.Service",
                            .max_connection_age = absl::Seconds(1),
                            .max_connection_age_grace = absl::Seconds(1)};
  auto server = GrpcServer::Start(&echo, options, metrics);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(ConnectionClosedByServer((*server)->port(), absl::Seconds(15)));
  (*server)->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace pep::server
