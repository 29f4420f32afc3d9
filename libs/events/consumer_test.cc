// Consumer retry -> dead-letter behaviour, against librdkafka's built-in mock cluster (unit
// level: the mock lets us run a broker in-process and inject failures).
#include <algorithm>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/uuid.h"
#include "events/consumer.h"
#include "events/dead_letters.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "prometheus/registry.h"

namespace pep::events {
namespace {

using pep::testing::WaitFor;

using pep::testing::MockCluster;

using pep::testing::ReadTopic;

Headers EventHeaders(const std::string& subject, int64_t version) {
  Envelope e;
  e.id = NewUuidV7(absl::Now());
  e.source = "/pepiniere/test";
  e.type = "pepiniere.test.v1.Thing";
  e.subject = subject;
  e.time = e.effective_time = absl::Now();
  e.actor = "tester";
  e.correlation_id = subject;
  e.aggregate_version = version;
  return ToHeaders(e);
}

void ProduceSync(const std::string& brokers, const std::string& topic, const std::string& key,
                 const std::string& value, const Headers& h) {
  absl::Status delivered = absl::UnknownError("none");
  auto p = Producer::Create({{"bootstrap.servers", brokers}},
                            [&](uint64_t, const absl::Status& s) { delivered = s; });
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->Produce(topic, key, value, h, 1).ok());
  ASSERT_TRUE((*p)->Flush(absl::Seconds(20)).ok());
  ASSERT_TRUE(delivered.ok()) << delivered;
}

ConsumerOptions Options(const std::string& brokers, const std::string& group) {
  return {.brokers = brokers,
          .group_id = group,
          .topics = {"t"},
          .max_attempts = 3,
          .retry_backoff = absl::Milliseconds(1),
          .extra = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}}};
}

