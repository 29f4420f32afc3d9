#include "events/consumer.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/log.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pep::events {

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(ConsumerOptions options,
                                                           Handler handler,
                                                           telemetry::EventMetrics* metrics) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("brokers: required");
  if (options.group_id.empty()) return absl::InvalidArgumentError("group_id: required");
  if (options.topics.empty()) return absl::InvalidArgumentError("topics: at least one required");
  if (options.max_attempts < 1) return absl::InvalidArgumentError("max_attempts: must be >= 1");

  std::unique_ptr<Consumer> c(new Consumer());
  KafkaProperties props = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"enable.auto.commit", "true"},
      {"enable.auto.offset.store", "false"},  // stored only after the handler succeeded
      {"auto.offset.reset", "earliest"},
      {"auto.commit.interval.ms", "1000"},
      {"partition.assignment.strategy", "range"},
      {"statistics.interval.ms", "5000"},  // consumer lag per partition, for pep_consumer_lag_messages
  };
  if (!options.instance_id.empty()) props["group.instance.id"] = options.instance_id;
  for (const auto& [k, v] : options.extra) props[k] = v;
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), c.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &Consumer::OnRebalance);
  if (metrics != nullptr) {
    // The stats callback has no opaque of its own: it gets the conf's, which is the consumer.
    rd_kafka_conf_set_stats_cb(conf->get(), [](rd_kafka_t* rk, char* json, size_t len, void* self) {
      return LagStatisticsCallback(rk, json, len, static_cast<Consumer*>(self)->metrics_);
    });
  }
  char err[512];
  c->rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  if (!c->rk_) return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
  rd_kafka_poll_set_consumer(c->rk_.get());


  KafkaPartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(
      options.topics.size())));
  for (const auto& t : options.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk_.get(), topics.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(e, "subscribe");
  c->options_ = std::move(options);
  if (metrics != nullptr) {  // series at 0 from the start, so increase() and alerts see the first one
    for (const auto& t : c->options_.topics) {
      metrics->DeadLettered(t);
      for (const char* outcome : {"handled", "dead_lettered"}) {
        metrics->Consumed(t, outcome);
      }
    }
  }

  c->handler_ = std::move(handler);
  c->metrics_ = metrics;
  return c;
}

Consumer::~Consumer() { Stop(); }

void Consumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, partitions);
    return;
  }
  // Revoked: commit what the handler finished before another member takes the partitions.
  rd_kafka_resp_err_t ce = rd_kafka_commit(rk, nullptr, 0);
  if (ce != RD_KAFKA_RESP_ERR_NO_ERROR && ce != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    LogWarn("commit on revoke failed", {{"error", rd_kafka_err2str(ce)}});
  }
  rd_kafka_assign(rk, nullptr);
}

bool Consumer::PollOnce(absl::Duration timeout) {
  KafkaMessage msg(rd_kafka_consumer_poll(rk_.get(),
                                          static_cast<int>(absl::ToInt64Milliseconds(timeout))));
  if (!msg) return false;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      LogWarn("consumer error", {{"error", rd_kafka_message_errstr(msg.get())}});
    }
    return false;
  }
  Process(msg.get());
  return true;
}

