// Domain rules of idea intake: every state transition, every validation rule (field named),
// weighted ranking and quorum, and the duplicate hint.
#include "services/ideas/ideas_core.h"

#include <set>

#include "gtest/gtest.h"

namespace pep::ideas {
namespace {

using S = v1::IdeaStatus;

TEST(IdeaStateMachine, EveryPairIsAllowedExactlyAsSpecified) {
  const std::set<std::pair<S, S>> allowed = {
      {S::IDEA_STATUS_SUBMITTED, S::IDEA_STATUS_SHORTLISTED},
      {S::IDEA_STATUS_SUBMITTED, S::IDEA_STATUS_REJECTED},
      {S::IDEA_STATUS_SUBMITTED, S::IDEA_STATUS_WITHDRAWN},
      {S::IDEA_STATUS_SHORTLISTED, S::IDEA_STATUS_AWARDED},
      {S::IDEA_STATUS_SHORTLISTED, S::IDEA_STATUS_REJECTED},
      {S::IDEA_STATUS_SHORTLISTED, S::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION},
      {S::IDEA_STATUS_AWARDED, S::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION},
  };
  int checked = 0;
  for (int f = S::IDEA_STATUS_UNSPECIFIED; f <= S::IDEA_STATUS_WITHDRAWN; ++f) {
    for (int t = S::IDEA_STATUS_UNSPECIFIED; t <= S::IDEA_STATUS_WITHDRAWN; ++t) {
      const auto from = static_cast<S>(f), to = static_cast<S>(t);
      const bool want = allowed.count({from, to}) > 0;
      EXPECT_EQ(IdeaTransitionAllowed(from, to), want) << StatusName(from) << "->" << StatusName(to);
      absl::Status s = CheckIdeaTransition(from, to);
      if (want) {
        EXPECT_TRUE(s.ok());
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_NE(s.message().find("idea is " + StatusName(from)), absl::string_view::npos) << s;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 49);
}

TEST(ChallengeStateMachine, DraftOpenClosedOnly) {
  using C = v1::ChallengeStatus;
  for (int f = 0; f <= 3; ++f) {
    for (int t = 0; t <= 3; ++t) {
      const bool want = (f == C::CHALLENGE_STATUS_DRAFT && t == C::CHALLENGE_STATUS_OPEN) ||
                        (f == C::CHALLENGE_STATUS_OPEN && t == C::CHALLENGE_STATUS_CLOSED);
      EXPECT_EQ(ChallengeTransitionAllowed(static_cast<C>(f), static_cast<C>(t)), want);
    }
  }
  EXPECT_EQ(CheckChallengeTransition(v1::CHALLENGE_STATUS_CLOSED, v1::CHALLENGE_STATUS_OPEN).message(),
            "challenge is CLOSED: cannot become OPEN");
}

v1::SubmitIdeaRequest GoodSubmit() {
  v1::SubmitIdeaRequest r;
  r.set_challenge_id("019aca55-9e00-7000-8000-000000000001");
  r.set_title("Un guichet unique pour les aides sociales");
  r.set_problem("Les usagers remplissent cinq formulaires différents.");
  r.set_proposal("Un formulaire unique pré-rempli.");
  r.set_author_name("Camille Martin");
  r.set_department("Direction de l'action sociale");
  r.set_contact_email("camille.martin@departement06.fr");
  return r;
}

// The error names `field` first: "field: ...".
void ExpectFieldError(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()).substr(0, field.size() + 1), field + ":") << s;
}

TEST(ValidateSubmit, AcceptsAGoodIdea) { EXPECT_TRUE(ValidateSubmit(GoodSubmit()).ok()); }

TEST(ValidateSubmit, EachRuleNamesItsField) {
  struct Case {
    std::string field;
    std::function<void(v1::SubmitIdeaRequest&)> mutate;
  };
  const std::string bad_utf8 = "caf\xC3";
  const std::vector<Case> cases = {
      {"challenge_id", [](auto& r) { r.clear_challenge_id(); }},
      {"challenge_id", [](auto& r) { r.set_challenge_id("nope"); }},
      {"title", [](auto& r) { r.clear_title(); }},
      {"title", [](auto& r) { r.set_title(std::string(141, 'a')); }},
      {"title", [&](auto& r) { r.set_title(bad_utf8); }},
      {"title", [](auto& r) { r.set_title("a\x01z"); }},
      {"problem", [](auto& r) { r.clear_problem(); }},
      {"problem", [](auto& r) { r.set_problem(std::string(10001, 'p')); }},
      {"proposal", [](auto& r) { r.clear_proposal(); }},
      {"proposal", [](auto& r) { r.set_proposal(std::string(10001, 'p')); }},
      {"proposal", [](auto& r) { r.set_proposal("\xED\xA0\x80"); }},  // UTF-16 surrogate
      {"author_name", [](auto& r) { r.clear_author_name(); }},
      {"department", [](auto& r) { r.clear_department(); }},
      {"contact_email", [](auto& r) { r.set_contact_email("camille"); }},
      {"contact_email", [](auto& r) { r.set_contact_email("a@b"); }},
      {"contact_email", [](auto& r) { r.clear_contact_email(); }},
  };
  for (const auto& c : cases) {
    v1::SubmitIdeaRequest r = GoodSubmit();
    c.mutate(r);
    ExpectFieldError(ValidateSubmit(r), c.field);
  }
}

TEST(ValidateSubmit, LengthIsCountedInCharactersNotBytes) {
  v1::SubmitIdeaRequest r = GoodSubmit();
  std::string title;
  for (int i = 0; i < 140; ++i) title += "é";  // 280 bytes, 140 characters
  r.set_title(title);
  EXPECT_TRUE(ValidateSubmit(r).ok());
  r.set_title(title + "é");
  EXPECT_EQ(ValidateSubmit(r).message(), "title: must be 1-140 characters (got 141)");
}

TEST(ValidateChallenge, RulesNameTheirFields) {
  v1::CreateChallengeRequest r;
  r.set_title("Simplification administrative");
  r.set_theme("simplification");
  auto* c = r.add_criteria();
  c->set_name("impact");
  c->set_weight(2);
  r.set_jury_quorum(3);
  EXPECT_TRUE(ValidateCreateChallenge(r).ok());

  auto bad = r;
  bad.clear_criteria();
  ExpectFieldError(ValidateCreateChallenge(bad), "criteria");
  bad = r;
  bad.mutable_criteria(0)->set_weight(0);
  ExpectFieldError(ValidateCreateChallenge(bad), "criteria[0].weight");
  bad = r;
  *bad.add_criteria() = r.criteria(0);
  ExpectFieldError(ValidateCreateChallenge(bad), "criteria[1].name");
  bad = r;
  bad.set_jury_quorum(0);
  ExpectFieldError(ValidateCreateChallenge(bad), "jury_quorum");
  bad = r;
  bad.mutable_opens_at()->set_seconds(2000);
  bad.mutable_closes_at()->set_seconds(1000);
  ExpectFieldError(ValidateCreateChallenge(bad), "closes_at");
  bad = r;
  bad.clear_theme();
  ExpectFieldError(ValidateCreateChallenge(bad), "theme");
}

v1::Challenge TwoCriteria(int quorum) {
  v1::Challenge c;
  c.set_id("c");
  auto* a = c.add_criteria();
  a->set_name("impact");
  a->set_weight(3);
  auto* b = c.add_criteria();
  b->set_name("faisabilité");
  b->set_weight(1);
  c.set_jury_quorum(quorum);
  return c;
}

v1::ScoreIdeaRequest Score(int impact, int feas) {
  v1::ScoreIdeaRequest r;
  auto* s1 = r.add_scores();
  s1->set_criterion("impact");
  s1->set_score(impact);
  auto* s2 = r.add_scores();
  s2->set_criterion("faisabilité");
  s2->set_score(feas);
  return r;
}

TEST(ValidateScore, RangeAndCriteria) {
  const v1::Challenge c = TwoCriteria(2);
  EXPECT_TRUE(ValidateScore(Score(5, 0), c).ok());
  ExpectFieldError(ValidateScore(Score(6, 0), c), "scores[0].score");
  ExpectFieldError(ValidateScore(Score(1, -1), c), "scores[1].score");
  auto r = Score(1, 1);
  r.mutable_scores(1)->set_criterion("coût");
  ExpectFieldError(ValidateScore(r, c), "scores[1].criterion");
  r = Score(1, 1);
  r.mutable_scores()->RemoveLast();
  EXPECT_EQ(ValidateScore(r, c).message(), "scores: missing criterion 'faisabilité'");
  r = Score(1, 1);
  *r.add_scores() = r.scores(0);
  ExpectFieldError(ValidateScore(r, c), "scores[2].criterion");
}

v1::Scorecard Card(const std::string& idea, int impact, int feas) {
  v1::Scorecard card;
  card.set_idea_id(idea);
  *card.mutable_scores() = Score(impact, feas).scores();
  return card;
}

TEST(Ranking, WeightedMeanThenCountThenSubmissionOrder) {
  const v1::Challenge c = TwoCriteria(2);
  // (3*4 + 1*0) / 4 = 3.0
  EXPECT_DOUBLE_EQ(WeightedScore(c, Card("x", 4, 0)), 3.0);
  std::vector<v1::Idea> ideas(4);
  const char* ids[] = {"a", "b", "c", "w"};
  for (int i = 0; i < 4; ++i) {
    ideas[i].set_id(ids[i]);
    ideas[i].set_status(v1::IDEA_STATUS_SUBMITTED);
  }
  ideas[3].set_status(v1::IDEA_STATUS_WITHDRAWN);
  absl::flat_hash_map<std::string, std::vector<v1::Scorecard>> cards;
  cards["a"] = {Card("a", 2, 2)};                    // 2.0, 1 card
  cards["b"] = {Card("b", 4, 0), Card("b", 2, 2)};  // (3.0 + 2.0) / 2 = 2.5
  cards["c"] = {Card("c", 2, 2), Card("c", 2, 2)};  // 2.0, 2 cards: beats "a" on count
  cards["w"] = {Card("w", 5, 5)};                    // withdrawn: not ranked
  auto ranked = RankIdeas(c, ideas, cards);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].idea_id(), "b");
  EXPECT_DOUBLE_EQ(ranked[0].weighted_mean(), 2.5);
  EXPECT_TRUE(ranked[0].quorum_reached());
  EXPECT_EQ(ranked[1].idea_id(), "c");
  EXPECT_EQ(ranked[2].idea_id(), "a");
  EXPECT_FALSE(ranked[2].quorum_reached());
  EXPECT_EQ(ranked[2].rank(), 3);
}

