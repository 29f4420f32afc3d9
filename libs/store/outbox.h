// Transactional outbox: an event row is written in the same SQLite transaction as the state
// change it describes; OutboxRelay publishes it later.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "events/envelope.h"
#include "store/db.h"

namespace pep::store {

struct OutboxEvent {
  std::string topic;
  std::string key;  // aggregate id
  events::Envelope envelope;
  std::string payload;  // serialized protobuf
};

// Schema for services' migration lists (table outbox), then its second version: migrations
// are append-only, so a service lists both, OutboxV2Sql() after OutboxSchemaSql().
std::string OutboxSchemaSql();
std::string OutboxV2Sql();
// The outbox for PostgreSQL, in one migration.
std::string PostgresOutboxSql();
// Since v2, seq is a plain rowid: a new row takes the largest seq present + 1. Whoever prunes
// sent rows one day must keep the newest row, or a seq could come back below the relay's
// cursor and that event would never be published.

// Must be called inside the caller's open transaction.
absl::Status AppendToOutbox(Db& db, const OutboxEvent& event);

// Deletes rows confirmed sent before `sent_before` — the topic holds those events now — in
// transactions of at most `chunk` rows, so writers wait for no more than one. Keeps every unsent
// row and always the newest row (see above). Returns how many rows went.
absl::StatusOr<int64_t> PruneSentOutbox(Db& db, absl::Time sent_before, int chunk = 5000);

// An outbox row with its headers already encoded: built where the work can run in parallel
// (a request's own thread), so a single writer thread only binds bytes.
struct EncodedOutboxRow {
  std::string topic, key, ce_id, ce_type, headers, payload;
  int64_t created_us = 0;
};
EncodedOutboxRow Encode(OutboxEvent event);

// Appends outbox rows through one cached prepared statement (hot write paths).
class OutboxAppender {
 public:
  static absl::StatusOr<OutboxAppender> Create(Db& db);
  absl::Status Append(const OutboxEvent& event);
  // `row` must stay put until the call returns (bound without a copy).
  absl::Status Append(const EncodedOutboxRow& row);

 private:
  explicit OutboxAppender(Stmt stmt) : stmt_(std::move(stmt)) {}
  Stmt stmt_;
};

// Compact, unambiguous encoding of headers for the outbox row (length-prefixed pairs).
std::string EncodeHeaders(const events::Headers& headers);
// The same bytes as EncodeHeaders(events::ToHeaders(envelope)), built directly.
std::string EncodeEnvelopeHeaders(const events::Envelope& envelope);
absl::StatusOr<events::Headers> DecodeHeaders(const std::string& blob);

}  // namespace pep::store
