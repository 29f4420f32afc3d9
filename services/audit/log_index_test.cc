// The index of the log, fed log records as the sequencer writes them: entries, lineages,
// proofs and tiles agree with an independent in-memory tree; what is not the sequencer's log
// (a bundle that does not continue it, a checkpoint under another key or over other entries)
// is refused and reported; a tampered or deleted index row is named by Verify.
#include "services/audit/log_index.h"

#include <atomic>
#include <thread>

#include "common/uuid.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "pepiniere/audit/v1/log.pb.h"
#include "store/sqlite.h"

namespace pep::audit {
namespace {

namespace av1 = pepiniere::audit::v1;
constexpr char kOrigin[] = "pepiniere.test/ledger";

LedgerRecord Event(const std::string& lineage, const std::string& aggregate, int64_t version, int64_t at_ms) {
  LedgerRecord r;
  r.topic = "pepiniere.incubation.events";
  r.payload = absl::StrCat("payload-", aggregate, "-", version);
  events::Envelope& e = r.envelope;
  e.time = e.effective_time = absl::FromUnixMillis(1764331200000 + at_ms);
  e.id = NewUuidV7(e.time);
  e.source = "/pepiniere/incubation";
  e.type = "pepiniere.incubation.v1.MilestonePushed";
  e.subject = aggregate;
  e.actor = "team-1";
  e.correlation_id = lineage;
  e.aggregate_version = version;
  return r;
}

// Writes log records the way the sequencer does, keeping its own tree to compare with.
class FakeSequencer {
 public:
  explicit FakeSequencer(const tlog::NoteSigner& signer) : signer_(signer) {}
  std::string Bundle(const std::vector<LedgerRecord>& records, int64_t first = -1) {
    av1::LogRecord rec;
    av1::LogBundle* b = rec.mutable_bundle();
    b->set_first_index(first >= 0 ? static_cast<uint64_t>(first) : tree_.size());
    for (const LedgerRecord& r : records) {
      av1::LogEntry* le = b->add_entries();
      le->set_entry(EntryV2Bytes(r));
      le->set_payload(r.payload);
      if (first < 0) tree_.Append(tlog::LeafHash(le->entry()));
    }
    return rec.SerializeAsString();
  }
  std::string Checkpoint(const tlog::NoteSigner* other = nullptr, std::optional<tlog::Hash> root = {}) {
    tlog::Checkpoint cp{kOrigin, tree_.size(), root.value_or(tree_.Root()), {}};
    av1::LogRecord rec;
    rec.mutable_checkpoint()->set_note(*(other ? *other : signer_).Sign(tlog::CheckpointText(cp)));
    return rec.SerializeAsString();
  }
  const tlog::MemoryTree& tree() const { return tree_; }

 private:
  const tlog::NoteSigner& signer_;
  tlog::MemoryTree tree_;
};

class LogIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = std::make_unique<tlog::NoteSigner>(*tlog::NoteSigner::Generate(kOrigin));
    seq_ = std::make_unique<FakeSequencer>(*signer_);
    auto index = LogIndex::Open(path(), kOrigin, signer_->VerifierKey());
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
  }
  std::string path() const { return dir_.path() + "/index.db"; }
  Applied Apply(std::vector<std::string> values) {
    std::vector<LogMessage> batch;
    for (auto& v : values) batch.push_back({offset_++, std::move(v)});
    auto a = index_->Apply(batch);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : Applied{};
  }
  // 300 entries over 3 lineages in two bundles, each followed by its checkpoint.
  void Fill() {
    std::vector<LedgerRecord> first, second;
    for (int i = 0; i < 300; ++i) {
      const std::string lineage = absl::StrCat("idea-", i % 3);
      (i < 200 ? first : second).push_back(Event(lineage, absl::StrCat("startup-", i % 3), i / 3 + 1, i));
    }
    std::string b1 = seq_->Bundle(first);
    std::string c1 = seq_->Checkpoint();
    std::string b2 = seq_->Bundle(second);
    std::string c2 = seq_->Checkpoint();
    Applied a = Apply({b1, c1, b2, c2});
    ASSERT_EQ(a.entries, 300);
    ASSERT_EQ(a.checkpoints, 2);
    ASSERT_TRUE(a.problems.empty()) << a.problems[0];
  }

  pep::testing::TempDir dir_;
  std::unique_ptr<tlog::NoteSigner> signer_;
  std::unique_ptr<FakeSequencer> seq_;
  std::unique_ptr<LogIndex> index_;
  int64_t offset_ = 0;
};

