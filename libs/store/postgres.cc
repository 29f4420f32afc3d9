#include "store/postgres.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace pep::store {

namespace {

constexpr Oid kByteaOid = 17;
constexpr Oid kBoolOid = 16;

// The lock every write transaction of one schema takes (see BeginWrite).
constexpr char kWriterLock[] =
    "SELECT pg_advisory_xact_lock(hashtext(current_database() || '/' || current_schema()))";

// The key of the session lock named by the one parameter, within this database and schema.
constexpr char kNamedLock[] =
    "hashtext(current_database() || '/' || current_schema() || '/' || ?)";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

class PgStmt : public StmtImpl {
 public:
  PgStmt(PgDb* db, std::string name, std::string sql, int nparams)
      : db_(db), name_(std::move(name)), sql_(std::move(sql)), params_(nparams) {}
  ~PgStmt() override { Clear(); }

  void BindInt(int i, int64_t v) override {
    if (Param* p = At(i)) *p = Param{absl::StrCat(v), nullptr, 0, 0, false};
  }
  void BindText(int i, std::string_view v, bool copy) override { Set(i, v, copy, 0); }
  void BindBlob(int i, std::string_view v, bool copy) override { Set(i, v, copy, 1); }
  void BindNull(int i) override {
    if (Param* p = At(i)) *p = Param{{}, nullptr, 0, 0, true};
  }

  absl::StatusOr<bool> Step() override {
    if (res_ == nullptr) {
      std::vector<const char*> values(params_.size());
      std::vector<int> lengths(params_.size()), formats(params_.size());
      for (size_t i = 0; i < params_.size(); ++i) {
        const Param& p = params_[i];
        if (p.null) continue;  // values[i] stays null: SQL NULL
        values[i] = p.data ? p.data : p.owned.c_str();
        lengths[i] = p.data ? p.len : static_cast<int>(p.owned.size());
        formats[i] = p.format;
      }
      res_ = db_->Run(name_, sql_, static_cast<int>(params_.size()), values.data(),
                      lengths.data(), formats.data());
      const ExecStatusType st = res_ ? PQresultStatus(res_) : PGRES_FATAL_ERROR;
      if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        absl::Status s = PgError(nullptr, res_, "step");
        Clear();
        return s;
      }
      db_->NoteChanges(res_);
      row_ = -1;
      rows_ = PQntuples(res_);
    }
    if (row_ + 1 >= rows_) {
      row_ = rows_;
      return false;
    }
    ++row_;
    return true;
  }

  void Reset() override {
    Clear();
    for (Param& p : params_) p = Param{};
  }

  int64_t Int(int col) const override {
    if (!HasValue(col)) return 0;
    const char* v = PQgetvalue(res_, row_, col);
    if (PQftype(res_, col) == kBoolOid) return v[0] == 't' ? 1 : 0;
    return std::strtoll(v, nullptr, 10);
  }
  std::string Text(int col) const override {
    if (!HasValue(col)) return std::string();
    const char* v = PQgetvalue(res_, row_, col);
    const int n = PQgetlength(res_, row_, col);
    if (PQftype(res_, col) != kByteaOid) return std::string(v, static_cast<size_t>(n));
    // Text-format bytea: "\x" then two hex digits per byte.
    std::string out;
    if (n < 2 || v[0] != '\\' || v[1] != 'x') return out;
    out.resize(static_cast<size_t>(n - 2) / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<char>(HexValue(v[2 + 2 * i]) * 16 + HexValue(v[3 + 2 * i]));
    }
    return out;
  }
  bool IsNull(int col) const override { return !HasValue(col); }

 private:
  struct Param {
    std::string owned;
    const char* data = nullptr;  // not owned (a view), when set
    int len = 0;
    int format = 0;  // 0 text, 1 binary
    bool null = true;
  };

