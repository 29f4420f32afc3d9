// Bad input against the running pep-ideas: each refused precisely (code + field), none crashes
// the service, and nothing of it is stored or emitted.
#include "events/envelope.h"
#include "events/kafka.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/ideas/v1/events.pb.h"

namespace pep::testing {
namespace {

class IdeasBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(events::EnsureTopics(KafkaBroker::Shared().bootstrap(), events::PepiniereTopics()).ok());
    ideas_ = std::make_unique<IdeasProcess>(KafkaBroker::Shared().bootstrap(), dir_.path());
    ideas_->Start();
    challenge_ = ideas_->OpenChallenge();
  }

  grpc::Status Submit(const iv1::SubmitIdeaRequest& r) {
    grpc::ClientContext ctx;
    iv1::SubmitIdeaResponse resp;
    return ideas_->stub().SubmitIdea(&ctx, r, &resp);
  }

  int IdeasStored() {
    grpc::ClientContext ctx;
    iv1::ListIdeasRequest req;
    req.set_page_size(500);
    iv1::ListIdeasResponse resp;
    EXPECT_TRUE(ideas_->stub().ListIdeas(&ctx, req, &resp).ok());
    return resp.ideas_size();
  }

  TempDir dir_;
  std::unique_ptr<IdeasProcess> ideas_;
  std::string challenge_;
};

void ExpectField(const grpc::Status& s, const std::string& field) {
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message().substr(0, field.size() + 1), field + ":") << s.error_message();
}

TEST_F(IdeasBadInput, EachIsRefusedPreciselyAndNothingIsStored) {
  // Oversized message: refused by gRPC's max receive size before any handler runs.
  auto big = IdeasProcess::Idea(challenge_, "Trop gros");
  big.set_proposal(std::string(2 << 20, 'x'));
  EXPECT_EQ(Submit(big).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  auto r = IdeasProcess::Idea(challenge_, "");
  ExpectField(Submit(r), "title");
  r = IdeasProcess::Idea(challenge_, std::string(141, 't'));
  grpc::Status too_long = Submit(r);
  ExpectField(too_long, "title");
  EXPECT_EQ(too_long.error_message(), "title: must be 1-140 characters (got 141)");
  r = IdeasProcess::Idea(challenge_, "Ok");
  r.set_problem(std::string(10001, 'p'));
  ExpectField(Submit(r), "problem");
  r = IdeasProcess::Idea(challenge_, "Ok");
  r.set_contact_email("pas-une-adresse");
  ExpectField(Submit(r), "contact_email");
  r = IdeasProcess::Idea(challenge_, "Ok");
  r.set_author_name("Caf\x01");
  ExpectField(Submit(r), "author_name");

  // Invalid UTF-8 in a proto3 string: protobuf's parser rejects the request on the server
  // before the handler runs, so no field can be named; the service maps that to a clear
  // INVALID_ARGUMENT instead of grpc++'s bare INTERNAL.
  r = IdeasProcess::Idea(challenge_, "caf\xC3\x28");
  grpc::Status utf8 = Submit(r);
  EXPECT_EQ(utf8.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << utf8.error_message();
  EXPECT_NE(utf8.error_message().find("not valid UTF-8"), std::string::npos) << utf8.error_message();

  // Unknown challenge (well-formed id) and malformed id.
  r = IdeasProcess::Idea("019aca55-9e00-7000-8000-000000000000", "Ok");
  grpc::Status unknown = Submit(r);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.error_message(), "challenge 019aca55-9e00-7000-8000-000000000000 not found");
  ExpectField(Submit(IdeasProcess::Idea("42", "Ok")), "challenge_id");

  // Closed challenge.
  {
    grpc::ClientContext ctx;
    iv1::ChallengeTransitionRequest close;
    close.set_challenge_id(challenge_);
    iv1::Challenge ch;
    ASSERT_TRUE(ideas_->stub().CloseChallenge(&ctx, close, &ch).ok());
  }
  grpc::Status closed = Submit(IdeasProcess::Idea(challenge_, "Trop tard"));
  EXPECT_EQ(closed.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(closed.error_message(), "challenge is CLOSED: ideas are accepted only while it is OPEN");

  EXPECT_EQ(IdeasStored(), 0);
  EXPECT_TRUE(ideas_->Running());
}

TEST_F(IdeasBadInput, ScoresOutOfRangeAreRefusedAndNotStored) {
  iv1::SubmitIdeaResponse sub;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(ideas_->stub().SubmitIdea(&ctx, IdeasProcess::Idea(challenge_, "À noter"), &sub).ok());
  }
  {
    grpc::ClientContext ctx;
    iv1::AssignJurorsRequest a;
    a.set_challenge_id(challenge_);
    a.add_juror_ids("juror-a");
    iv1::Challenge ch;
    ASSERT_TRUE(ideas_->stub().AssignJurors(&ctx, a, &ch).ok());
  }
  for (int bad : {-1, 6, 1000}) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "juror-a", "juror");
    iv1::ScoreIdeaRequest s;
    s.set_idea_id(sub.idea().id());
    auto* cs = s.add_scores();
    cs->set_criterion("impact");
    cs->set_score(bad);
    iv1::Scorecard card;
    grpc::Status st = ideas_->stub().ScoreIdea(&ctx, s, &card);
    ExpectField(st, "scores[0].score");
    EXPECT_EQ(st.error_message(), "scores[0].score: must be 0-5 (got " + std::to_string(bad) + ")");
  }
  grpc::ClientContext ctx;
  iv1::ListScorecardsRequest lr;
  lr.set_idea_id(sub.idea().id());
  iv1::ListScorecardsResponse cards;
  ASSERT_TRUE(ideas_->stub().ListScorecards(&ctx, lr, &cards).ok());
  EXPECT_EQ(cards.scorecards_size(), 0);
  grpc::ClientContext ctx2;
  iv1::GetIdeaRequest gr;
  gr.set_idea_id(sub.idea().id());
  iv1::Idea idea;
  ASSERT_TRUE(ideas_->stub().GetIdea(&ctx2, gr, &idea).ok());
  EXPECT_EQ(idea.version(), 1) << "a refused score must not bump the idea";
}

}  // namespace
}  // namespace pep::testing
