// Crash test: clients submit ideas concurrently while pep-ideas is kill -9'ed and restarted
// several times. Afterwards every acknowledged idea exists, and each has exactly one distinct
// IdeaSubmitted ce_id on the topic (the same ce_id repeated on the wire is allowed and counted).
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/ideas/v1/events.pb.h"

namespace pep::testing {
namespace {

constexpr int kKills = 5;
constexpr int kClients = 4;

TEST(IdeasCrash, AcknowledgedIdeasSurviveKillNineAndAppearOnceOnTheTopic) {
  KafkaBroker& broker = KafkaBroker::Shared();
  ASSERT_TRUE(events::EnsureTopics(broker.bootstrap(), events::PepiniereTopics()).ok());
  TempDir dir;
  IdeasProcess ideas(broker.bootstrap(), dir.path());
  ideas.Start();
  const std::string challenge = ideas.OpenChallenge();

  absl::Mutex mu;
  std::set<std::string> acked;  // idea ids whose SubmitIdea returned OK
  std::atomic<int> attempts{0}, failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto channel = ideas.Channel();
      auto stub = iv1::IdeaService::NewStub(channel);
      for (int i = 0; !stop.load(); ++i) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        IdeasProcess::As(ctx, "agent-" + std::to_string(c), "agent");
        iv1::SubmitIdeaResponse resp;
        ++attempts;
        grpc::Status s = stub->SubmitIdea(
            &ctx, IdeasProcess::Idea(challenge, "Idée " + std::to_string(c) + "-" + std::to_string(i)),
            &resp);
        if (s.ok()) {
          absl::MutexLock l(&mu);
          acked.insert(resp.idea().id());
        } else {
          ++failures;  // the server died under this call: unknown outcome, not acknowledged
          absl::SleepFor(absl::Milliseconds(20));
        }
      }
    });
  }
  auto acked_count = [&] {
    absl::MutexLock l(&mu);
    return acked.size();
  };
  for (int k = 0; k < kKills; ++k) {
    const size_t before = acked_count();
    // Let the clients make progress on this incarnation before killing it.
    ASSERT_TRUE(WaitFor([&] { return acked_count() >= before + 40; }, absl::Seconds(60)));
    ideas.Kill9();
    ideas.Start();
  }
  ASSERT_TRUE(WaitFor([&] { return acked_count() >= 40; }, absl::Seconds(10)));
  stop.store(true);
  for (auto& t : clients) t.join();

  // Every acknowledged idea is stored.
  std::set<std::string> stored;
  iv1::ListIdeasRequest list;
  list.set_challenge_id(challenge);
  list.set_page_size(500);
  do {
    grpc::ClientContext ctx;
    iv1::ListIdeasResponse page;
    ASSERT_TRUE(ideas.stub().ListIdeas(&ctx, list, &page).ok());
    for (const auto& i : page.ideas()) stored.insert(i.id());
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  int missing_in_db = 0;
  for (const auto& id : acked) missing_in_db += stored.count(id) == 0;
  EXPECT_EQ(missing_in_db, 0);

  // The relay drains the outbox; then every stored idea's event is on the topic.
  ASSERT_TRUE(WaitFor([&] { return UnsentOutboxRows(dir.path() + "/ideas.db") == 0; },
                      absl::Seconds(60)));
  std::map<std::string, std::set<std::string>> ce_ids_by_idea;
  int wire_records = 0;
  ReadTopicUntil(broker.bootstrap(), "pepiniere.ideas.events", [&](const auto& rs) {
    ce_ids_by_idea.clear();
    wire_records = 0;
    for (const auto& r : rs) {
      const std::string* type = events::FindHeader(r.headers, "ce_type");
      if (type == nullptr || *type != "pepiniere.ideas.v1.IdeaSubmitted") continue;
      iv1::IdeaSubmitted ev;
      if (!ev.ParseFromString(r.value) || ev.idea().challenge_id() != challenge) continue;
      ++wire_records;
      ce_ids_by_idea[r.key].insert(*events::FindHeader(r.headers, "ce_id"));
    }
    return ce_ids_by_idea.size() >= stored.size();
  }, absl::Seconds(90));

  int found = 0, not_exactly_one = 0;
  for (const auto& id : acked) {
    auto it = ce_ids_by_idea.find(id);
    if (it == ce_ids_by_idea.end()) continue;
    ++found;
    not_exactly_one += it->second.size() != 1;
  }
  const int distinct = static_cast<int>(ce_ids_by_idea.size());
  std::printf(
      "crash test: kills=%d attempts=%d failed_calls=%d acked=%zu stored=%zu found_on_topic=%d "
      "wire_records=%d wire_duplicates(same ce_id)=%d committed_but_unacked=%zu\n",
      kKills, attempts.load(), failures.load(), acked.size(), stored.size(), found,
      wire_records, wire_records - distinct, stored.size() - acked.size());
  EXPECT_EQ(found, static_cast<int>(acked.size()));
  EXPECT_EQ(not_exactly_one, 0);
  EXPECT_EQ(distinct, static_cast<int>(stored.size()));  // no event without its idea, and back
  EXPECT_GE(acked.size(), static_cast<size_t>(kKills * 40));
}

}  // namespace
}  // namespace pep::testing
