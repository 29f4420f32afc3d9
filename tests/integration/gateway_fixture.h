// The whole platform behind pep-gateway, as in production: the four services require the
// gateway key (no --insecure_dev), the gateway makes a bootstrap coordinator token, and the
// test talks HTTP only.
#pragma once

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "events/kafka.h"
#include "google/protobuf/util/json_util.h"
#include "integration/oidc_fixture.h"
#include "harness/mailpit.h"
#include "harness/postgres_testing.h"
#include "integration/service_fixture.h"
#include "services/gateway/http_client.h"

namespace pep::testing {

inline std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// pepctl as a CI job runs it: `env` like "PEP_URL=… PEP_TOKEN=…", output kept in `dir`.
struct PepctlOutcome {
  int rc;
  std::string out, err;
};
inline PepctlOutcome RunPepctl(const std::string& env, const std::string& args, const std::string& dir) {
  const std::string out = dir + "/out.txt", err = dir + "/err.txt";
  const int rc = RunCommand(absl::StrCat(env, " ", BinaryDir(), "/services/gateway/pepctl ", args,
                                         " > ", out, " 2> ", err));
  return {rc, Slurp(out), Slurp(err)};
}

class Platform {
 public:
  // `feedback_args`: extra flags for pep-feedback (e.g. a fast gauge refresh); `gateway_args`
  // for pep-gateway (e.g. --trusted_proxies).
  // `sign_in`: also run the OpenID provider of deploy/local/oidc and sign people in through it
  // (Claire Martin, coordination, is a coordinator from her first sign-in).
  // `brokers`: another Kafka than the test binary's shared broker (a cluster), whose topics
  // get `replication` replicas (min.insync.replicas 2 when more than one).
  // `replicas` > 1: every service runs that many processes. pep-ideas', pep-incubation's and
  // pep-feedback's replicas share a PostgreSQL database per service (the test's PostgreSQL
  // server); pep-audit's share the ledger (one sequencer, elected; each replica its own index);
  // the gateways share a database too (tokens, sessions, the client-key salt) and each is given
  // every service replica's address (round robin). GatewayUrls() lists the gateways.
  // `incubation_args`: extra flags for pep-incubation (e.g. --clock_offset_file).
  explicit Platform(std::vector<std::string> feedback_args = {},
                    std::vector<std::string> gateway_args = {}, bool sign_in = false,
                    std::string brokers = "", int replication = 1, int replicas = 1,
                    std::vector<std::string> incubation_args = {}) {
    brokers_ = brokers.empty() ? KafkaBroker::Shared().bootstrap() : brokers;
    EXPECT_TRUE(events::EnsureTopics(brokers_, events::PepiniereTopics(6, replication)).ok());
    std::vector<std::string> db_args[3];
    if (replicas > 1) {
      const char* names[3] = {"ideas", "incubation", "feedback"};
      for (int i = 0; i < 3; ++i) {
        db_args[i] = {"--database_url", PostgresServer::Shared().NewDatabase(names[i])};
      }
    }
    auto with_db = [&](std::vector<std::string> args, int i) {
      args.insert(args.end(), db_args[i].begin(), db_args[i].end());
      return args;
    };
    ideas_ = std::make_unique<IdeasProcess>(brokers_, dirs_[0].path(), with_db({}, 0));
    incubation_ = std::make_unique<IncubationProcess>(brokers_, dirs_[1].path(), with_db(incubation_args, 1));
    feedback_ = std::make_unique<FeedbackProcess>(brokers_, dirs_[2].path(), with_db(feedback_args, 2));
    replicas_[0].push_back(ideas_.get());
    replicas_[1].push_back(incubation_.get());
    replicas_[2].push_back(feedback_.get());
    for (int r = 1; r < replicas; ++r) {
      for (int i = 0; i < 3; ++i) replica_dirs_.push_back(std::make_unique<TempDir>());
      const size_t d = replica_dirs_.size() - 3;
      extra_replicas_.push_back(std::make_unique<IdeasProcess>(
          brokers_, replica_dirs_[d]->path(), with_db({}, 0)));
      replicas_[0].push_back(extra_replicas_.back().get());
      // Members of one consumer group, each under its own static member id (as the chart
      // gives each pod its name): the same id twice would fence one of them.
      auto member = [&](std::vector<std::string> args, const std::string& svc) {
        args.insert(args.end(), {"--consumer_instance", absl::StrCat(svc, "-", r)});
        return args;
      };
      extra_replicas_.push_back(std::make_unique<IncubationProcess>(
          brokers_, replica_dirs_[d + 1]->path(), member(with_db({}, 1), "pep-incubation")));
      replicas_[1].push_back(extra_replicas_.back().get());
      extra_replicas_.push_back(std::make_unique<FeedbackProcess>(
          brokers_, replica_dirs_[d + 2]->path(), member(with_db(feedback_args, 2), "pep-feedback")));
      replicas_[2].push_back(extra_replicas_.back().get());
    }
    if (replicas > 1 && std::find(gateway_args.begin(), gateway_args.end(), "--database_url") ==
                            gateway_args.end()) {
      gateway_args.insert(gateway_args.end(),
                          {"--database_url", PostgresServer::Shared().NewDatabase("gateway")});
    }
    const std::string ledger = AuditProcess::NewLedger();
    if (replication > 1) {  // made here first: AuditProcess would make it with one replica
      EXPECT_TRUE(events::EnsureTopics(
                      brokers_, {events::TopicSpec{AuditProcess::LogTopic(ledger), 1, replication,
                                                   {{"retention.ms", "-1"},
                                                    {"max.message.bytes", "8388608"},
                                                    {"min.insync.replicas", "2"}}}})
                      .ok());
    }
    audit_ = std::make_unique<AuditProcess>(brokers_, dirs_[3].path(), std::vector<std::string>{}, ledger);
    audit_replicas_.push_back(audit_.get());
    for (int r = 1; r < replicas; ++r) {  // the same ledger (log topic and signing key)
      replica_dirs_.push_back(std::make_unique<TempDir>());
      extra_audits_.push_back(std::make_unique<AuditProcess>(
          brokers_, replica_dirs_.back()->path(), std::vector<std::string>{}, ledger));
      audit_replicas_.push_back(extra_audits_.back().get());
    }
    std::vector<ServiceProcess*> all = ServiceReplicas();
    all.insert(all.end(), audit_replicas_.begin(), audit_replicas_.end());
    for (ServiceProcess* s : all) {
      s->RequireGatewayKey(kKey);
      s->Start();
    }
    http_port_ = FreePort();
    gateway_metrics_port_ = FreePort();
    // pep-notify (one process) with a real SMTP server; links in its e-mails lead to this gateway.
    mailpit_ = std::make_unique<Mailpit>();
    notify_ = std::make_unique<NotifyProcess>(
        brokers_, notify_dir_.path(),
        std::vector<std::string>{"--smtp_url", mailpit_->smtp_url(), "--console_url", url(),
                                 "--ideas_addr", ideas_->address(), "--feedback_addr",
                                 feedback_->address()});
    notify_->RequireGatewayKey(kKey);
    notify_->Start();
    if (sign_in) {
      provider_ = std::make_unique<OidcProvider>(url() + "/auth/callback", url() + "/");
      for (const std::string& a :
           {std::string("--oidc_issuer"), provider_->issuer(), std::string("--oidc_client_id"),
            std::string("pepiniere"), std::string("--oidc_client_secret_file"),
            provider_->secret_file(), std::string("--oidc_redirect_url"), url() + "/auth/callback",
            std::string("--oidc_acr_values"), std::string("eidas1"),
            std::string("--oidc_coordinator_emails"), std::string(kCoordinatorEmail)}) {
        gateway_args.push_back(a);
      }
    }
    gateway_argv_ = GatewayArgv(http_port_, gateway_metrics_port_, dirs_[4].path(), gateway_args);
    StartGateway(0);
    std::ifstream f(dirs_[4].path() + "/coordinator.token");
    std::getline(f, coordinator_);
    for (int r = 1; r < replicas; ++r) {
      extra_gateways_.push_back(AnotherGateway(gateway_args));
      WaitGatewayReady(r);
    }
  }

