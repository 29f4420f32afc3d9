// Routes of the REST gateway: a pattern ("/v1/challenges/{challenge_id}:open"), the roles
// allowed, and what the OpenAPI document says of it. Matching is pure and tested alone.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "services/gateway/http_server.h"

namespace pep::gateway {

enum Role : unsigned {
  kCoordinator = 1,
  kJuror = 2,
  kProductTeam = 4,
  kAgent = 8,
  kPublic = 16,  // no token
};
inline constexpr unsigned kAnyRole = kCoordinator | kJuror | kProductTeam | kAgent | kPublic;
inline constexpr unsigned kAnySignedIn = kCoordinator | kJuror | kProductTeam | kAgent;

Role RoleOf(const std::string& name);  // "public" for an unknown name
std::string RoleName(Role r);
// The roles of a set, highest first (coordinator, juror, product_team, agent).
std::vector<Role> RolesOf(unsigned roles);
// Their names, comma-separated ("coordinator,juror,agent"); "public" for none.
std::string RoleNames(unsigned roles);
// The highest role of a set: coordinator > juror > product_team > agent > public.
Role HighestRole(unsigned roles);

// Who is calling: a bearer token (one role, at most one scope) or a signed-in person (agent,
// plus what they were granted: coordinator, juror, product_team on each of their start-ups).
struct Account;  // signin_store.h

struct Caller {
  std::string actor;           // empty for public; an account id for people
  unsigned roles = kPublic;    // a set of Role bits
  std::vector<std::string> scopes;  // "startup:<id>" a product team works on
  std::string via;             // "token", "session" or "" (public)
  std::string account_id;      // via session, or the signed-in creator of the token
  std::string token_id;        // via token: which one (a token it makes names it as its maker)
  std::shared_ptr<const Account> person;  // via session: the account, as authenticated
  bool Has(Role r) const { return (roles & r) != 0; }
  bool CoversStartup(const std::string& id) const;
};

using PathParams = std::map<std::string, std::string>;

struct RouteCall;  // calls.h: the request, caller and parameters, alive until answered
// Answers through `respond`, exactly once, from any thread (backend calls are asynchronous).
using RouteHandler = std::function<void(std::shared_ptr<const RouteCall>, Respond)>;
class Backend;

enum class Body { kNone, kJson, kJsonLines };

struct Route {
  std::string method;
  std::string pattern;
  unsigned roles = 0;
  std::string summary;  // French, for the OpenAPI document and the console's developers
  Body body = Body::kNone;
  const google::protobuf::Descriptor* request = nullptr;   // documented body / query shape
  const google::protobuf::Descriptor* response = nullptr;  // documented answer
  std::string response_type = "application/json";         // streams: text/csv, x-ndjson
  RouteHandler handler;
  Backend* backend = nullptr;  // the service it needs (none: served by the gateway itself)
  size_t max_body_bytes = 0;   // 0: the gateway's default; else what the service accepts
  // Path parameters named *_id are UUIDs, refused (400) otherwise before any backend is asked;
  // a route that also takes a slug there (a start-up by its slug) says so.
  bool slug_ok = false;
  // Documented patterns of other path parameters (OpenAPI), as the service behind enforces them.
  std::map<std::string, std::string> param_patterns = {};
  // A body the gateway writes itself (open data): its JSON Schema for the OpenAPI document, and
  // whether it answers a revalidation (If-None-Match) with 304.
  std::string response_schema = {};
  bool revalidates = false;
};

// Whether `value` is acceptable for the path parameter `name` of `route`.
bool PathIdOk(const Route& route, const std::string& name, const std::string& value);
inline constexpr char kSlugPattern[] = "^[A-Za-z0-9._-]{1,100}$";

// Path parameters of `path` against `pattern`, or nullopt. A segment may be "{name}",
// "{name}:verb" or a literal ("audit:verify").
std::optional<PathParams> Match(const std::string& pattern, const std::string& path);

// Names of the "{…}" parameters of a pattern, in order.
std::vector<std::string> ParamNames(const std::string& pattern);

// How a route appears in the OpenAPI document: its pattern, or — for a "{name=**}" parameter
// spanning segments, which OpenAPI cannot template — the fixed-depth forms it takes
// (/ledger/tile/{level}/{index} and …/{index}.p/{width}), each with its parameters' patterns.
struct DocumentedPath {
  std::string path;
  std::map<std::string, std::string> patterns;  // parameter -> regex ("" for the default)
};
std::vector<DocumentedPath> DocumentedPaths(const Route& route);

}  // namespace pep::gateway
