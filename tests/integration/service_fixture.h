// Runs the real service binaries as child processes (free ports, temp data dirs, insecure-dev)
// against a real broker, with typed stubs and helpers to call them.
#pragma once

#include <unistd.h>

#include <atomic>
#include <memory>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "common/uuid.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "harness/harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "pepiniere/audit/v1/audit.grpc.pb.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"
#include "pepiniere/notify/v1/notify.grpc.pb.h"
#include "store/sqlite.h"

namespace pep::testing {

namespace iv1 = ::pepiniere::ideas::v1;
namespace incv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;
namespace av1 = ::pepiniere::audit::v1;
namespace nv1 = ::pepiniere::notify::v1;

// Value of a sample line in a /metrics body ("name{labels} value"); 0 when absent.
inline double Sample(const std::string& body, const std::string& series) {
  const std::string line = series + " ";
  size_t at = body.rfind(line, 0) == 0 ? 0 : body.find("\n" + line);
  if (at == std::string::npos) return 0;
  if (at != 0) ++at;  // past the newline
  return std::stod(body.substr(at + line.size()));
}

// Sum of every sample of metric family `name` in a /metrics body, whatever its labels.
inline double SampleSum(const std::string& body, const std::string& name) {
  double total = 0;
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (absl::StartsWith(line, name + "{") || absl::StartsWith(line, name + " ")) {
      total += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
    }
  }
  return total;
}

// Outbox rows of a service database not yet confirmed by Kafka (-1 if unreadable).
inline int64_t UnsentOutboxRows(const std::string& db_path) {
  auto db = store::Db::Open(db_path);
  if (!db.ok()) return -1;
  auto q = (*db)->Prepare("SELECT COUNT(*) FROM outbox WHERE sent_us IS NULL");
  if (!q.ok() || !q->Step().value_or(false)) return -1;
  return q->Int(0);
}

// Publishes a StartupCreated for `startup` (in construction) on the incubation topic, as
// pep-incubation would: pep-feedback then accepts answers for it. Returns once the broker has it.
inline absl::Status PublishStartupCreated(const std::string& brokers, const std::string& startup) {
  incv1::StartupCreated ev;
  ev.mutable_startup()->set_id(startup);
  ev.mutable_startup()->set_phase(incv1::PHASE_CONSTRUCTION);
  events::Envelope env;
  env.id = NewUuidV7(absl::Now());
  env.source = "/pepiniere/incubation";
  env.type = "pepiniere.incubation.v1.StartupCreated";
  env.subject = startup;
  env.time = env.effective_time = absl::Now();
  env.actor = "test";
  env.correlation_id = startup;
  env.aggregate_version = 1;
  absl::Status delivered = absl::UnknownError("no delivery report");
  auto p = events::Producer::Create({{"bootstrap.servers", brokers}},
                                    [&](uint64_t, const absl::Status& s) { delivered = s; });
  if (!p.ok()) return p.status();
  if (auto s = (*p)->Produce("pepiniere.incubation.events", startup, ev.SerializeAsString(),
                             events::ToHeaders(env), 1);
      !s.ok()) {
    return s;
  }
  if (auto s = (*p)->Flush(absl::Seconds(20)); !s.ok()) return s;
  return delivered;
}

// A Pépinière service binary run as a child process on free ports with a temp data dir.
class ServiceProcess {
 public:
  ServiceProcess(std::string binary, std::string brokers, std::string data_dir,
                 std::vector<std::string> extra_args = {})
      : binary_(std::move(binary)), brokers_(std::move(brokers)), data_dir_(std::move(data_dir)),
        extra_args_(std::move(extra_args)), grpc_port_(FreePort()), metrics_port_(FreePort()) {}
  // Our client connection closes first: a server shutting down waits for connected clients
  // to go away after its GOAWAY (up to several seconds).
  virtual ~ServiceProcess() { channel_.reset(); }

