#include "services/gateway/gateway.h"

#include <set>

#include "boost/asio/post.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"
#include "services/gateway/calls.h"

namespace pep::gateway {

Caller PersonCaller(const Account& a) {
  Caller c{.actor = a.id, .roles = kAgent, .via = "session", .account_id = a.id};
  for (const GrantRow& g : a.grants) {
    if (g.role == "coordinator") c.roles |= kCoordinator;
    if (g.role == "juror") c.roles |= kJuror;
    if (g.role == "product_team") {
      c.roles |= kProductTeam;
      c.scopes.push_back(g.scope);
    }
  }
  return c;
}

absl::Status MayIssue(const Caller& creator, const std::string& role, const std::string& scope) {
  if (creator.Has(kCoordinator)) return absl::OkStatus();
  if (role == "product_team" && scope.rfind("startup:", 0) == 0 &&
      creator.CoversStartup(scope.substr(8))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "role: a token never carries more than its creator has; ", creator.actor, " (",
      RoleNames(creator.roles), ") may not hand out ", role, scope.empty() ? "" : " on ", scope));
}

Gateway::Gateway(GatewayOptions options, TokenStore& tokens, HttpMetrics& metrics,
                 prometheus::Registry* registry, SignInStore* accounts)
    : options_(std::move(options)),
      tokens_(tokens),
      accounts_(accounts),
      metrics_(metrics),
      backends_(options_.backends, options_.max_backend_in_flight, registry),
      static_files_(options_.console_dir) {
  if (accounts_ != nullptr) {
    WebSignInOptions w = options_.signin;
    w.gateway_key = options_.gateway_key;
    web_ = std::make_unique<WebSignIn>(std::move(w), *accounts_, backends_);
  }
  BuildRoutes();
  openapi_ = OpenApi();  // the routes are fixed from here on: the document is made once
}

namespace {

// What a token lets its bearer be (its maker still to be checked).
Caller CallerOf(const Token& t) {
  Caller c{.actor = t.actor, .roles = RoleOf(t.role), .via = "token",
           .account_id = t.created_by_account, .token_id = t.id};
  if (!t.scope.empty()) c.scopes.push_back(t.scope);
  return c;
}

}  // namespace

absl::StatusOr<Caller> Gateway::TokenCaller(const std::string& secret) {
  auto t = tokens_.Authenticate(secret);
  if (!t.ok()) return t.status();
  PEP_RETURN_IF_ERROR(MakerStillHolds(*t));
  return CallerOf(*t);
}

// A token holds only while whoever made it still holds what it carries, checked at each use:
// a signed-in person (their grants now), or a token (alive, and in turn held by its maker).
absl::Status Gateway::MakerStillHolds(const Token& t) {
  const Token* made = &t;
  Token maker;
  // Only coordinator tokens make tokens, so a chain is short; the bound stops a cycle cold.
  for (int depth = 0; depth < 16; ++depth) {
    if (!made->created_by_account.empty()) {
      if (accounts_ == nullptr) return absl::UnauthenticatedError("token: its creator's account is unknown here");
      auto creator = accounts_->GetAccount(made->created_by_account);
      if (!creator.ok()) return absl::UnauthenticatedError("token: its creator's account is gone");
      if (!MayIssue(PersonCaller(*creator), t.role, t.scope).ok()) {
        return absl::UnauthenticatedError(absl::StrCat("token: its creator no longer holds ", t.role, " ", t.scope));
      }
      return absl::OkStatus();
    }
    if (made->created_by_token.empty()) return absl::OkStatus();  // bootstrap or a coordinator's shell
    auto m = tokens_.Get(made->created_by_token);
    if (!m.ok()) return absl::UnauthenticatedError("token: the token that made it is gone");
    maker = std::move(*m);
    if (maker.revoked || maker.expires_at <= absl::Now()) {
      return absl::UnauthenticatedError(absl::StrCat("token: the token that made it (", maker.id,
                                                     ") is revoked or expired"));
    }
    if (!MayIssue(CallerOf(maker), t.role, t.scope).ok()) {
      return absl::UnauthenticatedError(absl::StrCat("token: the token that made it no longer holds ", t.role));
    }
    made = &maker;
  }
  return absl::UnauthenticatedError("token: made by too long a chain of tokens");
}

