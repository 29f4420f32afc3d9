// Durability of the group-commit path: clients submit feedback concurrently while pep-feedback
// is kill -9'ed and restarted; every acknowledged answer is stored after restart and reaches
// the topic once in effect (one distinct ce_id per answer; wire duplicates counted).
#include <atomic>
#include <map>
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
#include "pepiniere/incubation/v1/events.pb.h"

namespace pep::testing {
namespace {

constexpr int kKills = 4;
constexpr int kClients = 8;

TEST(FeedbackCrash, AcknowledgedAnswersSurviveKillNineAndAppearOnceOnTheTopic) {
  KafkaBroker& broker = KafkaBroker::Shared();
  ASSERT_TRUE(events::EnsureTopics(broker.bootstrap(), events::PepiniereTopics()).ok());
  // The start-up exists and is in construction: one StartupCreated on the incubation topic.
  const std::string startup = NewUuidV7(absl::Now());
  ASSERT_TRUE(PublishStartupCreated(broker.bootstrap(), startup).ok());
  TempDir dir;
  FeedbackProcess fb(broker.bootstrap(), dir.path(), {"--rate_limit_per_minute=0"});
  fb.Start();

  absl::Mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0}, failures{0};
  auto submit_one = [&](fv1::FeedbackService::Stub& stub, int c, int i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    ctx.AddMetadata("x-pep-actor", "public");
    fv1::SubmitFeedbackRequest r;
    r.set_startup_id(startup);
    r.set_satisfaction(static_cast<fv1::Satisfaction>(1 + (i % 3)));
    r.set_verbatim("réponse " + std::to_string(c) + "-" + std::to_string(i));
    fv1::Feedback f;
    ++attempts;
    grpc::Status s = stub.SubmitFeedback(&ctx, r, &f);
    if (s.ok()) {
      absl::MutexLock l(&mu);
      acked.insert(f.id());
    }
    return s;
  };
  // Wait until the read model knows the start-up (the consumer read StartupCreated).
  {
    auto stub = fv1::FeedbackService::NewStub(fb.Channel());
    ASSERT_TRUE(WaitFor([&] { return submit_one(*stub, -1, 0).ok(); }, absl::Seconds(60)));
  }
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = fv1::FeedbackService::NewStub(fb.Channel());
      for (int i = 0; !stop.load(); ++i) {
        if (!submit_one(*stub, c, i).ok()) {
          ++failures;
          absl::SleepFor(absl::Milliseconds(20));
        }
      }
    });
  }
  auto count = [&] {
    absl::MutexLock l(&mu);
    return acked.size();
  };
  for (int k = 0; k < kKills; ++k) {
    const size_t before = count();
    ASSERT_TRUE(WaitFor([&] { return count() >= before + 200; }, absl::Seconds(60)));
    fb.Kill9();
    fb.Start();
  }
  ASSERT_TRUE(WaitFor([&] { return count() >= kKills * 200 + 100; }, absl::Seconds(30)));
  stop.store(true);
  for (auto& t : clients) t.join();

  std::set<std::string> stored;
  fv1::ListFeedbackRequest lr;
  lr.set_startup_id(startup);
  lr.set_page_size(1000);
  do {
    grpc::ClientContext ctx;
    fv1::ListFeedbackResponse page;
    ASSERT_TRUE(fb.stub().ListFeedback(&ctx, lr, &page).ok());
    for (const auto& f : page.feedback()) stored.insert(f.id());
    lr.set_page_token(page.next_page_token());
  } while (!lr.page_token().empty());
  int missing = 0;
  for (const auto& id : acked) missing += stored.count(id) == 0;
  EXPECT_EQ(missing, 0);

  ASSERT_TRUE(WaitFor([&] { return UnsentOutboxRows(dir.path() + "/feedback.db") == 0; },
                      absl::Seconds(90)));
  std::map<std::string, std::set<std::string>> ce_ids;
  int wire = 0;
  ReadTopicUntil(broker.bootstrap(), "pepiniere.feedback.events", [&](const auto& rs) {
    ce_ids.clear();
    wire = 0;
    for (const auto& r : rs) {
      fv1::FeedbackReceived ev;
      if (!ev.ParseFromString(r.value) || ev.feedback().startup_id() != startup) continue;
      ++wire;
      ce_ids[r.key].insert(*events::FindHeader(r.headers, "ce_id"));
    }
    return ce_ids.size() >= stored.size();
  }, absl::Seconds(120));
  int found = 0, not_one = 0;
  for (const auto& id : acked) {
    auto it = ce_ids.find(id);
    if (it == ce_ids.end()) continue;
    ++found;
    not_one += it->second.size() != 1;
  }
  std::printf(
      "feedback crash test: kills=%d attempts=%d failed_calls=%d acked=%zu stored=%zu "
      "found_on_topic=%d wire_records=%d wire_duplicates(same ce_id)=%d committed_but_unacked=%zu\n",
      kKills, attempts.load(), failures.load(), acked.size(), stored.size(), found, wire,
      wire - static_cast<int>(ce_ids.size()), stored.size() - acked.size());
  EXPECT_EQ(found, static_cast<int>(acked.size()));
  EXPECT_EQ(not_one, 0);
  EXPECT_EQ(ce_ids.size(), stored.size());
}

}  // namespace
}  // namespace pep::testing
