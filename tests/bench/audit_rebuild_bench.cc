// pep-audit-rebuild-bench: in one process run, on this machine, against a real broker,
// produces N generated events (default 1,000,000 over 2,000 lineages: one in 50 is a start-up
// event, the rest users' answers, each its own aggregate; feedback-sized payloads) to one
// topic, then reads them back (a) with a raw librdkafka consumer that only polls and counts,
// (a') with the same consumer also decoding each envelope and hashing each record into both
// chains (the floor of any ledger: no order, no dedupe, no storage), and (b) with pep-audit's
// own intake rebuilding the ledger into a fresh SQLite file (watermark, hashing, lineage and
// global chains, offsets, synchronous=FULL). Prints events/s and CPU per event for each, and
// the ratios to (a).
// Usage: pep-audit-rebuild-bench [events=1000000] [brokers] (no brokers: starts its own)
#include <sys/resource.h>

#include <cstdio>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/uuid.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "bench/audit_bench_events.h"
#include "harness/harness.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "services/audit/ingest.h"
#include "services/audit/ledger.h"
#include "services/audit/ledger_store.h"

namespace {

constexpr char kTopic[] = "bench.audit.events";

double CpuSeconds() {  // this process, all threads (librdkafka's included)
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void Produce(const std::string& brokers, int64_t n) {
  int64_t failed = 0;
  auto p = pep::events::Producer::Create(
      {{"bootstrap.servers", brokers}, {"linger.ms", "20"}, {"batch.size", "1000000"}},
      [&](uint64_t, const absl::Status& s) { failed += !s.ok(); });
  if (!p.ok()) {
    std::fprintf(stderr, "producer: %s\n", std::string(p.status().message()).c_str());
    std::exit(1);
  }
  pepiniere::feedback::v1::FeedbackReceived ev;
  ev.mutable_feedback()->set_satisfaction(pepiniere::feedback::v1::SATISFACTION_GOOD);
  ev.mutable_feedback()->set_verbatim(
      "Démarche claire, mais il a fallu appeler le standard pour connaître le délai.");
  const absl::Time t0 = absl::Now();
  pep::bench::AuditEventStream stream;
  for (int64_t i = 0; i < n; ++i) {
    const pep::events::Envelope e = stream.Next();
    ev.mutable_feedback()->set_id(e.id);
    ev.mutable_feedback()->set_startup_id(e.correlation_id);
    while (true) {
      absl::Status s = (*p)->Produce(kTopic, e.subject, ev.SerializeAsString(), pep::events::ToHeaders(e), 0);
      if (s.ok()) break;
      (*p)->Flush(absl::Milliseconds(100)).IgnoreError();  // queue full: let it drain
    }
  }
  if (!(*p)->Flush(absl::Minutes(5)).ok() || failed > 0) {
    std::fprintf(stderr, "produce failed (%lld)\n", static_cast<long long>(failed));
    std::exit(1);
  }
  std::printf("produced %lld events in %.1f s\n", static_cast<long long>(n),
              absl::ToDoubleSeconds(absl::Now() - t0));
}

// (a) The baseline: a plain consumer group member that polls and counts. With `floor`, it also
// does the least any ledger must do with each event, in one thread and in arrival order:
// decode the CloudEvents headers and hash the record into its lineage chain and the global
// chain (no ordering, no dedupe, no storage) — the ceiling of a ledger on this machine.
double RawConsumer(const std::string& brokers, int64_t n, bool floor = false) {
  auto conf = pep::events::MakeConf({{"bootstrap.servers", brokers},
                                     {"group.id", "bench-raw-" + pep::NewUuidV7(absl::Now())},
                                     {"auto.offset.reset", "earliest"},
                                     {"enable.auto.commit", "false"}});
  char err[512];
  pep::events::KafkaHandle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  rd_kafka_poll_set_consumer(rk.get());
  pep::events::KafkaPartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), kTopic, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk.get(), topics.get());
  int64_t seen = 0, bytes = 0;
  absl::flat_hash_map<std::string, std::string> heads;  // floor: each lineage's last hash
  std::string global = pep::audit::ZeroHash();
  absl::Time first = absl::InfinitePast();
  double cpu0 = 0;
  while (seen < n) {
    pep::events::KafkaMessage m(rd_kafka_consumer_poll(rk.get(), 1000));
    if (!m || m->err) continue;
    if (seen++ == 0) {
      first = absl::Now();
      cpu0 = CpuSeconds();
    }
    bytes += static_cast<int64_t>(m->len);
    if (floor) {
      auto env = pep::events::EnvelopeOf(m.get());
      if (!env.ok()) continue;
      const pep::audit::LedgerRecord r = pep::audit::RecordOf(m.get(), std::move(*env), kTopic);
      std::string& prev = heads[r.subject];
      if (prev.empty()) prev = pep::audit::ZeroHash();
      prev = pep::audit::ChainHash(prev, r);
      global = pep::audit::GlobalHash(global, prev);
    }
  }
  const double secs = absl::ToDoubleSeconds(absl::Now() - first);
  const double cpu = CpuSeconds() - cpu0;
  rd_kafka_consumer_close(rk.get());
  std::printf("%s: %lld events (%lld payload bytes) in %.2f s = %.0f events/s "
              "(%.2f s CPU = %.2f us/event)\n",
              floor ? "floor (raw + headers decoded + both hashes)" : "raw librdkafka consumer",
              static_cast<long long>(seen), static_cast<long long>(bytes), secs, seen / secs, cpu,
              1e6 * cpu / static_cast<double>(seen));
  return seen / secs;
}