absl::StatusOr<Caller> Gateway::Authenticate(const HttpRequest& req) {
  const std::string* auth = req.Header("authorization");
  if (auth != nullptr && !auth->empty()) {  // machines: CSRF-free, nothing ambient
    const std::string kBearer = "Bearer ";
    if (!absl::StartsWithIgnoreCase(*auth, kBearer)) {
      return absl::UnauthenticatedError("Authorization: expected 'Bearer <token>'");
    }
    return TokenCaller(std::string(absl::StripAsciiWhitespace(auth->substr(kBearer.size()))));
  }
  if (web_ == nullptr) return Caller{};
  const std::string secret = web_->SessionCookie(req);
  if (secret.empty()) return Caller{};
  auto live = accounts_->Authenticate(secret);
  // A stale cookie (signed out, idle, past 12 h) is nobody: the public form still works, and a
  // page that needs someone answers 401, which sends the console to its sign-in.
  if (!live.ok()) return Caller{};
  // A cookie rides along with any site's form: a change must come from this site's pages.
  if (req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS") {
    PEP_RETURN_IF_ERROR(CheckSameOrigin(req, web_->origin()));
  }
  Caller c = PersonCaller(live->account);
  c.person = std::make_shared<const Account>(std::move(live->account));
  return c;
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

namespace {

// Whether a body follows the head (or came with it, for requests built in tests).
bool HasBody(const HttpRequest& req) {
  if (!req.body.empty() || req.Header("transfer-encoding") != nullptr) return true;
  const std::string* n = req.Header("content-length");
  return n != nullptr && *n != "0";
}

// What Admit decided for an API request, carried to Handle in HttpRequest::admitted.
struct AdmittedCall {
  std::shared_ptr<RouteCall> call;
  std::string label;  // the route's pattern, for the metrics
  absl::Time start;
};

// The public pages the gateway writes (issue 30): /startups, /statistiques, and /startups/<id>
// for a published start-up's id — the console's own start-up pages are /startups/<uuid>.
bool IsPublicPage(const std::string& path) {
  if (path == "/startups" || path == "/statistiques") return true;
  if (!absl::StartsWith(path, "/startups/")) return false;
  const std::string rest = path.substr(10);
  return !rest.empty() && rest.find('/') == std::string::npos && !IsUuid(rest);
}

bool IsApi(const HttpRequest& req) {
  return absl::StartsWithIgnoreCase(req.path, "/v1") || absl::StartsWith(req.path, "/ledger/") ||
         absl::StartsWith(req.path, "/api/") ||  // open data in beta.gouv.fr's format (/api/v2.7/…)
         IsPublicPage(req.path);
}

}  // namespace

void Gateway::Admit(HttpRequest head, std::function<void(HttpServer::Admission)> done) {
  if (!IsApi(head)) {  // nobody to authenticate (sign-in pages do their own work in Handle)
    const size_t limit = BodyLimit(head);
    return done({std::move(head), limit, std::nullopt});
  }
  // A token or a session is looked up in the database: on a worker. Nobody (the public form,
  // public pages) needs no lookup: decided here, without a thread hop.
  const bool lookup = head.Header("authorization") != nullptr ||
                      (web_ != nullptr && !web_->SessionCookie(head).empty());
  auto admit = [this, head = std::move(head), done = std::move(done)]() mutable {
    const absl::Time start = absl::Now();
    head.client_addr = ClientAddress(head, options_.trusted_proxies);
    const std::string method = head.method;
    const Route* route = nullptr;
    std::shared_ptr<RouteCall> call;
    std::string label = "unmatched";
    if (std::optional<HttpResponse> now = Dispatch(head, &route, &call, &label)) {
      metrics_.Observe(label, method, now->status, absl::ToDoubleSeconds(absl::Now() - start));
      return done({HttpRequest{}, 0, std::move(now)});
    }
    HttpRequest carrier;
    carrier.admitted = AdmittedCall{call, label, start};
    done({std::move(carrier), route->max_body_bytes > 0 ? route->max_body_bytes : options_.max_body_bytes,
          std::nullopt});
  };
  if (!lookup) return admit();
  boost::asio::post(workers_, std::move(admit));
}

void Gateway::Handle(HttpRequest req, Respond respond) {
  auto observe = [this](std::string label, std::string method, absl::Time start, Respond respond) -> Respond {
    return [this, label = std::move(label), method = std::move(method), start,
            respond = std::move(respond)](HttpResponse r) {
      metrics_.Observe(label, method, r.status, absl::ToDoubleSeconds(absl::Now() - start));
      respond(std::move(r));
    };
  };
  if (const AdmittedCall* a = std::any_cast<AdmittedCall>(&req.admitted)) {
    a->call->req.body = std::move(req.body);
    Respond observed = observe(a->label, a->call->req.method, a->start, std::move(respond));
    // A route that forwards to a service only starts an asynchronous call: here. One that works
    // on the gateway's own database (tokens, accounts): on a worker.
    if (a->call->route->backend != nullptr) return a->call->route->handler(a->call, std::move(observed));
    boost::asio::post(workers_, [call = a->call, observed = std::move(observed)]() mutable {
      call->route->handler(std::move(call), std::move(observed));
    });
    return;
  }
  const absl::Time start = absl::Now();
  req.client_addr = ClientAddress(req, options_.trusted_proxies);
  // Sign-in pages are the sign-in's own; a fixed label set (any other /auth/… path is one label).
  if (web_ != nullptr && absl::StartsWith(req.path, "/auth/")) {
    const bool known = req.path == "/auth/login" || req.path == "/auth/callback" || req.path == "/auth/logout";
    Respond observed = observe(known ? req.path : "/auth/other", req.method, start, std::move(respond));
    return web_->Handle(std::move(req), std::move(observed));  // on the sign-in's own threads
  }
  if (!IsApi(req)) {  // health, OpenAPI, static files: answered here, no I/O
    const Route* route = nullptr;
    std::shared_ptr<RouteCall> call;
    std::string label = "unmatched";
    std::optional<HttpResponse> now = Dispatch(req, &route, &call, &label);
    return observe(label, req.method, start, std::move(respond))(std::move(*now));
  }
  // An API request nobody admitted (tests that drive Handle alone): admitted now, then handled.
  Admit(std::move(req), [this, respond = std::move(respond)](HttpServer::Admission a) mutable {
    if (a.answer) return respond(std::move(*a.answer));
    Handle(std::move(a.request), std::move(respond));
  });
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
    return HttpResponse{200, "application/json; charset=utf-8", openapi_};
  }
  // /v1: the API; /ledger/: the log's C2SP resources (issue 14); /api/: open data (issue 30);
  // anything else is the console.
  if (!IsApi(req)) {
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
  std::set<std::string> allowed;  // the path's methods, for a 405's Allow header
  for (const Route& route : routes_) {
    auto params = Match(route.pattern, req.path);
    if (!params) continue;
    allowed.insert(route.method);
    if (route.method != method) continue;
    *label = route.pattern;
    auto caller = Authenticate(req);
    if (!caller.ok()) return ErrorResponse(caller.status());
    if ((route.roles & caller->roles) == 0) {
      if (caller->roles == kPublic) {
        return ErrorResponse(grpc::StatusCode::UNAUTHENTICATED,
                             "this needs a sign-in (/auth/login) or a token: Authorization: Bearer <token>");
      }
      return ErrorResponse(grpc::StatusCode::PERMISSION_DENIED,
                           absl::StrCat("the ", RoleNames(caller->roles), " role may not ",
                                        route.method, " ", route.pattern));
    }
    for (const auto& [name, value] : *params) {
      if (!PathIdOk(route, name, value)) {
        return ErrorResponse(grpc::StatusCode::INVALID_ARGUMENT,
                             absl::StrCat(name, ": '", ValidUtf8(value.substr(0, 64)), "' is not an id (a UUID",
                                          route.slug_ok ? " or a slug" : "", ")"));
      }
    }
    // A start-up's own pages: coordinators, or its team (public routes, such as the feedback
    // form, are anyone's).
    if (auto it = params->find("startup_id"); it != params->end() && (route.roles & kPublic) == 0 &&
                                              !caller->CoversStartup(it->second)) {
      return ErrorResponse(grpc::StatusCode::PERMISSION_DENIED,
                           absl::StrCat("start-up '", it->second, "' is outside this caller's scope (",
                                        absl::StrJoin(caller->scopes, ","), ")"));
    }
    if (route.body == Body::kJson && HasBody(req)) {
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
  if (!allowed.empty()) {
    if (allowed.count("GET")) allowed.insert("HEAD");
    const std::string allow = absl::StrJoin(allowed, ", ");
    HttpResponse r = ErrorResponse(grpc::StatusCode::UNIMPLEMENTED,
                                   absl::StrCat(req.method, " is not allowed on ", req.path, " (allowed: ", allow, ")"));
    r.status = 405;
    r.headers["Allow"] = allow;
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