  Param* At(int i) {
    if (i < 1 || i > static_cast<int>(params_.size())) return nullptr;
    Clear();  // a new binding starts a new execution
    return &params_[static_cast<size_t>(i - 1)];
  }
  void Set(int i, std::string_view v, bool copy, int format) {
    Param* p = At(i);
    if (p == nullptr) return;
    if (copy) {
      *p = Param{std::string(v), nullptr, 0, format, false};
    } else {
      *p = Param{{}, v.data() ? v.data() : "", static_cast<int>(v.size()), format, false};
    }
  }
  bool HasValue(int col) const {
    return res_ && row_ >= 0 && row_ < rows_ && col < PQnfields(res_) &&
           !PQgetisnull(res_, row_, col);
  }
  void Clear() {
    if (res_) PQclear(res_);
    res_ = nullptr;
    row_ = rows_ = 0;
  }

  PgDb* db_;
  const std::string name_;
  const std::string sql_;
  std::vector<Param> params_;
  PGresult* res_ = nullptr;
  int row_ = 0;
  int rows_ = 0;
};

}  // namespace

absl::Status PgError(PGconn* conn, const PGresult* res, const std::string& context) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res ? PQresultErrorMessage(res) : (conn ? PQerrorMessage(conn) : "");
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (msg.empty()) msg = "connection lost";
  msg = absl::StrCat(context, ": ", msg);
  const std::string code = state ? state : "";
  if (absl::StartsWith(code, "23")) return absl::AlreadyExistsError(msg);  // integrity
  if (code.empty() || absl::StartsWith(code, "08") ||  // no result, connection exception
      code == "40001" || code == "40P01" ||             // serialization failure, deadlock
      absl::StartsWith(code, "53") ||                   // insufficient resources (disk full)
      absl::StartsWith(code, "57P") || code == "55P03") {  // shutting down; lock not available
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(absl::StrCat(msg, " [", code, "]"));
}

namespace {

// Our SQL is written for these: standard strings (a backslash is a character), quiet notices.
// And the server gives up on a peer that went silent (a host lost, a cable cut) within ~15 s
// instead of the kernel's two hours: its session ends and the session locks it held — the
// outbox relay's — pass to a live replica. Ignored on a Unix socket, where there is no TCP.
constexpr char kSessionSettings[] =
    "SET standard_conforming_strings = on; SET client_min_messages = warning; "
    "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; "
    "SET tcp_user_timeout = 15000";

// The same from this side: a server that went silent is noticed, and the calls fail over.
std::string WithClientKeepalives(const std::string& conninfo) {
  if (absl::StrContains(conninfo, "keepalives")) return conninfo;  // the operator chose
  const bool url = absl::StartsWith(conninfo, "postgres://") || absl::StartsWith(conninfo, "postgresql://");
  constexpr char kParams[] = "keepalives=1&keepalives_idle=5&keepalives_interval=2&keepalives_count=3&tcp_user_timeout=15000";
  if (url) return absl::StrCat(conninfo, absl::StrContains(conninfo, "?") ? "&" : "?", kParams);
  return absl::StrCat(conninfo, " ", absl::StrReplaceAll(kParams, {{"&", " "}}));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Db>> PgDb::Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(WithClientKeepalives(conninfo).c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat(
        "connect to ", RedactDatabaseUrl(conninfo), ": ",
        conn ? PQerrorMessage(conn) : "out of memory"));
    if (conn) PQfinish(conn);
    return s;
  }
  std::unique_ptr<PgDb> db(new PgDb(conninfo, conn));
  absl::Status s = db->Exec(kSessionSettings);
  if (!s.ok()) return s;
  return std::unique_ptr<Db>(std::move(db));
}

PgDb::~PgDb() {
  if (conn_) PQfinish(conn_);
}

bool PgDb::Healthy() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

absl::Status PgDb::EnsureConnected() {
  if (Healthy()) return absl::OkStatus();
  // A new connection inside a transaction would run the rest of it, COMMIT included, in
  // autocommit: part of it would be committed. It fails instead, until COMMIT or ROLLBACK ends it.
  if (in_tx_) return absl::UnavailableError("the connection was lost inside a transaction: rolled back");
  PQreset(conn_);
  prepared_.clear();
  if (!Healthy()) return PgError(conn_, nullptr, "reconnect");
  return Exec(kSessionSettings);
}

