// People on the server side (issue 13): pending sign-ins (state -> nonce and PKCE verifier,
// single use, 10 minutes), accounts keyed by (iss, sub) — never by e-mail alone —, role grants
// (coordinator; juror of a challenge; member of a start-up's team), and sessions whose random
// secret (the cookie) is stored only as a SHA-256 hash, with an absolute lifetime (12 h), an
// idle timeout and revocation. Account creation, grants and revocations are access events,
// written to the outbox in the same transaction (gateway_db.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "store/sqlite.h"

namespace pep::gateway {

struct PendingSignIn {
  std::string nonce, code_verifier, return_to;
};

struct GrantRow {
  std::string account_id;
  std::string role;   // coordinator, juror, product_team
  std::string scope;  // "", "challenge:<id>", "startup:<id>"
  std::string granted_by, reason;
  absl::Time granted_at;
};

struct Account {
  std::string id;  // ours (UUIDv7); the actor in events
  std::string issuer, subject, email, display_name, organisation;
  absl::Time created_at;
  bool created_now = false;  // this sign-in made it (first sign-in)
  std::vector<GrantRow> grants;  // active ones (filled by Authenticate, GetAccount, ListAccounts)
};

struct SessionLimits {
  absl::Duration absolute = absl::Hours(12);
  absl::Duration idle = absl::Hours(2);
  absl::Duration pending = absl::Minutes(10);
  size_t max_pending = 20000;  // sign-ins begun and not ended, at most (the oldest go first)
  absl::Duration touch_every = absl::Minutes(1);  // idle-time precision: one write a minute
};

// A grant asked for: the role, its scope, and why (shown on the timeline).
struct GrantSpec {
  std::string role, scope, reason;
};

// INVALID_ARGUMENT naming the field unless role and scope go together: coordinator with no
// scope, juror with "challenge:<id>", product_team with "startup:<id>".
absl::Status CheckGrant(const std::string& role, const std::string& scope);

class SignInStore {
 public:
  // `database_url`: see store::Db::Connect (a SQLite path, sqlite:///…, postgres://…).
  static absl::StatusOr<std::unique_ptr<SignInStore>> Open(const std::string& database_url,
                                                           const Clock& clock,
                                                           SessionLimits limits = {});
  absl::Status SavePending(const std::string& state, const PendingSignIn& p);
  // Single use: a second call with the same state (a replay) is NOT_FOUND, as is an old one.
  absl::StatusOr<PendingSignIn> TakePending(const std::string& state);
  // Finds the account of (issuer, subject) or creates it (AccountCreated) with `first_grants`
  // (RoleGranted each, by "pep-gateway"); refreshes its profile claims either way.
  absl::StatusOr<Account> UpsertAccount(const Account& claims,
                                        const std::vector<GrantSpec>& first_grants = {});
  // Whether (issuer, subject) has signed in before.
  absl::StatusOr<bool> HasAccount(const std::string& issuer, const std::string& subject);
  absl::StatusOr<Account> GetAccount(const std::string& id);
  // Accounts whose name or e-mail contains `q` (all when empty), at most `limit`.
  absl::StatusOr<std::vector<Account>> ListAccounts(const std::string& q, int limit = 200);
  // RoleGranted unless already held (then the existing grant, no event).
  absl::StatusOr<GrantRow> Grant(const std::string& account_id, const GrantSpec& g,
                                 const std::string& by);
  // RoleRevoked; NOT_FOUND when not held.
  absl::Status RevokeGrant(const std::string& account_id, const std::string& role,
                           const std::string& scope, const std::string& by);
  // A new session; returns its secret (the cookie value), stored only hashed.
  absl::StatusOr<std::string> CreateSession(const std::string& account_id, const std::string& id_token);
  struct Live {
    Account account;       // with its grants
    std::string id_token;  // for logout's id_token_hint
  };
  // UNAUTHENTICATED when unknown, revoked, past its absolute lifetime or idle too long; else
  // the session's last use moves to now (to the minute).
  absl::StatusOr<Live> Authenticate(const std::string& secret);
  absl::Status Revoke(const std::string& secret);

 private:
  SignInStore(std::unique_ptr<store::Db> db, const Clock& clock, SessionLimits limits)
      : db_(std::move(db)), clock_(clock), limits_(limits) {}
  absl::StatusOr<std::vector<GrantRow>> GrantsOf(const std::string& account_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inside a transaction: the account's next aggregate version (bumped in the row).
  absl::StatusOr<int64_t> NextVersion(const std::string& account_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inside a transaction: RoleGranted and true, or false (and nothing written) when held already.
  absl::StatusOr<bool> InsertGrant(const Account& a, const GrantSpec& g, const std::string& by,
                                   absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  uint64_t saved_ ABSL_GUARDED_BY(mu_) = 0;  // sign-ins begun by this process
  const Clock& clock_;
  const SessionLimits limits_;
};

}  // namespace pep::gateway