TEST(Ranking, DispersionBesideTheMeanAndConflictedJurorsLeftOut) {
  const v1::Challenge c = TwoCriteria(2);
  std::vector<v1::Idea> ideas(1);
  ideas[0].set_id("a");
  ideas[0].set_author_id("agent-a");
  ideas[0].set_status(v1::IDEA_STATUS_SUBMITTED);
  auto card = [](const std::string& juror, int impact, int feas) {
    v1::Scorecard k = Card("a", impact, feas);
    k.set_juror_id(juror);
    return k;
  };
  absl::flat_hash_map<std::string, std::vector<v1::Scorecard>> cards;
  // 5.0 and 3.0 count; the conflicted juror's 0.0 and the author's own (never accepted, but
  // were it stored) do not.
  cards["a"] = {card("j1", 5, 5), card("j2", 4, 0), card("j3", 0, 0), card("agent-a", 5, 5)};
  ideas[0].add_conflicted_juror_ids("j3");
  auto ranked = RankIdeas(c, ideas, cards);
  ASSERT_EQ(ranked.size(), 1u);
  EXPECT_DOUBLE_EQ(ranked[0].weighted_mean(), 4.0);
  EXPECT_EQ(ranked[0].scorecard_count(), 2);
  EXPECT_DOUBLE_EQ(ranked[0].dispersion(), 1.0);
  EXPECT_DOUBLE_EQ(ranked[0].min_score(), 3.0);
  EXPECT_DOUBLE_EQ(ranked[0].max_score(), 5.0);
  EXPECT_EQ(ranked[0].conflicts(), 1);
  EXPECT_EQ(CountedCards(ideas[0], cards["a"]), 2);
  cards["a"].resize(1);
  EXPECT_DOUBLE_EQ(RankIdeas(c, ideas, cards)[0].dispersion(), 0.0) << "one card: no spread";
}

