#include "store/outbox_relay.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "store/outbox.h"
#include "store/postgres.h"

namespace pep::store {

OutboxRelay::OutboxRelay(std::string db_path, RelayOptions options,
                         telemetry::EventMetrics* metrics)
    : db_path_(std::move(db_path)), options_(std::move(options)), metrics_(metrics) {}

OutboxRelay::~OutboxRelay() { Stop(absl::ZeroDuration()); }

absl::Status OutboxRelay::Start() {
  auto db = Db::Connect(db_path_);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  auto select = db_->Prepare(
      "SELECT seq, topic, msg_key, headers, payload FROM outbox "
      "WHERE sent_us IS NULL AND seq > ? ORDER BY seq LIMIT ?");
  if (!select.ok()) return select.status();
  auto mark = db_->Prepare("UPDATE outbox SET sent_us = ? WHERE seq = ? RETURNING topic");
  if (!mark.ok()) return mark.status();
  select_unsent_.emplace(std::move(*select));
  mark_sent_.emplace(std::move(*mark));
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void OutboxRelay::Notify() {
  absl::MutexLock l(&mu_);
  notified_ = true;
}

void OutboxRelay::Stop(absl::Duration drain) {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) {
      drain_deadline_ = std::min(drain_deadline_, absl::Now() + drain);
    } else {
      stopping_ = true;
      drain_deadline_ = absl::Now() + drain;
    }
    notified_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status OutboxRelay::EnsureProducer() {
  if (producer_) {
    absl::Status fatal = producer_->FatalError();
    if (fatal.ok()) return absl::OkStatus();
    LogError("relay producer failed; recreating it", {{"error", std::string(fatal.message())}});
    producer_.reset();
    next_seq_ = 0;  // everything unsent is produced again (same ce_ids: duplicates are harmless)
  }
  events::KafkaProperties props = {{"bootstrap.servers", options_.brokers},
                                   {"linger.ms", "5"},
                                   {"message.timeout.ms", "300000"}};
  for (const auto& [k, v] : options_.extra) props[k] = v;
  auto p = events::Producer::Create(props, [this](uint64_t seq, const absl::Status& s) {
    absl::MutexLock l(&mu_);
    if (s.ok()) {
      delivered_.push_back(seq);
    } else {
      ++failed_;
    }
  });
  if (!p.ok()) return p.status();
  producer_ = std::move(*p);
  return absl::OkStatus();
}

void OutboxRelay::ApplyDeliveries() {
  std::vector<uint64_t> done;
  int failed = 0;
  {
    absl::MutexLock l(&mu_);
    done.swap(delivered_);
    failed = failed_;
    failed_ = 0;
  }
  if (failed > 0) {
    rewind_ = true;
    LogWarn("outbox deliveries failed; will publish them again", {{"count", absl::StrCat(failed)}});
  }
  if (done.empty()) {
    if (failed > 0 && metrics_) metrics_->PublishFailed("outbox").Increment(failed);
    return;
  }
  const int64_t now = absl::ToUnixMicros(absl::Now());
  // Mark sent in one transaction; retried on the next round if the database is busy.
  while (true) {
    Transaction tx(*db_);
    absl::Status s = tx.status();
    std::vector<std::string> topics;
    if (s.ok()) {
      Stmt* st = &*mark_sent_;
      for (size_t i = 0; s.ok() && i < done.size(); ++i) {
        st->Reset();
        st->Bind(1, now).Bind(2, static_cast<int64_t>(done[i]));
        auto row = st->Step();
        if (!row.ok()) {
          s = row.status();
        } else if (*row) {
          topics.push_back(st->Text(0));
          s = st->Run();
        }
      }
    }
    if (s.ok()) s = tx.Commit();
    if (s.ok()) {
      if (metrics_) {
        for (const auto& t : topics) metrics_->Published(t).Increment();
        if (failed > 0) metrics_->PublishFailed("outbox").Increment(failed);
      }
      return;
    }
    LogWarn("marking outbox rows sent failed; retrying", {{"error", std::string(s.message())}});
    absl::SleepFor(absl::Milliseconds(50));
  }
}

bool OutboxRelay::HoldLeadership() {
  if (db_->engine() != Engine::kPostgres) {
    active_ = true;
    return true;
  }
  auto& pg = static_cast<PgDb&>(*db_);
  if (active_ && pg.Healthy()) return true;
  if (active_) {
    // The connection broke, and the lock with it: another replica may publish now. What this
    // one produced is reported or lost; either way it starts over from the first unsent row.
    LogWarn("outbox relay lost its database connection; stepping down", {});
    active_ = false;
    producer_.reset();
    next_seq_ = 0;
    {
      absl::MutexLock l(&mu_);
      delivered_.clear();
      failed_ = 0;
    }
  }
  auto got = pg.TryLock("outbox-relay");
  if (!got.ok() || !*got) return false;
  LogInfo("outbox relay: this replica publishes the outbox now", {});
  active_ = true;
  next_seq_ = 0;
  return true;
}

bool OutboxRelay::PublishRound() {
  if (!HoldLeadership()) return false;
  if (!EnsureProducer().ok()) return false;
  producer_->Poll(0);
  ApplyDeliveries();
  if (rewind_) {
    if (producer_->InFlight() > 0) return false;  // wait for every report before re-reading
    rewind_ = false;
    next_seq_ = 0;
  }
  const int room = options_.max_in_flight - producer_->InFlight();
  if (room <= 0) return false;
  Stmt* q = &*select_unsent_;
  q->Reset();
  q->Bind(1, next_seq_).Bind(2, static_cast<int64_t>(std::min(room, options_.batch_size)));
  int produced = 0;
  while (true) {
    auto row = q->Step();
    if (!row.ok() || !*row) break;
    const int64_t seq = q->Int(0);
    auto headers = DecodeHeaders(q->Text(3));
    if (!headers.ok()) {
      LogError("undecodable outbox row skipped", {{"seq", absl::StrCat(seq)}});
      next_seq_ = seq;
      continue;
    }
    absl::Status s = producer_->Produce(q->Text(1), q->Text(2), q->Text(4), *headers,
                                        static_cast<uint64_t>(seq));
    if (!s.ok()) break;  // queue full or transient: retry from this row next round
    next_seq_ = seq;
    ++produced;
  }
  q->Reset();  // ends its read snapshot now rather than at the next round
  return produced > 0;
}

void OutboxRelay::UpdateBacklogMetrics() {
  last_metrics_ = absl::Now();
  if (metrics_ == nullptr) return;
  auto q = db_->Prepare("SELECT COUNT(*), MIN(created_us) FROM outbox WHERE sent_us IS NULL");
  if (!q.ok() || !q->Step().value_or(false)) return;
  metrics_->outbox_backlog().Set(static_cast<double>(q->Int(0)));
  metrics_->outbox_oldest_age().Set(
      q->IsNull(1) ? 0.0
                   : std::max(0.0, absl::ToDoubleSeconds(absl::Now() -
                                                          absl::FromUnixMicros(q->Int(1)))));
}

void OutboxRelay::PruneIfDue() {
  if (options_.keep_sent <= absl::ZeroDuration()) return;
  const absl::Time now = absl::Now();
  if (now - last_prune_ < options_.prune_every) return;
  last_prune_ = now;
  auto pruned = PruneSentOutbox(*db_, now - options_.keep_sent);
  if (!pruned.ok()) {
    LogWarn("outbox pruning failed; will try again", {{"error", std::string(pruned.status().message())}});
  } else if (*pruned > 0) {
    LogInfo("outbox rows sent long ago deleted", {{"rows", absl::StrCat(*pruned)}});
  }
}

int64_t OutboxRelay::Backlog() {
  auto db = Db::Connect(db_path_);
  if (!db.ok()) return -1;
  auto q = (*db)->Prepare("SELECT COUNT(*) FROM outbox WHERE sent_us IS NULL");
  if (!q.ok() || !q->Step().value_or(false)) return -1;
  return q->Int(0);
}

void OutboxRelay::Run() {
  while (true) {
    const bool worked = PublishRound();
    if (absl::Now() - last_metrics_ > absl::Seconds(1)) UpdateBacklogMetrics();
    PruneIfDue();
    bool stopping;
    absl::Time deadline;
    {
      absl::MutexLock l(&mu_);
      stopping = stopping_;
      deadline = drain_deadline_;
    }
    if (stopping) {
      // A standby has nothing to drain: the active relay publishes what this replica wrote.
      const bool empty = (producer_ && producer_->InFlight() == 0 && !worked) || !active_;
      if (empty || absl::Now() >= deadline) break;
    }
    if (worked) continue;
    // Serve delivery reports while waiting for new rows or reports.
    const absl::Time wake = absl::Now() + options_.idle_poll;
    while (absl::Now() < wake) {
      if (producer_) producer_->Poll(5);
      absl::MutexLock l(&mu_);
      if (notified_ || !delivered_.empty() || failed_ > 0 || stopping_) {
        notified_ = false;
        break;
      }
      if (!producer_) mu_.AwaitWithTimeout(absl::Condition(&notified_), absl::Milliseconds(5));
    }
  }
  if (producer_) {
    (void)producer_->Flush(absl::ZeroDuration());
    ApplyDeliveries();
  }
  UpdateBacklogMetrics();
  producer_.reset();  // its destructor waits briefly for reports of messages still in flight
}

}  // namespace pep::store
