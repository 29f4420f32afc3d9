// Bounded memory (issue 16, part 5): what one call may take is bounded by the call, not by how
// much the service has accumulated. At ten times the largest inputs we expect — a product with
// 1,000,000 answers in its last 12 months (a busy national form gets ~100,000), 1,000,000
// distinct clients hitting the rate limiter within a minute, a lineage whose timeline folds a
// million answers — the process's resident memory grows by less than a stated limit while it
// serves them.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "common/uuid.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "prometheus/registry.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/audit/audit_core.h"
#include "services/feedback/feedback_core.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "store/sqlite.h"

namespace pep::testing {
namespace {

namespace fv1 = ::pepiniere::feedback::v1;

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Peak resident memory above what it was before `run`, sampled every millisecond meanwhile.
int64_t PeakGrowth(const std::function<void()>& run) {
  const int64_t before = ResidentBytes();
  std::atomic<bool> done{false};
  std::atomic<int64_t> peak{before};
  std::thread sampler([&] {
    while (!done.load()) {
      peak.store(std::max(peak.load(), ResidentBytes()));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  run();
  peak.store(std::max(peak.load(), ResidentBytes()));
  done.store(true);
  sampler.join();
  return peak.load() - before;
}

constexpr int64_t kMiB = 1 << 20;

TEST(MemoryBound, SummariesAndBandsOverAMillionAnswersStayUnder32MiB) {
  TempDir dir;
  const std::string path = dir.path() + "/feedback.db";
  const std::string startup = NewUuidV7(absl::Now());
  const absl::Time now = absl::Now();
  constexpr int kAnswers = 1000000;
  {
    auto st = feedback::FeedbackStore::Open(path, SystemClock::Get());  // the schema
    ASSERT_TRUE(st.ok()) << st.status();
    feedback::Product p{.startup_id = startup, .phase = 2 /* construction */,
                        .correlation_id = startup, .name = "Signalement voirie"};
    ASSERT_TRUE((*st)->ApplyProduct(NewUuidV7(now), "pepiniere.incubation.events", p).ok());
  }
  {
    // A year of answers written straight into the table (the write path is not under test).
    auto db = store::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA synchronous=OFF").ok());
    store::Transaction tx(**db);
    auto q = (*db)->Prepare(
        "INSERT INTO feedback(id, startup_id, received_us, hidden, data) VALUES (?, ?, ?, 0, ?)");
    ASSERT_TRUE(q.ok());
    fv1::Feedback f;
    f.set_startup_id(startup);
    for (int i = 0; i < kAnswers; ++i) {
      const absl::Time at = now - absl::Hours(24 * 360) + absl::Seconds(i * 31);
      f.set_id(NewUuidV7(at));
      f.set_satisfaction(static_cast<fv1::Satisfaction>(1 + i % 3));
      f.set_verbatim(absl::StrCat("Réponse numéro ", i, " : la démarche est claire."));
      *f.mutable_received_at() = ToTimestamp(at);
      q->Reset();
      q->Bind(1, f.id()).Bind(2, startup).Bind(3, absl::ToUnixMicros(at)).BindBlob(4, f.SerializeAsString());
      ASSERT_TRUE(q->Run().ok());
    }
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto st = feedback::FeedbackStore::Open(path, SystemClock::Get());
  ASSERT_TRUE(st.ok());
  prometheus::Registry registry;
  feedback::FeedbackMetrics metrics(registry);
  feedback::FeedbackService svc(**st, SystemClock::Get(), metrics, {.auth = {.insecure_dev = true}});
  ASSERT_TRUE(svc.Init().ok());

  const int64_t bands = PeakGrowth([&] { ASSERT_TRUE(svc.RefreshBands().ok()); });
  EXPECT_EQ(metrics.StartupsByBand(fv1::BAND_YELLOW).Value(), 1) << "the million answers were read";
  // GetSummary as a coordinator asks it (granularity unset: the rolling 12 months).
  auto summarize = [&](fv1::Granularity g, fv1::Summary* out) {
    grpc::ServerContext ctx;
    grpc::testing::ServerContextTestSpouse spouse(&ctx);
    spouse.AddClientMetadata("x-pep-actor", "coord");
    spouse.AddClientMetadata("x-pep-roles", "coordinator");
    fv1::GetSummaryRequest r;
    r.set_startup_id(startup);
    r.set_granularity(g);
    ASSERT_TRUE(svc.GetSummary(&ctx, &r, out).ok());
  };
  fv1::Summary rolling, daily;
  const int64_t summary = PeakGrowth([&] { summarize(fv1::GRANULARITY_UNSPECIFIED, &rolling); });
  const int64_t buckets = PeakGrowth([&] { summarize(fv1::GRANULARITY_DAY, &daily); });
  ASSERT_EQ(rolling.buckets_size(), 1);
  EXPECT_EQ(rolling.buckets(0).scores().answers(), kAnswers);
  int64_t in_days = 0;
  for (const auto& b : daily.buckets()) in_days += b.scores().answers();
  EXPECT_EQ(in_days, kAnswers) << "every answer in one daily bucket";
  std::printf("1,000,000 answers: resident growth %.1f MiB (bands), %.1f MiB (12-month summary), "
              "%.1f MiB (%d daily buckets)\n",
              static_cast<double>(bands) / kMiB, static_cast<double>(summary) / kMiB,
              static_cast<double>(buckets) / kMiB, daily.buckets_size());
  EXPECT_LT(bands, 32 * kMiB);
  EXPECT_LT(summary, 32 * kMiB);
  EXPECT_LT(buckets, 32 * kMiB);
}

TEST(MemoryBound, RateLimiterTracksAtMostItsCapOfClients) {
  const absl::Time t = absl::FromUnixSeconds(1796000000);
  pep::RateLimiter rl(5, absl::Minutes(1), /*max_keys=*/100000);
  int refused_full = 0;
  const int64_t growth = PeakGrowth([&] {
    for (int i = 0; i < 1000000; ++i) {  // a million clients within one minute
      bool full = false;
      auto wait = rl.Allow(absl::StrCat("198.51.", i / 256, ".", i % 256, "|startup"),
                           t + absl::Microseconds(i), &full);
      refused_full += wait.has_value() && full;
    }
  });
  std::printf("rate limiter: %zu clients tracked, %d refused at the cap, resident growth %.1f MiB\n",
              rl.tracked_keys(), refused_full, static_cast<double>(growth) / kMiB);
  EXPECT_EQ(rl.tracked_keys(), 100000u);
  EXPECT_EQ(refused_full, 900000);
  EXPECT_LT(growth, 48 * kMiB);
  // A minute on, the idle clients are forgotten and a new one is welcome again.
  bool full = true;
  EXPECT_FALSE(rl.Allow("203.0.113.7|startup", t + absl::Minutes(2), &full).has_value());
  EXPECT_FALSE(full);
  EXPECT_EQ(rl.tracked_keys(), 1u);
}

// pep-audit's timeline of a lineage whose product got a million answers: the records come one
// at a time from the index (LogIndex::EachOfSubject); the builder keeps one tally per day.
TEST(MemoryBound, TimelineStateAndLineageOfAMillionAnswersStayUnder32MiB) {
  audit::TimelineBuilder timeline("idea-1", /*individual_feedback=*/false);
  audit::StateAsOfBuilder state("idea-1", absl::InfiniteFuture(), std::nullopt);
  audit::LineageBuilder lineage("idea-1");
  const absl::Time start = absl::FromUnixSeconds(1764547200);  // 2025-12-01
  int64_t seq = 0;
  auto record = [&](const google::protobuf::Message& payload, absl::Time at, const std::string& aggregate) {
    audit::LedgerRecord r;
    r.subject = "idea-1";
    r.subject_seq = ++seq;
    r.envelope.id = NewUuidV7(at);
    r.envelope.time = r.envelope.effective_time = at;
    r.envelope.type = std::string(payload.GetDescriptor()->full_name());
    r.envelope.subject = aggregate;
    r.envelope.actor = "public";
    r.envelope.correlation_id = "idea-1";
    r.payload = payload.SerializeAsString();
    r.entry = std::string(200, 'e');  // about what a stored entry weighs
    r.leaf = std::string(32, 'h');
    r.log_index = seq;
    return r;
  };
  pepiniere::incubation::v1::StartupCreated created;
  created.mutable_startup()->set_id("startup-1");
  created.mutable_startup()->set_name("Signalement voirie");
  // Each record goes to the three views GetTimeline, GetStateAsOf and GetLineage build.
  auto add = [&](audit::LedgerRecord r) {
    state.Add(r);
    lineage.Add(r);
    return timeline.Add(std::move(r));
  };
  ASSERT_TRUE(add(record(created, start, "startup-1")).ok());
  const int64_t growth = PeakGrowth([&] {
    fv1::FeedbackReceived ev;
    ev.mutable_feedback()->set_startup_id("startup-1");
    for (int i = 0; i < 1000000; ++i) {
      const absl::Time at = start + absl::Seconds(31 * i);
      ev.mutable_feedback()->set_id(NewUuidV7(at));
      ev.mutable_feedback()->set_satisfaction(static_cast<fv1::Satisfaction>(1 + i % 3));
      ev.mutable_feedback()->set_verbatim(absl::StrCat("Réponse numéro ", i));
      ASSERT_TRUE(add(record(ev, at, ev.feedback().id())).ok());
    }
  });
  const auto t = timeline.Build();
  int64_t answers = 0;
  for (const auto& e : t.entries()) answers += e.feedback_day().answers();
  std::printf("timeline, state as of and lineage over 1,000,000 answers: %d timeline entries, "
              "resident growth %.1f MiB\n",
              t.entries_size(), static_cast<double>(growth) / kMiB);
  EXPECT_EQ(answers, 1000000);
  EXPECT_EQ(t.entries(0).type(), "StartupCreated");
  EXPECT_EQ(t.entries_size(), 1 + 359) << "one entry per day of answers";
  EXPECT_LT(growth, 32 * kMiB);
  // The as-of fold and the lineage view (GetStateAsOf, GetLineage) read the same way.
  EXPECT_EQ(state.Build().feedback().answers(), 1000000);
  EXPECT_EQ(lineage.Build({}).records(), 1000001);
  EXPECT_EQ(lineage.Build({}).feedback().answers(), 1000000);
}

}  // namespace
}  // namespace pep::testing
