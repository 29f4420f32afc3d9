// The gateway without its backends: route matching, tokens (hash-only storage, expiry,
// revocation, field errors), the OpenAPI document covering every route, and the HTTP edge's
// answers to bad input (malformed JSON, unknown field, wrong content type, oversize body,
// unknown route, wrong method, missing or bad token, a role the route refuses), security
// headers and HEAD, path spellings that must not reach a route, trusted proxies and client keys.
#include "services/gateway/gateway.h"

#include <thread>
#include <atomic>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "absl/strings/escaping.h"
#include "common/text.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/postgres_testing.h"
#include "services/gateway/backends.h"
#include "services/gateway/client_address.h"
#include "services/gateway/http_client.h"
#include "store/db.h"

namespace pep::gateway {
namespace {

TEST(Router, MatchesParamsVerbsAndLiterals) {
  auto p = Match("/v1/challenges/{challenge_id}:open", "/v1/challenges/abc:open");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->at("challenge_id"), "abc");
  EXPECT_FALSE(Match("/v1/challenges/{challenge_id}", "/v1/challenges/abc:open").has_value());
  EXPECT_FALSE(Match("/v1/challenges/{challenge_id}:open", "/v1/challenges/:open").has_value());
  EXPECT_TRUE(Match("/v1/audit:verify", "/v1/audit:verify").has_value());
  auto two = Match("/v1/startups/{startup_id}/team/{member_id}", "/v1/startups/s1/team/m2");
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->at("member_id"), "m2");
  EXPECT_FALSE(Match("/v1/startups/{startup_id}", "/v1/startups/s1/team").has_value());
  EXPECT_EQ(ParamNames("/v1/startups/{startup_id}/team/{member_id}"),
            (std::vector<std::string>{"startup_id", "member_id"}));
}

TEST(HttpParse, RequestAsTheHandlerSeesItAndBadOnesNamed) {
  auto r = ParseHttpRequest(
      "POST /v1/startups/s%201:transition?a=1&b=x+y&a=2 HTTP/1.1\r\nHost: x\r\n"
      "X-Two: 1\r\nX-Two: 2\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
      16 << 10, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/v1/startups/s 1:transition");
  EXPECT_EQ(r->raw_path, "/v1/startups/s%201:transition");
  EXPECT_EQ(r->query.count("a"), 2u);
  EXPECT_EQ(r->Query("b"), "x y");
  EXPECT_EQ(*r->Header("x-two"), "1, 2");
  EXPECT_EQ(r->body, "{\"a\":1}");
  // Past the body limit, a truncated body, and a head past its limit are refused, saying why.
  auto big = ParseHttpRequest("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789", 1024, 4);
  EXPECT_TRUE(absl::StrContains(big.status().message(), "body limit")) << big.status();
  auto cut = ParseHttpRequest("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123", 1024, 64);
  EXPECT_FALSE(cut.ok());
  auto head = ParseHttpRequest("GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n", 64, 64);
  EXPECT_TRUE(absl::StrContains(head.status().message(), "header limit")) << head.status();
}

TEST(Backends, ReplicasListedInTheAddressShareTheCalls) {
  EXPECT_EQ(GrpcTarget("127.0.0.1:7101"), "127.0.0.1:7101");
  EXPECT_EQ(GrpcTarget("127.0.0.1:7101,127.0.0.1:7201"), "ipv4:127.0.0.1:7101,127.0.0.1:7201");
  EXPECT_EQ(GrpcTarget("dns:///pep-ideas-headless:7101"), "dns:///pep-ideas-headless:7101");
  // Two replicas, each a health service counting the checks it answers.
  class Counting : public grpc::health::v1::Health::Service {
   public:
    grpc::Status Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest*,
                       grpc::health::v1::HealthCheckResponse* r) override {
      calls.fetch_add(1);
      r->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
      return grpc::Status::OK;
    }
    std::atomic<int> calls{0};
  };
  Counting replica[2];
  std::unique_ptr<grpc::Server> server[2];
  int port[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port[i]);
    b.RegisterService(&replica[i]);
    server[i] = b.BuildAndStart();
  }
  Backend backend("pep-ideas", absl::StrCat("127.0.0.1:", port[0], ",127.0.0.1:", port[1]), 8, nullptr);
  // Round robin once both are connected: neither replica is left idle (with one channel per
  // address of the list, or pick_first, one of them would get every call).
  for (int n = 0; n < 400 && (replica[0].calls.load() < 10 || replica[1].calls.load() < 10); ++n) {
    backend.CheckHealth();
  }
  EXPECT_TRUE(backend.healthy());
  EXPECT_GE(replica[0].calls.load(), 10);
  EXPECT_GE(replica[1].calls.load(), 10);
  for (auto& s : server) s->Shutdown();
}