  // Every gateway's base URL (the first is url()).
  std::vector<std::string> GatewayUrls() const {
    std::vector<std::string> out = {url()};
    for (const auto& g : extra_gateways_) out.push_back(g->url());
    return out;
  }
  // Gateway i (0: the first) killed with SIGKILL; started again with the same command line,
  // returning once it answers /readyz 200.
  void KillGateway(size_t i) { Gateway(i).proc.Kill9(); }
  void StartGateway(size_t i) {
    GatewayParts g = Gateway(i);
    g.proc.Start(g.argv, {}, g.dir + "/pep-gateway.log");
    WaitGatewayReady(i);
  }

  // pep-gateway's command line in front of this platform's services.
  std::vector<std::string> GatewayArgv(int http_port, int metrics_port, const std::string& dir,
                                       const std::vector<std::string>& extra,
                                       const std::string& audit_addr = "") const {
    std::vector<std::string> argv = {
        BinaryDir() + "/services/gateway/pep-gateway", "--http_port", std::to_string(http_port),
        "--metrics_port", std::to_string(metrics_port), "--data_dir", dir,
        "--ideas_addr", Addresses(0), "--incubation_addr", Addresses(1),
        "--feedback_addr", Addresses(2),
        "--audit_addr", audit_addr.empty() ? AuditAddresses() : audit_addr,
        "--notify_addr", notify_->address(),
        "--gateway_key", kKey, "--bootstrap_token_file", dir + "/coordinator.token",
        "--kafka_brokers", brokers_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // A second gateway before the same services (its own data dir, salt and coordinator token).
  struct OtherGateway {
    TempDir dir;
    ChildProcess proc;
    std::vector<std::string> argv;
    int port = 0;
    std::string coordinator;
    std::string url(const std::string& scheme = "http") const {
      return absl::StrCat(scheme, "://127.0.0.1:", port);
    }
  };
  std::unique_ptr<OtherGateway> AnotherGateway(const std::vector<std::string>& extra,
                                               const std::string& audit_addr = "") {
    auto g = std::make_unique<OtherGateway>();
    g->port = FreePort();
    g->argv = GatewayArgv(g->port, FreePort(), g->dir.path(), extra, audit_addr);
    g->proc.Start(g->argv, {}, g->dir.path() + "/pep-gateway.log");
    EXPECT_TRUE(WaitFor([&] { return PortAccepts(g->port); }, absl::Seconds(30)))
        << "gateway not listening; see " << g->dir.path();
    EXPECT_TRUE(WaitFor([&] {
      std::ifstream f(g->dir.path() + "/coordinator.token");
      return static_cast<bool>(std::getline(f, g->coordinator)) && !g->coordinator.empty();
    }, absl::Seconds(10)));
    return g;
  }

  gateway::HttpResult Call(const std::string& method, const std::string& target,
                           const std::string& token, const std::string& body = "",
                           const std::string& content_type = "application/json") {
    std::map<std::string, std::string> h;
    if (!token.empty()) h["Authorization"] = "Bearer " + token;
    if (!body.empty()) h["Content-Type"] = content_type;
    auto r = gateway::HttpCall(url(), method, target, h, body);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : gateway::HttpResult{};
  }
  static gateway::HttpResult GetFrom(const std::string& base, const std::string& target) {
    auto r = gateway::HttpCall(base, "GET", target, {});
    return r.ok() ? *r : gateway::HttpResult{};
  }
  gateway::HttpResult Get(const std::string& target, const std::string& token) {
    auto r = gateway::HttpCall(url(), "GET", target,
                               token.empty() ? std::map<std::string, std::string>{}
                                             : std::map<std::string, std::string>{
                                                   {"Authorization", "Bearer " + token}});
    return r.ok() ? *r : gateway::HttpResult{};
  }
  // POSTs and parses the answer into M (expecting 2xx).
  template <typename M>
  M Post(const std::string& target, const std::string& token, const std::string& body) {
    gateway::HttpResult r = Call("POST", target, token, body);
    EXPECT_TRUE(r.status >= 200 && r.status < 300) << target << ": " << r.status << " " << r.body;
    M m;
    google::protobuf::util::JsonParseOptions o;
    o.ignore_unknown_fields = true;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &m, o).ok()) << r.body;
    return m;
  }
  // A new token's secret.
  std::string Token(const std::string& role, const std::string& actor, const std::string& scope = "") {
    gateway::HttpResult r = Call("POST", "/v1/tokens", coordinator_,
                                 absl::StrCat(R"({"role":")", role, R"(","actor":")", actor,
                                              R"(","scope":")", scope, R"(","name":"test"})"));
    EXPECT_EQ(r.status, 201) << r.body;
    const size_t at = r.body.find("\"secret\":\"");
    return at == std::string::npos ? "" : r.body.substr(at + 10, r.body.find('"', at + 10) - at - 10);
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", http_port_); }

