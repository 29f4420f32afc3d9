#include "services/audit/ledger_store.h"

#include "pepiniere/gateway/v1/events.pb.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status.h"

namespace pep::audit {

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
-- Every column but global_* and kafka_* is covered by the record's hash (see ledger.h).
-- gpos is the record's place in the global chain (rowid: global order costs no index).
CREATE TABLE records (
  gpos              INTEGER PRIMARY KEY,
  ce_id             TEXT NOT NULL,  -- unique through (aggregate_id, aggregate_version)
  subject           TEXT NOT NULL,
  subject_seq       INTEGER NOT NULL,
  ce_type           TEXT NOT NULL,
  ce_source         TEXT NOT NULL,
  aggregate_id      TEXT NOT NULL,
  ce_time_us        INTEGER NOT NULL,
  actor             TEXT NOT NULL,
  correlation_id    TEXT NOT NULL,
  causation_id      TEXT NOT NULL,
  aggregate_version INTEGER NOT NULL,
  effective_us      INTEGER NOT NULL,
  topic             TEXT NOT NULL,
  payload           BLOB NOT NULL,
  prev_hash         BLOB NOT NULL,
  hash              BLOB NOT NULL,
  global_prev       BLOB NOT NULL,
  global_hash       BLOB NOT NULL,
  kafka_partition   INTEGER NOT NULL,
  kafka_offset      INTEGER NOT NULL
);
CREATE UNIQUE INDEX records_chain ON records(subject, subject_seq);
CREATE UNIQUE INDEX records_version ON records(aggregate_id, aggregate_version);
CREATE TABLE aliases (id TEXT PRIMARY KEY, subject TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE offsets (
  topic TEXT NOT NULL, kafka_partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, kafka_partition)) WITHOUT ROWID;
-- Same aggregate version under another ce_id: kept for the inspector, never chained.
CREATE TABLE duplicates (
  ce_id TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, aggregate_version INTEGER NOT NULL,
  subject TEXT NOT NULL, ce_type TEXT NOT NULL, ce_time_us INTEGER NOT NULL,
  topic TEXT NOT NULL, payload BLOB NOT NULL);
CREATE TABLE undecodable (
  topic TEXT NOT NULL, kafka_partition INTEGER NOT NULL, kafka_offset INTEGER NOT NULL,
  error TEXT NOT NULL, PRIMARY KEY (topic, kafka_partition, kafka_offset)) WITHOUT ROWID;
-- Each late insertion: which record, where, and how many records were re-hashed after it.
CREATE TABLE rechains (
  id INTEGER PRIMARY KEY, ce_id TEXT NOT NULL, subject TEXT NOT NULL, at_seq INTEGER NOT NULL,
  subject_rehashed INTEGER NOT NULL, global_rehashed INTEGER NOT NULL);
)sql"},
      // People's names, from pep-gateway's AccountCreated events: timelines name who acted.
      {2, R"sql(
CREATE TABLE actor_names (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
)sql"},
  };
  return *m;
}

constexpr char kColumns[] =
    "ce_id, subject, subject_seq, ce_type, ce_source, aggregate_id, ce_time_us, actor, "
    "correlation_id, causation_id, aggregate_version, effective_us, topic, payload, prev_hash, "
    "hash, global_prev, global_hash, kafka_partition, kafka_offset, gpos";

LedgerRecord ReadRow(const store::Stmt& q) {
  LedgerRecord r;
  events::Envelope& e = r.envelope;
  e.id = q.Text(0);
  r.subject = q.Text(1);
  r.subject_seq = q.Int(2);
  e.type = q.Text(3);
  e.source = q.Text(4);
  e.subject = q.Text(5);
  e.time = absl::FromUnixMicros(q.Int(6));
  e.actor = q.Text(7);
  e.correlation_id = q.Text(8);
  e.causation_id = q.Text(9);
  e.aggregate_version = q.Int(10);
  e.effective_time = absl::FromUnixMicros(q.Int(11));
  r.topic = q.Text(12);
  r.payload = q.Text(13);
  r.prev_hash = q.Text(14);
  r.hash = q.Text(15);
  r.global_prev = q.Text(16);
  r.global_hash = q.Text(17);
  r.kafka_partition = static_cast<int>(q.Int(18));
  r.kafka_offset = q.Int(19);
  r.gpos = q.Int(20);
  return r;
}

