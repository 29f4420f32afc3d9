// pep-ideas and pep-incubation together on a real broker: an idea selected by the jury becomes
// a start-up (choreography through pepiniere.ideas.events); the same IdeaSelected delivered
// twice still yields one start-up; the start-up's events carry the idea id as correlation id;
// a 2,000 start-up portfolio imports within a 10 s deadline over gRPC; an IdeaSelected left in
// the dead-letter topic is listed by `pepctl dlt` and, replayed, opens its start-up once — twice
// replayed, still once.
#include <fstream>

#include "common/uuid.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "events/producer.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/ideas/v1/events.pb.h"
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

// Runs pepctl with the broker; returns its exit code and what it printed.
std::pair<int, std::string> Pepctl(const std::string& args) {
  TempDir d;
  const std::string out = d.path() + "/out";
  const int rc = RunCommand(absl::StrCat(BinaryDir(), "/services/gateway/pepctl ", args, " --brokers ",
                                         KafkaBroker::Shared().bootstrap(), " > ", out, " 2>&1"));
  std::ifstream f(out);
  return {rc, std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>())};
}

TEST_F(IncubationKafkaTest, DeadLetterListedThenReplayedOpensItsStartupOnce) {
  const std::string brokers = KafkaBroker::Shared().bootstrap();
  const absl::Time now = absl::Now();
  iv1::IdeaSelected sel;
  sel.set_idea_id(NewUuidV7(now));
  sel.set_challenge_id(NewUuidV7(now));
  sel.set_title("Guichet unique des aidants");
  sel.set_proposal("Un seul formulaire");
  events::Envelope env;
  env.id = NewUuidV7(now);
  env.type = "pepiniere.ideas.v1.IdeaSelected";
  env.source = "/pepiniere/ideas";
  env.subject = sel.idea_id();
  env.correlation_id = sel.idea_id();
  env.actor = "coord-1";
  env.time = env.effective_time = now;
  env.aggregate_version = 3;
  // As a consumer of an earlier release left it, when a bug refused it.
  events::Headers h = events::ToHeaders(env);
  h.emplace_back("pep_dlt_error", "start-up store refused the idea (a bug since fixed)");
  h.emplace_back("pep_dlt_error_code", "INTERNAL");
  h.emplace_back("pep_dlt_attempts", "5");
  h.emplace_back("pep_dlt_original_topic", "pepiniere.ideas.events");
  h.emplace_back("pep_dlt_original_partition", "0");
  h.emplace_back("pep_dlt_original_offset", "41");
  h.emplace_back("pep_dlt_consumer_group", "pep-incubation");
  absl::Status delivered = absl::UnknownError("no report");
  {
    auto p = events::Producer::Create({{"bootstrap.servers", brokers}},
                                      [&](uint64_t, const absl::Status& s) { delivered = s; });
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->Produce("pepiniere.ideas.events.dlt", sel.idea_id(), sel.SerializeAsString(), h, 1).ok());
    ASSERT_TRUE((*p)->Flush(absl::Seconds(20)).ok());
  }
  ASSERT_TRUE(delivered.ok()) << delivered;

  auto [rc, listed] = Pepctl("dlt list pepiniere.ideas.events");
  ASSERT_EQ(rc, 0) << listed;
  EXPECT_NE(listed.find("1 dead letter(s) in pepiniere.ideas.events.dlt"), std::string::npos) << listed;
  EXPECT_NE(listed.find("pepiniere.ideas.v1.IdeaSelected"), std::string::npos) << listed;
  EXPECT_NE(listed.find("a bug since fixed) (INTERNAL, 5 attempt(s))"), std::string::npos) << listed;
  EXPECT_NE(listed.find("from pepiniere.ideas.events/0@41"), std::string::npos) << listed;
  auto [show_rc, shown] = Pepctl("dlt show pepiniere.ideas.events --offset 0");
  ASSERT_EQ(show_rc, 0) << shown;
  EXPECT_NE(shown.find("ce_id: " + env.id), std::string::npos) << shown;
  EXPECT_EQ(Pepctl("dlt show pepiniere.ideas.events --offset 7").first, 1) << "no such letter";
  EXPECT_EQ(Pepctl("dlt list pepiniere.nothing").first, 1) << "no such topic";

  const auto opened = [&] {
    int n = 0;
    for (const auto& s : Startups()) n += s.origin_idea_id() == sel.idea_id();
    return n;
  };
  EXPECT_EQ(opened(), 0);
  auto [replay_rc, replayed] = Pepctl("dlt replay pepiniere.ideas.events");
  ASSERT_EQ(replay_rc, 0) << replayed;
  EXPECT_NE(replayed.find("replayed 1 of 1 to pepiniere.ideas.events"), std::string::npos) << replayed;
  ASSERT_TRUE(WaitFor([&] { return opened() == 1; }, absl::Seconds(60))) << "the replayed idea opened no start-up";

  const std::string series =
      "pep_events_consumed_total{outcome=\"handled\",topic=\"pepiniere.ideas.events\"}";
  const double handled = Sample(HttpGet(incubation_->metrics_port(), "/metrics"), series);
  ASSERT_EQ(Pepctl("dlt replay pepiniere.ideas.events --offset 0").first, 0);
  ASSERT_TRUE(WaitFor([&] {
    return Sample(HttpGet(incubation_->metrics_port(), "/metrics"), series) >= handled + 1;
  }, absl::Seconds(60))) << "the second replay was never consumed";
  EXPECT_EQ(opened(), 1) << "a replayed dead letter is deduplicated like any redelivery";
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
