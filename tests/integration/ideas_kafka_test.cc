// pep-ideas end to end on a real Kafka broker: a submission through gRPC arrives on
// pepiniere.ideas.events with every CloudEvents header and a decodable payload; a full jury
// lifecycle produces its events in per-aggregate order; metrics reflect it.
#include <fstream>
#include <map>

#include "common/clock.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/ideas/v1/events.pb.h"

namespace pep::testing {
namespace {

constexpr char kTopic[] = "pepiniere.ideas.events";

class IdeasKafkaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(events::EnsureTopics(KafkaBroker::Shared().bootstrap(), events::PepiniereTopics()).ok());
  }
  void SetUp() override {
    ideas_ = std::make_unique<IdeasProcess>(KafkaBroker::Shared().bootstrap(), dir_.path());
    ideas_->Start();
  }
  TempDir dir_;
  std::unique_ptr<IdeasProcess> ideas_;
};

const std::string& Header(const events::Record& r, const char* name) {
  static const std::string kMissing = "<missing>";
  const std::string* v = events::FindHeader(r.headers, name);
  return v ? *v : kMissing;
}

TEST_F(IdeasKafkaTest, SubmittedIdeaArrivesWithEveryCloudEventsHeader) {
  const std::string challenge = ideas_->OpenChallenge();
  iv1::SubmitIdeaResponse resp;
  grpc::ClientContext ctx;
  IdeasProcess::As(ctx, "agent-77", "agent");
  const absl::Time before = absl::Now();
  ASSERT_TRUE(ideas_->stub().SubmitIdea(&ctx, IdeasProcess::Idea(challenge, "Guichet unique"), &resp).ok());
  const std::string id = resp.idea().id();

  auto records = ReadTopicUntil(KafkaBroker::Shared().bootstrap(), kTopic, [&](const auto& rs) {
    for (const auto& r : rs) {
      if (r.key == id) return true;
    }
    return false;
  });
  const events::Record* rec = nullptr;
  for (const auto& r : records) {
    if (r.key == id) rec = &r;
  }
  ASSERT_NE(rec, nullptr) << "IdeaSubmitted never reached " << kTopic;

  EXPECT_EQ(Header(*rec, "ce_specversion"), "1.0");
  EXPECT_EQ(Header(*rec, "ce_type"), "pepiniere.ideas.v1.IdeaSubmitted");
  EXPECT_EQ(Header(*rec, "ce_source"), "/pepiniere/ideas");
  EXPECT_EQ(Header(*rec, "ce_subject"), id);
  EXPECT_EQ(Header(*rec, "content-type"), "application/protobuf");
  EXPECT_EQ(Header(*rec, "ce_actor"), "agent-77");
  EXPECT_EQ(Header(*rec, "ce_correlationid"), id);
  EXPECT_EQ(Header(*rec, "ce_aggregateversion"), "1");
  const std::string ce_id = Header(*rec, "ce_id");
  EXPECT_EQ(ce_id.size(), 36u);
  EXPECT_EQ(ce_id[14], '7') << "ce_id is not a UUIDv7: " << ce_id;
  absl::Time t, eff;
  ASSERT_TRUE(ParseRfc3339(Header(*rec, "ce_time"), &t)) << Header(*rec, "ce_time");
  ASSERT_TRUE(ParseRfc3339(Header(*rec, "ce_effectivetime"), &eff));
  EXPECT_GE(t, before - absl::Seconds(1));
  EXPECT_LE(t, absl::Now());
  auto env = events::FromHeaders(rec->headers);
  ASSERT_TRUE(env.ok()) << env.status();

  iv1::IdeaSubmitted payload;
  ASSERT_TRUE(payload.ParseFromString(rec->value));
  EXPECT_EQ(payload.idea().id(), id);
  EXPECT_EQ(payload.idea().title(), "Guichet unique");
  EXPECT_EQ(payload.idea().challenge_id(), challenge);
  EXPECT_EQ(payload.idea().author_id(), "agent-77");
  EXPECT_TRUE(payload.idea().contact_email().empty()) << "personal e-mail must stay off the log";
}