absl::StatusOr<std::vector<LedgerRecord>> ReadAll(store::Stmt& q) {
  std::vector<LedgerRecord> out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(ReadRow(q));
  }
}

// Users' answers: one aggregate each, found through their start-up, never by their own id.
bool IsFeedback(const LedgerRecord& r) { return r.envelope.type.rfind("pepiniere.feedback.", 0) == 0; }
// pep-gateway's access events: a grant on a start-up or challenge names it as its correlation
// id, which is an aggregate id, not a lineage root — it is resolved to that lineage.
bool IsAccess(const LedgerRecord& r) { return r.envelope.type.rfind("pepiniere.gateway.", 0) == 0; }

}  // namespace

absl::StatusOr<std::unique_ptr<LedgerStore>> LedgerStore::Open(const std::string& path) {
  // 16 KiB pages: the ledger only appends rows of ~0.5 KiB and reads them in long runs; a
  // fresh ledger sealed 20 % faster than with 4 KiB pages (pep-audit-seal-bench). An existing
  // file keeps its page size.
  auto db = store::Db::Open(path, 16384);
  if (!db.ok()) return db.status();
  PEP_RETURN_IF_ERROR((*db)->Migrate(Migrations()));
  // The chain and version indexes take appends all over the tree (one spot per lineage and
  // aggregate): a page cache that holds them saves a read and a write per record.
  PEP_RETURN_IF_ERROR((*db)->Exec("PRAGMA cache_size=-262144"));
  auto reader = store::Db::Open(path);
  if (!reader.ok()) return reader.status();
  auto store = std::unique_ptr<LedgerStore>(new LedgerStore(std::move(*db), std::move(*reader)));
  store->path_ = path;
  // A catching-up ledger seals tens of thousands of records per transaction: copying them into
  // the database file on another thread (and core) keeps that out of the sealer's time.
  auto checkpointer = store::WalCheckpointer::Attach(*store->db_, path);
  if (!checkpointer.ok()) return checkpointer.status();
  store->checkpointer_ = std::move(*checkpointer);
  return store;
}

// ---------------------------------------------------------------------------- writer side

absl::StatusOr<LedgerStore::Head*> LedgerStore::SubjectHead(const std::string& subject) {
  auto it = heads_.find(subject);
  if (it != heads_.end()) return &it->second;
  auto q = db_->Prepare(
      "SELECT subject_seq, hash, ce_time_us, ce_id FROM records WHERE subject = ? "
      "ORDER BY subject_seq DESC LIMIT 1");
  if (!q.ok()) return q.status();
  q->Bind(1, subject);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  Head h;
  if (*row) h = {q->Int(0), q->Text(1), absl::FromUnixMicros(q->Int(2)), q->Text(3)};
  return &heads_.emplace(subject, std::move(h)).first->second;
}

absl::Status LedgerStore::LoadGlobalHead() {
  if (global_loaded_) return absl::OkStatus();
  auto q = db_->Prepare(
      "SELECT gpos, global_hash, ce_time_us, ce_id FROM records ORDER BY gpos DESC LIMIT 1");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  global_ = Head{};
  if (*row) global_ = {q->Int(0), q->Text(1), absl::FromUnixMicros(q->Int(2)), q->Text(3)};
  global_loaded_ = true;
  return absl::OkStatus();
}

