// pep-ideas' store for the flows around an idea: assisted submissions waiting for their author's
// claim (by the hash of the e-mail, never the address), merges (what each brought, so it can
// be undone) and the supports they moved.
#include "common/status.h"
#include "services/ideas/ideas_store.h"
#include "store/proto_rows.h"

namespace pep::ideas {

absl::Status IdeasTx::DeleteCoauthor(const std::string& idea_id, const std::string& account_id) {
  auto q = db_.Prepare("DELETE FROM coauthors WHERE idea_id = ? AND account_id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).Bind(2, account_id).Run();
}

absl::Status IdeasTx::PutClaim(const std::string& idea_id, const std::string& email_hash) {
  auto q = db_.Prepare("INSERT INTO pending_claims(idea_id, email_hash) VALUES (?,?) "
                       "ON CONFLICT(idea_id) DO UPDATE SET email_hash = excluded.email_hash");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).BindBlob(2, email_hash).Run();
}

absl::StatusOr<std::vector<std::string>> IdeasTx::TakeClaims(const std::string& email_hash) {
  auto q = db_.Prepare("SELECT idea_id FROM pending_claims WHERE email_hash = ? ORDER BY idea_id");
  if (!q.ok()) return q.status();
  q->BindBlob(1, email_hash);
  auto ids = store::FirstColumn<std::vector<std::string>>(*q);
  if (!ids.ok() || ids->empty()) return ids;
  auto d = db_.Prepare("DELETE FROM pending_claims WHERE email_hash = ?");
  if (!d.ok()) return d.status();
  PEP_RETURN_IF_ERROR(d->BindBlob(1, email_hash).Run());
  return ids;
}

absl::Status IdeasTx::PutMerge(const std::string& idea_id, const std::string& into_id,
                               v1::IdeaStatus previous) {
  auto q = db_.Prepare("INSERT INTO merges(idea_id, into_id, previous_status) VALUES (?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).Bind(2, into_id).Bind(3, static_cast<int64_t>(previous)).Run();
}

absl::StatusOr<v1::IdeaStatus> IdeasTx::TakeMerge(const std::string& idea_id, const std::string& into_id) {
  auto q = db_.Prepare("SELECT previous_status FROM merges WHERE idea_id = ? AND into_id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, idea_id).Bind(2, into_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("idea " + idea_id + " was not merged into " + into_id);
  const auto previous = static_cast<v1::IdeaStatus>(q->Int(0));
  auto d = db_.Prepare("DELETE FROM merges WHERE idea_id = ?");
  if (!d.ok()) return d.status();
  PEP_RETURN_IF_ERROR(d->Bind(1, idea_id).Run());
  return previous;
}

absl::StatusOr<int> IdeasTx::MoveSupports(const std::string& from, const std::string& into,
                                          const std::vector<std::string>& skip) {
  auto q = db_.Prepare("SELECT account_id FROM supports WHERE idea_id = ? ORDER BY account_id");
  if (!q.ok()) return q.status();
  q->Bind(1, from);
  auto supporters = store::FirstColumn<std::vector<std::string>>(*q);
  if (!supporters.ok()) return supporters.status();
  int moved = 0;
  for (const std::string& account : *supporters) {
    if (std::find(skip.begin(), skip.end(), account) != skip.end()) continue;
    auto added = PutSupport(into, account);
    if (!added.ok()) return added.status();
    if (!*added) continue;  // supported both: counted once
    auto m = db_.Prepare("INSERT INTO merge_supports(idea_id, account_id) VALUES (?,?)");
    if (!m.ok()) return m.status();
    PEP_RETURN_IF_ERROR(m->Bind(1, from).Bind(2, account).Run());
    ++moved;
  }
  return moved;
}

absl::StatusOr<int> IdeasTx::TakeBackSupports(const std::string& from, const std::string& into) {
  auto q = db_.Prepare("SELECT account_id FROM merge_supports WHERE idea_id = ? ORDER BY account_id");
  if (!q.ok()) return q.status();
  q->Bind(1, from);
  auto added = store::FirstColumn<std::vector<std::string>>(*q);
  if (!added.ok()) return added.status();
  int removed = 0;
  for (const std::string& account : *added) {
    auto gone = DeleteSupport(into, account);  // false: withdrawn since
    if (!gone.ok()) return gone.status();
    removed += *gone ? 1 : 0;
  }
  auto d = db_.Prepare("DELETE FROM merge_supports WHERE idea_id = ?");
  if (!d.ok()) return d.status();
  PEP_RETURN_IF_ERROR(d->Bind(1, from).Run());
  return removed;
}

absl::StatusOr<int> IdeasTx::CountSupports(const std::string& idea_id) {
  auto q = db_.Prepare("SELECT COUNT(*) FROM supports WHERE idea_id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, idea_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(q->Int(0));
}

}  // namespace pep::ideas
