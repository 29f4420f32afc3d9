#include "store/inbox.h"

namespace pep::store {

std::string InboxSchemaSql() {
  return R"sql(
CREATE TABLE inbox (
  ce_id      TEXT PRIMARY KEY,
  topic      TEXT NOT NULL,
  handled_us INTEGER NOT NULL
) WITHOUT ROWID;
)sql";
}

std::string PostgresInboxSql() {
  return R"sql(
CREATE TABLE inbox (
  ce_id      TEXT PRIMARY KEY,
  topic      TEXT NOT NULL,
  handled_us BIGINT NOT NULL
);
)sql";
}

absl::StatusOr<bool> RecordInInbox(Db& db, const std::string& ce_id, const std::string& topic,
                                   absl::Time now) {
  auto st = db.Prepare("INSERT INTO inbox(ce_id, topic, handled_us) VALUES (?,?,?) ON CONFLICT DO NOTHING");
  if (!st.ok()) return st.status();
  absl::Status s = st->Bind(1, ce_id).Bind(2, topic).Bind(3, absl::ToUnixMicros(now)).Run();
  if (!s.ok()) return s;
  return db.Changes() == 1;
}

}  // namespace pep::store