absl::Status LedgerStore::Write(const LedgerRecord& r, int64_t gpos) {
  const events::Envelope& e = r.envelope;
  if (!insert_) {
    auto ins = db_->Prepare(absl::StrCat("INSERT OR IGNORE INTO records(", kColumns,
                                         ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    if (!ins.ok()) return ins.status();
    insert_.emplace(std::move(*ins));
  }
  insert_->Reset();
  return insert_->Bind(1, e.id)
      .BindView(2, r.subject)
      .Bind(3, r.subject_seq)
      .BindView(4, e.type)
      .BindView(5, e.source)
      .BindView(6, e.subject)
      .Bind(7, absl::ToUnixMicros(e.time))
      .BindView(8, e.actor)
      .BindView(9, e.correlation_id)
      .BindView(10, e.causation_id)
      .Bind(11, e.aggregate_version)
      .Bind(12, absl::ToUnixMicros(e.effective_time))
      .BindView(13, r.topic)
      .BindBlobView(14, r.payload)
      .BindBlobView(15, r.prev_hash)
      .BindBlobView(16, r.hash)
      .BindBlobView(17, r.global_prev)
      .BindBlobView(18, r.global_hash)
      .Bind(19, static_cast<int64_t>(r.kafka_partition))
      .Bind(20, r.kafka_offset)
      .Bind(21, gpos)
      .Run();
}

absl::StatusOr<bool> LedgerStore::KeepDuplicate(const LedgerRecord& r) {
  auto seen = db_->Prepare(
      "SELECT ce_id FROM records WHERE aggregate_id = ? AND aggregate_version = ?");
  if (!seen.ok()) return seen.status();
  seen->Bind(1, r.envelope.subject).Bind(2, r.envelope.aggregate_version);
  auto row = seen->Step();
  if (!row.ok()) return row.status();
  if (*row && seen->Text(0) == r.envelope.id) return false;  // redelivered: nothing to keep
  auto ins = db_->Prepare(
      "INSERT OR IGNORE INTO duplicates(ce_id, aggregate_id, aggregate_version, subject, ce_type, "
      "ce_time_us, topic, payload) VALUES (?,?,?,?,?,?,?,?)");
  if (!ins.ok()) return ins.status();
  PEP_RETURN_IF_ERROR(ins->Bind(1, r.envelope.id)
                          .Bind(2, r.envelope.subject)
                          .Bind(3, r.envelope.aggregate_version)
                          .Bind(4, r.subject)
                          .Bind(5, r.envelope.type)
                          .Bind(6, absl::ToUnixMicros(r.envelope.time))
                          .Bind(7, r.topic)
                          .BindBlob(8, r.payload)
                          .Run());
  return db_->Changes() > 0;
}

absl::Status LedgerStore::CountGap(const LedgerRecord& r, SealResult& result) {
  const int64_t v = r.envelope.aggregate_version;
  // The highest version sealed per aggregate past its first, kept while it fits (then probed
  // in SQLite). Most aggregates (users' answers) never get a second version: not kept at all.
  if (auto it = last_version_.find(r.envelope.subject); it != last_version_.end()) {
    const int64_t before = it->second;
    it->second = std::max(before, v);
    if (before < v - 1) ++result.gaps;
    return absl::OkStatus();
  }
  if (v <= 1) return absl::OkStatus();
  if (last_version_.size() > 1000000) last_version_.clear();
  last_version_.emplace(r.envelope.subject, v);
  if (!gap_probe_) {
    auto q = db_->Prepare("SELECT 1 FROM records WHERE aggregate_id = ? AND aggregate_version = ?");
    if (!q.ok()) return q.status();
    gap_probe_.emplace(std::move(*q));
  }
  gap_probe_->Reset();
  gap_probe_->Bind(1, r.envelope.subject).Bind(2, r.envelope.aggregate_version - 1);
  auto row = gap_probe_->Step();
  if (!row.ok()) return row.status();
  if (!*row) ++result.gaps;
  gap_probe_->Reset();
  return absl::OkStatus();
}

absl::StatusOr<bool> LedgerStore::AppendOne(LedgerRecord& r, SealResult& result) {
  auto head = SubjectHead(r.subject);
  if (!head.ok()) return head.status();
  Head& h = **head;
  r.subject_seq = h.seq + 1;
  r.prev_hash = h.seq == 0 ? ZeroHash() : h.hash;
  r.hash = ChainHash(r.prev_hash, r);
  r.global_prev = global_.hash.empty() ? ZeroHash() : global_.hash;
  r.global_hash = GlobalHash(r.global_prev, r.hash);
  PEP_RETURN_IF_ERROR(Write(r, global_.seq + 1));
  if (db_->Changes() == 0) {  // ce_id or aggregate version already there
    auto kept = KeepDuplicate(r);
    if (!kept.ok()) return kept.status();
    ++(*kept ? result.duplicates : result.redelivered);
    return false;
  }
  // In place: the heads' strings keep their buffers from one record to the next.
  h.seq = r.subject_seq;
  h.hash.assign(r.hash);
  h.time = r.envelope.time;
  h.ce_id.assign(r.envelope.id);
  global_.seq += 1;
  global_.hash.assign(r.global_hash);
  global_.time = r.envelope.time;
  global_.ce_id.assign(r.envelope.id);
  PEP_RETURN_IF_ERROR(CountGap(r, result));
  return true;
}

absl::StatusOr<int64_t> LedgerStore::InsertGlobal(LedgerRecord& r) {
  // The records after r in chain order: the end of the global chain, read backwards.
  struct Later {
    int64_t gpos;
    std::string ce_id, hash;
  };
  std::vector<Later> suffix;
  {
    auto q = db_->Prepare("SELECT gpos, ce_time_us, ce_id, hash FROM records ORDER BY gpos DESC");
    if (!q.ok()) return q.status();
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (!KeyBefore(r.envelope.time, r.envelope.id, absl::FromUnixMicros(q->Int(1)), q->Text(2))) {
        break;
      }
      suffix.push_back({q->Int(0), q->Text(2), q->Text(3)});
    }
  }
  std::reverse(suffix.begin(), suffix.end());
  const int64_t at = suffix.empty() ? global_.seq + 1 : suffix.front().gpos;
  std::string prev = ZeroHash();
  if (at > 1) {
    auto q = db_->Prepare("SELECT global_hash FROM records WHERE gpos = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, at - 1);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (*row) prev = q->Text(0);
  }
  PEP_RETURN_IF_ERROR(
      db_->Prepare("UPDATE records SET gpos = -(gpos + 1) WHERE gpos >= ?")->Bind(1, at).Run());
  PEP_RETURN_IF_ERROR(db_->Exec("UPDATE records SET gpos = -gpos WHERE gpos < 0"));
  r.global_prev = prev;
  r.global_hash = GlobalHash(prev, r.hash);
  PEP_RETURN_IF_ERROR(Write(r, at));
  prev = r.global_hash;
  auto upd = db_->Prepare("UPDATE records SET global_prev = ?, global_hash = ? WHERE gpos = ?");
  if (!upd.ok()) return upd.status();
  for (const Later& l : suffix) {  // each moved one place up
    const std::string global = GlobalHash(prev, l.hash);
    upd->Reset();
    PEP_RETURN_IF_ERROR(upd->BindBlob(1, prev).BindBlob(2, global).Bind(3, l.gpos + 1).Run());
    prev = global;
  }
  global_.seq += 1;
  global_.hash = prev;
  if (suffix.empty()) {
    global_.time = r.envelope.time;
    global_.ce_id = r.envelope.id;
  }
  return static_cast<int64_t>(suffix.size());
}

absl::StatusOr<bool> LedgerStore::InsertLate(LedgerRecord& r, SealResult& result) {
  {
    auto q = db_->Prepare("SELECT 1 FROM records WHERE aggregate_id = ? AND aggregate_version = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, r.envelope.subject).Bind(2, r.envelope.aggregate_version);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (*row) {  // a redelivery, or another event claiming the same version
      auto kept = KeepDuplicate(r);
      if (!kept.ok()) return kept.status();
      ++(*kept ? result.duplicates : result.redelivered);
      return false;
    }
  }
  auto head = SubjectHead(r.subject);
  if (!head.ok()) return head.status();
  Head& h = **head;
  const int64_t t = absl::ToUnixMicros(r.envelope.time);
  auto sq = db_->Prepare(absl::StrCat("SELECT ", kColumns,
                                      " FROM records WHERE subject = ? AND (ce_time_us > ? OR "
                                      "(ce_time_us = ? AND ce_id > ?)) ORDER BY subject_seq"));
  if (!sq.ok()) return sq.status();
  sq->Bind(1, r.subject).Bind(2, t).Bind(3, t).Bind(4, r.envelope.id);
  auto suffix = ReadAll(*sq);
  if (!suffix.ok()) return suffix.status();
  const int64_t at = suffix->empty() ? h.seq + 1 : suffix->front().subject_seq;
  std::string prev = ZeroHash();
  if (at > 1) {
    auto q = db_->Prepare("SELECT hash FROM records WHERE subject = ? AND subject_seq = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, r.subject).Bind(2, at - 1);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (*row) prev = q->Text(0);
  }
  // Make room: shift the suffix by one (through negative numbers, so the unique index holds).
  PEP_RETURN_IF_ERROR(db_->Prepare("UPDATE records SET subject_seq = -(subject_seq + 1) "
                                   "WHERE subject = ? AND subject_seq >= ?")
                          ->Bind(1, r.subject)
                          .Bind(2, at)
                          .Run());
  PEP_RETURN_IF_ERROR(db_->Prepare("UPDATE records SET subject_seq = -subject_seq "
                                   "WHERE subject = ? AND subject_seq < 0")
                          ->Bind(1, r.subject)
                          .Run());
  r.subject_seq = at;
  r.prev_hash = prev;
  r.hash = ChainHash(prev, r);
  prev = r.hash;
  auto upd = db_->Prepare("UPDATE records SET prev_hash = ?, hash = ? WHERE gpos = ?");
  if (!upd.ok()) return upd.status();
  for (LedgerRecord& s : *suffix) {
    s.subject_seq += 1;
    s.prev_hash = prev;
    s.hash = ChainHash(prev, s);
    upd->Reset();
    PEP_RETURN_IF_ERROR(upd->BindBlob(1, s.prev_hash).BindBlob(2, s.hash).Bind(3, s.gpos).Run());
    prev = s.hash;
  }
  h.seq += 1;
  h.hash = prev;
  if (suffix->empty()) {
    h.time = r.envelope.time;
    h.ce_id = r.envelope.id;
  }
  // Written now, with the lineage suffix already re-hashed: the global suffix links those hashes.
  auto global_rehashed = InsertGlobal(r);
  if (!global_rehashed.ok()) return global_rehashed.status();
  PEP_RETURN_IF_ERROR(db_->Prepare("INSERT INTO rechains(ce_id, subject, at_seq, subject_rehashed, "
                                   "global_rehashed) VALUES (?,?,?,?,?)")
                          ->Bind(1, r.envelope.id)
                          .Bind(2, r.subject)
                          .Bind(3, at)
                          .Bind(4, static_cast<int64_t>(suffix->size()))
                          .Bind(5, *global_rehashed)
                          .Run());
  ++result.late;
  PEP_RETURN_IF_ERROR(CountGap(r, result));
  return true;
}

absl::StatusOr<SealResult> LedgerStore::Seal(std::vector<LedgerRecord>& records,
                                             const std::vector<UndecodableRecord>& undecodable,
                                             const std::vector<PartitionOffset>& offsets) {
  SealResult result;
  auto run = [&]() -> absl::Status {
    store::Transaction tx(*db_);
    PEP_RETURN_IF_ERROR(tx.status());
    PEP_RETURN_IF_ERROR(LoadGlobalHead());
    auto alias = db_->Prepare("INSERT OR IGNORE INTO aliases(id, subject) VALUES (?, ?)");
    if (!alias.ok()) return alias.status();
    auto lineage = db_->Prepare("SELECT subject FROM aliases WHERE id = ?");
    if (!lineage.ok()) return lineage.status();
    auto name = db_->Prepare("INSERT OR REPLACE INTO actor_names(id, name) VALUES (?, ?)");
    if (!name.ok()) return name.status();
    for (LedgerRecord& r : records) {
      if (IsAccess(r) && !r.envelope.correlation_id.empty()) {
        lineage->Reset();
        lineage->Bind(1, r.envelope.correlation_id);
        auto row = lineage->Step();
        if (!row.ok()) return row.status();
        if (*row) r.subject = lineage->Text(0);
      }
      if (r.envelope.type == "pepiniere.gateway.v1.AccountCreated") {
        pepiniere::gateway::v1::AccountCreated created;
        if (created.ParseFromString(r.payload) && !created.display_name().empty()) {
          name->Reset();
          PEP_RETURN_IF_ERROR(name->Bind(1, created.account_id()).Bind(2, created.display_name()).Run());
        }
      }
      const bool late = !global_.ce_id.empty() &&
                        KeyBefore(r.envelope.time, r.envelope.id, global_.time, global_.ce_id);
      auto added = late ? InsertLate(r, result) : AppendOne(r, result);
      if (!added.ok()) return added.status();
      if (!*added) continue;
      ++result.appended;
      ++result.appended_by_type[r.envelope.type];
      result.newest_recorded = std::max(result.newest_recorded, r.envelope.time);
      // Aggregate ids of ideas, challenges and start-ups find their lineage (feedback ids don't
      // need to: a feedback is found through its start-up).
      for (const std::string* id : {&r.subject, &r.envelope.subject}) {
        if ((IsFeedback(r) || IsAccess(r)) && id != &r.subject) continue;
        if (aliased_.contains(*id)) continue;
        alias->Reset();
        PEP_RETURN_IF_ERROR(alias->Bind(1, *id).Bind(2, r.subject).Run());
        aliased_.insert(*id);
      }
    }
    for (const UndecodableRecord& u : undecodable) {
      PEP_RETURN_IF_ERROR(db_->Prepare("INSERT OR IGNORE INTO undecodable(topic, kafka_partition, "
                                       "kafka_offset, error) VALUES (?,?,?,?)")
                              ->Bind(1, u.topic)
                              .Bind(2, static_cast<int64_t>(u.partition))
                              .Bind(3, u.offset)
                              .Bind(4, u.error)
                              .Run());
    }
    auto off = db_->Prepare(
        "INSERT INTO offsets(topic, kafka_partition, next_offset) VALUES (?,?,?) "
        "ON CONFLICT(topic, kafka_partition) DO UPDATE SET next_offset = excluded.next_offset");
    if (!off.ok()) return off.status();
    for (const PartitionOffset& o : offsets) {
      off->Reset();
      PEP_RETURN_IF_ERROR(
          off->Bind(1, o.topic).Bind(2, static_cast<int64_t>(o.partition)).Bind(3, o.next_offset).Run());
    }
    return tx.Commit();
  };
  absl::Status s = run();
  if (!s.ok()) {  // the transaction rolled back: forget what the caches learned during it
    heads_.clear();
    aliased_.clear();
    last_version_.clear();
    global_loaded_ = false;
    return s;
  }
  return result;
}

absl::StatusOr<std::map<std::pair<std::string, int>, int64_t>> LedgerStore::Offsets() {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT topic, kafka_partition, next_offset FROM offsets");
  if (!q.ok()) return q.status();
  std::map<std::pair<std::string, int>, int64_t> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out[{q->Text(0), static_cast<int>(q->Int(1))}] = q->Int(2);
  }
}

// ---------------------------------------------------------------------------- reader side

absl::StatusOr<std::string> LedgerStore::Resolve(const std::string& id) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT subject FROM aliases WHERE id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("id: no ledger record for '", id, "'"));
  return q->Text(0);
}

