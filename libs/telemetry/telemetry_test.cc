// The gRPC interceptor records started/handled/latency per method and code, scraped over HTTP.
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "telemetry/grpc_metrics.h"
#include "telemetry/metrics.h"

namespace pep::telemetry {
namespace {

TEST(GrpcServerMetrics, CountsStartedAndHandledByCode) {
  MetricsServer metrics("127.0.0.1:0");
  ASSERT_GT(metrics.port(), 0);
  GrpcServerMetrics grpc_metrics(metrics.registry());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
  f.push_back(grpc_metrics.MakeFactory());
  builder.experimental().SetInterceptorCreators(std::move(f));
  grpc::CallbackGenericService unused;  // a server needs one service besides health
  builder.RegisterCallbackGenericService(&unused);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  // Health/Check on "" is SERVING (OK), on an unknown service NOT_FOUND.
  for (const char* svc : {"", "", "no.such.Service"}) {  // NOT_FOUND for the last
    grpc::ClientContext ctx;
    grpc::ByteBuffer req, resp;
    std::string payload;
    if (*svc) payload = std::string("\x0a", 1) + static_cast<char>(strlen(svc)) + svc;
    grpc::Slice slice(payload);
    req = grpc::ByteBuffer(&slice, 1);
    grpc::GenericStub stub(channel);
    // Use a simple blocking unary call through the generic API.
    grpc::Status st;
    std::atomic<bool> done{false};
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &req, &resp,
                   [&](grpc::Status s) {
                     st = s;
                     done = true;
                   });
    ASSERT_TRUE(pep::testing::WaitFor([&] { return done.load(); }, absl::Seconds(10)));
  }

  // Made-up methods share one "unknown" series instead of creating a series each.
  for (const char* method : {"/made.Up/One", "/made.Up/Two"}) {
    grpc::ClientContext ctx;
    grpc::Slice empty("");
    grpc::ByteBuffer req(&empty, 1), resp;
    std::atomic<bool> done{false};
    grpc::GenericStub(channel).UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp,
                                         [&](grpc::Status) { done = true; });
    ASSERT_TRUE(pep::testing::WaitFor([&] { return done.load(); }, absl::Seconds(10)));
  }

  const std::string body = pep::testing::HttpGet(metrics.port(), "/metrics");
  EXPECT_EQ(body.find("made.Up"), std::string::npos) << body;
  EXPECT_NE(body.find("grpc_server_started_total{grpc_method=\"unknown\",grpc_service=\"unknown\","
                      "grpc_type=\"bidi_stream\"} 2"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("grpc_server_started_total{grpc_method=\"Check\",grpc_service=\"grpc."
                      "health.v1.Health\",grpc_type=\"unary\"} 3"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("grpc_code=\"OK\",grpc_method=\"Check\",grpc_service=\"grpc.health.v1."
                      "Health\",grpc_type=\"unary\"} 2"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("grpc_code=\"NotFound\""), std::string::npos) << body;
  EXPECT_NE(body.find("grpc_server_handling_seconds_count{"), std::string::npos) << body;
  server->Shutdown();
}

TEST(EventMetrics, CachedCountersAreStable) {
  prometheus::Registry r;
  EventMetrics m(r);
  m.Published("t").Increment();
  m.Published("t").Increment();
  EXPECT_EQ(&m.Published("t"), &m.Published("t"));
  EXPECT_EQ(m.Published("t").Value(), 2);
  EXPECT_EQ(m.PublishFailed("t").Value(), 0);
  m.ConsumerLag("t", 3).Set(7);
  EXPECT_EQ(m.ConsumerLag("t", 3).Value(), 7);
}

}  // namespace
}  // namespace pep::telemetry
