// A ledger record and its canonical bytes, pure (no SQLite, no Kafka): the log's entry, version
// 2, written and read; version 1's canonical form kept as the definition of the v1 hashes that
// migrated entries carry.
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
  // Migrated from a version 1 ledger: its record hash, SHA-256(prev ‖ CanonicalBytes), and
  // global hash (LEDGER.md "Version 1"); empty for version 2 entries.
  std::string hash;
  std::string global_hash;
  // Where it was read from (not hashed: a rebuild may read it elsewhere).
  int kafka_partition = -1;
  int64_t kafka_offset = -1;
  // Version 2, the Merkle log (issue 14): the entry's index and leaf hash. A v2 record has no
  // chain hashes; one migrated from v1 keeps its v1 hashes (below).
  int64_t log_index = -1;
  std::string entry;  // the stored canonical entry (EntryV2Bytes when the index row is intact)
  std::string leaf;   // 32 raw bytes: tlog::LeafHash(entry)
};

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
// The lineage subject of an event: its correlation id, or its aggregate id when it has none.
std::string LineageSubject(const events::Envelope& e);

}  // namespace pep::audit
