#include "services/audit/ledger_store.h"

#include "common/clock.h"
#include "store/outbox.h"

namespace pep::audit {

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
CREATE TABLE ledger (
  subject     TEXT NOT NULL,
  subject_seq INTEGER NOT NULL,
  ce_id       TEXT NOT NULL UNIQUE,
  ce_time_us  INTEGER NOT NULL,
  topic       TEXT NOT NULL,
  headers     BLOB NOT NULL,  -- the envelope as CloudEvents headers (outbox encoding)
  payload     BLOB NOT NULL,
  prev_hash   BLOB NOT NULL,
  hash        BLOB NOT NULL,
  PRIMARY KEY (subject, subject_seq)
) WITHOUT ROWID;
)sql"},
  };
  return *m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LedgerStore>> LedgerStore::Open(const std::string& path) {
  auto db = store::Db::Open(path);
  if (!db.ok()) return db.status();
  absl::Status s = (*db)->Migrate(Migrations());
  if (!s.ok()) return s;
  return std::unique_ptr<LedgerStore>(new LedgerStore(std::move(*db)));
}

absl::StatusOr<std::vector<LedgerRecord>> LedgerStore::Load(const std::string& subject) {
  auto q = db_->Prepare(
      "SELECT subject_seq, topic, headers, payload, prev_hash, hash FROM ledger "
      "WHERE subject = ? ORDER BY subject_seq");
  if (!q.ok()) return q.status();
  q->Bind(1, subject);
  std::vector<LedgerRecord> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    LedgerRecord r;
    r.subject = subject;
    r.subject_seq = q->Int(0);
    r.topic = q->Text(1);
    auto headers = store::DecodeHeaders(q->Text(2));
    if (!headers.ok()) return headers.status();
    auto env = events::FromHeaders(*headers);
    if (!env.ok()) return absl::DataLossError("ledger row with an undecodable envelope");
    r.envelope = std::move(*env);
    r.payload = q->Text(3);
    r.prev_hash = q->Text(4);
    r.hash = q->Text(5);
    out.push_back(std::move(r));
  }
}

absl::StatusOr<bool> LedgerStore::Append(const LedgerRecord& record) {
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  {
    auto seen = db_->Prepare("SELECT 1 FROM ledger WHERE ce_id = ?");
    if (!seen.ok()) return seen.status();
    seen->Bind(1, record.envelope.id);
    auto row = seen->Step();
    if (!row.ok()) return row.status();
    if (*row) return false;  // redelivered
  }
  auto chain = Load(record.subject);
  if (!chain.ok()) return chain.status();
  const size_t from = Insert(*chain, record);
  // Rewrite the subject's rows from the insertion point (usually just the new last one).
  auto del = db_->Prepare("DELETE FROM ledger WHERE subject = ? AND subject_seq > ?");
  if (!del.ok()) return del.status();
  absl::Status s = del->Bind(1, record.subject).Bind(2, static_cast<int64_t>(from)).Run();
  if (!s.ok()) return s;
  auto ins = db_->Prepare(
      "INSERT INTO ledger(subject, subject_seq, ce_id, ce_time_us, topic, headers, payload, "
      "prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)");
  if (!ins.ok()) return ins.status();
  for (size_t i = from; i < chain->size(); ++i) {
    const LedgerRecord& r = (*chain)[i];
    ins->Reset();
    s = ins->Bind(1, r.subject)
            .Bind(2, r.subject_seq)
            .Bind(3, r.envelope.id)
            .Bind(4, absl::ToUnixMicros(r.envelope.time))
            .Bind(5, r.topic)
            .BindBlob(6, store::EncodeHeaders(events::ToHeaders(r.envelope)))
            .BindBlob(7, r.payload)
            .BindBlob(8, r.prev_hash)
            .BindBlob(9, r.hash)
            .Run();
    if (!s.ok()) return s;
  }
  s = tx.Commit();
  if (!s.ok()) return s;
  return true;
}

absl::StatusOr<std::vector<LedgerRecord>> LedgerStore::Subject(const std::string& subject) {
  absl::MutexLock l(&mu_);
  return Load(subject);
}

absl::StatusOr<Verification> LedgerStore::VerifySubject(const std::string& subject) {
  auto records = Subject(subject);
  if (!records.ok()) return records.status();
  return Verify(*records);
}

}  // namespace pep::audit
