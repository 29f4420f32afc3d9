// The SQLite engine of the store (store/db.h): WAL and synchronous=FULL (a COMMIT returns only
// once durable), BEGIN IMMEDIATE write transactions, and the online backup API.
#pragma once

#include <sqlite3.h>

#include <string>

#include "store/db.h"

namespace pep::store {

class SqliteDb : public Db {
 public:
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, int page_size = 0);
  ~SqliteDb() override;

  Engine engine() const override { return Engine::kSqlite; }
  absl::Status Exec(const std::string& sql) override;
  absl::StatusOr<Stmt> Prepare(const std::string& sql) override;
  int64_t Changes() const override { return sqlite3_changes64(db_); }
  absl::Status BeginWrite() override { return Exec("BEGIN IMMEDIATE"); }
  sqlite3* raw() override { return db_; }

 protected:
  std::string MigrationsTableSql() const override;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

absl::Status SqliteError(sqlite3* db, int rc, const std::string& context);

// Copies the live database at `from` (a SQLite file in use by a running service: readers and
// the writer go on) into a new file `to`, consistent as of one commit, with SQLite's online
// backup API (one read snapshot: WAL lets the writer go on meanwhile); `to` is written under a temporary name and renamed
// into place once complete and synced, so a half-made backup never has the final name.
// Returns the pages copied.
absl::StatusOr<int64_t> BackupSqlite(const std::string& from, const std::string& to);

}  // namespace pep::store