TEST_F(LogIndexTest, ProofsTilesAndLineagesMatchTheSequencersTree) {
  Fill();
  ASSERT_TRUE(index_->Latest().has_value());
  EXPECT_EQ(index_->Latest()->checkpoint.size, 300u);
  EXPECT_EQ(index_->Latest()->checkpoint.root, seq_->tree().Root());
  for (uint64_t i : {0u, 1u, 199u, 200u, 299u}) {
    uint64_t size = 0;
    tlog::Hash leaf;
    auto proof = index_->InclusionProof(i, &size, &leaf);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(size, 300u);
    EXPECT_TRUE(tlog::VerifyInclusion(i, 300, leaf, *proof, seq_->tree().Root()));
  }
  uint64_t second = 0;
  auto consistency = index_->ConsistencyProof(200, &second);
  ASSERT_TRUE(consistency.ok());
  EXPECT_TRUE(tlog::VerifyConsistency(200, 300, seq_->tree().Root(200), seq_->tree().Root(300), *consistency));
  uint64_t beyond = 301;
  EXPECT_FALSE(index_->ConsistencyProof(200, &beyond).ok());

  bool immutable = false;
  auto full = index_->Tile("tile/0/000", &immutable);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(immutable);
  EXPECT_EQ(*full, seq_->tree().TileData(0, 0, 256));
  auto partial = index_->Tile("tile/0/001.p/44", &immutable);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_TRUE(immutable) << "the first 44 hashes of that tile never change";
  EXPECT_EQ(*partial, seq_->tree().TileData(0, 1, 44));
  EXPECT_TRUE(index_->Tile("tile/1/000.p/1", &immutable).ok());
  EXPECT_FALSE(index_->Tile("tile/0/001.p/45", &immutable).ok()) << "beyond the signed tree";
  EXPECT_FALSE(index_->Tile("tile/0/001", &immutable).ok()) << "not full yet";
  EXPECT_EQ(*index_->Tile("tile/0/001.p/3", &immutable), seq_->tree().TileData(0, 1, 3)) << "a narrower one";
  EXPECT_FALSE(index_->Tile("tile/0/0", &immutable).ok()) << "not the canonical name";
  auto bundle = index_->Tile("tile/entries/001.p/44", &immutable);
  ASSERT_TRUE(bundle.ok());
  // 44 entries, each a big-endian 2-byte length and the entry: their leaves are the tile's.
  std::string_view rest = *bundle;
  for (int i = 0; i < 44; ++i) {
    ASSERT_GE(rest.size(), 2u);
    const size_t n = (static_cast<unsigned char>(rest[0]) << 8) | static_cast<unsigned char>(rest[1]);
    EXPECT_EQ(tlog::LeafHash(rest.substr(2, n)), seq_->tree().Range(256 + i, 257 + i));
    rest.remove_prefix(2 + n);
  }
  EXPECT_TRUE(rest.empty());
  auto cp = index_->Tile("checkpoint", &immutable);
  ASSERT_TRUE(cp.ok());
  EXPECT_TRUE(tlog::OpenNote(*cp, signer_->VerifierKey()).ok());

  auto subject = index_->Resolve("startup-1");
  ASSERT_TRUE(subject.ok());
  EXPECT_EQ(*subject, "idea-1");
  auto lineage = index_->Subject("idea-1");
  ASSERT_TRUE(lineage.ok());
  ASSERT_EQ(lineage->size(), 100u);
  EXPECT_EQ((*lineage)[0].log_index, 1);
  EXPECT_EQ((*lineage)[99].subject_seq, 100);

  auto report = index_->Verify("");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << (report->broken.empty() ? "" : report->broken[0].reason);
  EXPECT_EQ(report->records, 300);
  EXPECT_EQ(report->tree_size, 300u);

  // Reopened (a restart): the tree and the newest checkpoint come back from the file.
  index_.reset();
  auto again = LogIndex::Open(path(), kOrigin, signer_->VerifierKey());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), 300u);
  EXPECT_EQ((*again)->Latest()->checkpoint.size, 300u);
  EXPECT_EQ((*again)->NextLogOffset(), 4);
}

