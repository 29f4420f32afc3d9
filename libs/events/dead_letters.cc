#include "events/dead_letters.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "events/producer.h"

namespace pep::events {

namespace {

std::string HeaderOr(const Headers& h, std::string_view name, std::string fallback = "") {
  const std::string* v = FindHeader(h, std::string(name));
  return v != nullptr ? *v : fallback;
}

}  // namespace

absl::StatusOr<std::vector<DeadLetter>> ReadDeadLetters(const std::string& brokers, const std::string& dlt_topic,
                                                        absl::Duration timeout) {
  auto rk = NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", brokers},
                                          {"group.id", "pepctl-dlt-reader"},  // never joined: assign only
                                          {"enable.auto.commit", "false"},
                                          {"enable.partition.eof", "true"}});
  if (!rk.ok()) return rk.status();
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk->get(), dlt_topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk->get(), 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(e, absl::StrCat("metadata of ", dlt_topic));
  const rd_kafka_metadata_topic_t& t = md->topics[0];
  if (md->topic_cnt != 1 || t.err != RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt == 0) {
    rd_kafka_metadata_destroy(md);
    return absl::NotFoundError(absl::StrCat("topic ", dlt_topic, " does not exist"));
  }
  const int partitions = t.partition_cnt;
  KafkaPartitionList parts(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts.get(), dlt_topic.c_str(), t.partitions[p].id)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_metadata_destroy(md);
  e = rd_kafka_assign(rk->get(), parts.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(e, "assign");
  std::vector<DeadLetter> out;
  int at_end = 0;
  const absl::Time deadline = absl::Now() + timeout;
  while (at_end < partitions) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("reading ", dlt_topic, ": ", at_end, " of ", partitions,
                                                      " partitions read to their end"));
    }
    KafkaMessage m(rd_kafka_consumer_poll(rk->get(), 200));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++at_end;
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(m->err, absl::StrCat("reading ", dlt_topic));
    DeadLetter d;
    d.record.topic = dlt_topic;
    d.record.partition = m->partition;
    d.record.offset = m->offset;
    if (m->key) d.record.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) d.record.value.assign(static_cast<const char*>(m->payload), m->len);
    d.record.headers = ReadHeaders(m.get());
    const Headers& h = d.record.headers;
    std::string fallback = dlt_topic;
    if (absl::EndsWith(fallback, ".dlt")) fallback.resize(fallback.size() - 4);
    d.original_topic = HeaderOr(h, kDltOriginalTopic, fallback);
    (void)absl::SimpleAtoi(HeaderOr(h, kDltOriginalPartition, "-1"), &d.original_partition);
    (void)absl::SimpleAtoi(HeaderOr(h, kDltOriginalOffset, "-1"), &d.original_offset);
    (void)absl::SimpleAtoi(HeaderOr(h, kDltAttempts, "0"), &d.attempts);
    d.error = HeaderOr(h, kDltError);
    d.error_code = HeaderOr(h, kDltErrorCode);
    d.failed_at = HeaderOr(h, kDltFailedAt);
    d.consumer_group = HeaderOr(h, kDltConsumerGroup);
    out.push_back(std::move(d));
  }
  rd_kafka_consumer_close(rk->get());
  return out;
}

Record ReplayRecord(const DeadLetter& d) {
  Record r;
  r.topic = d.original_topic;
  r.key = d.record.key;
  r.value = d.record.value;
  for (const auto& [name, value] : d.record.headers) {
    if (!absl::StartsWith(name, kDltPrefix)) r.headers.emplace_back(name, value);
  }
  return r;
}

absl::StatusOr<int> Replay(const std::string& brokers, const std::vector<DeadLetter>& letters,
                           absl::Duration timeout) {
  int acked = 0;
  absl::Status failed;
  auto producer = Producer::Create({{"bootstrap.servers", brokers}},
                                   [&](uint64_t, const absl::Status& s) {
                                     if (s.ok()) ++acked;
                                     else failed = s;
                                   });
  if (!producer.ok()) return producer.status();
  uint64_t n = 0;
  for (const DeadLetter& d : letters) {
    const Record r = ReplayRecord(d);
    PEP_RETURN_IF_ERROR((*producer)->Produce(r.topic, r.key, r.value, r.headers, ++n));
  }
  PEP_RETURN_IF_ERROR((*producer)->Flush(timeout));
  if (!failed.ok()) return failed;
  return acked;
}

}  // namespace pep::events
