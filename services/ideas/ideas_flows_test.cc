// pep-ideas' flows around an idea over real gRPC, with the wrong principal each time (issue 29):
// assisted submission by a relais and the agent's claim, links and merges (every author kept,
// supports once, undone exactly), evaluation stages with their reviewers and dates, eligibility,
// and clarification stopping the idea's clock.
#include "services/ideas/ideas_test_fixture.h"

namespace pep::ideas {
namespace {

using grpc::StatusCode;

std::vector<std::string> OutboxTypes(const std::string& url, std::string* payloads = nullptr) {
  std::vector<std::string> out;
  auto db = store::Db::Connect(url);
  EXPECT_TRUE(db.ok());
  auto o = (*db)->Prepare("SELECT payload, headers FROM outbox ORDER BY seq");
  while (o->Step().value_or(false)) {
    auto h = store::DecodeHeaders(o->Text(1));
    out.push_back(*events::FindHeader(*h, "ce_type"));
    if (payloads) payloads->append(o->Text(0));
  }
  return out;
}

TEST_P(IdeasOverGrpc, ARelaisFilesForAnAgentWhoClaimsItAtSignIn) {
  const v1::Challenge c = OpenChallenge();
  v1::SubmitIdeaRequest r;
  r.set_challenge_id(c.id());
  r.set_title("Des gants chauffants pour les équipes de la voirie");
  r.set_problem("L'hiver, sur les routes du haut pays, les mains gèlent");
  r.set_proposal("Équiper chaque équipe-voirie de gants chauffants");
  r.set_author_name("Marc Giraud");
  r.set_department("Subdivision de Puget-Théniers");
  r.set_contact_email("Marc.Giraud@departement06.fr");
  r.set_on_behalf(true);
  v1::SubmitIdeaResponse filed;
  EXPECT_EQ(stub_->SubmitIdea(As("relais-1", "agent").get(), r, &filed).error_code(), StatusCode::PERMISSION_DENIED)
      << "not a relais of this challenge yet";
  v1::SetRelaysRequest relays;
  relays.set_challenge_id(c.id());
  relays.add_relay_ids("relais-1");
  v1::Challenge got_c;
  EXPECT_EQ(stub_->SetRelays(As("relais-1", "agent").get(), relays, &got_c).error_code(), StatusCode::PERMISSION_DENIED);
  grpc::Status st = stub_->SetRelays(As("coord", "coordinator").get(), relays, &got_c);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(got_c.relay_ids_size(), 1);
  r.set_draft(true);
  EXPECT_EQ(stub_->SubmitIdea(As("relais-1", "agent").get(), r, &filed).error_code(), StatusCode::INVALID_ARGUMENT);
  r.set_draft(false);
  st = stub_->SubmitIdea(As("relais-1", "agent").get(), r, &filed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const v1::Idea& idea = filed.idea();
  EXPECT_EQ(idea.author_id(), "relais-1") << "the relais holds it until it is claimed";
  EXPECT_EQ(idea.filed_by(), "relais-1");
  EXPECT_TRUE(idea.awaiting_claim());
  v1::GetIdeaRequest get;
  get.set_idea_id(idea.id());
  v1::Idea got;
  EXPECT_EQ(stub_->GetIdea(As("marc", "agent").get(), get, &got).error_code(), StatusCode::PERMISSION_DENIED);
  // Another address claims nothing; a coordinator does not claim for anyone.
  v1::ClaimIdeasRequest claim;
  claim.set_email("someone.else@departement06.fr");
  v1::ClaimIdeasResponse claimed;
  ASSERT_TRUE(stub_->ClaimIdeas(As("other", "agent").get(), claim, &claimed).ok());
  EXPECT_EQ(claimed.idea_ids_size(), 0);
  claim.set_email("marc.giraud@departement06.fr");  // as the provider gives it, lower-cased
  EXPECT_EQ(stub_->ClaimIdeas(As("coord", "coordinator").get(), claim, &claimed).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->ClaimIdeas(As("marc", "agent").get(), claim, &claimed).ok());
  ASSERT_EQ(claimed.idea_ids_size(), 1);
  EXPECT_EQ(claimed.idea_ids(0), idea.id());
  ASSERT_TRUE(stub_->ClaimIdeas(As("marc", "agent").get(), claim, &claimed).ok());
  EXPECT_EQ(claimed.idea_ids_size(), 0) << "claimed already: nothing new the second time";
  v1::ClaimIdeasResponse again;
  ASSERT_TRUE(stub_->ClaimIdeas(As("intruder", "agent").get(), claim, &again).ok());
  EXPECT_EQ(again.idea_ids_size(), 0) << "claimed once, by the first who signed in with it";
  ASSERT_TRUE(stub_->GetIdea(As("marc", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.author_id(), "marc");
  EXPECT_FALSE(got.awaiting_claim());
  EXPECT_EQ(got.contact_email(), "Marc.Giraud@departement06.fr");
  ASSERT_TRUE(stub_->GetIdea(As("relais-1", "agent").get(), get, &got).ok()) << "the relais still reads it";
  EXPECT_EQ(got.contact_email(), "") << "but it is Marc's now";
  v1::ListIdeasRequest mine;
  v1::ListIdeasResponse list;
  ASSERT_TRUE(stub_->ListIdeas(As("marc", "agent").get(), mine, &list).ok());
  ASSERT_EQ(list.ideas_size(), 1);
  ASSERT_TRUE(stub_->ListIdeas(As("relais-1", "agent").get(), mine, &list).ok());
  EXPECT_EQ(list.ideas_size(), 0);
  // On the topic: who claimed, never the address.
  std::string payloads;
  const auto types = OutboxTypes(url_, &payloads);
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.ideas.v1.IdeaClaimed"), 1);
  EXPECT_EQ(payloads.find("iraud@"), std::string::npos);
}

TEST_P(IdeasOverGrpc, AMergeKeepsEveryAuthorCountsASupporterOnceAndIsUndoneExactly) {
  const v1::Challenge c = OpenChallenge(v1::VISIBILITY_AGENTS);
  const v1::Idea a = Submit(c, "agent-a", "Un composteur dans chaque collège");
  v1::SubmitIdeaRequest r;
  r.set_challenge_id(c.id());
  r.set_title("Composter les restes des cantines");
  r.set_problem("Les cantines jettent beaucoup");
  r.set_proposal("Des composteurs gérés par les élèves");
  r.set_author_name("Béatrice Nguyen");
  r.set_department("Collèges");
  r.set_contact_email("b.nguyen@departement06.fr");
  r.set_hide_author(true);
  v1::SubmitIdeaResponse sb;
  ASSERT_TRUE(stub_->SubmitIdea(As("agent-b", "agent").get(), r, &sb).ok());
  const v1::Idea b = sb.idea();
  const v1::Idea other = Submit(c, "agent-c", "Des jardins partagés");
  v1::Idea got;
  auto support = [&](const std::string& who, const std::string& idea) {
    v1::SupportIdeaRequest s;
    s.set_idea_id(idea);
    return stub_->SupportIdea(As(who, "agent").get(), s, &got);
  };
  ASSERT_TRUE(support("s1", a.id()).ok());
  ASSERT_TRUE(support("s1", b.id()).ok());
  ASSERT_TRUE(support("s2", b.id()).ok());
  ASSERT_TRUE(support("agent-a", b.id()).ok());
  v1::MergeIdeasRequest m;
  m.set_idea_id(a.id());
  m.add_merged_idea_ids(b.id());
  m.set_rationale("Deux propositions sur le compostage dans les collèges");
  EXPECT_EQ(stub_->MergeIdeas(As("agent-a", "agent").get(), m, &got).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->MergeIdeas(As("coord", "coordinator").get(), m, &got).ok());
  ASSERT_EQ(got.coauthors_size(), 1);
  EXPECT_EQ(got.coauthors(0).account_id(), "agent-b");
  EXPECT_EQ(got.coauthors(0).via_merge(), b.id());
  EXPECT_TRUE(got.coauthors(0).hide_name());
  EXPECT_EQ(got.supports(), 2) << "s1 once, s2 moved, the author's own support of B not moved";
  ASSERT_EQ(got.merged_from_size(), 1);
  EXPECT_EQ(got.merged_from(0).supports_moved(), 1);
  EXPECT_EQ(got.merged_from(0).author_name(), "") << "she had hidden her name";
  // B is a read-only pointer; A is Béatrice's too; others do not learn she wrote it.
  v1::GetIdeaRequest get;
  get.set_idea_id(b.id());
  ASSERT_TRUE(stub_->GetIdea(As("agent-c", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.status(), v1::IDEA_STATUS_MERGED);
  EXPECT_EQ(got.merged_into(), a.id());
  EXPECT_EQ(support("s3", b.id()).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(support("s2", a.id()).error_code(), StatusCode::ALREADY_EXISTS) << "moved, not doubled";
  v1::AddCommentRequest comment;
  comment.set_idea_id(b.id());
  comment.set_body("Et les jardins ?");
  comment.set_author_name("C");
  v1::Comment cm;
  EXPECT_EQ(stub_->AddComment(As("agent-c", "agent").get(), comment, &cm).error_code(), StatusCode::FAILED_PRECONDITION);
  get.set_idea_id(a.id());
  ASSERT_TRUE(stub_->GetIdea(As("agent-c", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.coauthors_size(), 0);
  ASSERT_TRUE(stub_->GetIdea(As("coord", "coordinator").get(), get, &got).ok());
  EXPECT_EQ(got.coauthors_size(), 1);
  v1::EditIdeaRequest edit;
  edit.set_idea_id(a.id());
  edit.set_proposal("Des composteurs dans chaque collège, gérés par les élèves");
  ASSERT_TRUE(stub_->EditIdea(As("agent-b", "agent").get(), edit, &got).ok()) << "a co-author now";
  v1::ListIdeasRequest mine;
  v1::ListIdeasResponse list;
  ASSERT_TRUE(stub_->ListIdeas(As("agent-b", "agent").get(), mine, &list).ok());
  EXPECT_EQ(list.ideas_size(), 2) << "her own (merged) and the one she co-authors";
  // Links: typed, both ways, one per pair; not to a pointer.
  v1::LinkIdeasRequest link;
  link.set_idea_id(other.id());
  link.set_other_idea_id(a.id());
  link.set_kind(v1::LINK_KIND_COMPLEMENTS);
  EXPECT_EQ(stub_->LinkIdeas(As("agent-c", "agent").get(), link, &got).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->LinkIdeas(As("coord", "coordinator").get(), link, &got).ok());
  ASSERT_EQ(got.links_size(), 1);
  EXPECT_FALSE(got.links(0).inverse());
  ASSERT_TRUE(stub_->GetIdea(As("agent-c", "agent").get(), get, &got).ok());
  ASSERT_EQ(got.links_size(), 1);
  EXPECT_EQ(got.links(0).idea_id(), other.id());
  EXPECT_TRUE(got.links(0).inverse()) << "A is complemented by the other";
  link.set_other_idea_id(b.id());
  EXPECT_EQ(stub_->LinkIdeas(As("coord", "coordinator").get(), link, &got).error_code(), StatusCode::FAILED_PRECONDITION);
  // Undone: B is itself again, A exactly as before the merge (but for its edit).
  v1::UndoMergeRequest undo;
  undo.set_idea_id(b.id());
  EXPECT_EQ(stub_->UndoMerge(As("agent-b", "agent").get(), undo, &got).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->UndoMerge(As("coord", "coordinator").get(), undo, &got).ok());
  EXPECT_EQ(got.status(), v1::IDEA_STATUS_SUBMITTED);
  EXPECT_EQ(got.supports(), 3);
  EXPECT_EQ(stub_->UndoMerge(As("coord", "coordinator").get(), undo, &got).error_code(), StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(stub_->GetIdea(As("coord", "coordinator").get(), get, &got).ok());
  EXPECT_EQ(got.coauthors_size(), 0);
  EXPECT_EQ(got.merged_from_size(), 0);
  EXPECT_EQ(got.supports(), 1);
  EXPECT_EQ(stub_->EditIdea(As("agent-b", "agent").get(), edit, &got).error_code(), StatusCode::PERMISSION_DENIED);
  const auto types = OutboxTypes(url_);
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.ideas.v1.IdeaMerged"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.ideas.v1.MergeUndone"), 1);
}

TEST_P(IdeasOverGrpc, StagesHaveTheirReviewersAndDatesAndAClarificationStopsTheClock) {
  const v1::Challenge c = OpenChallenge();
  v1::AssignJurorsRequest jury;
  jury.set_challenge_id(c.id());
  jury.add_juror_ids("juror-1");
  v1::Challenge got_c;
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), jury, &got_c).ok());
  const v1::Idea x = Submit(c, "agent-x", "Un guichet unique pour les aides aux collégiens");
  const v1::Idea y = Submit(c, "agent-y", "Repeindre le hall en violet");
  const absl::Time t0 = clock_.Now();
  v1::SetStagesRequest st;
  st.set_challenge_id(c.id());
  auto stage = [&](v1::StageKind k, absl::Duration from, absl::Duration to, std::vector<std::string> who) {
    auto* s = st.add_stages();
    s->set_kind(k);
    *s->mutable_starts_at() = ToTimestamp(t0 + from);
    *s->mutable_ends_at() = ToTimestamp(t0 + to);
    for (auto& w : who) s->add_reviewer_ids(w);
  };
  const absl::Duration day = absl::Hours(24);
  stage(v1::STAGE_KIND_ELIGIBILITY, absl::ZeroDuration(), 2 * day, {"referent-1"});
  stage(v1::STAGE_KIND_SCORING, 2 * day, 5 * day, {"stranger"});
  grpc::Status s = stub_->SetStages(As("coord", "coordinator").get(), st, &got_c);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("stages[1].reviewer_ids[0]"), std::string::npos) << s.error_message();
  st.mutable_stages(1)->clear_reviewer_ids();
  stage(v1::STAGE_KIND_DECISION, 5 * day, 10 * day, {});
  EXPECT_EQ(stub_->SetStages(As("juror-1", "juror").get(), st, &got_c).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->SetStages(As("coord", "coordinator").get(), st, &got_c).ok());
  v1::ListIdeasRequest lq;
  lq.set_challenge_id(c.id());
  v1::ListIdeasResponse listed;
  ASSERT_TRUE(stub_->ListIdeas(As("referent-1", "agent").get(), lq, &listed).ok());
  EXPECT_EQ(listed.ideas_size(), 2) << "an eligibility reviewer reads the jury-private challenge's ideas to check them";
  // Eligibility: its reviewer (not a juror, not an agent), during its dates.
  v1::ScoreIdeaRequest score;
  score.set_idea_id(x.id());
  auto* cs = score.add_scores();
  cs->set_criterion("impact");
  cs->set_score(4);
  v1::Scorecard card;
  s = stub_->ScoreIdea(As("juror-1", "juror").get(), score, &card);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("eligibility stage"), std::string::npos) << s.error_message();
  v1::CheckEligibilityRequest el;
  el.set_idea_id(x.id());
  el.set_eligible(true);
  v1::Idea got;
  EXPECT_EQ(stub_->CheckEligibility(As("juror-1", "juror").get(), el, &got).error_code(), StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->CheckEligibility(As("referent-1", "agent").get(), el, &got).ok());
  EXPECT_TRUE(got.eligibility().eligible());
  el.set_idea_id(y.id());
  el.set_eligible(false);
  EXPECT_EQ(stub_->CheckEligibility(As("referent-1", "agent").get(), el, &got).error_code(), StatusCode::INVALID_ARGUMENT)
      << "a reason is owed to the author";
  el.set_reason("hors du champ du défi (décoration)");
  s = stub_->CheckEligibility(As("referent-1", "agent").get(), el, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.status(), v1::IDEA_STATUS_REJECTED);
  EXPECT_EQ(got.last_decision().rationale(), "Idée non recevable : hors du champ du défi (décoration)");
  // Scoring: asked to clarify, X's clock stops — neither scored nor decided — its author edits
  // it though the challenge closed, and answers a day later.
  clock_.Advance(2 * day + absl::Hours(1));
  v1::ChallengeTransitionRequest close;
  close.set_challenge_id(c.id());
  ASSERT_TRUE(stub_->CloseChallenge(As("coord", "coordinator").get(), close, &got_c).ok());
  v1::RequestClarificationRequest ask;
  ask.set_idea_id(x.id());
  ask.set_question("Quel coût par collège ? Écrivez-moi à juror1@departement06.fr");
  EXPECT_EQ(stub_->RequestClarification(As("agent-y", "agent").get(), ask, &got).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->RequestClarification(As("juror-1", "juror").get(), ask, &got).ok());
  ASSERT_EQ(got.clarifications_size(), 1);
  EXPECT_EQ(got.clarifications(0).question(), "Quel coût par collège ? Écrivez-moi à [email]");
  EXPECT_EQ(got.clarifications(0).stage(), v1::STAGE_KIND_SCORING);
  EXPECT_EQ(stub_->ScoreIdea(As("juror-1", "juror").get(), score, &card).error_code(), StatusCode::FAILED_PRECONDITION);
  v1::EditIdeaRequest edit;
  edit.set_idea_id(x.id());
  edit.set_proposal("Un guichet unique, 2 000 € par collège");
  ASSERT_TRUE(stub_->EditIdea(As("agent-x", "agent").get(), edit, &got).ok());
  clock_.Advance(day);
  v1::AnswerClarificationRequest answer;
  answer.set_idea_id(x.id());
  answer.set_answer("Environ 2 000 € par collège, la première année");
  EXPECT_EQ(stub_->AnswerClarification(As("agent-y", "agent").get(), answer, &got).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->AnswerClarification(As("agent-x", "agent").get(), answer, &got).ok());
  EXPECT_EQ(stub_->AnswerClarification(As("agent-x", "agent").get(), answer, &got).error_code(),
            StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(stub_->EditIdea(As("agent-x", "agent").get(), edit, &got).error_code(), StatusCode::FAILED_PRECONDITION)
      << "answered: the challenge's dates hold again";
  v1::GetIdeaRequest get;
  get.set_idea_id(x.id());
  ASSERT_TRUE(stub_->GetIdea(As("juror-1", "juror").get(), get, &got).ok());
  EXPECT_EQ(got.stage(), v1::STAGE_KIND_SCORING);
  EXPECT_EQ(absl::ToUnixMicros(FromTimestamp(got.stage_ends_at())), absl::ToUnixMicros(t0 + 6 * day)) << "scoring lasts a day longer for X";
  // Past the stage's own end, X is still being scored; the decision waits for its own end.
  clock_.Advance(2 * day);  // t0 + 5d + 1h
  s = stub_->ScoreIdea(As("juror-1", "juror").get(), score, &card);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::DecideIdeaRequest decide;
  decide.set_idea_id(x.id());
  decide.set_decision(v1::IDEA_STATUS_SHORTLISTED);
  decide.set_rationale("Utile et chiffrée");
  s = stub_->DecideIdea(As("coord", "coordinator").get(), decide, &got);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << s.error_message();
  clock_.Advance(day);
  ASSERT_TRUE(stub_->DecideIdea(As("coord", "coordinator").get(), decide, &got).ok());
  EXPECT_EQ(got.status(), v1::IDEA_STATUS_SHORTLISTED);
  clock_.Advance(5 * day);  // the decision stage is over
  decide.set_decision(v1::IDEA_STATUS_AWARDED);
  EXPECT_EQ(stub_->DecideIdea(As("coord", "coordinator").get(), decide, &got).error_code(), StatusCode::FAILED_PRECONDITION);
  const auto types = OutboxTypes(url_);
  EXPECT_EQ(std::count(types.begin(), types.end(), "pepiniere.ideas.v1.EligibilityChecked"), 2);
  for (const char* t : {"pepiniere.ideas.v1.StagesSet", "pepiniere.ideas.v1.IdeaRejected", "pepiniere.ideas.v1.ClarificationRequested",
                        "pepiniere.ideas.v1.ClarificationAnswered"}) {
    EXPECT_EQ(std::count(types.begin(), types.end(), t), 1) << t;
  }
}

PEP_ON_BOTH_ENGINES(IdeasOverGrpc);

// Issue 30: who is named on the public page of the start-up an idea became is each author's own
// choice; the gateway reads only selected ideas, and only the names of those who agreed.
TEST_P(IdeasOverGrpc, OnlyAuthorsWhoAgreedAreNamedAndOnlySelectedIdeasAreShown) {
  v1::Challenge c = OpenChallenge(v1::VISIBILITY_AGENTS);
  v1::AssignJurorsRequest assign;
  assign.set_challenge_id(c.id());
  assign.add_juror_ids("juror-1");
  ASSERT_TRUE(stub_->AssignJurors(As("coord", "coordinator").get(), assign, &c).ok());
  const v1::Idea idea = Submit(c, "agent-camille", "Cantine sans papier");
  const v1::Idea other = Submit(c, "agent-karim", "Bus scolaire en temps réel");
  v1::ScoreIdeaRequest score;
  score.set_idea_id(idea.id());
  auto* k = score.add_scores();
  k->set_criterion("impact");
  k->set_score(4);
  v1::Scorecard card;
  ASSERT_TRUE(stub_->ScoreIdea(As("juror-1", "juror").get(), score, &card).ok());
  auto origins = [&](std::vector<std::string> ids) {
    v1::ListPublicOriginsRequest r;
    for (auto& id : ids) r.add_idea_ids(id);
    v1::ListPublicOriginsResponse out;
    EXPECT_TRUE(stub_->ListPublicOrigins(As("public", "").get(), r, &out).ok());
    return out;
  };
  EXPECT_EQ(origins({idea.id()}).origins_size(), 0) << "not selected: nothing";
  for (auto d : {v1::IDEA_STATUS_SHORTLISTED, v1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION}) {
    v1::DecideIdeaRequest r;
    r.set_idea_id(idea.id());
    r.set_decision(d);
    r.set_rationale("Retenue par le jury");
    v1::Idea out;
    ASSERT_TRUE(stub_->DecideIdea(As("coord", "coordinator").get(), r, &out).ok());
  }
  auto o = origins({idea.id(), other.id(), "00000000-0000-7000-8000-000000000000"});
  ASSERT_EQ(o.origins_size(), 1);
  EXPECT_EQ(o.origins(0).title(), "Cantine sans papier");
  EXPECT_EQ(o.origins(0).challenge_title(), c.title());
  EXPECT_EQ(o.origins(0).credited_size(), 0) << "nobody agreed yet";
  v1::SetPublicCreditRequest credit;
  credit.set_idea_id(idea.id());
  credit.set_consent(true);
  v1::Idea got;
  EXPECT_EQ(stub_->SetPublicCredit(As("agent-karim", "agent").get(), credit, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED) << "not an author";
  ASSERT_TRUE(stub_->SetPublicCredit(As("agent-camille", "agent").get(), credit, &got).ok());
  EXPECT_EQ(got.public_credit_size(), 1);
  ASSERT_EQ(origins({idea.id()}).origins(0).credited_size(), 1);
  EXPECT_EQ(origins({idea.id()}).origins(0).credited(0), idea.author_name());
  v1::GetIdeaRequest get;
  get.set_idea_id(idea.id());
  ASSERT_TRUE(stub_->GetIdea(As("agent-karim", "agent").get(), get, &got).ok());
  EXPECT_EQ(got.public_credit_size(), 0) << "whose consent it is stays the authors'";
  credit.set_consent(false);
  ASSERT_TRUE(stub_->SetPublicCredit(As("agent-camille", "agent").get(), credit, &got).ok());
  EXPECT_EQ(origins({idea.id()}).origins(0).credited_size(), 0) << "taken back";
}

}  // namespace
}  // namespace pep::ideas
