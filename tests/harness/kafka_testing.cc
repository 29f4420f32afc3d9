#include "harness/kafka_testing.h"

#include "gtest/gtest.h"
#include "harness/harness.h"

namespace pep::testing {

MockCluster::MockCluster(const std::vector<std::string>& topics, int partitions) {
  char err[256];
  rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err));
  mc_ = rd_kafka_mock_cluster_new(rk_.get(), 1);
  for (const auto& t : topics) rd_kafka_mock_topic_create(mc_, t.c_str(), partitions, 1);
}

MockCluster::~MockCluster() { rd_kafka_mock_cluster_destroy(mc_); }

std::string MockCluster::bootstrap() const { return rd_kafka_mock_cluster_bootstraps(mc_); }

std::vector<events::Record> ReadTopic(const std::string& brokers, const std::string& topic,
                                      size_t n, absl::Duration timeout) {
  return ReadTopicUntil(
      brokers, topic, [n](const std::vector<events::Record>& r) { return r.size() >= n; },
      timeout);
}

std::vector<events::Record> ReadTopicUntil(
    const std::string& brokers, const std::string& topic,
    const std::function<bool(const std::vector<events::Record>&)>& done,
    absl::Duration timeout, const events::KafkaProperties& extra) {
  std::vector<events::Record> out;
  events::KafkaProperties props = {{"bootstrap.servers", brokers},
                                   {"group.id", "pep-test-raw-reader"},
                                   {"enable.auto.commit", "false"}};
  for (const auto& [k, v] : extra) props[k] = v;
  auto conf = events::MakeConf(props);
  EXPECT_TRUE(conf.ok());
  char err[256];
  events::KafkaHandle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk.get(), 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topic_cnt != 1) {
    ADD_FAILURE() << "no metadata for " << topic;
    rd_kafka_topic_destroy(rkt);
    return out;
  }
  events::KafkaPartitionList parts(rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt));
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_assign(rk.get(), parts.get());
  WaitFor(
      [&] {
        events::KafkaMessage m(rd_kafka_consumer_poll(rk.get(), 100));
        if (m && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          events::Record r;
          r.topic = topic;
          r.partition = m->partition;
          r.offset = m->offset;
          if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
          if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
          r.headers = events::ReadHeaders(m.get());
          out.push_back(std::move(r));
        }
        return done(out);
      },
      timeout, absl::Milliseconds(1));
  rd_kafka_consumer_close(rk.get());
  return out;
}

namespace {

// Calls `read` with the cluster's metadata for `topic` (every topic when empty); false when the
// metadata could not be had.
bool WithMetadata(const std::string& brokers, const std::string& topic,
                  const std::function<void(const rd_kafka_metadata_t&)>& read) {
  auto conf = events::MakeConf({{"bootstrap.servers", brokers}});
  EXPECT_TRUE(conf.ok());
  char err[256];
  events::KafkaHandle rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err));
  rd_kafka_topic_t* rkt = topic.empty() ? nullptr : rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const bool ok = rd_kafka_metadata(rk.get(), rkt == nullptr, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (ok) read(*md);
  if (md) rd_kafka_metadata_destroy(md);
  if (rkt) rd_kafka_topic_destroy(rkt);
  return ok;
}

}  // namespace

std::map<int32_t, int32_t> PartitionLeaders(const std::string& brokers, const std::string& topic) {
  std::map<int32_t, int32_t> out;
  WithMetadata(brokers, topic, [&out](const rd_kafka_metadata_t& md) {
    if (md.topic_cnt != 1) return;
    for (int p = 0; p < md.topics[0].partition_cnt; ++p) {
      out[md.topics[0].partitions[p].id] = md.topics[0].partitions[p].leader;
    }
  });
  return out;
}

int UnderReplicatedPartitions(const std::string& brokers) {
  int under = 0;
  const bool ok = WithMetadata(brokers, "", [&under](const rd_kafka_metadata_t& md) {
    for (int t = 0; t < md.topic_cnt; ++t) {
      for (int p = 0; p < md.topics[t].partition_cnt; ++p) {
        const auto& part = md.topics[t].partitions[p];
        under += part.err != RD_KAFKA_RESP_ERR_NO_ERROR || part.isr_cnt < part.replica_cnt;
      }
    }
  });
  return ok ? under : -1;
}

}  // namespace pep::testing
