// Sign-in state kept on the server (issue 13; not wired into the gateway yet): pending sign-ins
// (state -> nonce and PKCE verifier, single use, 10 minutes), accounts keyed by (iss, sub) —
// never by e-mail alone —, and sessions whose random secret (the cookie) is stored only as a
// SHA-256 hash, with an absolute lifetime (12 h), an idle timeout and revocation.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "store/sqlite.h"

namespace pep::gateway {

struct PendingSignIn {
  std::string nonce, code_verifier, return_to;
};

struct Account {
  std::string id;  // ours (UUIDv7); the actor in events
  std::string issuer, subject, email, display_name, organisation;
  absl::Time created_at;
  bool created_now = false;  // this sign-in made it (first sign-in)
};

struct SessionLimits {
  absl::Duration absolute = absl::Hours(12);
  absl::Duration idle = absl::Hours(2);
  absl::Duration pending = absl::Minutes(10);
};

class SignInStore {
 public:
  static absl::StatusOr<std::unique_ptr<SignInStore>> Open(const std::string& path,
                                                           const Clock& clock,
                                                           SessionLimits limits = {});
  absl::Status SavePending(const std::string& state, const PendingSignIn& p);
  // Single use: a second call with the same state (a replay) is NOT_FOUND, as is an old one.
  absl::StatusOr<PendingSignIn> TakePending(const std::string& state);
  // Finds the account of (issuer, subject) or creates it; refreshes its profile claims.
  absl::StatusOr<Account> UpsertAccount(const Account& claims);
  // A new session; returns its secret (the cookie value), stored only hashed.
  absl::StatusOr<std::string> CreateSession(const std::string& account_id, const std::string& id_token);
  struct Live {
    Account account;
    std::string id_token;  // for logout's id_token_hint
  };
  // UNAUTHENTICATED when unknown, revoked, past its absolute lifetime or idle too long; else
  // the session's last use moves to now.
  absl::StatusOr<Live> Authenticate(const std::string& secret);
  absl::Status Revoke(const std::string& secret);

 private:
  SignInStore(std::unique_ptr<store::Db> db, const Clock& clock, SessionLimits limits)
      : db_(std::move(db)), clock_(clock), limits_(limits) {}
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  const Clock& clock_;
  const SessionLimits limits_;
};

}  // namespace pep::gateway
