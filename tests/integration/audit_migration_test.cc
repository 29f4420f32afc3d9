// A version 1 ledger made by the previous release (tests/data/v1-ledger: issue 13's pep-audit,
// see make.sh) becomes the first entries of the version 2 log, in its global order, nothing
// dropped, each with its v1 hash; the source topics still hold the same events (and a
// redelivery), which are not appended twice; events after them follow; the export verifies
// offline; a restart migrates nothing again.
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/uuid.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "harness/harness.h"
#include "integration/service_fixture.h"
#include "services/audit/ledger.h"

namespace pep::testing {
namespace {

struct V1Record {
  std::string ce_id, hash_hex;
};

std::vector<V1Record> ReadV1(const std::string& path) {
  std::vector<V1Record> out;
  auto db = store::Db::Open(path);
  EXPECT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT ce_id, hash FROM records ORDER BY gpos");
  while (q->Step().value_or(false)) out.push_back({q->Text(0), audit::Hex(q->Text(1))});
  return out;
}

void ProduceTsv(const std::string& brokers, const std::string& file) {
  auto p = events::Producer::Create({{"bootstrap.servers", brokers}}, [](uint64_t, const absl::Status& s) {
    EXPECT_TRUE(s.ok()) << s;
  });
  ASSERT_TRUE(p.ok());
  std::ifstream in(file);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 8u) << line;
    events::Envelope e;
    e.id = f[2];
    e.type = f[3];
    ASSERT_TRUE(ParseRfc3339(f[4], &e.time));
    e.effective_time = e.time;
    e.correlation_id = f[5];
    e.aggregate_version = std::stoll(f[6]);
    e.source = "/pepiniere/v1-fixture";
    e.subject = f[1];
    e.actor = "agent-v1";
    ASSERT_TRUE((*p)->Produce(f[0], f[1], f[7], events::ToHeaders(e), n++).ok());
  }
  ASSERT_TRUE((*p)->Flush(absl::Seconds(30)).ok());
}

// A milestone of start-up-v1a after the migration, at aggregate version `version`.
void ProduceOne(const std::string& brokers, int64_t version) {
  auto p = events::Producer::Create({{"bootstrap.servers", brokers}}, [](uint64_t, const absl::Status&) {});
  ASSERT_TRUE(p.ok());
  events::Envelope e;
  e.time = e.effective_time = absl::Now();
  e.id = NewUuidV7(e.time);
  e.type = "pepiniere.incubation.v1.MilestonePushed";
  e.source = "/pepiniere/incubation";
  e.subject = "startup-v1a";
  e.correlation_id = "idea-v1a";
  e.actor = "team";
  e.aggregate_version = version;
  ASSERT_TRUE((*p)->Produce("pepiniere.incubation.events", e.subject, "after", events::ToHeaders(e), 0).ok());
  ASSERT_TRUE((*p)->Flush(absl::Seconds(30)).ok());
}

// The v1 fixture's ledger in `dir` (pep-audit's data dir), and what v1 had read on the topics
// again (this broker is new: the same events); returns v1's records in global order.
std::vector<V1Record> StageV1(const std::string& brokers, const TempDir& dir) {
  EXPECT_TRUE(events::EnsureTopics(brokers, events::PepiniereTopics()).ok());
  const std::string fixture = std::string(std::getenv("PEP_SOURCE_DIR")) + "/tests/data/v1-ledger";
  std::filesystem::copy_file(fixture + "/audit.db", dir.path() + "/audit.db");
  ProduceTsv(brokers, fixture + "/events.tsv");
  return ReadV1(dir.path() + "/audit.db");
}

