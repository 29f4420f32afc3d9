#include "store/db.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "store/postgres.h"
#include "store/sqlite.h"

namespace pep::store {

absl::Status Stmt::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return absl::OkStatus();
  }
}

absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(const std::string& url) {
  if (url.empty()) return absl::InvalidArgumentError("database_url: empty");
  if (absl::StartsWith(url, "postgres://") || absl::StartsWith(url, "postgresql://")) {
    return DatabaseUrl{Engine::kPostgres, url};
  }
  if (absl::StartsWith(url, "sqlite:")) {
    std::string path = url.substr(7);
    if (absl::StartsWith(path, "//")) path = path.substr(2);  // sqlite:///abs -> /abs
    if (path.empty()) return absl::InvalidArgumentError("database_url: sqlite URL without a path");
    return DatabaseUrl{Engine::kSqlite, path};
  }
  if (url.find("://") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "database_url: unknown scheme in \"", RedactDatabaseUrl(url),
        "\" (sqlite:///path or postgres://user@host/db)"));
  }
  return DatabaseUrl{Engine::kSqlite, url};
}

std::string RedactDatabaseUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return absl::StrCat(url.substr(0, colon + 1), "***", url.substr(at));
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path, int page_size) {
  return SqliteDb::Open(path, page_size);
}

absl::StatusOr<std::unique_ptr<Db>> Db::Connect(const std::string& url) {
  auto parsed = ParseDatabaseUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->engine == Engine::kPostgres) return PgDb::Connect(parsed->target);
  return SqliteDb::Open(parsed->target);
}

absl::Status Db::Migrate(const std::vector<Migration>& migrations) {
  int last = 0;
  for (const auto& m : migrations) {
    if (m.version <= last) return absl::InternalError("migrations must be numbered increasingly");
    last = m.version;
  }
  {
    Transaction tx(*this);
    if (!tx.status().ok()) return tx.status();
    absl::Status s = Exec(MigrationsTableSql());
    if (!s.ok()) return s;
    s = tx.Commit();
    if (!s.ok()) return s;
  }
  for (const auto& m : migrations) {
    Transaction tx(*this);
    if (!tx.status().ok()) return tx.status();
    // Read under the write lock: another replica may have applied it a moment ago.
    auto q = Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!q.ok()) return q.status();
    auto row = q->Step();
    if (!row.ok()) return row.status();
    const int64_t current = q->Int(0);
    q->Reset();
    if (m.version <= current) continue;
    const std::string& sql =
        engine() == Engine::kPostgres && !m.postgres.empty() ? m.postgres : m.sql;
    absl::Status s = Exec(sql);
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

Transaction::Transaction(Db& db) : db_(db) { begin_status_ = db_.BeginWrite(); }

Transaction::~Transaction() {
  if (!done_ && begin_status_.ok()) (void)db_.Exec("ROLLBACK");
}

absl::Status Transaction::Commit() {
  if (!begin_status_.ok()) return begin_status_;
  absl::Status s = db_.Exec("COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

ReadSnapshot::ReadSnapshot(Db& db) : db_(db) {
  begin_status_ = db_.Exec("BEGIN");
  if (begin_status_.ok() && db_.engine() == Engine::kPostgres) {
    begin_status_ = db_.Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    if (!begin_status_.ok()) (void)db_.Exec("ROLLBACK");
  }
}

ReadSnapshot::~ReadSnapshot() {
  if (begin_status_.ok()) (void)db_.Exec("ROLLBACK");
}

}  // namespace pep::store