TEST(Status, GrpcGatewayMapping) {
  // An error that echoes a client's invalid bytes is still a UTF-8 JSON answer (the fuzzer's find).
  const HttpResponse echoed =
      ErrorResponse(grpc::StatusCode::INVALID_ARGUMENT, std::string("body: not a valid X (J$(\xe0\xc1g)", 26));
  EXPECT_GE(Utf8Length(echoed.body), 0) << echoed.body;
  EXPECT_NE(echoed.body.find("\uFFFD"), std::string::npos) << echoed.body;
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::FAILED_PRECONDITION), 409);  // a state conflict
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::ABORTED), 409);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::DEADLINE_EXCEEDED), 504);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::INTERNAL), 500);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::DATA_LOSS), 500);
}

class TokenStoreFixture : public ::testing::Test {
 protected:
  void OpenStore(pep::testing::Backend backend) {
    url_ = pep::testing::StoreUrl(backend, dir_, "gateway.db");
    auto s = TokenStore::Open(url_, clock_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  pep::testing::TempDir dir_;
  std::string url_;  // the store's
  FakeClock clock_{absl::FromUnixSeconds(1764331200)};
  std::unique_ptr<TokenStore> store_;
};

// The token store on both engines.
class TokensTest : public TokenStoreFixture,
                   public ::testing::WithParamInterface<pep::testing::Backend> {
 protected:
  void SetUp() override { OpenStore(GetParam()); }
};
PEP_ON_BOTH_ENGINES(TokensTest);

TEST_P(TokensTest, SecretShownOnceStoredAsHashExpiresAndRevokes) {
  auto made = store_->Create({.name = "CI", .actor = "ci-bot", .role = "product_team",
                              .scope = "startup:s1", .expires_at = clock_.Now() + absl::Hours(1)},
                             "coord-1");
  ASSERT_TRUE(made.ok()) << made.status();
  const std::string secret = made->second;
  EXPECT_TRUE(absl::StartsWith(secret, "pep_"));
  EXPECT_GE(secret.size(), 40u);
  auto who = store_->Authenticate(secret);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->actor, "ci-bot");
  EXPECT_EQ(who->scope, "startup:s1");
  {  // the database never holds the secret itself
    auto db = store::Db::Connect(url_);
    auto q = (*db)->Prepare("SELECT count(*) FROM tokens WHERE secret_sha256 = ? OR id = ?");
    q->Bind(1, secret).Bind(2, secret);
    ASSERT_TRUE(q->Step().value());
    EXPECT_EQ(q->Int(0), 0);
  }
  EXPECT_EQ(store_->Authenticate("pep_nope").status().code(), absl::StatusCode::kUnauthenticated);
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(store_->Authenticate(secret).status().message(), "this token has expired");

  auto other = store_->Create({.actor = "coord-1", .role = "coordinator",
                               .expires_at = clock_.Now() + absl::Hours(1)}, "bootstrap");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(store_->HasActiveCoordinator().value());
  ASSERT_TRUE(store_->Revoke(other->first.id, "coord-1").ok());
  EXPECT_EQ(store_->Authenticate(other->second).status().message(), "this token was revoked");
  EXPECT_EQ(store_->Revoke(other->first.id, "coord-1").code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(store_->HasActiveCoordinator().value());
  EXPECT_EQ(store_->List()->size(), 2u);
}

TEST_P(TokensTest, LifetimeIsBoundedLastUseKeptAndEveryChangeIsAnEventWithoutTheSecret) {
  auto too_long = store_->Create({.actor = "ci", .role = "coordinator",
                                  .expires_at = clock_.Now() + absl::Hours(24 * 366)}, "c");
  EXPECT_TRUE(absl::StartsWith(too_long.status().message(), "expires_at: ")) << too_long.status();
  auto made = store_->Create({.name = "CI voirie", .actor = "ci", .role = "product_team",
                              .scope = "startup:s1", .expires_at = clock_.Now() + absl::Hours(24 * 365)},
                             "coord-1");
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(store_->Get(made->first.id)->last_used_at, absl::InfinitePast());
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(store_->Authenticate(made->second).ok());
  EXPECT_EQ(store_->Get(made->first.id)->last_used_at, clock_.Now());
  ASSERT_TRUE(store_->Revoke(made->first.id, "coord-2").ok());
  auto db = store::Db::Connect(url_);
  auto q = (*db)->Prepare("SELECT ce_type, msg_key, payload, headers FROM outbox ORDER BY seq");
  std::vector<std::string> types;
  while (q->Step().value()) {
    types.push_back(q->Text(0));
    EXPECT_EQ(q->Text(1), made->first.id);
    EXPECT_EQ(q->Text(2).find(made->second), std::string::npos)
        << "the secret never leaves";
    EXPECT_NE(q->Text(3).find("s1"), std::string::npos) << "correlation: the start-up";
  }
  EXPECT_EQ(types, (std::vector<std::string>{"pepiniere.gateway.v1.TokenCreated",
                                             "pepiniere.gateway.v1.TokenRevoked"}));
}

TEST_P(TokensTest, ASecretMadeElsewhereIsRegisteredByItsHash) {
  const std::string secret = "pep_" + std::string(43, 'k');
  auto r = store_->Register({.actor = "coordinator", .role = "coordinator",
                             .expires_at = clock_.Now() + absl::Hours(1)}, "bootstrap", secret);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(store_->Authenticate(secret)->role, "coordinator");
  auto weak = store_->Register({.actor = "x", .role = "coordinator",
                                .expires_at = clock_.Now() + absl::Hours(1)}, "b", "pep_short");
  EXPECT_TRUE(absl::StartsWith(weak.status().message(), "secret: ")) << weak.status();
}

TEST_P(TokensTest, BadTokenRequestsNameTheField) {
  const absl::Time later = clock_.Now() + absl::Hours(1);
  auto role = store_->Create({.actor = "x", .role = "admin", .expires_at = later}, "c");
  EXPECT_TRUE(absl::StartsWith(role.status().message(), "role: ")) << role.status();
  auto scope = store_->Create({.actor = "x", .role = "product_team", .expires_at = later}, "c");
  EXPECT_TRUE(absl::StartsWith(scope.status().message(), "scope: ")) << scope.status();
  auto stray = store_->Create({.actor = "x", .role = "juror", .scope = "startup:s", .expires_at = later}, "c");
  EXPECT_TRUE(absl::StartsWith(stray.status().message(), "scope: ")) << stray.status();
  auto actor = store_->Create({.role = "juror", .expires_at = later}, "c");
  EXPECT_TRUE(absl::StartsWith(actor.status().message(), "actor: ")) << actor.status();
  auto past = store_->Create({.actor = "x", .role = "juror", .expires_at = clock_.Now()}, "c");
  EXPECT_TRUE(absl::StartsWith(past.status().message(), "expires_at: ")) << past.status();
}

class GatewayHttpTest : public TokenStoreFixture {
 protected:
  void SetUp() override {
    OpenStore(pep::testing::Backend::kSqlite);
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<HttpMetrics>(*registry_);
    // Backends on a port nobody listens to: these tests never get past the gateway's checks.
    const std::string nowhere = absl::StrCat("127.0.0.1:", pep::testing::FreePort());
    gateway_ = std::make_unique<Gateway>(
        GatewayOptions{.backends = {nowhere, nowhere, nowhere, nowhere},
                       .client_ip_salt = "salt",
                       .console_dir = PEP_CONSOLE_DIR,  // as assembled by console/build.mjs
                       .default_deadline = absl::Milliseconds(300),
                       .max_body_bytes = 4096},
        *store_, *metrics_);
    auto server = HttpServer::Start(
        {.port = 0},
        [this](HttpRequest r, Respond respond) { gateway_->Handle(std::move(r), std::move(respond)); },
        [this](HttpRequest head, std::function<void(HttpServer::Admission)> done) {
          gateway_->Admit(std::move(head), std::move(done));
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    url_ = absl::StrCat("http://127.0.0.1:", server_->port());
    auto juror = store_->Create({.actor = "juror-a", .role = "juror",
                                 .expires_at = clock_.Now() + absl::Hours(1)}, "c");
    juror_ = juror->second;
  }
  HttpResult Call(const std::string& method, const std::string& target, const std::string& body = "",
                  std::map<std::string, std::string> headers = {}) {
    if (!body.empty() && headers.count("Content-Type") == 0) headers["Content-Type"] = "application/json";
    auto r = HttpCall(url_, method, target, headers, body);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : HttpResult{};
  }
  bool WaitForBody(const std::string& target, const std::string& text) {
    return pep::testing::WaitFor([&] { return Call("GET", target).body.find(text) != std::string::npos; },
                                 absl::Seconds(10));
  }
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<HttpMetrics> metrics_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<HttpServer> server_;
  std::string url_, juror_;
};

TEST_F(GatewayHttpTest, OpenApiDocumentsEveryRoute) {
  HttpResult r = Call("GET", "/openapi.json");
  ASSERT_EQ(r.status, 200);
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &doc).ok()) << r.body.substr(0, 300);
  EXPECT_EQ(doc.fields().at("openapi").string_value(), "3.0.3");
  const auto& paths = doc.fields().at("paths").struct_value().fields();
  size_t forms = 0;
  for (const Route& route : gateway_->routes()) {
    for (const DocumentedPath& form : DocumentedPaths(route)) {
      ++forms;
      auto p = paths.find(form.path);
      ASSERT_NE(p, paths.end()) << form.path << " is not documented";
      const auto& ops = p->second.struct_value().fields();
      auto op = ops.find(absl::AsciiStrToLower(route.method));
      ASSERT_NE(op, ops.end()) << route.method << " " << form.path << " is not documented";
      const auto& fields = op->second.struct_value().fields();
      EXPECT_FALSE(fields.at("summary").string_value().empty());
      // Issue 33: each status it can give, not a catch-all "default".
      const auto& responses = fields.at("responses").struct_value().fields();
      EXPECT_FALSE(responses.contains("default")) << form.path;
      EXPECT_TRUE(responses.contains("400") && responses.contains("401")) << form.path;
      EXPECT_EQ(responses.contains("403"), (route.roles & kPublic) == 0) << form.path;
      EXPECT_EQ(responses.contains("415"), route.body == Body::kJson) << form.path;
    }
    // OpenAPI has no template for a parameter spanning segments.
    EXPECT_EQ(paths.count(route.pattern), route.pattern.find("=**}") == std::string::npos) << route.pattern;
  }
  size_t documented = 0;
  for (const auto& [path, item] : paths) documented += item.struct_value().fields().size();
  EXPECT_EQ(documented, forms) << "a documented route does not exist";
  // Every referenced schema is there.
  const auto& schemas = doc.fields().at("components").struct_value().fields().at("schemas").struct_value().fields();
  EXPECT_TRUE(schemas.count("pepiniere.ideas.v1.SubmitIdeaRequest"));
  EXPECT_TRUE(schemas.count("pepiniere.audit.v1.Timeline"));
  size_t at = 0;
  while ((at = r.body.find("#/components/schemas/", at)) != std::string::npos) {
    at += 21;
    const std::string name = r.body.substr(at, r.body.find('"', at) - at);
    EXPECT_TRUE(schemas.count(name)) << name;
  }
}

TEST_F(GatewayHttpTest, BadInputGetsA4xxAPersonUnderstands) {
  const std::map<std::string, std::string> juror = {{"Authorization", "Bearer " + juror_}};
  auto with = [&](std::map<std::string, std::string> h) {
    h.insert(juror.begin(), juror.end());
    return h;
  };
  const std::string kScores = "/v1/ideas/01a24d07-87a5-71bd-9d03-564800000000/scores";
  // Issue 33: a path id that is not one is refused by the gateway, naming it.
  HttpResult bad_id = Call("POST", "/v1/ideas/i1/scores", R"({"scores": []})", juror);
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_NE(bad_id.body.find("idea_id: 'i1' is not an id"), std::string::npos) << bad_id.body;
  HttpResult malformed = Call("POST", kScores, "{\"scores\": [", juror);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("body: not a valid ScoreIdeaRequest"), std::string::npos) << malformed.body;
  HttpResult unknown = Call("POST", kScores, R"({"scorez": []})", juror);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("scorez"), std::string::npos) << unknown.body;
  HttpResult type = Call("POST", kScores, "scores=5", with({{"Content-Type", "text/plain"}}));
  EXPECT_EQ(type.status, 415);
  EXPECT_NE(type.body.find("expected Content-Type application/json"), std::string::npos);
  HttpResult big = Call("POST", kScores, std::string(5000, ' '), juror);
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("larger than 4096 bytes"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/nothing/here").status, 404);
  HttpResult put = Call("PUT", "/v1/challenges");
  EXPECT_EQ(put.status, 405);
  // Issue 26: an undeclared method (TRACE, PUT…) names the path's methods in Allow (RFC 9110).
  EXPECT_EQ(put.headers["allow"], "GET, HEAD, POST") << put.body;
  HttpResult trace = Call("TRACE", "/v1/challenges");
  EXPECT_EQ(trace.status, 405);
  EXPECT_EQ(trace.headers["allow"], "GET, HEAD, POST");
  HttpResult anonymous = Call("GET", "/v1/startups");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.headers["www-authenticate"], "Bearer realm=\"pepiniere\"");  // RFC 6750
  EXPECT_EQ(Call("GET", "/v1/startups", "", {{"Authorization", "Bearer pep_forged"}}).status, 401);
  EXPECT_EQ(Call("GET", "/v1/startups", "", {{"Authorization", "Basic abc"}}).status, 401);
  HttpResult refused = Call("GET", "/v1/startups", "", juror);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("the juror role may not GET /v1/startups"), std::string::npos);
  // A backend that is down is a 503, not a hang (the call carries a deadline).
  HttpResult down = Call("POST", kScores, R"({"scores": []})", juror);
  EXPECT_TRUE(down.status == 503 || down.status == 504) << down.status << " " << down.body;
  EXPECT_NE(down.body.find("pep-ideas"), std::string::npos) << down.body;
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  // Ready is the gateway itself; the backends are reported, not required.
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  EXPECT_TRUE(WaitForBody("/readyz?verbose", "pep-ideas: DOWN"));
  HttpResult page = Call("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("lang=\"fr\""), std::string::npos);
  // The page is revalidated each time; what it names lives under a content hash, kept a year.
  EXPECT_EQ(page.headers["cache-control"], "no-cache");
  EXPECT_EQ(Call("GET", "/portefeuille").headers["cache-control"], "no-cache");
  const size_t at = page.body.find("href=\"/assets/") + 6;
  ASSERT_NE(at, std::string::npos + 6) << page.body;
  const std::string css = page.body.substr(at, page.body.find('"', at) - at);
  EXPECT_TRUE(absl::EndsWith(css, ".css")) << css;
  HttpResult asset = Call("GET", css);
  EXPECT_EQ(asset.status, 200) << css;
  EXPECT_EQ(asset.headers["cache-control"], "public, max-age=31536000, immutable");
  EXPECT_EQ(asset.headers["content-type"], "text/css; charset=utf-8");
  // A hash that is not the current one is a 404, never the page (which a browser would cache).
  EXPECT_EQ(Call("GET", "/assets/0000000000000000/js/main.js").status, 404);
  EXPECT_EQ(Call("GET", "/assets/nothing").status, 404);
  // Nothing outside the console directory, however the path is spelled.
  EXPECT_EQ(Call("GET", "/..%2F..%2F..%2Fetc%2Fhost.conf").status, 404);
  EXPECT_EQ(Call("GET", "/../../../../etc/host.conf").body.find("multi on"), std::string::npos);
}

}  // namespace
}  // namespace pep::gateway

