// Kafka as a cluster, failing (issue 16, part 1). Three KRaft brokers on 127.0.0.1, every topic
// replicated three times with min.insync.replicas 2, the whole platform on them, and writes
// through the gateway the whole time — ideas submitted, start-ups created, users' answers —
// while the cluster loses: the leader of most of the busiest topic's partitions (kill -9), the
// active controller (kill -9), a broker stopped for 30 s, a broker frozen (SIGSTOP: alive but
// silent), the active controller cut off from the other brokers by the network (each node runs
// in a network namespace of this test's own; clients still reach it), then two brokers at once
// (below min.insync.replicas: Kafka refuses every write, the services still acknowledge theirs
// into their outboxes). Afterwards
// every acknowledged write is in the ledger exactly once, with no gap, and the ledger verifies.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

// A write the platform acknowledged, and the ledger entry it must become.
struct Ack {
  std::string id;       // the aggregate: the entry's ce_subject
  std::string ce_type;  // the event it must become
  int phase;
};

std::string Field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return json.substr(from, json.find('"', from) - from);
}

class Load {
 public:
  Load(Platform& p, std::string challenge, std::string startup)
      : p_(p), challenge_(std::move(challenge)), startup_(std::move(startup)) {}
  ~Load() { Stop(); }

  void Start() {
    threads_.emplace_back([this] { Run("ideas"); });
    threads_.emplace_back([this] { Run("startups"); });
    threads_.emplace_back([this] { Run("feedback"); });
    threads_.emplace_back([this] { Run("feedback"); });
  }
  void Stop() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  void set_phase(int phase) { phase_.store(phase); }
  std::vector<Ack> acks() {
    absl::MutexLock l(&mu_);
    return acks_;
  }
  size_t acked_in(int phase) {
    absl::MutexLock l(&mu_);
    size_t n = 0;
    for (const Ack& a : acks_) n += a.phase == phase;
    return n;
  }
  int refused() const { return refused_.load(); }

 private:
  void Run(const std::string& kind) {
    for (int i = 0; !stop_.load(); ++i) {
      const int phase = phase_.load();
      std::map<std::string, std::string> h = {{"Content-Type", "application/json"}};
      std::string target, body, type;
      if (kind == "ideas") {
        h["Authorization"] = "Bearer " + p_.coordinator();
        target = absl::StrCat("/v1/challenges/", challenge_, "/ideas");
        body = absl::StrCat(R"({"title":"Dossier unique )", i,
                            R"(","problem":"Les usagers remplissent trois formulaires.",)"
                            R"("proposal":"Un formulaire pré-rempli.","author_name":"Camille",)"
                            R"("department":"DAS","contact_email":"camille@exemple.fr"})");
        type = "pepiniere.ideas.v1.IdeaSubmitted";
      } else if (kind == "startups") {
        h["Authorization"] = "Bearer " + p_.coordinator();
        target = "/v1/startups";
        body = absl::StrCat(R"({"name":"Démarche )", i, " ", absl::ToUnixMicros(absl::Now()),
                            R"(","mission":"Tenir quand Kafka tombe","incubator":"lab06"})");
        type = "pepiniere.incubation.v1.StartupCreated";
      } else {
        target = absl::StrCat("/v1/startups/", startup_, "/feedback");
        body = absl::StrCat(R"({"satisfaction":"SATISFACTION_GOOD","verbatim":"réponse )", i, "\"}");
        type = "pepiniere.feedback.v1.FeedbackReceived";
      }
      auto r = gateway::HttpCall(p_.url(), "POST", target, h, body);
      const std::string id = r.ok() && r->status == 201 ? Field(r->body, "id") : "";
      if (id.empty()) {
        ++refused_;
        absl::SleepFor(absl::Milliseconds(50));  // back off as a client would
        continue;
      }
      {
        absl::MutexLock l(&mu_);
        acks_.push_back({id, type, phase});
      }
      // ~20 writes a second a thread: steady traffic (the ledger then holds ~20,000 entries to
      // export and check), not a benchmark.
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  Platform& p_;
  const std::string challenge_, startup_;
  std::atomic<bool> stop_{false};
  std::atomic<int> phase_{0};
  std::atomic<int> refused_{0};
  absl::Mutex mu_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

