// Bearer tokens, for machines (pepctl in CI): opaque random secrets shown once, stored only as
// SHA-256 hashes, each with a role, an optional scope, an expiry no further than the maximum
// lifetime, and a last-used time; created by coordinators or by a team member for their own
// start-up, revocable. Creating and revoking one is an access event (never the secret).
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
// 32 random bytes as unpadded base64url (43 characters): token and session secrets, and the
// sign-in's state, nonce and PKCE verifier. Aborts when the system has no randomness.
std::string RandomToken();

struct Token {
  std::string id;
  std::string name;   // what it is for ("CI de Signalement voirie")
  std::string actor;  // the person or robot it stands for (x-pep-actor)
  std::string role;
  std::string scope;  // "startup:<id>" for product_team, else empty
  std::string created_by;
  absl::Time created_at, expires_at;
  bool revoked = false;
  absl::Time last_used_at = absl::InfinitePast();  // InfinitePast: never used
  std::string created_by_account;  // a signed-in creator: the token never exceeds their rights
  std::string created_by_token;    // made with a token: the maker's id (it holds while the maker does)
};

struct NewToken {
  std::string name, actor, role, scope;
  absl::Time expires_at;
  std::string created_by_account;
  std::string created_by_token;
};

struct TokenLimits {
  absl::Duration max_lifetime = absl::Hours(24 * 365);  // --token_max_days
  absl::Duration touch_every = absl::Minutes(1);         // last-used precision (one write a minute)
};

class TokenStore {
 public:
  // `database_url`: see store::Db::Connect (a SQLite path, sqlite:///…, postgres://…).
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(const std::string& database_url,
                                                          const Clock& clock,
                                                          TokenLimits limits = {});
  // Returns the token and its secret (the only time the secret exists outside the caller).
  // INVALID_ARGUMENT naming the field for an unknown role, a missing or misplaced scope, an
  // expiry in the past or past the maximum lifetime.
  absl::StatusOr<std::pair<Token, std::string>> Create(const NewToken& t,
                                                       const std::string& created_by);
  // The same with a secret made elsewhere (a bootstrap token from a Kubernetes Secret); it must
  // look like ours: "pep_" and at least 32 more characters.
  absl::StatusOr<Token> Register(const NewToken& t, const std::string& created_by,
                                 const std::string& secret);
  // UNAUTHENTICATED for an unknown, revoked or expired secret.
  absl::StatusOr<Token> Authenticate(const std::string& secret);
  absl::StatusOr<std::vector<Token>> List();
  absl::StatusOr<Token> Get(const std::string& id);
  // `by`: who revokes (the event's actor).
  absl::Status Revoke(const std::string& id, const std::string& by);
  absl::StatusOr<bool> HasActiveCoordinator();

 private:
  TokenStore(std::unique_ptr<store::Db> db, const Clock& clock, TokenLimits limits)
      : db_(std::move(db)), clock_(clock), limits_(limits) {}
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  const Clock& clock_;
  const TokenLimits limits_;
};

}  // namespace pep::gateway
