#include "services/gateway/gateway.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "services/gateway/calls.h"

namespace pep::gateway {

Gateway::Gateway(GatewayOptions options, TokenStore& tokens, HttpMetrics& metrics,
                 prometheus::Registry* registry)
    : options_(std::move(options)),
      tokens_(tokens),
      metrics_(metrics),
      backends_(options_.backends, options_.max_backend_in_flight, registry),
      static_files_(options_.console_dir) {
  BuildRoutes();
}

absl::StatusOr<Caller> Gateway::Authenticate(const HttpRequest& req) {
  const std::string* auth = req.Header("authorization");
  if (auth == nullptr || auth->empty()) return Caller{};
  const std::string kBearer = "Bearer ";
  if (!absl::StartsWithIgnoreCase(*auth, kBearer)) {
    return absl::UnauthenticatedError("Authorization: expected 'Bearer <token>'");
  }
  auto t = tokens_.Authenticate(
      std::string(absl::StripAsciiWhitespace(auth->substr(kBearer.size()))));
  if (!t.ok()) return t.status();
  return Caller{t->actor, RoleOf(t->role), t->scope};
}

size_t Gateway::BodyLimit(const HttpRequest& head) const {
  const std::string& method = head.method == "HEAD" ? std::string("GET") : head.method;
  for (const Route& route : routes_) {
    if (route.method == method && route.max_body_bytes > 0 && Match(route.pattern, head.path)) {
      return route.max_body_bytes;
    }
  }
  return options_.max_body_bytes;
}

void Gateway::Handle(HttpRequest req, Respond respond) {
  const absl::Time start = absl::Now();
  req.client_addr = ClientAddress(req, options_.trusted_proxies);
  const Route* route = nullptr;
  std::shared_ptr<RouteCall> call;
  std::string label = "unmatched";
  std::optional<HttpResponse> now = Dispatch(req, &route, &call, &label);
  Respond observed = [this, label, method = req.method, start,
                      respond = std::move(respond)](HttpResponse r) {
    metrics_.Observe(label, method, r.status, absl::ToDoubleSeconds(absl::Now() - start));
    respond(std::move(r));
  };
  if (now) return observed(std::move(*now));
  route->handler(std::move(call), std::move(observed));
}

std::optional<HttpResponse> Gateway::Dispatch(HttpRequest& req, const Route** out_route,
                                              std::shared_ptr<RouteCall>* out_call,
                                              std::string* label) {
  if (req.path == "/healthz") {
    *label = "/healthz";
    return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  }
  if (req.path == "/readyz") {
    *label = "/readyz";
    return Ready(req);
  }
  if (req.path == "/openapi.json") {
    *label = "/openapi.json";
    return HttpResponse{200, "application/json; charset=utf-8", OpenApi()};
  }
  const bool api = absl::StartsWithIgnoreCase(req.path, "/v1");
  if (!api) {
    *label = "static";
    return static_files_.Serve(req);
  }
  // Routes match segment by segment on the decoded path: an encoded '/' or an empty segment
  // would let a path reach a route it does not name, so neither reaches one.
  if (absl::StrContains(req.raw_path, "%2f") || absl::StrContains(req.raw_path, "%2F") || absl::StrContains(req.path, "//") ||
      req.path.find('\0') != std::string::npos) {
    return ErrorResponse(grpc::StatusCode::NOT_FOUND,
                         absl::StrCat("no route for ", req.raw_path,
                                      " (an encoded '/' or an empty segment names no route)"));
  }
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  bool path_known = false;
  for (const Route& route : routes_) {
    auto params = Match(route.pattern, req.path);
    if (!params) continue;
    path_known = true;
    if (route.method != method) continue;
    *label = route.pattern;
    auto caller = Authenticate(req);
    if (!caller.ok()) return ErrorResponse(caller.status());
    if ((route.roles & caller->role) == 0) {
      if (caller->role == kPublic) {
        return ErrorResponse(grpc::StatusCode::UNAUTHENTICATED,
                             "this needs a token: Authorization: Bearer <token>");
      }
      return ErrorResponse(grpc::StatusCode::PERMISSION_DENIED,
                           absl::StrCat("the ", RoleName(caller->role), " role may not ",
                                        route.method, " ", route.pattern));
    }
    if (caller->role == kProductTeam) {  // a product team sees its own start-up only
      auto it = params->find("startup_id");
      const std::string own =
          caller->scope.rfind("startup:", 0) == 0 ? caller->scope.substr(8) : "";
      if (it != params->end() && it->second != own) {
        return ErrorResponse(grpc::StatusCode::PERMISSION_DENIED,
                             absl::StrCat("this token is scoped to start-up '", own, "'"));
      }
    }
    if (route.body == Body::kJson && !req.body.empty()) {
      const std::string* ct = req.Header("content-type");
      if (ct == nullptr || !absl::StartsWithIgnoreCase(*ct, "application/json")) {
        HttpResponse r = ErrorResponse(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("body: expected Content-Type application/json (got ",
                         ct == nullptr ? "none" : *ct, ")"));
        r.status = 415;
        return r;
      }
    }
    auto call = std::make_shared<RouteCall>();
    call->meta = {.deadline = DeadlineOf(req, options_.default_deadline, options_.max_deadline),
                  .caller = *caller,
                  .gateway_key = options_.gateway_key,
                  // Only pep-feedback keys anything on the client (rate limits, idempotency).
                  .client_key = route.backend == &backends_.feedback
                                    ? ClientKey(options_.client_ip_salt, req.client_addr)
                                    : ""};
    call->export_deadline = DeadlineOf(req, options_.export_deadline, options_.export_deadline);
    call->caller = std::move(*caller);
    call->params = std::move(*params);
    call->route = &route;
    call->req = std::move(req);
    *out_route = &route;
    *out_call = std::move(call);
    return std::nullopt;
  }
  if (path_known) {
    HttpResponse r = ErrorResponse(grpc::StatusCode::UNIMPLEMENTED,
                                   absl::StrCat(req.method, " is not allowed on ", req.path));
    r.status = 405;
    return r;
  }
  return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no route for ", req.path));
}

// The gateway itself: ready unless draining. Backends are reported (and routes degrade one by
// one), but one service restarting must not take the public form out of a load balancer.
HttpResponse Gateway::Ready(const HttpRequest& req) const {
  const bool verbose = req.query.count("verbose") > 0;
  std::string body = draining_ ? "draining\n" : "ready\n";
  if (verbose) {
    for (const Backend* b : backends_.all()) {
      absl::StrAppend(&body, b->name(), ": ", b->healthy() ? "up" : "DOWN", "\n");
    }
  }
  return HttpResponse{draining_ ? 503 : 200, "text/plain; charset=utf-8", body};
}

}  // namespace pep::gateway
