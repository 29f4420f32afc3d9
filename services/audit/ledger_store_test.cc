// The ledger on SQLite: one record per ce_id under redelivery, out-of-order arrival stored
// hash for hash like a rebuild, and a byte changed in the database named by verification.
#include "services/audit/ledger_store.h"

#include "common/uuid.h"
#include "gtest/gtest.h"
#include "harness/harness.h"

namespace pep::audit {
namespace {

LedgerRecord Event(const std::string& aggregate, int64_t version, int64_t at_ms) {
  LedgerRecord r;
  r.subject = "idea-1";
  r.topic = "pepiniere.ideas.events";
  r.payload = absl::StrCat("payload-", aggregate, "-", version);
  events::Envelope& e = r.envelope;
  e.time = e.effective_time = absl::FromUnixMillis(1764331200000 + at_ms);
  e.id = NewUuidV7(e.time);
  e.source = "/pepiniere/test";
  e.type = "pepiniere.test.v1.Happened";
  e.subject = aggregate;
  e.actor = "agent-1";
  e.correlation_id = "idea-1";
  e.aggregate_version = version;
  return r;
}

TEST(LedgerStore, RedeliveryOutOfOrderArrivalAndTampering) {
  pep::testing::TempDir dir;
  const std::string path = dir.path() + "/audit.db";
  auto store = LedgerStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<LedgerRecord> events = {Event("idea-1", 1, 0), Event("idea-1", 2, 10),
                                      Event("startup-1", 1, 20), Event("startup-1", 2, 30)};
  // Arrival: 1, 3, 4, then the late 2, then 3 again (redelivered).
  for (int i : {0, 2, 3, 1}) EXPECT_TRUE((*store)->Append(events[i]).value());
  EXPECT_FALSE((*store)->Append(events[2]).value());

  std::vector<LedgerRecord> rebuilt = events;
  Chain(rebuilt);
  auto stored = (*store)->Subject("idea-1");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 4u);
  for (size_t i = 0; i < rebuilt.size(); ++i) {
    EXPECT_EQ(Hex((*stored)[i].hash), Hex(rebuilt[i].hash)) << i;
  }
  auto clean = (*store)->VerifySubject("idea-1");
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->first_broken_seq, 0);
  EXPECT_TRUE(clean->gaps.empty());

  // Someone edits one byte of the third record's payload directly in SQLite.
  {
    auto db = store::Db::Open(path);
    ASSERT_TRUE((*db)->Exec("UPDATE ledger SET payload = CAST('payload-startup-1-X' AS BLOB) "
                            "WHERE subject_seq = 3").ok());
  }
  auto tampered = (*store)->VerifySubject("idea-1");
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ(tampered->first_broken_seq, 3);
  EXPECT_EQ(tampered->first_broken_ce_id, events[2].envelope.id);
}

}  // namespace
}  // namespace pep::audit
