// The gateway's HTTP request parser (Beast, with the server's limits) and the JSON transcoding
// of every route: bytes off the wire become a request; each route whose pattern matches its
// path reads the body and query into its request message as the gateway would.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "google/protobuf/message.h"
#include "prometheus/registry.h"
#include "services/gateway/gateway.h"
#include "services/gateway/http_server.h"
#include "services/gateway/router.h"
#include "services/gateway/transcode.h"

namespace {

struct World {
  prometheus::Registry registry;
  pep::gateway::HttpMetrics metrics{registry};
  std::unique_ptr<pep::gateway::TokenStore> tokens;
  std::unique_ptr<pep::gateway::Gateway> gateway;
  World() {
    char dir[] = "/tmp/pep-fuzz-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    auto t = pep::gateway::TokenStore::Open(absl::StrCat(dir, "/tokens.db"), pep::SystemClock::Get());
    if (!t.ok()) std::abort();
    tokens = std::move(*t);
    // Backends never called: only the route table and its transcoding are exercised.
    const std::string nowhere = "127.0.0.1:9";
    gateway = std::make_unique<pep::gateway::Gateway>(
        pep::gateway::GatewayOptions{.backends = {nowhere, nowhere, nowhere, nowhere}}, *tokens,
        metrics);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto req = pep::gateway::ParseHttpRequest(bytes, 16 << 10, 1 << 20);
  if (!req.ok()) return 0;
  (void)world->gateway->BodyLimit(*req);
  for (const pep::gateway::Route& route : world->gateway->routes()) {
    auto params = pep::gateway::Match(route.pattern, req->path);
    if (!params || route.request == nullptr) continue;
    const google::protobuf::Message* proto =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(route.request);
    std::unique_ptr<google::protobuf::Message> m(proto->New());
    if (route.body == pep::gateway::Body::kJson) {
      (void)pep::gateway::ParseBody(*req, m.get());
    }
    (void)pep::gateway::ParseQuery(*req, m.get());
    pep::gateway::BindParams(*params, {}, m.get());
    (void)pep::gateway::ToJson(*m);
  }
  return 0;
}