TEST(Kafka, EnvelopeOfAMessageDecodesAsItsCopiedHeadersDo) {
  MockCluster mc({"t", "t.dlt", "ord"});
  Headers good = EventHeaders("agg-1", 3);
  good.emplace_back("ce_causationid", "cause-1");
  good.emplace_back("ce_actor", "second-actor");  // a repeated name: the first one counts
  Headers bad = EventHeaders("agg-2", 1);
  bad.erase(bad.begin() + 3);  // ce_type
  ProduceSync(mc.bootstrap(), "ord", "agg-1", "p1", good);
  ProduceSync(mc.bootstrap(), "ord", "agg-2", "p2", bad);
  auto conf = MakeConf({{"bootstrap.servers", mc.bootstrap()}, {"group.id", "envelope-of"}});
  ASSERT_TRUE(conf.ok());
  char err[512];
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  ASSERT_TRUE(rk) << err;
  KafkaPartitionList parts(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(parts.get(), "ord", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  ASSERT_EQ(rd_kafka_assign(rk.get(), parts.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<KafkaMessage> got;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (got.size() < 2 && absl::Now() < deadline) {
    KafkaMessage m(rd_kafka_consumer_poll(rk.get(), 200));
    if (m && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) got.push_back(std::move(m));
  }
  ASSERT_EQ(got.size(), 2u);
  auto fast = EnvelopeOf(got[0].get());
  auto slow = FromHeaders(ReadHeaders(got[0].get()));
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(ToHeaders(*fast), ToHeaders(*slow));
  EXPECT_EQ(fast->actor, "tester");
  EXPECT_EQ(fast->causation_id, "cause-1");
  EXPECT_EQ(fast->aggregate_version, 3);
  auto missing = EnvelopeOf(got[1].get());
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.status(), FromHeaders(ReadHeaders(got[1].get())).status());
  EXPECT_NE(missing.status().message().find("ce_type"), absl::string_view::npos);
  rd_kafka_consumer_close(rk.get());
}

TEST(Consumer, HandlerThatKeepsFailingIsDeadLetteredWithErrorHeaders) {
  MockCluster mc({"t", "t.dlt", "ord"});
  ProduceSync(mc.bootstrap(), "t", "agg-1", "payload-1", EventHeaders("agg-1", 1));
  prometheus::Registry registry;
  telemetry::EventMetrics metrics(registry);
  int calls = 0;
  auto c = Consumer::Create(Options(mc.bootstrap(), "g1"),
                            [&](const Record&, const Envelope&) {
                              ++calls;
                              return absl::InternalError("database is on fire");
                            },
                            &metrics);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(WaitFor([&] { return (*c)->PollOnce(absl::Milliseconds(100)); }, absl::Seconds(30)));
  EXPECT_EQ(calls, 3);  // bounded retries
  EXPECT_EQ(metrics.DeadLettered("t").Value(), 1);

  auto dlt = ReadTopic(mc.bootstrap(), "t.dlt", 1);
  ASSERT_EQ(dlt.size(), 1u);
  EXPECT_EQ(dlt[0].key, "agg-1");
  EXPECT_EQ(dlt[0].value, "payload-1");
  EXPECT_EQ(*FindHeader(dlt[0].headers, "pep_dlt_error"), "database is on fire");
  EXPECT_EQ(*FindHeader(dlt[0].headers, "pep_dlt_attempts"), "3");
  EXPECT_EQ(*FindHeader(dlt[0].headers, "pep_dlt_original_topic"), "t");
  EXPECT_EQ(*FindHeader(dlt[0].headers, "pep_dlt_original_offset"), "0");
  EXPECT_EQ(*FindHeader(dlt[0].headers, "ce_subject"), "agg-1");  // envelope kept
}

TEST(Consumer, TransientFailureIsRetriedAndOffsetCommittedAfterSuccess) {
  MockCluster mc({"t", "t.dlt", "ord"});
  ProduceSync(mc.bootstrap(), "t", "agg-1", "first", EventHeaders("agg-1", 1));
  int calls = 0;
  {
    auto c = Consumer::Create(Options(mc.bootstrap(), "g2"),
                              [&](const Record&, const Envelope&) {
                                return ++calls < 3 ? absl::UnavailableError("busy")
                                                   : absl::OkStatus();
                              },
                              nullptr);
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE(WaitFor([&] {
      (*c)->PollOnce(absl::Milliseconds(100));
      return calls >= 3;
    }, absl::Seconds(30)));
    EXPECT_EQ(calls, 3);
    (*c)->Stop();  // close commits the stored offset
  }
  // The same group resumes after the handled record: the next record it sees is the second.
  ProduceSync(mc.bootstrap(), "t", "agg-1", "second", EventHeaders("agg-1", 2));
  std::vector<std::string> seen;
  auto c2 = Consumer::Create(Options(mc.bootstrap(), "g2"),
                             [&](const Record& r, const Envelope&) {
                               seen.push_back(r.value);
                               return absl::OkStatus();
                             },
                             nullptr);
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE(WaitFor([&] { return (*c2)->PollOnce(absl::Milliseconds(100)); },
                      absl::Seconds(30)));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "second");
}

// A full disk for longer than the bounded attempts: the record waits (its partition paused, the
// records behind it unread), nothing goes to the dead-letter topic, and when space returns it is
// handled, then the next one, in order. (With five attempts over ~3 s, as before, the first
// record was dead-lettered: this test failed on that.)
TEST(Consumer, TransientFailureIsRetriedPastMaxAttemptsBlockingItsPartitionInOrder) {
  MockCluster mc({"t", "t.dlt", "ord"});
  ProduceSync(mc.bootstrap(), "t", "agg-1", "first", EventHeaders("agg-1", 1));
  ProduceSync(mc.bootstrap(), "t", "agg-1", "second", EventHeaders("agg-1", 2));
  prometheus::Registry registry;
  telemetry::EventMetrics metrics(registry);
  std::vector<std::string> calls;
  bool full = true;
  ConsumerOptions o = Options(mc.bootstrap(), "g-transient");
  o.max_retry_backoff = absl::Milliseconds(5);
  auto c = Consumer::Create(std::move(o),
                            [&](const Record& r, const Envelope&) {
                              calls.push_back(r.value);
                              if (full) return absl::UnavailableError("database or disk is full");
                              return absl::OkStatus();
                            },
                            &metrics);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(WaitFor([&] {
    (*c)->PollOnce(absl::Milliseconds(20));
    return calls.size() >= 20;  // far past max_attempts (3)
  }, absl::Seconds(30)));
  for (const std::string& v : calls) EXPECT_EQ(v, "first") << "nothing behind the held record is handled";
  EXPECT_EQ(metrics.Blocked("t", 0).Value(), 1);
  EXPECT_GE(metrics.TransientFailures("t").Value(), 20);
  EXPECT_EQ(metrics.DeadLettered("t").Value(), 0);

  full = false;  // space returns
  ASSERT_TRUE(WaitFor([&] {
    (*c)->PollOnce(absl::Milliseconds(20));
    return !calls.empty() && calls.back() == "second";
  }, absl::Seconds(30)));
  const size_t firsts = static_cast<size_t>(std::count(calls.begin(), calls.end(), "first"));
  EXPECT_EQ(calls.size(), firsts + 1) << "second handled once, after first";
  EXPECT_EQ(metrics.Blocked("t", 0).Value(), 0);
  EXPECT_EQ(metrics.DeadLettered("t").Value(), 0);
  EXPECT_EQ(metrics.Consumed("t", "handled").Value(), 2);
}

// Permanent errors still take the bounded way to the dead-letter topic.
TEST(Consumer, OnlyTransientCodesWait) {
  EXPECT_TRUE(IsTransient(absl::UnavailableError("busy")));
  EXPECT_TRUE(IsTransient(absl::ResourceExhaustedError("full")));
  EXPECT_TRUE(IsTransient(absl::AbortedError("conflict")));
  EXPECT_TRUE(IsTransient(absl::DeadlineExceededError("slow")));
  EXPECT_FALSE(IsTransient(absl::InvalidArgumentError("bad")));
  EXPECT_FALSE(IsTransient(absl::FailedPreconditionError("never")));
  EXPECT_FALSE(IsTransient(absl::InternalError("bug")));
  EXPECT_FALSE(IsTransient(absl::OkStatus()));
}

// pepctl dlt: a dead letter read back with where it came from and why, then replayed to its
// topic as it was (the pep_dlt_* headers dropped, the event's own kept).
TEST(DeadLetters, ReadWithTheirCauseAndReplayedAsTheyWere) {
  MockCluster mc({"t", "t.dlt", "ord"});
  const Headers original = EventHeaders("agg-9", 4);
  ProduceSync(mc.bootstrap(), "t", "agg-9", "payload-9", original);
  auto c = Consumer::Create(Options(mc.bootstrap(), "g-dlt"),
                            [&](const Record&, const Envelope&) { return absl::FailedPreconditionError("rule X"); },
                            nullptr);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(WaitFor([&] { return (*c)->PollOnce(absl::Milliseconds(100)); }, absl::Seconds(30)));
  (*c)->Stop();

  auto letters = ReadDeadLetters(mc.bootstrap(), "t.dlt");
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 1u);
  const DeadLetter& d = (*letters)[0];
  EXPECT_EQ(d.original_topic, "t");
  EXPECT_EQ(d.original_offset, 0);
  EXPECT_EQ(d.error, "rule X");
  EXPECT_EQ(d.error_code, "FAILED_PRECONDITION");
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.consumer_group, "g-dlt");
  const Record back = ReplayRecord(d);
  EXPECT_EQ(back.headers, original) << "the event's headers, none of pep_dlt_*";
  EXPECT_EQ(back.key, "agg-9");

  auto sent = Replay(mc.bootstrap(), *letters);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 1);
  auto t = ReadTopic(mc.bootstrap(), "t", 2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].value, "payload-9");
  EXPECT_EQ(*FindHeader(t[1].headers, "ce_id"), *FindHeader(original, "ce_id"));  // deduplicated downstream
  EXPECT_EQ(FindHeader(t[1].headers, "pep_dlt_error"), nullptr);
}