namespace pep::gateway {
namespace {

TEST_F(GatewayHttpTest, EveryAnswerCarriesTheSecurityHeadersAndHeadHasNoBody) {
  for (const std::string target : {"/", "/v1/nothing", "/openapi.json", "/healthz"}) {
    HttpResult r = Call("GET", target);
    EXPECT_NE(r.headers["content-security-policy"].find("frame-ancestors 'none'"), std::string::npos)
        << target;
    EXPECT_EQ(r.headers["x-content-type-options"], "nosniff") << target;
    EXPECT_EQ(r.headers["referrer-policy"], "same-origin") << target;
    EXPECT_EQ(r.headers.count("strict-transport-security"), 0u) << "no HSTS over plain HTTP";
  }
  HttpResult get = Call("GET", "/openapi.json");
  HttpResult head = Call("HEAD", "/openapi.json");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.headers["content-length"], std::to_string(get.body.size()));
}

TEST_F(GatewayHttpTest, PathSpellingsNeverReachAnotherRoute) {
  const std::map<std::string, std::string> juror = {{"Authorization", "Bearer " + juror_}};
  // Each would name a route only if the gateway normalised it; none may.
  for (const std::string target :
       {"/v1/challenges/", "/v1//challenges", "/V1/challenges", "/v1/Challenges",
        "/v1/challenges%2Fx", "/v1/challenges/c1%2Fideas", "/v1/challenges/c1%2fideas",
        "/v1/ideas/i1/scores/", "/v1/ideas/i1%2Fscores"}) {
    HttpResult r = Call("GET", target, "", juror);
    EXPECT_EQ(r.status, 404) << target << ": " << r.body;
  }
}

// An Admit that lets every request in with a body of at most `limit` bytes.
HttpServer::Admit LetIn(size_t limit) {
  return [limit](HttpRequest head, std::function<void(HttpServer::Admission)> done) {
    done({std::move(head), limit, std::nullopt});
  };
}

// A raw connection to 127.0.0.1:port that reads whatever the server says within `wait`.
std::string ConnectAndRead(int port, int* fd_out, absl::Duration wait) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "connect failed";
  *fd_out = fd;
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) <= 0) return "";
  char buf[1024];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

