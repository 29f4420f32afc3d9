// The store every service uses: a connection (Db), statements with `?` placeholders (Stmt),
// write transactions, numbered migrations. Two engines behind it:
//   SQLite (store/sqlite.h): one file, WAL, synchronous=FULL — the embedded default;
//   PostgreSQL (store/postgres.h): through libpq, for several replicas against one database.
// Db::Connect(url) picks one: "sqlite:///abs/path" (or a bare path), "postgres://…".
//
// Both engines run the same SQL where the two dialects agree: `?` / `?N` placeholders (rewritten
// to `$N` for PostgreSQL), INSERT … ON CONFLICT … DO UPDATE/NOTHING, RETURNING, partial indexes.
// Schemas differ (BLOB/BYTEA, INTEGER/BIGINT), so each service numbers a migration list per
// engine. A write transaction is exclusive on both: SQLite's BEGIN IMMEDIATE takes the file's
// write lock; on PostgreSQL, BEGIN then a transaction advisory lock of the database, so the
// read-then-write logic of every service holds across replicas exactly as it does on one file,
// and outbox rows commit in their sequence order. Readers never wait for a writer on either.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pep::store {

enum class Engine { kSqlite, kPostgres };

// One engine's statement; used through Stmt.
class StmtImpl {
 public:
  virtual ~StmtImpl() = default;
  virtual void BindInt(int index, int64_t v) = 0;
  // `copy` false: the bytes stay put until the statement is stepped.
  virtual void BindText(int index, std::string_view v, bool copy) = 0;
  virtual void BindBlob(int index, std::string_view v, bool copy) = 0;
  virtual void BindNull(int index) = 0;
  virtual absl::StatusOr<bool> Step() = 0;
  virtual void Reset() = 0;  // back to before the first Step, bindings cleared
  virtual int64_t Int(int col) const = 0;
  virtual std::string Text(int col) const = 0;  // text or blob bytes
  virtual bool IsNull(int col) const = 0;
};

class Stmt {
 public:
  explicit Stmt(std::unique_ptr<StmtImpl> impl) : impl_(std::move(impl)) {}
  Stmt(Stmt&&) noexcept = default;
  Stmt& operator=(Stmt&&) noexcept = default;

  Stmt& Bind(int index, int64_t v) {
    impl_->BindInt(index, v);
    return *this;
  }
  Stmt& Bind(int index, const std::string& v) {  // text
    impl_->BindText(index, v, true);
    return *this;
  }
  Stmt& Bind(int index, const char* v) {
    impl_->BindText(index, v, true);
    return *this;
  }
  Stmt& BindBlob(int index, const std::string& v) {
    impl_->BindBlob(index, v, true);
    return *this;
  }
  Stmt& BindNull(int index) {
    impl_->BindNull(index);
    return *this;
  }
  // Not copied: the bytes must stay put until the statement is stepped (hot insert paths).
  Stmt& BindView(int index, std::string_view v) {
    impl_->BindText(index, v, false);
    return *this;
  }
  Stmt& BindBlobView(int index, std::string_view v) {
    impl_->BindBlob(index, v, false);
    return *this;
  }
  // True when a row is available; false when done.
  absl::StatusOr<bool> Step() { return impl_->Step(); }
  absl::Status Run();  // steps to completion
  void Reset() { impl_->Reset(); }

  int64_t Int(int col) const { return impl_->Int(col); }
  std::string Text(int col) const { return impl_->Text(col); }
  bool IsNull(int col) const { return impl_->IsNull(col); }

 private:
  std::unique_ptr<StmtImpl> impl_;
};

// WAL frames after which a SQLite connection checkpoints (SQLite's automatic checkpoint, and the
// WalCheckpointer's period).
inline constexpr int kCheckpointPages = 4000;

// One step of a schema, numbered alike on both engines. `sql` is run on SQLite, and on
// PostgreSQL too unless `postgres` gives that engine's form (types, identity columns); the
// version recorded is the same, so a store's history reads the same on either.
struct Migration {
  int version;
  std::string sql;
  std::string postgres = {};
};

// The `postgres` form of a step that only reshaped SQLite's storage (a table rebuilt without
// AUTOINCREMENT, ...): PostgreSQL's first form already had that shape.
inline constexpr char kNothingOnPostgres[] = "SELECT 1";

// Where a database is: `sqlite:///abs/path`, `sqlite://rel/path` or a bare path; or a libpq URI
// (`postgres://` / `postgresql://`).
struct DatabaseUrl {
  Engine engine = Engine::kSqlite;
  std::string target;  // the file, or the libpq connection string
};
absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(const std::string& url);
// The URL with any password replaced by "***" (for logs).
std::string RedactDatabaseUrl(const std::string& url);

class Db {
 public:
  // A SQLite file. `page_size` (bytes, a power of two 512-65536) applies only to a database
  // created by this call; 0 keeps SQLite's default (4096).
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, int page_size = 0);
  // Either engine, from a URL (see DatabaseUrl).
  static absl::StatusOr<std::unique_ptr<Db>> Connect(const std::string& url);
  virtual ~Db() = default;

  virtual Engine engine() const = 0;
  // Statements without parameters, several allowed (migrations).
  virtual absl::Status Exec(const std::string& sql) = 0;
  virtual absl::StatusOr<Stmt> Prepare(const std::string& sql) = 0;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  virtual int64_t Changes() const = 0;
  // Opens the exclusive write transaction described above (Transaction calls it).
  virtual absl::Status BeginWrite() = 0;
  // Applies, in order and each in its own write transaction, the migrations not yet applied.
  // The applied version is read inside each transaction, so replicas starting together apply
  // each migration once.
  absl::Status Migrate(const std::vector<Migration>& migrations);
  // The SQLite handle (nullptr on PostgreSQL): WAL hooks and the backup API.
  virtual sqlite3* raw() { return nullptr; }

 protected:
  Db() = default;
  virtual std::string MigrationsTableSql() const = 0;
};

// Opens the write transaction on construction; rolls back on destruction unless Commit()
// succeeded.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  const absl::Status& status() const { return begin_status_; }
  absl::Status Commit();

 private:
  Db& db_;
  absl::Status begin_status_;
  bool done_ = false;
};

// A read-only snapshot: every read until it ends sees one state of the database, and no writer
// waits for it (SQLite in WAL: a deferred transaction, whose snapshot is its first read;
// PostgreSQL: REPEATABLE READ, READ ONLY). A Transaction, by contrast, holds the write lock.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Db& db);
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  const absl::Status& status() const { return begin_status_; }

 private:
  Db& db_;
  absl::Status begin_status_;
};

}  // namespace pep::store
