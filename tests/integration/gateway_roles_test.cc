// Every route × every role through the real gateway and the real services (which require the
// gateway key), for bearer tokens and for people signed in through the real OpenID provider
// (session cookie): allowed exactly as specified, and a product team never reaches another
// start-up. The table below is the specification, written independently of the gateway's own
// route table; the test also fails when a route exists that the table does not cover.
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "common/clock.h"
#include "integration/gateway_fixture.h"
#include "services/notify/notify_mail.h"

namespace pep::testing {
namespace {

// What a call sends: the path (placeholders resolved) and the body.
struct Request {
  std::string path;
  std::string body;
};

struct Row {
  std::string method, path;  // path with placeholders, as the specification writes it
  std::string allowed;       // letters: C coordinator, J juror, T product_team, A agent, P public
  int ok;                    // what an allowed caller gets: the route's 2xx
  // Builds a valid request (fresh resources where the call changes or consumes them).
  std::function<Request(char role)> make;
  std::string allowed_signed_in = "";  // when people differ from tokens (a team member makes tokens)
};

// A caller of one kind (token or session) in one role.
using CallFn = std::function<gateway::HttpResult(const std::string& method, const std::string& path,
                                                 const std::string& body, const std::string& ct)>;

// The routes as the gateway names them (to compare with OpenAPI).
std::string Pattern(std::string path) {
  return absl::StrReplaceAll(path, {{"{challenge}", "{challenge_id}"},
                                    {"{idea}", "{idea_id}"},
                                    {"/v1/lineage/{startup}", "/v1/lineage/{id}"},
                                    {"{startup}", "{startup_id}"},
                                    {"{member}", "{member_id}"},
                                    {"{comment}", "{comment_id}"},
                                    {"{feedback}", "{feedback_id}"},
                                    {"{account}", "{account_id}"},
                                    {"{token}", "{token_id}"},
                                    {"{other}", "{other_idea_id}"}});
}

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
  std::string any_comment_;  // Comment() for a refused role, made once
  std::string invite_challenge_;  // Invitation()'s ideas
  const std::string coord_;
  std::unique_ptr<Browser> claire_, karim_, lea_, camille_;
  std::string karim_id_, lea_id_, camille_id_;
  std::string challenge_, agent_, juror_, idea_, s1_, s2_, team_;
  bool people_ = false;
  int n_ = 0;
};

// The specification of issue 6 (roles and what each may do), each row with a valid request.
std::vector<Row> Table(World& w) {
  auto fixed = [&w](std::string path, std::string body = "") {
    return [&w, path, body](char) { return Request{w.Fill(path), body}; };
  };
  auto now = [] { return FormatRfc3339(absl::Now()); };
  return {
      // A signed-in person is an agent as well as what they were granted.
      {"GET", "/v1/challenges", "CJA", 200, fixed("/v1/challenges"), "CJTA"},
      {"POST", "/v1/challenges", "C", 201, [&w](char) {
         return Request{"/v1/challenges", absl::StrCat(R"({"title":"Nouveau défi )", w.Unique(),
                                                       R"(","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})")};
       }},
      {"GET", "/v1/challenges/{challenge}", "CJA", 200, fixed("/v1/challenges/{challenge}"), "CJTA"},
      {"POST", "/v1/challenges/{challenge}:open", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/challenges/", w.DraftChallenge(), ":open"), "{}"};
       }},
      {"POST", "/v1/challenges/{challenge}:close", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/challenges/", w.OpenChallenge(), ":close"), "{}"};
       }},
      {"POST", "/v1/challenges/{challenge}/jurors", "C", 200,
       fixed("/v1/challenges/{challenge}/jurors", R"({"juror_ids":["juror-a"]})")},
      {"GET", "/v1/challenges/{challenge}/ideas", "CJA", 200, fixed("/v1/challenges/{challenge}/ideas"), "CJTA"},
      {"POST", "/v1/challenges/{challenge}/ideas", "CA", 201, [&w](char) {
         return Request{w.Fill("/v1/challenges/{challenge}/ideas"), w.IdeaBody()};
       }, "CJTA"},
      {"GET", "/v1/challenges/{challenge}/ranking", "CJ", 200, fixed("/v1/challenges/{challenge}/ranking")},
      {"GET", "/v1/challenges/{challenge}/scores", "CJ", 200, fixed("/v1/challenges/{challenge}/scores")},
      {"GET", "/v1/ideas/{idea}", "CJA", 200, fixed("/v1/ideas/{idea}")},
      {"PATCH", "/v1/ideas/{idea}", "CA", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.Idea()), R"({"department":"DRH"})"};
       }},
      {"POST", "/v1/ideas/{idea}:submit", "A", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.Draft(), ":submit"), ""};
       }},
      {"DELETE", "/v1/ideas/{idea}", "A", 200, [&w](char) { return Request{absl::StrCat("/v1/ideas/", w.Draft()), ""}; }},
      {"POST", "/v1/ideas/{idea}:withdraw", "CA", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.Idea(), ":withdraw"), R"({"reason":"doublon"})"};
       }},
      {"GET", "/v1/ideas/{idea}/scores", "CJ", 200, fixed("/v1/ideas/{idea}/scores")},
      {"POST", "/v1/challenges/{challenge}/similar-ideas", "CJA", 200,
       fixed("/v1/challenges/{challenge}/similar-ideas", R"({"title":"Dossier unique pour les aides"})"), "CJTA"},
      {"GET", "/v1/ideas", "CJA", 200, fixed("/v1/ideas?page_size=10"), "CJTA"},
      // Supports are agents' (every signed-in person is one), in a challenge open to all agents.
      {"PUT", "/v1/ideas/{idea}/support", "A", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.SharedIdea(), "/support"), ""};
       }, "CJTA"},
      {"DELETE", "/v1/ideas/{idea}/support", "A", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.SharedIdea(), "/support"), ""};
       }, "CJTA"},
      // Co-authors: the idea's author invites (a coordinator is not its author); any agent joins.
      {"POST", "/v1/ideas/{idea}/coauthor-invitations", "A", 201, fixed("/v1/ideas/{idea}/coauthor-invitations")},
      {"POST", "/v1/ideas/{idea}:join", "A", 200, [&w](char) {
         auto [idea, code] = w.Invitation();
         return Request{absl::StrCat("/v1/ideas/", idea, ":join"),
                        absl::StrCat(R"({"code":")", code, R"(","name":"Collègue"})")};
       }, "CJTA"},
      // Comments go with the idea (pep-ideas: whoever reads it); hiding is the coordinators'.
      {"GET", "/v1/ideas/{idea}/comments", "CJA", 200, fixed("/v1/ideas/{idea}/comments")},
      {"POST", "/v1/ideas/{idea}/comments", "CJA", 201,
       fixed("/v1/ideas/{idea}/comments", R"({"body":"Et pour les routes ?","author_name":"Karim"})")},
      {"PATCH", "/v1/comments/{comment}", "CJA", 200, [&w](char role) {
         return Request{absl::StrCat("/v1/comments/", w.Comment(role)), R"({"body":"Remarque précisée"})"};
       }},
      {"POST", "/v1/comments/{comment}:report", "CJA", 200, [&w](char role) {
         return Request{absl::StrCat("/v1/comments/", w.CommentToReport(role), ":report"), R"({"reason":"hors sujet"})"};
       }},
      {"POST", "/v1/comments/{comment}:hide", "C", 200, [&w](char role) {
         return Request{absl::StrCat("/v1/comments/", w.Comment(role == 'C' ? 'J' : 'P'), ":hide"),
                        R"({"reason":"hors sujet"})"};
       }},
      {"POST", "/v1/challenges/{challenge}:visibility", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/challenges/", w.OpenChallenge(), ":visibility"),
                        R"({"visibility":"VISIBILITY_AGENTS","support_threshold":50})"};
       }},
      {"POST", "/v1/ideas/{idea}/scores", "J", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.Idea(), "/scores"), World::ScoreBody()};
       }},
      {"POST", "/v1/challenges/{challenge}:reveal-scores", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/challenges/", w.DraftChallenge(R"("sealed_scoring":true,)"), ":reveal-scores"), "{}"};
       }},
      {"POST", "/v1/challenges/{challenge}:schedule-results", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/challenges/", w.OpenChallenge(), ":schedule-results"),
                        absl::StrCat(R"({"results_at":")", FormatRfc3339(absl::Now() + absl::Hours(2)), "\"}")};
       }},
      {"POST", "/v1/ideas/{idea}:declare-conflict", "J", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.Idea(), ":declare-conflict"), ""};
       }},
      // The flows around an idea: relais, stages, links and merges are the coordinators'; the
      // eligibility check and questions are the stage's reviewers' (a juror, an agent) too.
      {"PUT", "/v1/challenges/{challenge}/relays", "C", 200,
       fixed("/v1/challenges/{challenge}/relays", R"({"relay_ids":["agent-relais"]})")},
      {"PUT", "/v1/challenges/{challenge}/stages", "C", 200, [&w](char) {
         const absl::Time t = absl::Now() + absl::Hours(24);
         return Request{absl::StrCat("/v1/challenges/", w.OpenChallenge(), "/stages"),
                        absl::StrCat(R"({"stages":[{"kind":"STAGE_KIND_SCORING","starts_at":")", FormatRfc3339(t),
                                     R"(","ends_at":")", FormatRfc3339(t + absl::Hours(48)), R"("}]})")};
       }},
      {"POST", "/v1/ideas/{idea}/links", "C", 200, [&w](char) {
         auto [a, b] = w.Pair();
         return Request{absl::StrCat("/v1/ideas/", a, "/links"),
                        absl::StrCat(R"({"other_idea_id":")", b, R"(","kind":"LINK_KIND_PART_OF"})")};
       }},
      {"DELETE", "/v1/ideas/{idea}/links/{other}", "C", 200, [&w](char) {
         auto [a, b] = w.Pair();
         w.p_.Post<iv1::Idea>(absl::StrCat("/v1/ideas/", a, "/links"), w.coord_,
                              absl::StrCat(R"({"other_idea_id":")", b, R"(","kind":"LINK_KIND_SIMILAR"})"));
         return Request{absl::StrCat("/v1/ideas/", a, "/links/", b), ""};
       }},
      {"POST", "/v1/ideas/{idea}:merge", "C", 200, [&w](char) {
         auto [a, b] = w.Pair();
         return Request{absl::StrCat("/v1/ideas/", a, ":merge"),
                        absl::StrCat(R"({"merged_idea_ids":[")", b, R"("],"rationale":"même besoin"})")};
       }},
      {"POST", "/v1/ideas/{idea}:undo-merge", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.Pair(true).second, ":undo-merge"), ""};
       }},
      {"POST", "/v1/ideas/{idea}:eligibility", "CJA", 200, [&w](char role) {
         return Request{absl::StrCat("/v1/ideas/", w.IdeaToCheck(role), ":eligibility"), R"({"eligible":true})"};
       }},
      {"POST", "/v1/ideas/{idea}:ask-clarification", "CJA", 200, [&w](char role) {
         return Request{absl::StrCat("/v1/ideas/", w.IdeaToCheck(role), ":ask-clarification"),
                        R"({"question":"Pour quels collèges ?"})"};
       }},
      {"POST", "/v1/ideas/{idea}:answer-clarification", "A", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.QuestionedIdea(), ":answer-clarification"),
                        R"({"answer":"Tous ceux du haut pays"})"};
       }},
      {"POST", "/v1/ideas/{idea}:decide", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.ScoredIdea(), ":decide"),
                        R"({"decision":"IDEA_STATUS_SHORTLISTED","rationale":"prometteuse"})"};
       }},
      {"GET", "/v1/startups", "C", 200, fixed("/v1/startups")},
      {"POST", "/v1/startups", "C", 201, [&w](char) {
         return Request{"/v1/startups", absl::StrCat(R"({"name":"Produit )", w.Unique(),
                                                     R"(","mission":"m","incubator":"lab06"})")};
       }},
      {"GET", "/v1/startups/{startup}", "CT", 200, fixed("/v1/startups/{startup}")},
      {"PATCH", "/v1/startups/{startup}", "C", 200,
       fixed("/v1/startups/{startup}", R"({"mission":"Inscrire à la cantine sans papier"})")},
      {"POST", "/v1/startups/{startup}/committee-decisions", "C", 201, [&w](char) {
         return Request{w.Fill("/v1/startups/{startup}/committee-decisions"), w.DecisionBody()};
       }},
      {"POST", "/v1/startups/{startup}:change-phase", "C", 200, [&w](char) {
         const std::string s = w.Startup("Phase");
         return Request{absl::StrCat("/v1/startups/", s, ":change-phase"),
                        absl::StrCat(R"({"to":"PHASE_CONSTRUCTION","decision_id":")", w.Decision(s), "\"}")};
       }},
      {"GET", "/v1/startups/{startup}/milestones", "CT", 200, fixed("/v1/startups/{startup}/milestones")},
      {"POST", "/v1/startups/{startup}/milestones", "CT", 201, [&w](char) {
         return Request{w.Fill("/v1/startups/{startup}/milestones"),
                        absl::StrCat(R"({"title":"Jalon","kind":"MILESTONE_KIND_TEAM","idempotency_key":"k)",
                                     w.Unique(), R"(","date":")", FormatRfc3339(absl::Now()), R"("})")};
       }},
      {"POST", "/v1/startups/{startup}/team", "C", 200,
       fixed("/v1/startups/{startup}/team", R"({"name":"Sam","role":"designer"})")},
      {"DELETE", "/v1/startups/{startup}/team/{member}", "C", 200, [&w](char) {
         return Request{w.Fill(absl::StrCat("/v1/startups/{startup}/team/", w.Member())), ""};
       }},
      {"POST", "/v1/imports/portfolio", "C", 200, [&w](char) {
         return Request{"/v1/imports/portfolio",
                        absl::StrCat(R"({"slug":"import-)", w.Unique(), R"(","title":"Importé","mission":"m",)",
                                     R"("incubator":"lab06","phases":[{"name":"investigation","start":"2024-09-02"}]})", "\n")};
       }},
      {"GET", "/v1/portfolio/stats", "C", 200, fixed("/v1/portfolio/stats")},
      {"POST", "/v1/startups/{startup}/feedback", "CJTAP", 201,
       fixed("/v1/startups/{startup}/feedback", R"({"satisfaction":"SATISFACTION_MEDIUM"})")},
      {"GET", "/v1/startups/{startup}/feedback", "CT", 200, fixed("/v1/startups/{startup}/feedback")},
      {"GET", "/v1/startups/{startup}/feedback/summary", "CT", 200,
       fixed("/v1/startups/{startup}/feedback/summary?granularity=GRANULARITY_DAY")},
      {"GET", "/v1/startups/{startup}/feedback:export", "CT", 200, fixed("/v1/startups/{startup}/feedback:export")},
      {"POST", "/v1/feedback/{feedback}:moderate", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/feedback/", w.Feedback(), ":moderate"), R"({"reason":"propos injurieux"})"};
       }},
      {"GET", "/v1/startups/{startup}/timeline", "CT", 200, fixed("/v1/startups/{startup}/timeline")},
      {"GET", "/v1/startups/{startup}/state", "CT", 200, [&w, now](char) {
         return Request{w.Fill(absl::StrCat("/v1/startups/{startup}/state?as_of=", now())), ""};
       }},
      {"GET", "/v1/lineage/{startup}", "C", 200, fixed("/v1/lineage/{startup}")},
      {"POST", "/v1/audit:verify", "C", 200, fixed("/v1/audit:verify", "{}")},
      {"GET", "/v1/startups/{startup}/ledger:export", "CT", 200, fixed("/v1/startups/{startup}/ledger:export")},
      // The log's tree is public (hashes only), as a transparency log's is.
      {"GET", "/ledger/checkpoint", "CJTAP", 200, fixed("/ledger/checkpoint")},
      {"GET", "/ledger/tile/{level}/{index}.p/{width}", "CJTAP", 200, fixed("/ledger/tile/0/000.p/1")},
      // A full level-1 tile needs 65,536 entries: the route answers anyone, and there is none yet.
      {"GET", "/ledger/tile/{level}/{index}", "CJTAP", 404, fixed("/ledger/tile/1/000")},
      {"GET", "/v1/ledger/checkpoint", "CJTAP", 200, fixed("/v1/ledger/checkpoint")},
      {"GET", "/v1/ledger/inclusion", "CJTAP", 200, fixed("/v1/ledger/inclusion?index=0")},
      {"GET", "/v1/ledger/consistency", "CJTAP", 200, fixed("/v1/ledger/consistency?first=1")},
      {"GET", "/v1/me", "CJTAP", 200, fixed("/v1/me")},
      {"GET", "/v1/tokens", "CT", 200, fixed("/v1/tokens")},
      {"POST", "/v1/tokens", "C", 201, [&w](char role) {
         return Request{"/v1/tokens", role == 'T' ? w.TeamTokenBody() : w.TokenBody()};
       }, "CT"},
      {"DELETE", "/v1/tokens/{token}", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/tokens/", w.TokenId()), ""};
       }},
      {"GET", "/v1/accounts", "C", 200, fixed("/v1/accounts")},
      {"POST", "/v1/accounts/{account}/grants", "C", 201, [&w](char) {
         return Request{w.Fill("/v1/accounts/{account}/grants"),
                        absl::StrCat(R"({"role":"juror","scope":"challenge:)", w.OpenChallenge(), "\"}")};
       }},
      {"DELETE", "/v1/accounts/{account}/grants", "C", 200, [&w](char) {
         return Request{w.Fill(absl::StrCat("/v1/accounts/{account}/grants?role=juror&scope=challenge:",
                                            w.GrantedChallenge())), ""};
       }},
      // pep-notify: each person's own bell and settings; the relay's refusals and digests are
      // the coordinators'; unsubscribing takes a signed link, not a session.
      {"GET", "/v1/notifications", "CJTA", 200, fixed("/v1/notifications?unread_only=true")},
      {"POST", "/v1/notifications:read", "CJTA", 200, fixed("/v1/notifications:read", R"({"all":true})")},
      {"GET", "/v1/notifications/preferences", "CJTA", 200, fixed("/v1/notifications/preferences")},
      {"PUT", "/v1/notifications/preferences", "CJTA", 200,
       fixed("/v1/notifications/preferences", R"({"categories":[{"category":"jury","delivery":"DELIVERY_DAILY"}]})")},
      {"DELETE", "/v1/notifications/contact", "CJTA", 200, fixed("/v1/notifications/contact")},
      {"GET", "/v1/notifications/undeliverable", "C", 200, fixed("/v1/notifications/undeliverable")},
      {"PUT", "/v1/notifications/contacts/{person}", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/notifications/contacts/jur%C3%A9-", w.Unique()),
                        R"({"email":"jure.exterieur@departement06.fr","display_name":"Juré extérieur"})"};
       }},
      {"GET", "/v1/notifications/contacts", "C", 200, fixed("/v1/notifications/contacts")},
      // Following: anyone who may read the subject (checked with its owner, as the caller: a
      // start-up is its team's and the coordinators' until its public pages exist); anyone may
      // stop following anything.
      {"PUT", "/v1/notifications/follows/{subject_type}/{subject_id}", "CT", 201,
       fixed("/v1/notifications/follows/startup/{startup}")},
      {"DELETE", "/v1/notifications/follows/{subject_type}/{subject_id}", "CJTA", 200,
       fixed("/v1/notifications/follows/startup/{startup}")},
      {"GET", "/v1/notifications/follows", "CJTA", 200, fixed("/v1/notifications/follows")},
      {"POST", "/v1/notifications/digests", "C", 200, fixed("/v1/notifications/digests", R"({"cadence":"DELIVERY_WEEKLY"})")},
      {"GET", "/v1/notifications/unsubscribe", "CJTAP", 200, fixed("/v1/notifications/unsubscribe?token=x.y")},
      {"POST", "/v1/notifications/unsubscribe", "CJTAP", 200, [&w](char) {
         return Request{"/v1/notifications/unsubscribe?token=" + w.UnsubscribeToken(), "List-Unsubscribe=One-Click"};
       }},
  };
}