absl::Status PgDb::Exec(const std::string& sql) {
  const bool ending = sql == "COMMIT" || sql == "ROLLBACK";
  if (ending && in_tx_ && !Healthy()) {  // the server rolled the transaction back with the connection
    in_tx_ = false;
    if (sql == "ROLLBACK") return absl::OkStatus();
    return absl::UnavailableError("commit: the connection was lost inside the transaction; nothing of it was committed");
  }
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  PGresult* res = PQexec(conn_, sql.c_str());
  const ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  absl::Status s;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    NoteChanges(res);
    if (sql == "BEGIN") in_tx_ = true;
  } else {
    s = PgError(conn_, res, absl::StrCat("exec ", sql.substr(0, 120)));
  }
  if (ending) in_tx_ = false;  // ended, whatever the answer (a COMMIT lost in flight is UNAVAILABLE)
  PQclear(res);
  return s;
}

absl::StatusOr<Stmt> PgDb::Prepare(const std::string& sql) {
  int nparams = 0;
  std::string translated = TranslatePlaceholders(sql, &nparams);
  auto it = names_.find(translated);
  std::string name;
  if (it != names_.end()) {
    name = it->second;
  } else if (names_.size() < 2000) {  // our SQL is a fixed set of texts; past that, unnamed
    name = absl::StrCat("pep_", next_name_++);
    names_.emplace(translated, name);
  }
  return Stmt(std::make_unique<PgStmt>(this, std::move(name), std::move(translated), nparams));
}

PGresult* PgDb::Run(const std::string& name, const std::string& sql, int nparams,
                    const char* const* values, const int* lengths, const int* formats) {
  if (!EnsureConnected().ok()) return nullptr;  // reported as a lost connection (UNAVAILABLE)
  if (name.empty()) {
    return PQexecParams(conn_, sql.c_str(), nparams, nullptr, values, lengths, formats, 0);
  }
  if (!prepared_.contains(name)) {
    PGresult* p = PQprepare(conn_, name.c_str(), sql.c_str(), nparams, nullptr);
    if (p == nullptr || PQresultStatus(p) != PGRES_COMMAND_OK) return p;  // the error
    PQclear(p);
    prepared_.insert(name);
  }
  return PQexecPrepared(conn_, name.c_str(), nparams, values, lengths, formats, 0);
}

void PgDb::NoteChanges(PGresult* res) {
  const char* n = PQcmdTuples(res);
  changes_ = (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

absl::Status PgDb::BeginWrite() {
  absl::Status s = Exec("BEGIN");
  if (!s.ok()) return s;
  s = Exec(kWriterLock);
  if (!s.ok()) (void)Exec("ROLLBACK");
  return s;
}

absl::StatusOr<bool> PgDb::TryLock(const std::string& name) {
  auto q = Prepare(absl::StrCat("SELECT pg_try_advisory_lock(", kNamedLock, ")"));
  if (!q.ok()) return q.status();
  auto row = q->Bind(1, name).Step();
  if (!row.ok()) return row.status();
  return *row && q->Int(0) == 1;
}

absl::Status PgDb::Unlock(const std::string& name) {
  auto q = Prepare(absl::StrCat("SELECT pg_advisory_unlock(", kNamedLock, ")"));
  if (!q.ok()) return q.status();
  return q->Bind(1, name).Run();
}

std::string PgDb::MigrationsTableSql() const {
  return "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
         "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
}

std::string PgDb::TranslatePlaceholders(const std::string& sql, int* nparams) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0, max = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a quoted literal or identifier, copied as is
      const size_t end = sql.find(c, i + 1);
      const size_t stop = end == std::string::npos ? sql.size() : end + 1;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // a comment to the line end
      const size_t end = sql.find('\n', i);
      const size_t stop = end == std::string::npos ? sql.size() : end;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '?') {
      size_t j = i + 1;
      int n = 0;
      while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
      if (j == i + 1) n = ++next;  // a bare `?` takes the next number
      absl::StrAppend(&out, "$", n);
      max = std::max(max, n);
      i = j - 1;
    } else {
      out.push_back(c);
    }
  }
  *nparams = max;
  return out;
}

}  // namespace pep::store
