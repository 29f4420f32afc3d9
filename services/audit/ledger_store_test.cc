// The ledger on SQLite: one record per ce_id under redelivery, a late record stored hash for
// hash like a rebuild (lineage and global chains), repeated aggregate versions kept aside, and
// a byte changed or a row deleted in the database named by verification.
#include "services/audit/ledger_store.h"

#include "common/uuid.h"
#include "gtest/gtest.h"
#include "harness/harness.h"

namespace pep::audit {
namespace {

LedgerRecord Event(const std::string& lineage, const std::string& aggregate, int64_t version,
                   int64_t at_ms) {
  LedgerRecord r;
  r.subject = lineage;
  r.topic = "pepiniere.ideas.events";
  r.payload = absl::StrCat("payload-", aggregate, "-", version);
  events::Envelope& e = r.envelope;
  e.time = e.effective_time = absl::FromUnixMillis(1764331200000 + at_ms);
  e.id = NewUuidV7(e.time);
  e.source = "/pepiniere/test";
  e.type = "pepiniere.test.v1.Happened";
  e.subject = aggregate;
  e.actor = "agent-1";
  e.correlation_id = lineage;
  e.aggregate_version = version;
  return r;
}

struct Row {
  std::string ce_id, subject, hash, global_hash;
  int64_t seq;
  bool operator==(const Row&) const = default;
};

std::vector<Row> Dump(LedgerStore& store) {
  std::vector<Row> rows;
  EXPECT_TRUE(store
                  .ForEach("",
                           [&](const LedgerRecord& r) {
                             rows.push_back({r.envelope.id, r.subject, Hex(r.hash),
                                             Hex(r.global_hash), r.subject_seq});
                             return true;
                           })
                  .ok());
  return rows;
}

class LedgerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/audit.db";
    auto s = LedgerStore::Open(path_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    // Two lineages interleaved in time; idea-1's start-up is a second aggregate of its lineage.
    events_ = {Event("idea-1", "idea-1", 1, 0),    Event("idea-2", "idea-2", 1, 5),
               Event("idea-1", "idea-1", 2, 10),   Event("idea-1", "startup-1", 1, 20),
               Event("idea-2", "idea-2", 2, 25),   Event("idea-1", "startup-1", 2, 30)};
  }
  SealResult Seal(std::vector<LedgerRecord> batch, std::vector<PartitionOffset> offsets = {}) {
    std::sort(batch.begin(), batch.end(), ChainsBefore);
    auto r = store_->Seal(batch, {}, offsets);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : SealResult{};
  }
  pep::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<LedgerStore> store_;
  std::vector<LedgerRecord> events_;
};

TEST_F(LedgerStoreTest, LateRecordsAndRedeliveryGiveTheRebuildsHashes) {
  // Arrival: everything but events_[2] in two batches, then the late events_[2], then a
  // redelivery of events_[3].
  EXPECT_EQ(Seal({events_[0], events_[1]}).appended, 2);
  SealResult second = Seal({events_[3], events_[4], events_[5]});
  EXPECT_EQ(second.appended, 3);
  EXPECT_EQ(second.gaps, 0);  // startup-1 v1 and idea-2 v2 follow their predecessors
  SealResult late = Seal({events_[2]});
  EXPECT_EQ(late.appended, 1);
  EXPECT_EQ(late.late, 1);
  EXPECT_EQ(Seal({events_[3]}).redelivered, 1);

  pep::testing::TempDir other;
  auto rebuilt = LedgerStore::Open(other.path() + "/audit.db");
  ASSERT_TRUE(rebuilt.ok());
  std::vector<LedgerRecord> all = events_;
  std::sort(all.begin(), all.end(), ChainsBefore);
  ASSERT_TRUE((*rebuilt)->Seal(all, {}, {}).ok());

  const std::vector<Row> live = Dump(*store_), replay = Dump(**rebuilt);
  ASSERT_EQ(live.size(), 6u);
  EXPECT_EQ(live, replay);
  auto report = store_->Verify("");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << (report->broken.empty() ? "" : report->broken[0].reason);
  EXPECT_EQ(report->records, 6);
  EXPECT_EQ(report->subjects, 2);
  EXPECT_EQ(store_->Resolve("startup-1").value(), "idea-1");
  EXPECT_EQ(store_->Resolve("idea-2").value(), "idea-2");
  EXPECT_EQ(store_->Resolve("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LedgerStoreTest, RepeatedAggregateVersionIsKeptAsideAndReported) {
  Seal({events_[0], events_[2]});
  LedgerRecord again = Event("idea-1", "idea-1", 2, 40);  // another ce_id claims version 2
  SealResult r = Seal({again});
  EXPECT_EQ(r.appended, 0);
  EXPECT_EQ(r.duplicates, 1);
  EXPECT_EQ(store_->Subject("idea-1")->size(), 2u);
  auto report = store_->Verify("idea-1");
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->duplicates.size(), 1u);
  EXPECT_NE(report->duplicates[0].find(again.envelope.id), std::string::npos);
  EXPECT_TRUE(report->ok());  // a duplicate is ignored, not a break
}

TEST_F(LedgerStoreTest, GapCountedWhenASuccessorArrivesAlone) {
  SealResult r = Seal({events_[0], events_[5]});  // startup-1 v2 without v1
  EXPECT_EQ(r.gaps, 1);
  auto report = store_->Verify("idea-1");
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->gaps.size(), 1u);
  EXPECT_EQ(report->gaps[0], "startup-1: version 1 missing");
}

TEST_F(LedgerStoreTest, OffsetsAreStoredWithTheRecords) {
  Seal({events_[0]}, {{"pepiniere.ideas.events", 3, 42}});
  Seal({events_[1]}, {{"pepiniere.ideas.events", 3, 43}, {"pepiniere.ideas.events", 4, 7}});
  auto offsets = store_->Offsets();
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ(offsets->at(std::pair<std::string, int>("pepiniere.ideas.events", 3)), 43);
  EXPECT_EQ(offsets->at(std::pair<std::string, int>("pepiniere.ideas.events", 4)), 7);
}

TEST_F(LedgerStoreTest, ChangedByteIsNamed) {
  Seal(events_);
  {
    auto db = store::Db::Open(path_);
    ASSERT_TRUE((*db)->Exec(absl::StrCat("UPDATE records SET payload = CAST('payload-startup-1-X' "
                                         "AS BLOB) WHERE ce_id = '", events_[3].envelope.id, "'"))
                    .ok());
  }
  auto report = store_->Verify("");
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok());
  ASSERT_EQ(report->broken.size(), 1u);  // the lineage chain; the global chain links hashes
  EXPECT_EQ(report->broken[0].chain, "idea-1");
  EXPECT_EQ(report->broken[0].seq, 3);
  EXPECT_EQ(report->broken[0].ce_id, events_[3].envelope.id);
}

TEST_F(LedgerStoreTest, DeletedRecordBreaksBothChainsAndLeavesAGap) {
  Seal(events_);
  // startup-1 version 1 goes; version 2 remains, so the hole shows.
  {
    auto db = store::Db::Open(path_);
    ASSERT_TRUE((*db)->Exec(absl::StrCat("DELETE FROM records WHERE ce_id = '",
                                         events_[3].envelope.id, "'"))
                    .ok());
  }
  auto report = store_->Verify("");
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok());
  bool lineage = false, global = false;
  for (const auto& b : report->broken) {
    // The lineage chain breaks at the record after the hole, the global chain at the record
    // that followed it globally (idea-2's).
    if (b.chain == "idea-1" && b.ce_id == events_[5].envelope.id) lineage = true;
    if (b.chain == "global" && b.ce_id == events_[4].envelope.id) global = true;
  }
  EXPECT_TRUE(lineage);
  EXPECT_TRUE(global);
  ASSERT_EQ(report->gaps.size(), 1u);
  EXPECT_EQ(report->gaps[0], "startup-1: version 1 missing");
}

}  // namespace
}  // namespace pep::audit
