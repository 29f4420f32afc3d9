#include "services/gateway/gateway.h"


#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "pepiniere/gateway/v1/gateway.pb.h"

namespace pep::gateway {

namespace iv1 = ::pepiniere::ideas::v1;
namespace nv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;
namespace av1 = ::pepiniere::audit::v1;
namespace gv1 = ::pepiniere::gateway::v1;
using google::protobuf::Message;

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::FAILED_PRECONDITION: return 400;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::CANCELLED: return 499;
    default: return 500;
  }
}

namespace {

std::string ToJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

HttpResponse Json(int status, const Message& m) {
  HttpResponse r;
  r.status = status;
  r.body = ToJson(m);
  return r;
}

}  // namespace

HttpResponse ErrorResponse(grpc::StatusCode code, const std::string& message) {
  gv1::Error e;
  e.set_code(static_cast<int>(code));
  e.set_message(message);
  return Json(HttpStatusOf(code), e);
}

namespace {

HttpResponse FromStatus(const grpc::Status& s) {
  HttpResponse r = ErrorResponse(s.error_code(), s.error_message());
  if (!s.error_details().empty()) {  // google.rpc.Status bytes from the service, kept as base64
    gv1::Error e;
    e.set_code(s.error_code());
    e.set_message(s.error_message());
    e.add_details(absl::Base64Escape(s.error_details()));
    r.body = ToJson(e);
  }
  return r;
}

HttpResponse FromAbsl(const absl::Status& s) {
  return ErrorResponse(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// The request body as `m`: unknown fields refused, errors a person can read. (Dispatch has
// already answered 415 to a JSON route given another content type.)
absl::Status ParseBody(const HttpRequest& req, Message* m) {
  if (req.body.empty()) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(req.body, m, o);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("body: not a valid ", m->GetDescriptor()->name(),
                                                   " (", std::string(s.message()), ")"));
  }
  return absl::OkStatus();
}

// Query parameters as `m`'s fields (by proto or JSON name); "true"/"false" as booleans.
absl::Status ParseQuery(const HttpRequest& req, Message* m) {
  if (req.query.empty()) return absl::OkStatus();
  std::string json = "{";
  bool first = true;
  for (const auto& [k, v] : req.query) {
    if (!first) json += ",";
    first = false;
    absl::StrAppend(&json, "\"", JsonEscape(k), "\":");
    int64_t n;
    const auto* f = m->GetDescriptor()->FindFieldByName(k);
    const bool numeric = f != nullptr && f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING &&
                         f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_ENUM &&
                         f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
                         absl::SimpleAtoi(v, &n);
    if (v == "true" || v == "false" || numeric) {
      json += v;
    } else {
      absl::StrAppend(&json, "\"", JsonEscape(v), "\"");
    }
  }
  json += "}";
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(json, m, o);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: ", std::string(s.message())));
  }
  return absl::OkStatus();
}

// Path parameters into same-named string fields (or renamed ones: {"startup_id": "id"}).
void BindParams(const PathParams& params, const std::map<std::string, std::string>& rename,
                Message* m) {
  for (const auto& [name, value] : params) {
    auto it = rename.find(name);
    const std::string field = it == rename.end() ? name : it->second;
    const auto* f = m->GetDescriptor()->FindFieldByName(field);
    if (f != nullptr && f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING &&
        !f->is_repeated()) {
      m->GetReflection()->SetString(m, f, value);
    }
  }
}

// "Grpc-Timeout: 5S" (grpc-gateway's header) or the default; never above the maximum.
absl::Duration DeadlineOf(const HttpRequest& req, const GatewayOptions& o) {
  const std::string* h = req.Header("grpc-timeout");
  absl::Duration d = o.default_deadline;
  if (h != nullptr && h->size() >= 2) {
    int64_t n;
    if (absl::SimpleAtoi(h->substr(0, h->size() - 1), &n) && n > 0) {
      switch (h->back()) {
        case 'H': d = absl::Hours(n); break;
        case 'M': d = absl::Minutes(n); break;
        case 'S': d = absl::Seconds(n); break;
        case 'm': d = absl::Milliseconds(n); break;
        case 'u': d = absl::Microseconds(n); break;
        case 'n': d = absl::Nanoseconds(n); break;
        default: break;
      }
    }
  }
  return std::min(d, o.max_deadline);
}