TEST(Consumer, UndecodableRecordGoesStraightToDeadLetter) {
  MockCluster mc({"t", "t.dlt", "ord"});
  ProduceSync(mc.bootstrap(), "t", "k", "garbage", {{"ce_specversion", "1.0"}});
  int calls = 0;
  auto c = Consumer::Create(Options(mc.bootstrap(), "g3"),
                            [&](const Record&, const Envelope&) {
                              ++calls;
                              return absl::OkStatus();
                            },
                            nullptr);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(WaitFor([&] { return (*c)->PollOnce(absl::Milliseconds(100)); }, absl::Seconds(30)));
  EXPECT_EQ(calls, 0);
  auto dlt = ReadTopic(mc.bootstrap(), "t.dlt", 1);
  ASSERT_EQ(dlt.size(), 1u);
  EXPECT_NE(FindHeader(dlt[0].headers, "pep_dlt_error")->find("ce_id"), std::string::npos);
  EXPECT_EQ(*FindHeader(dlt[0].headers, "pep_dlt_attempts"), "0");
}

TEST(Producer, InjectedProduceErrorsAreRetriedInOrder) {
  MockCluster mc({"t", "t.dlt", "ord"});
  // The broker answers the first produce requests with a retriable error.
  rd_kafka_mock_push_request_errors(mc.get(), /*ApiKey Produce=*/0, 3,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  std::vector<uint64_t> delivered;
  auto p = Producer::Create({{"bootstrap.servers", mc.bootstrap()}},
                            [&](uint64_t tag, const absl::Status& s) {
                              if (s.ok()) delivered.push_back(tag);
                            });
  ASSERT_TRUE(p.ok());
  for (uint64_t i = 0; i < 200; ++i) {
    ASSERT_TRUE((*p)->Produce("ord", "same-key", std::to_string(i), EventHeaders("k", 1), i).ok());
  }
  ASSERT_TRUE((*p)->Flush(absl::Seconds(30)).ok());
  ASSERT_EQ(delivered.size(), 200u);
  auto got = ReadTopic(mc.bootstrap(), "ord", 200);
  ASSERT_EQ(got.size(), 200u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value, std::to_string(i));
}

}  // namespace
}  // namespace pep::events