absl::StatusOr<std::map<std::string, std::string>> LedgerStore::ActorNames(
    const std::set<std::string>& ids) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT name FROM actor_names WHERE id = ?");
  if (!q.ok()) return q.status();
  std::map<std::string, std::string> out;
  for (const std::string& id : ids) {
    q->Reset();
    q->Bind(1, id);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (*row) out[id] = q->Text(0);
  }
  return out;
}

absl::StatusOr<std::vector<LedgerRecord>> LedgerStore::Subject(const std::string& subject) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare(
      absl::StrCat("SELECT ", kColumns, " FROM records WHERE subject = ? ORDER BY subject_seq"));
  if (!q.ok()) return q.status();
  q->Bind(1, subject);
  return ReadAll(*q);
}

absl::Status LedgerStore::ForEach(const std::string& subject,
                                  const std::function<bool(const LedgerRecord&)>& visit) {
  // Its own connection: an export streams to a client at the client's pace, and must not hold
  // the shared reader (every other query) meanwhile. One read transaction = one snapshot.
  auto db = store::Db::Open(path_);
  if (!db.ok()) return db.status();
  store::Transaction snapshot(**db);
  PEP_RETURN_IF_ERROR(snapshot.status());
  auto q = subject.empty()
               ? (*db)->Prepare(absl::StrCat("SELECT ", kColumns, " FROM records ORDER BY gpos"))
               : (*db)->Prepare(absl::StrCat("SELECT ", kColumns,
                                             " FROM records WHERE subject = ? ORDER BY subject_seq"));
  if (!q.ok()) return q.status();
  if (!subject.empty()) q->Bind(1, subject);
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row || !visit(ReadRow(*q))) return absl::OkStatus();
  }
}

