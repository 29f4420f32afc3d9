// pep-audit-log-bench (issue 14): in one run, on this machine, against a real broker (its own
// process, started here unless given):
//   1. produces N generated events (default 1,000,000 over 2,000 lineages; feedback-sized
//      payloads) to a 6-partition source topic;
//   2. baseline: a raw librdkafka consumer reads them all (assigned, polls and counts);
//   3. pep-audit's sequencer integrates them into a fresh log topic (entries, bundles, an
//      Ed25519-signed checkpoint per bundle, one Kafka transaction per round) until a signed
//      checkpoint covers all N;
//   4. baseline: a raw read_committed consumer reads the log topic;
//   5. a fresh index rebuilt from the log topic (LogFollower + LogIndex: SQLite, the tree);
//   6. proofs: inclusion and consistency proofs for random entries of a 10,000,000-entry tree
//      (in memory, as the index keeps it), per second, with the SHA-256 rate beside them.
// Prints each rate and the ratios to its baseline.
// Usage: pep-audit-log-bench [events=1000000] [proof_tree=10000000] [brokers]
#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/audit_bench_events.h"
#include "common/uuid.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "harness/harness.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "services/audit/log_follower.h"
#include "services/audit/log_index.h"
#include "services/audit/sequencer.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace {

constexpr char kSource[] = "bench.audit.source";
constexpr char kLog[] = "bench.audit.log";
constexpr char kOrigin[] = "bench.pepiniere/ledger";

double CpuSeconds() {
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
  if (!p.ok()) std::exit(1);
  pepiniere::feedback::v1::FeedbackReceived ev;
  ev.mutable_feedback()->set_satisfaction(pepiniere::feedback::v1::SATISFACTION_GOOD);
  ev.mutable_feedback()->set_verbatim("Démarche claire, mais il a fallu appeler le standard pour connaître le délai.");
  const absl::Time t0 = absl::Now();
  pep::bench::AuditEventStream stream;
  for (int64_t i = 0; i < n; ++i) {
    const pep::events::Envelope e = stream.Next();
    ev.mutable_feedback()->set_id(e.id);
    ev.mutable_feedback()->set_startup_id(e.correlation_id);
    while (!(*p)->Produce(kSource, e.subject, ev.SerializeAsString(), pep::events::ToHeaders(e), 0).ok()) {
      (*p)->Flush(absl::Milliseconds(100)).IgnoreError();
    }
  }
  if (!(*p)->Flush(absl::Minutes(5)).ok() || failed > 0) std::exit(1);
  std::printf("produced %lld events in %.1f s\n", static_cast<long long>(n), absl::ToDoubleSeconds(absl::Now() - t0));
}

