// pep-feedback-bench: in one process run, on this machine, drives (a) a no-op gRPC echo
// service and (b) pep-feedback's SubmitFeedback (durable: group commit, WAL,
// synchronous=FULL, outbox rows included) with 1, 16 and 64 requests in flight, and prints
// throughput and p50/p99 latency for both and their ratio.
// Each level runs `seconds` rounds of one second per side, echo and submit alternating.
// Usage: pep-feedback-bench [seconds_per_side=3]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/uuid.h"
#include "grpcpp/grpcpp.h"
#include "pepiniere/bench/v1/echo.grpc.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "prometheus/registry.h"
#include "server/grpc_server.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"

namespace {

namespace bv1 = ::pepiniere::bench::v1;
namespace fv1 = ::pepiniere::feedback::v1;

class NoopEcho final : public bv1::EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const bv1::EchoRequest* req,
                                 bv1::EchoResponse* resp) override {
    resp->set_payload(req->payload());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

struct Result {
  double rps = 0, p50_ms = 0, p99_ms = 0;
  int errors = 0;
  std::vector<double> latencies;  // ms, of the calls inside the measured window
  double seconds = 0;             // measured window

  // Adds another round of the same side (rounds alternate echo and submit: see main).
  void Merge(Result&& o) {
    errors += o.errors;
    seconds += o.seconds;
    latencies.insert(latencies.end(), o.latencies.begin(), o.latencies.end());
    std::sort(latencies.begin(), latencies.end());
    rps = seconds > 0 ? latencies.size() / seconds : 0;
    if (!latencies.empty()) {
      p50_ms = latencies[latencies.size() / 2];
      p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
    }
  }
};

// Keeps `inflight` calls going for `duration`; `issue(done)` starts one call and runs `done`.
template <typename Issue>
Result Drive(int inflight, absl::Duration duration, Issue issue) {
  absl::Mutex mu;
  std::vector<double> latencies;
  std::atomic<int> errors{0}, active{0};
  std::atomic<bool> stop{false};
  absl::Time measure_from = absl::Now() + absl::Milliseconds(300);  // warm-up excluded
  absl::Time end = measure_from + duration;
  absl::Notification all_done;
  std::function<void()> loop;
  loop = [&] {
    if (stop.load() || absl::Now() >= end) {
      if (--active == 0) all_done.Notify();
      return;
    }
    const absl::Time t0 = absl::Now();
    issue([&, t0](bool ok) {
      const absl::Time t1 = absl::Now();
      if (!ok) ++errors;
      if (t0 >= measure_from && t1 <= end) {
        absl::MutexLock l(&mu);
        latencies.push_back(absl::ToDoubleMilliseconds(t1 - t0));
      }
      loop();
    });
  };
  active = inflight;
  for (int i = 0; i < inflight; ++i) loop();
  all_done.WaitForNotification();
  Result r;
  r.latencies = std::move(latencies);
  r.seconds = absl::ToDoubleSeconds(duration);
  r.errors = errors.load();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  // As in the services' main(): Debian's Abseil keeps mutex deadlock detection on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const absl::Duration per_run = absl::Seconds(argc > 1 ? std::atoi(argv[1]) : 3);
  const std::string dir =
      (std::filesystem::temp_directory_path() / absl::StrCat("pep-feedback-bench-", getpid())).string();
  std::filesystem::create_directories(dir);

  prometheus::Registry registry;
  pep::telemetry::GrpcServerMetrics grpc_metrics(registry);
  NoopEcho echo;
  auto echo_server = pep::server::GrpcServer::Start(&echo, {.port = 0}, grpc_metrics);

  auto store = pep::feedback::FeedbackStore::Open(dir + "/feedback.db", pep::SystemClock::Get());
  if (!store.ok()) return 1;
  (*store)->StartWriter(nullptr);
  pep::feedback::FeedbackMetrics fm(registry);
  pep::feedback::FeedbackService svc(**store, pep::SystemClock::Get(), fm,
                                     {.auth = {.insecure_dev = true}, .rate_limit_per_minute = 0});
  (void)svc.Init();
  const std::string startup = pep::NewUuidV7(absl::Now());
  {
    pepiniere::incubation::v1::StartupCreated ev;
    ev.mutable_startup()->set_id(startup);
    ev.mutable_startup()->set_phase(pepiniere::incubation::v1::PHASE_CONSTRUCTION);
    pep::events::Record rec;
    rec.topic = "pepiniere.incubation.events";
    rec.value = ev.SerializeAsString();
    pep::events::Envelope env;
    env.id = pep::NewUuidV7(absl::Now());
    env.type = "pepiniere.incubation.v1.StartupCreated";
    env.correlation_id = startup;
    if (!svc.HandleIncubationEvent(rec, env).ok()) return 1;
  }
  auto fb_server = pep::server::GrpcServer::Start(&svc, {.port = 0}, grpc_metrics);
  if (!echo_server.ok() || !fb_server.ok()) return 1;

  auto echo_stub = bv1::EchoService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*echo_server)->port()), grpc::InsecureChannelCredentials()));
  auto fb_stub = fv1::FeedbackService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*fb_server)->port()), grpc::InsecureChannelCredentials()));

  fv1::SubmitFeedbackRequest fb_req;
  fb_req.set_startup_id(startup);
  fb_req.set_satisfaction(fv1::SATISFACTION_GOOD);
  fb_req.set_clarity(4);
  fb_req.set_nps(9);
  fb_req.add_help()->set_channel(fv1::HELP_CHANNEL_NO_HELP_NEEDED);
  fb_req.set_verbatim("Démarche rapide, j'ai reçu la réponse en deux jours. Merci !");
  bv1::EchoRequest echo_req;
  echo_req.set_payload(fb_req.SerializeAsString());  // same bytes on the wire

  std::printf("in_flight  echo_rps  echo_p50_ms  echo_p99_ms  submit_rps  submit_p50_ms  submit_p99_ms  ratio  batches\n");
  // PEP_BENCH_ONLY=echo|submit runs one side only (to profile it alone with perf stat).
  const char* only_env = std::getenv("PEP_BENCH_ONLY");
  const std::string only = only_env ? only_env : "";
  std::vector<int> levels = {1, 16, 64};
  if (const char* l = std::getenv("PEP_BENCH_INFLIGHT")) levels = {std::atoi(l)};
  auto echo_call = [&](std::function<void(bool)> done) {
    auto* ctx = new grpc::ClientContext();
    auto* resp = new bv1::EchoResponse();
    echo_stub->async()->Echo(ctx, &echo_req, resp, [ctx, resp, done](grpc::Status s) {
      delete ctx;
      delete resp;
      done(s.ok());
    });
  };
  auto submit_call = [&](std::function<void(bool)> done) {
    auto* ctx = new grpc::ClientContext();
    auto* resp = new fv1::Feedback();
    fb_stub->async()->SubmitFeedback(ctx, &fb_req, resp, [ctx, resp, done](grpc::Status s) {
      delete ctx;
      delete resp;
      done(s.ok());
    });
  };
  // Each level alternates echo and submit rounds of one second, so that a slower spell of this
  // shared machine falls on both sides alike rather than on whichever ran during it.
  const int rounds = std::max<int64_t>(1, absl::ToInt64Seconds(per_run));
  for (int inflight : levels) {
    Result e, f;
    const int64_t batches_before = (*store)->batches();
    for (int round = 0; round < rounds; ++round) {
      if (only != "submit") e.Merge(Drive(inflight, absl::Seconds(1), echo_call));
      if (only != "echo") f.Merge(Drive(inflight, absl::Seconds(1), submit_call));
    }
    const int64_t batches = (*store)->batches() - batches_before;
    std::printf("%9d  %8.0f  %11.3f  %11.3f  %10.0f  %13.3f  %13.3f  %4.0f%%  %7lld%s\n", inflight,
                e.rps, e.p50_ms, e.p99_ms, f.rps, f.p50_ms, f.p99_ms, 100.0 * f.rps / e.rps,
                static_cast<long long>(batches), (e.errors + f.errors) ? "  (errors!)" : "");
    std::fflush(stdout);
  }
  (*fb_server)->Shutdown(absl::Seconds(2));
  (*echo_server)->Shutdown(absl::Seconds(2));
  (*store)->StopWriter();
  std::filesystem::remove_all(dir);
  pep::server::ExitAfterOrderlyStop();
}
