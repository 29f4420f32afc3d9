#include "services/gateway/gateway_db.h"

#include "store/outbox.h"
#include "store/proto_rows.h"

namespace pep::gateway {

const std::vector<store::Migration>& GatewayMigrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
CREATE TABLE tokens (
  id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  actor TEXT NOT NULL, role TEXT NOT NULL, scope TEXT NOT NULL, created_by TEXT NOT NULL,
  created_us INTEGER NOT NULL, expires_us INTEGER NOT NULL, revoked_us INTEGER);
)sql"},
      {2, R"sql(
CREATE TABLE pending_signins (
  state TEXT PRIMARY KEY, nonce TEXT NOT NULL, code_verifier TEXT NOT NULL,
  return_to TEXT NOT NULL, created_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE accounts (
  id TEXT PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL, email TEXT NOT NULL,
  display_name TEXT NOT NULL, organisation TEXT NOT NULL, created_us INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  UNIQUE (issuer, subject));
CREATE INDEX accounts_by_email ON accounts(email);
CREATE TABLE sessions (
  secret_sha256 TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
  id_token TEXT NOT NULL, created_us INTEGER NOT NULL, last_seen_us INTEGER NOT NULL,
  revoked_us INTEGER) WITHOUT ROWID;
CREATE TABLE grants (
  id INTEGER PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), role TEXT NOT NULL,
  scope TEXT NOT NULL, granted_by TEXT NOT NULL, reason TEXT NOT NULL, granted_us INTEGER NOT NULL,
  revoked_by TEXT, revoked_us INTEGER);
CREATE UNIQUE INDEX grants_active ON grants(account_id, role, scope) WHERE revoked_us IS NULL;
ALTER TABLE tokens ADD COLUMN last_used_us INTEGER;
ALTER TABLE tokens ADD COLUMN created_by_account TEXT NOT NULL DEFAULT '';
)sql"},
      {3, store::OutboxSchemaSql()},
      {4, store::OutboxV2Sql()},
  };
  return *m;
}

absl::Status EmitAccess(store::Db& db, const std::string& aggregate_id, const std::string& scope,
                        int64_t aggregate_version, const google::protobuf::Message& payload,
                        const std::string& actor, absl::Time now) {
  const size_t colon = scope.find(':');
  return store::EmitEvent(db,
                          {.topic = kAccessTopic,
                           .source = "/pepiniere/gateway",
                           .aggregate_id = aggregate_id,
                           // Unscoped: its own lineage (the account's, the token's).
                           .correlation_id = colon == std::string::npos ? aggregate_id : scope.substr(colon + 1),
                           .aggregate_version = aggregate_version,
                           .actor = actor,
                           .effective_time = now,
                           .recorded_time = now},
                          payload);
}

}  // namespace pep::gateway
