#include "services/audit/log_index.h"
#include "services/audit/log_index_rows.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "pepiniere/audit/v1/log.pb.h"
#include "pepiniere/gateway/v1/events.pb.h"

namespace pep::audit {

namespace av1 = pepiniere::audit::v1;

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
-- One row per log entry (idx = its index in the log). `entry` is the canonical entry (version
-- 2) and `leaf` its RFC 9162 leaf hash; the other columns are the entry decoded, for queries.
CREATE TABLE entries (
  idx               INTEGER PRIMARY KEY,
  ce_id             TEXT NOT NULL,  -- once, unless the log is not the sequencer's (Verify says)
  subject           TEXT NOT NULL,
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
  entry             BLOB NOT NULL,
  leaf              BLOB NOT NULL,
  source_partition  INTEGER NOT NULL,
  source_offset     INTEGER NOT NULL,
  v1_subject_seq    INTEGER,  -- migrated from a version 1 ledger: its place and hashes there
  v1_hash           BLOB,
  v1_global_hash    BLOB
);
CREATE INDEX entries_subject ON entries(subject, ce_time_us, ce_id);
CREATE INDEX entries_version ON entries(aggregate_id, aggregate_version);
CREATE INDEX entries_ce_id ON entries(ce_id);
CREATE TABLE aliases (id TEXT PRIMARY KEY, subject TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE actor_names (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, log_offset INTEGER NOT NULL);
-- Log records the index refused (a bundle that does not continue the log, a checkpoint that
-- does not verify): the log is not what pep-audit wrote, and VerifyLedger says so.
CREATE TABLE problems (id INTEGER PRIMARY KEY, log_offset INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE undecodable (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
CREATE TABLE state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
)sql"},
      // Lineages opened by an access event (a token or grant on a start-up) before anything of
      // the start-up itself was indexed: filed under the start-up id until its own events say
      // which lineage it belongs to, then merged into that one (issue 26).
      {2, R"sql(
CREATE TABLE provisional (subject TEXT PRIMARY KEY) WITHOUT ROWID;
-- An index built before this step: each lineage that only access events opened joins the
-- lineage its aggregate's own events were filed under, or stays provisional until they come.
CREATE TEMP TABLE moves AS
  SELECT DISTINCT a.subject AS old,
         (SELECT o.subject FROM entries o
           WHERE o.aggregate_id = a.subject AND o.ce_type NOT LIKE 'pepiniere.gateway.%'
             AND o.ce_type NOT LIKE 'pepiniere.feedback.%' LIMIT 1) AS new
    FROM entries a
   WHERE a.ce_type LIKE 'pepiniere.gateway.%' AND a.subject = a.correlation_id
     AND a.correlation_id <> a.aggregate_id;
UPDATE entries SET subject = (SELECT new FROM moves WHERE old = entries.subject)
 WHERE subject IN (SELECT old FROM moves WHERE new IS NOT NULL);
UPDATE aliases SET subject = (SELECT new FROM moves WHERE old = aliases.subject)
 WHERE subject IN (SELECT old FROM moves WHERE new IS NOT NULL);
INSERT INTO provisional(subject) SELECT old FROM moves WHERE new IS NULL;
DROP TABLE moves;
)sql"},
  };
  return *m;
}

bool IsFeedback(const LedgerRecord& r) { return r.envelope.type.rfind("pepiniere.feedback.", 0) == 0; }
bool IsAccess(const LedgerRecord& r) { return r.envelope.type.rfind("pepiniere.gateway.", 0) == 0; }


}  // namespace

using internal::kColumns;
using internal::Raw;
using internal::ReadRow;