TEST(HttpServerLimits, PastTheConnectionCapANewConnectionGetsAQuick503) {
  auto server = HttpServer::Start(
      {.port = 0, .max_connections = 2},
      [](HttpRequest, Respond respond) { respond(HttpResponse{200, "text/plain", "ok"}); },
      LetIn(1024));
  ASSERT_TRUE(server.ok()) << server.status();
  int fds[3] = {-1, -1, -1};
  EXPECT_EQ(ConnectAndRead((*server)->port(), &fds[0], absl::Milliseconds(200)), "");
  EXPECT_EQ(ConnectAndRead((*server)->port(), &fds[1], absl::Milliseconds(200)), "");
  ASSERT_TRUE(pep::testing::WaitFor([&] { return (*server)->open_connections() == 2; }, absl::Seconds(5)));
  const std::string third = ConnectAndRead((*server)->port(), &fds[2], absl::Seconds(5));
  EXPECT_EQ(third.rfind("HTTP/1.1 503", 0), 0u) << third;
  EXPECT_NE(third.find("Retry-After: 1"), std::string::npos) << third;
  for (int fd : fds) close(fd);
  // The two idle ones closed, a new one is served again.
  ASSERT_TRUE(pep::testing::WaitFor([&] { return (*server)->open_connections() == 0; }, absl::Seconds(5)));
  auto r = HttpCall(absl::StrCat("http://127.0.0.1:", (*server)->port()), "GET", "/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST(ClientAddress, TrustedProxiesOnlyAndTheRightmostUntrustedHop) {
  auto none = TrustedProxies::Parse("");
  ASSERT_TRUE(none.ok());
  auto proxies = TrustedProxies::Parse("10.0.0.0/8, 192.168.1.7, ::1/128");
  ASSERT_TRUE(proxies.ok()) << proxies.status();
  EXPECT_TRUE(proxies->Contains("10.20.30.40"));
  EXPECT_TRUE(proxies->Contains("192.168.1.7"));
  EXPECT_FALSE(proxies->Contains("192.168.1.8"));
  EXPECT_TRUE(proxies->Contains("::1"));
  EXPECT_FALSE(proxies->Contains("not an address"));
  auto bad = TrustedProxies::Parse("10.0.0.0/33");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("trusted_proxies: '10.0.0.0/33'"), std::string::npos);

  HttpRequest r;
  r.peer_addr = "10.1.1.1";
  r.headers["x-forwarded-for"] = "6.6.6.6, 203.0.113.9, 10.2.2.2";
  EXPECT_EQ(ClientAddress(r, *none), "10.1.1.1") << "no trusted proxy: the peer";
  EXPECT_EQ(ClientAddress(r, *proxies), "203.0.113.9") << "the hop the proxies vouch for";
  r.peer_addr = "198.51.100.1";  // not a proxy: its header is ignored
  EXPECT_EQ(ClientAddress(r, *proxies), "198.51.100.1");
  // Issue 26: the proxy appends to X-Forwarded-For; a Forwarded header the client sent itself
  // must not pick the key (it used to win over X-Forwarded-For).
  r.peer_addr = "10.1.1.1";
  r.headers["forwarded"] = "for=1.2.3.4";
  EXPECT_EQ(ClientAddress(r, *proxies), "203.0.113.9") << "the client's own Forwarded header was believed";
  r.peer_addr = "10.1.1.1";
  r.headers.clear();
  auto rfc7239 = TrustedProxies::Parse("10.0.0.0/8", "Forwarded");
  ASSERT_TRUE(rfc7239.ok());
  r.headers["forwarded"] = R"(for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711")";
  r.headers["x-forwarded-for"] = "5.5.5.5";  // and then X-Forwarded-For is the client's text
  EXPECT_EQ(ClientAddress(r, *rfc7239), "2001:db8:cafe::17");
  r.headers["forwarded"] = "for=unknown";
  EXPECT_EQ(ClientAddress(r, *rfc7239), "unknown");
  EXPECT_FALSE(TrustedProxies::Parse("10.0.0.0/8", "x-real-ip").ok());

  // The key hides the host part and never contains the address.
  EXPECT_EQ(ClientKey("s", "203.0.113.9"), ClientKey("s", "203.0.113.200"));
  EXPECT_NE(ClientKey("s", "203.0.113.9"), ClientKey("s", "203.0.114.9"));
  EXPECT_NE(ClientKey("s", "203.0.113.9"), ClientKey("t", "203.0.113.9"));
  EXPECT_EQ(ClientKey("s", "2001:db8:cafe:1::17"), ClientKey("s", "2001:db8:cafe:1:ffff::1"));
  EXPECT_NE(ClientKey("s", "2001:db8:cafe:1::17"), ClientKey("s", "2001:db8:cafe:2::17"));
  EXPECT_EQ(ClientKey("s", "::ffff:203.0.113.9"), ClientKey("s", "203.0.113.1"));
  EXPECT_EQ(ClientKey("s", "203.0.113.9").find("203"), std::string::npos);
}

