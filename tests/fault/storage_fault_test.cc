// Durability against power loss, not only crashes (issue 16, part 2). A writer commits rows
// as fast as it can; at an arbitrary moment the power goes (FaultVfs: every byte not fsync'ed
// is lost, writes after the cut never land); the files are reopened as after a reboot. Every
// commit that had returned — an acknowledged write — must be there, with its outbox row.
// synchronous=FULL (what every service's store opens with, store::Db::Open) keeps them all; the
// same test with synchronous=OFF loses them, which shows the test can fail. And a disk that is
// full or failing (part 3): the service answers UNAVAILABLE, reads go on, nothing is half
// written, and it takes writes again when the disk does. Each service's own write path is driven
// too: pep-ideas' submissions, pep-incubation's start-ups, pep-feedback's group commit and the
// gateway's tokens.
#include <atomic>
#include <functional>
#include <future>
#include <optional>
#include <mutex>
#include <set>
#include <thread>

#include "common/clock.h"
#include "common/proto_time.h"
#include "common/uuid.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include <sqlite3.h>
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/fault_vfs.h"
#include "prometheus/registry.h"
#include "services/feedback/feedback_store.h"
#include "services/gateway/tokens.h"
#include "services/ideas/ideas_service.h"
#include "services/incubation/incubation_service.h"
#include "store/outbox.h"
#include "store/sqlite.h"

namespace pep::testing {
namespace {

struct Outcome {
  int acked = 0;    // commits returned before the cut
  int found = 0;    // of those, present after the reboot
  int outbox = 0;   // outbox rows present after the reboot
};

// Opens the store, commits rows (state + outbox) from a thread until `stop`, cuts the power once
// `at_least` commits returned, reboots and counts.
Outcome WriteCutReboot(const std::string& synchronous, int at_least) {
  FaultVfs::Install();
  FaultVfs::Restore();
  TempDir dir;
  const std::string path = dir.path() + "/store.db";
  const std::vector<store::Migration> schema = {{1, "CREATE TABLE acked(id INTEGER PRIMARY KEY, v TEXT)"},
                                                {2, store::OutboxSchemaSql()},
                                                {3, store::OutboxV2Sql()}};
  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  Outcome out;
  {
    auto db = store::Db::Open(path);
    EXPECT_TRUE(db.ok()) << db.status();
    EXPECT_TRUE((*db)->Migrate(schema).ok());
    EXPECT_TRUE((*db)->Exec("PRAGMA synchronous=" + synchronous).ok());
    std::thread writer([&] {
      for (int i = 0; !stop.load(); ++i) {
        store::Transaction tx(**db);
        if (!tx.status().ok()) break;
        auto q = (*db)->Prepare("INSERT INTO acked(id, v) VALUES (?, ?)");
        q->Bind(1, static_cast<int64_t>(i)).Bind(2, std::string(200, 'x'));
        if (!q->Step().ok()) break;
        store::OutboxEvent ev;
        ev.topic = "pepiniere.test.events";
        ev.key = absl::StrCat("k", i);
        ev.envelope.id = NewUuidV7(absl::Now());
        ev.envelope.type = "pepiniere.test.v1.Row";
        ev.envelope.time = ev.envelope.effective_time = absl::Now();
        ev.payload = std::string(100, 'p');
        if (!store::AppendToOutbox(**db, ev).ok()) break;
        if (!tx.Commit().ok()) break;
        acked.store(i + 1);  // acknowledged: the commit returned
      }
    });
    EXPECT_TRUE(WaitFor([&] { return acked.load() >= at_least; }, absl::Seconds(60)));
    out.acked = acked.load();  // these returned before the cut began
    FaultVfs::Cut();
    stop.store(true);
    writer.join();
  }  // the connection closes with the power off: nothing it writes lands
  FaultVfs::Restore();
  auto db = store::Db::Open(path);  // the reboot
  EXPECT_TRUE(db.ok()) << db.status();
  auto count = [&](const std::string& sql) {
    auto q = (*db)->Prepare(sql);
    if (!q.ok() || !q->Step().value_or(false)) return 0;  // a table lost with the rest
    return static_cast<int>(q->Int(0));
  };
  out.found = count(absl::StrCat("SELECT COUNT(*) FROM acked WHERE id < ", out.acked));
  out.outbox = count("SELECT COUNT(*) FROM outbox");
  return out;
}

TEST(PowerCut, EveryAcknowledgedCommitSurvivesWithSynchronousFull) {
  for (int round = 0; round < 3; ++round) {
    const Outcome o = WriteCutReboot("FULL", 200 + 150 * round);
    std::printf("FULL round %d: acked %d, found %d, outbox rows %d\n", round, o.acked, o.found, o.outbox);
    EXPECT_EQ(o.found, o.acked) << "an acknowledged commit was lost";
    EXPECT_GE(o.outbox, o.acked) << "an acknowledged commit's event was lost";
  }
  EXPECT_GT(FaultVfs::Syncs(), 0);
}

// The counter-proof: the same test, synchronous=OFF — SQLite never syncs, so a power cut takes
// acknowledged commits with it.
TEST(PowerCut, SynchronousOffLosesAcknowledgedCommits) {
  const Outcome o = WriteCutReboot("OFF", 300);
  std::printf("OFF: acked %d, found %d, outbox rows %d\n", o.acked, o.found, o.outbox);
  EXPECT_LT(o.found, o.acked) << "synchronous=OFF kept everything: the cut is not simulated";
}

// Calls `write(thread, i)` from `threads` threads until `at_least` writes were acknowledged (it
// returns the id of what it wrote once the store answered OK), then cuts the power. Returns
// the ids acknowledged before the cut; the caller closes its store (with the power off, nothing
// it writes lands) and reopens it as after a reboot.
std::vector<std::string> WriteUntilPowerCut(
    int threads, size_t at_least,
    const std::function<std::optional<std::string>(int thread, int i)>& write) {
  std::vector<std::string> acked;
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        auto id = write(t, i);
        if (!id || stop.load()) continue;  // after the cut: refused or not, not counted as acked
        std::lock_guard<std::mutex> l(mu);
        acked.push_back(*id);
      }
    });
  }
  EXPECT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(mu);
    return acked.size() >= at_least;
  }, absl::Seconds(60)));
  std::vector<std::string> before_cut;
  {
    std::lock_guard<std::mutex> l(mu);
    before_cut = acked;
  }
  FaultVfs::Cut();
  stop.store(true);
  for (auto& w : writers) w.join();
  return before_cut;
}

