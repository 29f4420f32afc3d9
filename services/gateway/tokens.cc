#include "services/gateway/tokens.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/text.h"
#include "common/proto_time.h"
#include "common/uuid.h"
#include "pepiniere/gateway/v1/events.pb.h"
#include "services/gateway/gateway_db.h"

namespace pep::gateway {

namespace gv1 = ::pepiniere::gateway::v1;

namespace {

constexpr char kColumns[] =
    "id, name, actor, role, scope, created_by, created_us, expires_us, revoked_us, last_used_us, "
    "created_by_account, created_by_token";

Token Read(const store::Stmt& q) {
  Token t;
  t.id = q.Text(0);
  t.name = q.Text(1);
  t.actor = q.Text(2);
  t.role = q.Text(3);
  t.scope = q.Text(4);
  t.created_by = q.Text(5);
  t.created_at = absl::FromUnixMicros(q.Int(6));
  t.expires_at = absl::FromUnixMicros(q.Int(7));
  t.revoked = !q.IsNull(8);
  if (!q.IsNull(9)) t.last_used_at = absl::FromUnixMicros(q.Int(9));
  t.created_by_account = q.Text(10);
  t.created_by_token = q.Text(11);
  return t;
}

}  // namespace

std::string Sha256Hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(std::string(reinterpret_cast<const char*>(md), len));
}

std::string RandomToken() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) std::abort();  // no randomness: refuse to go on
  return absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& database_url,
                                                             const Clock& clock,
                                                             TokenLimits limits) {
  auto db = store::Db::Connect(database_url);
  if (!db.ok()) return db.status();
  PEP_RETURN_IF_ERROR((*db)->Migrate(GatewayMigrations()));
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(*db), clock, limits));
}

absl::StatusOr<std::pair<Token, std::string>> TokenStore::Create(const NewToken& n,
                                                                 const std::string& created_by) {
  std::string secret = "pep_" + RandomToken();
  auto t = Register(n, created_by, secret);
  if (!t.ok()) return t.status();
  return std::make_pair(std::move(*t), std::move(secret));
}

