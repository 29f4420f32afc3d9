// pep-ideas and pep-incubation together on a real broker: an idea selected by the jury becomes
// a start-up (choreography through pepiniere.ideas.events); the same IdeaSelected delivered
// twice still yields one start-up; the start-up's events carry the idea id as correlation id;
// a 2,000 start-up portfolio imports within a 10 s deadline over gRPC.
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"

namespace pep::testing {
namespace {

class IncubationKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(events::EnsureTopics(KafkaBroker::Shared().bootstrap(), events::PepiniereTopics()).ok());
    ideas_ = std::make_unique<IdeasProcess>(KafkaBroker::Shared().bootstrap(), ideas_dir_.path());
    ideas_->Start();
    incubation_ = std::make_unique<IncubationProcess>(KafkaBroker::Shared().bootstrap(),
                                                      incubation_dir_.path());
    incubation_->Start();
  }

  std::vector<incv1::Startup> Startups() {
    grpc::ClientContext ctx;
    incv1::ListStartupsRequest req;
    incv1::ListStartupsResponse resp;
    EXPECT_TRUE(incubation_->stub().ListStartups(&ctx, req, &resp).ok());
    return {resp.startups().begin(), resp.startups().end()};
  }

  TempDir ideas_dir_, incubation_dir_;
  std::unique_ptr<IdeasProcess> ideas_;
  std::unique_ptr<IncubationProcess> incubation_;
};

TEST_F(IncubationKafkaTest, SelectedIdeaBecomesOneStartupEvenWhenDeliveredTwice) {
  const std::string challenge = ideas_->OpenChallenge(/*quorum=*/1);
  auto& ideas = ideas_->stub();
  iv1::SubmitIdeaResponse sub;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(ideas.SubmitIdea(&ctx, IdeasProcess::Idea(challenge, "Cantine sans papier"), &sub).ok());
  }
  const std::string idea_id = sub.idea().id();
  {
    grpc::ClientContext ctx;
    iv1::AssignJurorsRequest a;
    a.set_challenge_id(challenge);
    a.add_juror_ids("juror-a");
    iv1::Challenge ch;
    ASSERT_TRUE(ideas.AssignJurors(&ctx, a, &ch).ok());
  }
  {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "juror-a", "juror");
    iv1::ScoreIdeaRequest s;
    s.set_idea_id(idea_id);
    auto* cs = s.add_scores();
    cs->set_criterion("impact");
    cs->set_score(5);
    iv1::Scorecard card;
    ASSERT_TRUE(ideas.ScoreIdea(&ctx, s, &card).ok());
  }
  for (auto decision : {iv1::IDEA_STATUS_SHORTLISTED, iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION}) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "coord-1", "coordinator");
    iv1::DecideIdeaRequest d;
    d.set_idea_id(idea_id);
    d.set_decision(decision);
    d.set_rationale("Prix du jury");
    iv1::Idea idea;
    ASSERT_TRUE(ideas.DecideIdea(&ctx, d, &idea).ok());
  }

  ASSERT_TRUE(WaitFor([&] { return Startups().size() == 1; }, absl::Seconds(60)))
      << "no start-up opened from the selected idea";
  const incv1::Startup su = Startups()[0];
  EXPECT_EQ(su.origin_idea_id(), idea_id);
  EXPECT_EQ(su.correlation_id(), idea_id);
  EXPECT_EQ(su.phase(), incv1::PHASE_INVESTIGATION);
  EXPECT_EQ(su.name(), "Cantine sans papier");

  // Deliver the very same IdeaSelected record (same ce_id) a second time.
  const std::string brokers = KafkaBroker::Shared().bootstrap();
  std::vector<events::Record> selected;
  ReadTopicUntil(brokers, "pepiniere.ideas.events", [&](const auto& rs) {
    selected.clear();
    for (const auto& r : rs) {
      const std::string* t = events::FindHeader(r.headers, "ce_type");
      if (r.key == idea_id && t && *t == "pepiniere.ideas.v1.IdeaSelected") selected.push_back(r);
    }
    return !selected.empty();
  });
  ASSERT_EQ(selected.size(), 1u);
  const std::string selected_ce_id = *events::FindHeader(selected[0].headers, "ce_id");
  const std::string series =
      "pep_events_consumed_total{outcome=\"handled\",topic=\"pepiniere.ideas.events\"}";
  const double handled_before = Sample(HttpGet(incubation_->metrics_port(), "/metrics"), series);
  absl::Status delivered = absl::UnknownError("no report");
  {
    auto p = events::Producer::Create({{"bootstrap.servers", brokers}},
                                      [&](uint64_t, const absl::Status& s) { delivered = s; });
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->Produce("pepiniere.ideas.events", selected[0].key, selected[0].value,
                              selected[0].headers, 1).ok());
    ASSERT_TRUE((*p)->Flush(absl::Seconds(20)).ok());
  }
  ASSERT_TRUE(delivered.ok()) << delivered;
  ASSERT_TRUE(WaitFor([&] {
    return Sample(HttpGet(incubation_->metrics_port(), "/metrics"), series) >= handled_before + 1;
  }, absl::Seconds(60))) << "the duplicate was never consumed";
  EXPECT_EQ(Startups().size(), 1u) << "a redelivered IdeaSelected opened a second start-up";

  // The start-up's events name the idea as lineage root and the IdeaSelected as cause.
  events::Record created;
  ReadTopicUntil(brokers, "pepiniere.incubation.events", [&](const auto& rs) {
    for (const auto& r : rs) {
      if (r.key == su.id()) created = r;
    }
    return !created.key.empty();
  });
  ASSERT_EQ(created.key, su.id());
  EXPECT_EQ(*events::FindHeader(created.headers, "ce_type"), "pepiniere.incubation.v1.StartupCreated");
  EXPECT_EQ(*events::FindHeader(created.headers, "ce_correlationid"), idea_id);
  EXPECT_EQ(*events::FindHeader(created.headers, "ce_causationid"), selected_ce_id);
  EXPECT_EQ(*events::FindHeader(created.headers, "ce_source"), "/pepiniere/incubation");
  EXPECT_EQ(*events::FindHeader(created.headers, "ce_actor"), "coord-1");
}

