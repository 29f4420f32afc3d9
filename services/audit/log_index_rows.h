// The index's rows as LedgerRecords, shared by its writer side (log_index.cc: applying the log)
// and its reader side (log_index_read.cc: checkpoints, proofs, tiles, subjects, verification).
#pragma once

#include <string>

#include "absl/time/time.h"
#include "services/audit/ledger.h"
#include "store/db.h"
#include "tlog/merkle.h"

namespace pep::audit::internal {

// The columns ReadRow reads, in its order.
inline constexpr char kColumns[] =
    "ce_id, subject, ce_type, ce_source, aggregate_id, ce_time_us, actor, correlation_id, "
    "causation_id, aggregate_version, effective_us, topic, payload, entry, leaf, "
    "source_partition, source_offset, idx, v1_subject_seq, v1_hash, v1_global_hash";

inline LedgerRecord ReadRow(const store::Stmt& q) {
  LedgerRecord r;
  events::Envelope& e = r.envelope;
  e.id = q.Text(0);
  r.subject = q.Text(1);
  e.type = q.Text(2);
  e.source = q.Text(3);
  e.subject = q.Text(4);
  e.time = absl::FromUnixMicros(q.Int(5));
  e.actor = q.Text(6);
  e.correlation_id = q.Text(7);
  e.causation_id = q.Text(8);
  e.aggregate_version = q.Int(9);
  e.effective_time = absl::FromUnixMicros(q.Int(10));
  r.topic = q.Text(11);
  r.payload = q.Text(12);
  r.entry = q.Text(13);
  r.leaf = q.Text(14);
  r.kafka_partition = static_cast<int>(q.Int(15));
  r.kafka_offset = q.Int(16);
  r.log_index = q.Int(17);
  if (!q.IsNull(19)) {
    r.hash = q.Text(19);
    r.global_hash = q.Text(20);
  }
  return r;
}

inline std::string Raw(const tlog::Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

}  // namespace pep::audit::internal