  // Signs `email` in through /auth/login and the provider's form, as a browser does; the
  // returned browser holds the session cookie. nullptr when the sign-in did not end at the console.
  std::unique_ptr<Browser> SignIn(const std::string& email, const std::string& password) {
    auto b = std::make_unique<Browser>(provider_->issuer());
    std::string to_provider;
    b->Follow(url() + "/auth/login", url(), &to_provider);
    EXPECT_TRUE(absl::StartsWith(to_provider, provider_->issuer())) << to_provider;
    const std::string back = b->LogInAtProvider(to_provider, email, password);
    EXPECT_TRUE(absl::StartsWith(back, url() + "/auth/callback")) << back;
    if (!absl::StartsWith(back, url() + "/auth/callback")) return nullptr;
    gateway::HttpResult landed = b->Follow(back, url());
    EXPECT_EQ(landed.status, 200) << landed.body.substr(0, 300);
    return landed.status == 200 ? std::move(b) : nullptr;
  }
  // A call from the console's own page: the session cookie, and (for changes) this site's
  // Origin, as the browser sends it.
  gateway::HttpResult As(Browser& b, const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::string& content_type = "application/json") {
    std::map<std::string, std::string> h;
    if (method != "GET") h["Origin"] = url();
    if (!body.empty()) h["Content-Type"] = content_type;
    auto r = b.http().Call(url(), method, target, h, body);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : gateway::HttpResult{};
  }
  OidcProvider& provider() { return *provider_; }
  static constexpr char kCoordinatorEmail[] = "claire.martin@departement06.fr";
  const std::string& coordinator() const { return coordinator_; }
  int gateway_metrics_port() const { return gateway_metrics_port_; }
  AuditProcess& audit() { return *audit_; }
  FeedbackProcess& feedback() { return *feedback_; }
  int http_port() const { return http_port_; }
  std::string GatewayLog(size_t i = 0) { return FileTail(Gateway(i).dir + "/pep-gateway.log", 1 << 20); }
  IdeasProcess& ideas() { return *ideas_; }
  NotifyProcess& notify() { return *notify_; }
  Mailpit& mailpit() { return *mailpit_; }
  // job name -> metrics port, as Prometheus scrapes them.
  std::map<std::string, int> MetricsPorts() const {
    return {{"pep-gateway", gateway_metrics_port_},
            {"pep-ideas", ideas_->metrics_port()},
            {"pep-incubation", incubation_->metrics_port()},
            {"pep-feedback", feedback_->metrics_port()},
            {"pep-audit", audit_->metrics_port()},
            {"pep-notify", notify_->metrics_port()}};
  }

