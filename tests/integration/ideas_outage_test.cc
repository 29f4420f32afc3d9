// Broker outage: with the broker stopped, submissions still succeed (the outbox holds their
// events); when it comes back, every event arrives.
#include <set>

#include "events/envelope.h"
#include "events/kafka.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"

namespace pep::testing {
namespace {

TEST(IdeasOutage, WritesSucceedWhileBrokerIsDownAndEventsFlowWhenItReturns) {
  KafkaBroker broker;  // our own: this test stops it
  ASSERT_TRUE(events::EnsureTopics(broker.bootstrap(), events::PepiniereTopics()).ok());
  TempDir dir;
  IdeasProcess ideas(broker.bootstrap(), dir.path());
  ideas.Start();
  const std::string challenge = ideas.OpenChallenge();
  const std::string db = dir.path() + "/ideas.db";
  ASSERT_TRUE(WaitFor([&] { return UnsentOutboxRows(db) == 0; }, absl::Seconds(30)));

  broker.Stop();
  constexpr int kIdeas = 50;
  std::set<std::string> ids;
  for (int i = 0; i < kIdeas; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    iv1::SubmitIdeaResponse resp;
    grpc::Status s = ideas.stub().SubmitIdea(
        &ctx, IdeasProcess::Idea(challenge, "Pendant la panne " + std::to_string(i)), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ids.insert(resp.idea().id());
  }
  // Nothing can have been delivered: the events wait in the outbox.
  EXPECT_EQ(UnsentOutboxRows(db), kIdeas);

  broker.Start();
  ASSERT_TRUE(WaitFor([&] { return UnsentOutboxRows(db) == 0; }, absl::Seconds(120)))
      << "outbox not drained after the broker came back; backlog=" << UnsentOutboxRows(db);
  std::set<std::string> arrived;
  ReadTopicUntil(broker.bootstrap(), "pepiniere.ideas.events", [&](const auto& rs) {
    for (const auto& r : rs) {
      if (ids.count(r.key)) arrived.insert(r.key);
    }
    return arrived.size() == ids.size();
  });
  EXPECT_EQ(arrived.size(), static_cast<size_t>(kIdeas));
  std::printf("outage test: submitted_during_outage=%d arrived_after=%zu\n", kIdeas, arrived.size());
}

}  // namespace
}  // namespace pep::testing
