#include "services/gateway/signin_store.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/proto_time.h"
#include "common/uuid.h"
#include "pepiniere/gateway/v1/events.pb.h"
#include "services/gateway/gateway_db.h"
#include "services/gateway/tokens.h"

namespace pep::gateway {

namespace gv1 = ::pepiniere::gateway::v1;

namespace {

constexpr char kAccountColumns[] =
    "a.id, a.issuer, a.subject, a.email, a.display_name, a.organisation, a.created_us";

Account ReadAccount(const store::Stmt& q, int at = 0) {
  return Account{q.Text(at), q.Text(at + 1), q.Text(at + 2), q.Text(at + 3), q.Text(at + 4),
                 q.Text(at + 5), absl::FromUnixMicros(q.Int(at + 6)), false, {}};
}

}  // namespace

absl::StatusOr<std::unique_ptr<SignInStore>> SignInStore::Open(const std::string& database_url,
                                                               const Clock& clock,
                                                               SessionLimits limits) {
  auto db = store::Db::Connect(database_url);
  if (!db.ok()) return db.status();
  PEP_RETURN_IF_ERROR((*db)->Migrate(GatewayMigrations()));
  return std::unique_ptr<SignInStore>(new SignInStore(std::move(*db), clock, limits));
}

absl::Status SignInStore::SavePending(const std::string& state, const PendingSignIn& p) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  absl::MutexLock l(&mu_);
  // Old, never-finished sign-ins go as new ones come: a bounded batch, found by the age index.
  auto old = db_->Prepare(
      "DELETE FROM pending_signins WHERE state IN (SELECT state FROM pending_signins "
      "WHERE created_us < ? ORDER BY created_us LIMIT 64)");
  if (!old.ok()) return old.status();
  PEP_RETURN_IF_ERROR(old->Bind(1, now - absl::ToInt64Microseconds(limits_.pending)).Run());
  auto ins = db_->Prepare(
      "INSERT INTO pending_signins(state, nonce, code_verifier, return_to, created_us) VALUES (?,?,?,?,?)");
  if (!ins.ok()) return ins.status();
  PEP_RETURN_IF_ERROR(
      ins->Bind(1, state).Bind(2, p.nonce).Bind(3, p.code_verifier).Bind(4, p.return_to).Bind(5, now).Run());
  // Never more than max_pending rows, whoever starts them (the oldest go first); counted now
  // and then, not at every sign-in.
  if (++saved_ % 64 != 0) return absl::OkStatus();
  auto count = db_->Prepare("SELECT COUNT(*) FROM pending_signins");
  if (!count.ok()) return count.status();
  auto row = count->Step();
  if (!row.ok()) return row.status();
  const int64_t over = count->Int(0) - static_cast<int64_t>(limits_.max_pending);
  count->Reset();
  if (over <= 0) return absl::OkStatus();
  auto trim = db_->Prepare(
      "DELETE FROM pending_signins WHERE state IN (SELECT state FROM pending_signins "
      "ORDER BY created_us LIMIT ?)");
  if (!trim.ok()) return trim.status();
  return trim->Bind(1, over).Run();
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

absl::Status CheckGrant(const std::string& role, const std::string& scope) {
  auto target = [&](const char* prefix) {
    const size_t n = std::strlen(prefix);
    return scope.size() > n && scope.compare(0, n, prefix) == 0 && IsUuid(scope.substr(n));
  };
  if (role == "coordinator") {
    if (!scope.empty()) return FieldError("scope", "the coordinator role has no scope");
  } else if (role == "juror") {
    if (!target("challenge:")) return FieldError("scope", "a juror grant needs scope 'challenge:<challenge id>'");
  } else if (role == "product_team") {
    if (!target("startup:")) return FieldError("scope", "a team grant needs scope 'startup:<start-up id>'");
  } else {
    return FieldError("role", absl::StrCat("must be coordinator, juror or product_team (got '", role,
                                           "'; every account is an agent already)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SignInStore::NextVersion(const std::string& account_id) {
  auto q = db_->Prepare("UPDATE accounts SET version = version + 1 WHERE id = ? RETURNING version");
  if (!q.ok()) return q.status();
  q->Bind(1, account_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("account_id: no account '", account_id, "'"));
  const int64_t v = q->Int(0);
  q->Reset();
  return v;
}

absl::StatusOr<bool> SignInStore::InsertGrant(const Account& a, const GrantSpec& g,
                                              const std::string& by, absl::Time now) {
  // The unique index on active grants says whether it is held already: then nothing is written.
  auto ins = db_->Prepare(
      "INSERT INTO grants(account_id, role, scope, granted_by, reason, granted_us) VALUES (?,?,?,?,?,?) "
      "ON CONFLICT DO NOTHING");
  if (!ins.ok()) return ins.status();
  PEP_RETURN_IF_ERROR(ins->Bind(1, a.id).Bind(2, g.role).Bind(3, g.scope).Bind(4, by).Bind(5, g.reason)
                          .Bind(6, absl::ToUnixMicros(now)).Run());
  if (db_->Changes() == 0) return false;
  auto version = NextVersion(a.id);
  if (!version.ok()) return version.status();
  gv1::RoleGranted ev;
  ev.set_account_id(a.id);
  ev.set_display_name(a.display_name);
  ev.set_role(g.role);
  ev.set_scope(g.scope);
  ev.set_reason(g.reason);
  PEP_RETURN_IF_ERROR(EmitAccess(*db_, a.id, g.scope, *version, ev, by, now));
  return true;
}

absl::StatusOr<std::vector<GrantRow>> SignInStore::GrantsOf(const std::string& account_id) {
  auto q = db_->Prepare(
      "SELECT role, scope, granted_by, reason, granted_us FROM grants "
      "WHERE account_id = ? AND revoked_us IS NULL ORDER BY id");
  if (!q.ok()) return q.status();
  q->Bind(1, account_id);
  std::vector<GrantRow> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({account_id, q->Text(0), q->Text(1), q->Text(2), q->Text(3),
                   absl::FromUnixMicros(q->Int(4))});
  }
}

absl::StatusOr<Account> SignInStore::UpsertAccount(const Account& claims,
                                                   const std::vector<GrantSpec>& first_grants) {
  if (claims.issuer.empty() || claims.subject.empty()) {
    return absl::InvalidArgumentError("account: issuer and subject are required");
  }
  for (const GrantSpec& g : first_grants) PEP_RETURN_IF_ERROR(CheckGrant(g.role, g.scope));
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
        "INSERT INTO accounts(id, issuer, subject, email, display_name, organisation, created_us, "
        "version) VALUES (?,?,?,?,?,?,?,1)");
    if (!ins.ok()) return ins.status();
    PEP_RETURN_IF_ERROR(ins->Bind(1, a.id).Bind(2, a.issuer).Bind(3, a.subject).Bind(4, a.email)
                            .Bind(5, a.display_name).Bind(6, a.organisation)
                            .Bind(7, absl::ToUnixMicros(now)).Run());
    gv1::AccountCreated ev;
    ev.set_account_id(a.id);
    ev.set_issuer(a.issuer);
    ev.set_display_name(a.display_name);
    ev.set_organisation(a.organisation);
    PEP_RETURN_IF_ERROR(EmitAccess(*db_, a.id, "", 1, ev, a.id, now));
    for (const GrantSpec& g : first_grants) {
      PEP_RETURN_IF_ERROR(InsertGrant(a, g, "pep-gateway", now).status());
    }
  }
  auto grants = GrantsOf(a.id);
  if (!grants.ok()) return grants.status();
  a.grants = std::move(*grants);
  PEP_RETURN_IF_ERROR(tx.Commit());
  return a;
}

absl::StatusOr<bool> SignInStore::HasAccount(const std::string& issuer, const std::string& subject) {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare("SELECT 1 FROM accounts WHERE issuer = ? AND subject = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, issuer).Bind(2, subject);
  return q->Step();
}

absl::StatusOr<Account> SignInStore::GetAccount(const std::string& id) {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare(absl::StrCat("SELECT ", kAccountColumns, " FROM accounts a WHERE a.id = ?"));
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("account_id: no account '", id, "'"));
  Account a = ReadAccount(*q);
  q->Reset();
  auto grants = GrantsOf(a.id);
  if (!grants.ok()) return grants.status();
  a.grants = std::move(*grants);
  return a;
}

absl::StatusOr<std::vector<Account>> SignInStore::ListAccounts(const std::string& text, int limit) {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare(absl::StrCat(
      "SELECT ", kAccountColumns, " FROM accounts a WHERE ?1 = '' "
      "OR lower(a.display_name) LIKE lower(CAST(?3 AS TEXT)) ESCAPE '\\' "
      "OR lower(a.email) LIKE lower(CAST(?3 AS TEXT)) ESCAPE '\\' "
      "ORDER BY a.display_name, a.id LIMIT ?2"));
  if (!q.ok()) return q.status();
  // A substring search on both engines: LIKE with the text's own % _ \ escaped.
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  pattern.push_back('%');
  q->Bind(1, text).Bind(2, static_cast<int64_t>(limit)).Bind(3, pattern);
  std::vector<Account> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(ReadAccount(*q));
  }
  q->Reset();
  // Every active grant in one read (there are few), not one read per account.
  absl::flat_hash_map<std::string, Account*> by_id;
  for (Account& a : out) by_id[a.id] = &a;
  auto g = db_->Prepare(
      "SELECT account_id, role, scope, granted_by, reason, granted_us FROM grants "
      "WHERE revoked_us IS NULL ORDER BY id");
  if (!g.ok()) return g.status();
  while (true) {
    auto row = g->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    auto it = by_id.find(g->Text(0));
    if (it == by_id.end()) continue;
    it->second->grants.push_back({g->Text(0), g->Text(1), g->Text(2), g->Text(3), g->Text(4),
                                  absl::FromUnixMicros(g->Int(5))});
  }
  return out;
}