struct CallSetup {
  const GatewayOptions* options;
  const HttpRequest* req;
  const Caller* caller;
};

void Prepare(grpc::ClientContext& ctx, const CallSetup& c) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + DeadlineOf(*c.req, *c.options)));
  // Always an actor: a service in --insecure_dev would take a call without one for "dev".
  ctx.AddMetadata("x-pep-actor", c.caller->actor.empty() ? "public" : c.caller->actor);
  ctx.AddMetadata("x-pep-roles", RoleName(c.caller->role));
  if (!c.caller->scope.empty()) ctx.AddMetadata("x-pep-scope", c.caller->scope);
  if (!c.options->gateway_key.empty()) ctx.AddMetadata("x-pep-gateway-key", c.options->gateway_key);
  ctx.AddMetadata("x-pep-client-key", Sha256Hex(c.options->client_ip_salt + c.req->remote_addr));
}

// A server-streaming call relayed as a chunked HTTP body. The first message (or the end) is
// read before answering, so an error that comes first — not found, refused — is still a proper
// status; an error after that can only cut the body short (and is logged).
template <typename M>
struct StreamCall {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<M>> reader;
};

template <typename M>
HttpResponse Stream(std::shared_ptr<StreamCall<M>> call, std::string content_type,
                    std::function<std::string(const M&)> render) {
  auto first = std::make_shared<M>();
  if (!call->reader->Read(first.get())) {
    grpc::Status s = call->reader->Finish();
    if (!s.ok()) return FromStatus(s);
    HttpResponse empty;
    empty.content_type = std::move(content_type);
    return empty;
  }
  HttpResponse r;
  r.content_type = std::move(content_type);
  r.produce = [call, first, render](const HttpResponse::Writer& write) {
    bool open = write(render(*first));
    M next;
    while (open && call->reader->Read(&next)) open = write(render(next));
    if (!open) call->ctx.TryCancel();  // the client went away
    grpc::Status s = call->reader->Finish();
    if (!s.ok() && open) {
      LogWarn("export cut short", {{"error", s.error_message()}});
    }
  };
  return r;
}

template <typename Req, typename Resp>
struct UnaryOptions {
  std::map<std::string, std::string> rename;  // path parameter -> request field
  int ok_status = 200;
  // Before the call, e.g. an agent's listing narrowed to their own ideas.
  std::function<absl::Status(const Caller&, const PathParams&, Req&)> before;
  // After it, e.g. an agent may read only their own idea.
  std::function<absl::Status(const Caller&, const Resp&)> after;
};

template <typename Stub, typename Req, typename Resp>
RouteHandler Unary(const GatewayOptions* options, Stub* stub,
                   grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                   UnaryOptions<Req, Resp> uo = {}) {
  return [=](const Route& route, const HttpRequest& req, const Caller& caller,
             const PathParams& params) -> HttpResponse {
    Req in;
    absl::Status parsed = route.body == Body::kJson ? ParseBody(req, &in) : ParseQuery(req, &in);
    if (!parsed.ok()) return FromAbsl(parsed);
    BindParams(params, uo.rename, &in);
    if (uo.before) {
      absl::Status s = uo.before(caller, params, in);
      if (!s.ok()) return FromAbsl(s);
    }
    grpc::ClientContext ctx;
    Prepare(ctx, {options, &req, &caller});
    Resp out;
    grpc::Status s = (stub->*rpc)(&ctx, in, &out);
    if (!s.ok()) return FromStatus(s);
    if (uo.after) {
      absl::Status a = uo.after(caller, out);
      if (!a.ok()) return FromAbsl(a);
    }
    return Json(uo.ok_status, out);
  };
}

}  // namespace

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("pep_http_requests_total")
                    .Help("HTTP requests by route pattern, method and status code")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("pep_http_request_duration_seconds")
                    .Help("HTTP request latency by route pattern and method")
                    .Register(registry)) {}

