// The PostgreSQL engine of the store (store/db.h), through libpq. Statements are prepared once
// per connection (cached by their SQL text) and results read whole, as text (bytea decoded);
// BYTEA parameters go in binary. A write transaction is BEGIN plus a transaction-level advisory
// lock of the schema, so writers of one service are serialized across replicas like SQLite's
// BEGIN IMMEDIATE serializes them on one file. A lost connection is re-established on the next
// call, except inside a transaction: that one is lost whole, every call until its COMMIT (which
// fails) or ROLLBACK is UNAVAILABLE, and only then does the connection come back.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "store/db.h"

namespace pep::store {

class PgDb : public Db {
 public:
  // `conninfo`: a libpq URI or key=value string.
  static absl::StatusOr<std::unique_ptr<Db>> Connect(const std::string& conninfo);
  ~PgDb() override;

  Engine engine() const override { return Engine::kPostgres; }
  absl::Status Exec(const std::string& sql) override;
  absl::StatusOr<Stmt> Prepare(const std::string& sql) override;
  int64_t Changes() const override { return changes_; }
  absl::Status BeginWrite() override;

  // A session-level advisory lock named `name` within this database and schema (held until
  // released or the connection ends: a holder that dies releases it with its connection). True
  // if this connection holds it now.
  absl::StatusOr<bool> TryLock(const std::string& name);
  absl::Status Unlock(const std::string& name);
  // False once the connection is broken (the next call reconnects).
  bool Healthy() const;

  // Used by the statements: runs the prepared statement `name` (preparing it on this connection
  // first if needed) with the given parameters.
  PGresult* Run(const std::string& name, const std::string& sql, int nparams,
                const char* const* values, const int* lengths, const int* formats);
  void NoteChanges(PGresult* res);

  // `?` and `?N` placeholders to `$N`, outside quotes and comments; sets the parameter count.
  static std::string TranslatePlaceholders(const std::string& sql, int* nparams);

 protected:
  std::string MigrationsTableSql() const override;

 private:
  PgDb(std::string conninfo, PGconn* conn) : conninfo_(std::move(conninfo)), conn_(conn) {}
  absl::Status EnsureConnected();

  const std::string conninfo_;
  PGconn* conn_;
  int64_t changes_ = 0;
  bool in_tx_ = false;  // between a BEGIN that succeeded and its COMMIT or ROLLBACK
  int next_name_ = 0;
  absl::flat_hash_map<std::string, std::string> names_;  // translated SQL -> statement name
  absl::flat_hash_set<std::string> prepared_;           // names prepared on this connection
};

// The error of a failed result (or of the connection when `res` is null), as a status:
// integrity violations ALREADY_EXISTS (as SQLite's constraint errors), a lost connection, a
// serialization failure, a deadlock, a full disk or a server shutting down UNAVAILABLE.
absl::Status PgError(PGconn* conn, const PGresult* res, const std::string& context);

}  // namespace pep::store