// How many of `acked` `present(id)` finds after the reboot.
int CountFound(const std::vector<std::string>& acked, const std::function<bool(const std::string&)>& present) {
  int found = 0;
  for (const std::string& id : acked) found += present(id);
  return found;
}

// A server context carrying the metadata the gateway passes.
struct CallerContext {
  CallerContext(const std::string& actor, const std::string& roles) : spouse(&ctx) {
    spouse.AddClientMetadata("x-pep-actor", actor);
    spouse.AddClientMetadata("x-pep-roles", roles);
  }
  grpc::ServerContext ctx;
  grpc::testing::ServerContextTestSpouse spouse;
};

// A coordinator's CreateStartup, as the gateway would pass it; OK = acknowledged.
grpc::Status CreateStartup(incubation::IncubationService& svc, int n, pepiniere::incubation::v1::Startup* out) {
  CallerContext caller("coord", "coordinator");
  pepiniere::incubation::v1::CreateStartupRequest r;
  r.set_name(absl::StrCat("Start-up ", n));
  r.set_mission("Tenir quand le stockage lâche");
  r.set_incubator("lab06");
  return svc.CreateStartup(&caller.ctx, &r, out);
}

// A service's own store and write path: pep-incubation creating start-ups through its RPC (a
// coordinator's call answered OK = acknowledged), the power cut mid-stream, the store reopened.
TEST(PowerCut, IncubationStoreKeepsEveryAcknowledgedStartup) {
  FaultVfs::Install();
  FaultVfs::Restore();
  TempDir dir;
  const std::string path = dir.path() + "/incubation.db";
  FakeClock clock(absl::FromUnixSeconds(1796000000));
  std::vector<std::string> acked;
  {
    auto st = incubation::IncubationStore::Open(path, clock);
    ASSERT_TRUE(st.ok()) << st.status();
    prometheus::Registry registry;
    incubation::IncubationMetrics metrics(registry);
    incubation::IncubationService svc(**st, clock, metrics, nullptr, {.auth = {.insecure_dev = true}});
    acked = WriteUntilPowerCut(1, 150, [&](int, int i) -> std::optional<std::string> {
      pepiniere::incubation::v1::Startup out;
      if (!CreateStartup(svc, i, &out).ok()) return std::nullopt;
      return out.id();
    });
  }
  FaultVfs::Restore();
  auto st = incubation::IncubationStore::Open(path, clock);  // the reboot
  ASSERT_TRUE(st.ok()) << st.status();
  auto all = st.value()->AllStartups();
  ASSERT_TRUE(all.ok()) << all.status();
  std::set<std::string> present;
  for (const auto& s : *all) present.insert(s.id());
  const int found = CountFound(acked, [&](const std::string& id) { return present.count(id) > 0; });
  std::printf("incubation: acked %zu, found %d\n", acked.size(), found);
  EXPECT_EQ(found, static_cast<int>(acked.size())) << "an acknowledged start-up was lost";
}

