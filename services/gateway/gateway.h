// pep-gateway: REST/JSON in front of the gRPC services. Dispatch lives here — match the route,
// authenticate the caller (bearer token, or a person's session cookie with a same-origin check
// on changes), check role and scope, then hand the request to the route's handler. Sign-in
// itself (/auth/*) is web_signin.h. The table of routes is routes.cc; transcoding transcode.h; backend calls calls.h;
// the trusted-proxy rules client_address.h; the console's files static_files.h.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "boost/asio/thread_pool.hpp"
#include "services/gateway/backends.h"
#include "services/gateway/client_address.h"
#include "services/gateway/http_metrics.h"
#include "services/gateway/http_server.h"
#include "services/gateway/router.h"
#include "services/gateway/signin_store.h"
#include "services/gateway/static_files.h"
#include "services/gateway/tokens.h"
#include "services/gateway/transcode.h"
#include "services/gateway/web_signin.h"

namespace pep::gateway {


struct GatewayOptions {
  BackendAddresses backends;
  std::string gateway_key;     // sent to services as x-pep-gateway-key
  std::string client_ip_salt;  // pep-feedback's client key = SHA-256(salt || client /24 or /64)
  std::string console_dir;     // static files of the web console
  TrustedProxies trusted_proxies;
  absl::Duration default_deadline = absl::Seconds(10);
  absl::Duration max_deadline = absl::Seconds(60);
  absl::Duration export_deadline = absl::Minutes(10);
  size_t max_body_bytes = 1 << 20;  // routes without a limit of their own
  int max_backend_in_flight = 4096;  // per service; past it 503 + Retry-After
  bool tls = false;                  // HSTS on the answers, Secure on what needs it
  WebSignInOptions signin;           // OpenID Connect sign-in (off without an issuer)
  // How long the published start-ups' list serves the public pages and open data before it is
  // asked again (a publication through this gateway refreshes it at once); zero: every time.
  absl::Duration public_list_max_age = absl::Seconds(1);
};

// A signed-in person as a caller: agent, plus each active grant (coordinator; juror; product_team
// with the start-up's scope).
Caller PersonCaller(const Account& a);
// Whether `creator` may hand a token of `role`/`scope` (a token never exceeds its creator).
absl::Status MayIssue(const Caller& creator, const std::string& role, const std::string& scope);

class Gateway {
 public:
  // `accounts`: people's accounts, grants and sessions (nullptr: bearer tokens only).
  Gateway(GatewayOptions options, TokenStore& tokens, HttpMetrics& metrics,
          prometheus::Registry* registry = nullptr, SignInStore* accounts = nullptr);
  // The server's first step, from the head alone: health, OpenAPI, static files and sign-in
  // pages are let in at once; an API request is matched and its caller authenticated (on a
  // worker: tokens and sessions live in the database) before any byte of its body is read —
  // a refusal is answered from the head.
  void Admit(HttpRequest head, std::function<void(HttpServer::Admission)> done);
  // Answers through `respond` (from any thread): a request Admit let in, or (tests) any request.
  void Handle(HttpRequest req, Respond respond);
  // The body limit for a request whose head has been read.
  size_t BodyLimit(const HttpRequest& head) const;
  const std::vector<Route>& routes() const { return routes_; }
  WebSignIn* web_signin() { return web_.get(); }
  std::string OpenApi() const;
  Backends& backends() { return backends_; }
  // Draining: /readyz answers 503 so a load balancer stops sending new requests.
  void SetDraining() { draining_ = true; }

 private:
  void BuildRoutes();
  void BuildNotifyRoutes();  // routes_notify.cc
  void BuildIdeaFlowRoutes();  // routes_ideas.cc
  void BuildPublicRoutes();  // routes_public.cc: open data
  void BuildFactRoutes();  // routes_facts.cc: public facts and their proofs
  void BuildSteeringRoutes();  // routes_steering.cc: indicators, committees, pre-reads (issue 31)
  void BuildButtonRoutes();  // routes_button.cc: « Je donne mon avis », its images and placements
  // Synchronous answers (health, OpenAPI, static files, refusals), or nullopt with `*route`
  // and `*call` set for the handler.
  std::optional<HttpResponse> Dispatch(HttpRequest& req, const Route** route,
                                       std::shared_ptr<RouteCall>* call, std::string* label);
  absl::StatusOr<Caller> Authenticate(const HttpRequest& req);
  absl::StatusOr<Caller> TokenCaller(const std::string& secret);
  absl::Status MakerStillHolds(const Token& t);
  HttpResponse Ready(const HttpRequest& req) const;

  GatewayOptions options_;
  TokenStore& tokens_;
  SignInStore* accounts_;
  HttpMetrics& metrics_;
  Backends backends_;
  std::unique_ptr<WebSignIn> web_;
  StaticFiles static_files_;
  std::vector<Route> routes_;
  std::string openapi_;  // OpenApi() of routes_, served at /openapi.json
  std::atomic<bool> draining_{false};
  // Database work (tokens, sessions, sign-ins) and route handlers run here, never on the HTTP
  // io threads: a slow database must not stall /healthz or the other connections. Last: it
  // stops (joining what runs) before the members its tasks use are destroyed.
  boost::asio::thread_pool workers_{4};
};

}  // namespace pep::gateway
