// The world gateway_roles_test's calls refer to: the people signed in through the real OpenID
// provider, tokens of each role, a challenge, ideas, start-ups — and fresh objects for the calls
// that change or use one up (a draft to send, an idea to merge, a comment to hide).
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/clock.h"
#include "integration/gateway_fixture.h"
#include "services/notify/notify_mail.h"

namespace pep::testing::roles {

namespace iv1 = ::pepiniere::ideas::v1;
namespace nv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;

// The world the calls refer to, and fresh objects for calls that change or use one up.
class World {
 public:
  explicit World(Platform& p) : p_(p), coord_(p.coordinator()) {
    // The people, signed in through the provider; Karim and Léa are given their roles below.
    claire_ = p.SignIn(Platform::kCoordinatorEmail, "coordination-06");
    karim_ = p.SignIn("karim.benali@departement06.fr", "jury-06-a");
    lea_ = p.SignIn("lea.moreau@beta.gouv.fr", "equipe-06");
    camille_ = p.SignIn("camille.roux@departement06.fr", "agent-06");
    karim_id_ = AccountId(*karim_);
    lea_id_ = AccountId(*lea_);
    camille_id_ = AccountId(*camille_);
    challenge_ = OpenChallenge();
    agent_ = p.Token("agent", "agent-1");
    juror_ = p.Token("juror", "juror-a");
    idea_ = Idea();
    s1_ = Startup("Cantine en ligne");
    s2_ = Startup("Autre produit");
    team_ = p.Token("product_team", "ci-cantine", "startup:" + s1_);
    Grant(karim_id_, "juror", "challenge:" + challenge_);
    Grant(lea_id_, "product_team", "startup:" + s1_);
    // s1 in construction takes users' answers; the audit ledger knows it.
    p.Post<nv1::Startup>(absl::StrCat("/v1/startups/", s1_, ":change-phase"), coord_,
                         absl::StrCat(R"({"to":"PHASE_CONSTRUCTION","decision_id":")", Decision(s1_), "\"}"));
    EXPECT_TRUE(WaitFor([&] { return !Feedback().empty(); }, absl::Seconds(30)));
    EXPECT_TRUE(WaitFor([&] {
      return p.Get(absl::StrCat("/v1/startups/", s1_, "/timeline"), coord_).status == 200;
    }, absl::Seconds(30)));
  }
  std::string Unique() { return absl::StrCat(++n_); }
  // The first "id" of a JSON answer.
  static std::string IdOf(const std::string& body) {
    const size_t at = body.find("\"id\":\"");
    return body.substr(at + 6, body.find('"', at + 6) - at - 6);
  }
  std::string AccountId(Browser& b) {
    gateway::HttpResult me = p_.As(b, "GET", "/v1/me");
    const size_t at = me.body.find("\"actor\":\"");
    return at == std::string::npos ? "" : me.body.substr(at + 9, me.body.find('"', at + 9) - at - 9);
  }
  void Grant(const std::string& account, const std::string& role, const std::string& scope) {
    gateway::HttpResult r = p_.Call("POST", absl::StrCat("/v1/accounts/", account, "/grants"), coord_,
                                    absl::StrCat(R"({"role":")", role, R"(","scope":")", scope, "\"}"));
    EXPECT_EQ(r.status, 201) << r.body;
  }
  // A fresh juror grant on a fresh challenge (to withdraw).
  std::string GrantedChallenge() {
    const std::string c = OpenChallenge();
    Grant(camille_id_, "juror", "challenge:" + c);
    return c;
  }
  std::string DraftChallenge(const std::string& more = "") {  // `more`: fields, e.g. sealed scoring
    return p_.Post<iv1::Challenge>(
        "/v1/challenges", coord_,
        absl::StrCat(R"({"title":"Défi )", Unique(), R"(","theme":"simplification",)", more,
                     R"("criteria":[{"name":"impact","weight":1}],"jury_quorum":1})")).id();
  }
  std::string OpenChallenge() {
    const std::string id = DraftChallenge();
    p_.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", id, ":open"), coord_, "");
    p_.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", id, "/jurors"), coord_,
                            R"({"juror_ids":["juror-a"]})");
    return id;
  }
  std::string IdeaBody() {
    return absl::StrCat(R"({"title":"Dossier unique )", Unique(),
                        R"(","problem":"Les usagers remplissent trois formulaires.",)"
                        R"("proposal":"Un formulaire pré-rempli.","author_name":"Camille","department":"DAS",)"
                        R"("contact_email":"camille@exemple.fr"})");
  }
  // An idea of the agent of the pass (the token's, or Camille's when people are calling).
  std::string Idea() {
    if (!people_) {
      return p_.Post<iv1::SubmitIdeaResponse>(absl::StrCat("/v1/challenges/", challenge_, "/ideas"),
                                              agent_, IdeaBody()).idea().id();
    }
    gateway::HttpResult r = p_.As(*camille_, "POST", absl::StrCat("/v1/challenges/", challenge_, "/ideas"), IdeaBody());
    EXPECT_EQ(r.status, 201) << r.body;
    return IdOf(r.body);
  }
  // A draft of the pass's agent (the token's, or Camille's when people are calling).
  std::string Draft() {
    const std::string body = IdeaBody().substr(0, IdeaBody().size() - 1) + R"(,"draft":true})";
    const std::string path = absl::StrCat("/v1/challenges/", challenge_, "/ideas");
    gateway::HttpResult r = people_ ? p_.As(*camille_, "POST", path, body) : p_.Call("POST", path, agent_, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return IdOf(r.body);
  }
  // An idea of another agent in a challenge open to all agents (supports need one), made once.
  std::string SharedIdea() {
    if (shared_idea_.empty()) {
      const std::string c = OpenChallenge();
      p_.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", c, ":visibility"), coord_,
                              R"({"visibility":"VISIBILITY_AGENTS"})");
      shared_idea_ = p_.Post<iv1::SubmitIdeaResponse>(absl::StrCat("/v1/challenges/", c, "/ideas"),
                                                      p_.Token("agent", "agent-voisin"), IdeaBody())
                         .idea().id();
    }
    return shared_idea_;
  }
  // A fresh comment on the idea by `letter` (C, J, A); one made once for refused roles (5 a minute).
  std::string Comment(char letter) {
    if (std::string("CJA").find(letter) == std::string::npos) {
      if (any_comment_.empty()) any_comment_ = Comment('C');
      return any_comment_;
    }
    const std::string path = absl::StrCat("/v1/ideas/", idea_, "/comments");
    const std::string body = absl::StrCat(R"({"body":"Remarque n°)", Unique(), R"( : et les collèges ?","author_name":"Camille"})");
    gateway::HttpResult r =
        people_ ? p_.As(letter == 'C' ? *claire_ : letter == 'J' ? *karim_ : *camille_, "POST", path, body)
                : p_.Call("POST", path, letter == 'C' ? coord_ : letter == 'J' ? juror_ : agent_, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return IdOf(r.body);
  }
  // A fresh idea of another agent and a code to join it.
  std::pair<std::string, std::string> Invitation() {
    const std::string owner = p_.Token("agent", "agent-voisin");
    if (invite_challenge_.empty()) invite_challenge_ = OpenChallenge();  // no person on its jury
    const std::string idea = p_.Post<iv1::SubmitIdeaResponse>(
        absl::StrCat("/v1/challenges/", invite_challenge_, "/ideas"), owner, IdeaBody()).idea().id();
    return {idea, p_.Post<iv1::CoauthorInvitation>(
                      absl::StrCat("/v1/ideas/", idea, "/coauthor-invitations"), owner, "").code()};
  }
  // A fresh idea of another agent, in a challenge whose eligibility stage is open now with the
  // caller of `role` among its reviewers (a juror and an agent; a coordinator needs no naming).
  std::string IdeaToCheck(char role) {
    const std::string c = OpenChallenge();
    const std::string idea = p_.Post<iv1::SubmitIdeaResponse>(absl::StrCat("/v1/challenges/", c, "/ideas"),
                                                              p_.Token("agent", "agent-voisin"), IdeaBody()).idea().id();
    const std::string who = role == 'J' ? (people_ ? karim_id_ : "juror-a") : (people_ ? camille_id_ : "agent-1");
    const absl::Time now = absl::Now();
    gateway::HttpResult r = p_.Call(
        "PUT", absl::StrCat("/v1/challenges/", c, "/stages"), coord_,
        absl::StrCat(R"({"stages":[{"kind":"STAGE_KIND_ELIGIBILITY","reviewer_ids":[")", who, R"("],"starts_at":")",
                     FormatRfc3339(now - absl::Minutes(1)), R"(","ends_at":")", FormatRfc3339(now + absl::Hours(1)),
                     R"("},{"kind":"STAGE_KIND_SCORING","starts_at":")", FormatRfc3339(now + absl::Hours(1)),
                     R"(","ends_at":")", FormatRfc3339(now + absl::Hours(2)), R"("}]})"));
    EXPECT_EQ(r.status, 200) << r.body;
    return idea;
  }
  // The pass's agent's fresh idea, on which a coordinator asked a question.
  std::string QuestionedIdea() {
    const std::string idea = Idea();
    p_.Post<iv1::Idea>(absl::StrCat("/v1/ideas/", idea, ":ask-clarification"), coord_, R"({"question":"Quel coût ?"})");
    return idea;
  }
  // Two fresh ideas of the pass's agent, the second merged into the first (`merged`) or not.
  std::pair<std::string, std::string> Pair(bool merged = false) {
    std::pair<std::string, std::string> out{Idea(), Idea()};
    if (merged) {
      p_.Post<iv1::Idea>(absl::StrCat("/v1/ideas/", out.first, ":merge"), coord_,
                         absl::StrCat(R"({"merged_idea_ids":[")", out.second, R"("],"rationale":"doublon"})"));
    }
    return out;
  }
  // Someone else's comment to report: each reader reports another's.
  std::string CommentToReport(char letter) {
    return Comment(letter == 'C' ? 'J' : letter == 'J' ? 'A' : letter == 'A' ? 'C' : 'P');
  }
  std::string ScoredIdea() {
    const std::string id = Idea();
    p_.Post<iv1::Scorecard>(absl::StrCat("/v1/ideas/", id, "/scores"), juror_, ScoreBody());
    return id;
  }
  // From now on the table's calls are people's (their own ideas, their own start-up).
  void PeopleCalling() {
    people_ = true;
    idea_ = Idea();
  }
  static std::string ScoreBody() { return R"({"scores":[{"criterion":"impact","score":4}],"comment":"bien"})"; }
  std::string Startup(const std::string& name) {
    return p_.Post<nv1::Startup>("/v1/startups", coord_,
                                 absl::StrCat(R"({"name":")", name, " ", Unique(),
                                              R"(","mission":"Inscrire sans papier","incubator":"lab06"})")).id();
  }
  std::string DecisionBody() {
    return absl::StrCat(R"({"date":")", FormatRfc3339(absl::Now() - absl::Minutes(1)),
                        R"(","outcome":"COMMITTEE_OUTCOME_GO","rationale":"ok","participants":["DGS"]})");
  }
  std::string Decision(const std::string& startup) {
    return p_.Post<nv1::CommitteeDecision>(absl::StrCat("/v1/startups/", startup, "/committee-decisions"),
                                           coord_, DecisionBody()).id();
  }
  std::string Member() {
    auto s = p_.Post<nv1::Startup>(absl::StrCat("/v1/startups/", s1_, "/team"), coord_,
                                   R"({"name":"Alex","role":"développeur"})");
    return s.team().empty() ? "" : s.team(s.team_size() - 1).id();
  }
  // One user's answer for s1 (empty until pep-feedback knows s1 is in construction).
  std::string Feedback() {
    gateway::HttpResult r = p_.Call("POST", absl::StrCat("/v1/startups/", s1_, "/feedback"), "",
                                    R"({"satisfaction":"SATISFACTION_GOOD","verbatim":"Bien"})");
    if (r.status != 201) return "";
    return IdOf(r.body);
  }
  // A one-click link's token, signed with pep-notify's own key (its data dir), as its e-mails carry.
  std::string UnsubscribeToken() {
    std::ifstream f(p_.notify().data_dir() + "/unsubscribe.key");
    std::string key;
    std::getline(f, key);
    return notify::SignUnsubscribe(key, absl::StrCat("agent-", Unique()), "jury", absl::Now() + absl::Hours(1));
  }
  // A fresh fiche edit of s1 by its team, waiting for review.
  std::string PendingEdit() {
    gateway::HttpResult r = p_.Call("POST", absl::StrCat("/v1/startups/", s1_, "/fiche-edits"), team_,
                                    absl::StrCat(R"({"mission":"Mission n°)", Unique(), R"("})"));
    EXPECT_EQ(r.status, 201) << r.body;
    return IdOf(r.body);
  }
  // A published start-up's public id (its slug), published once.
  std::string PublishedSlug() {
    if (published_.empty()) {
      p_.Call("PUT", absl::StrCat("/v1/startups/", s2_, "/publication"), coord_, R"({"policy":{"published":true,"phases":true}})");
      published_ = p_.Get(absl::StrCat("/v1/startups/", s2_), coord_).body;
      const size_t at = published_.find("\"slug\":\"");
      published_ = published_.substr(at + 8, published_.find('"', at + 8) - at - 8);
    }
    return published_;
  }
  // A public fact of that start-up (its phase, attested on the ledger), once its proof is signed.
  std::string PublicFact() {
    if (fact_.empty()) {
      const std::string page = absl::StrCat("/startups/", PublishedSlug());
      constexpr std::string_view kHref = "href=\"/ledger/faits/";
      WaitFor([&] {
        const std::string body = p_.Get(page, "").body;
        const size_t at = body.find(kHref);
        if (at == std::string::npos) return false;
        fact_ = body.substr(at + kHref.size(), body.find('"', at + kHref.size()) - at - kHref.size());
        return p_.Get(absl::StrCat("/v1/public/facts/", fact_, "/proof"), "").status == 200;
      }, absl::Seconds(30));
    }
    return fact_;
  }
  // Steering: s1's indicator, a meeting with s1 on its agenda, its pre-read (once each).
  std::string Kpi() {
    if (kpi_.empty()) {
      EXPECT_EQ(p_.Call("POST", absl::StrCat("/v1/startups/", s1_, "/kpis"), coord_,
                        R"({"kpi":{"id":"inscriptions","name":"Inscriptions en ligne","unit":"familles","direction":"KPI_DIRECTION_UP"}})").status,
                200);
      kpi_ = "inscriptions";
    }
    return kpi_;
  }
  std::string MeetingBody() {
    return absl::StrCat(R"({"title":"Comité n°)", Unique(), R"( de l'hiver","date":")",
                        FormatRfc3339(absl::Now() + absl::Hours(24 * 20)), R"(","startup_ids":[")", s1_, R"("]})");
  }
  std::string Meeting() {
    if (meeting_.empty()) meeting_ = p_.Post<nv1::CommitteeMeeting>("/v1/committees", coord_, MeetingBody()).id();
    return meeting_;
  }
  std::string PreRead() {
    if (preread_.empty()) {
      preread_ = p_.Post<nv1::PreRead>(absl::StrCat("/v1/committees/", Meeting(), "/prereads/", s1_), coord_, "").id();
    }
    return preread_;
  }
  // The pre-read once pep-audit has it on the ledger.
  std::string SealedPreRead() {
    const std::string id = PreRead();
    WaitFor([&] {
      return p_.Get(absl::StrCat("/v1/startups/", s1_, "/prereads/", id, "/ledger"), coord_).status == 200;
    }, absl::Seconds(30));
    return id;
  }
  std::string TokenId() {
    gateway::HttpResult r = p_.Call("POST", "/v1/tokens", coord_, TokenBody());
    return IdOf(r.body);
  }
  std::string TokenBody() {
    return absl::StrCat(R"({"role":"agent","actor":"agent-)", Unique(), R"(","name":"essai"})");
  }
  // What a team member may hand out: a token for their own start-up.
  std::string TeamTokenBody() {
    return absl::StrCat(R"({"role":"product_team","scope":"startup:)", s1_, R"(","name":"CI )", Unique(), "\"}");
  }
  std::string Fill(const std::string& path) {
    return absl::StrReplaceAll(path, {{"{challenge}", challenge_}, {"{idea}", idea_}, {"{startup}", s1_},
                                      {"{account}", camille_id_}});
  }

  Platform& p_;
  std::string shared_idea_;  // SharedIdea(), made once
  std::string published_;    // PublishedSlug(), once
  std::string fact_;         // PublicFact(), once
  std::string kpi_, meeting_, preread_;  // Kpi(), Meeting(), PreRead(), once
  std::string any_comment_;  // Comment() for a refused role, made once
  std::string invite_challenge_;  // Invitation()'s ideas
  const std::string coord_;
  std::unique_ptr<Browser> claire_, karim_, lea_, camille_;
  std::string karim_id_, lea_id_, camille_id_;
  std::string challenge_, agent_, juror_, idea_, s1_, s2_, team_;
  bool people_ = false;
  int n_ = 0;
};

}  // namespace pep::testing::roles
