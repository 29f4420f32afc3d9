// pep-audit's sequencer (issue 14): appends every new event of the source topics to the log
// topic pepiniere.audit.log, in integration order, deduplicated by ce_id, as entry bundles
// followed by a signed checkpoint — each round one Kafka transaction, so entries, the source
// offsets they consumed and the checkpoint over them become visible together or not at all.
//
// Several pep-audit replicas may run one; one leads. Leadership is the one partition of the log
// topic in the consumer group `election_group`; the fence is the Kafka transactional id: a new
// leader's init_transactions aborts whatever its predecessor left open and makes any further
// write from it fail. A leader first reads the whole log (read_committed): the compact range,
// every ce_id, the source offsets of the last bundle, the last signed checkpoint, which it
// checks against the recomputed root before signing anything.
#pragma once

#include <atomic>
#include <map>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "events/kafka.h"
#include "pepiniere/audit/v1/log.pb.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace pep::audit {

// The signer key in `path` (its first line): Go's PRIVATE+KEY+… form, or any secret of 32
// characters or more (a Kubernetes Secret), whose SHA-256 is the Ed25519 seed of a key named
// `origin`. With `create`, a missing file is made first: a fresh key named `origin`, written
// 0600, and its verifier key in `path`.pub.
absl::StatusOr<std::string> LoadSigningKey(const std::string& path, bool create, const std::string& origin);

struct SequencerOptions {
  std::string brokers;
  std::vector<std::string> topics;  // the sources
  std::string log_topic = "pepiniere.audit.log";
  std::string transactional_id = "pep-audit-sequencer";
  std::string election_group = "pep-audit-sequencer";
  std::string origin;
  std::string signer_key;  // Go's PRIVATE+KEY+… form
  int bundle_entries = 256;                 // per log record (a transaction holds several)
  size_t bundle_bytes = 512 * 1024;         // under the broker's 1 MiB message limit
  int max_round_records = 65536;            // source records per transaction
  std::string v1_ledger;  // a version 1 ledger to migrate (resumed until its last bundle is in)
  events::KafkaProperties extra;            // any librdkafka property, both clients
  // Fault injection (tests): the first migration in this process stops, as a crash would,
  // after committing this many bundles (0: never).
  int interrupt_migration_after = 0;
  // Fault injection (tests): the Nth transaction carrying bundles reaches the broker and is then
  // aborted, as when a sequencer is fenced or fails at its commit (0: never).
  int abort_transaction = 0;
};

class Sequencer {
 public:
  static absl::StatusOr<std::unique_ptr<Sequencer>> Create(SequencerOptions options);
  ~Sequencer();
  void Start();
  void Stop();

  bool leading() const { return leading_.load(); }
  int64_t appended() const { return appended_.load(); }    // entries this process appended
  int64_t takeovers() const { return takeovers_.load(); }
  uint64_t signed_size() const { return signed_size_.load(); }
  const std::string& verifier_key() const { return verifier_key_; }

 private:
  explicit Sequencer(SequencerOptions options) : options_(std::move(options)) {}
  static void OnElection(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void Loop();
  absl::Status TakeOver();
  void StepDown(const std::string& why);
  absl::Status ReadLog();
  absl::Status Migrate();
  absl::Status AssignSources();
  // One transaction: what the sources have, as bundles, after the checkpoint of what earlier
  // transactions committed. false: nothing read and nothing left to sign.
  absl::StatusOr<bool> Round(absl::Duration wait);
  // One transaction: a checkpoint over the committed log when it grew since the last one, then
  // `records`; once committed, what they carry is what the next checkpoint signs.
  absl::Status Transact(const std::vector<std::string>& records);
  absl::Status ProduceLog(const std::string& value);
  // The checkpoint of the committed log (committed_), signed, into the open transaction: a
  // checkpoint never covers entries whose transaction might still abort, so no later sequencer
  // can sign another tree at a size already signed.
  absl::Status ProduceCheckpoint();
  // Every source partition's next offset, as the bundle's resume point.
  void AddOffsets(pepiniere::audit::v1::LogBundle* bundle) const;

  SequencerOptions options_;
  std::unique_ptr<tlog::NoteSigner> signer_;
  std::string verifier_key_;
  events::KafkaHandle election_;
  bool assigned_ = false;  // the loop thread (callbacks run inside its polls)

  // Leader state, rebuilt by TakeOver from the log.
  events::KafkaHandle producer_, source_;
  tlog::CompactRange range_;      // the log with this round's bundles
  tlog::CompactRange committed_;  // the log as committed (read back, or after a commit)
  // Every ce_id in the log: UUIDs (what EnvelopeOf accepts) as their 128 bits.
  absl::flat_hash_set<absl::uint128> seen_;
  bool Seen(std::string_view ce_id) const;
  bool Insert(std::string_view ce_id);  // false when already there
  std::map<std::pair<std::string, int>, int64_t> offsets_;  // source partition -> next offset
  bool migration_interrupted_ = false;  // interrupt_migration_after fired once already
  int transactions_with_bundles_ = 0;   // for abort_transaction
  uint64_t last_checkpoint_size_ = 0;

  std::atomic<bool> leading_{false}, stop_{false};
  std::atomic<int64_t> appended_{0}, takeovers_{0};
  std::atomic<uint64_t> signed_size_{0};
  std::thread thread_;
};

}  // namespace pep::audit
