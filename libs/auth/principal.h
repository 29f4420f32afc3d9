// Who is calling: the principal the gateway passes as gRPC metadata (x-pep-actor, x-pep-roles,
// x-pep-scope), trusted only with the shared x-pep-gateway-key unless --insecure_dev.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace pep::auth {

// Whether `scopes` ("startup:<id>", …) name start-up `startup_id`: the one rule the gateway and
// the services share for a product team's reach.
bool ScopesCoverStartup(const std::vector<std::string>& scopes, std::string_view startup_id);

struct Principal {
  std::string id;
  std::vector<std::string> roles;
  // x-pep-scope, a comma list: the start-ups ("startup:<id>") a product_team caller works on.
  std::vector<std::string> scopes;
  bool HasRole(std::string_view role) const;
  bool HasScope(std::string_view scope) const;
  // Coordinators reach every start-up; a product team only those of its scopes; nobody else any.
  bool CoversStartup(std::string_view startup_id) const;
  // The scopes as sent (for messages).
  std::string ScopeText() const;
};

struct AuthOptions {
  bool insecure_dev = false;   // accept calls without the gateway key
  std::string gateway_key;     // shared secret expected in x-pep-gateway-key
};

// `metadata` holds the call's client metadata (lower-case keys). In insecure-dev mode a call
// with no x-pep-actor is the developer "dev" with role coordinator, so grpcurl works as is.
absl::StatusOr<Principal> Authenticate(const std::multimap<std::string, std::string>& metadata,
                                       const AuthOptions& options);

// The same, reading the metadata of a (sync or callback) server call.
absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& ctx,
                                       const AuthOptions& options);

}  // namespace pep::auth