  // pep-audit's processes (one unless `replicas`); audit() is the first.
  const std::vector<AuditProcess*>& AuditReplicas() const { return audit_replicas_; }
  // Every process of pep-ideas, pep-incubation and pep-feedback (one each unless `replicas`).
  std::vector<ServiceProcess*> ServiceReplicas() const {
    std::vector<ServiceProcess*> out;
    for (const auto& r : replicas_) out.insert(out.end(), r.begin(), r.end());
    return out;
  }

  static constexpr char kKey[] = "test-gateway-key-0123456789";
  const std::string& brokers() const { return brokers_; }
  // The ledger's published verifier key (GET /v1/ledger/checkpoint, no token): "" before the
  // first checkpoint.
  std::string LedgerKey() {
    gateway::HttpResult r = Get("/v1/ledger/checkpoint", "");
    constexpr std::string_view kField = "\"verifier_key\":\"";
    const size_t at = r.body.find(kField);
    if (r.status != 200 || at == std::string::npos) return "";
    const size_t from = at + kField.size();
    return r.body.substr(from, r.body.find('"', from) - from);
  }

 private:
  // The --<service>_addr of service i (0 ideas, 1 incubation, 2 feedback): every replica's.
  std::string Addresses(int i) const { return JoinAddresses(replicas_[i]); }
  std::string AuditAddresses() const { return JoinAddresses(audit_replicas_); }
  template <typename Process>
  static std::string JoinAddresses(const std::vector<Process*>& processes) {
    std::vector<std::string> a;
    for (const Process* p : processes) a.push_back(p->address());
    return absl::StrJoin(a, ",");
  }
  // Gateway i's process, command line and data dir (0: the first, the others from AnotherGateway).
  struct GatewayParts {
    ChildProcess& proc;
    const std::vector<std::string>& argv;
    std::string dir;
  };
  GatewayParts Gateway(size_t i) {
    if (i == 0) return {gateway_, gateway_argv_, dirs_[4].path()};
    OtherGateway& g = *extra_gateways_.at(i - 1);
    return {g.proc, g.argv, g.dir.path()};
  }
  void WaitGatewayReady(size_t i) {
    const std::string base = GatewayUrls().at(i);
    EXPECT_TRUE(WaitFor([&] { return GetFrom(base, "/readyz").status == 200; }, absl::Seconds(30)))
        << "gateway " << i << " not ready; its log:\n" << FileTail(Gateway(i).dir + "/pep-gateway.log");
  }

  std::string brokers_;
  TempDir dirs_[5];
  std::vector<std::unique_ptr<TempDir>> replica_dirs_;
  std::vector<std::unique_ptr<ServiceProcess>> extra_replicas_;
  std::vector<ServiceProcess*> replicas_[3];
  std::unique_ptr<IdeasProcess> ideas_;
  std::unique_ptr<IncubationProcess> incubation_;
  std::unique_ptr<FeedbackProcess> feedback_;
  std::unique_ptr<AuditProcess> audit_;
  std::vector<std::unique_ptr<AuditProcess>> extra_audits_;
  TempDir notify_dir_;
  std::unique_ptr<Mailpit> mailpit_;
  std::unique_ptr<NotifyProcess> notify_;
  std::vector<AuditProcess*> audit_replicas_;
  std::unique_ptr<OidcProvider> provider_;
  ChildProcess gateway_;
  std::vector<std::string> gateway_argv_;
  std::vector<std::unique_ptr<OtherGateway>> extra_gateways_;
  int http_port_ = 0, gateway_metrics_port_ = 0;
  std::string coordinator_;
};

}  // namespace pep::testing