namespace pep::events {
namespace {

// The shape librdkafka's statistics callback delivers (trimmed): lag per assigned partition,
// -1 where unknown, and the "-1" pseudo-partition for unassigned messages.
TEST(ConsumerLag, ReadFromLibrdkafkaStatistics) {
  prometheus::Registry registry;
  telemetry::EventMetrics metrics(registry);
  const std::string json = R"({"name":"rdkafka#consumer-1","type":"consumer","topics":{
    "pepiniere.ideas.events":{"topic":"pepiniere.ideas.events","partitions":{
      "0":{"partition":0,"consumer_lag":12,"hi_offset":40},
      "3":{"partition":3,"consumer_lag":0},
      "4":{"partition":4,"consumer_lag":-1},
      "-1":{"partition":-1,"consumer_lag":-1}}},
    "pepiniere.incubation.events":{"partitions":{"5":{"partition":5,"consumer_lag":7}}}}})";
  auto set = ApplyLagStatistics(json, metrics);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(*set, 3);
  EXPECT_EQ(metrics.ConsumerLag("pepiniere.ideas.events", 0).Value(), 12);
  EXPECT_EQ(metrics.ConsumerLag("pepiniere.ideas.events", 3).Value(), 0);
  EXPECT_EQ(metrics.ConsumerLag("pepiniere.incubation.events", 5).Value(), 7);
  EXPECT_FALSE(ApplyLagStatistics("{not json", metrics).ok());
}

}  // namespace
}  // namespace pep::events
