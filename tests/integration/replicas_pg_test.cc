// Two replicas of every service, on PostgreSQL, behind two gateways (issue 17): pep-ideas,
// pep-incubation and pep-feedback run two processes each, the replicas of a service sharing one
// database of a real PostgreSQL server; pep-audit runs two replicas of one ledger (one
// sequencer, elected); two pep-gateway processes share their own database and spread calls over
// the service replicas (round robin). Writes go to both gateways in turn the whole time while
// one process after another — every replica of every service, the gateways included — is
// killed with -9 and started again. Afterwards every acknowledged write is in the ledger exactly
// once, with no gap, and the ledger verifies: the survivors answered meanwhile, the outbox
// relays (one publisher per service, an advisory lock) handed over without losing or repeating
// an event in effect, and so did the ledger's sequencer.
// And two gateways on one PostgreSQL database are interchangeable: a token made on one works on
// the other, revoked on one it is refused by both, and a client's key (salted hash of its
// address, which feedback's idempotency and rate limits key on) is the same on both.
#include <functional>

#include "integration/gateway_load.h"

namespace pep::testing {
namespace {

TEST(ReplicasOnPostgres, ReplicasKilledOneByOneLoseNothingAndRepeatNothing) {
  Platform p({"--rate_limit_per_minute=0"}, {}, false, "", 1, /*replicas=*/2);
  const LoadTargets targets = PrepareLoad(p);
  ASSERT_FALSE(HasFailure());
  const std::vector<ServiceProcess*> replicas = p.ServiceReplicas();
  ASSERT_EQ(replicas.size(), 6u);
  ASSERT_EQ(p.AuditReplicas().size(), 2u);
  ASSERT_EQ(p.GatewayUrls().size(), 2u);
  const char* names[3] = {"pep-ideas", "pep-incubation", "pep-feedback"};

  Load load(p, targets.challenge, targets.startup);
  load.Start();
  std::vector<std::string> phases = {"warm-up, two replicas of each service"};
  auto hold = [&](absl::Duration d) {
    // The load goes on meanwhile; nothing to wait for but time.
    absl::SleepFor(d);
  };
  hold(absl::Seconds(6));
  // The gateway spread the warm-up over both replicas of each service.
  for (size_t i = 0; i < replicas.size(); ++i) {
    // The calls the process has answered so far (its gRPC server metrics).
    const double calls =
        SampleSum(HttpGet(replicas[i]->metrics_port(), "/metrics"), "grpc_server_handled_total");
    std::printf("%s replica %zu: %.0f calls in the warm-up\n", names[i / 2], i % 2, calls);
    EXPECT_GT(calls, 10) << names[i / 2] << " replica " << i % 2 << " got (almost) no calls";
  }
  // One process killed with -9 during a phase of its own, left down 4 s, started again (each
  // Start returns once the process answers its health check).
  auto kill_and_restart = [&](const std::string& what, const std::function<void()>& kill,
                              const std::function<void()>& start) {
    phases.push_back(absl::StrCat("kill -9 of ", what, ", 4 s down, started again"));
    load.set_phase(static_cast<int>(phases.size() - 1));
    kill();
    hold(absl::Seconds(4));
    start();
    hold(absl::Seconds(2));
  };
  for (size_t i = 0; i < replicas.size(); ++i) {
    kill_and_restart(absl::StrCat(names[i / 2], " replica ", i % 2), [&] { replicas[i]->Kill9(); },
                     [&] { replicas[i]->Start(); });
  }
  for (size_t i = 0; i < p.AuditReplicas().size(); ++i) {
    AuditProcess* audit = p.AuditReplicas()[i];
    kill_and_restart(absl::StrCat("pep-audit replica ", i), [&] { audit->Kill9(); },
                     [&] { audit->Start(); });
  }
  for (size_t i = 0; i < p.GatewayUrls().size(); ++i) {
    kill_and_restart(absl::StrCat("pep-gateway replica ", i), [&] { p.KillGateway(i); },
                     [&] { p.StartGateway(i); });
  }
  phases.push_back("after, every replica up");
  load.set_phase(static_cast<int>(phases.size() - 1));
  hold(absl::Seconds(4));
  load.Stop();
  for (size_t ph = 1; ph + 1 < phases.size(); ++ph) {
    EXPECT_GT(load.acked_in(static_cast<int>(ph)), 20u)
        << "the surviving replica did not take the writes: " << phases[ph];
  }
  // Each replica answers for what the other's consumer read: the start-up the answers go to
  // was announced on Kafka and read by one pep-feedback replica only (seen before the fix: a
  // hundred 404s per phase from the replica that had not read it).
  for (size_t ph = 0; ph < phases.size(); ++ph) {
    EXPECT_EQ(load.refused_in(static_cast<int>(ph)).count("404"), 0u) << phases[ph];
  }
  ExpectEveryAckInTheLedgerOnce(p, load, phases);
}

TEST(ReplicasOnPostgres, TwoGatewaysOnOneDatabaseAreInterchangeable) {
  const std::string db = PostgresServer::Shared().NewDatabase("gateway");
  Platform p({"--rate_limit_per_minute=0"}, {"--database_url", db});
  auto other = p.AnotherGateway({"--database_url", db});
  auto call = [](const std::string& url, const std::string& method, const std::string& target,
                 const std::string& token, const std::string& body = "") {
    std::map<std::string, std::string> h = {{"Content-Type", "application/json"}};
    if (!token.empty()) h["Authorization"] = "Bearer " + token;
    auto r = gateway::HttpCall(url, method, target, h, body);
    return r.ok() ? *r : gateway::HttpResult{};
  };
  // A token made through the first gateway...
  auto made = call(p.url(), "POST", "/v1/tokens", p.coordinator(),
                   R"({"role":"coordinator","actor":"ci-lab06","name":"deux passerelles"})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string secret = Field(made.body, "secret"), id = Field(made.body, "id");
  ASSERT_FALSE(secret.empty());
  // ...works on the second, which revokes it; then neither takes it.
  EXPECT_EQ(call(other->url(), "GET", "/v1/tokens", secret).status, 200);
  EXPECT_EQ(call(other->url(), "DELETE", "/v1/tokens/" + id, other->coordinator).status / 100, 2);
  EXPECT_EQ(call(p.url(), "GET", "/v1/tokens", secret).status, 401);
  EXPECT_EQ(call(other->url(), "GET", "/v1/tokens", secret).status, 401);

  // The same answer (same idempotency key, same client) sent to each gateway is one answer:
  // both derive the same client key, from the salt they share.
  const std::string startup = NewUuidV7(absl::Now());
  ASSERT_TRUE(PublishStartupCreated(p.brokers(), startup).ok());
  const std::string target = absl::StrCat("/v1/startups/", startup, "/feedback");
  const std::string body =
      R"({"satisfaction":"SATISFACTION_GOOD","verbatim":"Plus simple qu'avant","idempotency_key":"clic-1"})";
  gateway::HttpResult first;
  ASSERT_TRUE(WaitFor([&] {
    first = call(p.url(), "POST", target, "", body);
    return first.status == 201;
  }, absl::Seconds(60))) << first.status << " " << first.body;
  const gateway::HttpResult again = call(other->url(), "POST", target, "", body);
  EXPECT_EQ(again.status / 100, 2) << again.body;
  EXPECT_EQ(Field(again.body, "id"), Field(first.body, "id"))
      << "the second gateway's client key differs: its answer was stored twice";
}

}  // namespace
}  // namespace pep::testing