TEST(Quorum, DecidingNeedsEnoughScorecards) {
  const v1::Challenge c = TwoCriteria(3);
  EXPECT_EQ(CheckQuorum(c, 2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckQuorum(c, 2).message(), "jury quorum not reached: 2 of 3 scorecards");
  EXPECT_TRUE(CheckQuorum(c, 3).ok());
}

TEST(DuplicateHint, SimilarIdeasAreHintedBestFirst) {
  DuplicateIndex index;
  index.Upsert("ch", "i1", "Guichet unique",
               "Créer un guichet unique pour les demandes d'aides sociales du département");
  index.Upsert("ch", "i2", "Télétravail", "Ouvrir le télétravail aux agents des routes");
  index.Upsert("other", "i3", "Guichet unique",
               "Créer un guichet unique pour les demandes d'aides sociales du département");
  auto hints = index.Similar(
      "ch", "Créer un guichet unique pour les demandes d'aides sociales des communes", 0.25, 5);
  ASSERT_EQ(hints.size(), 1u);  // i2 is unrelated, i3 is in another challenge
  EXPECT_EQ(hints[0].idea_id(), "i1");
  EXPECT_GT(hints[0].similarity(), 0.5);
  EXPECT_LT(hints[0].similarity(), 1.0);
  // Identical text: similarity 1; case and punctuation don't matter.
  auto same = index.Similar("ch", "CRÉER un guichet unique, pour les demandes d'aides sociales "
                                  "du département !", 0.25, 5);
  ASSERT_FALSE(same.empty());
  EXPECT_EQ(same[0].idea_id(), "i1");
  EXPECT_DOUBLE_EQ(same[0].similarity(), 1.0);
  index.Remove("ch", "i1");
  EXPECT_TRUE(index.Similar("ch", "Créer un guichet unique pour les demandes", 0.25, 5).empty());
}

TEST(DuplicateHint, JaccardOfTrigrams) {
  EXPECT_DOUBLE_EQ(Jaccard(Shingles("a b c d"), Shingles("a b c d")), 1.0);
  // {abc, bcd} vs {abc, bce}: 1 shared of 3 distinct.
  EXPECT_DOUBLE_EQ(Jaccard(Shingles("a b c d"), Shingles("a b c e")), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(Jaccard(Shingles("x y"), Shingles("z w")), 0.0);
  EXPECT_DOUBLE_EQ(Jaccard({}, {}), 0.0);
}

TEST(Comments, ThreadsReadEachAnswerAfterItsCommentAndAnswersTakeOneLevel) {
  auto comment = [](const std::string& id, const std::string& parent) {
    v1::Comment c;
    c.set_id(id);
    c.set_parent_id(parent);
    return c;
  };
  // Creation order: 1, 2, an answer to 1, another to 2, a second answer to 1.
  const auto out = ThreadOrder({comment("1", ""), comment("2", ""), comment("3", "1"),
                                comment("4", "2"), comment("5", "1")});
  std::vector<std::string> ids;
  for (const auto& c : out) ids.push_back(c.id() + "<" + c.parent_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"1<", "3<1", "5<1", "2<", "4<2"}));
  v1::AddCommentRequest r;
  r.set_idea_id("019aca55-9e00-7000-8000-000000000001");
  r.set_body("Très bonne idée");
  r.set_author_name("Camille");
  EXPECT_TRUE(ValidateAddComment(r).ok());
  r.set_parent_id("pas-un-id");
  EXPECT_EQ(ValidateAddComment(r).message().substr(0, 10), "parent_id:");
  r.clear_parent_id();
  r.set_body(std::string(2001, 'a'));
  EXPECT_EQ(ValidateAddComment(r).message().substr(0, 5), "body:");
}

}  // namespace
}  // namespace pep::ideas