void HttpMetrics::Observe(const std::string& route, const std::string& method, int code,
                          double seconds) {
  const std::string key = absl::StrCat(route, " ", method);
  const std::string ckey = absl::StrCat(key, " ", code);
  prometheus::Counter* c;
  prometheus::Histogram* h;
  {
    absl::MutexLock l(&mu_);
    auto& cc = counters_[ckey];
    if (cc == nullptr) {
      cc = &requests_.Add({{"route", route}, {"method", method}, {"code", absl::StrCat(code)}});
    }
    auto& hh = histograms_[key];
    if (hh == nullptr) {
      hh = &duration_.Add({{"route", route}, {"method", method}},
                          prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                  0.25, 0.5, 1, 2.5, 5, 10});
    }
    c = cc;
    h = hh;
  }
  c->Increment();
  h->Observe(seconds);
}

Gateway::Gateway(GatewayOptions options, TokenStore& tokens, HttpMetrics& metrics)
    : options_(std::move(options)), tokens_(tokens), metrics_(metrics) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  auto channel = [&](const std::string& addr) {
    return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
  };
  ideas_ch_ = channel(options_.backends.ideas);
  incubation_ch_ = channel(options_.backends.incubation);
  feedback_ch_ = channel(options_.backends.feedback);
  audit_ch_ = channel(options_.backends.audit);
  ideas_ = iv1::IdeaService::NewStub(ideas_ch_);
  incubation_ = nv1::IncubationService::NewStub(incubation_ch_);
  feedback_ = fv1::FeedbackService::NewStub(feedback_ch_);
  audit_ = av1::AuditService::NewStub(audit_ch_);
  BuildRoutes();
}

absl::StatusOr<Caller> Gateway::Authenticate(const HttpRequest& req) {
  const std::string* auth = req.Header("authorization");
  if (auth == nullptr || auth->empty()) return Caller{};
  const std::string kBearer = "Bearer ";
  if (!absl::StartsWithIgnoreCase(*auth, kBearer)) {
    return absl::UnauthenticatedError("Authorization: expected 'Bearer <token>'");
  }
  auto t = tokens_.Authenticate(std::string(absl::StripAsciiWhitespace(auth->substr(kBearer.size()))));
  if (!t.ok()) return t.status();
  return Caller{t->actor, RoleOf(t->role), t->scope};
}

HttpResponse Gateway::Handle(const HttpRequest& req) {
  const absl::Time start = absl::Now();
  std::string label = "unmatched";
  HttpResponse r = Dispatch(req, &label);
  metrics_.Observe(label, req.method, r.status, absl::ToDoubleSeconds(absl::Now() - start));
  return r;
}

HttpResponse Gateway::Dispatch(const HttpRequest& req, std::string* label) {
  if (req.path == "/healthz") {
    *label = "/healthz";
    return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  }
  if (req.path == "/readyz") {
    *label = "/readyz";
    return Ready();
  }
  if (req.path == "/openapi.json") {
    *label = "/openapi.json";
    return HttpResponse{200, "application/json; charset=utf-8", OpenApi()};
  }
  if (!absl::StartsWith(req.path, "/v1/")) {
    *label = "static";
    return Static(req);
  }
  bool path_known = false;
  for (const Route& route : routes_) {
    auto params = Match(route.pattern, req.path);
    if (!params) continue;
    path_known = true;
    if (route.method != req.method) continue;
    *label = route.pattern;
    auto caller = Authenticate(req);
    if (!caller.ok()) return FromAbsl(caller.status());
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
      const std::string own = caller->scope.rfind("startup:", 0) == 0 ? caller->scope.substr(8) : "";
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
    return route.handler(route, req, *caller, *params);
  }
  if (path_known) {
    HttpResponse r = ErrorResponse(grpc::StatusCode::UNIMPLEMENTED,
                                   absl::StrCat(req.method, " is not allowed on ", req.path));
    r.status = 405;
    return r;
  }
  return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no route for ", req.path));
}

