// pep-audit's index, reader side: the signed checkpoints, consistency and inclusion proofs, C2SP
// tiles and entry bundles, a subject's records (its whole lineage) and the verification of the
// index against the log's hashes. Reads go through the reader connection and snapshots; the
// writer side (applying the log) is log_index.cc.
#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "pepiniere/audit/v1/log.pb.h"
#include "pepiniere/gateway/v1/events.pb.h"
#include "sealed/sealed.h"
#include "services/audit/log_index.h"
#include "services/audit/log_index_rows.h"

namespace pep::audit {

namespace av1 = pepiniere::audit::v1;

using internal::kColumns;
using internal::Raw;
using internal::ReadRow;

uint64_t LogIndex::size() const {
  absl::MutexLock l(&tree_mu_);
  return tree_.size();
}

std::optional<SignedCheckpoint> LogIndex::Latest() const {
  absl::MutexLock l(&tree_mu_);
  return latest_;
}

absl::StatusOr<std::string> LogIndex::CheckpointAt(uint64_t size) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT note FROM checkpoints WHERE size = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, static_cast<int64_t>(size));
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("tree_size: no signed checkpoint of size ", size));
  return q->Text(0);
}

absl::StatusOr<std::vector<tlog::Hash>> LogIndex::InclusionProof(uint64_t index, uint64_t* tree_size,
                                                                 tlog::Hash* leaf) {
  absl::MutexLock l(&tree_mu_);
  if (!latest_) return absl::UnavailableError("the log has no signed checkpoint yet");
  if (*tree_size == 0) *tree_size = latest_->checkpoint.size;
  if (*tree_size > latest_->checkpoint.size) {
    // Not the caller's syntax: no such checkpoint exists (yet).
    return absl::NotFoundError(absl::StrCat("tree_size: ", *tree_size, " is beyond the newest checkpoint (",
                                            latest_->checkpoint.size, ")"));
  }
  if (index >= *tree_size) {
    return absl::NotFoundError(absl::StrCat("index: ", index, " is not below tree_size ", *tree_size));
  }
  *leaf = tree_.Range(index, index + 1);
  return tlog::InclusionProof(index, *tree_size, tree_.Source());
}

absl::StatusOr<std::vector<tlog::Hash>> LogIndex::ConsistencyProof(uint64_t first, uint64_t* second) {
  absl::MutexLock l(&tree_mu_);
  if (!latest_) return absl::UnavailableError("the log has no signed checkpoint yet");
  if (*second == 0) *second = latest_->checkpoint.size;
  if (*second > latest_->checkpoint.size) {
    return absl::NotFoundError(absl::StrCat("second: ", *second, " is beyond the newest checkpoint (",
                                            latest_->checkpoint.size, ")"));
  }
  if (first == 0 || first > *second) {
    return absl::InvalidArgumentError(absl::StrCat("first: must be between 1 and ", *second));
  }
  return tlog::ConsistencyProof(first, *second, tree_.Source());
}

absl::StatusOr<std::string> LogIndex::EntryBundle(uint64_t n, uint64_t width) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT entry FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx");
  if (!q.ok()) return q.status();
  q->Bind(1, static_cast<int64_t>(n * tlog::kTileWidth)).Bind(2, static_cast<int64_t>(n * tlog::kTileWidth + width));
  std::string out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const std::string e = q->Text(0);
    out.push_back(static_cast<char>(e.size() >> 8));
    out.push_back(static_cast<char>(e.size() & 0xFF));
    out += e;
  }
  return out;
}

