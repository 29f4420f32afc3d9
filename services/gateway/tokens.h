// Bearer tokens: opaque random secrets shown once, stored only as SHA-256 hashes, each with a
// role, an optional scope and an expiry; created, listed and revoked by coordinators.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "store/sqlite.h"

namespace pep::gateway {

inline constexpr const char* kRoles[] = {"coordinator", "juror", "product_team", "agent"};

// Lower-case hex SHA-256: how token secrets are stored, and pep-feedback's client key.
std::string Sha256Hex(std::string_view s);

struct Token {
  std::string id;
  std::string name;   // what it is for ("CI de Signalement voirie")
  std::string actor;  // the person or robot it stands for (x-pep-actor)
  std::string role;
  std::string scope;  // "startup:<id>" for product_team, else empty
  std::string created_by;
  absl::Time created_at, expires_at;
  bool revoked = false;
};

struct NewToken {
  std::string name, actor, role, scope;
  absl::Time expires_at;
};

class TokenStore {
 public:
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(const std::string& path,
                                                          const Clock& clock);
  // Returns the token and its secret (the only time the secret exists outside the caller).
  // INVALID_ARGUMENT naming the field for an unknown role, a missing or misplaced scope, an
  // expiry in the past.
  absl::StatusOr<std::pair<Token, std::string>> Create(const NewToken& t,
                                                       const std::string& created_by);
  // The same with a secret made elsewhere (a bootstrap token from a Kubernetes Secret); it must
  // look like ours: "pep_" and at least 32 more characters.
  absl::StatusOr<Token> Register(const NewToken& t, const std::string& created_by,
                                 const std::string& secret);
  // UNAUTHENTICATED for an unknown, revoked or expired secret.
  absl::StatusOr<Token> Authenticate(const std::string& secret);
  absl::StatusOr<std::vector<Token>> List();
  absl::Status Revoke(const std::string& id);
  absl::StatusOr<bool> HasActiveCoordinator();

 private:
  TokenStore(std::unique_ptr<store::Db> db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  const Clock& clock_;
};

}  // namespace pep::gateway
