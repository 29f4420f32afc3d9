// The audit ledger's hash chain, pure: canonical bytes of a record, SHA-256 chaining in a
// data-defined order (so a rebuild from the topics gives the same hashes), and verification
// (first broken record, aggregate-version gaps and duplicates). Pure: no SQLite, no Kafka.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "events/envelope.h"

namespace pep::audit {

struct LedgerRecord {
  std::string subject;      // lineage subject: ce_correlationid
  int64_t subject_seq = 0;  // 1, 2, 3… within the subject, in chain order
  events::Envelope envelope;
  std::string topic;
  std::string payload;
  std::string prev_hash;  // 32 raw bytes; 32 zero bytes for the first record of a chain
  std::string hash;       // SHA-256(prev_hash || CanonicalBytes(record))
  // The global chain links every record of every subject in chain order:
  // global_hash = SHA-256(global_prev || hash).
  std::string global_prev;
  std::string global_hash;
  // Where it was read from (not hashed: a rebuild may read it elsewhere).
  int kafka_partition = -1;
  int64_t kafka_offset = -1;
  int64_t gpos = 0;  // stored place in the global chain (storage detail)
  // Version 2, the Merkle log (issue 14): the entry's index and leaf hash. A v2 record has no
  // chain hashes; one migrated from v1 keeps them (prev_hash stays empty).
  int64_t log_index = -1;
  std::string entry;  // the stored canonical entry (EntryV2Bytes when the index row is intact)
  std::string leaf;   // 32 raw bytes: tlog::LeafHash(entry)
  bool payload_withheld = false;  // an export for a caller who may not read it: hash only
};

inline const std::string& ZeroHash() {
  static const std::string* zero = new std::string(32, '\0');
  return *zero;
}

// Canonical form, version 1: the ASCII tag "pep-ledger-v1", then each field as a 4-byte
// big-endian length followed by its bytes, in this order: subject, subject_seq (decimal),
// ce_id, ce_type, ce_source, ce_subject, ce_time (RFC 3339, microseconds, UTC), ce_actor,
// ce_correlationid, ce_causationid, ce_aggregateversion (decimal), ce_effectivetime, topic,
// payload. Documented so a third party can recompute it.
std::string CanonicalBytes(const LedgerRecord& r);
// The entry of the Merkle log, version 2 (issue 14; LEDGER.md "Entry, version 2"): the envelope
// and the topic, no lineage position (an entry's bytes never depend on where it lands), and
// SHA-256(payload) instead of the payload, so a payload can be withheld while the entry and
// its inclusion proof still verify. Its leaf hash is tlog::LeafHash(EntryV2Bytes(r)).
std::string EntryV2Bytes(const LedgerRecord& r);
// The same from the envelope, the topic and the payload, without a LedgerRecord (the sequencer).
std::string EntryV2Bytes(const events::Envelope& e, std::string_view topic, std::string_view payload);
// EntryV2Bytes the other way: the envelope and topic, and SHA-256(payload) in `payload_hash`.
// INVALID_ARGUMENT on anything that is not exactly one version 2 entry.
absl::Status ParseEntryV2(std::string_view entry, LedgerRecord* r, std::string* payload_hash);
std::string Sha256(std::string_view data);
std::string Hex(std::string_view bytes);
// SHA-256(prev || CanonicalBytes(r)) without building the concatenation twice.
std::string ChainHash(std::string_view prev, const LedgerRecord& r);
std::string GlobalHash(std::string_view global_prev, std::string_view hash);
// The lineage subject of an event: its correlation id, or its aggregate id when it has none.
std::string LineageSubject(const events::Envelope& e);

// Chain order: recorded time, then ce_id (both are in the event, so replays agree).
bool KeyBefore(absl::Time a_time, std::string_view a_id, absl::Time b_time, std::string_view b_id);
bool ChainsBefore(const LedgerRecord& a, const LedgerRecord& b);

// Sorts `records` into chain order, numbers them 1…n and fills prev_hash and hash.
void Chain(std::vector<LedgerRecord>& records);

// Adds one record to a chain already in chain order (and correctly hashed): appended when it
// comes last, otherwise inserted at its place with the suffix renumbered and re-hashed — the
// late-arrival case. Returns the index of the first record whose seq/hash changed.
size_t Insert(std::vector<LedgerRecord>& chain, LedgerRecord record);

struct Verification {
  int64_t records = 0;
  int64_t first_broken_seq = 0;  // 0: every hash recomputes
  std::string first_broken_ce_id;
  std::vector<std::string> gaps;        // "<ce_subject>: version 3 missing"
  std::vector<std::string> duplicates;  // "<ce_subject>: version 2 twice"
};
// Recomputes the chain over records stored in subject_seq order and checks per-aggregate
// versions.
Verification Verify(const std::vector<LedgerRecord>& stored);

}  // namespace pep::audit
