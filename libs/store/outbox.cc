#include "store/outbox.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/uuid.h"
#include "store/proto_rows.h"

namespace pep::store {

std::string OutboxSchemaSql() {
  return R"sql(
CREATE TABLE outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  topic      TEXT NOT NULL,
  msg_key    TEXT NOT NULL,
  ce_id      TEXT NOT NULL UNIQUE,
  ce_type    TEXT NOT NULL,
  headers    BLOB NOT NULL,
  payload    BLOB NOT NULL,
  created_us INTEGER NOT NULL,
  sent_us    INTEGER
);
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_us IS NULL;
)sql";
}

std::string OutboxV2Sql() {
  // Each AUTOINCREMENT insert also rewrote sqlite_sequence, and the UNIQUE ce_id kept a third
  // index: two more B-tree pages dirtied by every commit on the hot write paths. Rows are never
  // deleted, so a plain rowid already never reuses a seq; ce_ids are fresh UUIDv7s.
  return R"sql(
CREATE TABLE outbox_v2 (
  seq        INTEGER PRIMARY KEY,
  topic      TEXT NOT NULL,
  msg_key    TEXT NOT NULL,
  ce_id      TEXT NOT NULL,
  ce_type    TEXT NOT NULL,
  headers    BLOB NOT NULL,
  payload    BLOB NOT NULL,
  created_us INTEGER NOT NULL,
  sent_us    INTEGER
);
INSERT INTO outbox_v2 SELECT seq, topic, msg_key, ce_id, ce_type, headers, payload, created_us,
  sent_us FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_us IS NULL;
)sql";
}

std::string PostgresOutboxSql() {
  // seq from an identity: write transactions hold the schema's writer lock from BEGIN to
  // COMMIT (store/db.h), so rows become visible in seq order, as the relay's cursor needs.
  return R"sql(
CREATE TABLE outbox (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic      TEXT NOT NULL,
  msg_key    TEXT NOT NULL,
  ce_id      TEXT NOT NULL,
  ce_type    TEXT NOT NULL,
  headers    BYTEA NOT NULL,
  payload    BYTEA NOT NULL,
  created_us BIGINT NOT NULL,
  sent_us    BIGINT
);
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_us IS NULL;
)sql";
}

std::string EncodeHeaders(const events::Headers& headers) {
  std::string out;
  for (const auto& [k, v] : headers) absl::StrAppend(&out, k.size(), ":", k, v.size(), ":", v);
  return out;
}

