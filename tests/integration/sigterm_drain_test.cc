// A SIGTERM under load loses nothing (issue 16, part 6): each service with an outbox is
// stopped with SIGTERM while eight clients write to it; it must exit 0 within its grace, and
// every write it acknowledged — those answered while it was stopping included — must already
// be on its topic when the process is gone, without a restart to publish the rest. That holds
// only if ServiceMain stops the parts in reverse: the server drains its in-flight calls before
// the relay drains the outbox.
#include <atomic>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/uuid.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"

namespace pep::testing {
namespace {

constexpr int kClients = 8;

// One write to a service: the id it acknowledged, or nullopt when refused.
using Write = std::function<std::optional<std::string>(const std::shared_ptr<grpc::Channel>&, int client, int n)>;
// The id a record of the service's topic carries for the write it publishes (empty: another record).
using IdOf = std::function<std::string(const events::Record&)>;

struct Outcome {
  size_t acked = 0, acked_after_sigterm = 0, found = 0;
  int exit_status = -1;
};

// Writes from kClients threads until `warm_up` are acknowledged, sends SIGTERM, waits for the
// exit, then reads the topic: the service is gone, so what is there is what it published.
Outcome WriteThenTerminate(ServiceProcess& svc, const Write& write, const std::string& topic,
                           const IdOf& id_of, size_t warm_up = 400) {
  absl::Mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false}, terminating{false};
  std::atomic<size_t> after_sigterm{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto channel = svc.Channel();
      for (int i = 0; !stop.load(); ++i) {
        auto id = write(channel, c, i);
        const bool late = terminating.load();  // answered once the stop had begun
        if (!id) {
          if (terminating.load()) absl::SleepFor(absl::Milliseconds(10));  // refused while stopping
          continue;
        }
        absl::MutexLock l(&mu);
        acked.insert(*id);
        if (late) ++after_sigterm;
      }
    });
  }
  auto count = [&] {
    absl::MutexLock l(&mu);
    return acked.size();
  };
  // A service that dies under the load (a sanitizer report, a crash) ends the wait at once.
  EXPECT_TRUE(WaitFor([&] { return count() >= warm_up || !svc.Running(); }, absl::Seconds(120)));
  EXPECT_TRUE(svc.Running()) << "the service exited under load; its log ends with:\n"
                             << FileTail(svc.log_path());
  Outcome o;
  terminating.store(true);
  o.exit_status = svc.Terminate();
  stop.store(true);
  for (auto& t : clients) t.join();
  o.acked = acked.size();
  o.acked_after_sigterm = after_sigterm.load();

  std::set<std::string> on_topic;
  auto count_found = [&](const std::vector<events::Record>& rs) {
    on_topic.clear();
    for (const auto& r : rs) {
      std::string id = id_of(r);
      if (!id.empty()) on_topic.insert(std::move(id));
    }
    size_t found = 0;
    for (const auto& id : acked) found += on_topic.count(id);
    return found;
  };
  // Waits for the reader to catch up with the topic, not for the service (which is gone).
  ReadTopicUntil(svc.brokers(), topic, [&](const auto& rs) { return count_found(rs) == acked.size(); },
                 absl::Seconds(30));
  for (const auto& id : acked) o.found += on_topic.count(id);
  std::printf("%s: acked %zu (of which %zu answered after SIGTERM was sent), on the topic %zu, exit %d\n",
              topic.c_str(), o.acked, o.acked_after_sigterm, o.found, o.exit_status);
  return o;
}

class SigtermDrain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(events::EnsureTopics(KafkaBroker::Shared().bootstrap(), events::PepiniereTopics()).ok());
  }
  std::string brokers() { return KafkaBroker::Shared().bootstrap(); }
  void ExpectNothingLost(const Outcome& o) {
    EXPECT_EQ(o.exit_status, 0) << "the service did not stop within its grace";
    EXPECT_GT(o.acked, 0u);
    EXPECT_EQ(o.found, o.acked) << "acknowledged writes missing from the topic after the stop";
  }
};

