// pep-ideas' per-resource rules over real gRPC (a server on 127.0.0.1 that requires the gateway
// key): a call that carries the right key but the wrong principal is refused by the service
// itself — an agent reads only their own ideas, a juror only their challenges, contact e-mails
// are the coordinators' (and the author's).
#include "services/ideas/ideas_test_fixture.h"

namespace pep::ideas {
namespace {

TEST_P(IdeasOverGrpc, WithoutTheGatewayKeyNothingIsAnswered) {
  v1::ListChallengesRequest r;
  v1::ListChallengesResponse out;
  EXPECT_EQ(stub_->ListChallenges(As("coord", "coordinator", "wrong").get(), r, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_P(IdeasOverGrpc, AnAgentReadsOnlyTheirOwnIdeas) {
  const v1::Challenge c = OpenChallenge();
  const v1::Idea mine = Submit(c, "agent-a", "Formulaire unique");
  const v1::Idea theirs = Submit(c, "agent-b", "Guichet numérique");
  // The challenge itself is everyone's to read.
  v1::GetChallengeRequest gc;
  gc.set_challenge_id(c.id());
  v1::Challenge read;
  EXPECT_TRUE(stub_->GetChallenge(As("agent-a", "agent").get(), gc, &read).ok());

  v1::GetIdeaRequest get;
  get.set_idea_id(theirs.id());
  v1::Idea got;
  EXPECT_EQ(stub_->GetIdea(As("agent-a", "agent").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  get.set_idea_id(mine.id());
  ASSERT_TRUE(stub_->GetIdea(As("agent-a", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.contact_email(), "agent-a@departement06.fr");  // their own, in full

  // Listing the challenge gives their own only; asking for someone else's is refused by name.
  v1::ListIdeasRequest list;
  list.set_challenge_id(c.id());
  v1::ListIdeasResponse ideas;
  ASSERT_TRUE(stub_->ListIdeas(As("agent-a", "agent").get(), list, &ideas).ok());
  ASSERT_EQ(ideas.ideas_size(), 1);
  EXPECT_EQ(ideas.ideas(0).id(), mine.id());
  list.set_author_id("agent-b");
  grpc::Status s = stub_->ListIdeas(As("agent-a", "agent").get(), list, &ideas);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("author_id"), std::string::npos) << s.error_message();

  // Editing another's idea is refused too.
  v1::EditIdeaRequest edit;
  edit.set_idea_id(theirs.id());
  edit.set_title("Repris");
  EXPECT_EQ(stub_->EditIdea(As("agent-a", "agent").get(), edit, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(IdeasOverGrpc, AJurorReadsTheirChallengesOnlyAndNeverContactEmails) {
  const v1::Challenge sits = OpenChallenge();
  const v1::Challenge other = OpenChallenge();
  const v1::Idea on_jury = Submit(sits, "agent-a", "Formulaire unique");
  const v1::Idea elsewhere = Submit(other, "agent-b", "Guichet numérique");
  v1::AssignJurorsRequest assign;
  assign.set_challenge_id(sits.id());
  assign.add_juror_ids("juror-1");
  v1::Challenge ch;
  // Only a coordinator names a jury, even with the key.
  EXPECT_EQ(stub_->AssignJurors(As("juror-1", "juror,agent").get(), assign, &ch).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), assign, &ch).ok());

  v1::GetIdeaRequest get;
  get.set_idea_id(on_jury.id());
  v1::Idea got;
  ASSERT_TRUE(stub_->GetIdea(As("juror-1", "juror,agent").get(), get, &got).ok());
  EXPECT_EQ(got.contact_email(), "");  // the person stays the coordinators'
  get.set_idea_id(elsewhere.id());
  EXPECT_EQ(stub_->GetIdea(As("juror-1", "juror,agent").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::ListIdeasRequest list;
  list.set_challenge_id(sits.id());
  v1::ListIdeasResponse ideas;
  ASSERT_TRUE(stub_->ListIdeas(As("juror-1", "juror,agent").get(), list, &ideas).ok());
  ASSERT_EQ(ideas.ideas_size(), 1);
  EXPECT_EQ(ideas.ideas(0).contact_email(), "");
  list.set_challenge_id(other.id());
  ASSERT_TRUE(stub_->ListIdeas(As("juror-1", "juror,agent").get(), list, &ideas).ok());
  EXPECT_EQ(ideas.ideas_size(), 0);  // not their jury: only their own ideas, and they have none

  v1::RankIdeasRequest rank;
  rank.set_challenge_id(other.id());
  v1::RankIdeasResponse ranking;
  EXPECT_EQ(stub_->RankIdeas(As("juror-1", "juror,agent").get(), rank, &ranking).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  rank.set_challenge_id(sits.id());
  EXPECT_TRUE(stub_->RankIdeas(As("juror-1", "juror,agent").get(), rank, &ranking).ok());

  v1::ScoreIdeaRequest score;
  score.set_idea_id(elsewhere.id());
  auto* sc = score.add_scores();
  sc->set_criterion("impact");
  sc->set_score(4);
  v1::Scorecard card;
  EXPECT_EQ(stub_->ScoreIdea(As("juror-1", "juror,agent").get(), score, &card).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  score.set_idea_id(on_jury.id());
  ASSERT_TRUE(stub_->ScoreIdea(As("juror-1", "juror,agent").get(), score, &card).ok());
  // Issue 26: a juror who is also an agent may submit to the challenge they judge, but never
  // scores their own idea (it used to be accepted and count toward the quorum).
  const v1::Idea own = Submit(sits, "juror-1", "Mon idée à moi");
  score.set_idea_id(own.id());
  grpc::Status self = stub_->ScoreIdea(As("juror-1", "juror,agent").get(), score, &card);
  EXPECT_EQ(self.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(self.error_message().find("own idea"), std::string::npos) << self.error_message();
  score.set_idea_id(on_jury.id());
  ASSERT_TRUE(stub_->ScoreIdea(As("juror-1", "juror,agent").get(), score, &card).ok());

  // The jury's progress: every scorecard of the challenge, for its jurors and coordinators only.
  v1::ListScorecardsRequest progress;
  progress.set_challenge_id(sits.id());
  v1::ListScorecardsResponse cards;
  ASSERT_TRUE(stub_->ListScorecards(As("juror-1", "juror,agent").get(), progress, &cards).ok());
  ASSERT_EQ(cards.scorecards_size(), 1);
  EXPECT_EQ(cards.scorecards(0).juror_id(), "juror-1");
  EXPECT_EQ(cards.scorecards(0).idea_id(), on_jury.id());
  progress.set_challenge_id(other.id());
  EXPECT_EQ(stub_->ListScorecards(As("juror-1", "juror,agent").get(), progress, &cards).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Both filters (the challenge's route with ?idea_id=, the idea's with ?challenge_id=): that
  // idea's scorecards if it is in that challenge, else not found.
  progress.set_challenge_id(sits.id());
  progress.set_idea_id(on_jury.id());
  ASSERT_TRUE(stub_->ListScorecards(As("coord", "coordinator").get(), progress, &cards).ok());
  ASSERT_EQ(cards.scorecards_size(), 1);
  EXPECT_EQ(cards.scorecards(0).idea_id(), on_jury.id());
  progress.set_challenge_id(other.id());
  EXPECT_EQ(stub_->ListScorecards(As("coord", "coordinator").get(), progress, &cards).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Off the jury, the same juror reads nothing of it any more.
  v1::RemoveJurorsRequest remove;
  remove.set_challenge_id(sits.id());
  remove.add_juror_ids("juror-1");
  ASSERT_TRUE(stub_->RemoveJurors(As("coord", "coordinator").get(), remove, &ch).ok());
  EXPECT_EQ(ch.juror_ids_size(), 0);
  get.set_idea_id(on_jury.id());
  EXPECT_EQ(stub_->GetIdea(As("juror-1", "juror,agent").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A coordinator sees the contact e-mail.
  ASSERT_TRUE(stub_->GetIdea(As("coord", "coordinator").get(), get, &got).ok());
  EXPECT_EQ(got.contact_email(), "agent-a@departement06.fr");
}

// Another replica on the same database: an idea it stored reaches this replica's duplicate
// hints at this one's next Reload (main() calls it every 30 s on PostgreSQL), not before.
TEST_P(IdeasOverGrpc, AReplicaHintsWhatAnotherStoredOnceItReloads) {
  const v1::Challenge c = OpenChallenge(v1::VISIBILITY_AGENTS);  // agents read each other's ideas
  auto other_store = IdeasStore::Open(url_, SystemClock::Get());
  ASSERT_TRUE(other_store.ok()) << other_store.status();
  prometheus::Registry other_registry;
  IdeasMetrics other_metrics(other_registry);
  IdeasService other(**other_store, other_metrics, nullptr,
                     {.auth = {.insecure_dev = false, .gateway_key = kKey}});
  ASSERT_TRUE(other.Init().ok());
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&other);
  auto server = b.BuildAndStart();
  auto other_stub = v1::IdeaService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  const std::string title = "Un formulaire unique pour les aides sociales";
  const v1::Idea there = SubmitVia(*other_stub, c, "agent-a", title).idea();
  auto hinted = [&](const v1::SubmitIdeaResponse& r) {
    for (const auto& h : r.similar_ideas()) {
      if (h.idea_id() == there.id()) return true;
    }
    return false;
  };
  EXPECT_FALSE(hinted(SubmitVia(*stub_, c, "agent-b", title))) << "hinted before any reload";
  ASSERT_TRUE(svc_.Reload().ok());
  EXPECT_TRUE(hinted(SubmitVia(*stub_, c, "agent-c", title)))
      << "the other replica's idea is not hinted after the reload";
  server->Shutdown();
}

TEST_P(IdeasOverGrpc, AgentsReadAndSupportEachOthersIdeasOnlyWhereTheChallengeSaysSo) {
  const v1::Challenge jury_only = OpenChallenge();
  const v1::Idea hidden = Submit(jury_only, "agent-a", "Un guichet unique pour la voirie");
  // Jury-private (the default): another agent reads nothing and supports nothing.
  v1::GetIdeaRequest get;
  get.set_idea_id(hidden.id());
  v1::Idea got;
  EXPECT_EQ(stub_->GetIdea(As("agent-b", "agent").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::SupportIdeaRequest sup;
  sup.set_idea_id(hidden.id());
  EXPECT_EQ(stub_->SupportIdea(As("agent-b", "agent").get(), sup, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListIdeasRequest list;
  list.set_challenge_id(jury_only.id());
  v1::ListIdeasResponse listed;
  ASSERT_TRUE(stub_->ListIdeas(As("agent-b", "agent").get(), list, &listed).ok());
  EXPECT_EQ(listed.ideas_size(), 0);

  // Opened to all agents, with a threshold of 2 supports; only a coordinator may do that.
  v1::SetChallengeVisibilityRequest vis;
  vis.set_challenge_id(jury_only.id());
  vis.set_visibility(v1::VISIBILITY_AGENTS);
  vis.set_support_threshold(2);
  v1::Challenge c;
  EXPECT_EQ(stub_->SetChallengeVisibility(As("agent-b", "agent").get(), vis, &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->SetChallengeVisibility(As("coord", "coordinator").get(), vis, &c).ok());
  EXPECT_EQ(c.visibility(), v1::VISIBILITY_AGENTS);

  // Anne hides her name on her second idea: other agents read it without author or service.
  v1::SubmitIdeaRequest r;
  r.set_challenge_id(c.id());
  r.set_title("Des bancs à l'ombre");
  r.set_problem("Pas d'ombre");
  r.set_proposal("Des arbres");
  r.set_author_name("Anne Martin");
  r.set_department("Routes");
  r.set_contact_email("anne@departement06.fr");
  r.set_hide_author(true);
  v1::SubmitIdeaResponse anon;
  ASSERT_TRUE(stub_->SubmitIdea(As("agent-a", "agent").get(), r, &anon).ok());
  get.set_idea_id(anon.idea().id());
  ASSERT_TRUE(stub_->GetIdea(As("agent-b", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.author_name(), "");
  EXPECT_EQ(got.department(), "");
  EXPECT_EQ(got.author_id(), "");
  EXPECT_EQ(got.contact_email(), "");
  ASSERT_TRUE(stub_->GetIdea(As("coord", "coordinator").get(), get, &got).ok());
  EXPECT_EQ(got.author_name(), "Anne Martin");
  // Nobody but the staff asks for one person's ideas (that would unmask her).
  list.set_author_id("agent-a");
  EXPECT_EQ(stub_->ListIdeas(As("agent-b", "agent").get(), list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  list.clear_author_id();
  ASSERT_TRUE(stub_->ListIdeas(As("agent-b", "agent").get(), list, &listed).ok());
  EXPECT_EQ(listed.ideas_size(), 2);

  // Supports: not one's own, once each, withdrawable; the threshold shortlists.
  sup.set_idea_id(hidden.id());
  EXPECT_EQ(stub_->SupportIdea(As("agent-a", "agent").get(), sup, &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(stub_->SupportIdea(As("agent-b", "agent").get(), sup, &got).ok());
  EXPECT_EQ(got.supports(), 1);
  EXPECT_TRUE(got.supported_by_me());
  EXPECT_EQ(stub_->SupportIdea(As("agent-b", "agent").get(), sup, &got).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(stub_->WithdrawSupport(As("agent-b", "agent").get(), sup, &got).ok());
  EXPECT_EQ(got.supports(), 0);
  EXPECT_EQ(stub_->WithdrawSupport(As("agent-b", "agent").get(), sup, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(stub_->SupportIdea(As("agent-b", "agent").get(), sup, &got).ok());
  EXPECT_EQ(got.status(), v1::IDEA_STATUS_SUBMITTED);
  ASSERT_TRUE(stub_->SupportIdea(As("agent-c", "agent").get(), sup, &got).ok());
  EXPECT_EQ(got.supports(), 2);
  EXPECT_EQ(got.status(), v1::IDEA_STATUS_SHORTLISTED);
  EXPECT_EQ(got.last_decision().rationale(), "") << "the reasons are the author's";
  get.set_idea_id(hidden.id());
  ASSERT_TRUE(stub_->GetIdea(As("agent-a", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.last_decision().rationale(), "2 agents la soutiennent (seuil du défi : 2)");
  EXPECT_FALSE(got.supported_by_me());
  // Compare before submitting: the look-alikes a caller may read — in the jury-private
  // challenge another agent's idea is never hinted, in this one it is.
  const v1::Challenge private_again = OpenChallenge();
  Submit(private_again, "agent-a", "Un guichet unique pour les aides sociales");
  v1::FindSimilarIdeasRequest similar;
  similar.set_challenge_id(private_again.id());
  similar.set_title("Un guichet unique pour les aides sociales du département");
  similar.set_problem("Trop de formulaires papier pour une même démarche");
  similar.set_proposal("Un formulaire unique en ligne, prérempli");
  v1::FindSimilarIdeasResponse found;
  ASSERT_TRUE(stub_->FindSimilarIdeas(As("agent-b", "agent").get(), similar, &found).ok());
  EXPECT_EQ(found.similar_ideas_size(), 0);
  EXPECT_EQ(SubmitVia(*stub_, private_again, "agent-b", similar.title()).similar_ideas_size(), 0)
      << "a submission's hints leak no unreadable title either";
  ASSERT_TRUE(stub_->FindSimilarIdeas(As("coord", "coordinator").get(), similar, &found).ok());
  EXPECT_EQ(found.similar_ideas_size(), 2);
  similar.set_challenge_id(c.id());
  similar.set_title("Des bancs à l'ombre sur les places");
  similar.set_problem("Pas d'ombre");
  similar.set_proposal("Des arbres");
  ASSERT_TRUE(stub_->FindSimilarIdeas(As("agent-b", "agent").get(), similar, &found).ok());
  ASSERT_EQ(found.similar_ideas_size(), 1);
  EXPECT_EQ(found.similar_ideas(0).idea_id(), anon.idea().id());
  // The jury sees the supports beside the scores, never in the ranking's order.
  v1::RankIdeasRequest rank;
  rank.set_challenge_id(c.id());
  v1::RankIdeasResponse ranked;
  ASSERT_TRUE(stub_->RankIdeas(As("coord", "coordinator").get(), rank, &ranked).ok());
  int supports = -1;
  for (const auto& i : ranked.ideas()) {
    if (i.idea_id() == hidden.id()) supports = i.supports();
  }
  EXPECT_EQ(supports, 2);
}

PEP_ON_BOTH_ENGINES(IdeasOverGrpc);

}  // namespace
}  // namespace pep::ideas
