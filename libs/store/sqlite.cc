#include "store/sqlite.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace pep::store {

absl::Status SqliteError(sqlite3* db, int rc, const std::string& context) {
  const std::string msg = absl::StrCat(context, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  const int primary = rc & 0xff;
  if (primary == SQLITE_CONSTRAINT) return absl::AlreadyExistsError(msg);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return absl::UnavailableError(msg);
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

namespace {

class SqliteStmt : public StmtImpl {
 public:
  SqliteStmt(sqlite3* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
  ~SqliteStmt() override { sqlite3_finalize(stmt_); }
  void BindInt(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  void BindText(int i, std::string_view v, bool copy) override {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
  }
  void BindBlob(int i, std::string_view v, bool copy) override {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                      copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
  }
  void BindNull(int i) override { sqlite3_bind_null(stmt_, i); }
  absl::StatusOr<bool> Step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, "step");
  }
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Db>> SqliteDb::Open(const std::string& path, int page_size) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<Db> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) return SqliteError(raw, rc, "open " + path);
  sqlite3_busy_timeout(raw, 10000);
  if (page_size > 0) {  // before anything writes the header (journal_mode=WAL does)
    absl::Status s = db->Exec(absl::StrCat("PRAGMA page_size=", page_size));
    if (!s.ok()) return s;
  }
  for (const std::string& pragma :
       {std::string("PRAGMA journal_mode=WAL"), std::string("PRAGMA synchronous=FULL"),
        std::string("PRAGMA foreign_keys=ON"),
        absl::StrCat("PRAGMA wal_autocheckpoint=", kCheckpointPages)}) {
    absl::Status s = db->Exec(pragma);
    if (!s.ok()) return s;
  }
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

absl::Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string msg = err ? err : "";
  sqlite3_free(err);
  return SqliteError(nullptr, rc, absl::StrCat(msg, " in: ", sql.substr(0, 120)));
}

absl::StatusOr<Stmt> SqliteDb::Prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare: " + sql.substr(0, 120));
  return Stmt(std::make_unique<SqliteStmt>(db_, s));
}

std::string SqliteDb::MigrationsTableSql() const {
  return "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
         "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))";
}

absl::StatusOr<int64_t> BackupSqlite(const std::string& from, const std::string& to) {
  // Opening a missing file would create an empty database there (a mistyped --data_dir).
  if (::access(from.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("backup: no database at ", from));
  }
  auto src = SqliteDb::Open(from);
  if (!src.ok()) return src.status();
  const std::string partial = to + ".partial";
  std::remove(partial.c_str());
  sqlite3* dst = nullptr;
  int rc = sqlite3_open_v2(partial.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           nullptr);
  absl::Status status;
  int64_t pages = 0;
  if (rc != SQLITE_OK) {
    status = SqliteError(dst, rc, "open " + partial);
  } else if (sqlite3_backup* b = sqlite3_backup_init(dst, "main", (*src)->raw(), "main");
             b == nullptr) {
    status = SqliteError(dst, sqlite3_errcode(dst), "backup " + from);
  } else {
    // All pages in one step, i.e. inside one read transaction: in WAL mode that snapshot never
    // blocks the service's writer, and a copy made in small steps would start over at every
    // commit another connection makes (it might never finish under load).
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      sqlite3_sleep(20);
    }
    pages = sqlite3_backup_pagecount(b);
    const int fin = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) status = SqliteError(dst, rc, "backup " + from);
    else if (fin != SQLITE_OK) status = SqliteError(dst, fin, "backup " + from);
  }
  // The copy is in rollback-journal mode like any fresh file; make it durable before renaming.
  if (status.ok()) {
    char* err = nullptr;
    rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE; PRAGMA integrity_check;", nullptr, nullptr,
                      &err);
    if (rc != SQLITE_OK) status = SqliteError(dst, rc, std::string("check backup: ") + (err ? err : ""));
    sqlite3_free(err);
  }
  sqlite3_close_v2(dst);
  if (status.ok()) {
    const int fd = ::open(partial.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) status = absl::InternalError("fsync " + partial);
    if (fd >= 0) ::close(fd);
  }
  if (status.ok() && std::rename(partial.c_str(), to.c_str()) != 0) {
    status = absl::InternalError(absl::StrCat("rename ", partial, " to ", to, ": ", std::strerror(errno)));
  }
  if (!status.ok()) {
    std::remove(partial.c_str());
    return status;
  }
  return pages;
}

}  // namespace pep::store