// Spellings of `path` that must never reach a route: a trailing slash, a doubled slash, an
// upper-case segment, a '/' sent percent-encoded.
std::vector<std::string> Variants(const std::string& path) {
  const std::string bare = path.substr(0, path.find('?'));
  if (!absl::StartsWith(bare, "/v1/")) {  // /ledger/…: outside it is the console, not a route
    return {bare + "/", absl::StrReplaceAll(bare, {{"/ledger/", "/ledger//"}}),
            bare.substr(0, bare.rfind('/')) + "%2F" + bare.substr(bare.rfind('/') + 1)};
  }
  std::vector<std::string> out = {bare + "/", "/v1/" + bare.substr(3), "/V1" + bare.substr(3)};
  if (const size_t last = bare.rfind('/'); last > 3) {
    out.push_back(bare.substr(0, last) + "%2F" + bare.substr(last + 1));
  }
  std::string upper = bare;
  for (size_t i = 4; i < upper.size() && upper[i] != '/'; ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  if (upper != bare) out.push_back(upper);
  return out;
}

TEST(GatewayRoles, EveryRouteTimesEveryRole) {
  // Rate limits off: every role posts an answer from the same address.
  Platform p({"--rate_limit_per_minute", "0"}, {}, /*sign_in=*/true);
  const std::string& coord = p.coordinator();
  ASSERT_FALSE(coord.empty());
  World w(p);
  const std::string& team = w.team_;
  const std::string& agent = w.agent_;
  const std::map<char, std::string> tokens = {
      {'C', coord}, {'J', w.juror_}, {'T', team}, {'A', agent}, {'P', ""}};
  const std::vector<Row> table = Table(w);

  // The table covers exactly the documented routes.
  {
    google::protobuf::Struct doc;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(p.Get("/openapi.json", "").body, &doc).ok());
    std::set<std::string> documented, tested;
    for (const auto& [path, item] : doc.fields().at("paths").struct_value().fields()) {
      for (const auto& [method, op] : item.struct_value().fields()) {
        documented.insert(absl::StrCat(absl::AsciiStrToUpper(method), " ", path));
      }
    }
    for (const Row& r : table) tested.insert(absl::StrCat(r.method, " ", Pattern(r.path)));
    EXPECT_EQ(documented, tested);
  }

  int checked = 0, variants = 0;
  // One pass of the whole table for one kind of caller.
  auto run = [&](const std::map<char, CallFn>& callers, bool people) {
    for (const Row& row : table) {
      for (const auto& [letter, call] : callers) {
        const std::string& spec = people && !row.allowed_signed_in.empty() ? row.allowed_signed_in : row.allowed;
        const bool allowed = spec.find(letter) != std::string::npos;
        const Request req = row.make(letter);
        const std::string ct = row.path == "/v1/imports/portfolio" ? "application/x-ndjson" : "application/json";
        gateway::HttpResult r = call(row.method, req.path, req.body, ct);
        const std::string what = absl::StrCat(people ? "signed in " : "token ", row.method, " ", req.path, " as ",
                                              std::string(1, letter), ": ", r.status, " ", r.body.substr(0, 200));
        if (allowed) {
          EXPECT_EQ(r.status, row.ok) << what;  // the route's 2xx: never a 4xx, 404 or 500
        } else if (letter == 'P') {
          EXPECT_EQ(r.status, 401) << what;
        } else {
          EXPECT_EQ(r.status, 403) << what;
        }
        ++checked;
        if (letter == 'C' && !people) {  // the coordinator may do anything: only a spelling can refuse it
          for (const std::string& v : Variants(req.path)) {
            gateway::HttpResult vr = call(row.method, v, req.body, ct);
            EXPECT_EQ(vr.status, 404) << row.method << " " << v << " reached a route: " << vr.body.substr(0, 200);
            ++variants;
          }
        }
      }
    }
  };
  std::map<char, CallFn> by_token;
  for (const auto& [letter, token] : tokens) {
    by_token[letter] = [&p, token = token](const std::string& m, const std::string& path, const std::string& body,
                                           const std::string& ct) { return p.Call(m, path, token, body, ct); };
  }
  run(by_token, false);
  Browser nobody(p.provider().issuer());
  std::map<char, CallFn> by_session;
  for (const auto& [letter, b] : std::map<char, Browser*>{{'C', w.claire_.get()}, {'J', w.karim_.get()},
                                                          {'T', w.lea_.get()}, {'A', w.camille_.get()},
                                                          {'P', &nobody}}) {
    ASSERT_NE(b, nullptr) << "sign-in failed for " << letter;
    by_session[letter] = [&p, b = b](const std::string& m, const std::string& path, const std::string& body,
                                     const std::string& ct) { return p.As(*b, m, path, body, ct); };
  }
  const std::string idea_id = w.idea_;  // the agent token's idea
  w.PeopleCalling();
  run(by_session, true);
  EXPECT_EQ(checked, static_cast<int>(2 * table.size() * tokens.size()));

  EXPECT_GT(variants, static_cast<int>(3 * table.size()));
  const std::string s2 = w.s2_;
  const std::string ch_id = w.challenge_;

  // A product team (token or member) never reaches another start-up, on any route naming one.
  for (const Row& row : table) {
    if (row.path.find("{startup}") == std::string::npos || row.allowed.find('T') == std::string::npos ||
        row.allowed.find('P') != std::string::npos) {  // the public form is anyone's
      continue;
    }
    Request req = row.make('T');
    req.path = absl::StrReplaceAll(req.path, {{w.s1_, s2}});
    gateway::HttpResult r = p.Call(row.method, req.path, team, req.body);
    EXPECT_EQ(r.status, 403) << row.method << " " << req.path << ": " << r.body;
    r = p.As(*w.lea_, row.method, req.path, req.body);
    EXPECT_EQ(r.status, 403) << "signed in " << row.method << " " << req.path << ": " << r.body;
  }

  // An agent sees only their own ideas; a juror not on the jury sees none.
  const std::string other_agent = p.Token("agent", "agent-2");
  EXPECT_EQ(p.Get(absl::StrCat("/v1/ideas/", idea_id), other_agent).status, 403);
  // Nor can they follow what they cannot see (a follow would tell them of it).
  EXPECT_EQ(p.Call("PUT", absl::StrCat("/v1/notifications/follows/idea/", idea_id), other_agent, "").status, 403);
  EXPECT_EQ(p.Call("PUT", absl::StrCat("/v1/notifications/follows/idea/", idea_id), agent, "").status, 201);
  EXPECT_EQ(p.Call("PUT", absl::StrCat("/v1/notifications/follows/startup/", s2), team, "").status, 403);
  EXPECT_EQ(p.Call("PUT", "/v1/notifications/follows/challenge/01890000-0000-7000-8000-000000000000", agent, "").status, 404);
  gateway::HttpResult listed = p.Get(absl::StrCat("/v1/challenges/", ch_id, "/ideas"), other_agent);
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(idea_id), std::string::npos) << listed.body;
  EXPECT_NE(p.Get(absl::StrCat("/v1/challenges/", ch_id, "/ideas"), agent).body.find(idea_id),
            std::string::npos);
  const std::string outsider = p.Token("juror", "juror-z");
  EXPECT_EQ(p.Get(absl::StrCat("/v1/challenges/", ch_id, "/ranking"), outsider).status, 403);

  // Revoked tokens stop working at once.
  gateway::HttpResult list = p.Get("/v1/tokens", coord);
  const size_t at = list.body.find("\"actor\":\"agent-2\"");
  ASSERT_NE(at, std::string::npos);
  const size_t id_at = list.body.rfind("\"id\":\"", at);
  const std::string id = list.body.substr(id_at + 6, list.body.find('"', id_at + 6) - id_at - 6);
  EXPECT_EQ(p.Call("DELETE", "/v1/tokens/" + id, coord).status, 200);
  EXPECT_EQ(p.Get("/v1/me", other_agent).status, 401);
  EXPECT_EQ(list.body.find("pep_"), std::string::npos) << "a token list shows a secret";

  // The services themselves refuse a call that bypasses the gateway.
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-pep-actor", "intruder");
    ctx.AddMetadata("x-pep-roles", "coordinator");
    iv1::ListChallengesRequest req;
    iv1::ListChallengesResponse resp;
    EXPECT_EQ(p.ideas().stub().ListChallenges(&ctx, req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  const std::string metrics = HttpGet(p.gateway_metrics_port(), "/metrics");
  EXPECT_GT(Sample(metrics, "pep_http_requests_total{code=\"403\",method=\"GET\",route=\"/v1/startups\"}"), 0);
}

}  // namespace
}  // namespace pep::testing