TEST_F(IncubationKafkaTest, TwoThousandStartupsImportWithinTenSeconds) {
  std::string jsonl;
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&jsonl, R"({"slug":"portfolio-)", i, R"(","title":"Start-up )", i,
                    R"(","mission":"m","incubator":"lab06","phases":[)",
                    R"({"name":"investigation","start":"2021-02-01"},)",
                    R"({"name":"construction","start":"2021-06-01"}],)",
                    R"("events":[{"name":"committee","date":"2021-05-20"}]})", "\n");
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  incv1::ImportPortfolioRequest req;
  req.set_jsonl(jsonl);
  incv1::ImportReport rep;
  const absl::Time t0 = absl::Now();
  grpc::Status s = incubation_->stub().ImportPortfolio(&ctx, req, &rep);
  std::printf("import of 2000 start-ups over gRPC: %s\n", absl::FormatDuration(absl::Now() - t0).c_str());
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(rep.created(), 2000);
  EXPECT_EQ(rep.rejected(), 0);
  const std::string metrics = HttpGet(incubation_->metrics_port(), "/metrics");
  EXPECT_EQ(Sample(metrics, "pep_import_lines_total{result=\"created\"}"), 2000);
  EXPECT_EQ(Sample(metrics, "pep_startups{phase=\"construction\"}"), 2000);
  EXPECT_EQ(Sample(metrics, "pep_phase_transitions_total{from=\"investigation\",to=\"construction\"}"), 2000);
}

}  // namespace
}  // namespace pep::testing