// pep-ideas' write path: agents' SubmitIdea through the service, the power cut mid-stream.
TEST(PowerCut, IdeasStoreKeepsEveryAcknowledgedSubmission) {
  FaultVfs::Install();
  FaultVfs::Restore();
  TempDir dir;
  const std::string path = dir.path() + "/ideas.db";
  std::vector<std::string> acked;
  {
    auto st = ideas::IdeasStore::Open(path, SystemClock::Get());
    ASSERT_TRUE(st.ok()) << st.status();
    prometheus::Registry registry;
    ideas::IdeasMetrics metrics(registry);
    ideas::IdeasService svc(**st, metrics, nullptr, {.auth = {.insecure_dev = true}});
    ASSERT_TRUE(svc.Init().ok());
    pepiniere::ideas::v1::Challenge challenge;
    {
      CallerContext caller("coord", "coordinator");
      pepiniere::ideas::v1::CreateChallengeRequest r;
      r.set_title("Simplification administrative");
      r.set_theme("simplification");
      auto* c = r.add_criteria();
      c->set_name("impact");
      c->set_weight(1);
      r.set_jury_quorum(1);
      ASSERT_TRUE(svc.CreateChallenge(&caller.ctx, &r, &challenge).ok());
    }
    {
      CallerContext caller("coord", "coordinator");
      pepiniere::ideas::v1::ChallengeTransitionRequest r;
      r.set_challenge_id(challenge.id());
      ASSERT_TRUE(svc.OpenChallenge(&caller.ctx, &r, &challenge).ok());
    }
    acked = WriteUntilPowerCut(2, 150, [&](int t, int i) -> std::optional<std::string> {
      CallerContext caller(absl::StrCat("agent-", t), "agent");
      pepiniere::ideas::v1::SubmitIdeaRequest r;
      r.set_challenge_id(challenge.id());
      r.set_title(absl::StrCat("Idée ", t, "-", i, " contre les coupures"));
      r.set_problem("Les usagers remplissent plusieurs formulaires pour la même aide.");
      r.set_proposal("Un formulaire unique, pré-rempli avec ce que l'administration sait déjà.");
      r.set_author_name("Camille Martin");
      r.set_department("Direction de l'action sociale");
      r.set_contact_email("camille.martin@departement06.fr");
      pepiniere::ideas::v1::SubmitIdeaResponse resp;
      const grpc::Status st = svc.SubmitIdea(&caller.ctx, &r, &resp);
      EXPECT_NE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
      if (!st.ok()) return std::nullopt;
      return resp.idea().id();
    });
  }
  FaultVfs::Restore();
  auto st = ideas::IdeasStore::Open(path, SystemClock::Get());  // the reboot
  ASSERT_TRUE(st.ok()) << st.status();
  const int found = CountFound(acked, [&](const std::string& id) { return (*st)->GetIdea(id).ok(); });
  std::printf("ideas: acked %zu, found %d\n", acked.size(), found);
  EXPECT_EQ(found, static_cast<int>(acked.size())) << "an acknowledged idea was lost";
}

// pep-feedback's group commit: answers queued from four threads, each acknowledged by the
// writer only once its batch is durable; the power cut between batches or inside one.
TEST(PowerCut, FeedbackGroupCommitKeepsEveryAcknowledgedAnswer) {
  FaultVfs::Install();
  FaultVfs::Restore();
  TempDir dir;
  const std::string path = dir.path() + "/feedback.db";
  const std::string startup = NewUuidV7(absl::Now());
  std::vector<std::string> acked;
  int64_t batches = 0;
  {
    auto st = feedback::FeedbackStore::Open(path, SystemClock::Get());
    ASSERT_TRUE(st.ok()) << st.status();
    (*st)->StartWriter([] {});
    acked = WriteUntilPowerCut(4, 2000, [&](int t, int i) -> std::optional<std::string> {
      feedback::PendingAnswer a;
      a.feedback.set_id(NewUuidV7(absl::Now()));
      a.feedback.set_startup_id(startup);
      a.feedback.set_satisfaction(pepiniere::feedback::v1::SATISFACTION_GOOD);
      a.feedback.set_verbatim(absl::StrCat("réponse ", t, "-", i));
      *a.feedback.mutable_received_at() = ToTimestamp(absl::Now());
      a.correlation_id = startup;
      a.actor = "public";
      std::promise<bool> committed;
      a.done = [&committed](absl::StatusOr<pepiniere::feedback::v1::Feedback> f, bool) {
        committed.set_value(f.ok());
      };
      const std::string id = a.feedback.id();
      feedback::FeedbackStore::Prepare(a, absl::Now());
      auto ok = committed.get_future();
      (*st)->Enqueue(std::move(a));
      if (!ok.get()) return std::nullopt;
      return id;
    });
    batches = (*st)->batches();
    (*st)->StopWriter();
  }
  FaultVfs::Restore();
  auto st = feedback::FeedbackStore::Open(path, SystemClock::Get());  // the reboot
  ASSERT_TRUE(st.ok()) << st.status();
  const int found = CountFound(acked, [&](const std::string& id) { return (*st)->Get(id).ok(); });
  std::printf("feedback: acked %zu, found %d (%lld group commits)\n", acked.size(), found,
              static_cast<long long>(batches));
  EXPECT_EQ(found, static_cast<int>(acked.size())) << "an acknowledged answer was lost";
}