TEST_F(IdeasKafkaTest, JuryLifecycleEmitsOrderedEventsAndMetrics) {
  const std::string challenge = ideas_->OpenChallenge(/*quorum=*/2);
  auto call = [&](const char* actor, const char* roles, auto method, const auto& req, auto* resp) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, actor, roles);
    return (ideas_->stub().*method)(&ctx, req, resp);
  };
  iv1::SubmitIdeaResponse sub;
  ASSERT_TRUE(call("agent-1", "agent", &iv1::IdeaService::Stub::SubmitIdea,
                   IdeasProcess::Idea(challenge, "Dématérialiser les cartes de stationnement"), &sub)
                  .ok());
  const std::string id = sub.idea().id();

  iv1::AssignJurorsRequest assign;
  assign.set_challenge_id(challenge);
  assign.add_juror_ids("juror-a");
  assign.add_juror_ids("juror-b");
  iv1::Challenge ch;
  ASSERT_TRUE(call("coord-1", "coordinator", &iv1::IdeaService::Stub::AssignJurors, assign, &ch).ok());

  iv1::DecideIdeaRequest decide;
  decide.set_idea_id(id);
  decide.set_decision(iv1::IDEA_STATUS_SHORTLISTED);
  decide.set_rationale("Fort impact pour les usagers");
  iv1::Idea idea;
  grpc::Status early = call("coord-1", "coordinator", &iv1::IdeaService::Stub::DecideIdea, decide, &idea);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(early.error_message(), "jury quorum not reached: 0 of 2 scorecards");

  iv1::ScoreIdeaRequest score;
  score.set_idea_id(id);
  auto* s = score.add_scores();
  s->set_criterion("impact");
  iv1::Scorecard card;
  s->set_score(2);
  ASSERT_TRUE(call("juror-a", "juror", &iv1::IdeaService::Stub::ScoreIdea, score, &card).ok());
  s->set_score(4);  // juror-a changes their mind: replaces the scorecard
  ASSERT_TRUE(call("juror-a", "juror", &iv1::IdeaService::Stub::ScoreIdea, score, &card).ok());
  s->set_score(5);
  ASSERT_TRUE(call("juror-b", "juror", &iv1::IdeaService::Stub::ScoreIdea, score, &card).ok());
  grpc::Status outsider = call("juror-z", "juror", &iv1::IdeaService::Stub::ScoreIdea, score, &card);
  EXPECT_EQ(outsider.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  iv1::RankIdeasRequest rank_req;
  rank_req.set_challenge_id(challenge);
  iv1::RankIdeasResponse ranking;
  ASSERT_TRUE(call("coord-1", "coordinator", &iv1::IdeaService::Stub::RankIdeas, rank_req, &ranking).ok());
  ASSERT_EQ(ranking.ideas_size(), 1);
  EXPECT_DOUBLE_EQ(ranking.ideas(0).weighted_mean(), 4.5);  // (4 + 5) / 2: the replaced 2 is gone
  EXPECT_EQ(ranking.ideas(0).scorecard_count(), 2);

  ASSERT_TRUE(call("coord-1", "coordinator", &iv1::IdeaService::Stub::DecideIdea, decide, &idea).ok());
  decide.set_decision(iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION);
  ASSERT_TRUE(call("coord-1", "coordinator", &iv1::IdeaService::Stub::DecideIdea, decide, &idea).ok());
  EXPECT_EQ(idea.status(), iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION);
  iv1::WithdrawIdeaRequest wd;
  wd.set_idea_id(id);
  grpc::Status late = call("agent-1", "agent", &iv1::IdeaService::Stub::WithdrawIdea, wd, &idea);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(late.error_message(), "idea is SELECTED_FOR_EXPERIMENTATION: cannot become WITHDRAWN");

  const std::vector<std::string> want = {
      "pepiniere.ideas.v1.IdeaSubmitted", "pepiniere.ideas.v1.IdeaScored",
      "pepiniere.ideas.v1.IdeaScored",    "pepiniere.ideas.v1.IdeaScored",
      "pepiniere.ideas.v1.IdeaShortlisted", "pepiniere.ideas.v1.IdeaSelected"};
  std::vector<std::string> types;
  ReadTopicUntil(KafkaBroker::Shared().bootstrap(), kTopic, [&](const auto& rs) {
    types.clear();
    int64_t expected_version = 1;
    for (const auto& r : rs) {
      if (r.key != id) continue;
      EXPECT_EQ(Header(r, "ce_aggregateversion"), std::to_string(expected_version++));
      types.push_back(Header(r, "ce_type"));
    }
    return types.size() >= want.size();
  });
  EXPECT_EQ(types, want);

  // The choreography payload carries what pep-incubation needs to open the start-up.
  auto all = ReadTopicUntil(KafkaBroker::Shared().bootstrap(), kTopic, [&](const auto& rs) {
    for (const auto& r : rs) {
      if (r.key == id && Header(r, "ce_type") == "pepiniere.ideas.v1.IdeaSelected") return true;
    }
    return false;
  });
  for (const auto& r : all) {
    if (r.key != id || Header(r, "ce_type") != "pepiniere.ideas.v1.IdeaSelected") continue;
    iv1::IdeaSelected sel;
    ASSERT_TRUE(sel.ParseFromString(r.value));
    EXPECT_EQ(sel.title(), "Dématérialiser les cartes de stationnement");
    EXPECT_EQ(sel.challenge_id(), challenge);
    EXPECT_EQ(sel.decision().rationale(), "Fort impact pour les usagers");
    EXPECT_EQ(Header(r, "ce_actor"), "coord-1");
  }

  const std::string metrics = HttpGet(ideas_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find("pep_ideas_submitted_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("pep_ideas{status=\"selected_for_experimentation\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("pep_ideas_decisions_total{decision=\"shortlisted\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("grpc_code=\"PermissionDenied\",grpc_method=\"ScoreIdea\""), std::string::npos);
}

TEST_F(IdeasKafkaTest, SimilarIdeaGetsADuplicateHint) {
  const std::string challenge = ideas_->OpenChallenge();
  iv1::SubmitIdeaResponse first, second;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(ideas_->stub().SubmitIdea(&ctx, IdeasProcess::Idea(challenge, "Formulaire unique"), &first).ok());
  }
  EXPECT_EQ(first.similar_ideas_size(), 0);
  grpc::ClientContext ctx;
  auto req = IdeasProcess::Idea(challenge, "Un formulaire unique");
  ASSERT_TRUE(ideas_->stub().SubmitIdea(&ctx, req, &second).ok());
  ASSERT_EQ(second.similar_ideas_size(), 1);
  EXPECT_EQ(second.similar_ideas(0).idea_id(), first.idea().id());
  EXPECT_GT(second.similar_ideas(0).similarity(), 0.5);
  EXPECT_NE(second.similarity_method().find("Jaccard"), std::string::npos);
}

TEST_F(IdeasKafkaTest, ListFiltersPaginationEditAndWithdrawByAuthor) {
  const std::string challenge = ideas_->OpenChallenge();
  std::vector<std::string> by_a;
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, i < 3 ? "agent-a" : "agent-b", "agent");
    iv1::SubmitIdeaResponse resp;
    ASSERT_TRUE(ideas_->stub().SubmitIdea(&ctx, IdeasProcess::Idea(challenge, "Idée n°" + std::to_string(i)), &resp).ok());
    if (i < 3) by_a.push_back(resp.idea().id());
  }
  // Author filter, two per page: pages [a0 a1] [a2], in submission order.
  std::vector<std::string> seen;
  iv1::ListIdeasRequest list;
  list.set_challenge_id(challenge);
  list.set_author_id("agent-a");
  list.set_page_size(2);
  int pages = 0;
  do {
    grpc::ClientContext ctx;
    iv1::ListIdeasResponse page;
    ASSERT_TRUE(ideas_->stub().ListIdeas(&ctx, list, &page).ok());
    for (const auto& i : page.ideas()) seen.push_back(i.id());
    list.set_page_token(page.next_page_token());
    ++pages;
  } while (!list.page_token().empty());
  EXPECT_EQ(seen, by_a);
  EXPECT_EQ(pages, 2);

  iv1::EditIdeaRequest edit;
  edit.set_idea_id(by_a[0]);
  edit.set_title("Idée n°0, précisée");
  iv1::Idea idea;
  {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "agent-b", "agent");
    EXPECT_EQ(ideas_->stub().EditIdea(&ctx, edit, &idea).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "agent-a", "agent");
    ASSERT_TRUE(ideas_->stub().EditIdea(&ctx, edit, &idea).ok());
    EXPECT_EQ(idea.title(), "Idée n°0, précisée");
    EXPECT_EQ(idea.version(), 2);
  }
  {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "agent-a", "agent");
    iv1::WithdrawIdeaRequest wd;
    wd.set_idea_id(by_a[1]);
    wd.set_reason("Doublon");
    ASSERT_TRUE(ideas_->stub().WithdrawIdea(&ctx, wd, &idea).ok());
    EXPECT_EQ(idea.status(), iv1::IDEA_STATUS_WITHDRAWN);
  }
  {
    grpc::ClientContext ctx;
    iv1::ListIdeasRequest withdrawn;
    withdrawn.set_challenge_id(challenge);
    withdrawn.set_status(iv1::IDEA_STATUS_WITHDRAWN);
    iv1::ListIdeasResponse page;
    ASSERT_TRUE(ideas_->stub().ListIdeas(&ctx, withdrawn, &page).ok());
    ASSERT_EQ(page.ideas_size(), 1);
    EXPECT_EQ(page.ideas(0).id(), by_a[1]);
  }
  iv1::RankIdeasRequest rr;
  rr.set_challenge_id(challenge);
  iv1::RankIdeasResponse ranking;
  grpc::ClientContext ctx;
  ASSERT_TRUE(ideas_->stub().RankIdeas(&ctx, rr, &ranking).ok());
  EXPECT_EQ(ranking.ideas_size(), 4);  // the withdrawn idea is not ranked

  // The edit is an event recording old -> new.
  bool found = false;
  ReadTopicUntil(KafkaBroker::Shared().bootstrap(), kTopic, [&](const auto& rs) {
    for (const auto& r : rs) {
      if (r.key != by_a[0] || Header(r, "ce_type") != "pepiniere.ideas.v1.IdeaEdited") continue;
      iv1::IdeaEdited ev;
      EXPECT_TRUE(ev.ParseFromString(r.value));
      EXPECT_EQ(ev.changes_size(), 1);
      EXPECT_EQ(ev.changes(0).field(), "title");
      EXPECT_EQ(ev.changes(0).old_value(), "Idée n°0");
      EXPECT_EQ(ev.changes(0).new_value(), "Idée n°0, précisée");
      EXPECT_EQ(Header(r, "ce_aggregateversion"), "2");
      found = true;
    }
    return found;
  });
  EXPECT_TRUE(found);
}

TEST_F(IdeasKafkaTest, MetricsPassPromtoolAndSigtermDrainsTheOutbox) {
  const std::string challenge = ideas_->OpenChallenge();
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext ctx;
    iv1::SubmitIdeaResponse resp;
    ASSERT_TRUE(ideas_->stub().SubmitIdea(&ctx, IdeasProcess::Idea(challenge, "Idée " + std::to_string(i)), &resp).ok());
  }
  const std::string path = dir_.path() + "/metrics.txt";
  {
    std::ofstream out(path);
    out << HttpGet(ideas_->metrics_port(), "/metrics");
  }
  EXPECT_EQ(RunCommand("promtool check metrics < " + path), 0) << "promtool complained; see " << path;
  // Graceful stop: exit 0, nothing left unsent (the broker is up).
  EXPECT_EQ(ideas_->Terminate(), 0);
  EXPECT_EQ(UnsentOutboxRows(dir_.path() + "/ideas.db"), 0);
}

}  // namespace
}  // namespace pep::testing