absl::StatusOr<std::string> LogIndex::Tile(const std::string& path, bool* immutable) {
  std::optional<SignedCheckpoint> latest = Latest();
  if (path == "checkpoint") {
    if (!latest) return absl::NotFoundError("path: the log has no signed checkpoint yet");
    *immutable = false;
    return latest->note;
  }
  const uint64_t size = latest ? latest->checkpoint.size : 0;
  // tile/<L>/<N...>[.p/<W>] or tile/entries/<N...>[.p/<W>]
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  auto bad = [&] { return absl::NotFoundError(absl::StrCat("path: '", path, "' is not a tile of this log")); };
  if (parts.size() < 3 || parts[0] != "tile") return bad();
  const bool entries = parts[1] == "entries";
  int level = 0;
  if (!entries && (!absl::SimpleAtoi(parts[1], &level) || level < 0 || level > 8 || parts[1].size() != 1)) return bad();
  uint64_t width = tlog::kTileWidth;
  size_t end = parts.size();
  if (parts.size() >= 4 && absl::EndsWith(parts[end - 2], ".p")) {
    if (!absl::SimpleAtoi(parts[end - 1], &width) || width == 0 || width >= tlog::kTileWidth) return bad();
    parts[end - 2].remove_suffix(2);
    end -= 1;
  }
  uint64_t n = 0;
  for (size_t i = 2; i < end; ++i) {
    absl::string_view d = parts[i];
    const bool last = i + 1 == end;
    if (!last) {
      if (d.size() != 4 || d[0] != 'x') return bad();
      d.remove_prefix(1);
    } else if (d.size() != 3) {
      return bad();
    }
    uint64_t v;
    if (!absl::SimpleAtoi(d, &v)) return bad();
    n = n * 1000 + v;
  }
  const uint64_t have = tlog::TileWidth(entries ? 0 : level, n, size);
  // A tile of width W is the first W hashes of its place: once the tree has them they never
  // change, so any width up to what the signed tree holds is served, and cacheable for good.
  if (have < width) return bad();
  // Canonical spelling only: the same tile has one name (and one cache entry).
  const std::string canonical = entries ? tlog::EntryBundlePath(n, width) : tlog::TilePath(level, n, width);
  if (canonical != path) return bad();
  *immutable = true;
  if (entries) return EntryBundle(n, width);
  absl::MutexLock l(&tree_mu_);
  return tree_.TileData(level, n, width);
}

absl::StatusOr<std::string> LogIndex::Resolve(const std::string& id) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT subject FROM aliases WHERE id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("id: no ledger record for '", id, "'"));
  return q->Text(0);
}

absl::StatusOr<std::map<std::string, std::string>> LogIndex::ActorNames(const std::set<std::string>& ids) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT name FROM actor_names WHERE id = ?");
  if (!q.ok()) return q.status();
  std::map<std::string, std::string> out;
  for (const std::string& id : ids) {
    q->Reset();
    q->Bind(1, id);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (*row) out[id] = q->Text(0);
  }
  return out;
}