HttpResponse Gateway::Ready() {
  std::vector<std::string> down;
  const std::pair<const char*, std::shared_ptr<grpc::Channel>> backends[] = {
      {"pep-ideas", ideas_ch_}, {"pep-incubation", incubation_ch_},
      {"pep-feedback", feedback_ch_}, {"pep-audit", audit_ch_}};
  for (const auto& [name, ch] : backends) {
    auto health = grpc::health::v1::Health::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    grpc::health::v1::HealthCheckRequest rq;
    grpc::health::v1::HealthCheckResponse rs;
    if (!health->Check(&ctx, rq, &rs).ok() ||
        rs.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      down.push_back(name);
    }
  }
  if (down.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
  return HttpResponse{503, "text/plain; charset=utf-8",
                      absl::StrCat("not ready: ", absl::StrJoin(down, ", "), "\n")};
}

HttpResponse Gateway::Static(const HttpRequest& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no route for ", req.path));
  }
  std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
  if (absl::StrContains(rel, "..") || rel.empty()) {
    return ErrorResponse(grpc::StatusCode::NOT_FOUND, "no such file");
  }
  // Unknown paths without an extension are console pages (client-side routing).
  if (rel.find('.') == std::string::npos) rel = "index.html";
  std::ifstream f(options_.console_dir + "/" + rel, std::ios::binary);
  if (!f) return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no such file: ", rel));
  HttpResponse r;
  r.body.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  r.content_type = absl::EndsWith(rel, ".html") ? "text/html; charset=utf-8"
                   : absl::EndsWith(rel, ".js") ? "text/javascript; charset=utf-8"
                   : absl::EndsWith(rel, ".css") ? "text/css; charset=utf-8"
                   : absl::EndsWith(rel, ".svg") ? "image/svg+xml"
                                                 : "application/octet-stream";
  r.headers["Cache-Control"] = "no-cache";
  r.headers["Content-Security-Policy"] =
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";
  return r;
}