// Connects, sends `bytes`, and reads what the server answers within `wait` ("" if nothing).
std::string SendAndRead(int port, const std::string& bytes, absl::Duration wait, int* fd_out) {
  *fd_out = -1;
  const std::string nothing_yet = ConnectAndRead(port, fd_out, absl::ZeroDuration());
  if (*fd_out < 0) return nothing_yet;
  if (send(*fd_out, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) return "send failed";
  pollfd p{*fd_out, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) <= 0) return "";
  char buf[4096];
  const ssize_t n = recv(*fd_out, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Issue 26: the 32 MiB import body used to be read before anyone asked who was sending it. The
// caller is now decided from the head: an anonymous or unentitled sender gets its 401/403 at
// once, without one byte of body read.
TEST_F(GatewayHttpTest, ACallerIsRefusedFromTheHeadBeforeItsBodyIsRead) {
  const int port = server_->port();
  int fd = -1;
  const std::string anonymous = SendAndRead(
      port,
      "POST /v1/imports/portfolio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
      "Content-Length: 30000000\r\n\r\n",
      absl::Seconds(3), &fd);
  EXPECT_EQ(anonymous.rfind("HTTP/1.1 401", 0), 0u) << "no answer before the body: '" << anonymous << "'";
  close(fd);
  const std::string juror = SendAndRead(
      port,
      absl::StrCat("POST /v1/imports/portfolio HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ", juror_,
                   "\r\nContent-Type: application/x-ndjson\r\nContent-Length: 30000000\r\n\r\n"),
      absl::Seconds(3), &fd);
  EXPECT_EQ(juror.rfind("HTTP/1.1 403", 0), 0u) << "'" << juror << "'";
  close(fd);
  // A refusal of a request without a body keeps the connection for the next one.
  auto r = HttpCall(url_, "DELETE", "/v1/tokens/x", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
}

// Issue 26: token lookups ran on the HTTP io threads behind the store's mutex: a database that
// stalls (here: another connection holds the write lock, as a slow PostgreSQL would) froze
// every connection, /healthz included. They now run on workers.
TEST_F(GatewayHttpTest, AStalledDatabaseDoesNotStallHealthChecks) {
  auto blocker = store::Db::Connect(TokenStoreFixture::url_);
  ASSERT_TRUE(blocker.ok());
  ASSERT_TRUE((*blocker)->Exec("BEGIN IMMEDIATE").ok());  // the juror token's first use must write
  std::vector<std::thread> callers;
  std::atomic<int> answered{0};
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back([&] {
      auto r = HttpCall(url_, "GET", "/v1/challenges", {{"Authorization", "Bearer " + juror_}});
      answered.fetch_add(1);
    });
  }
  absl::SleepFor(absl::Milliseconds(300));  // bounded: the three are now waiting on the database
  EXPECT_EQ(answered.load(), 0) << "the database did not stall the token lookups";
  const absl::Time before = absl::Now();
  auto health = HttpCall(url_, "GET", "/healthz", {});
  const absl::Duration took = absl::Now() - before;
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(took, absl::Seconds(1)) << "/healthz waited " << took << " behind the database";
  ASSERT_TRUE((*blocker)->Exec("ROLLBACK").ok());
  for (auto& t : callers) t.join();
  EXPECT_EQ(answered.load(), 3);
}

// Bodies buffered at once are bounded over all connections: past the budget a sender is told
// 503 + Retry-After from its head, before its body is read; within it, served as usual.
TEST(HttpServerLimits, BodiesInFlightAreBoundedAcrossConnections) {
  auto server = HttpServer::Start(
      {.port = 0, .max_body_bytes_in_flight = 1 << 20},
      [](HttpRequest r, Respond respond) {
        respond(HttpResponse{200, "text/plain", absl::StrCat(r.body.size())});
      },
      LetIn(2 << 20));
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const std::string head = "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 800000\r\n\r\n";
  int first = -1, second = -1;
  EXPECT_EQ(SendAndRead(port, head + std::string(1000, 'a'), absl::Milliseconds(300), &first), "")
      << "the first body is being read";
  const std::string refused = SendAndRead(port, head, absl::Seconds(3), &second);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  close(second);
  const std::string rest(799000, 'a');
  ASSERT_EQ(send(first, rest.data(), rest.size(), MSG_NOSIGNAL), static_cast<ssize_t>(rest.size()));
  pollfd p{first, POLLIN, 0};
  ASSERT_GT(poll(&p, 1, 5000), 0);
  char buf[4096];
  const ssize_t n = recv(first, buf, sizeof buf, 0);
  const std::string answer(buf, n > 0 ? static_cast<size_t>(n) : 0);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("800000"), std::string::npos) << answer;
  close(first);
  // Answered: its share is given back, the next body is read.
  auto r = HttpCall(absl::StrCat("http://127.0.0.1:", port), "POST", "/up", {}, std::string(800000, 'b'));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace pep::gateway
