#include "store/sqlite.h"

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

Stmt::~Stmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}
Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, const char* v) { return Bind(i, std::string(v)); }
Stmt& Stmt::BindBlob(int i, const std::string& v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindView(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::BindBlobView(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
absl::StatusOr<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, "step");
}
absl::Status Stmt::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return absl::OkStatus();
  }
}
void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}
std::string Stmt::Text(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path, int page_size) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<Db> db(new Db(raw));
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

Db::~Db() { sqlite3_close_v2(db_); }

absl::Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string msg = err ? err : "";
  sqlite3_free(err);
  return SqliteError(nullptr, rc, absl::StrCat(msg, " in: ", sql.substr(0, 120)));
}

absl::StatusOr<Stmt> Db::Prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare: " + sql.substr(0, 120));
  return Stmt(db_, s);
}

absl::Status Db::Migrate(const std::vector<Migration>& migrations) {
  absl::Status s = Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))");
  if (!s.ok()) return s;
  int64_t current = 0;
  {
    auto q = Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!q.ok()) return q.status();
    auto row = q->Step();
    if (!row.ok()) return row.status();
    current = q->Int(0);
  }
  int last = 0;
  for (const auto& m : migrations) {
    if (m.version <= last) return absl::InternalError("migrations must be numbered increasingly");
    last = m.version;
    if (m.version <= current) continue;
    Transaction tx(*this);
    if (!tx.status().ok()) return tx.status();
    s = Exec(m.sql);
    if (!s.ok()) return absl::InternalError(absl::StrCat("migration ", m.version, ": ", s.message()));
    auto ins = Prepare("INSERT INTO schema_migrations(version) VALUES (?)");
    if (!ins.ok()) return ins.status();
    s = ins->Bind(1, static_cast<int64_t>(m.version)).Run();
    if (!s.ok()) return s;
    s = tx.Commit();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

Transaction::Transaction(Db& db) : db_(db) { begin_status_ = db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_ && begin_status_.ok()) (void)db_.Exec("ROLLBACK");
}

absl::Status Transaction::Commit() {
  if (!begin_status_.ok()) return begin_status_;
  absl::Status s = db_.Exec("COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

}  // namespace pep::store