// A raw consumer assigned to every partition of `topic` from the beginning, polling and counting
// until `n` records (read_committed, librdkafka's default).
double RawConsumer(const std::string& brokers, const std::string& topic, int partitions, int64_t n,
                   const char* what) {
  auto conf = pep::events::MakeConf({{"bootstrap.servers", brokers},
                                     {"group.id", "bench-raw"},
                                     {"enable.auto.commit", "false"},
                                     {"queued.min.messages", "200000"}});
  char err[512];
  pep::events::KafkaHandle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  pep::events::KafkaPartitionList parts(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk.get(), parts.get());
  int64_t seen = 0, bytes = 0;
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
  }
  const double secs = absl::ToDoubleSeconds(absl::Now() - first);
  std::printf("%s: %lld records (%lld bytes) in %.2f s = %.0f records/s (%.2f s CPU)\n", what,
              static_cast<long long>(seen), static_cast<long long>(bytes), secs, seen / secs, CpuSeconds() - cpu0);
  rd_kafka_assign(rk.get(), nullptr);
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const uint64_t proof_tree = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10000000;
  std::unique_ptr<pep::testing::KafkaBroker> broker;
  std::string brokers;
  if (argc > 3) {
    brokers = argv[3];
  } else {
    broker = std::make_unique<pep::testing::KafkaBroker>();
    brokers = broker->bootstrap();
  }
  if (!pep::events::EnsureTopics(brokers, {{kSource, 6, 1, {{"retention.ms", "-1"}}},
                                           {kLog, 1, 1, {{"retention.ms", "-1"}, {"max.message.bytes", "8388608"}}}})
           .ok()) {
    return 1;
  }
  Produce(brokers, n);
  const double raw_source = RawConsumer(brokers, kSource, 6, n, "raw consumer, source topic");

  // The sequencer, in this process (the broker is another).
  auto signer = pep::tlog::NoteSigner::Generate(kOrigin);
  auto seq = pep::audit::Sequencer::Create({.brokers = brokers,
                                            .topics = {kSource},
                                            .log_topic = kLog,
                                            .transactional_id = "bench-sequencer",
                                            .election_group = "bench-sequencer",
                                            .origin = kOrigin,
                                            .signer_key = signer->SignerKey()});
  if (!seq.ok()) {
    std::fprintf(stderr, "sequencer: %s\n", std::string(seq.status().message()).c_str());
    return 1;
  }
  double cpu0 = CpuSeconds();
  (*seq)->Start();
  while (!(*seq)->leading()) absl::SleepFor(absl::Milliseconds(1));
  const absl::Time t0 = absl::Now();  // from the moment it leads (the election is not sequencing)
  while ((*seq)->signed_size() < static_cast<uint64_t>(n)) absl::SleepFor(absl::Milliseconds(2));
  const double sequencing = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf("sequencer: %lld entries appended and signed in %.2f s = %.0f events/s (%.2f s CPU)\n",
              static_cast<long long>(n), sequencing, n / sequencing, CpuSeconds() - cpu0);
  (*seq)->Stop();

  // The log topic: bundles and checkpoints (about n/256 of each).
  const int64_t log_records = 2 * ((n + 255) / 256);
  const double raw_log = RawConsumer(brokers, kLog, 1, log_records, "raw consumer, log topic");
  pep::testing::TempDir dir;
  auto index = pep::audit::LogIndex::Open(dir.path() + "/index.db", kOrigin, signer->VerifierKey());
  if (!index.ok()) return 1;
  auto follower = pep::audit::LogFollower::Create(brokers, kLog, {}, index->get(), nullptr);
  if (!follower.ok()) return 1;
  cpu0 = CpuSeconds();
  const absl::Time r0 = absl::Now();
  (*follower)->Start();
  while ((*index)->size() < static_cast<uint64_t>(n) || !(*index)->Latest() ||
         (*index)->Latest()->checkpoint.size < static_cast<uint64_t>(n)) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  const double rebuild = absl::ToDoubleSeconds(absl::Now() - r0);
  std::printf("index rebuilt from the log: %lld entries in %.2f s = %.0f entries/s (%.2f s CPU)\n",
              static_cast<long long>(n), rebuild, n / rebuild, CpuSeconds() - cpu0);
  (*follower)->Stop();

  // Proofs on a big tree.
  pep::tlog::MemoryTree tree;
  std::mt19937_64 rng(42);
  const absl::Time b0 = absl::Now();
  for (uint64_t i = 0; i < proof_tree; ++i) {
    pep::tlog::Hash leaf;
    for (size_t k = 0; k < leaf.size(); k += 8) {
      const uint64_t v = rng();
      std::memcpy(leaf.data() + k, &v, 8);
    }
    tree.Append(leaf);
  }
  const double build = absl::ToDoubleSeconds(absl::Now() - b0);
  std::printf("tree of %llu leaves built in %.1f s (%.0f leaf appends/s: one SHA-256 each, amortised)\n",
              static_cast<unsigned long long>(proof_tree), build, proof_tree / build);
  const auto source = tree.Source();
  const pep::tlog::Hash root = tree.Root();
  constexpr int kProofs = 200000;
  int ok = 0;
  absl::Time p0 = absl::Now();
  for (int i = 0; i < kProofs; ++i) {
    const uint64_t idx = rng() % proof_tree;
    const auto proof = pep::tlog::InclusionProof(idx, proof_tree, source);
    ok += pep::tlog::VerifyInclusion(idx, proof_tree, tree.Range(idx, idx + 1), proof, root);
  }
  const double incl = kProofs / absl::ToDoubleSeconds(absl::Now() - p0);
  p0 = absl::Now();
  for (int i = 0; i < kProofs; ++i) {
    const uint64_t m = 1 + rng() % (proof_tree - 1);
    const auto proof = pep::tlog::ConsistencyProof(m, proof_tree, source);
    ok += !proof.empty();
  }
  const double cons = kProofs / absl::ToDoubleSeconds(absl::Now() - p0);
  std::printf("proofs on %llu entries: %.0f inclusion proofs/s (built and verified), %.0f consistency proofs/s "
              "(%d ok)\n",
              static_cast<unsigned long long>(proof_tree), incl, cons, ok);
  std::printf("ratio sequencing / raw source consumer: %.1f %%\n", 100.0 * raw_source / sequencing);
  std::printf("ratio index rebuild / raw log consumer: %.1f %% (in entries: the raw consumer reads %lld records "
              "carrying them)\n",
              100.0 * raw_log / rebuild, static_cast<long long>(log_records));
  return 0;
}