TEST_F(SigtermDrain, IdeasPublishesEveryAcknowledgedSubmission) {
  TempDir dir;
  IdeasProcess ideas(brokers(), dir.path());
  ideas.Start();
  const std::string challenge = ideas.OpenChallenge();
  Outcome o = WriteThenTerminate(
      ideas,
      [&](const std::shared_ptr<grpc::Channel>& ch, int c, int i) -> std::optional<std::string> {
        auto stub = iv1::IdeaService::NewStub(ch);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        IdeasProcess::As(ctx, absl::StrCat("agent-", c), "agent");
        iv1::SubmitIdeaResponse resp;
        auto req = IdeasProcess::Idea(challenge, absl::StrCat("Idée ", c, "-", i, " pour simplifier"));
        if (!stub->SubmitIdea(&ctx, req, &resp).ok()) return std::nullopt;
        return resp.idea().id();
      },
      "pepiniere.ideas.events",
      [](const events::Record& r) -> std::string {
        auto type = events::FindHeader(r.headers, "ce_type");
        return type && *type == "pepiniere.ideas.v1.IdeaSubmitted" ? r.key : "";
      });
  ExpectNothingLost(o);
}

TEST_F(SigtermDrain, IncubationPublishesEveryAcknowledgedStartup) {
  TempDir dir;
  IncubationProcess inc(brokers(), dir.path());
  inc.Start();
  Outcome o = WriteThenTerminate(
      inc,
      [&](const std::shared_ptr<grpc::Channel>& ch, int c, int i) -> std::optional<std::string> {
        auto stub = incv1::IncubationService::NewStub(ch);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        ctx.AddMetadata("x-pep-actor", "coord");
        ctx.AddMetadata("x-pep-roles", "coordinator");
        incv1::CreateStartupRequest req;
        req.set_name(absl::StrCat("Start-up ", c, "-", i, " ", getpid()));
        req.set_mission("S'arrêter sans rien perdre");
        req.set_incubator("lab06");
        incv1::Startup out;
        if (!stub->CreateStartup(&ctx, req, &out).ok()) return std::nullopt;
        return out.id();
      },
      "pepiniere.incubation.events",
      [](const events::Record& r) -> std::string {
        auto type = events::FindHeader(r.headers, "ce_type");
        return type && *type == "pepiniere.incubation.v1.StartupCreated" ? r.key : "";
      });
  ExpectNothingLost(o);
}

TEST_F(SigtermDrain, FeedbackPublishesEveryAcknowledgedAnswer) {
  // The start-up exists and is in construction: one StartupCreated on the incubation topic.
  const std::string startup = NewUuidV7(absl::Now());
  ASSERT_TRUE(PublishStartupCreated(brokers(), startup).ok());
  TempDir dir;
  FeedbackProcess fb(brokers(), dir.path(), {"--rate_limit_per_minute=0"});
  fb.Start();
  auto submit = [&](const std::shared_ptr<grpc::Channel>& ch, int c, int i) -> std::optional<std::string> {
    auto stub = fv1::FeedbackService::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ctx.AddMetadata("x-pep-actor", "public");
    fv1::SubmitFeedbackRequest r;
    r.set_startup_id(startup);
    r.set_satisfaction(static_cast<fv1::Satisfaction>(1 + (i % 3)));
    r.set_verbatim(absl::StrCat("réponse ", c, "-", i));
    fv1::Feedback f;
    if (!stub->SubmitFeedback(&ctx, r, &f).ok()) return std::nullopt;
    return f.id();
  };
  // The read model knows the start-up once the consumer has read StartupCreated.
  ASSERT_TRUE(WaitFor([&] { return submit(fb.Channel(), -1, 0).has_value(); }, absl::Seconds(60)));
  Outcome o = WriteThenTerminate(
      fb, submit, "pepiniere.feedback.events",
      [&](const events::Record& r) -> std::string {
        fv1::FeedbackReceived ev;
        if (!ev.ParseFromString(r.value) || ev.feedback().startup_id() != startup) return "";
        return ev.feedback().id();
      },
      2000);
  ExpectNothingLost(o);
}

}  // namespace
}  // namespace pep::testing
