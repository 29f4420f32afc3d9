#include "services/audit/log_follower.h"

#include <pthread.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace pep::audit {

absl::StatusOr<std::unique_ptr<LogFollower>> LogFollower::Create(const std::string& brokers,
                                                                 const std::string& log_topic,
                                                                 const events::KafkaProperties& extra,
                                                                 LogIndex* index, OnApplied on_applied) {
  std::unique_ptr<LogFollower> f(new LogFollower(index, std::move(on_applied)));
  f->topic_ = log_topic;
  events::KafkaProperties props = {
      {"bootstrap.servers", brokers},
      {"group.id", "pep-audit-index"},  // never committed: the index holds its offset
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"isolation.level", "read_committed"},
      {"fetch.wait.max.ms", "20"},
  };
  auto rk = events::NewClient(RD_KAFKA_CONSUMER, std::move(props), extra);
  if (!rk.ok()) return rk.status();
  f->rk_ = std::move(*rk);
  if (absl::Status s = f->Seek(); !s.ok()) return s;
  return f;
}

LogFollower::~LogFollower() { Stop(); }

absl::Status LogFollower::Seek() {
  events::KafkaPartitionList parts(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(parts.get(), topic_.c_str(), 0)->offset = index_->NextLogOffset();
  rd_kafka_resp_err_t e = rd_kafka_assign(rk_.get(), parts.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return events::KafkaError(e, "assign log");
  return absl::OkStatus();
}

void LogFollower::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "log-follower");
    Loop();
  });
}

void LogFollower::Stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  if (rk_) {
    rd_kafka_assign(rk_.get(), nullptr);
    rk_.reset();
  }
}

void LogFollower::Loop() {
  std::vector<LogMessage> batch;
  while (!stop_.load()) {
    batch.clear();
    bool at_end = false;
    int wait_ms = 100;
    size_t bytes = 0;  // a bundle is up to 512 KiB: one transaction holds at most ~64 MiB
    while (batch.size() < 20000 && bytes < (64u << 20)) {
      events::KafkaMessage m(rd_kafka_consumer_poll(rk_.get(), wait_ms));
      if (!m) break;
      wait_ms = 0;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end = true;
        break;
      }
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        LogWarn("log follower: consumer error", {{"error", rd_kafka_message_errstr(m.get())}});
        continue;
      }
      batch.push_back({m->offset, std::string(static_cast<const char*>(m->payload), m->len)});
      bytes += m->len;
    }
    if (!batch.empty()) {
      caught_up_ = false;
      auto applied = index_->Apply(batch);
      if (!applied.ok()) {
        LogError("log follower: cannot apply", {{"error", std::string(applied.status().message())}});
        absl::SleepFor(absl::Seconds(1));
        (void)Seek();  // from what is committed in the index
        continue;
      }
      for (const std::string& p : applied->problems) LogError("ledger: log record refused", {{"problem", p}});
      if (on_applied_) on_applied_(*applied);
    }
    if (at_end) caught_up_ = true;
  }
}

}  // namespace pep::audit
