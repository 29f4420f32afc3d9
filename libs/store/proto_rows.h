// Helpers for services that keep each record as a protobuf blob beside indexed columns, and
// that append their events to the outbox with a full CloudEvents envelope.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "store/outbox.h"
#include "store/sqlite.h"

namespace pep::store {

template <typename M>
absl::StatusOr<M> ParseRow(const std::string& bytes, const std::string& what) {
  M m;
  if (!m.ParseFromString(bytes)) return absl::DataLossError("corrupt stored " + what);
  return m;
}

// Runs `sql` (one `?` bound to `key`, selecting the blob first); NOT_FOUND names `what`.
template <typename M>
absl::StatusOr<M> GetProto(Db& db, const std::string& sql, const std::string& key,
                           const std::string& what) {
  auto q = db.Prepare(sql);
  if (!q.ok()) return q.status();
  q->Bind(1, key);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat(what, " ", key, " not found"));
  return ParseRow<M>(q->Text(0), what);
}

// Every row of a prepared, bound statement whose first column is the blob, one at a time:
// `each` sees every row in turn (one message alive at a time), so a scan of any length takes
// constant memory.
template <typename M, typename F>
absl::Status EachProto(Stmt& q, const std::string& what, F&& each) {
  M m;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    if (!m.ParseFromString(q.Text(0))) return absl::DataLossError("corrupt stored " + what);
    each(static_cast<const M&>(m));
  }
}

// The same rows, all in memory.
template <typename M>
absl::StatusOr<std::vector<M>> AllProtos(Stmt& q, const std::string& what) {
  std::vector<M> out;
  absl::Status s = EachProto<M>(q, what, [&out](const M& m) { out.push_back(m); });
  if (!s.ok()) return s;
  return out;
}

// The first column of every row, as text (ids a query selects).
template <typename Set>
absl::StatusOr<Set> FirstColumn(Stmt& q) {
  Set out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.insert(out.end(), q.Text(0));  // a set or a vector
  }
}

struct EventSpec {
  std::string topic;
  std::string source;          // "/pepiniere/<service>"
  std::string aggregate_id;    // key and ce_subject
  std::string correlation_id;  // lineage root
  std::string causation_id;    // may be empty
  int64_t aggregate_version = 0;
  std::string actor;
  absl::Time effective_time;
  absl::Time recorded_time;
};

// The outbox row for `payload`: a new UUIDv7 ce_id, ce_type = the payload's full proto name.
OutboxEvent MakeEvent(const EventSpec& spec, const google::protobuf::Message& payload);

// Appends `payload` to the outbox (inside the caller's transaction).
absl::Status EmitEvent(Db& db, const EventSpec& spec, const google::protobuf::Message& payload);

}  // namespace pep::store
