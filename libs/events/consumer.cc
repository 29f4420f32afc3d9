#include "events/consumer.h"

#include "absl/random/random.h"
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
  // Revoked: a record held there is the next owner's now (its offset was never stored).
  auto* self = static_cast<Consumer*>(opaque);
  for (int i = 0; partitions != nullptr && i < partitions->cnt; ++i) {
    const PartitionKey key{partitions->elems[i].topic, partitions->elems[i].partition};
    if (self->held_.erase(key) > 0 && self->metrics_ != nullptr) {
      self->metrics_->Blocked(key.first, key.second).Set(0);
    }
  }
  // Commit what the handler finished before another member takes the partitions.
  rd_kafka_resp_err_t ce = rd_kafka_commit(rk, nullptr, 0);
  if (ce != RD_KAFKA_RESP_ERR_NO_ERROR && ce != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    LogWarn("commit on revoke failed", {{"error", rd_kafka_err2str(ce)}});
  }
  rd_kafka_assign(rk, nullptr);
}

bool IsTransient(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

bool Consumer::PollOnce(absl::Duration timeout) {
  RetryHeld();
  KafkaMessage msg(rd_kafka_consumer_poll(
      rk_.get(), static_cast<int>(absl::ToInt64Milliseconds(UntilNextRetry(timeout)))));
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
  // Fetched before its partition was paused: read again after the held record (Release seeks).
  if (held_.contains(PartitionKey{r.topic, r.partition})) return;
  if (msg->key) r.key.assign(static_cast<const char*>(msg->key), msg->key_len);
  if (msg->payload) r.value.assign(static_cast<const char*>(msg->payload), msg->len);
  r.headers = ReadHeaders(msg);

  absl::StatusOr<Envelope> env = FromHeaders(r.headers);
  if (!env.ok()) {
    DeadLetterAndSkip(r, absl::InvalidArgumentError(absl::StrCat("undecodable envelope: ", env.status().message())), 0);
    return;
  }
  Handle(std::move(r), *env, 0);
}

void Consumer::Handle(Record r, const Envelope& env, int attempts) {
  absl::Duration backoff = options_.retry_backoff;
  while (!stop_.load()) {
    ++attempts;
    const absl::Status status = handler_(r, env);
    if (status.ok()) {
      if (metrics_) metrics_->Consumed(r.topic, "handled").Increment();
      StoreOffset(r);
      return;
    }
    if (IsTransient(status)) {
      if (metrics_) metrics_->TransientFailures(r.topic).Increment();
      LogWarn("event handler failed transiently: partition paused, retrying",
              {{"topic", r.topic}, {"partition", absl::StrCat(r.partition)}, {"offset", absl::StrCat(r.offset)},
               {"attempt", absl::StrCat(attempts)}, {"error", std::string(status.message())}});
      Hold(Held{std::move(r), env, attempts, backoff, absl::Now()});
      return;
    }
    LogWarn("event handler failed", {{"topic", r.topic},
                                     {"offset", absl::StrCat(r.offset)},
                                     {"attempt", absl::StrCat(attempts)},
                                     {"error", std::string(status.message())}});
    if (attempts >= options_.max_attempts) {
      DeadLetterAndSkip(r, status, attempts);
      return;
    }
    absl::SleepFor(backoff);
    backoff *= 2;
  }
  // Shutting down mid-retry: the offset stays unstored, the record comes back.
}

void Consumer::Hold(Held h) {
  const PartitionKey key{h.record.topic, h.record.partition};
  // Full jitter over the upper half: replicas that failed together do not retry together.
  const double f = 0.5 + 0.5 * absl::Uniform(bitgen_, 0.0, 1.0);
  h.next = absl::Now() + h.backoff * f;
  h.backoff = std::min(h.backoff * 2, options_.max_retry_backoff);
  if (!held_.contains(key)) {
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second);
    rd_kafka_resp_err_t e = rd_kafka_pause_partitions(rk_.get(), list.get());
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) LogWarn("pause failed", {{"topic", key.first}, {"error", rd_kafka_err2str(e)}});
    if (metrics_) metrics_->Blocked(key.first, key.second).Set(1);
  }
  held_.insert_or_assign(key, std::move(h));
}

