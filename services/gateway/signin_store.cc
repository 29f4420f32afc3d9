#include "services/gateway/signin_store.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/uuid.h"
#include "services/gateway/tokens.h"

namespace pep::gateway {

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
CREATE TABLE pending_signins (
  state TEXT PRIMARY KEY, nonce TEXT NOT NULL, code_verifier TEXT NOT NULL,
  return_to TEXT NOT NULL, created_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE accounts (
  id TEXT PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL, email TEXT NOT NULL,
  display_name TEXT NOT NULL, organisation TEXT NOT NULL, created_us INTEGER NOT NULL,
  UNIQUE (issuer, subject));
CREATE TABLE sessions (
  secret_sha256 TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
  id_token TEXT NOT NULL, created_us INTEGER NOT NULL, last_seen_us INTEGER NOT NULL,
  revoked_us INTEGER) WITHOUT ROWID;
)sql"},
  };
  return *m;
}

std::string Secret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) std::abort();  // no randomness: refuse to go on
  return absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(raw), sizeof raw));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SignInStore>> SignInStore::Open(const std::string& path,
                                                               const Clock& clock,
                                                               SessionLimits limits) {
  auto db = store::Db::Open(path);
  if (!db.ok()) return db.status();
  PEP_RETURN_IF_ERROR((*db)->Migrate(Migrations()));
  return std::unique_ptr<SignInStore>(new SignInStore(std::move(*db), clock, limits));
}

absl::Status SignInStore::SavePending(const std::string& state, const PendingSignIn& p) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  absl::MutexLock l(&mu_);
  // Old, never-finished sign-ins go as new ones come.
  auto old = db_->Prepare("DELETE FROM pending_signins WHERE created_us < ?");
  if (!old.ok()) return old.status();
  PEP_RETURN_IF_ERROR(old->Bind(1, now - absl::ToInt64Microseconds(limits_.pending)).Run());
  auto ins = db_->Prepare(
      "INSERT INTO pending_signins(state, nonce, code_verifier, return_to, created_us) VALUES (?,?,?,?,?)");
  if (!ins.ok()) return ins.status();
  return ins->Bind(1, state).Bind(2, p.nonce).Bind(3, p.code_verifier).Bind(4, p.return_to).Bind(5, now).Run();
}

absl::StatusOr<PendingSignIn> SignInStore::TakePending(const std::string& state) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  PEP_RETURN_IF_ERROR(tx.status());
  auto q = db_->Prepare("SELECT nonce, code_verifier, return_to, created_us FROM pending_signins WHERE state = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, state);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("state: unknown or already used (start the sign-in again)");
  PendingSignIn p{q->Text(0), q->Text(1), q->Text(2)};
  const int64_t created = q->Int(3);
  q->Reset();
  auto del = db_->Prepare("DELETE FROM pending_signins WHERE state = ?");
  if (!del.ok()) return del.status();
  PEP_RETURN_IF_ERROR(del->Bind(1, state).Run());
  PEP_RETURN_IF_ERROR(tx.Commit());
  if (now - created > absl::ToInt64Microseconds(limits_.pending)) {
    return absl::NotFoundError("state: this sign-in took too long (start it again)");
  }
  return p;
}

absl::StatusOr<Account> SignInStore::UpsertAccount(const Account& claims) {
  if (claims.issuer.empty() || claims.subject.empty()) {
    return absl::InvalidArgumentError("account: issuer and subject are required");
  }
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  PEP_RETURN_IF_ERROR(tx.status());
  auto q = db_->Prepare("SELECT id, created_us FROM accounts WHERE issuer = ? AND subject = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, claims.issuer).Bind(2, claims.subject);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  Account a = claims;
  if (*row) {
    a.id = q->Text(0);
    a.created_at = absl::FromUnixMicros(q->Int(1));
    a.created_now = false;
    q->Reset();
    auto up = db_->Prepare("UPDATE accounts SET email = ?, display_name = ?, organisation = ? WHERE id = ?");
    if (!up.ok()) return up.status();
    PEP_RETURN_IF_ERROR(up->Bind(1, a.email).Bind(2, a.display_name).Bind(3, a.organisation).Bind(4, a.id).Run());
  } else {
    q->Reset();
    a.id = NewUuidV7(now);
    a.created_at = now;
    a.created_now = true;
    auto ins = db_->Prepare(
        "INSERT INTO accounts(id, issuer, subject, email, display_name, organisation, created_us) "
        "VALUES (?,?,?,?,?,?,?)");
    if (!ins.ok()) return ins.status();
    PEP_RETURN_IF_ERROR(ins->Bind(1, a.id).Bind(2, a.issuer).Bind(3, a.subject).Bind(4, a.email)
                            .Bind(5, a.display_name).Bind(6, a.organisation)
                            .Bind(7, absl::ToUnixMicros(now)).Run());
  }
  PEP_RETURN_IF_ERROR(tx.Commit());
  return a;
}

absl::StatusOr<std::string> SignInStore::CreateSession(const std::string& account_id,
                                                       const std::string& id_token) {
  const std::string secret = Secret();
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  absl::MutexLock l(&mu_);
  auto ins = db_->Prepare(
      "INSERT INTO sessions(secret_sha256, account_id, id_token, created_us, last_seen_us) VALUES (?,?,?,?,?)");
  if (!ins.ok()) return ins.status();
  PEP_RETURN_IF_ERROR(ins->Bind(1, Sha256Hex(secret)).Bind(2, account_id).Bind(3, id_token).Bind(4, now).Bind(5, now).Run());
  return secret;
}

absl::StatusOr<SignInStore::Live> SignInStore::Authenticate(const std::string& secret) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare(
      "SELECT s.created_us, s.last_seen_us, s.revoked_us, s.id_token, a.id, a.issuer, a.subject, "
      "a.email, a.display_name, a.organisation, a.created_us "
      "FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.secret_sha256 = ?");
  if (!q.ok()) return q.status();
  const std::string hash = Sha256Hex(secret);
  q->Bind(1, hash);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::UnauthenticatedError("session: unknown (sign in again)");
  if (!q->IsNull(2)) return absl::UnauthenticatedError("session: signed out (sign in again)");
  if (now - q->Int(0) > absl::ToInt64Microseconds(limits_.absolute)) {
    return absl::UnauthenticatedError("session: expired (sign in again)");
  }
  if (now - q->Int(1) > absl::ToInt64Microseconds(limits_.idle)) {
    return absl::UnauthenticatedError("session: idle too long (sign in again)");
  }
  Live live{Account{q->Text(4), q->Text(5), q->Text(6), q->Text(7), q->Text(8), q->Text(9),
                    absl::FromUnixMicros(q->Int(10)), false},
            q->Text(3)};
  q->Reset();
  auto touch = db_->Prepare("UPDATE sessions SET last_seen_us = ? WHERE secret_sha256 = ?");
  if (!touch.ok()) return touch.status();
  PEP_RETURN_IF_ERROR(touch->Bind(1, now).Bind(2, hash).Run());
  return live;
}

absl::Status SignInStore::Revoke(const std::string& secret) {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare("UPDATE sessions SET revoked_us = ? WHERE secret_sha256 = ? AND revoked_us IS NULL");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, absl::ToUnixMicros(clock_.Now())).Bind(2, Sha256Hex(secret)).Run());
  if (db_->Changes() == 0) return absl::NotFoundError("session: not signed in");
  return absl::OkStatus();
}

}  // namespace pep::gateway