absl::StatusOr<events::Headers> DecodeHeaders(const std::string& blob) {
  events::Headers out;
  size_t pos = 0;
  auto next = [&](std::string* s) -> bool {
    const size_t colon = blob.find(':', pos);
    if (colon == std::string::npos) return false;
    size_t len = 0;
    if (!absl::SimpleAtoi(absl::string_view(blob).substr(pos, colon - pos), &len)) return false;
    if (colon + 1 + len > blob.size()) return false;
    *s = blob.substr(colon + 1, len);
    pos = colon + 1 + len;
    return true;
  };
  while (pos < blob.size()) {
    std::string k, v;
    if (!next(&k) || !next(&v)) return absl::DataLossError("outbox headers: corrupt encoding");
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

namespace {
constexpr char kInsertOutbox[] =
    "INSERT INTO outbox(topic, msg_key, ce_id, ce_type, headers, payload, created_us) "
    "VALUES (?,?,?,?,?,?,?)";

absl::Status BindAndRun(Stmt& st, const EncodedOutboxRow& r) {
  st.Reset();
  return st.BindView(1, r.topic)
      .BindView(2, r.key)
      .BindView(3, r.ce_id)
      .BindView(4, r.ce_type)
      .BindBlobView(5, r.headers)
      .BindBlobView(6, r.payload)
      .Bind(7, r.created_us)
      .Run();
}
}  // namespace

std::string EncodeEnvelopeHeaders(const events::Envelope& e) {
  // EncodeHeaders(events::ToHeaders(e)) without the intermediate pairs: one buffer, no copies
  // of the values (this runs once per event on the write paths).
  std::string out;
  out.reserve(512);
  events::VisitHeaders(e, [&out](std::string_view k, std::string_view v) {
    absl::StrAppend(&out, k.size(), ":", absl::string_view(k.data(), k.size()), v.size(), ":",
                    absl::string_view(v.data(), v.size()));
  });
  return out;
}

EncodedOutboxRow Encode(OutboxEvent e) {
  EncodedOutboxRow r;
  r.headers = EncodeEnvelopeHeaders(e.envelope);
  r.created_us = absl::ToUnixMicros(e.envelope.time);
  r.topic = std::move(e.topic);
  r.key = std::move(e.key);
  r.ce_id = std::move(e.envelope.id);
  r.ce_type = std::move(e.envelope.type);
  r.payload = std::move(e.payload);
  return r;
}

absl::StatusOr<int64_t> PruneSentOutbox(Db& db, absl::Time sent_before, int chunk) {
  const int64_t cut = absl::ToUnixMicros(sent_before);
  // Rows are created in seq order and sent soon after: nothing at or past the first row created
  // after the cut can qualify, so the search stops there instead of scanning every recent row.
  int64_t bound = 0;
  {
    auto q = db.Prepare(
        "SELECT COALESCE((SELECT seq FROM outbox WHERE created_us >= ?1 ORDER BY seq LIMIT 1), "
        "(SELECT MAX(seq) FROM outbox), 0)");
    if (!q.ok()) return q.status();
    q->Bind(1, cut);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    bound = *row ? q->Int(0) : 0;
  }
  auto del = db.Prepare(
      "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq < ?1 "
      "AND seq < (SELECT MAX(seq) FROM outbox) AND sent_us IS NOT NULL AND sent_us < ?2 "
      "ORDER BY seq LIMIT ?3)");
  if (!del.ok()) return del.status();
  int64_t total = 0;
  while (true) {
    Transaction tx(db);
    if (!tx.status().ok()) return tx.status();
    del->Reset();
    absl::Status s = del->Bind(1, bound).Bind(2, cut).Bind(3, static_cast<int64_t>(chunk)).Run();
    if (!s.ok()) return s;
    const int64_t n = db.Changes();
    s = tx.Commit();
    if (!s.ok()) return s;
    total += n;
    if (n < chunk) return total;
  }
}

absl::Status AppendToOutbox(Db& db, const OutboxEvent& e) {
  auto st = db.Prepare(kInsertOutbox);
  if (!st.ok()) return st.status();
  return BindAndRun(*st, Encode(e));
}

absl::StatusOr<OutboxAppender> OutboxAppender::Create(Db& db) {
  auto st = db.Prepare(kInsertOutbox);
  if (!st.ok()) return st.status();
  return OutboxAppender(std::move(*st));
}

absl::Status OutboxAppender::Append(const OutboxEvent& e) { return BindAndRun(stmt_, Encode(e)); }
absl::Status OutboxAppender::Append(const EncodedOutboxRow& row) { return BindAndRun(stmt_, row); }

OutboxEvent MakeEvent(const EventSpec& spec, const google::protobuf::Message& payload) {
  OutboxEvent e;
  e.topic = spec.topic;
  e.key = spec.aggregate_id;
  e.envelope.id = NewUuidV7(spec.recorded_time);
  e.envelope.source = spec.source;
  e.envelope.type = payload.GetDescriptor()->full_name();
  e.envelope.subject = spec.aggregate_id;
  e.envelope.time = spec.recorded_time;
  e.envelope.actor = spec.actor;
  e.envelope.correlation_id = spec.correlation_id;
  e.envelope.causation_id = spec.causation_id;
  e.envelope.aggregate_version = spec.aggregate_version;
  e.envelope.effective_time = spec.effective_time;
  e.payload = payload.SerializeAsString();
  return e;
}

absl::Status EmitEvent(Db& db, const EventSpec& spec, const google::protobuf::Message& payload) {
  return AppendToOutbox(db, MakeEvent(spec, payload));
}

}  // namespace pep::store
