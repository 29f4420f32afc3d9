#include "services/audit/ingest.h"

#include <pthread.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace pep::audit {

LedgerRecord RecordOf(const rd_kafka_message_t* msg, events::Envelope envelope, std::string topic) {
  LedgerRecord r;
  r.subject = LineageSubject(envelope);
  r.envelope = std::move(envelope);
  r.topic = std::move(topic);
  if (msg->payload) r.payload.assign(static_cast<const char*>(msg->payload), msg->len);
  r.kafka_partition = msg->partition;
  r.kafka_offset = msg->offset;
  return r;
}

absl::StatusOr<std::unique_ptr<AuditIngest>> AuditIngest::Create(IngestOptions options,
                                                                  LedgerStore* store,
                                                                  const Clock& clock,
                                                                  OnSealed on_sealed) {
  std::unique_ptr<AuditIngest> in(
      new AuditIngest(std::move(options), store, clock, std::move(on_sealed)));
  events::KafkaProperties props = {
      {"bootstrap.servers", in->options_.brokers},
      {"group.id", in->options_.group_id},
      {"group.instance.id", in->options_.instance_id},
      {"enable.auto.commit", "false"},  // the ledger database holds the offsets
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},  // the watermark needs to know who is at the end
      {"auto.offset.reset", "earliest"},
      {"partition.assignment.strategy", "range"},
      {"fetch.wait.max.ms", "50"},
      {"queued.min.messages", "200000"},
      {"statistics.interval.ms", "5000"},
  };
  for (const auto& [k, v] : in->options_.extra) props[k] = v;
  auto conf = events::MakeConf(props);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), in.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &AuditIngest::OnRebalance);
  rd_kafka_conf_set_stats_cb(conf->get(), [](rd_kafka_t* rk, char* json, size_t len, void* self) {
    return events::LagStatisticsCallback(rk, json, len, static_cast<AuditIngest*>(self)->options_.metrics);
  });
  char err[512];
  in->rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  if (!in->rk_) return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
  rd_kafka_poll_set_consumer(in->rk_.get());
  events::KafkaPartitionList topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(in->options_.topics.size())));
  for (const auto& t : in->options_.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t e = rd_kafka_subscribe(in->rk_.get(), topics.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return events::KafkaError(e, "subscribe");
  return in;
}

AuditIngest::~AuditIngest() { Stop(); }

void AuditIngest::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<AuditIngest*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->Assign(partitions);
  } else {
    self->Revoke();
    rd_kafka_assign(rk, nullptr);
  }
}

void AuditIngest::Assign(rd_kafka_topic_partition_list_t* partitions) {
  WaitUntilSealed();  // the stored offsets must include every batch already handed over
  auto stored = store_->Offsets();
  if (!stored.ok()) {
    // Without our offsets we cannot know where to resume; starting from the beginning is
    // always safe (every record already in the ledger is recognised).
    LogWarn("ledger offsets unreadable; replaying from the beginning",
            {{"error", std::string(stored.status().message())}});
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& tp = partitions->elems[i];
    const std::pair<std::string, int> key{tp.topic, tp.partition};
    tp.offset = RD_KAFKA_OFFSET_BEGINNING;
    if (stored.ok()) {
      auto it = stored->find(key);
      if (it != stored->end()) tp.offset = it->second;
    }
    partitions_[key] = Partition{.topic = tp.topic, .partition = tp.partition};
  }
  last_rkt_ = nullptr;
  rd_kafka_assign(rk_.get(), partitions);
}

void AuditIngest::Revoke() {
  // Handed batches are sealed before the partitions go; unsealed buffered records are dropped:
  // their offsets were never stored, so whoever gets the partitions reads them again.
  WaitUntilSealed();
  buffer_.clear();
  undecodable_.clear();
  partitions_.clear();
  last_rkt_ = nullptr;
  buffered_.store(0);
}

void AuditIngest::WaitUntilSealed() {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](AuditIngest* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->abandon_ || (self->queue_.empty() && !self->sealing_);
      },
      this));
}

void AuditIngest::Take(const rd_kafka_message_t* msg) {
  // Messages come in runs from one partition: remember the last one found.
  if (msg->rkt != last_rkt_ || msg->partition != last_partition_) {
    auto pit = partitions_.find({rd_kafka_topic_name(msg->rkt), msg->partition});
    if (pit == partitions_.end()) return;  // a message from before a revoke
    last_rkt_ = msg->rkt;
    last_partition_ = msg->partition;
    last_ = &pit->second;
  }
  Partition& p = *last_;
  if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    p.at_end = true;
    return;
  }
  p.at_end = false;
  if (taken_.fetch_add(1) == 0) {
    absl::MutexLock l(&mu_);
    first_taken_ = absl::Now();
  }
  p.last_offset = msg->offset;
  p.dirty = true;
  auto env = events::EnvelopeOf(msg);
  if (!env.ok()) {
    undecodable_.push_back({p.topic, p.partition, msg->offset, std::string(env.status().message())});
    return;
  }
  p.progress = std::max(p.progress, env->time);
  buffer_.push_back({RecordOf(msg, std::move(*env), p.topic), &p});
}

absl::Time AuditIngest::Watermark() const {
  absl::Time w = clock_.Now() - options_.grace;
  for (const auto& [key, p] : partitions_) {
    if (!p.at_end) w = std::min(w, p.progress);
  }
  return w;
}