// Issue 26: a token made for a start-up born from an idea reached the log before the start-up's
// own events, opened a lineage under the start-up id, and the start-up's timeline showed that
// one line. Whichever arrives first, the start-up id, the token id and the idea id all resolve
// to the idea's lineage, which holds every entry; the merge changes no hash.
TEST_F(LogIndexTest, AnAccessEventBeforeItsStartupJoinsTheStartupsLineage) {
  LedgerRecord idea = Event("idea-9", "idea-9", 1, 0);
  idea.topic = "pepiniere.ideas.events";
  LedgerRecord token = Event("startup-9", "token-9", 1, 1);
  token.topic = "pepiniere.access.events";
  token.envelope.type = "pepiniere.gateway.v1.TokenCreated";
  token.envelope.source = "/pepiniere/gateway";
  LedgerRecord created = Event("idea-9", "startup-9", 1, 2);
  created.envelope.type = "pepiniere.incubation.v1.StartupCreated";
  LedgerRecord grant = Event("startup-9", "account-9", 1, 3);
  grant.topic = "pepiniere.access.events";
  grant.envelope.type = "pepiniere.gateway.v1.RoleGranted";
  LedgerRecord milestone = Event("idea-9", "startup-9", 2, 4);
  // The token in one bundle, the rest in the next (a restart in between).
  Apply({seq_->Bundle({idea, token})});
  EXPECT_EQ(*index_->Resolve("startup-9"), "startup-9") << "provisional until the start-up speaks";
  index_.reset();
  index_ = *LogIndex::Open(path(), kOrigin, signer_->VerifierKey());
  Apply({seq_->Bundle({created, grant, milestone}), seq_->Checkpoint()});
  for (const char* id : {"startup-9", "idea-9"}) {  // the ids a caller names (not a token's)
    auto subject = index_->Resolve(id);
    ASSERT_TRUE(subject.ok()) << id;
    EXPECT_EQ(*subject, "idea-9") << id;
  }
  auto lineage = index_->Subject("idea-9");
  ASSERT_TRUE(lineage.ok());
  EXPECT_EQ(lineage->size(), 5u) << "the idea, the token, the start-up, the grant, the milestone";
  auto report = index_->Verify("idea-9");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->records, 5);
}

// Issue 26: VerifyLedger held the tree's lock through a lineage's proofs (the follower could not
// append: ingestion stopped) and the shared reader through a whole-log scan (every timeline
// waited). In the middle of each verification, the follower appends and a reader resolves an
// id, each within two seconds.
TEST_F(LogIndexTest, VerifyingStopsNeitherIngestionNorReaders) {
  Fill();
  auto within = [](std::function<void()> work) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      work();
      done = true;
    });
    const bool in_time = pep::testing::WaitFor([&] { return done.load(); }, absl::Seconds(2));
    t.join();
    return in_time;
  };
  bool appended = false, resolved = false;
  index_->SetVerifyHookForTest([&] {
    appended = within([&] { Apply({seq_->Bundle({Event("idea-7", "startup-7", 1, 400)})}); });
  });
  auto lineage = index_->Verify("idea-1");
  ASSERT_TRUE(lineage.ok());
  EXPECT_TRUE(lineage->ok());
  EXPECT_TRUE(appended) << "a lineage's verification stopped the follower";
  index_->SetVerifyHookForTest([&] { resolved = within([&] { EXPECT_TRUE(index_->Resolve("startup-1").ok()); }); });
  auto whole = index_->Verify("");
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(resolved) << "a whole-log verification held the readers";
  EXPECT_EQ(index_->size(), 301u);
}

TEST_F(LogIndexTest, WhatTheSequencerDidNotWriteIsRefusedAndReported) {
  Fill();
  // A rewritten bundle: entries claimed at a place the log already holds.
  std::string rewritten = seq_->Bundle({Event("idea-0", "startup-0", 99, 999)}, 100);
  // A checkpoint under another key, one whose root is not the entries', one beyond the log.
  auto other = tlog::NoteSigner::Generate(kOrigin);
  std::string foreign = seq_->Checkpoint(&*other);
  tlog::Hash wrong{};
  std::string lying = seq_->Checkpoint(nullptr, wrong);
  Applied a = Apply({rewritten, foreign, lying});
  EXPECT_EQ(a.entries, 0);
  EXPECT_EQ(a.checkpoints, 0);
  ASSERT_EQ(a.problems.size(), 3u);
  EXPECT_NE(a.problems[0].find("bundle begins at entry 100 but the log holds 300"), std::string::npos) << a.problems[0];
  EXPECT_NE(a.problems[1].find("checkpoint refused"), std::string::npos) << a.problems[1];
  EXPECT_NE(a.problems[2].find("its root is not the root"), std::string::npos) << a.problems[2];
  EXPECT_EQ(index_->size(), 300u);
  // A bundle that continues the log but repeats an event already in it: the log is what it is
  // (indexed), and the repeat is reported — the sequencer never writes one.
  auto first = index_->Subject("idea-0");
  ASSERT_TRUE(first.ok());
  LedgerRecord again = (*first)[0];
  Applied repeated = Apply({seq_->Bundle({again}), seq_->Checkpoint()});
  EXPECT_EQ(repeated.entries, 1);
  EXPECT_EQ(repeated.checkpoints, 1);
  ASSERT_EQ(repeated.problems.size(), 1u);
  EXPECT_NE(repeated.problems[0].find(absl::StrCat("entry 300 repeats ", again.envelope.id)), std::string::npos)
      << repeated.problems[0];
  auto report = index_->Verify("");
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok());
  int log_problems = 0;
  for (const auto& b : report->broken) log_problems += b.chain == "log";
  EXPECT_EQ(log_problems, 4);
}