  // Starts the binary and waits until grpc.health.v1 says SERVING.
  void Start() {
    proc_ = std::make_unique<ChildProcess>();
    std::vector<std::string> argv = {BinaryDir() + "/" + binary_, "--grpc_port",
                                     std::to_string(grpc_port_), "--metrics_port",
                                     std::to_string(metrics_port_), "--data_dir", data_dir_,
                                     "--kafka_brokers", brokers_};
    if (gateway_key_.empty()) {
      argv.push_back("--insecure_dev");
    } else {
      argv.insert(argv.end(), {"--gateway_key", gateway_key_});
    }
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    const std::string log = log_path();
    proc_->Start(argv, {}, log);
    // Connect only once the port listens: a channel whose first attempts are refused spends
    // seconds in reconnect backoff.
    ASSERT_TRUE(WaitFor([&] { return PortAccepts(grpc_port_) || !proc_->Running(); },
                        absl::Seconds(30)));
    ASSERT_TRUE(proc_->Running()) << binary_ << " exited; see " << log;
    channel_ = Channel();
    auto health = grpc::health::v1::Health::NewStub(channel_);
    ASSERT_TRUE(WaitFor([&] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse resp;
      return health->Check(&ctx, req, &resp).ok() &&
             resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    }, absl::Seconds(30))) << binary_ << " did not become healthy; see " << log;
    OnStarted();
  }
  // Before Start: require the gateway key instead of running in --insecure_dev.
  void RequireGatewayKey(std::string key) { gateway_key_ = std::move(key); }
  // What the gateway adds to a call: its key (when the service demands one) and, unless the
  // caller named someone, a coordinator.
  void AsGateway(grpc::ClientContext& ctx, bool named) const {
    if (gateway_key_.empty()) return;
    ctx.AddMetadata("x-pep-gateway-key", gateway_key_);
    if (named) return;
    ctx.AddMetadata("x-pep-actor", "test");
    ctx.AddMetadata("x-pep-roles", "coordinator");
  }
  void Kill9() { proc_->Kill9(); }
  int Terminate() { return proc_->Terminate(); }
  bool Running() { return proc_ && proc_->Running(); }

  // A channel that reconnects quickly: the service restarts often in these tests, and gRPC's
  // default reconnect backoff (1 s, growing) would dominate their run time.
  std::shared_ptr<grpc::Channel> Channel() const {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
    return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", grpc_port_); }
  int metrics_port() const { return metrics_port_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& brokers() const { return brokers_; }
  std::string log_path() const { return data_dir_ + "/" + LogName(); }

 protected:
  virtual void OnStarted() {}
  std::string LogName() const { return binary_.substr(binary_.rfind('/') + 1) + ".log"; }
  std::shared_ptr<grpc::Channel> channel_;

 private:
  std::string binary_, brokers_, data_dir_, gateway_key_;
  std::vector<std::string> extra_args_;
  int grpc_port_, metrics_port_;
  std::unique_ptr<ChildProcess> proc_;
};

// A service process with a typed stub for `Service`, made once the process is healthy.
template <typename Service>
class StubbedProcess : public ServiceProcess {
 public:
  using ServiceProcess::ServiceProcess;
  typename Service::Stub& stub() { return *stub_; }

 protected:
  void OnStarted() override { stub_ = Service::NewStub(channel_); }

 private:
  std::unique_ptr<typename Service::Stub> stub_;
};

class IdeasProcess : public StubbedProcess<iv1::IdeaService> {
 public:
  IdeasProcess(std::string brokers, std::string data_dir, std::vector<std::string> args = {})
      : StubbedProcess("services/ideas/pep-ideas", std::move(brokers), std::move(data_dir),
                       std::move(args)) {}

  static void As(grpc::ClientContext& ctx, const std::string& actor, const std::string& roles) {
    ctx.AddMetadata("x-pep-actor", actor);
    ctx.AddMetadata("x-pep-roles", roles);
  }

  // Creates and opens a challenge with one criterion and the given quorum; returns its id.
  std::string OpenChallenge(int quorum = 1) {
    iv1::CreateChallengeRequest req;
    req.set_title("Simplification administrative");
    req.set_theme("simplification");
    auto* c = req.add_criteria();
    c->set_name("impact");
    c->set_weight(1);
    req.set_jury_quorum(quorum);
    iv1::Challenge ch;
    {
      grpc::ClientContext ctx;
      As(ctx, "coord-1", "coordinator");
      grpc::Status s = stub().CreateChallenge(&ctx, req, &ch);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    grpc::ClientContext ctx;
    As(ctx, "coord-1", "coordinator");
    iv1::ChallengeTransitionRequest open;
    open.set_challenge_id(ch.id());
    grpc::Status s = stub().OpenChallenge(&ctx, open, &ch);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return ch.id();
  }

  static iv1::SubmitIdeaRequest Idea(const std::string& challenge, const std::string& title) {
    iv1::SubmitIdeaRequest r;
    r.set_challenge_id(challenge);
    r.set_title(title);
    r.set_problem("Les usagers remplissent plusieurs formulaires pour la même aide.");
    r.set_proposal("Un formulaire unique, pré-rempli avec ce que l'administration sait déjà.");
    r.set_author_name("Camille Martin");
    r.set_department("Direction de l'action sociale");
    r.set_contact_email("camille.martin@departement06.fr");
    return r;
  }
};

class IncubationProcess : public StubbedProcess<incv1::IncubationService> {
 public:
  IncubationProcess(std::string brokers, std::string data_dir, std::vector<std::string> args = {})
      : StubbedProcess("services/incubation/pep-incubation", std::move(brokers),
                       std::move(data_dir), std::move(args)) {}
};

// pep-notify with its own consumer group (tests share a broker) and quick passes.
class NotifyProcess : public StubbedProcess<nv1::NotifyService> {
 public:
  NotifyProcess(std::string brokers, std::string data_dir, std::vector<std::string> args = {})
      : StubbedProcess("services/notify/pep-notify", std::move(brokers), std::move(data_dir),
                       WithDefaults(std::move(args))) {}
  static std::vector<std::string> WithDefaults(std::vector<std::string> args) {
    static std::atomic<int> n{0};
    const std::string group = absl::StrCat("pep-notify-test-", getpid(), "-", n++);
    std::vector<std::string> out = {"--consumer_group", group, "--consumer_instance", group + "-0",
                                    "--send_every", "100ms", "--schedule_every", "1s",
                                    // digests only when a test asks: after 8 h Paris (and on
                                    // Mondays) they used to go out by themselves mid-test
                                    "--digest_hour=-1",
                                    "--console_url", "http://console.test",
                                    // no pep-feedback unless a test names one (the default port
                                    // may be another test's)
                                    "--feedback_addr="};
    out.insert(out.end(), args.begin(), args.end());  // later flags win
    return out;
  }
  static void As(grpc::ClientContext& ctx, const std::string& actor, const std::string& roles,
                 const std::string& scopes = "") {
    ctx.AddMetadata("x-pep-actor", actor);
    ctx.AddMetadata("x-pep-roles", roles);
    if (!scopes.empty()) ctx.AddMetadata("x-pep-scope", scopes);
  }
};

class FeedbackProcess : public StubbedProcess<fv1::FeedbackService> {
 public:
  FeedbackProcess(std::string brokers, std::string data_dir, std::vector<std::string> args = {})
      : StubbedProcess("services/feedback/pep-feedback", std::move(brokers), std::move(data_dir),
                       std::move(args)) {}
};

// pep-audit on a log of its own: tests share one broker (and run two at a time), so each
// ledger gets its own log topic, sequencer id and signing key. Replicas of one ledger pass the
// same `ledger` name (and key file).
class AuditProcess : public StubbedProcess<av1::AuditService> {
 public:
  AuditProcess(std::string brokers, std::string data_dir, std::vector<std::string> args = {},
               std::string ledger = NewLedger())
      : StubbedProcess("services/audit/pep-audit", brokers, data_dir,
                       LedgerArgs(brokers, std::move(args), ledger)),
        ledger_(ledger) {}
  static std::string NewLedger() {
    static std::atomic<int> n{0};
    return absl::StrCat("t", getpid(), "-", absl::ToUnixMicros(absl::Now()) % 100000000, "-", n++);
  }
  const std::string& ledger() const { return ledger_; }
  std::string key_file() const { return KeyDir(ledger_) + "/ledger.key"; }
  std::string index_path() const { return data_dir() + "/ledger-index.db"; }
  static std::string LogTopic(const std::string& ledger) { return "pepiniere.audit.log." + ledger; }

  // Entries in the ledger (-1 when VerifyLedger fails).
  int64_t Records() {
    grpc::ClientContext ctx;
    av1::VerifyLedgerRequest req;
    av1::VerifyLedgerResponse resp;
    return stub().VerifyLedger(&ctx, req, &resp).ok() ? resp.records() : -1;
  }
  av1::VerifyLedgerResponse Verify(const std::string& subject = "") {
    grpc::ClientContext ctx;
    AsGateway(ctx, false);
    av1::VerifyLedgerRequest req;
    req.set_subject(subject);
    av1::VerifyLedgerResponse resp;
    grpc::Status s = stub().VerifyLedger(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  av1::Checkpoint Checkpoint() {
    grpc::ClientContext ctx;
    av1::Checkpoint resp;
    grpc::Status s = stub().GetCheckpoint(&ctx, av1::GetCheckpointRequest(), &resp);
    return s.ok() ? resp : av1::Checkpoint();
  }
  // ExportLedger's lines (the whole ledger when `id` is empty).
  std::vector<std::string> Export(const std::string& id = "", const std::string& roles = "") {
    grpc::ClientContext ctx;
    if (!roles.empty()) {
      ctx.AddMetadata("x-pep-actor", "test");
      ctx.AddMetadata("x-pep-roles", roles);
      if (roles == "product_team") ctx.AddMetadata("x-pep-scope", "startup:" + id);
    }
    AsGateway(ctx, !roles.empty());
    av1::ExportLedgerRequest req;
    req.set_id(id);
    auto reader = stub().ExportLedger(&ctx, req);
    std::vector<std::string> lines;
    av1::ExportLedgerLine line;
    while (reader->Read(&line)) lines.push_back(line.json());
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return lines;
  }

 private:
  static std::vector<std::string> LedgerArgs(const std::string& brokers, std::vector<std::string> args,
                                             const std::string& ledger) {
    const std::string topic = LogTopic(ledger);
    EXPECT_TRUE(events::EnsureTopics(
                    brokers, {events::TopicSpec{topic, 1, 1, {{"retention.ms", "-1"}, {"max.message.bytes", "8388608"}}}})
                    .ok());
    args.insert(args.begin(), {"--log_topic", topic, "--sequencer_id", "pep-audit-sequencer-" + ledger,
                               "--ledger_signing_key_file", KeyDir(ledger) + "/ledger.key",
                               "--ledger_create_key", "--ledger_origin", "pepiniere.test/" + ledger});
    return args;
  }
  // One key per ledger, beside the test's temporary files (replicas share it).
  static std::string KeyDir(const std::string& ledger) {
    static TempDir* keys = new TempDir();
    const std::string dir = keys->path() + "/" + ledger;
    std::filesystem::create_directories(dir);
    return dir;
  }
  std::string ledger_;
};

}  // namespace pep::testing