absl::StatusOr<GrantRow> SignInStore::Grant(const std::string& account_id, const GrantSpec& g,
                                            const std::string& by) {
  PEP_RETURN_IF_ERROR(CheckGrant(g.role, g.scope));
  auto account = GetAccount(account_id);  // its name goes into the event
  if (!account.ok()) return account.status();
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  PEP_RETURN_IF_ERROR(tx.status());
  auto inserted = InsertGrant(*account, g, by, now);
  if (!inserted.ok()) return inserted.status();
  if (!*inserted) {  // held already: that grant, as it was made
    auto held = GrantsOf(account_id);
    if (!held.ok()) return held.status();
    for (GrantRow& row : *held) {
      if (row.role == g.role && row.scope == g.scope) return std::move(row);
    }
    return absl::InternalError("grant: neither inserted nor held");
  }
  PEP_RETURN_IF_ERROR(tx.Commit());
  return GrantRow{account_id, g.role, g.scope, by, g.reason, now};
}

absl::Status SignInStore::RevokeGrant(const std::string& account_id, const std::string& role,
                                      const std::string& scope, const std::string& by) {
  auto account = GetAccount(account_id);
  if (!account.ok()) return account.status();
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  PEP_RETURN_IF_ERROR(tx.status());
  auto q = db_->Prepare(
      "UPDATE grants SET revoked_us = ?, revoked_by = ? WHERE account_id = ? AND role = ? AND "
      "scope = ? AND revoked_us IS NULL");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, absl::ToUnixMicros(now)).Bind(2, by).Bind(3, account_id)
                          .Bind(4, role).Bind(5, scope).Run());
  if (db_->Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("role: '", account_id, "' does not hold ", role,
                                            scope.empty() ? "" : " on ", scope));
  }
  auto version = NextVersion(account_id);
  if (!version.ok()) return version.status();
  gv1::RoleRevoked ev;
  ev.set_account_id(account_id);
  ev.set_display_name(account->display_name);
  ev.set_role(role);
  ev.set_scope(scope);
  PEP_RETURN_IF_ERROR(EmitAccess(*db_, account_id, scope, *version, ev, by, now));
  return tx.Commit();
}

absl::StatusOr<std::string> SignInStore::CreateSession(const std::string& account_id,
                                                       const std::string& id_token) {
  const std::string secret = RandomToken();
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
      absl::StrCat("SELECT s.created_us, s.last_seen_us, s.revoked_us, s.id_token, ", kAccountColumns,
                   " FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.secret_sha256 = ?"));
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
  Live live{ReadAccount(*q, 4), q->Text(3)};
  const int64_t last_seen = q->Int(1);
  q->Reset();
  if (now - last_seen >= absl::ToInt64Microseconds(limits_.touch_every)) {
    auto touch = db_->Prepare("UPDATE sessions SET last_seen_us = ? WHERE secret_sha256 = ?");
    if (!touch.ok()) return touch.status();
    PEP_RETURN_IF_ERROR(touch->Bind(1, now).Bind(2, hash).Run());
  }
  auto grants = GrantsOf(live.account.id);
  if (!grants.ok()) return grants.status();
  live.account.grants = std::move(*grants);
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
