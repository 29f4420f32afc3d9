// The ledger's SQLite storage. One writer (the ingest thread) seals batches of records already
// in chain order: each is appended to its lineage chain and to the global chain, in the same
// transaction as the Kafka offsets it consumed (so a crash replays exactly what was not
// stored). A record older than a chain's head (held back upstream) is inserted at its place and
// the suffixes after it re-hashed, and the re-chaining is itself recorded. Readers use their own
// connection (WAL), so queries never wait for a seal.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/audit/ledger.h"
#include "store/checkpointer.h"
#include "store/sqlite.h"

namespace pep::audit {

struct PartitionOffset {
  std::string topic;
  int partition = 0;
  int64_t next_offset = 0;  // the first offset not yet stored
};

struct UndecodableRecord {
  std::string topic;
  int partition = 0;
  int64_t offset = 0;
  std::string error;
};

struct SealResult {
  int64_t appended = 0;
  int64_t redelivered = 0;  // same ce_id again: ignored
  int64_t duplicates = 0;   // same aggregate version under another ce_id: kept aside, not chained
  int64_t gaps = 0;         // aggregate versions found missing when their successor arrived
  int64_t late = 0;         // inserted before a chain's head (suffix re-hashed)
  absl::flat_hash_map<std::string, int64_t> appended_by_type;  // ce_type -> records appended
  absl::Time newest_recorded = absl::InfinitePast();
};

struct LedgerReport {
  int64_t records = 0;
  int64_t subjects = 0;
  struct Broken {
    std::string chain;  // lineage subject, or "global"
    int64_t seq = 0;
    std::string ce_id;
    std::string reason;
  };
  std::vector<Broken> broken;
  std::vector<std::string> gaps;
  std::vector<std::string> duplicates;
  std::vector<std::string> undecodable;
  std::string global_head_hash;
  bool ok() const { return broken.empty() && gaps.empty(); }
};

class LedgerStore {
 public:
  static absl::StatusOr<std::unique_ptr<LedgerStore>> Open(const std::string& path);

  // --- writer side (one thread) ---
  // `records` must be sorted by ChainsBefore; subject, envelope, topic and payload set. Their
  // chain fields are filled in place (also when the transaction fails: a retry recomputes).
  absl::StatusOr<SealResult> Seal(std::vector<LedgerRecord>& records,
                                  const std::vector<UndecodableRecord>& undecodable,
                                  const std::vector<PartitionOffset>& offsets);

  // --- reader side (any thread) ---
  // Where to resume each partition (the offsets sealed with the records).
  absl::StatusOr<std::map<std::pair<std::string, int>, int64_t>> Offsets();
  // The lineage subject an id belongs to (aggregate ids are aliases); NOT_FOUND otherwise.
  absl::StatusOr<std::string> Resolve(const std::string& id);
  // Display names of the people among `ids` (accounts made by pep-gateway); others absent.
  absl::StatusOr<std::map<std::string, std::string>> ActorNames(const std::set<std::string>& ids);
  // The subject's records in chain order, as stored.
  absl::StatusOr<std::vector<LedgerRecord>> Subject(const std::string& subject);
  // Recomputes every hash of one subject (or of every subject and the global chain when
  // `subject` is empty) and reports broken records, gaps, duplicates and undecodable events.
  absl::StatusOr<LedgerReport> Verify(const std::string& subject);
  // Streams the subject's records (every record in global order when empty).
  absl::Status ForEach(const std::string& subject,
                       const std::function<bool(const LedgerRecord&)>& visit);
  absl::StatusOr<int64_t> Count();
  // Recorded time of the newest record (the global chain's last), InfinitePast when empty.
  absl::StatusOr<absl::Time> NewestRecorded();

 private:
  struct Head {
    int64_t seq = 0;  // subject_seq, or gpos for the global head
    std::string hash;
    absl::Time time = absl::InfinitePast();
    std::string ce_id;
  };
  LedgerStore(std::unique_ptr<store::Db> writer, std::unique_ptr<store::Db> reader)
      : db_(std::move(writer)), reader_(std::move(reader)) {}

  absl::StatusOr<Head*> SubjectHead(const std::string& subject);
  absl::Status LoadGlobalHead();
  absl::Status Write(const LedgerRecord& r, int64_t gpos);
  absl::StatusOr<bool> AppendOne(LedgerRecord& r, SealResult& result);
  absl::StatusOr<bool> InsertLate(LedgerRecord& r, SealResult& result);
  // Places a late record in the global chain (shifting and re-hashing what follows); returns
  // how many records were re-hashed.
  absl::StatusOr<int64_t> InsertGlobal(LedgerRecord& r);
  absl::Status CountGap(const LedgerRecord& r, SealResult& result);
  absl::StatusOr<bool> KeepDuplicate(const LedgerRecord& r);

  // Writer state: owned by the ingest thread; reset after a failed transaction.
  std::unique_ptr<store::Db> db_;
  std::unique_ptr<store::WalCheckpointer> checkpointer_;  // checkpoints beside the seals
  absl::flat_hash_map<std::string, Head> heads_;
  Head global_;
  bool global_loaded_ = false;
  std::optional<store::Stmt> insert_, gap_probe_;  // hot-path statements
  absl::flat_hash_set<std::string> aliased_;
  absl::flat_hash_map<std::string, int64_t> last_version_;  // aggregate -> highest sealed

  std::string path_;  // exports open their own connection
  absl::Mutex read_mu_;
  std::unique_ptr<store::Db> reader_ ABSL_GUARDED_BY(read_mu_);
};

}  // namespace pep::audit
