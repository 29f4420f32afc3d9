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
#include "integration/gateway_load.h"

namespace pep::testing {
namespace {

TEST(KafkaClusterFaults, EveryAcknowledgedWriteReachesTheLedgerOnce) {
  KafkaCluster cluster(3, /*isolated=*/true);  // each node in a network namespace of its own
  const std::string brokers = cluster.bootstrap();
  Platform p({"--rate_limit_per_minute=0"}, {}, false, brokers, 3);
  const LoadTargets targets = PrepareLoad(p);
  ASSERT_FALSE(HasFailure());

  auto settled = [&] {  // every partition back to three in-sync replicas
    EXPECT_TRUE(WaitFor([&] { return UnderReplicatedPartitions(brokers) == 0; }, absl::Seconds(120),
                        absl::Milliseconds(500)))
        << UnderReplicatedPartitions(brokers) << " partitions under-replicated";
  };
  Load load(p, targets.challenge, targets.startup);
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

  ExpectEveryAckInTheLedgerOnce(p, load, phases);
}

}  // namespace
}  // namespace pep::testing
