// The ledger chain: canonical bytes are stable, chaining is independent of arrival order (what
// a rebuild needs), and verification names a tampered record, a deletion and version gaps.
#include "services/audit/ledger.h"

#include <algorithm>
#include <random>

#include "common/uuid.h"
#include "gtest/gtest.h"

namespace pep::audit {
namespace {

LedgerRecord Event(const std::string& aggregate, int64_t version, int64_t at_ms,
                   const std::string& type) {
  LedgerRecord r;
  r.subject = "idea-1";
  r.topic = "pepiniere.ideas.events";
  r.payload = absl::StrCat("payload-", aggregate, "-", version);
  events::Envelope& e = r.envelope;
  e.time = e.effective_time = absl::FromUnixMillis(1764331200000 + at_ms);
  e.id = NewUuidV7(e.time);
  e.source = "/pepiniere/ideas";
  e.type = type;
  e.subject = aggregate;
  e.actor = "agent-1";
  e.correlation_id = "idea-1";
  e.aggregate_version = version;
  return r;
}

std::vector<LedgerRecord> Lifecycle() {
  return {Event("idea-1", 1, 0, "pepiniere.ideas.v1.IdeaSubmitted"),
          Event("idea-1", 2, 10, "pepiniere.ideas.v1.IdeaScored"),
          Event("idea-1", 3, 20, "pepiniere.ideas.v1.IdeaSelected"),
          Event("startup-1", 1, 30, "pepiniere.incubation.v1.StartupCreated"),
          Event("startup-1", 2, 40, "pepiniere.incubation.v1.PhaseChanged")};
}

TEST(Ledger, CanonicalFormIsDocumentedAndHashIsSha256) {
  LedgerRecord r = Event("a", 1, 0, "t");
  r.subject_seq = 1;
  const std::string c = CanonicalBytes(r);
  EXPECT_EQ(c.substr(0, 13), "pep-ledger-v1");
  EXPECT_EQ(c.substr(13, 4), std::string("\0\0\0\x06", 4));  // len("idea-1")
  EXPECT_EQ(c.substr(17, 6), "idea-1");
  EXPECT_EQ(Hex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
}

// Version 2 written out field by field from LEDGER.md, independently of EntryV2Bytes.
TEST(Ledger, EntryV2IsTheDocumentedBytesWithThePayloadHashed) {
  LedgerRecord r = Event("idea-7", 3, 250, "pepiniere.ideas.v1.IdeaScored");
  r.envelope.causation_id = "";
  r.subject = "whatever lineage";
  r.subject_seq = 42;
  auto field = [](const std::string& v) {
    const uint32_t n = static_cast<uint32_t>(v.size());
    return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)} + v;
  };
  const std::string when = "2025-11-28T12:00:00.250000Z";
  const std::string expected =
      "pep-ledger-v2" + field(r.envelope.id) + field("pepiniere.ideas.v1.IdeaScored") +
      field("/pepiniere/ideas") + field("idea-7") + field(when) + field("agent-1") +
      field("idea-1") + field("") + field("3") + field(when) + field("pepiniere.ideas.events") +
      field(Sha256("payload-idea-7-3"));
  EXPECT_EQ(EntryV2Bytes(r), expected);
  // Where it lands and what its payload is are not in it: only the payload's hash.
  LedgerRecord moved = r;
  moved.subject = "another";
  moved.subject_seq = 1;
  EXPECT_EQ(EntryV2Bytes(moved), expected);
  LedgerRecord other = r;
  other.payload += "!";
  EXPECT_NE(EntryV2Bytes(other), expected);
}

TEST(Ledger, ChainDoesNotDependOnArrivalOrder) {
  std::vector<LedgerRecord> in_order = Lifecycle();
  Chain(in_order);
  std::vector<LedgerRecord> shuffled = Lifecycle();
  for (size_t i = 0; i < shuffled.size(); ++i) shuffled[i].envelope.id = in_order[i].envelope.id;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  Chain(shuffled);
  ASSERT_EQ(in_order.size(), shuffled.size());
  for (size_t i = 0; i < in_order.size(); ++i) {
    EXPECT_EQ(Hex(shuffled[i].hash), Hex(in_order[i].hash)) << i;
    EXPECT_EQ(shuffled[i].subject_seq, static_cast<int64_t>(i) + 1);
  }
  EXPECT_EQ(in_order[0].prev_hash, std::string(32, '\0'));
  EXPECT_EQ(in_order[1].prev_hash, in_order[0].hash);
  Verification v = Verify(in_order);
  EXPECT_EQ(v.records, 5);
  EXPECT_EQ(v.first_broken_seq, 0);
  EXPECT_TRUE(v.gaps.empty());
  EXPECT_TRUE(v.duplicates.empty());
}

TEST(Ledger, OneChangedByteIsNamed) {
  std::vector<LedgerRecord> records = Lifecycle();
  Chain(records);
  records[2].payload[0] ^= 1;
  Verification v = Verify(records);
  EXPECT_EQ(v.first_broken_seq, 3);
  EXPECT_EQ(v.first_broken_ce_id, records[2].envelope.id);
}

TEST(Ledger, DeletionBreaksTheChainAndLeavesAGap) {
  std::vector<LedgerRecord> records = Lifecycle();
  Chain(records);
  const std::string next_id = records[2].envelope.id;
  records.erase(records.begin() + 1);  // IdeaScored (idea-1 version 2)
  Verification v = Verify(records);
  EXPECT_EQ(v.first_broken_ce_id, next_id);  // the record after the hole no longer links
  ASSERT_EQ(v.gaps.size(), 1u);
  EXPECT_EQ(v.gaps[0], "idea-1: version 2 missing");
}

TEST(Ledger, RepeatedVersionIsADuplicate) {
  std::vector<LedgerRecord> records = Lifecycle();
  records.push_back(Event("startup-1", 2, 50, "pepiniere.incubation.v1.PhaseChanged"));
  Chain(records);
  Verification v = Verify(records);
  EXPECT_EQ(v.first_broken_seq, 0);
  ASSERT_EQ(v.duplicates.size(), 1u);
  EXPECT_EQ(v.duplicates[0], "startup-1: version 2 2 times");
}

TEST(Ledger, LateArrivalIsInsertedAtItsPlaceAndMatchesARebuild) {
  std::vector<LedgerRecord> all = Lifecycle();
  std::vector<LedgerRecord> rebuilt = all;
  Chain(rebuilt);  // what a rebuild from the topics computes
  // Live: everything but IdeaScored arrives first (its outbox was held back), then it does.
  std::vector<LedgerRecord> live;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i == 1) continue;
    const size_t at = Insert(live, all[i]);
    EXPECT_EQ(at, live.size() - 1);  // appended at the end
  }
  EXPECT_EQ(Insert(live, all[1]), 1u);  // the late one goes to position 1
  ASSERT_EQ(live.size(), rebuilt.size());
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(Hex(live[i].hash), Hex(rebuilt[i].hash)) << i;
    EXPECT_EQ(live[i].subject_seq, static_cast<int64_t>(i) + 1);
  }
  EXPECT_EQ(Verify(live).first_broken_seq, 0);
}

}  // namespace
}  // namespace pep::audit
