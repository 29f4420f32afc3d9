// Who is calling: the principal the gateway passes as gRPC metadata (x-pep-actor, x-pep-roles,
// x-pep-scope), trusted only with the shared x-pep-gateway-key unless --insecure_dev.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace pep::auth {

struct Principal {
  std::string id;
  std::vector<std::string> roles;
  std::string scope;  // e.g. "startup:<id>", empty = unrestricted
  bool HasRole(std::string_view role) const;
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
