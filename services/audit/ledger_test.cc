// The canonical bytes: version 2 entries as LEDGER.md writes them (and parsed back), version 1's
// form as the migrated hashes were computed.
#include "services/audit/ledger.h"

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

}  // namespace
}  // namespace pep::audit