TEST(KafkaClusterFaults, EveryAcknowledgedWriteReachesTheLedgerOnce) {
  KafkaCluster cluster(3, /*isolated=*/true);  // each node in a network namespace of its own
  const std::string brokers = cluster.bootstrap();
  Platform p({"--rate_limit_per_minute=0"}, {}, false, brokers, 3);
  const std::string coord = p.coordinator();
  const std::string challenge =
      p.Post<pepiniere::ideas::v1::Challenge>(
           "/v1/challenges", coord,
           R"({"title":"Simplification","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})")
          .id();
  p.Post<pepiniere::ideas::v1::Challenge>(absl::StrCat("/v1/challenges/", challenge, ":open"), coord, "{}");
  // A product in construction (answers are taken from construction on), as pep-incubation
  // would announce it.
  const std::string startup = NewUuidV7(absl::Now());
  ASSERT_TRUE(PublishStartupCreated(brokers, startup).ok());
  // pep-feedback takes answers once it has read the start-up's creation.
  ASSERT_TRUE(WaitFor([&] {
    auto r = gateway::HttpCall(p.url(), "POST", absl::StrCat("/v1/startups/", startup, "/feedback"),
                               {{"Content-Type", "application/json"}},
                               R"({"satisfaction":"SATISFACTION_GOOD","verbatim":"premier"})");
    return r.ok() && r->status == 201;
  }, absl::Seconds(60)));

  auto settled = [&] {  // every partition back to three in-sync replicas
    EXPECT_TRUE(WaitFor([&] { return UnderReplicatedPartitions(brokers) == 0; }, absl::Seconds(120),
                        absl::Milliseconds(500)))
        << UnderReplicatedPartitions(brokers) << " partitions under-replicated";
  };
  Load load(p, challenge, startup);
  load.Start();
  std::vector<std::string> phases = {"warm-up"};
  auto hold = [&](absl::Duration d) {
    // The load goes on meanwhile; nothing to wait for but time.
    absl::SleepFor(d);
  };
  hold(absl::Seconds(5));

  // 1. The node leading most partitions of the busiest topic (users' answers), kill -9.
  {
    std::map<int, int> led;
    for (const auto& [part, leader] : PartitionLeaders(brokers, "pepiniere.feedback.events")) ++led[leader];
    int node = 1;
    for (const auto& [n, count] : led) {
      if (count > led[node]) node = n;
    }
    phases.push_back(absl::StrCat("kill -9 of node ", node, ", leader of ", led[node],
                                  " of 6 feedback partitions"));
    load.set_phase(1);
    cluster.Kill9(node);
    hold(absl::Seconds(15));
    cluster.Start(node);
    settled();
  }
  // 2. The active controller, kill -9.
  {
    const int node = cluster.ActiveController();
    ASSERT_GT(node, 0) << "no active controller found";
    phases.push_back(absl::StrCat("kill -9 of the active controller, node ", node));
    load.set_phase(2);
    cluster.Kill9(node);
    hold(absl::Seconds(15));
    cluster.Start(node);
    settled();
  }
  // 3. A broker stopped (controlled shutdown) for 30 s.
  {
    const int node = 2;
    phases.push_back(absl::StrCat("node ", node, " stopped for 30 s"));
    load.set_phase(3);
    cluster.Stop(node);
    hold(absl::Seconds(30));
    cluster.Start(node);
    settled();
  }
  // 4. A broker alive but silent for 20 s: its connections stay open, nothing answers.
  {
    const int node = 3;
    phases.push_back(absl::StrCat("node ", node, " frozen (SIGSTOP) for 20 s"));
    load.set_phase(4);
    cluster.Freeze(node);
    hold(absl::Seconds(20));
    cluster.Thaw(node);
    settled();
  }
  // 5. The active controller cut off from the other brokers for 30 s (blackhole routes between
  //    their namespaces); clients still reach it, so it goes on answering what it can.
  {
    const int node = cluster.ActiveController();
    ASSERT_GT(node, 0) << "no active controller found";
    phases.push_back(absl::StrCat("node ", node, ", the active controller, cut off from the other "
                                  "brokers for 30 s"));
    load.set_phase(5);
    cluster.Partition(node);
    hold(absl::Seconds(30));
    cluster.Heal(node);
    settled();
  }
  // 6. Two brokers gone: below min.insync.replicas, Kafka takes no write at all.
  {
    phases.push_back("nodes 1 and 2 killed for 20 s (below min.insync.replicas)");
    load.set_phase(6);
    cluster.Kill9(1);
    cluster.Kill9(2);
    hold(absl::Seconds(20));
    load.set_phase(7);
    phases.push_back("after the two came back");
    cluster.Start(1);
    cluster.Start(2);
    settled();
  }
  hold(absl::Seconds(5));
  load.Stop();
  EXPECT_GT(load.acked_in(6), 50u) << "writes were not acknowledged while Kafka refused them";

  // Every acknowledged write in the ledger, exactly once.
  const std::vector<Ack> acks = load.acks();
  std::map<std::pair<std::string, std::string>, int> entries;  // (ce_subject, ce_type) -> count
  size_t found_all = 0;
  auto read_ledger = [&] {
    entries.clear();
    for (const std::string& line : p.audit().Export()) {
      ++entries[{Field(line, "ce_subject"), Field(line, "ce_type")}];
    }
    found_all = 0;
    for (const Ack& a : acks) found_all += entries.count({a.id, a.ce_type}) > 0;
    return found_all == acks.size();
  };
  EXPECT_TRUE(WaitFor(read_ledger, absl::Seconds(240), absl::Seconds(5)))
      << found_all << " of " << acks.size() << " acknowledged writes in the ledger";
  std::printf("%zu writes acknowledged through the gateway, %d refused or failed\n", acks.size(),
              load.refused());
  for (size_t ph = 0; ph < phases.size(); ++ph) {
    size_t acked = 0, found = 0, duplicates = 0;
    for (const Ack& a : acks) {
      if (a.phase != static_cast<int>(ph)) continue;
      ++acked;
      const auto it = entries.find({a.id, a.ce_type});
      if (it == entries.end()) continue;
      ++found;
      duplicates += it->second - 1;
    }
    std::printf("phase %zu, %s: acked %zu / found %zu / duplicates %zu\n", ph, phases[ph].c_str(),
                acked, found, duplicates);
    EXPECT_EQ(found, acked) << phases[ph];
    EXPECT_EQ(duplicates, 0u) << phases[ph];
  }
  const auto verified = p.audit().Verify();
  EXPECT_TRUE(verified.ok()) << verified.ShortDebugString();
  EXPECT_EQ(verified.gaps_size(), 0) << "an aggregate's version skipped";
  EXPECT_EQ(verified.duplicates_size(), 0) << "an aggregate's version recorded twice";
  std::printf("ledger: %lld entries, verified %s\n", static_cast<long long>(verified.records()),
              verified.ok() ? "yes" : "NO");
}

}  // namespace
}  // namespace pep::testing