void Consumer::RetryHeld() {
  const absl::Time now = absl::Now();
  std::vector<PartitionKey> due;
  for (const auto& [key, h] : held_) {
    if (h.next <= now) due.push_back(key);
  }
  for (const PartitionKey& key : due) {
    auto it = held_.find(key);
    if (it == held_.end() || stop_.load()) continue;
    Held& h = it->second;
    ++h.attempts;
    const absl::Status status = handler_(h.record, h.envelope);
    if (IsTransient(status)) {
      if (metrics_) metrics_->TransientFailures(key.first).Increment();
      if (h.attempts % 10 == 0) {
        LogWarn("event handler still failing transiently", {{"topic", key.first}, {"partition", absl::StrCat(key.second)},
                                                             {"offset", absl::StrCat(h.record.offset)},
                                                             {"attempt", absl::StrCat(h.attempts)},
                                                             {"error", std::string(status.message())}});
      }
      Hold(std::move(h));
      continue;
    }
    if (status.ok()) {
      if (metrics_) metrics_->Consumed(key.first, "handled").Increment();
      StoreOffset(h.record);
      LogInfo("event handled after transient failures",
              {{"topic", key.first}, {"offset", absl::StrCat(h.record.offset)}, {"attempts", absl::StrCat(h.attempts)}});
      Release(key);
      continue;
    }
    // The condition passed and another came: the bounded attempts of Handle, from here.
    Record r = std::move(h.record);
    const Envelope env = h.envelope;
    const int attempts = h.attempts;
    Release(key);
    LogWarn("event handler failed", {{"topic", r.topic}, {"offset", absl::StrCat(r.offset)},
                                     {"attempt", absl::StrCat(attempts)}, {"error", std::string(status.message())}});
    if (attempts >= options_.max_attempts) {
      DeadLetterAndSkip(r, status, attempts);
    } else {
      Handle(std::move(r), env, attempts);
    }
  }
}

void Consumer::Release(const PartitionKey& key) {
  auto it = held_.find(key);
  if (it == held_.end()) return;
  const int64_t next = it->second.record.offset + 1;
  held_.erase(it);
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second)->offset = next;
  // What was fetched behind the held record was dropped (Process): read on from just after it.
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_.get(), list.get(), 5000)) {
    LogWarn("seek after a held record failed", {{"topic", key.first}, {"error", rd_kafka_error_string(e)}});
    rd_kafka_error_destroy(e);
  }
  rd_kafka_resp_err_t e = rd_kafka_resume_partitions(rk_.get(), list.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) LogWarn("resume failed", {{"topic", key.first}, {"error", rd_kafka_err2str(e)}});
  if (metrics_) metrics_->Blocked(key.first, key.second).Set(0);
}

absl::Duration Consumer::UntilNextRetry(absl::Duration cap) const {
  absl::Duration d = cap;
  const absl::Time now = absl::Now();
  for (const auto& [key, h] : held_) d = std::min(d, std::max(absl::ZeroDuration(), h.next - now));
  return d;
}

void Consumer::DeadLetterAndSkip(const Record& r, const absl::Status& status, int attempts) {
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
  h.emplace_back(kDltError, std::string(error.message()));
  h.emplace_back(kDltErrorCode, absl::StatusCodeToString(error.code()));
  h.emplace_back(kDltAttempts, absl::StrCat(attempts));
  h.emplace_back(kDltOriginalTopic, r.topic);
  h.emplace_back(kDltOriginalPartition, absl::StrCat(r.partition));
  h.emplace_back(kDltOriginalOffset, absl::StrCat(r.offset));
  h.emplace_back(kDltConsumerGroup, options_.group_id);
  h.emplace_back(kDltFailedAt, FormatRfc3339(absl::Now()));
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
