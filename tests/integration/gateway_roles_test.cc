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
#include "integration/gateway_roles_world.h"
#include "services/notify/notify_mail.h"

namespace pep::testing {
namespace {

using roles::World;
namespace iv1 = ::pepiniere::ideas::v1;
namespace nv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;

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
                                    {"{other}", "{other_idea_id}"},
                                    {"{edit}", "{edit_id}"},
                                    {"{fact}", "{fact_id}"},
                                    {"{meeting}", "{meeting_id}"},
                                    {"{preread}", "{preread_id}"}});
}


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
      {"POST", "/v1/ideas/{idea}:public-credit", "A", 200, [&w](char) {
         return Request{absl::StrCat("/v1/ideas/", w.Idea(), ":public-credit"), R"({"consent":true})"};
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
      {"POST", "/v1/startups/{startup}/team", "CT", 200,
       fixed("/v1/startups/{startup}/team", R"({"name":"Sam","role":"designer"})")},
      {"PATCH", "/v1/startups/{startup}/team/{member}", "CT", 200, [&w](char) {
         return Request{w.Fill(absl::StrCat("/v1/startups/{startup}/team/", w.Member())),
                        R"({"kind":"TEAM_ROLE_COACH","status":"MEMBER_STATUS_INDEPENDENT"})"};
       }},
      {"DELETE", "/v1/startups/{startup}/team/{member}", "CT", 200, [&w](char) {
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
      // Publication and open data (issue 30): the coordinators publish; anyone reads the data.
      {"PUT", "/v1/startups/{startup}/publication", "C", 200,
       fixed("/v1/startups/{startup}/publication", R"({"policy":{"published":true,"mission":true,"phases":true}})")},
      // The team keeps its fiche; the coordinators review.
      {"POST", "/v1/startups/{startup}/fiche-edits", "CT", 201,
       fixed("/v1/startups/{startup}/fiche-edits", R"({"mission":"Inscrire à la cantine sans papier, en ligne"})")},
      {"GET", "/v1/startups/{startup}/fiche-edits", "CT", 200, fixed("/v1/startups/{startup}/fiche-edits")},
      {"GET", "/v1/fiche-edits", "C", 200, fixed("/v1/fiche-edits?status=FICHE_EDIT_STATUS_PENDING")},
      {"POST", "/v1/fiche-edits/{edit}:decide", "C", 200, [&w](char) {
         return Request{absl::StrCat("/v1/fiche-edits/", w.PendingEdit(), ":decide"), R"({"approve":true})"};
       }},
      // Steering (issue 31): indicators, committees, asks, pre-reads.
      {"GET", "/v1/startups/{startup}/kpis", "CT", 200, fixed("/v1/startups/{startup}/kpis")},
      {"POST", "/v1/startups/{startup}/kpis", "CT", 200,
       fixed("/v1/startups/{startup}/kpis", R"({"kpi":{"id":"usagers","name":"Usagers actifs","direction":"KPI_DIRECTION_UP"}})")},
      {"POST", "/v1/startups/{startup}/kpis/{kpi}/points", "CT", 201, [&w](char) {
         return Request{w.Fill(absl::StrCat("/v1/startups/{startup}/kpis/", w.Kpi(), "/points")),
                        absl::StrCat(R"({"value":12.5,"idempotency_key":"k)", w.Unique(), R"(","date":")",
                                     FormatRfc3339(absl::Now()), R"("})")};
       }},
      {"GET", "/v1/committees", "CT", 200, fixed("/v1/committees")},
      {"POST", "/v1/committees", "C", 201, [&w](char) { return Request{"/v1/committees", w.MeetingBody()}; }},
      {"GET", "/v1/committees/{meeting}", "CT", 200, [&w](char) { return Request{"/v1/committees/" + w.Meeting(), ""}; }},
      {"POST", "/v1/committees/{meeting}/asks/{startup}", "CT", 200, [&w](char) {
         return Request{w.Fill(absl::StrCat("/v1/committees/", w.Meeting(), "/asks/{startup}")),
                        R"({"ask":{"envelope_eur":90000,"hypotheses":["Les familles s'inscrivent en ligne"]}})"};
       }},
      {"POST", "/v1/committees/{meeting}/prereads/{startup}", "C", 201,
       [&w](char) { return Request{w.Fill(absl::StrCat("/v1/committees/", w.Meeting(), "/prereads/{startup}")), ""}; }},
      {"GET", "/v1/prereads/{preread}", "CT", 200, [&w](char) { return Request{"/v1/prereads/" + w.PreRead(), ""}; }},
      {"POST", "/v1/startups/{startup}/budget", "CT", 201, [&w](char) {
         return Request{w.Fill("/v1/startups/{startup}/budget"),
                        absl::StrCat(R"({"kind":"BUDGET_KIND_PAYMENT","resource":"RESOURCE_KIND_SERVICES","amount_eur":4200,)",
                                     R"("label":"Facture n°)", w.Unique(), R"( — développement","idempotency_key":"f)", w.Unique(),
                                     R"(","date":")", FormatRfc3339(absl::Now()), R"("})")};
       }},
      {"GET", "/v1/startups/{startup}/budget", "CT", 200, fixed("/v1/startups/{startup}/budget")},
      {"GET", "/v1/budget.csv", "C", 200, fixed("/v1/budget.csv")},
      {"GET", "/v1/startups/{startup}/prereads/{preread}/ledger", "CT", 200, [&w](char) {
         return Request{w.Fill(absl::StrCat("/v1/startups/{startup}/prereads/", w.SealedPreRead(), "/ledger")), ""};
       }},
      {"GET", "/api/v2.7/startups.json", "CJTAP", 200, fixed("/api/v2.7/startups.json")},
      {"GET", "/api/v2.7/release.json", "CJTAP", 200, fixed("/api/v2.7/release.json")},
      {"POST", "/v1/startups/{startup}/feedback-placements", "CT", 201,
       fixed("/v1/startups/{startup}/feedback-placements", R"({"label":"Page d'accueil","variant":"BUTTON_VARIANT_WHITE"})")},
      {"GET", "/v1/startups/{startup}/feedback-placements", "CT", 200, fixed("/v1/startups/{startup}/feedback-placements")},
      {"GET", "/v1/public/boutons/je-donne-mon-avis-bleu.svg", "CJTAP", 200, fixed("/v1/public/boutons/je-donne-mon-avis-bleu.svg")},
      {"GET", "/v1/public/boutons/je-donne-mon-avis-blanc.svg", "CJTAP", 200, fixed("/v1/public/boutons/je-donne-mon-avis-blanc.svg")},
      {"GET", "/startups", "CJTAP", 200, fixed("/startups?phase=PHASE_CONSTRUCTION")},
      {"GET", "/startups/{startup}", "CJTAP", 200, [&w](char) { return Request{"/startups/" + w.PublishedSlug(), ""}; }},
      {"GET", "/ledger/faits/{fact}", "CJTAP", 200, [&w](char) { return Request{"/ledger/faits/" + w.PublicFact(), ""}; }},
      {"GET", "/v1/public/facts/{fact}/proof", "CJTAP", 200,
       [&w](char) { return Request{absl::StrCat("/v1/public/facts/", w.PublicFact(), "/proof"), ""}; }},
      {"GET", "/statistiques", "CJTAP", 200, fixed("/statistiques")},
      {"GET", "/api/v2.7/startups_details.json", "CJTAP", 200, fixed("/api/v2.7/startups_details.json")},
      {"GET", "/api/v2.7/startups.csv", "CJTAP", 200, fixed("/api/v2.7/startups.csv")},
      {"GET", "/api/v2.7/incubators.json", "CJTAP", 200, fixed("/api/v2.7/incubators.json")},
      {"GET", "/api/v2.7/sponsors.json", "CJTAP", 200, fixed("/api/v2.7/sponsors.json")},
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
  if (!absl::StartsWith(bare, "/v1/") && !absl::StartsWith(bare, "/ledger/") && !absl::StartsWith(bare, "/api/")) {
    return {};  // a public page (/startups/…): a spelling of it is a console path, not a route
  }
  if (!absl::StartsWith(bare, "/v1/")) {  // /ledger/…, /api/…: outside them is the console, not a route
    return {bare + "/", absl::StrReplaceAll(bare, {{"/ledger/", "/ledger//"}, {"/api/", "/api//"}}),
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