void Gateway::BuildRoutes() {
  const GatewayOptions* o = &options_;
  auto* ideas = ideas_.get();
  auto* inc = incubation_.get();
  auto* fb = feedback_.get();
  auto* audit = audit_.get();
  constexpr unsigned C = kCoordinator, J = kJuror, T = kProductTeam, A = kAgent;
  auto add = [this](std::string method, std::string pattern, unsigned roles, std::string summary,
                    Body body, const google::protobuf::Descriptor* request,
                    const google::protobuf::Descriptor* response, RouteHandler h,
                    std::string response_type = "application/json") {
    routes_.push_back(Route{std::move(method), std::move(pattern), roles, std::move(summary), body,
                            request, response, std::move(response_type), std::move(h)});
  };

  // A juror reads and scores only the ideas of challenges they sit on.
  auto juror_of_challenge = [this, o](const Caller& c, const std::string& challenge_id,
                                      const HttpRequest* req) -> absl::Status {
    if (c.role != kJuror) return absl::OkStatus();
    grpc::ClientContext ctx;
    Prepare(ctx, {o, req, &c});
    iv1::GetChallengeRequest rq;
    rq.set_challenge_id(challenge_id);
    iv1::Challenge ch;
    grpc::Status s = ideas_->GetChallenge(&ctx, rq, &ch);
    if (!s.ok()) return FromGrpcStatus(s);
    for (const auto& j : ch.juror_ids()) {
      if (j == c.actor) return absl::OkStatus();
    }
    return absl::PermissionDeniedError(
        absl::StrCat("'", c.actor, "' is not on the jury of challenge '", challenge_id, "'"));
  };
  auto juror_of_idea = [this, o, juror_of_challenge](const Caller& c, const std::string& idea_id,
                                                     const HttpRequest* req) -> absl::Status {
    if (c.role != kJuror) return absl::OkStatus();
    grpc::ClientContext ctx;
    Prepare(ctx, {o, req, &c});
    iv1::GetIdeaRequest rq;
    rq.set_idea_id(idea_id);
    iv1::Idea idea;
    grpc::Status s = ideas_->GetIdea(&ctx, rq, &idea);
    if (!s.ok()) return FromGrpcStatus(s);
    return juror_of_challenge(c, idea.challenge_id(), req);
  };
  auto own_idea = [](const Caller& c, const iv1::Idea& idea) -> absl::Status {
    if (c.role == kAgent && idea.author_id() != c.actor) {
      return absl::PermissionDeniedError("an agent reads only the ideas they submitted");
    }
    return absl::OkStatus();
  };
  // Wraps a handler so a check that needs the HTTP request runs first.
  auto guarded = [](RouteHandler h, std::function<absl::Status(const Caller&, const PathParams&,
                                                               const HttpRequest*)> check) {
    return RouteHandler([h, check](const Route& r, const HttpRequest& req, const Caller& c,
                                   const PathParams& p) {
      absl::Status s = check(c, p, &req);
      if (!s.ok()) return FromAbsl(s);
      return h(r, req, c, p);
    });
  };

  // --- challenges and ideas ---
  add("GET", "/v1/challenges", C | J | A, "Lister les défis", Body::kNone,
      iv1::ListChallengesRequest::descriptor(), iv1::ListChallengesResponse::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::ListChallenges));
  add("POST", "/v1/challenges", C, "Créer un défi (brouillon)", Body::kJson,
      iv1::CreateChallengeRequest::descriptor(), iv1::Challenge::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::CreateChallenge,
            UnaryOptions<iv1::CreateChallengeRequest, iv1::Challenge>{.ok_status = 201}));
  add("GET", "/v1/challenges/{challenge_id}", C | J | A, "Lire un défi", Body::kNone,
      iv1::GetChallengeRequest::descriptor(), iv1::Challenge::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::GetChallenge));
  add("POST", "/v1/challenges/{challenge_id}:open", C, "Ouvrir un défi aux dépôts", Body::kJson,
      iv1::ChallengeTransitionRequest::descriptor(), iv1::Challenge::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::OpenChallenge));
  add("POST", "/v1/challenges/{challenge_id}:close", C, "Clore un défi", Body::kJson,
      iv1::ChallengeTransitionRequest::descriptor(), iv1::Challenge::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::CloseChallenge));
  add("POST", "/v1/challenges/{challenge_id}/jurors", C, "Désigner des jurés", Body::kJson,
      iv1::AssignJurorsRequest::descriptor(), iv1::Challenge::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::AssignJurors));
  add("GET", "/v1/challenges/{challenge_id}/ideas", C | J | A,
      "Lister les idées d'un défi (un agent ne voit que les siennes)", Body::kNone,
      iv1::ListIdeasRequest::descriptor(), iv1::ListIdeasResponse::descriptor(),
      guarded(Unary(o, ideas, &iv1::IdeaService::Stub::ListIdeas,
                    UnaryOptions<iv1::ListIdeasRequest, iv1::ListIdeasResponse>{
                        .before = [](const Caller& c, const PathParams&, iv1::ListIdeasRequest& r) {
                          if (c.role == kAgent) r.set_author_id(c.actor);
                          return absl::OkStatus();
                        }}),
              [juror_of_challenge](const Caller& c, const PathParams& p, const HttpRequest* r) {
                return juror_of_challenge(c, p.at("challenge_id"), r);
              }));
  add("POST", "/v1/challenges/{challenge_id}/ideas", C | A, "Déposer une idée", Body::kJson,
      iv1::SubmitIdeaRequest::descriptor(), iv1::SubmitIdeaResponse::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::SubmitIdea,
            UnaryOptions<iv1::SubmitIdeaRequest, iv1::SubmitIdeaResponse>{.ok_status = 201}));
  add("GET", "/v1/challenges/{challenge_id}/ranking", C | J, "Classement des idées d'un défi",
      Body::kNone, iv1::RankIdeasRequest::descriptor(), iv1::RankIdeasResponse::descriptor(),
      guarded(Unary(o, ideas, &iv1::IdeaService::Stub::RankIdeas),
              [juror_of_challenge](const Caller& c, const PathParams& p, const HttpRequest* r) {
                return juror_of_challenge(c, p.at("challenge_id"), r);
              }));
  add("GET", "/v1/ideas/{idea_id}", C | J | A, "Lire une idée", Body::kNone,
      iv1::GetIdeaRequest::descriptor(), iv1::Idea::descriptor(),
      guarded(Unary(o, ideas, &iv1::IdeaService::Stub::GetIdea,
                    UnaryOptions<iv1::GetIdeaRequest, iv1::Idea>{.after = own_idea}),
              [juror_of_idea](const Caller& c, const PathParams& p, const HttpRequest* r) {
                return juror_of_idea(c, p.at("idea_id"), r);
              }));
  add("PATCH", "/v1/ideas/{idea_id}", C | A, "Modifier son idée", Body::kJson,
      iv1::EditIdeaRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::EditIdea));
  add("POST", "/v1/ideas/{idea_id}:withdraw", C | A, "Retirer son idée", Body::kJson,
      iv1::WithdrawIdeaRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::WithdrawIdea));
  add("GET", "/v1/ideas/{idea_id}/scores", C | J, "Grilles d'évaluation d'une idée", Body::kNone,
      iv1::ListScorecardsRequest::descriptor(), iv1::ListScorecardsResponse::descriptor(),
      guarded(Unary(o, ideas, &iv1::IdeaService::Stub::ListScorecards),
              [juror_of_idea](const Caller& c, const PathParams& p, const HttpRequest* r) {
                return juror_of_idea(c, p.at("idea_id"), r);
              }));
  add("POST", "/v1/ideas/{idea_id}/scores", J, "Évaluer une idée (juré)", Body::kJson,
      iv1::ScoreIdeaRequest::descriptor(), iv1::Scorecard::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::ScoreIdea));
  add("POST", "/v1/ideas/{idea_id}:decide", C, "Décider du sort d'une idée", Body::kJson,
      iv1::DecideIdeaRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(o, ideas, &iv1::IdeaService::Stub::DecideIdea));

  // --- start-ups ---
  add("GET", "/v1/startups", C, "Portefeuille des start-ups", Body::kNone,
      nv1::ListStartupsRequest::descriptor(), nv1::ListStartupsResponse::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::ListStartups));
  add("POST", "/v1/startups", C, "Créer une start-up", Body::kJson,
      nv1::CreateStartupRequest::descriptor(), nv1::Startup::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::CreateStartup,
            UnaryOptions<nv1::CreateStartupRequest, nv1::Startup>{.ok_status = 201}));
  add("GET", "/v1/startups/{startup_id}", C | T, "Lire une start-up", Body::kNone,
      nv1::GetStartupRequest::descriptor(), nv1::StartupDetails::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::GetStartup));
  add("PATCH", "/v1/startups/{startup_id}", C, "Mettre à jour une fiche", Body::kJson,
      nv1::UpdateStartupRequest::descriptor(), nv1::Startup::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::UpdateStartup));
  add("POST", "/v1/startups/{startup_id}/committee-decisions", C, "Enregistrer un comité",
      Body::kJson, nv1::RecordCommitteeDecisionRequest::descriptor(),
      nv1::CommitteeDecision::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::RecordCommitteeDecision,
            UnaryOptions<nv1::RecordCommitteeDecisionRequest, nv1::CommitteeDecision>{
                .ok_status = 201}));
  add("POST", "/v1/startups/{startup_id}:change-phase", C, "Changer de phase (après comité)",
      Body::kJson, nv1::ChangePhaseRequest::descriptor(), nv1::Startup::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::ChangePhase));
  add("GET", "/v1/startups/{startup_id}/milestones", C | T, "Jalons d'une start-up", Body::kNone,
      nv1::ListMilestonesRequest::descriptor(), nv1::ListMilestonesResponse::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::ListMilestones));
  add("POST", "/v1/startups/{startup_id}/milestones", C | T, "Publier un jalon (CI de l'équipe)",
      Body::kJson, nv1::PushMilestoneRequest::descriptor(), nv1::Milestone::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::PushMilestone,
            UnaryOptions<nv1::PushMilestoneRequest, nv1::Milestone>{.ok_status = 201}));
  add("POST", "/v1/startups/{startup_id}/team", C, "Ajouter un membre à l'équipe", Body::kJson,
      nv1::AddTeamMemberRequest::descriptor(), nv1::Startup::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::AddTeamMember));
  add("DELETE", "/v1/startups/{startup_id}/team/{member_id}", C, "Retirer un membre de l'équipe",
      Body::kNone, nv1::RemoveTeamMemberRequest::descriptor(), nv1::Startup::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::RemoveTeamMember));
  add("POST", "/v1/imports/portfolio", C,
      "Importer un portefeuille (JSON Lines, une start-up par ligne; ?dry_run=true)",
      Body::kJsonLines, nv1::ImportPortfolioRequest::descriptor(), nv1::ImportReport::descriptor(),
      [o, inc](const Route&, const HttpRequest& req, const Caller& c, const PathParams&) {
        nv1::ImportPortfolioRequest in;
        in.set_jsonl(req.body);
        in.set_dry_run(req.Query("dry_run") == "true");
        grpc::ClientContext ctx;
        Prepare(ctx, {o, &req, &c});
        nv1::ImportReport out;
        grpc::Status s = inc->ImportPortfolio(&ctx, in, &out);
        return s.ok() ? Json(200, out) : FromStatus(s);
      });
  add("GET", "/v1/portfolio/stats", C, "Statistiques du portefeuille", Body::kNone,
      nv1::GetPortfolioStatsRequest::descriptor(), nv1::PortfolioStats::descriptor(),
      Unary(o, inc, &nv1::IncubationService::Stub::GetPortfolioStats));

  // --- feedback ---
  add("POST", "/v1/startups/{startup_id}/feedback", kAnyRole,
      "Donner son avis sur un service (public, sans jeton)", Body::kJson,
      fv1::SubmitFeedbackRequest::descriptor(), fv1::Feedback::descriptor(),
      Unary(o, fb, &fv1::FeedbackService::Stub::SubmitFeedback,
            UnaryOptions<fv1::SubmitFeedbackRequest, fv1::Feedback>{.ok_status = 201}));
  add("GET", "/v1/startups/{startup_id}/feedback", C | T, "Avis reçus", Body::kNone,
      fv1::ListFeedbackRequest::descriptor(), fv1::ListFeedbackResponse::descriptor(),
      Unary(o, fb, &fv1::FeedbackService::Stub::ListFeedback));
  add("GET", "/v1/startups/{startup_id}/feedback/summary", C | T,
      "Synthèse des avis (jour, semaine, mois, 12 mois)", Body::kNone,
      fv1::GetSummaryRequest::descriptor(), fv1::Summary::descriptor(),
      Unary(o, fb, &fv1::FeedbackService::Stub::GetSummary));
  add("GET", "/v1/startups/{startup_id}/feedback:export", C | T,
      "Exporter les avis (?format=EXPORT_FORMAT_CSV ou EXPORT_FORMAT_JSONL)", Body::kNone,
      fv1::ExportFeedbackRequest::descriptor(), nullptr,
      [o, fb](const Route&, const HttpRequest& req, const Caller& c, const PathParams& p) {
        fv1::ExportFeedbackRequest in;
        absl::Status parsed = ParseQuery(req, &in);
        if (!parsed.ok()) return FromAbsl(parsed);
        in.set_startup_id(p.at("startup_id"));
        auto call = std::make_shared<StreamCall<fv1::ExportChunk>>();
        Prepare(call->ctx, {o, &req, &c});
        call->reader = fb->ExportFeedback(&call->ctx, in);
        return Stream<fv1::ExportChunk>(call,
                      in.format() == fv1::EXPORT_FORMAT_JSONL ? "application/x-ndjson"
                                                              : "text/csv; charset=utf-8",
                      [](const fv1::ExportChunk& chunk) { return chunk.data(); });
      },
      "text/csv");
  add("POST", "/v1/feedback/{feedback_id}:moderate", C, "Masquer un verbatim (modération)",
      Body::kJson, fv1::ModerateFeedbackRequest::descriptor(), fv1::Feedback::descriptor(),
      Unary(o, fb, &fv1::FeedbackService::Stub::ModerateFeedback));

  // --- audit ---
  add("GET", "/v1/startups/{startup_id}/timeline", C | T,
      "Chronologie de la lignée (?individual_feedback=true)", Body::kNone,
      av1::GetTimelineRequest::descriptor(), av1::Timeline::descriptor(),
      Unary(o, audit, &av1::AuditService::Stub::GetTimeline,
            UnaryOptions<av1::GetTimelineRequest, av1::Timeline>{.rename = {{"startup_id", "id"}}}));
  add("GET", "/v1/startups/{startup_id}/state", C | T,
      "État à une date (?as_of=…&known_at=…, RFC 3339)", Body::kNone,
      av1::GetStateAsOfRequest::descriptor(), av1::StateAsOf::descriptor(),
      Unary(o, audit, &av1::AuditService::Stub::GetStateAsOf,
            UnaryOptions<av1::GetStateAsOfRequest, av1::StateAsOf>{.rename = {{"startup_id", "id"}}}));
  add("GET", "/v1/lineage/{id}", C, "Lignée : idée → start-up → phases → jalons → avis",
      Body::kNone, av1::GetLineageRequest::descriptor(), av1::Lineage::descriptor(),
      Unary(o, audit, &av1::AuditService::Stub::GetLineage));
  add("POST", "/v1/audit:verify", C, "Vérifier le registre (tout, ou ?subject=…)", Body::kJson,
      av1::VerifyLedgerRequest::descriptor(), av1::VerifyLedgerResponse::descriptor(),
      Unary(o, audit, &av1::AuditService::Stub::VerifyLedger));
  add("GET", "/v1/startups/{startup_id}/ledger:export", C | T,
      "Exporter le registre de la lignée (JSON Lines, vérifiable hors ligne)", Body::kNone,
      av1::ExportLedgerRequest::descriptor(), nullptr,
      [o, audit](const Route&, const HttpRequest& req, const Caller& c, const PathParams& p) {
        av1::ExportLedgerRequest in;
        in.set_id(p.at("startup_id"));
        auto call = std::make_shared<StreamCall<av1::ExportLedgerLine>>();
        Prepare(call->ctx, {o, &req, &c});
        call->reader = audit->ExportLedger(&call->ctx, in);
        return Stream<av1::ExportLedgerLine>(call, "application/x-ndjson",
                      [](const av1::ExportLedgerLine& line) { return line.json() + "\n"; });
      },
      "application/x-ndjson");

  // --- identity ---
  add("GET", "/v1/me", kAnyRole, "Qui suis-je (rôle et périmètre du jeton)", Body::kNone, nullptr,
      gv1::Me::descriptor(),
      [](const Route&, const HttpRequest&, const Caller& c, const PathParams&) {
        gv1::Me me;
        me.set_actor(c.actor);
        me.set_role(RoleName(c.role));
        me.set_scope(c.scope);
        return Json(200, me);
      });
  auto token_json = [](const Token& t) {
    gv1::Token out;
    out.set_id(t.id);
    out.set_name(t.name);
    out.set_actor(t.actor);
    out.set_role(t.role);
    out.set_scope(t.scope);
    out.set_created_by(t.created_by);
    *out.mutable_created_at() = ToTimestamp(t.created_at);
    *out.mutable_expires_at() = ToTimestamp(t.expires_at);
    out.set_revoked(t.revoked);
    return out;
  };
  add("GET", "/v1/tokens", C, "Lister les jetons (jamais leur secret)", Body::kNone, nullptr,
      gv1::ListTokensResponse::descriptor(),
      [this, token_json](const Route&, const HttpRequest&, const Caller&, const PathParams&) {
        auto list = tokens_.List();
        if (!list.ok()) return FromAbsl(list.status());
        gv1::ListTokensResponse out;
        for (const Token& t : *list) *out.add_tokens() = token_json(t);
        return Json(200, out);
      });
  add("POST", "/v1/tokens", C, "Créer un jeton (le secret n'est montré qu'une fois)", Body::kJson,
      gv1::CreateTokenRequest::descriptor(), gv1::CreateTokenResponse::descriptor(),
      [this, token_json](const Route&, const HttpRequest& req, const Caller& c, const PathParams&) {
        gv1::CreateTokenRequest in;
        absl::Status parsed = ParseBody(req, &in);
        if (!parsed.ok()) return FromAbsl(parsed);
        NewToken n{in.name(), in.actor(), in.role(), in.scope(),
                   in.has_expires_at() ? FromTimestamp(in.expires_at())
                                       : absl::Now() + absl::Hours(24 * 90)};
        auto made = tokens_.Create(n, c.actor);
        if (!made.ok()) return FromAbsl(made.status());
        gv1::CreateTokenResponse out;
        *out.mutable_token() = token_json(made->first);
        out.set_secret(made->second);
        return Json(201, out);
      });
  add("DELETE", "/v1/tokens/{token_id}", C, "Révoquer un jeton", Body::kNone, nullptr,
      gv1::Empty::descriptor(),
      [this](const Route&, const HttpRequest&, const Caller&, const PathParams& p) {
        absl::Status s = tokens_.Revoke(p.at("token_id"));
        return s.ok() ? Json(200, gv1::Empty()) : FromAbsl(s);
      });
}

}  // namespace pep::gateway
