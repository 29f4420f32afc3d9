// The relay publishes outbox rows in order, marks them sent only after delivery, and keeps
// rows while the broker is away (librdkafka mock cluster: unit level, with injected faults).
#include <map>

#include "common/uuid.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "store/outbox.h"
#include "store/outbox_relay.h"
#include "store/sqlite.h"

namespace pep::store {
namespace {

using pep::testing::WaitFor;

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/svc.db";
    auto db = Db::Open(path_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate({{1, OutboxSchemaSql()}, {2, OutboxV2Sql()}}).ok());
  }

  // Writes `n` events over `keys` aggregates, versions 1, 2, 3… per key, in one transaction.
  void WriteEvents(int n, int keys) {
    Transaction tx(*db_);
    for (int i = 0; i < n; ++i) {
      const std::string key = "agg-" + std::to_string(i % keys);
      OutboxEvent e;
      e.topic = "ev";
      e.key = key;
      e.envelope.id = NewUuidV7(absl::Now());
      e.envelope.source = "/pepiniere/test";
      e.envelope.type = "pepiniere.test.v1.Happened";
      e.envelope.subject = key;
      e.envelope.time = e.envelope.effective_time = absl::Now();
      e.envelope.actor = "tester";
      e.envelope.correlation_id = key;
      e.envelope.aggregate_version = ++versions_[key];
      e.payload = std::to_string(i);
      ASSERT_TRUE(AppendToOutbox(*db_, e).ok());
    }
    ASSERT_TRUE(tx.Commit().ok());
  }

  int64_t Scalar(const std::string& sql) {
    auto q = db_->Prepare(sql);
    EXPECT_TRUE(q->Step().value_or(false));
    return q->Int(0);
  }

  int64_t Unsent() { return Scalar("SELECT COUNT(*) FROM outbox WHERE sent_us IS NULL"); }

  // Every key's versions arrive as 1, 2, 3… with no gap; each ce_id exactly once.
  void ExpectInOrder(const std::vector<events::Record>& records) {
    std::map<std::string, int64_t> last;
    std::set<std::string> ids;
    for (const auto& r : records) {
      auto env = events::FromHeaders(r.headers);
      ASSERT_TRUE(env.ok()) << env.status();
      EXPECT_EQ(env->aggregate_version, last[r.key] + 1) << r.key;
      last[r.key] = env->aggregate_version;
      EXPECT_TRUE(ids.insert(env->id).second) << "duplicate " << env->id;
    }
    EXPECT_EQ(last, versions_);
  }

  pep::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<Db> db_;
  std::map<std::string, int64_t> versions_;
};

TEST_F(RelayTest, PublishesEveryRowInOrderThenMarksItSent) {
  pep::testing::MockCluster mc({"ev"}, 3);
  WriteEvents(1000, 10);
  prometheus::Registry registry;
  telemetry::EventMetrics metrics(registry);
  OutboxRelay relay(path_, {.brokers = mc.bootstrap(), .batch_size = 64}, &metrics);
  ASSERT_TRUE(relay.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return Unsent() == 0; }, absl::Seconds(60)));
  EXPECT_EQ(metrics.Published("ev").Value(), 1000);
  auto records = pep::testing::ReadTopic(mc.bootstrap(), "ev", 1000);
  ASSERT_EQ(records.size(), 1000u);
  ExpectInOrder(records);
  relay.Stop();
  EXPECT_EQ(metrics.outbox_backlog().Value(), 0);
}

TEST_F(RelayTest, RowsSentLongerAgoThanKeepSentAreDeletedButTheNewest) {
  pep::testing::MockCluster mc({"ev"}, 1);
  WriteEvents(200, 4);
  OutboxRelay relay(path_, {.brokers = mc.bootstrap(), .keep_sent = absl::Milliseconds(1),
                            .prune_every = absl::Milliseconds(20)},
                    nullptr);
  ASSERT_TRUE(relay.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return Unsent() == 0; }, absl::Seconds(60)));
  ASSERT_TRUE(WaitFor([&] { return Scalar("SELECT COUNT(*) FROM outbox") == 1; }, absl::Seconds(10)));
  EXPECT_EQ(Scalar("SELECT MAX(seq) FROM outbox"), 200);
  EXPECT_EQ(pep::testing::ReadTopic(mc.bootstrap(), "ev", 200).size(), 200u);
}

TEST_F(RelayTest, RetriableProduceErrorsKeepOrder) {
  pep::testing::MockCluster mc({"ev"}, 1);
  rd_kafka_mock_push_request_errors(mc.get(), /*ApiKey Produce=*/0, 4,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  WriteEvents(300, 3);
  OutboxRelay relay(path_, {.brokers = mc.bootstrap(), .batch_size = 50}, nullptr);
  ASSERT_TRUE(relay.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return Unsent() == 0; }, absl::Seconds(60)));
  auto records = pep::testing::ReadTopic(mc.bootstrap(), "ev", 300);
  ASSERT_EQ(records.size(), 300u);
  ExpectInOrder(records);
}

TEST_F(RelayTest, BrokerDownKeepsRowsUnsentUntilItReturns) {
  pep::testing::MockCluster mc({"ev"}, 1);
  rd_kafka_mock_broker_set_down(mc.get(), 1);
  WriteEvents(50, 5);
  OutboxRelay relay(path_, {.brokers = mc.bootstrap()}, nullptr);
  ASSERT_TRUE(relay.Start().ok());
  // While the broker is down for a while, nothing may be marked sent.
  EXPECT_FALSE(WaitFor([&] { return Unsent() < 50; }, absl::Seconds(2)));
  rd_kafka_mock_broker_set_up(mc.get(), 1);
  ASSERT_TRUE(WaitFor([&] { return Unsent() == 0; }, absl::Seconds(60)));
  auto records = pep::testing::ReadTopic(mc.bootstrap(), "ev", 50);
  ASSERT_EQ(records.size(), 50u);
  ExpectInOrder(records);
}

}  // namespace
}  // namespace pep::store