TEST_F(LogIndexTest, TamperedAndDeletedRowsAreNamed) {
  Fill();
  {
    auto db = store::Db::Open(path());
    ASSERT_TRUE(db.ok());
    // An index row changed after the fact: its type no longer says what the entry says.
    ASSERT_TRUE((*db)->Exec("UPDATE entries SET ce_type = 'pepiniere.incubation.v1.PhaseChanged' WHERE idx = 42").ok());
    // A payload replaced.
    ASSERT_TRUE((*db)->Exec("UPDATE entries SET payload = x'00' WHERE idx = 43").ok());
  }
  auto report = index_->Verify("");
  ASSERT_TRUE(report.ok());
  ASSERT_GE(report->broken.size(), 2u);
  EXPECT_EQ(report->broken[0].seq, 42);
  EXPECT_NE(report->broken[0].reason.find("index row differs from its entry"), std::string::npos);
  EXPECT_EQ(report->broken[1].seq, 43);
  EXPECT_NE(report->broken[1].reason.find("payload does not hash"), std::string::npos);
  // The lineage check names it too.
  auto lineage = index_->Verify("idea-0");
  ASSERT_TRUE(lineage.ok());
  EXPECT_FALSE(lineage->ok());

  {
    auto db = store::Db::Open(path());
    ASSERT_TRUE((*db)->Exec("UPDATE entries SET ce_type = 'pepiniere.incubation.v1.MilestonePushed', "
                            "payload = (SELECT payload FROM entries WHERE idx = 46) WHERE idx IN (42)").ok());
    // An entry rewritten consistently (entry, leaf, columns): only the signed root sees it.
    LedgerRecord forged = Event("idea-2", "startup-2", 15, 44);  // entry 44 is idea-2's
    const std::string entry = EntryV2Bytes(forged);
    const tlog::Hash leaf = tlog::LeafHash(entry);
    auto upd = (*db)->Prepare("UPDATE entries SET entry = ?, leaf = ?, payload = ?, ce_id = ?, ce_time_us = ?, "
                              "effective_us = ? WHERE idx = 44");
    upd->BindBlob(1, entry).BindBlob(2, std::string(reinterpret_cast<const char*>(leaf.data()), 32))
        .BindBlob(3, forged.payload).Bind(4, forged.envelope.id)
        .Bind(5, absl::ToUnixMicros(forged.envelope.time)).Bind(6, absl::ToUnixMicros(forged.envelope.effective_time));
    ASSERT_TRUE(upd->Run().ok());
    ASSERT_TRUE((*db)->Exec("DELETE FROM entries WHERE idx = 250").ok());
  }
  report = index_->Verify("");
  ASSERT_TRUE(report.ok());
  bool root_named = false, hole_named = false;
  for (const auto& b : report->broken) {
    if (b.chain == "checkpoint" && b.seq == 200) root_named = true;
    if (b.chain == "index" && b.seq == 250) hole_named = true;
  }
  EXPECT_TRUE(root_named) << "the first checkpoint over the rewritten entry is named";
  EXPECT_TRUE(hole_named) << "the deleted entry is named";
  lineage = index_->Verify("idea-2");
  ASSERT_TRUE(lineage.ok());
  bool named = false;
  for (const auto& b : lineage->broken) named |= b.seq == 44 && b.reason.find("not in the signed tree") != std::string::npos;
  EXPECT_TRUE(named);
}

}  // namespace
}  // namespace pep::audit