absl::StatusOr<Token> TokenStore::Register(const NewToken& n, const std::string& created_by,
                                           const std::string& secret) {
  bool known = false;
  for (const char* r : kRoles) known = known || n.role == r;
  if (!known) {
    return FieldError("role", absl::StrCat("must be coordinator, juror, product_team or agent (got '",
                                           n.role, "')"));
  }
  if (n.role == "product_team" && (n.scope.rfind("startup:", 0) != 0 || n.scope.size() <= 8)) {
    return FieldError("scope", "a product_team token needs scope 'startup:<start-up id>'");
  }
  if (n.role != "product_team" && !n.scope.empty()) {
    return FieldError("scope", "only product_team tokens are scoped");
  }
  const int actor_chars = Utf8Length(n.actor);
  if (actor_chars < 1 || actor_chars > 100) return FieldError("actor", "must be 1-100 characters of UTF-8");
  if (HasControlCharacter(n.actor)) return FieldError("actor", "must not hold control characters");
  const int name_chars = Utf8Length(n.name);
  if (name_chars < 0 || name_chars > 200) return FieldError("name", "must be at most 200 characters of UTF-8");
  if (HasControlCharacter(n.name)) return FieldError("name", "must not hold control characters");
  if (secret.rfind("pep_", 0) != 0 || secret.size() < 36) {
    return FieldError("secret", "a token is 'pep_' followed by at least 32 characters");
  }
  const absl::Time now = clock_.Now();
  if (n.expires_at <= now) return FieldError("expires_at", "must be in the future");
  if (n.expires_at > now + limits_.max_lifetime) {
    return FieldError("expires_at", absl::StrCat("a token lives at most ",
                                                 absl::ToInt64Hours(limits_.max_lifetime) / 24,
                                                 " days (--token_max_days)"));
  }
  Token t{.id = NewUuidV7(now), .name = n.name, .actor = n.actor, .role = n.role, .scope = n.scope,
          .created_by = created_by, .created_at = now, .expires_at = n.expires_at,
          .created_by_account = n.created_by_account, .created_by_token = n.created_by_token};
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  PEP_RETURN_IF_ERROR(tx.status());
  auto ins = db_->Prepare(
      "INSERT INTO tokens(id, secret_sha256, name, actor, role, scope, created_by, created_us, "
      "expires_us, created_by_account, created_by_token) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  if (!ins.ok()) return ins.status();
  PEP_RETURN_IF_ERROR(ins->Bind(1, t.id)
                          .Bind(2, Sha256Hex(secret))
                          .Bind(3, t.name)
                          .Bind(4, t.actor)
                          .Bind(5, t.role)
                          .Bind(6, t.scope)
                          .Bind(7, t.created_by)
                          .Bind(8, absl::ToUnixMicros(t.created_at))
                          .Bind(9, absl::ToUnixMicros(t.expires_at))
                          .Bind(10, t.created_by_account)
                          .Bind(11, t.created_by_token)
                          .Run());
  gv1::TokenCreated ev;
  ev.set_token_id(t.id);
  ev.set_name(t.name);
  ev.set_token_actor(t.actor);
  ev.set_role(t.role);
  ev.set_scope(t.scope);
  *ev.mutable_expires_at() = ToTimestamp(t.expires_at);
  PEP_RETURN_IF_ERROR(EmitAccess(*db_, t.id, t.scope, 1, ev, created_by, now));
  PEP_RETURN_IF_ERROR(tx.Commit());
  return t;
}

absl::StatusOr<Token> TokenStore::Authenticate(const std::string& secret) {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare(absl::StrCat("SELECT ", kColumns, " FROM tokens WHERE secret_sha256 = ?"));
  if (!q.ok()) return q.status();
  q->Bind(1, Sha256Hex(secret));
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::UnauthenticatedError("unknown token");
  Token t = Read(*q);
  q->Reset();
  const absl::Time now = clock_.Now();
  if (t.revoked) return absl::UnauthenticatedError("this token was revoked");
  if (t.expires_at <= now) return absl::UnauthenticatedError("this token has expired");
  // Last use to the minute: one write a minute per token, not one per request.
  if (now - t.last_used_at >= limits_.touch_every) {
    auto touch = db_->Prepare("UPDATE tokens SET last_used_us = ? WHERE id = ?");
    if (!touch.ok()) return touch.status();
    PEP_RETURN_IF_ERROR(touch->Bind(1, absl::ToUnixMicros(now)).Bind(2, t.id).Run());
    t.last_used_at = now;
  }
  return t;
}

absl::StatusOr<std::vector<Token>> TokenStore::List() {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare(absl::StrCat("SELECT ", kColumns, " FROM tokens ORDER BY created_us"));
  if (!q.ok()) return q.status();
  std::vector<Token> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(Read(*q));
  }
}

absl::StatusOr<Token> TokenStore::Get(const std::string& id) {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare(absl::StrCat("SELECT ", kColumns, " FROM tokens WHERE id = ?"));
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("token_id: no token '", id, "'"));
  return Read(*q);
}

absl::Status TokenStore::Revoke(const std::string& id, const std::string& by) {
  const absl::Time now = clock_.Now();
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  PEP_RETURN_IF_ERROR(tx.status());
  auto q = db_->Prepare("UPDATE tokens SET revoked_us = ? WHERE id = ? AND revoked_us IS NULL "
                        "RETURNING name, scope");
  if (!q.ok()) return q.status();
  q->Bind(1, absl::ToUnixMicros(now)).Bind(2, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("token_id: no active token '", id, "'"));
  gv1::TokenRevoked ev;
  ev.set_token_id(id);
  ev.set_name(q->Text(0));
  ev.set_scope(q->Text(1));
  q->Reset();
  PEP_RETURN_IF_ERROR(EmitAccess(*db_, id, ev.scope(), 2, ev, by, now));
  return tx.Commit();
}

absl::StatusOr<bool> TokenStore::HasActiveCoordinator() {
  absl::MutexLock l(&mu_);
  auto q = db_->Prepare(
      "SELECT 1 FROM tokens WHERE role = 'coordinator' AND revoked_us IS NULL AND expires_us > ?");
  if (!q.ok()) return q.status();
  q->Bind(1, absl::ToUnixMicros(clock_.Now()));
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return *row;
}

}  // namespace pep::gateway