absl::StatusOr<std::vector<LedgerRecord>> LogIndex::Subject(const std::string& subject) {
  std::vector<LedgerRecord> out;
  PEP_RETURN_IF_ERROR(EachOfSubject(subject, [&out](LedgerRecord&& r) {
    out.push_back(std::move(r));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status LogIndex::EachOfSubject(const std::string& subject,
                                     const std::function<absl::Status(LedgerRecord&&)>& visit) {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare(absl::StrCat("SELECT ", kColumns,
                                         " FROM entries WHERE subject = ? ORDER BY ce_time_us, ce_id"));
  if (!q.ok()) return q.status();
  q->Bind(1, subject);
  for (int64_t seq = 1;; ++seq) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    LedgerRecord r = ReadRow(*q);
    r.subject_seq = seq;
    PEP_RETURN_IF_ERROR(visit(std::move(r)));
  }
}

absl::Status LogIndex::ForEach(const std::string& subject, uint64_t* at_size,
                               const std::function<bool(const LedgerRecord&)>& visit) {
  // Its own connection: an export goes at the client's pace. One read transaction = one snapshot.
  auto db = store::Db::Open(path_);
  if (!db.ok()) return db.status();
  store::ReadSnapshot snapshot(**db);  // not a Transaction: that one holds the write lock
  PEP_RETURN_IF_ERROR(snapshot.status());
  {
    auto c = (*db)->Prepare("SELECT coalesce(max(size), 0) FROM checkpoints");
    if (!c.ok()) return c.status();
    auto row = c->Step();
    if (!row.ok()) return row.status();
    *at_size = static_cast<uint64_t>(c->Int(0));
  }
  auto q = subject.empty()
               ? (*db)->Prepare(absl::StrCat("SELECT ", kColumns, " FROM entries WHERE idx < ? ORDER BY idx"))
               : (*db)->Prepare(absl::StrCat("SELECT ", kColumns,
                                             " FROM entries WHERE idx < ? AND subject = ? "
                                             "ORDER BY ce_time_us, ce_id"));
  if (!q.ok()) return q.status();
  q->Bind(1, static_cast<int64_t>(*at_size));
  if (!subject.empty()) q->Bind(2, subject);
  int64_t seq = 0;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    LedgerRecord r = ReadRow(*q);
    r.subject_seq = ++seq;
    if (!visit(r)) return absl::OkStatus();
  }
}

absl::StatusOr<absl::Time> LogIndex::NewestRecorded() {
  absl::MutexLock l(&read_mu_);
  auto q = reader_->Prepare("SELECT max(ce_time_us) FROM entries");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return *row && !q->IsNull(0) ? absl::FromUnixMicros(q->Int(0)) : absl::InfinitePast();
}

absl::StatusOr<LedgerReport> LogIndex::Verify(const std::string& subject) {
  LedgerReport report;
  std::optional<SignedCheckpoint> latest = Latest();
  // A connection of its own (one read transaction = one snapshot): a whole-log verification
  // takes seconds and must not hold the shared reader (timelines, tiles) nor the writer.
  auto own = store::Db::Open(path_);
  if (!own.ok()) return own.status();
  store::Db* const reader = own->get();
  store::ReadSnapshot snapshot(*reader);  // not a Transaction: that one holds the write lock
  PEP_RETURN_IF_ERROR(snapshot.status());
  // Each entry: its bytes parse, agree with the index row, its payload hashes to it, its leaf
  // recomputes. The recomputed leaves are then checked against the signed tree.
  std::vector<std::pair<int64_t, tlog::Hash>> leaves;
  std::set<std::string> subjects;
  std::map<std::string, std::map<int64_t, std::vector<std::string>>> versions;  // aggregate -> v -> ce_ids
  sealed::Checker seals;  // sealed scoring: each reveal against its commitment (LEDGER.md)
  {
    auto q = subject.empty()
                 ? reader->Prepare(absl::StrCat("SELECT ", kColumns, " FROM entries ORDER BY idx"))
                 : reader->Prepare(absl::StrCat("SELECT ", kColumns,
                                                 " FROM entries WHERE subject = ? ORDER BY idx"));
    if (!q.ok()) return q.status();
    if (!subject.empty()) q->Bind(1, subject);
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      const LedgerRecord stored = ReadRow(*q);
      const std::string& entry = stored.entry;
      if (++report.records == 1 && subject.empty() && verify_hook_) verify_hook_();
      subjects.insert(stored.subject);
      versions[stored.envelope.subject][stored.envelope.aggregate_version].push_back(stored.envelope.id);
      auto broken = [&](std::string reason) {
        report.broken.push_back({stored.subject, stored.log_index, stored.envelope.id, std::move(reason)});
      };
      LedgerRecord decoded;
      std::string payload_hash;
      if (absl::Status s = ParseEntryV2(entry, &decoded, &payload_hash); !s.ok()) {
        broken(absl::StrCat("entry ", stored.log_index, ": ", s.message()));
        continue;
      }
      decoded.payload = stored.payload;
      if (Sha256(stored.payload) != payload_hash) {
        broken(absl::StrCat("entry ", stored.log_index, ": the payload does not hash to its entry"));
      }
      if (decoded.envelope != stored.envelope || decoded.topic != stored.topic) {
        broken(absl::StrCat("entry ", stored.log_index, ": the index row differs from its entry"));
      }
      const tlog::Hash leaf = tlog::LeafHash(entry);
      if (Raw(leaf) != stored.leaf) {
        broken(absl::StrCat("entry ", stored.log_index, ": the leaf hash does not recompute"));
      }
      leaves.emplace_back(stored.log_index, leaf);
      if (auto problem = seals.Add(stored.envelope.type, stored.payload)) {
        broken(absl::StrCat("entry ", stored.log_index, ": ", *problem));
      }
    }
  }
  report.subjects = static_cast<int64_t>(subjects.size());
  for (const auto& [aggregate, seen] : versions) {
    int64_t expect = 1;
    for (const auto& [version, ids] : seen) {
      for (; expect < version; ++expect) report.gaps.push_back(absl::StrCat(aggregate, ": version ", expect, " missing"));
      for (size_t i = 1; i < ids.size(); ++i) {
        report.duplicates.push_back(absl::StrCat(aggregate, ": version ", version, " repeated by ", ids[i]));
      }
      expect = version + 1;
    }
  }
  if (!latest) {
    if (report.records > 0) report.broken.push_back({"checkpoint", 0, "", "no signed checkpoint covers the entries"});
    return report;
  }
  report.tree_size = latest->checkpoint.size;
  report.root_hex = tlog::ToHex(latest->checkpoint.root);
  if (subject.empty()) {
    // The whole log: indices 0..n-1 without a hole, and the recomputed tree at every signed
    // size equal to what was signed.
    tlog::MemoryTree tree;
    for (const auto& [idx, leaf] : leaves) {
      if (idx != static_cast<int64_t>(tree.size())) {
        report.broken.push_back({"index", static_cast<int64_t>(tree.size()), "",
                                 absl::StrCat("entry ", tree.size(), " missing from the index")});
        break;
      }
      tree.Append(leaf);
    }
    auto c = reader->Prepare("SELECT size, note FROM checkpoints ORDER BY size");
    if (!c.ok()) return c.status();
    while (true) {
      auto row = c->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      const uint64_t size = static_cast<uint64_t>(c->Int(0));
      auto text = tlog::OpenNote(c->Text(1), verifier_key_);
      auto cp = text.ok() ? tlog::ParseCheckpoint(*text) : absl::StatusOr<tlog::Checkpoint>(text.status());
      if (!cp.ok() || cp->size != size) {
        report.broken.push_back({"checkpoint", static_cast<int64_t>(size), "", "its signature does not verify"});
      } else if (size > tree.size() || tree.Root(size) != cp->root) {
        report.broken.push_back({"checkpoint", static_cast<int64_t>(size), "",
                                 absl::StrCat("the entries do not hash to the root signed at size ", size)});
        break;  // every later one fails too
      }
    }
    auto p = reader->Prepare("SELECT reason FROM problems ORDER BY id");
    if (!p.ok()) return p.status();
    while (true) {
      auto row = p->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      report.broken.push_back({"log", 0, "", p->Text(0)});
    }
    auto u = reader->Prepare("SELECT what FROM undecodable ORDER BY id");
    if (!u.ok()) return u.status();
    while (true) {
      auto row = u->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      report.undecodable.push_back(u->Text(0));
    }
  } else {
    // One lineage: each signed entry's recomputed leaf is included in the signed tree. The tree
    // lock is taken per entry (the signed part never changes): ingestion goes on meanwhile.
    for (const auto& [idx, leaf] : leaves) {
      const uint64_t i = static_cast<uint64_t>(idx);
      if (i >= latest->checkpoint.size) continue;  // not signed yet
      std::vector<tlog::Hash> proof;
      {
        absl::MutexLock t(&tree_mu_);
        proof = tlog::InclusionProof(i, latest->checkpoint.size, tree_.Source());
      }
      if (idx == leaves.front().first && verify_hook_) verify_hook_();
      if (!tlog::VerifyInclusion(i, latest->checkpoint.size, leaf, proof, latest->checkpoint.root)) {
        report.broken.push_back({subject, idx, "", absl::StrCat("entry ", idx, " is not in the signed tree")});
      }
    }
  }
  return report;
}

}  // namespace pep::audit
