// pep-ideas' comments in the store: one row per comment (its protobuf beside the idea, the author
// and the optional request id that makes a retried comment the first), one per report.
#include "common/status.h"
#include "services/ideas/ideas_store.h"
#include "store/proto_rows.h"

namespace pep::ideas {

using store::GetProto;
using store::ParseRow;

absl::StatusOr<v1::Comment> IdeasTx::GetComment(const std::string& id) {
  return GetProto<v1::Comment>(db_, "SELECT data FROM comments WHERE id = ?", id, "comment");
}

absl::StatusOr<std::optional<v1::Comment>> IdeasTx::FindCommentByRequestId(
    const std::string& author_id, const std::string& request_id) {
  return FindByRequest<v1::Comment>(db_, "SELECT data FROM comments WHERE author_id = ? AND request_id = ?",
                                    author_id, request_id, "comment");
}

absl::Status IdeasTx::PutComment(const v1::Comment& c, const std::string& request_id) {
  auto q = db_.Prepare(
      "INSERT INTO comments(id, idea_id, author_id, request_id, data) VALUES (?,?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET data = excluded.data");
  if (!q.ok()) return q.status();
  q->Bind(1, c.id()).Bind(2, c.idea_id()).Bind(3, c.author_id());
  if (request_id.empty()) {
    q->BindNull(4);
  } else {
    q->Bind(4, request_id);
  }
  return q->BindBlob(5, c.SerializeAsString()).Run();
}

absl::StatusOr<bool> IdeasTx::PutReport(const std::string& comment_id, const std::string& account_id,
                                        const std::string& reason) {
  auto q = db_.Prepare(
      "INSERT INTO comment_reports(comment_id, account_id, reason, created_us) VALUES (?,?,?,?) "
      "ON CONFLICT DO NOTHING");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(
      q->Bind(1, comment_id).Bind(2, account_id).Bind(3, reason).Bind(4, absl::ToUnixMicros(Now())).Run());
  return db_.Changes() > 0;
}

absl::StatusOr<std::vector<v1::Comment>> IdeasStore::Comments(const std::string& idea_id) {
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<std::vector<v1::Comment>> {
    auto q = db.Prepare("SELECT data FROM comments WHERE idea_id = ? ORDER BY id");
    if (!q.ok()) return q.status();
    q->Bind(1, idea_id);
    return store::AllProtos<v1::Comment>(*q, "comment");
  });
}

absl::StatusOr<absl::flat_hash_set<std::string>> IdeasStore::ReportedBy(const std::string& account_id,
                                                                      const std::string& idea_id) {
  using Ids = absl::flat_hash_set<std::string>;
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<Ids> {
    auto q = db.Prepare(
        "SELECT r.comment_id FROM comment_reports r JOIN comments c ON c.id = r.comment_id "
        "WHERE r.account_id = ? AND c.idea_id = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, account_id).Bind(2, idea_id);
    return store::FirstColumn<Ids>(*q);
  });
}

absl::StatusOr<absl::flat_hash_map<std::string, std::vector<std::string>>> IdeasStore::ReportReasons(
    const std::string& idea_id) {
  using Reasons = absl::flat_hash_map<std::string, std::vector<std::string>>;
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<Reasons> {
    auto q = db.Prepare(
        "SELECT r.comment_id, r.reason FROM comment_reports r JOIN comments c ON c.id = r.comment_id "
        "WHERE c.idea_id = ? ORDER BY r.created_us");
    if (!q.ok()) return q.status();
    q->Bind(1, idea_id);
    Reasons out;
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out[q->Text(0)].push_back(q->Text(1));
    }
  });
}

}  // namespace pep::ideas
