// SQLite with WAL and synchronous=FULL (a COMMIT returns only once durable), RAII statements
// and transactions, and numbered migrations applied at start.
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

class Db;

class Stmt {
 public:
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt(const Stmt&) = delete;
  ~Stmt();

  Stmt& Bind(int index, int64_t v);
  Stmt& Bind(int index, const std::string& v);  // text
  Stmt& Bind(int index, const char* v);
  Stmt& BindBlob(int index, const std::string& v);
  Stmt& BindNull(int index);
  // Not copied: the bytes must stay put until the statement is stepped (hot insert paths).
  Stmt& BindView(int index, std::string_view v);
  Stmt& BindBlobView(int index, std::string_view v);
  // True when a row is available; false when done.
  absl::StatusOr<bool> Step();
  absl::Status Run();  // steps to completion
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  friend class Db;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// WAL frames after which a connection checkpoints (SQLite's automatic checkpoint, and the
// WalCheckpointer's period).
inline constexpr int kCheckpointPages = 4000;

struct Migration {
  int version;
  std::string sql;
};

class Db {
 public:
  // `page_size` (bytes, a power of two 512-65536) applies only to a database created by this
  // call; 0 keeps SQLite's default (4096). An existing file keeps the size it was made with.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, int page_size = 0);
  ~Db();

  absl::Status Exec(const std::string& sql);
  absl::StatusOr<Stmt> Prepare(const std::string& sql);
  // Applies, in order and each in its own transaction, the migrations above the stored version.
  absl::Status Migrate(const std::vector<Migration>& migrations);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless Commit() succeeded.
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

absl::Status SqliteError(sqlite3* db, int rc, const std::string& context);

}  // namespace pep::store