void Consumer::Process(const rd_kafka_message_t* msg) {
  Record r;
  r.topic = rd_kafka_topic_name(msg->rkt);
  r.partition = msg->partition;
  r.offset = msg->offset;
  if (msg->key) r.key.assign(static_cast<const char*>(msg->key), msg->key_len);
  if (msg->payload) r.value.assign(static_cast<const char*>(msg->payload), msg->len);
  r.headers = ReadHeaders(msg);

  absl::StatusOr<Envelope> env = FromHeaders(r.headers);
  absl::Status status;
  int attempts = 0;
  if (!env.ok()) {
    status = absl::InvalidArgumentError(absl::StrCat("undecodable envelope: ", env.status().message()));
  } else {
    absl::Duration backoff = options_.retry_backoff;
    while (attempts < options_.max_attempts && !stop_.load()) {
      ++attempts;
      status = handler_(r, *env);
      if (status.ok()) break;
      LogWarn("event handler failed", {{"topic", r.topic},
                                       {"offset", absl::StrCat(r.offset)},
                                       {"attempt", absl::StrCat(attempts)},
                                       {"error", std::string(status.message())}});
      if (attempts < options_.max_attempts) {
        absl::SleepFor(backoff);
        backoff *= 2;
      }
    }
    if (!status.ok() && stop_.load() && attempts < options_.max_attempts) {
      return;  // shutting down mid-retry: leave the offset unstored, the record comes back
    }
  }
  if (status.ok()) {
    if (metrics_) metrics_->Consumed(r.topic, "handled").Increment();
    StoreOffset(r);
    return;
  }
  // Dead-letter, and only then move on; if even that fails, retry until it lands or we stop.
  absl::Duration backoff = options_.retry_backoff;
  while (true) {
    absl::Status dl = DeadLetter(r, status, attempts);
    if (dl.ok()) break;
    LogError("dead-letter publish failed", {{"topic", r.topic}, {"error", std::string(dl.message())}});
    if (stop_.load()) return;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  if (metrics_) {
    metrics_->Consumed(r.topic, "dead_lettered").Increment();
    metrics_->DeadLettered(r.topic).Increment();
  }
  StoreOffset(r);
}

absl::Status Consumer::DeadLetter(const Record& r, const absl::Status& error, int attempts) {
  Headers h = r.headers;
  h.emplace_back("pep_dlt_error", std::string(error.message()));
  h.emplace_back("pep_dlt_error_code", absl::StatusCodeToString(error.code()));
  h.emplace_back("pep_dlt_attempts", absl::StrCat(attempts));
  h.emplace_back("pep_dlt_original_topic", r.topic);
  h.emplace_back("pep_dlt_original_partition", absl::StrCat(r.partition));
  h.emplace_back("pep_dlt_original_offset", absl::StrCat(r.offset));
  h.emplace_back("pep_dlt_consumer_group", options_.group_id);
  h.emplace_back("pep_dlt_failed_at", FormatRfc3339(absl::Now()));
  absl::Status delivered = absl::UnavailableError("no delivery report");
  // A small dedicated producer: we wait for this one record's report.
  auto producer = Producer::Create({{"bootstrap.servers", options_.brokers}},
                                   [&](uint64_t, const absl::Status& s) { delivered = s; });
  if (!producer.ok()) return producer.status();
  absl::Status st = (*producer)->Produce(r.topic + options_.dlt_suffix, r.key, r.value, h, 0);
  if (!st.ok()) return st;
  absl::Status flushed = (*producer)->Flush(absl::Seconds(30));
  if (!flushed.ok()) return flushed;
  return delivered;
}

void Consumer::StoreOffset(const Record& r) {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), r.topic.c_str(), r.partition)->offset =
      r.offset + 1;
  rd_kafka_resp_err_t e = rd_kafka_offsets_store(rk_.get(), list.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    LogWarn("offset store failed", {{"topic", r.topic}, {"error", rd_kafka_err2str(e)}});
  }
}

absl::StatusOr<int> ApplyLagStatistics(std::string_view json, telemetry::EventMetrics& metrics) {
  google::protobuf::Struct stats;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &stats, o).ok()) {
    return absl::InvalidArgumentError("librdkafka statistics: not JSON");
  }
  int set = 0;
  auto topics = stats.fields().find("topics");
  if (topics == stats.fields().end()) return set;
  for (const auto& [topic, t] : topics->second.struct_value().fields()) {
    auto parts = t.struct_value().fields().find("partitions");
    if (parts == t.struct_value().fields().end()) continue;
    for (const auto& [partition, p] : parts->second.struct_value().fields()) {
      int id = -1;
      if (!absl::SimpleAtoi(partition, &id) || id < 0) continue;  // "-1": the unassigned bucket
      auto lag = p.struct_value().fields().find("consumer_lag");
      if (lag == p.struct_value().fields().end() || lag->second.number_value() < 0) continue;
      metrics.ConsumerLag(topic, id).Set(lag->second.number_value());
      ++set;
    }
  }
  return set;
}

int LagStatisticsCallback(rd_kafka_t*, char* json, size_t len, void* opaque) {
  if (opaque != nullptr) {
    (void)ApplyLagStatistics(std::string_view(json, len), *static_cast<telemetry::EventMetrics*>(opaque));
  }
  return 0;  // librdkafka frees the JSON
}

void Consumer::Start() {
  thread_ = std::thread([this] {
    while (!stop_.load()) PollOnce(absl::Milliseconds(200));
  });
}

void Consumer::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (!closed_ && rk_) {
    closed_ = true;
    rd_kafka_consumer_close(rk_.get());  // commits stored offsets, leaves the group
  }
}

}  // namespace pep::events