// (b) pep-audit's intake rebuilding the ledger from the topic.
double AuditRebuild(const std::string& brokers, int64_t n, const std::string& dir) {
  auto store = pep::audit::LedgerStore::Open(dir + "/audit.db");
  if (!store.ok()) std::exit(1);
  auto ingest = pep::audit::AuditIngest::Create(
      {.brokers = brokers,
       .group_id = "bench-audit-" + pep::NewUuidV7(absl::Now()),
       .instance_id = "bench-audit",
       .topics = {kTopic}},
      store->get(), pep::SystemClock::Get(), nullptr);
  if (!ingest.ok()) std::exit(1);
  const double cpu0 = CpuSeconds();
  (*ingest)->Start();
  while (!((*ingest)->CaughtUp() && (*ingest)->taken() >= n)) absl::SleepFor(absl::Milliseconds(5));
  const double secs = absl::ToDoubleSeconds(absl::Now() - (*ingest)->first_taken());
  const int64_t records = (*store)->Count().value_or(-1);
  const double cpu = CpuSeconds() - cpu0;
  std::printf("pep-audit rebuild: %lld records in %.2f s = %.0f events/s (%.2f s CPU = %.2f us/event, "
              "%.2f s sealing)\n",
              static_cast<long long>(records), secs, records / secs, cpu,
              1e6 * cpu / static_cast<double>(records), absl::ToDoubleSeconds((*ingest)->seal_time()));
  const absl::Time v0 = absl::Now();
  auto report = (*store)->Verify("");
  std::printf("VerifyLedger (all chains + global): %s in %.2f s, global head %s\n",
              report.ok() && report->ok() ? "clean" : "FAILED",
              absl::ToDoubleSeconds(absl::Now() - v0),
              report.ok() ? report->global_head_hash.c_str() : "?");
  (*ingest)->Stop();
  return records / secs;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000000;
  std::unique_ptr<pep::testing::KafkaBroker> broker;
  std::string brokers;
  if (argc > 2) {
    brokers = argv[2];
  } else {
    broker = std::make_unique<pep::testing::KafkaBroker>();  // started by its constructor
    brokers = broker->bootstrap();
  }
  pep::events::TopicSpec topic{.name = kTopic, .partitions = 6, .config = {{"retention.ms", "-1"}}};
  if (!pep::events::EnsureTopics(brokers, {topic}).ok()) return 1;
  Produce(brokers, n);
  pep::testing::TempDir dir;
  const double raw = RawConsumer(brokers, n);
  const double floor = RawConsumer(brokers, n, /*floor=*/true);
  const double audit = AuditRebuild(brokers, n, dir.path());
  std::printf("ratio floor / raw consumer: %.1f %%\n", 100.0 * floor / raw);
  std::printf("ratio pep-audit / raw consumer: %.1f %%\n", 100.0 * audit / raw);
  return 0;
}
