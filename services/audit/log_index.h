// pep-audit's index of the log (issue 14). The ledger is the Kafka topic pepiniere.audit.log;
// this SQLite database only indexes it — entries by lineage and aggregate, aliases, people's
// names, the signed checkpoints — and is rebuilt from the topic when it is lost. The Merkle tree
// is kept in memory (every perfect subtree: 64 bytes per entry) for proofs and tiles.
//
// One writer (the follower thread) applies log records in log order; readers use their own
// connection (WAL) and the tree under a mutex, so queries never wait for the writer's commits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/audit/ledger.h"
#include "store/checkpointer.h"
#include "store/sqlite.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace pep::audit {

struct LogMessage {
  int64_t offset = 0;  // in pepiniere.audit.log
  std::string value;   // a serialized pepiniere.audit.v1.LogRecord
};

struct Applied {
  int64_t entries = 0;
  int64_t checkpoints = 0;
  int64_t gaps = 0;  // aggregate versions found missing when a later one arrived
  std::vector<std::string> problems;  // log records refused (see LogIndex::Apply)
  absl::flat_hash_map<std::string, int64_t> by_type;  // ce_type -> entries
  int64_t undecodable = 0;
  absl::Time newest_recorded = absl::InfinitePast();
};

struct SignedCheckpoint {
  std::string note;
  tlog::Checkpoint checkpoint;
};

struct LedgerReport {
  int64_t records = 0;
  int64_t subjects = 0;
  struct Broken {
    std::string chain;  // lineage subject, "log", "index" or "checkpoint"
    int64_t seq = 0;    // the entry's log index (or the checkpoint's size)
    std::string ce_id;
    std::string reason;
  };
  std::vector<Broken> broken;
  std::vector<std::string> gaps;
  std::vector<std::string> duplicates;
  std::vector<std::string> undecodable;
  uint64_t tree_size = 0;  // of the checkpoint verified against
  std::string root_hex;
  bool ok() const { return broken.empty() && gaps.empty(); }
};

class LogIndex {
 public:
  // `verifier_key` checks every checkpoint read from the log; `origin` is the log's name.
  static absl::StatusOr<std::unique_ptr<LogIndex>> Open(const std::string& path,
                                                        std::string origin,
                                                        std::string verifier_key);

  // --- writer side (one thread) ---
  // Applies consecutive log records in one transaction. A bundle must continue the log exactly
  // (first_index == size) and each entry's payload must hash to what the entry says; a
  // checkpoint must be signed by the log's key, for this origin, and its root must be the root
  // of the entries at its size. What fails is refused, kept in `problems` (and reported by
  // Verify), never applied.
  absl::StatusOr<Applied> Apply(const std::vector<LogMessage>& batch);
  // The log offset to read next (one past the last applied record).
  int64_t NextLogOffset() const { return next_log_offset_; }

  // --- reader side (any thread) ---
  uint64_t size() const;  // entries indexed
  std::optional<SignedCheckpoint> Latest() const;
  absl::StatusOr<std::string> CheckpointAt(uint64_t size);  // the signed note of that size
  // Proofs against a signed size (0 = the newest checkpoint's).
  absl::StatusOr<std::vector<tlog::Hash>> InclusionProof(uint64_t index, uint64_t* tree_size,
                                                         tlog::Hash* leaf);
  absl::StatusOr<std::vector<tlog::Hash>> ConsistencyProof(uint64_t first, uint64_t* second);
  // A C2SP tlog-tiles resource at the newest checkpoint: "checkpoint", "tile/<L>/<N>[.p/<W>]",
  // "tile/entries/<N>[.p/<W>]". NOT_FOUND for what the signed tree does not have.
  absl::StatusOr<std::string> Tile(const std::string& path, bool* immutable);

  absl::StatusOr<std::string> Resolve(const std::string& id);
  absl::StatusOr<std::map<std::string, std::string>> ActorNames(const std::set<std::string>& ids);
  // The subject's records in chain order (recorded time, then ce_id), numbered 1..n.
  absl::StatusOr<std::vector<LedgerRecord>> Subject(const std::string& subject);
  // The same one record at a time (numbered as Subject() numbers them): a lineage with a
  // popular product's hundreds of thousands of answers is never all in memory. A non-OK status
  // from `visit` stops the read and is returned.
  absl::Status EachOfSubject(const std::string& subject,
                             const std::function<absl::Status(LedgerRecord&&)>& visit);
  // Streams the subject's records in chain order (every record in log order when empty), in
  // one snapshot; `at_size` is the newest checkpoint's size in that snapshot (0: none yet):
  // only entries below it are visited.
  absl::Status ForEach(const std::string& subject, uint64_t* at_size,
                       const std::function<bool(const LedgerRecord&)>& visit);
  absl::StatusOr<absl::Time> NewestRecorded();
  // Recomputes every entry (payload hash, the entry against its index row, leaf hash), the
  // tree against every signed checkpoint, and reports gaps, duplicates, refused log records.
  absl::StatusOr<LedgerReport> Verify(const std::string& subject);
  // Tests: called once in each Verify, in the middle of its work (nothing of the index held).
  void SetVerifyHookForTest(std::function<void()> hook) { verify_hook_ = std::move(hook); }

 private:
  LogIndex(std::unique_ptr<store::Db> writer, std::unique_ptr<store::Db> reader)
      : db_(std::move(writer)), reader_(std::move(reader)) {}
  absl::Status LoadTree();
  absl::Status LoadProvisional();
  absl::Status MergeLineage(const std::string& provisional, const std::string& lineage);
  // `working`: the committed tree's compact range with this transaction's leaves appended.
  // One log record (a bundle or a checkpoint); `newest`: set to a checkpoint once accepted.
  absl::Status ApplyRecord(int64_t offset, const std::string& value, Applied& out,
                           std::vector<tlog::Hash>& leaves, tlog::CompactRange& working,
                           std::optional<SignedCheckpoint>& newest);
  absl::Status ApplyCheckpoint(int64_t offset, const std::string& note, Applied& out,
                               const std::vector<tlog::Hash>& pending, const tlog::CompactRange& working,
                               std::optional<SignedCheckpoint>& newest);
  absl::Status CountGap(const LedgerRecord& r, Applied& out);
  absl::StatusOr<std::string> EntryBundle(uint64_t n, uint64_t width);

  std::string origin_, verifier_key_, path_;
  // Writer state.
  std::unique_ptr<store::Db> db_;
  std::unique_ptr<store::WalCheckpointer> checkpointer_;
  std::optional<store::Stmt> insert_, alias_, lineage_, dup_, gap_;
  absl::flat_hash_set<std::string> aliased_;
  absl::flat_hash_set<std::string> provisional_;  // lineages opened by access events alone
  std::function<void()> verify_hook_;
  absl::flat_hash_map<std::string, int64_t> last_version_;
  int64_t next_log_offset_ = 0;

  mutable absl::Mutex tree_mu_;
  tlog::MemoryTree tree_ ABSL_GUARDED_BY(tree_mu_);
  tlog::CompactRange range_;  // the writer's: the committed tree, O(log n)
  std::optional<SignedCheckpoint> latest_ ABSL_GUARDED_BY(tree_mu_);

  absl::Mutex read_mu_;
  std::unique_ptr<store::Db> reader_ ABSL_GUARDED_BY(read_mu_);
};

}  // namespace pep::audit