absl::StatusOr<absl::Time> LedgerStore::NewestRecorded() {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT ce_time_us FROM records ORDER BY gpos DESC LIMIT 1");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return *row ? absl::FromUnixMicros(q->Int(0)) : absl::InfinitePast();
}

absl::StatusOr<int64_t> LedgerStore::Count() {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT count(*) FROM records");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return q->Int(0);
}

absl::StatusOr<LedgerReport> LedgerStore::Verify(const std::string& subject) {
  absl::MutexLock l(&read_mu_);
  store::Transaction snapshot(*reader_);
  PEP_RETURN_IF_ERROR(snapshot.status());
  LedgerReport report;
  std::vector<LedgerRecord> chain;
  auto flush = [&] {
    if (chain.empty()) return;
    Verification v = pep::audit::Verify(chain);
    report.records += v.records;
    ++report.subjects;
    if (v.first_broken_seq != 0) {
      report.broken.push_back({chain.front().subject, v.first_broken_seq, v.first_broken_ce_id,
                               "hash does not recompute from the record and its predecessor"});
    }
    // A chain must be numbered 1..n: a deleted last record leaves no broken hash, but a hole.
    for (size_t i = 0; i < chain.size(); ++i) {
      if (chain[i].subject_seq != static_cast<int64_t>(i) + 1) {
        report.broken.push_back({chain.front().subject, static_cast<int64_t>(i) + 1, "",
                                 absl::StrCat("record ", i + 1, " missing from the chain")});
        break;
      }
    }
    for (auto& g : v.gaps) report.gaps.push_back(std::move(g));
    for (auto& d : v.duplicates) report.duplicates.push_back(std::move(d));
    chain.clear();
  };
  {
    auto q = subject.empty()
                 ? reader_->Prepare(absl::StrCat("SELECT ", kColumns,
                                                 " FROM records ORDER BY subject, subject_seq"))
                 : reader_->Prepare(absl::StrCat(
                       "SELECT ", kColumns, " FROM records WHERE subject = ? ORDER BY subject_seq"));
    if (!q.ok()) return q.status();
    if (!subject.empty()) q->Bind(1, subject);
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      LedgerRecord r = ReadRow(*q);
      if (!chain.empty() && chain.front().subject != r.subject) flush();
      chain.push_back(std::move(r));
    }
    flush();
  }
  if (subject.empty()) {  // the global chain
    auto q = reader_->Prepare(
        "SELECT ce_id, hash, global_prev, global_hash, ce_time_us FROM records ORDER BY gpos");
    if (!q.ok()) return q.status();
    std::string prev = ZeroHash(), last_id;
    absl::Time last_t;
    int64_t n = 0;
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ++n;
      const std::string ce_id = q->Text(0), hash = q->Text(1), global_prev = q->Text(2),
                        global = q->Text(3);
      const absl::Time t = absl::FromUnixMicros(q->Int(4));
      const char* why = global_prev != prev                  ? "does not follow its predecessor"
                        : global != GlobalHash(prev, hash)   ? "global hash does not recompute"
                        : n > 1 && !KeyBefore(last_t, last_id, t, ce_id) ? "out of chain order"
                                                             : nullptr;
      if (why != nullptr) {
        report.broken.push_back({"global", n, ce_id, why});
        break;
      }
      prev = global;
      last_t = t;
      last_id = ce_id;
    }
    report.global_head_hash = Hex(prev);
  }
  {
    auto q = subject.empty()
                 ? reader_->Prepare("SELECT aggregate_id, aggregate_version, ce_id FROM duplicates")
                 : reader_->Prepare("SELECT aggregate_id, aggregate_version, ce_id FROM duplicates "
                                    "WHERE subject = ?");
    if (!q.ok()) return q.status();
    if (!subject.empty()) q->Bind(1, subject);
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      report.duplicates.push_back(absl::StrCat(q->Text(0), ": version ", q->Int(1),
                                               " repeated by ", q->Text(2), " (ignored)"));
    }
  }
  if (subject.empty()) {
    auto q = reader_->Prepare("SELECT topic, kafka_partition, kafka_offset, error FROM undecodable");
    if (!q.ok()) return q.status();
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      report.undecodable.push_back(
          absl::StrCat(q->Text(0), "/", q->Int(1), "@", q->Int(2), ": ", q->Text(3)));
    }
  }
  return report;
}

}  // namespace pep::audit