absl::StatusOr<std::unique_ptr<LogIndex>> LogIndex::Open(const std::string& path,
                                                         std::string origin,
                                                         std::string verifier_key) {
  auto db = store::Db::Open(path, 16384);
  if (!db.ok()) return db.status();
  PEP_RETURN_IF_ERROR((*db)->Migrate(Migrations()));
  PEP_RETURN_IF_ERROR((*db)->Exec("PRAGMA cache_size=-262144"));
  // The index is not the ledger: the log topic is. A commit need not reach the disk before the
  // next one (WAL, synchronous=NORMAL: never corrupt, at worst the last commits roll back on a
  // power cut — and the log offset with them, so the follower reads those records again).
  PEP_RETURN_IF_ERROR((*db)->Exec("PRAGMA synchronous=NORMAL"));
  auto reader = store::Db::Open(path);
  if (!reader.ok()) return reader.status();
  auto index = std::unique_ptr<LogIndex>(new LogIndex(std::move(*db), std::move(*reader)));
  index->origin_ = std::move(origin);
  index->verifier_key_ = std::move(verifier_key);
  index->path_ = path;
  auto checkpointer = store::WalCheckpointer::Attach(*index->db_, path);
  if (!checkpointer.ok()) return checkpointer.status();
  index->checkpointer_ = std::move(*checkpointer);
  PEP_RETURN_IF_ERROR(index->LoadTree());
  PEP_RETURN_IF_ERROR(index->LoadProvisional());
  return index;
}

absl::Status LogIndex::LoadProvisional() {
  provisional_.clear();
  auto q = db_->Prepare("SELECT subject FROM provisional");
  if (!q.ok()) return q.status();
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    provisional_.insert(q->Text(0));
  }
}

// Entries are filed by lineage in the index only (the entry bytes do not name it), so moving a
// provisional lineage into the true one changes no hash: the log and its proofs stay as they are.
absl::Status LogIndex::MergeLineage(const std::string& provisional, const std::string& lineage) {
  if (provisional != lineage) {
    PEP_RETURN_IF_ERROR(db_->Prepare("UPDATE entries SET subject = ? WHERE subject = ?")
                            ->Bind(1, lineage)
                            .Bind(2, provisional)
                            .Run());
    PEP_RETURN_IF_ERROR(db_->Prepare("UPDATE aliases SET subject = ? WHERE subject = ?")
                            ->Bind(1, lineage)
                            .Bind(2, provisional)
                            .Run());
  }
  PEP_RETURN_IF_ERROR(db_->Prepare("DELETE FROM provisional WHERE subject = ?")->Bind(1, provisional).Run());
  provisional_.erase(provisional);
  return absl::OkStatus();
}

absl::Status LogIndex::LoadTree() {
  absl::MutexLock l(&tree_mu_);
  auto q = db_->Prepare("SELECT idx, leaf FROM entries ORDER BY idx");
  if (!q.ok()) return q.status();
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const std::string leaf = q->Text(1);
    if (q->Int(0) != static_cast<int64_t>(tree_.size()) || leaf.size() != 32) {
      return absl::DataLossError(absl::StrCat("index: entry ", tree_.size(),
                                              " is missing or malformed; rebuild the index from "
                                              "the log (remove the index file)"));
    }
    tlog::Hash h;
    std::copy(leaf.begin(), leaf.end(), h.begin());
    tree_.Append(h);
    range_.Append(h);
  }
  auto c = db_->Prepare("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1");
  if (!c.ok()) return c.status();
  auto row = c->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    const std::string note = c->Text(0);
    auto text = tlog::OpenNote(note, verifier_key_);
    if (!text.ok()) return text.status();
    auto cp = tlog::ParseCheckpoint(*text);
    if (!cp.ok()) return cp.status();
    latest_ = SignedCheckpoint{note, *cp};
  }
  auto s = db_->Prepare("SELECT value FROM state WHERE key = 'next_log_offset'");
  if (!s.ok()) return s.status();
  row = s->Step();
  if (!row.ok()) return row.status();
  next_log_offset_ = *row ? s->Int(0) : 0;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------- writer side

absl::Status LogIndex::CountGap(const LedgerRecord& r, Applied& out) {
  const int64_t v = r.envelope.aggregate_version;
  if (auto it = last_version_.find(r.envelope.subject); it != last_version_.end()) {
    if (it->second < v - 1) ++out.gaps;
    it->second = std::max(it->second, v);
    return absl::OkStatus();
  }
  if (v <= 1) return absl::OkStatus();
  if (last_version_.size() > 1000000) last_version_.clear();
  last_version_.emplace(r.envelope.subject, v);
  if (!gap_) {
    auto q = db_->Prepare("SELECT 1 FROM entries WHERE aggregate_id = ? AND aggregate_version = ?");
    if (!q.ok()) return q.status();
    gap_.emplace(std::move(*q));
  }
  gap_->Reset();
  gap_->Bind(1, r.envelope.subject).Bind(2, v - 1);
  auto row = gap_->Step();
  if (!row.ok()) return row.status();
  if (!*row) ++out.gaps;
  gap_->Reset();
  return absl::OkStatus();
}

