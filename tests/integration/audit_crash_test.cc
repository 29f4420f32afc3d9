// pep-audit killed with SIGKILL three times during a stream of events (some of them on the
// wire twice, as a relay restarting would send them): after the last restart the ledger has
// exactly one record per event, no gap, no duplicate, every chain intact.
#include <atomic>
#include <thread>

#include "common/uuid.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "harness/harness.h"
#include "integration/service_fixture.h"
#include "pepiniere/ideas/v1/events.pb.h"

namespace pep::testing {
namespace {

TEST(AuditCrashTest, KilledDuringAStreamNoDuplicateNoGap) {
  const std::string brokers = KafkaBroker::Shared().bootstrap();
  ASSERT_TRUE(events::EnsureTopics(brokers, events::PepiniereTopics()).ok());
  TempDir dir;
  AuditProcess audit(brokers, dir.path(), {"--consumer_group", "pep-audit-crash"});
  audit.Start();

  constexpr int kAggregates = 60, kEvents = 3000;
  const std::vector<std::string> topics = {"pepiniere.ideas.events", "pepiniere.incubation.events",
                                           "pepiniere.feedback.events"};
  std::atomic<int> produced{0}, wire_duplicates{0}, failed{0};
  std::thread stream([&] {
    auto p = events::Producer::Create({{"bootstrap.servers", brokers}},
                                      [&](uint64_t, const absl::Status& s) { failed += !s.ok(); });
    ASSERT_TRUE(p.ok());
    std::vector<int64_t> version(kAggregates, 0);
    for (int n = 0; n < kEvents; ++n) {
      const int a = n % kAggregates;
      events::Envelope e;
      e.time = e.effective_time = absl::Now();
      e.id = NewUuidV7(e.time);
      e.source = "/pepiniere/crash-test";
      e.type = "pepiniere.ideas.v1.IdeaEdited";
      e.subject = absl::StrCat("crash-", a);
      e.actor = "agent-1";
      e.correlation_id = absl::StrCat("crash-lineage-", a / 6);
      e.aggregate_version = ++version[a];
      pepiniere::ideas::v1::IdeaEdited ev;
      ev.set_idea_id(e.subject);
      auto* c = ev.add_changes();
      c->set_field("title");
      c->set_new_value(absl::StrCat("v", e.aggregate_version));
      const auto headers = events::ToHeaders(e);
      const std::string& topic = topics[a % 3];
      ASSERT_TRUE((*p)->Produce(topic, e.subject, ev.SerializeAsString(), headers, n).ok());
      if (n % 20 == 7) {  // the same event again, as a restarted relay would send it
        ASSERT_TRUE((*p)->Produce(topic, e.subject, ev.SerializeAsString(), headers, n).ok());
        ++wire_duplicates;
      }
      ++produced;
      if (n % 50 == 49) absl::SleepFor(absl::Milliseconds(200));  // a stream, not a burst
    }
    ASSERT_TRUE((*p)->Flush(absl::Seconds(30)).ok());
  });

  for (int kill = 0; kill < 3; ++kill) {
    const int at = (kill + 1) * kEvents / 4;
    ASSERT_TRUE(WaitFor([&] { return produced.load() >= at; }, absl::Seconds(60)));
    audit.Kill9();
    audit.Start();
  }
  stream.join();
  ASSERT_EQ(failed.load(), 0);
  ASSERT_GT(wire_duplicates.load(), 100);

  ASSERT_TRUE(WaitFor([&] { return audit.Records() >= kEvents; }, absl::Seconds(90)))
      << "ledger has " << audit.Records() << " of " << kEvents;
  av1::VerifyLedgerResponse v = audit.Verify();
  EXPECT_EQ(v.records(), kEvents);
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.broken_size(), 0);
  EXPECT_EQ(v.gaps_size(), 0) << v.gaps(0);
  EXPECT_EQ(v.duplicates_size(), 0);
  EXPECT_EQ(v.subjects(), kAggregates / 6);

  // A clean restart replays nothing twice either.
  ASSERT_EQ(audit.Terminate(), 0);
  audit.Start();
  {
    auto db = store::Db::Open(audit.db_path());
    ASSERT_TRUE(db.ok());
    auto q = (*db)->Prepare("SELECT count(*), count(DISTINCT ce_id) FROM records");
    ASSERT_TRUE(q.ok() && q->Step().value_or(false));
    EXPECT_EQ(q->Int(0), kEvents);
    EXPECT_EQ(q->Int(1), kEvents);
  }
  EXPECT_EQ(audit.Verify().records(), kEvents);
}

}  // namespace
}  // namespace pep::testing
