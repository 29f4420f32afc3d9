// pep-ideas' agents' rules over real gRPC, each with the wrong principal too (issue 29):
// comments (masked, one level, 15 minutes, reported, hidden), blind review and conflicts of
// interest, results announced together, sealed scoring against its commitments, co-authors by
// invitation, drafts.
#include "services/ideas/ideas_test_fixture.h"

namespace pep::ideas {
namespace {

TEST_P(IdeasOverGrpc, CommentsGoWithTheIdeaMaskedThreadedEditedBrieflyAndModerated) {
  auto add = [&](const std::string& who, const std::string& idea, const std::string& body,
                 const std::string& parent, v1::Comment* out) {
    v1::AddCommentRequest r;
    r.set_idea_id(idea);
    r.set_parent_id(parent);
    r.set_body(body);
    r.set_author_name("Agent " + who);
    return stub_->AddComment(As(who, "agent").get(), r, out);
  };
  v1::Comment got;
  // A jury-private challenge's idea: its comments are as closed as the idea.
  const v1::Idea closed = Submit(OpenChallenge(), "agent-a", "Des vélos de service");
  EXPECT_EQ(add("agent-b", closed.id(), "Bonne idée", "", &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListCommentsRequest list;
  list.set_idea_id(closed.id());
  v1::ListCommentsResponse thread;
  EXPECT_EQ(stub_->ListComments(As("agent-b", "agent").get(), list, &thread).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // All agents: the author hides their name; agent-b comments with a phone number in it.
  const v1::Challenge c = OpenChallenge(v1::VISIBILITY_AGENTS);
  v1::SubmitIdeaRequest r;
  r.set_challenge_id(c.id());
  r.set_title("Covoiturage entre agents du département");
  r.set_problem("Les parkings des collèges sont pleins");
  r.set_proposal("Une plateforme de covoiturage interne");
  r.set_author_name("Zoé Ardoin");
  r.set_department("Voirie");
  r.set_contact_email("zoe.ardoin@departement06.fr");
  r.set_hide_author(true);
  v1::SubmitIdeaResponse submitted;
  ASSERT_TRUE(stub_->SubmitIdea(As("agent-a", "agent").get(), r, &submitted).ok());
  const std::string idea = submitted.idea().id();
  v1::Comment first;
  ASSERT_TRUE(add("agent-b", idea, "Partant ! Appelez-moi au 06 12 34 56 78", "", &first).ok());
  EXPECT_EQ(first.body(), "Partant ! Appelez-moi au [téléphone]");
  EXPECT_EQ(first.pii_kinds_size(), 1);
  v1::Comment answer;
  ASSERT_TRUE(add("agent-a", idea, "Merci, je vous écris", first.id(), &answer).ok());
  EXPECT_EQ(add("agent-c", idea, "Et moi ?", answer.id(), &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT) << "answers are one level deep";
  v1::Comment second;
  ASSERT_TRUE(add("agent-c", idea, "Et le week-end ?", "", &second).ok());
  // The thread, each answer after its comment; the hidden author stays unnamed to others.
  list.set_idea_id(idea);
  ASSERT_TRUE(stub_->ListComments(As("agent-c", "agent").get(), list, &thread).ok());
  ASSERT_EQ(thread.comments_size(), 3) << thread.DebugString();
  EXPECT_EQ(thread.comments(0).id(), first.id());
  EXPECT_EQ(thread.comments(1).id(), answer.id());
  EXPECT_EQ(thread.comments(2).id(), second.id());
  EXPECT_EQ(thread.comments(1).author_id(), "");
  EXPECT_EQ(thread.comments(1).author_name(), "L'auteur·e de l'idée");
  ASSERT_TRUE(stub_->ListComments(As("coord", "coordinator").get(), list, &thread).ok());
  EXPECT_EQ(thread.comments(1).author_id(), "agent-a");
  // Edited by its author only, within 15 minutes.
  v1::EditCommentRequest edit;
  edit.set_comment_id(first.id());
  edit.set_body("Partant, écrivez-moi à b@departement06.fr");
  EXPECT_EQ(stub_->EditComment(As("agent-c", "agent").get(), edit, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->EditComment(As("agent-b", "agent").get(), edit, &got).ok());
  EXPECT_EQ(got.body(), "Partant, écrivez-moi à [email]");
  EXPECT_TRUE(got.has_edited_at());
  clock_.Advance(absl::Minutes(16));
  EXPECT_EQ(stub_->EditComment(As("agent-b", "agent").get(), edit, &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Reported once per reader, never by its author; hidden by a coordinator with a reason.
  v1::ReportCommentRequest report;
  report.set_comment_id(second.id());
  report.set_reason("Hors sujet, et il cite mon 06 12 34 56 79");
  ASSERT_TRUE(stub_->ReportComment(As("agent-b", "agent").get(), report, &got).ok());
  EXPECT_TRUE(got.reported_by_me());
  EXPECT_EQ(got.reports(), 0) << "the count is the coordinators'";
  EXPECT_EQ(stub_->ReportComment(As("agent-b", "agent").get(), report, &got).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(stub_->ReportComment(As("agent-c", "agent").get(), report, &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::HideCommentRequest hide;
  hide.set_comment_id(second.id());
  hide.set_reason("Hors sujet");
  EXPECT_EQ(stub_->HideComment(As("agent-b", "agent").get(), hide, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->HideComment(As("coord", "coordinator").get(), hide, &got).ok());
  EXPECT_EQ(add("agent-b", idea, "Réponse", second.id(), &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION) << "a hidden comment takes no answers";
  for (const char* reader : {"agent-b", "agent-a"}) {
    ASSERT_TRUE(stub_->ListComments(As(reader, "agent").get(), list, &thread).ok());
    const v1::Comment& h = thread.comments(2);
    EXPECT_TRUE(h.hidden());
    EXPECT_EQ(h.body(), "") << reader << " reads no hidden text";
    EXPECT_EQ(h.hidden_reason(), "Hors sujet");
  }
  ASSERT_TRUE(stub_->ListComments(As("coord", "coordinator").get(), list, &thread).ok());
  EXPECT_EQ(thread.comments(2).body(), "Et le week-end ?");
  EXPECT_EQ(thread.comments(2).reports(), 1);
  ASSERT_EQ(thread.comments(2).report_reasons_size(), 1);
  EXPECT_EQ(thread.comments(2).report_reasons(0), "Hors sujet, et il cite mon [téléphone]");
  // Five comments a minute per person, then "retry in".
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(add("agent-d", idea, absl::StrCat("Remarque ", i), "", &got).ok()) << i;
  }
  grpc::Status limited = add("agent-d", idea, "Une de trop", "", &got);
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(limited.error_message().find("retry in"), std::string::npos) << limited.error_message();
  clock_.Advance(absl::Seconds(61));
  EXPECT_TRUE(add("agent-d", idea, "Une de plus", "", &got).ok());
  // A request id makes a retried comment the first one; reused on another idea, a conflict.
  v1::AddCommentRequest retry;
  retry.set_idea_id(idea);
  retry.set_body("Une seule fois");
  retry.set_author_name("Agent e");
  retry.set_request_id("commentaire-1");
  v1::Comment once, again;
  ASSERT_TRUE(stub_->AddComment(As("agent-e", "agent").get(), retry, &once).ok());
  ASSERT_TRUE(stub_->AddComment(As("agent-e", "agent").get(), retry, &again).ok());
  EXPECT_EQ(again.id(), once.id());
  retry.set_idea_id(closed.id());
  EXPECT_EQ(stub_->AddComment(As("agent-e", "agent").get(), retry, &again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  // Nothing of the raw texts is stored; the events carry no author's name.
  auto db = store::Db::Connect(url_);
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT COUNT(*) FROM comments WHERE data LIKE '%06 12 34%' OR data LIKE '%b@dep%'");
  ASSERT_TRUE(q->Step().value_or(false));
  EXPECT_EQ(q->Int(0), 0);
  auto o = (*db)->Prepare("SELECT payload, headers FROM outbox");
  int commented = 0;
  while (o->Step().value_or(false)) {
    EXPECT_EQ(o->Text(0).find("06 12 34"), std::string::npos);
    auto h = store::DecodeHeaders(o->Text(1));
    if (*events::FindHeader(*h, "ce_type") != "pepiniere.ideas.v1.IdeaCommented") continue;
    ++commented;
    v1::IdeaCommented ev;
    ASSERT_TRUE(ev.ParseFromString(o->Text(0)));
    EXPECT_EQ(ev.comment().author_name(), "");
    EXPECT_EQ(*events::FindHeader(*h, "ce_correlationid"), idea);
  }
  EXPECT_EQ(commented, 10);
}

TEST_P(IdeasOverGrpc, ABlindJurySeesNoAuthorAndAConflictedJurorNeitherScoresNorCounts) {
  v1::CreateChallengeRequest create;
  create.set_title("Défi à l'aveugle");
  create.set_theme("voirie");
  auto* crit = create.add_criteria();
  crit->set_name("impact");
  crit->set_weight(1);
  create.set_jury_quorum(1);
  create.set_blind_review(true);
  v1::Challenge c;
  ASSERT_TRUE(stub_->CreateChallenge(As("coord", "coordinator").get(), create, &c).ok());
  v1::ChallengeTransitionRequest open;
  open.set_challenge_id(c.id());
  ASSERT_TRUE(stub_->OpenChallenge(As("coord", "coordinator").get(), open, &c).ok());
  v1::AssignJurorsRequest assign;
  assign.set_challenge_id(c.id());
  assign.add_juror_ids("juror-1");
  assign.add_juror_ids("juror-2");
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), assign, &c).ok());
  const v1::Idea idea = Submit(c, "agent-a", "Éclairage public intelligent");
  // Blind: no author, no service, no contact for the jury; coordinators see them.
  v1::GetIdeaRequest get;
  get.set_idea_id(idea.id());
  v1::Idea got;
  ASSERT_TRUE(stub_->GetIdea(As("juror-1", "juror").get(), get, &got).ok());
  EXPECT_EQ(got.author_id(), "");
  EXPECT_EQ(got.author_name(), "");
  EXPECT_EQ(got.department(), "");
  ASSERT_TRUE(stub_->GetIdea(As("coord", "coordinator").get(), get, &got).ok());
  EXPECT_EQ(got.author_name(), "agent-a");
  v1::ListIdeasRequest by_author;
  by_author.set_challenge_id(c.id());
  by_author.set_author_id("agent-a");
  v1::ListIdeasResponse listed;
  EXPECT_EQ(stub_->ListIdeas(As("juror-1", "juror").get(), by_author, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT) << "a blind jury does not list one person's ideas";
  by_author.clear_author_id();
  ASSERT_TRUE(stub_->ListIdeas(As("juror-1", "juror").get(), by_author, &listed).ok());
  ASSERT_EQ(listed.ideas_size(), 1);
  EXPECT_EQ(listed.ideas(0).author_name(), "");
  // Juror 1 scores, then steps aside: the card stays on record, counts no more; no new one.
  v1::ScoreIdeaRequest score;
  score.set_idea_id(idea.id());
  auto* s1 = score.add_scores();
  s1->set_criterion("impact");
  s1->set_score(1);
  v1::Scorecard card;
  ASSERT_TRUE(stub_->ScoreIdea(As("juror-1", "juror").get(), score, &card).ok());
  v1::DeclareConflictRequest conflict;
  conflict.set_idea_id(idea.id());
  EXPECT_EQ(stub_->DeclareConflict(As("agent-b", "agent").get(), conflict, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED) << "only a juror of the challenge steps aside";
  ASSERT_TRUE(stub_->DeclareConflict(As("juror-1", "juror").get(), conflict, &got).ok());
  ASSERT_EQ(got.conflicted_juror_ids_size(), 1);
  EXPECT_EQ(stub_->ScoreIdea(As("juror-1", "juror").get(), score, &card).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::RankIdeasRequest rank;
  rank.set_challenge_id(c.id());
  v1::RankIdeasResponse ranked;
  ASSERT_TRUE(stub_->RankIdeas(As("coord", "coordinator").get(), rank, &ranked).ok());
  EXPECT_EQ(ranked.ideas(0).scorecard_count(), 0);
  EXPECT_EQ(ranked.ideas(0).conflicts(), 1);
  v1::DecideIdeaRequest decide;
  decide.set_idea_id(idea.id());
  decide.set_decision(v1::IDEA_STATUS_SHORTLISTED);
  decide.set_rationale("Prometteuse");
  EXPECT_EQ(stub_->DecideIdea(As("coord", "coordinator").get(), decide, &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION) << "the conflicted card does not make the quorum";
  s1->set_score(5);
  ASSERT_TRUE(stub_->ScoreIdea(As("juror-2", "juror").get(), score, &card).ok());
  ASSERT_TRUE(stub_->RankIdeas(As("juror-2", "juror").get(), rank, &ranked).ok());
  EXPECT_DOUBLE_EQ(ranked.ideas(0).weighted_mean(), 5.0) << "juror 1's 1/5 is left out";
  ASSERT_TRUE(stub_->DecideIdea(As("coord", "coordinator").get(), decide, &got).ok());
  // The author does not learn who stepped aside; once decided, the jury sees who wrote it.
  ASSERT_TRUE(stub_->GetIdea(As("agent-a", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.conflicted_juror_ids_size(), 0);
  ASSERT_TRUE(stub_->GetIdea(As("juror-2", "juror").get(), get, &got).ok());
  EXPECT_EQ(got.author_name(), "") << "shortlisted is still under review";
  decide.set_decision(v1::IDEA_STATUS_AWARDED);
  ASSERT_TRUE(stub_->DecideIdea(As("coord", "coordinator").get(), decide, &got).ok());
  ASSERT_TRUE(stub_->GetIdea(As("juror-2", "juror").get(), get, &got).ok());
  EXPECT_EQ(got.author_name(), "agent-a");
}

TEST_P(IdeasOverGrpc, DecisionsWaitForTheAnnouncementAndArePublishedTogether) {
  v1::Challenge c = OpenChallenge();
  v1::AssignJurorsRequest assign;
  assign.set_challenge_id(c.id());
  assign.add_juror_ids("juror-1");
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), assign, &c).ok());
  const v1::Idea first = Submit(c, "agent-a", "Navette entre les collèges");
  const v1::Idea second = Submit(c, "agent-b", "Tri des biodéchets à la cantine");
  for (const auto& idea : {first, second}) {
    v1::ScoreIdeaRequest score;
    score.set_idea_id(idea.id());
    auto* k = score.add_scores();
    k->set_criterion("impact");
    k->set_score(4);
    v1::Scorecard card;
    ASSERT_TRUE(stub_->ScoreIdea(As("juror-1", "juror").get(), score, &card).ok());
  }
  v1::ScheduleResultsRequest schedule;
  schedule.set_challenge_id(c.id());
  *schedule.mutable_results_at() = ToTimestamp(clock_.Now() - absl::Minutes(1));
  grpc::Status past = stub_->ScheduleResults(As("coord", "coordinator").get(), schedule, &c);
  EXPECT_EQ(past.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(past.error_message().rfind("results_at:", 0), 0u) << past.error_message();
  *schedule.mutable_results_at() = ToTimestamp(clock_.Now() + absl::Hours(1));
  EXPECT_EQ(stub_->ScheduleResults(As("agent-a", "agent").get(), schedule, &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->ScheduleResults(As("coord", "coordinator").get(), schedule, &c).ok());
  // Three decisions, one following another before the announcement.
  auto decide = [&](const v1::Idea& idea, v1::IdeaStatus d) {
    v1::DecideIdeaRequest r;
    r.set_idea_id(idea.id());
    r.set_decision(d);
    r.set_rationale("Décision du jury du 12 mars");
    v1::Idea out;
    grpc::Status s = stub_->DecideIdea(As("coord", "coordinator").get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };
  decide(first, v1::IDEA_STATUS_SHORTLISTED);
  EXPECT_EQ(decide(first, v1::IDEA_STATUS_AWARDED).pending_decisions_size(), 2);
  decide(second, v1::IDEA_STATUS_REJECTED);
  v1::GetIdeaRequest get;
  get.set_idea_id(first.id());
  v1::Idea seen;
  ASSERT_TRUE(stub_->GetIdea(As("agent-a", "agent").get(), get, &seen).ok());
  EXPECT_EQ(seen.status(), v1::IDEA_STATUS_SUBMITTED) << "nothing is told before the announcement";
  EXPECT_EQ(seen.pending_decisions_size(), 0);
  auto published_events = [&] {
    auto db = store::Db::Connect(url_);
    auto o = (*db)->Prepare("SELECT headers FROM outbox");
    int n = 0;
    while (o->Step().value_or(false)) {
      auto h = store::DecodeHeaders(o->Text(0));
      const std::string t = *events::FindHeader(*h, "ce_type");
      n += t == "pepiniere.ideas.v1.IdeaShortlisted" || t == "pepiniere.ideas.v1.IdeaAwarded" ||
           t == "pepiniere.ideas.v1.IdeaRejected";
    }
    return n;
  };
  EXPECT_EQ(published_events(), 0);
  EXPECT_EQ(*svc_.PublishDueResults(), 0) << "not yet";
  clock_.Advance(absl::Minutes(61));
  EXPECT_EQ(*svc_.PublishDueResults(), 3);
  EXPECT_EQ(published_events(), 3);
  EXPECT_EQ(*svc_.PublishDueResults(), 0) << "once";
  ASSERT_TRUE(stub_->GetIdea(As("agent-a", "agent").get(), get, &seen).ok());
  EXPECT_EQ(seen.status(), v1::IDEA_STATUS_AWARDED);
  EXPECT_EQ(seen.last_decision().rationale(), "Décision du jury du 12 mars");
  get.set_idea_id(second.id());
  ASSERT_TRUE(stub_->GetIdea(As("agent-b", "agent").get(), get, &seen).ok());
  EXPECT_EQ(seen.status(), v1::IDEA_STATUS_REJECTED);
  v1::GetChallengeRequest gc;
  gc.set_challenge_id(c.id());
  ASSERT_TRUE(stub_->GetChallenge(As("coord", "coordinator").get(), gc, &c).ok());
  EXPECT_TRUE(c.results_announced());
  EXPECT_EQ(c.pending_decisions(), 0);
  // After the announcement, a decision is public at once again.
  EXPECT_EQ(decide(first, v1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION).status(),
            v1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION);
}

TEST_P(IdeasOverGrpc, SealedScoresAreCommittedRevealedTogetherAndCheckedAgainstTheirCommitments) {
  v1::CreateChallengeRequest create;
  create.set_title("Défi aux notes scellées");
  create.set_theme("collèges");
  auto* crit = create.add_criteria();
  crit->set_name("impact");
  crit->set_weight(1);
  create.set_jury_quorum(1);
  create.set_sealed_scoring(true);
  v1::Challenge c;
  ASSERT_TRUE(stub_->CreateChallenge(As("coord", "coordinator").get(), create, &c).ok());
  v1::ChallengeTransitionRequest id;
  id.set_challenge_id(c.id());
  ASSERT_TRUE(stub_->OpenChallenge(As("coord", "coordinator").get(), id, &c).ok());
  v1::AssignJurorsRequest assign;
  assign.set_challenge_id(c.id());
  assign.add_juror_ids("juror-1");
  assign.add_juror_ids("juror-2");
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), assign, &c).ok());
  const v1::Idea idea = Submit(c, "agent-a", "Composteurs dans les collèges");
  auto score = [&](const std::string& juror, int value) {
    v1::ScoreIdeaRequest r;
    r.set_idea_id(idea.id());
    auto* k = r.add_scores();
    k->set_criterion("impact");
    k->set_score(value);
    v1::Scorecard card;
    return stub_->ScoreIdea(As(juror, "juror").get(), r, &card);
  };
  ASSERT_TRUE(score("juror-1", 2).ok());
  ASSERT_TRUE(score("juror-2", 5).ok());
  // Sealed: a juror reads their own scores only, a coordinator none; no ranking, no decision.
  v1::ListScorecardsRequest progress;
  progress.set_challenge_id(c.id());
  v1::ListScorecardsResponse cards;
  ASSERT_TRUE(stub_->ListScorecards(As("juror-1", "juror").get(), progress, &cards).ok());
  ASSERT_EQ(cards.scorecards_size(), 2);
  for (const auto& k : cards.scorecards()) EXPECT_EQ(k.scores_size(), k.juror_id() == "juror-1" ? 1 : 0);
  ASSERT_TRUE(stub_->ListScorecards(As("coord", "coordinator").get(), progress, &cards).ok());
  for (const auto& k : cards.scorecards()) EXPECT_EQ(k.scores_size(), 0) << "not even coordinators";
  v1::RankIdeasRequest rank;
  rank.set_challenge_id(c.id());
  v1::RankIdeasResponse ranked;
  EXPECT_EQ(stub_->RankIdeas(As("coord", "coordinator").get(), rank, &ranked).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::DecideIdeaRequest decide;
  decide.set_idea_id(idea.id());
  decide.set_decision(v1::IDEA_STATUS_SHORTLISTED);
  decide.set_rationale("Prometteuse");
  v1::Idea decided;
  EXPECT_EQ(stub_->DecideIdea(As("coord", "coordinator").get(), decide, &decided).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Someone with the database changes juror 2's 5 into a 1: the reveal refuses, naming the card.
  auto db = store::Db::Connect(url_);
  ASSERT_TRUE(db.ok());
  std::string original;
  {
    auto q = (*db)->Prepare("SELECT data FROM scorecards WHERE juror_id = 'juror-2'");
    ASSERT_TRUE(q->Step().value_or(false));
    original = q->Text(0);
  }
  auto overwrite = [&](const std::string& bytes) {
    auto u = (*db)->Prepare("UPDATE scorecards SET data = ? WHERE juror_id = 'juror-2'");
    ASSERT_TRUE(u.ok());
    ASSERT_TRUE(u->BindBlob(1, bytes).Run().ok());
  };
  v1::Scorecard forged;
  ASSERT_TRUE(forged.ParseFromString(original));
  forged.mutable_scores(0)->set_score(1);
  overwrite(forged.SerializeAsString());
  grpc::Status refused = stub_->RevealScores(As("coord", "coordinator").get(), id, &c);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(refused.error_message().find("juror juror-2's scorecard on idea " + idea.id()), std::string::npos)
      << refused.error_message();
  overwrite(original);
  ASSERT_TRUE(stub_->RevealScores(As("agent-a", "agent").get(), id, &c).error_code() ==
              grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->RevealScores(As("coord", "coordinator").get(), id, &c).ok());
  EXPECT_TRUE(c.scores_revealed());
  EXPECT_EQ(score("juror-1", 4).error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "revealed is final";
  ASSERT_TRUE(stub_->RankIdeas(As("coord", "coordinator").get(), rank, &ranked).ok());
  EXPECT_DOUBLE_EQ(ranked.ideas(0).weighted_mean(), 3.5);
  // The ledger's view: two commitments, then two reveals that match them; no plain scorecard.
  sealed::Checker checker;
  int scored = 0;
  std::string reveal_payload;
  auto o = (*db)->Prepare("SELECT payload, headers FROM outbox ORDER BY seq");
  while (o->Step().value_or(false)) {
    auto h = store::DecodeHeaders(o->Text(1));
    const std::string t = *events::FindHeader(*h, "ce_type");
    scored += t == "pepiniere.ideas.v1.IdeaScored";
    if (t == "pepiniere.ideas.v1.ScorecardRevealed") reveal_payload = o->Text(0);
    auto problem = checker.Add(t, o->Text(0));
    EXPECT_FALSE(problem.has_value()) << *problem;
  }
  EXPECT_EQ(scored, 0);
  EXPECT_EQ(checker.commitments(), 2);
  EXPECT_EQ(checker.reveals(), 2);
  v1::ScorecardRevealed tampered;  // a reveal that does not match its commitment is named
  ASSERT_TRUE(tampered.ParseFromString(reveal_payload));
  tampered.set_card(forged.SerializeAsString());
  auto problem = checker.Add("pepiniere.ideas.v1.ScorecardRevealed", tampered.SerializeAsString());
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("does not match its commitment"), std::string::npos) << *problem;
  // Changed in the store after the reveal: the ranking refuses rather than rank it.
  overwrite(forged.SerializeAsString());
  EXPECT_EQ(stub_->RankIdeas(As("coord", "coordinator").get(), rank, &ranked).error_code(),
            grpc::StatusCode::DATA_LOSS);
}

TEST_P(IdeasOverGrpc, ACoauthorJoinsWithASingleUseInvitationAndIsAnAuthorFromThen) {
  v1::Challenge c = OpenChallenge();
  const v1::Idea idea = Submit(c, "agent-a", "Jardins partagés au collège");
  v1::GetIdeaRequest get;
  get.set_idea_id(idea.id());
  v1::Idea got;
  EXPECT_EQ(stub_->GetIdea(As("agent-b", "agent").get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::InviteCoauthorRequest invite;
  invite.set_idea_id(idea.id());
  v1::CoauthorInvitation inv;
  EXPECT_EQ(stub_->InviteCoauthor(As("agent-b", "agent").get(), invite, &inv).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->InviteCoauthor(As("agent-a", "agent").get(), invite, &inv).ok());
  ASSERT_EQ(inv.code().size(), 32u);
  v1::JoinIdeaRequest join;
  join.set_idea_id(idea.id());
  join.set_name("Bruno Agent");
  join.set_code(std::string(32, 'a'));
  EXPECT_EQ(stub_->JoinIdea(As("agent-b", "agent").get(), join, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  join.set_code(inv.code());
  ASSERT_TRUE(stub_->JoinIdea(As("agent-b", "agent").get(), join, &got).ok());
  ASSERT_EQ(got.coauthors_size(), 1);
  EXPECT_EQ(got.coauthors(0).name(), "Bruno Agent");
  EXPECT_EQ(stub_->JoinIdea(As("agent-c", "agent").get(), join, &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION) << "single use";
  // An author from then on: reads, edits, finds it among « Mes idées ».
  ASSERT_TRUE(stub_->GetIdea(As("agent-b", "agent").get(), get, &got).ok());
  v1::EditIdeaRequest edit;
  edit.set_idea_id(idea.id());
  edit.set_proposal("Des bacs potagers entretenus avec les élèves");
  ASSERT_TRUE(stub_->EditIdea(As("agent-b", "agent").get(), edit, &got).ok());
  v1::ListIdeasRequest mine;
  mine.set_author_id("agent-b");
  v1::ListIdeasResponse listed;
  ASSERT_TRUE(stub_->ListIdeas(As("agent-b", "agent").get(), mine, &listed).ok());
  ASSERT_EQ(listed.ideas_size(), 1);
  EXPECT_EQ(listed.ideas(0).id(), idea.id());
  // Never on its jury: a co-author who sits on the jury does not score it.
  v1::AssignJurorsRequest assign;
  assign.set_challenge_id(c.id());
  assign.add_juror_ids("agent-b");
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), assign, &c).ok());
  v1::ScoreIdeaRequest score;
  score.set_idea_id(idea.id());
  auto* k = score.add_scores();
  k->set_criterion("impact");
  k->set_score(5);
  v1::Scorecard card;
  EXPECT_EQ(stub_->ScoreIdea(As("agent-b", "agent,juror").get(), score, &card).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // An invitation lives 14 days; a juror of the challenge does not join.
  ASSERT_TRUE(stub_->InviteCoauthor(As("agent-b", "agent").get(), invite, &inv).ok());
  join.set_code(inv.code());
  assign.set_juror_ids(0, "juror-9");
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), assign, &c).ok());
  EXPECT_EQ(stub_->JoinIdea(As("juror-9", "agent,juror").get(), join, &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(stub_->InviteCoauthor(As("agent-a", "agent").get(), invite, &inv).ok());
  join.set_code(inv.code());
  clock_.Advance(absl::Hours(24 * 15));
  EXPECT_EQ(stub_->JoinIdea(As("agent-d", "agent").get(), join, &got).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION) << "expired";
  // Neither the code nor a co-author's name is on the topic.
  auto db = store::Db::Connect(url_);
  auto o = (*db)->Prepare("SELECT payload FROM outbox");
  while (o->Step().value_or(false)) {
    EXPECT_EQ(o->Text(0).find(inv.code()), std::string::npos);
    EXPECT_EQ(o->Text(0).find("Bruno Agent"), std::string::npos);
  }
}

TEST_P(IdeasOverGrpc, ADraftIsItsAuthorsAloneUntilSentAndOnlyThenOnTheTopic) {
  const v1::Challenge c = OpenChallenge(v1::VISIBILITY_AGENTS);
  v1::SubmitIdeaRequest r;
  r.set_challenge_id(c.id());
  r.set_title("Une navette pour les collèges de montagne");
  r.set_problem("Les élèves de la vallée attendent une heure");
  r.set_proposal("Une navette à la demande");
  r.set_author_name("Inès Agent");
  r.set_department("Collèges");
  r.set_contact_email("ines@departement06.fr");
  r.set_draft(true);
  v1::SubmitIdeaResponse saved;
  ASSERT_TRUE(stub_->SubmitIdea(As("agent-i", "agent").get(), r, &saved).ok());
  EXPECT_EQ(saved.idea().status(), v1::IDEA_STATUS_DRAFT);
  v1::GetIdeaRequest get;
  get.set_idea_id(saved.idea().id());
  v1::Idea got;
  for (const auto& [who, roles] : {std::pair{"agent-j", "agent"}, std::pair{"coord", "coordinator"}}) {
    EXPECT_EQ(stub_->GetIdea(As(who, roles).get(), get, &got).error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << who << " reads no one's draft";
  }
  v1::ListIdeasRequest list;
  list.set_challenge_id(c.id());
  v1::ListIdeasResponse listed;
  ASSERT_TRUE(stub_->ListIdeas(As("coord", "coordinator").get(), list, &listed).ok());
  EXPECT_EQ(listed.ideas_size(), 0);
  v1::ListIdeasRequest mine;
  ASSERT_TRUE(stub_->ListIdeas(As("agent-i", "agent").get(), mine, &listed).ok());
  ASSERT_EQ(listed.ideas_size(), 1) << "« Mes idées » lists the draft";
  // Edited as often as wanted: nothing on the topic, no version.
  v1::EditIdeaRequest edit;
  edit.set_idea_id(saved.idea().id());
  edit.set_proposal("Une navette à la demande, réservée la veille");
  ASSERT_TRUE(stub_->EditIdea(As("agent-i", "agent").get(), edit, &got).ok());
  auto db = store::Db::Connect(url_);
  auto count = [&] {
    auto q = (*db)->Prepare("SELECT COUNT(*) FROM outbox WHERE msg_key = ?");
    q->Bind(1, saved.idea().id());
    return q->Step().value_or(false) ? q->Int(0) : -1;
  };
  EXPECT_EQ(count(), 0);
  v1::SubmitDraftRequest send;
  send.set_idea_id(saved.idea().id());
  v1::SubmitIdeaResponse sent;
  EXPECT_EQ(stub_->SubmitDraft(As("agent-j", "agent").get(), send, &sent).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->SubmitDraft(As("agent-i", "agent").get(), send, &sent).ok());
  EXPECT_EQ(sent.idea().status(), v1::IDEA_STATUS_SUBMITTED);
  EXPECT_EQ(sent.idea().version(), 1) << "its first event";
  EXPECT_EQ(sent.idea().proposal(), "Une navette à la demande, réservée la veille");
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(stub_->SubmitDraft(As("agent-i", "agent").get(), send, &sent).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION) << "sent once";
  ASSERT_TRUE(stub_->GetIdea(As("agent-j", "agent").get(), get, &got).ok()) << "now every agent reads it";
  v1::DiscardDraftResponse discarded;
  EXPECT_EQ(stub_->DiscardDraft(As("agent-i", "agent").get(), send, &discarded).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION) << "a sent idea is withdrawn, not deleted";
  // Another draft, thrown away by its author only: gone.
  ASSERT_TRUE(stub_->SubmitIdea(As("agent-i", "agent").get(), r, &saved).ok());
  send.set_idea_id(saved.idea().id());
  EXPECT_EQ(stub_->DiscardDraft(As("agent-j", "agent").get(), send, &discarded).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->DiscardDraft(As("agent-i", "agent").get(), send, &discarded).ok());
  get.set_idea_id(saved.idea().id());
  EXPECT_EQ(stub_->GetIdea(As("agent-i", "agent").get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

PEP_ON_BOTH_ENGINES(IdeasOverGrpc);

}  // namespace
}  // namespace pep::ideas
