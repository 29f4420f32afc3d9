// pep-ideas' comments, sealed scorecards and co-authors' invitations in the store: one row per comment (its protobuf beside the idea, the author
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

namespace {

absl::StatusOr<std::vector<SealedCard>> SealedCardsOf(store::Db& db, const std::string& challenge_id) {
  auto q = db.Prepare(
      "SELECT s.idea_id, s.juror_id, s.data, k.salt, k.commitment FROM scorecards s "
      "JOIN ideas i ON i.id = s.idea_id "
      "LEFT JOIN seals k ON k.idea_id = s.idea_id AND k.juror_id = s.juror_id "
      "WHERE i.challenge_id = ? ORDER BY s.idea_id, s.juror_id");
  if (!q.ok()) return q.status();
  q->Bind(1, challenge_id);
  std::vector<SealedCard> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({q->Text(0), q->Text(1), q->Text(2), q->Text(3), q->Text(4)});
  }
}

}  // namespace

absl::Status IdeasTx::PutInvitation(const std::string& code_hash, const std::string& idea_id,
                                    absl::Time expires) {
  auto q = db_.Prepare("INSERT INTO invitations(code_hash, idea_id, expires_us) VALUES (?,?,?)");
  if (!q.ok()) return q.status();
  return q->BindBlob(1, code_hash).Bind(2, idea_id).Bind(3, absl::ToUnixMicros(expires)).Run();
}

absl::Status IdeasTx::UseInvitation(const std::string& code_hash, const std::string& idea_id,
                                    const std::string& account_id) {
  auto q = db_.Prepare("SELECT expires_us, used_by FROM invitations WHERE code_hash = ? AND idea_id = ?");
  if (!q.ok()) return q.status();
  q->BindBlob(1, code_hash).Bind(2, idea_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("code: no invitation to this idea has this code");
  if (!q->IsNull(1)) return absl::FailedPreconditionError("this invitation was used already: ask for another");
  if (absl::FromUnixMicros(q->Int(0)) <= Now()) {
    return absl::FailedPreconditionError("this invitation has expired (14 days): ask for another");
  }
  auto u = db_.Prepare("UPDATE invitations SET used_by = ? WHERE code_hash = ?");
  if (!u.ok()) return u.status();
  return u->Bind(1, account_id).BindBlob(2, code_hash).Run();
}

absl::Status IdeasTx::PutCoauthor(const std::string& idea_id, const std::string& account_id) {
  auto q = db_.Prepare("INSERT INTO coauthors(idea_id, account_id) VALUES (?,?) ON CONFLICT DO NOTHING");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).Bind(2, account_id).Run();
}

absl::Status IdeasTx::PutSeal(const std::string& idea_id, const std::string& juror_id,
                              const std::string& salt, const std::string& commitment) {
  auto q = db_.Prepare(
      "INSERT INTO seals(idea_id, juror_id, salt, commitment) VALUES (?,?,?,?) "
      "ON CONFLICT(idea_id, juror_id) DO UPDATE SET salt = excluded.salt, commitment = excluded.commitment");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).Bind(2, juror_id).BindBlob(3, salt).BindBlob(4, commitment).Run();
}

absl::StatusOr<std::vector<SealedCard>> IdeasTx::SealedCards(const std::string& challenge_id) {
  return SealedCardsOf(db_, challenge_id);
}

absl::StatusOr<std::vector<SealedCard>> IdeasStore::SealedCards(const std::string& challenge_id) {
  return reads_->With(mu_, *db_, [&](store::Db& db) { return SealedCardsOf(db, challenge_id); });
}

}  // namespace pep::ideas