TEST(AuditMigration, AV1LedgerBecomesTheFirstEntriesInItsGlobalOrder) {
  const std::string brokers = KafkaBroker::Shared().bootstrap();
  TempDir dir;
  const std::vector<V1Record> v1 = StageV1(brokers, dir);
  ASSERT_EQ(v1.size(), 7u) << "the fixture: 8 messages, one a redelivery";
  AuditProcess audit(brokers, dir.path());
  audit.Start();
  ASSERT_TRUE(WaitFor([&] { return audit.Checkpoint().tree_size() >= v1.size(); }, absl::Seconds(60)));
  ProduceOne(brokers, 4);
  ProduceOne(brokers, 5);
  ASSERT_TRUE(WaitFor([&] { return audit.Checkpoint().tree_size() == v1.size() + 2; }, absl::Seconds(60)))
      << audit.Checkpoint().tree_size();

  const std::vector<std::string> whole = audit.Export();
  ASSERT_EQ(whole.size(), v1.size() + 2 + 2);
  std::set<std::string> ids;
  for (size_t i = 0; i < v1.size(); ++i) {
    const std::string& line = whole[i + 1];
    EXPECT_NE(line.find(absl::StrCat("{\"index\":", i, ",")), std::string::npos) << line;
    EXPECT_NE(line.find(absl::StrCat("\"ce_id\":\"", v1[i].ce_id, "\"")), std::string::npos)
        << "entry " << i << " is v1's record " << i + 1 << " in global order: " << line;
    EXPECT_NE(line.find(absl::StrCat("\"v1_hash\":\"", v1[i].hash_hex, "\"")), std::string::npos) << line;
  }
  for (size_t i = 1; i + 1 < whole.size(); ++i) {
    const size_t at = whole[i].find("\"ce_id\":\"") + 9;
    EXPECT_TRUE(ids.insert(whole[i].substr(at, 36)).second) << "appended twice: " << whole[i];
  }
  EXPECT_EQ(whole[v1.size() + 1].find("v1_hash"), std::string::npos) << "a new entry has no v1 hash";
  av1::VerifyLedgerResponse v = audit.Verify();
  EXPECT_TRUE(v.ok()) << (v.broken_size() ? v.broken(0).reason() : "") << (v.gaps_size() ? v.gaps(0) : "");
  EXPECT_EQ(v.records(), static_cast<int64_t>(v1.size() + 2));
  {
    std::ofstream f(dir.path() + "/whole.jsonl");
    for (const auto& l : whole) f << l << "\n";
  }
  EXPECT_EQ(RunCommand(absl::StrCat("python3 ", std::getenv("PEP_SOURCE_DIR"), "/services/audit/tools/verify-ledger.py --key '",
                                    audit.Checkpoint().verifier_key(), "' ", dir.path(), "/whole.jsonl")),
            0);

  // The v1 ledger is still there, as it was; a restart does not migrate it again.
  const std::vector<V1Record> after = ReadV1(dir.path() + "/audit.db");
  ASSERT_EQ(after.size(), v1.size());
  for (size_t i = 0; i < v1.size(); ++i) EXPECT_EQ(after[i].hash_hex, v1[i].hash_hex);
  ASSERT_EQ(audit.Terminate(), 0);
  audit.Start();
  // One more event: a migration (done before any source is read) would come before it.
  ProduceOne(brokers, 6);
  ASSERT_TRUE(WaitFor([&] { return audit.Checkpoint().tree_size() >= v1.size() + 3; }, absl::Seconds(60)));
  EXPECT_EQ(audit.Checkpoint().tree_size(), v1.size() + 3);
}

// Issue 26: a migration cut short (here after its first bundle of two entries, as a crash
// would) used to be abandoned: the next take-over saw a non-empty log, migrated nothing more,
// and read the sources from their beginning, so v1's later records came back from the topics in
// another order and without their v1 hashes. Now it resumes: all of v1, in its order, hashed.
TEST(AuditMigration, AnInterruptedMigrationResumesWhereItStopped) {
  const std::string brokers = KafkaBroker::Shared().bootstrap();
  TempDir dir;
  const std::vector<V1Record> v1 = StageV1(brokers, dir);
  AuditProcess audit(brokers, dir.path(),
                     {"--sequencer_bundle_entries", "2", "--test_interrupt_migration_after", "1"});
  audit.Start();
  ASSERT_TRUE(WaitFor([&] { return audit.Checkpoint().tree_size() >= v1.size(); }, absl::Seconds(60)));
  const std::vector<std::string> whole = audit.Export();
  ASSERT_GE(whole.size(), v1.size() + 2);
  for (size_t i = 0; i < v1.size(); ++i) {
    const std::string& line = whole[i + 1];
    EXPECT_NE(line.find(absl::StrCat("\"ce_id\":\"", v1[i].ce_id, "\"")), std::string::npos)
        << "entry " << i << " is v1's record " << i + 1 << ": " << line;
    EXPECT_NE(line.find(absl::StrCat("\"v1_hash\":\"", v1[i].hash_hex, "\"")), std::string::npos) << line;
  }
  std::set<std::string> ids;
  for (size_t i = 1; i + 1 < whole.size(); ++i) {
    const size_t at = whole[i].find("\"ce_id\":\"") + 9;
    EXPECT_TRUE(ids.insert(whole[i].substr(at, 36)).second) << "appended twice: " << whole[i];
  }
  av1::VerifyLedgerResponse v = audit.Verify();
  EXPECT_TRUE(v.ok()) << (v.broken_size() ? v.broken(0).reason() : "");
}

}  // namespace
}  // namespace pep::testing