absl::Status LogIndex::ApplyRecord(int64_t offset, const std::string& value, Applied& out,
                                   std::vector<tlog::Hash>& leaves, tlog::CompactRange& working,
                                   std::optional<SignedCheckpoint>& newest) {
  av1::LogRecord rec;
  if (!rec.ParseFromString(value)) {
    out.problems.push_back(absl::StrCat("log offset ", offset, ": not a log record"));
    return absl::OkStatus();
  }
  if (rec.has_checkpoint()) return ApplyCheckpoint(offset, rec.checkpoint().note(), out, leaves, working, newest);
  if (!rec.has_bundle()) {
    out.problems.push_back(absl::StrCat("log offset ", offset, ": empty log record"));
    return absl::OkStatus();
  }
  const av1::LogBundle& b = rec.bundle();
  const uint64_t size = working.size();
  if (b.first_index() != size) {
    out.problems.push_back(absl::StrCat("log offset ", offset, ": bundle begins at entry ",
                                        b.first_index(), " but the log holds ", size,
                                        " entries (a rewritten or foreign bundle): refused"));
    return absl::OkStatus();
  }
  // Every entry checks before any is applied: a bundle is refused whole.
  std::vector<LedgerRecord> records(static_cast<size_t>(b.entries_size()));
  for (int i = 0; i < b.entries_size(); ++i) {
    const av1::LogEntry& le = b.entries(i);
    LedgerRecord& r = records[static_cast<size_t>(i)];
    std::string payload_hash;
    absl::Status parsed = ParseEntryV2(le.entry(), &r, &payload_hash);
    const char* why = !parsed.ok()                          ? "malformed entry"
                      : Sha256(le.payload()) != payload_hash ? "payload does not hash to its entry"
                                                             : nullptr;
    if (why != nullptr) {
      out.problems.push_back(absl::StrCat("log offset ", offset, ": entry ", size + i, ": ", why,
                                          parsed.ok() ? "" : absl::StrCat(" (", parsed.message(), ")"),
                                          ": bundle refused"));
      return absl::OkStatus();
    }
    r.payload = le.payload();
    r.subject = LineageSubject(r.envelope);
    r.log_index = static_cast<int64_t>(size) + i;
    r.leaf = Raw(tlog::LeafHash(le.entry()));
    r.kafka_partition = le.source_partition();
    r.kafka_offset = le.source_offset();
  }
  if (!insert_) {
    auto ins = db_->Prepare(absl::StrCat(
        "INSERT INTO entries(", kColumns, ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    if (!ins.ok()) return ins.status();
    insert_.emplace(std::move(*ins));
    auto alias = db_->Prepare("INSERT OR IGNORE INTO aliases(id, subject) VALUES (?, ?)");
    if (!alias.ok()) return alias.status();
    alias_.emplace(std::move(*alias));
    auto lineage = db_->Prepare("SELECT subject FROM aliases WHERE id = ?");
    if (!lineage.ok()) return lineage.status();
    lineage_.emplace(std::move(*lineage));
    auto dup = db_->Prepare("SELECT idx FROM entries WHERE ce_id = ? LIMIT 1");
    if (!dup.ok()) return dup.status();
    dup_.emplace(std::move(*dup));
  }
  for (int i = 0; i < b.entries_size(); ++i) {
    LedgerRecord& r = records[static_cast<size_t>(i)];
    const av1::LogEntry& le = b.entries(i);
    const events::Envelope& e = r.envelope;
    // pep-gateway's access events name a start-up or challenge as their correlation id: an
    // aggregate id, resolved to its lineage.
    if (IsAccess(r) && !e.correlation_id.empty()) {
      lineage_->Reset();
      lineage_->Bind(1, e.correlation_id);
      auto row = lineage_->Step();
      if (!row.ok()) return row.status();
      const bool known = *row;
      if (known) r.subject = lineage_->Text(0);
      lineage_->Reset();
      // Scoped to an aggregate nothing else has named yet: a provisional lineage.
      if (!known && e.correlation_id != e.subject && !provisional_.contains(r.subject)) {
        PEP_RETURN_IF_ERROR(db_->Prepare("INSERT OR IGNORE INTO provisional(subject) VALUES (?)")
                                ->Bind(1, r.subject)
                                .Run());
        provisional_.insert(r.subject);
      }
    } else if (!IsFeedback(r) && provisional_.contains(e.subject)) {
      // The aggregate's own event: what was filed under its id joins its true lineage.
      PEP_RETURN_IF_ERROR(MergeLineage(e.subject, r.subject));
    }
    if (e.type == "pepiniere.gateway.v1.AccountCreated") {
      pepiniere::gateway::v1::AccountCreated created;
      if (created.ParseFromString(r.payload) && !created.display_name().empty()) {
        PEP_RETURN_IF_ERROR(
            db_->Prepare("INSERT OR REPLACE INTO actor_names(id, name) VALUES (?, ?)")
                ->Bind(1, created.account_id())
                .Bind(2, created.display_name())
                .Run());
      }
    }
    insert_->Reset();
    insert_->Bind(1, e.id)
        .BindView(2, r.subject)
        .BindView(3, e.type)
        .BindView(4, e.source)
        .BindView(5, e.subject)
        .Bind(6, absl::ToUnixMicros(e.time))
        .BindView(7, e.actor)
        .BindView(8, e.correlation_id)
        .BindView(9, e.causation_id)
        .Bind(10, e.aggregate_version)
        .Bind(11, absl::ToUnixMicros(e.effective_time))
        .BindView(12, r.topic)
        .BindBlobView(13, r.payload)
        .BindBlobView(14, le.entry())
        .BindBlobView(15, r.leaf)
        .Bind(16, static_cast<int64_t>(r.kafka_partition))
        .Bind(17, r.kafka_offset)
        .Bind(18, r.log_index);
    if (le.v1_hash().empty()) {
      insert_->BindNull(19).BindNull(20).BindNull(21);
    } else {
      insert_->Bind(19, le.v1_subject_seq()).BindBlobView(20, le.v1_hash()).BindBlobView(21, le.v1_global_hash());
    }
    // The sequencer never appends a ce_id twice: a log that does is not the one it wrote. The
    // entry is indexed all the same (the log is what it is) and the repeat reported.
    {
      dup_->Reset();
      dup_->Bind(1, e.id);
      auto row = dup_->Step();
      if (!row.ok()) return row.status();
      if (*row) {
        out.problems.push_back(absl::StrCat("log offset ", offset, ": entry ", r.log_index, " repeats ", e.id,
                                            " (entry ", dup_->Int(0), ")"));
      }
      dup_->Reset();
    }
    PEP_RETURN_IF_ERROR(insert_->Run());
    for (const std::string* id : {&std::as_const(r.subject), &e.subject}) {
      if ((IsFeedback(r) || IsAccess(r)) && id != &r.subject) continue;
      if (aliased_.contains(*id)) continue;
      alias_->Reset();
      PEP_RETURN_IF_ERROR(alias_->Bind(1, *id).Bind(2, r.subject).Run());
      aliased_.insert(*id);
    }
    PEP_RETURN_IF_ERROR(CountGap(r, out));
    tlog::Hash leaf;
    std::copy(r.leaf.begin(), r.leaf.end(), leaf.begin());
    leaves.push_back(leaf);
    working.Append(leaf);
    ++out.entries;
    ++out.by_type[e.type];
    out.newest_recorded = std::max(out.newest_recorded, e.time);
  }
  for (const std::string& u : b.undecodable()) {
    PEP_RETURN_IF_ERROR(db_->Prepare("INSERT INTO undecodable(what) VALUES (?)")->Bind(1, u).Run());
    ++out.undecodable;
  }
  return absl::OkStatus();
}

absl::Status LogIndex::ApplyCheckpoint(int64_t offset, const std::string& note, Applied& out,
                                       const std::vector<tlog::Hash>& pending,
                                       const tlog::CompactRange& working,
                                       std::optional<SignedCheckpoint>& newest) {
  auto refuse = [&](const std::string& why) {
    out.problems.push_back(absl::StrCat("log offset ", offset, ": checkpoint refused: ", why));
    return absl::OkStatus();
  };
  auto text = tlog::OpenNote(note, verifier_key_);
  if (!text.ok()) return refuse(std::string(text.status().message()));
  auto cp = tlog::ParseCheckpoint(*text);
  if (!cp.ok()) return refuse(std::string(cp.status().message()));
  if (cp->origin != origin_) return refuse(absl::StrCat("origin is '", cp->origin, "', not '", origin_, "'"));
  tlog::Hash root;
  {
    absl::MutexLock l(&tree_mu_);
    const uint64_t committed = tree_.size();
    if (cp->size > committed + pending.size()) {
      return refuse(absl::StrCat("signs ", cp->size, " entries, the log holds ", committed + pending.size()));
    }
    if (cp->size == 0) return refuse("signs an empty tree");
    if (latest_ && cp->size < latest_->checkpoint.size) {
      return refuse(absl::StrCat("size ", cp->size, " is older than the signed ", latest_->checkpoint.size));
    }
    // The sequencer signs the whole log as it stands: the compact range's root, O(log n).
    // Another size: MTH over the committed tree and this transaction's leaves, not yet in it.
    std::function<tlog::Hash(uint64_t, uint64_t)> mth = [&](uint64_t b, uint64_t e) -> tlog::Hash {
      if (e <= committed) return tree_.Range(b, e);
      if (e - b == 1) return pending[b - committed];
      const uint64_t k = tlog::SplitPoint(e - b);
      return tlog::NodeHash(mth(b, b + k), mth(b + k, e));
    };
    root = cp->size == working.size() ? working.Root() : mth(0, cp->size);
  }
  if (root != cp->root) return refuse(absl::StrCat("its root is not the root of the log's first ", cp->size, " entries"));
  PEP_RETURN_IF_ERROR(db_->Prepare("INSERT OR REPLACE INTO checkpoints(size, note, log_offset) VALUES (?,?,?)")
                          ->Bind(1, static_cast<int64_t>(cp->size))
                          .Bind(2, note)
                          .Bind(3, offset)
                          .Run());
  ++out.checkpoints;
  newest = SignedCheckpoint{note, std::move(*cp)};
  return absl::OkStatus();
}

absl::StatusOr<Applied> LogIndex::Apply(const std::vector<LogMessage>& batch) {
  Applied out;
  if (batch.empty()) return out;
  std::vector<tlog::Hash> leaves;  // not yet in the tree
  tlog::CompactRange working = range_;
  std::optional<SignedCheckpoint> newest;
  auto run = [&]() -> absl::Status {
    store::Transaction tx(*db_);
    PEP_RETURN_IF_ERROR(tx.status());
    for (const LogMessage& m : batch) {
      const size_t problems = out.problems.size();
      PEP_RETURN_IF_ERROR(ApplyRecord(m.offset, m.value, out, leaves, working, newest));
      for (size_t i = problems; i < out.problems.size(); ++i) {
        PEP_RETURN_IF_ERROR(db_->Prepare("INSERT INTO problems(log_offset, reason) VALUES (?,?)")
                                ->Bind(1, m.offset)
                                .Bind(2, out.problems[i])
                                .Run());
      }
    }
    PEP_RETURN_IF_ERROR(db_->Prepare("INSERT OR REPLACE INTO state(key, value) VALUES ('next_log_offset', ?)")
                            ->Bind(1, batch.back().offset + 1)
                            .Run());
    return tx.Commit();
  };
  absl::Status s = run();
  if (!s.ok()) {  // rolled back: forget what the caches learned meanwhile
    aliased_.clear();
    last_version_.clear();
    PEP_RETURN_IF_ERROR(LoadProvisional());
    return s;
  }
  absl::MutexLock l(&tree_mu_);
  for (const tlog::Hash& h : leaves) tree_.Append(h);
  range_ = std::move(working);
  if (newest) latest_ = std::move(newest);
  next_log_offset_ = batch.back().offset + 1;
  return out;
}

}  // namespace pep::audit