// pep-gateway's own database: tokens made by a coordinator (the secret shown once must keep
// working after a power cut).
TEST(PowerCut, GatewayTokensKeepEveryAcknowledgedToken) {
  FaultVfs::Install();
  FaultVfs::Restore();
  TempDir dir;
  const std::string path = dir.path() + "/gateway.db";
  std::vector<std::string> acked;
  std::vector<std::string> secrets;
  std::mutex mu;
  {
    auto st = gateway::TokenStore::Open(path, SystemClock::Get());
    ASSERT_TRUE(st.ok()) << st.status();
    acked = WriteUntilPowerCut(1, 150, [&](int, int i) -> std::optional<std::string> {
      gateway::NewToken t{.name = absl::StrCat("ci-", i), .actor = absl::StrCat("ci-", i),
                          .role = "product_team", .scope = "startup:s1",
                          .expires_at = absl::Now() + absl::Hours(24)};
      auto made = (*st)->Create(t, "coord");
      if (!made.ok()) return std::nullopt;
      std::lock_guard<std::mutex> l(mu);
      secrets.push_back(made->second);
      return made->first.id;
    });
  }
  FaultVfs::Restore();
  auto st = gateway::TokenStore::Open(path, SystemClock::Get());  // the reboot
  ASSERT_TRUE(st.ok()) << st.status();
  const int found = CountFound(acked, [&](const std::string& id) { return (*st)->Get(id).ok(); });
  std::printf("gateway tokens: acked %zu, found %d\n", acked.size(), found);
  EXPECT_EQ(found, static_cast<int>(acked.size())) << "an acknowledged token was lost";
  // Each acknowledged token's secret still signs in.
  int usable = 0;
  for (size_t k = 0; k < acked.size() && k < secrets.size(); ++k) usable += (*st)->Authenticate(secrets[k]).ok();
  EXPECT_EQ(usable, static_cast<int>(std::min(acked.size(), secrets.size())));
}

TEST(DiskFault, FullOrFailingDiskIsUnavailableThenRecoversWithNothingHalfWritten) {
  FaultVfs::Install();
  FaultVfs::Restore();
  TempDir dir;
  const std::string path = dir.path() + "/incubation.db";
  FakeClock clock(absl::FromUnixSeconds(1796000000));
  auto st = incubation::IncubationStore::Open(path, clock);
  ASSERT_TRUE(st.ok()) << st.status();
  prometheus::Registry registry;
  incubation::IncubationMetrics metrics(registry);
  incubation::IncubationService svc(**st, clock, metrics, nullptr, {.auth = {.insecure_dev = true}});
  int n = 0;
  auto create = [&]() {
    pepiniere::incubation::v1::Startup out;
    return CreateStartup(svc, ++n, &out);
  };
  auto count = [&](const std::string& sql) {
    auto db = store::Db::Open(path);  // a reader of its own, as a backup tool would be
    auto q = (*db)->Prepare(sql);
    return q.ok() && q->Step().value_or(false) ? static_cast<int>(q->Int(0)) : -1;
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(create().ok());
  int acked = 3;
  for (const int code : {SQLITE_FULL, SQLITE_IOERR_WRITE}) {
    FaultVfs::FailWrites(code);
    for (int i = 0; i < 5; ++i) {
      const grpc::Status s = create();
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << code << ": " << s.error_message();
      if (i == 0) std::printf("disk fault %d answered: %s\n", code, s.error_message().c_str());
    }
    auto all = st.value()->AllStartups();  // reads still answer
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(static_cast<int>(all->size()), acked);
    FaultVfs::HealWrites();  // space returns
    ASSERT_TRUE(create().ok()) << "the service takes writes again";
    ++acked;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM startups"), acked);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), acked) << "an event without its start-up, or the reverse";
}

}  // namespace
}  // namespace pep::testing