void AuditIngest::HandOver() {
  const absl::Time w = Watermark();
  // What the watermark lets go, in chain order (sorted by index: records are large to move).
  std::vector<uint32_t> ready, kept;
  for (uint32_t i = 0; i < buffer_.size(); ++i) {
    (buffer_[i].record.envelope.time <= w ? ready : kept).push_back(i);
  }
  auto key_less = [this](uint32_t a, uint32_t b) {
    return ChainsBefore(buffer_[a].record, buffer_[b].record);
  };
  std::sort(ready.begin(), ready.end(), key_less);
  Batch batch;
  batch.records.reserve(ready.size());
  for (size_t j = 0; j < ready.size(); ++j) {
    // The same event twice on the wire, both unsealed: one record (the store would refuse the
    // second anyway; this spares it the lookup).
    if (j > 0 && !key_less(ready[j - 1], ready[j])) continue;
    batch.records.push_back(std::move(buffer_[ready[j]].record));
  }
  for (auto& [key, p] : partitions_) p.min_pending = INT64_MAX;
  std::vector<Buffered> still;
  still.reserve(kept.size());
  for (uint32_t i : kept) {
    Buffered& b = buffer_[i];
    b.from->min_pending = std::min(b.from->min_pending, b.record.kafka_offset);
    still.push_back(std::move(b));
  }
  buffer_ = std::move(still);
  buffered_.store(buffer_.size());
  for (auto& [key, p] : partitions_) {
    if (!p.dirty) continue;
    const int64_t next = p.min_pending == INT64_MAX ? p.last_offset + 1 : p.min_pending;
    batch.offsets.push_back({p.topic, p.partition, next});
    p.dirty = false;
  }
  batch.undecodable = std::move(undecodable_);
  undecodable_.clear();
  if (batch.records.empty() && batch.offsets.empty() && batch.undecodable.empty()) return;
  absl::MutexLock l(&mu_);
  // Two batches in flight at most: reading may run ahead of writing, not without bound.
  mu_.Await(absl::Condition(
      +[](AuditIngest* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->abandon_ || self->queue_.size() < 2;
      },
      this));
  queue_.push_back(std::move(batch));
}

void AuditIngest::RunOnce(absl::Duration timeout) {
  int taken = 0;
  int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  while (taken < options_.max_poll_records) {
    events::KafkaMessage msg(rd_kafka_consumer_poll(rk_.get(), wait_ms));
    if (!msg) break;
    wait_ms = 0;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      LogWarn("audit consumer error", {{"error", rd_kafka_message_errstr(msg.get())}});
      continue;
    }
    Take(msg.get());
    ++taken;
  }
  HandOver();
  bool all_at_end = !partitions_.empty() && buffer_.empty();
  for (const auto& [key, p] : partitions_) all_at_end = all_at_end && p.at_end && !p.dirty;
  absl::MutexLock l(&mu_);
  caught_up_.store(all_at_end && queue_.empty() && !sealing_);
}

void AuditIngest::ReadLoop() {
  while (!stop_.load()) RunOnce(absl::Milliseconds(100));
}

void AuditIngest::SealLoop() {
  while (true) {
    Batch batch;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](AuditIngest* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->abandon_ || self->stop_sealer_ || !self->queue_.empty();
          },
          this));
      if (abandon_ || queue_.empty()) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
      sealing_ = true;
    }
    absl::Duration backoff = absl::Milliseconds(100);
    while (true) {
      const absl::Time t0 = absl::Now();
      auto result = store_->Seal(batch.records, batch.undecodable, batch.offsets);
      {
        absl::MutexLock l(&mu_);
        seal_time_ += absl::Now() - t0;
      }
      if (result.ok()) {
        if (result->newest_recorded != absl::InfinitePast()) {
          newest_sealed_us_.store(std::max(newest_sealed_us_.load(),
                                           absl::ToUnixMicros(result->newest_recorded)));
        }
        // Mirror the stored offsets into the group, for lag dashboards (the ledger's copy rules).
        events::KafkaPartitionList commit(
            rd_kafka_topic_partition_list_new(static_cast<int>(batch.offsets.size())));
        for (const PartitionOffset& o : batch.offsets) {
          rd_kafka_topic_partition_list_add(commit.get(), o.topic.c_str(), o.partition)->offset =
              o.next_offset;
        }
        if (!batch.offsets.empty()) rd_kafka_commit(rk_.get(), commit.get(), /*async=*/1);
        if (on_sealed_) on_sealed_(*result, static_cast<int64_t>(batch.undecodable.size()));
        break;
      }
      LogWarn("ledger seal failed; retrying", {{"error", std::string(result.status().message())}});
      absl::MutexLock l(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&abandon_), backoff)) return;
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    absl::MutexLock l(&mu_);
    sealing_ = false;
  }
}

void AuditIngest::Start() {
  sealer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "audit-seal");  // visible in top -H and perf
    SealLoop();
  });
  reader_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "audit-read");
    ReadLoop();
  });
}

void AuditIngest::Stop() {
  stop_.store(true);
  if (reader_.joinable()) reader_.join();
  {
    absl::MutexLock l(&mu_);
    stop_sealer_ = true;
    // Batches already handed over are complete: give them a chance to be written.
    if (!mu_.AwaitWithTimeout(absl::Condition(
                                  +[](AuditIngest* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                                    return self->queue_.empty() && !self->sealing_;
                                  },
                                  this),
                              absl::Seconds(10))) {
      abandon_ = true;  // their offsets were not stored: they will be read again
    }
  }
  if (sealer_.joinable()) sealer_.join();
  if (!closed_ && rk_) {
    {
      absl::MutexLock l(&mu_);
      abandon_ = true;  // nothing seals any more: a revoke during close must not wait
    }
    rd_kafka_consumer_close(rk_.get());
    closed_ = true;
  }
}

}  // namespace pep::audit
