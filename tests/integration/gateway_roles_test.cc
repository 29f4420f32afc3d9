// Every route × every role through the real gateway and the real services (which require the
// gateway key): allowed exactly as specified, and a product-team token never reaches another
// start-up. The table below is the specification, written independently of the gateway's own
// route table; the test also fails when a route exists that the table does not cover.
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

struct Row {
  std::string method, path;
  std::string allowed;  // letters: C coordinator, J juror, T product_team, A agent, P public
  std::string body = "{}";
};

// The specification of issue 6 (roles and what each may do).
const std::vector<Row>& Table() {
  static const auto* rows = new std::vector<Row>{
      {"GET", "/v1/challenges", "CJA"},
      {"POST", "/v1/challenges", "C"},
      {"GET", "/v1/challenges/{challenge}", "CJA"},
      {"POST", "/v1/challenges/{challenge}:open", "C"},
      {"POST", "/v1/challenges/{challenge}:close", "C"},
      {"POST", "/v1/challenges/{challenge}/jurors", "C"},
      {"GET", "/v1/challenges/{challenge}/ideas", "CJA"},
      {"POST", "/v1/challenges/{challenge}/ideas", "CA"},
      {"GET", "/v1/challenges/{challenge}/ranking", "CJ"},
      {"GET", "/v1/ideas/{idea}", "CJA"},
      {"PATCH", "/v1/ideas/{idea}", "CA"},
      {"POST", "/v1/ideas/{idea}:withdraw", "CA", R"({"reason":""})"},
      {"GET", "/v1/ideas/{idea}/scores", "CJ"},
      {"POST", "/v1/ideas/{idea}/scores", "J"},
      {"POST", "/v1/ideas/{idea}:decide", "C"},
      {"GET", "/v1/startups", "C"},
      {"POST", "/v1/startups", "C"},
      {"GET", "/v1/startups/{startup}", "CT"},
      {"PATCH", "/v1/startups/{startup}", "C"},
      {"POST", "/v1/startups/{startup}/committee-decisions", "C"},
      {"POST", "/v1/startups/{startup}:change-phase", "C"},
      {"GET", "/v1/startups/{startup}/milestones", "CT"},
      {"POST", "/v1/startups/{startup}/milestones", "CT"},
      {"POST", "/v1/startups/{startup}/team", "C"},
      {"DELETE", "/v1/startups/{startup}/team/nobody", "C"},
      {"POST", "/v1/imports/portfolio", "C", ""},
      {"GET", "/v1/portfolio/stats", "C"},
      {"POST", "/v1/startups/{startup}/feedback", "CJTAP"},
      {"GET", "/v1/startups/{startup}/feedback", "CT"},
      {"GET", "/v1/startups/{startup}/feedback/summary", "CT"},
      {"GET", "/v1/startups/{startup}/feedback:export", "CT"},
      {"POST", "/v1/feedback/nothing:moderate", "C"},
      {"GET", "/v1/startups/{startup}/timeline", "CT"},
      {"GET", "/v1/startups/{startup}/state", "CT"},
      {"GET", "/v1/lineage/{startup}", "C"},
      {"POST", "/v1/audit:verify", "C"},
      {"GET", "/v1/startups/{startup}/ledger:export", "CT"},
      {"GET", "/v1/me", "CJTAP"},
      {"GET", "/v1/tokens", "C"},
      {"POST", "/v1/tokens", "C"},
      {"DELETE", "/v1/tokens/not-a-token", "C"},
  };
  return *rows;
}

// "/v1/startups/{startup}/team/nobody" -> the gateway's pattern, to compare with OpenAPI.
std::string Pattern(std::string path) {
  return absl::StrReplaceAll(path, {{"{challenge}", "{challenge_id}"},
                                    {"{idea}", "{idea_id}"},
                                    {"/v1/lineage/{startup}", "/v1/lineage/{id}"},
                                    {"{startup}", "{startup_id}"},
                                    {"team/nobody", "team/{member_id}"},
                                    {"feedback/nothing:", "feedback/{feedback_id}:"},
                                    {"tokens/not-a-token", "tokens/{token_id}"}});
}

TEST(GatewayRoles, EveryRouteTimesEveryRole) {
  Platform p;
  const std::string& coord = p.coordinator();
  ASSERT_FALSE(coord.empty());
  namespace iv1 = ::pepiniere::ideas::v1;
  namespace nv1 = ::pepiniere::incubation::v1;
  // The world the calls refer to: a challenge with juror-a, agent-1's idea, two start-ups.
  auto ch = p.Post<iv1::Challenge>(
      "/v1/challenges", coord,
      R"({"title":"Simplification administrative","theme":"simplification",)"
      R"("criteria":[{"name":"impact","weight":1}],"jury_quorum":1})");
  p.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", ch.id(), ":open"), coord, "");
  p.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", ch.id(), "/jurors"), coord,
                         R"({"juror_ids":["juror-a"]})");
  const std::string agent = p.Token("agent", "agent-1");
  const std::string juror = p.Token("juror", "juror-a");
  auto idea = p.Post<iv1::SubmitIdeaResponse>(
      absl::StrCat("/v1/challenges/", ch.id(), "/ideas"), agent,
      R"({"title":"Dossier unique","problem":"Les usagers remplissent trois formulaires.",)"
      R"("proposal":"Un formulaire pré-rempli.","author_name":"Camille","department":"DAS",)"
      R"("contact_email":"camille@exemple.fr"})");
  auto s1 = p.Post<nv1::Startup>("/v1/startups", coord,
                                 R"({"name":"Cantine en ligne","mission":"Inscrire sans papier","incubator":"lab06"})");
  auto s2 = p.Post<nv1::Startup>("/v1/startups", coord,
                                 R"({"name":"Autre produit","mission":"Autre chose","incubator":"lab06"})");
  const std::string team = p.Token("product_team", "ci-cantine", "startup:" + s1.id());
  const std::map<char, std::string> tokens = {
      {'C', coord}, {'J', juror}, {'T', team}, {'A', agent}, {'P', ""}};

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
    for (const Row& r : Table()) tested.insert(absl::StrCat(r.method, " ", Pattern(r.path)));
    EXPECT_EQ(documented, tested);
  }

  int checked = 0;
  for (const Row& row : Table()) {
    const std::string path = absl::StrReplaceAll(
        row.path, {{"{challenge}", ch.id()}, {"{idea}", idea.idea().id()}, {"{startup}", s1.id()}});
    for (const auto& [letter, token] : tokens) {
      const bool allowed = row.allowed.find(letter) != std::string::npos;
      const std::string body = row.method == "GET" || row.method == "DELETE" ? "" : row.body;
      gateway::HttpResult r =
          p.Call(row.method, path, token, body,
                 row.path == "/v1/imports/portfolio" ? "application/x-ndjson" : "application/json");
      const std::string what = absl::StrCat(row.method, " ", path, " as ", std::string(1, letter),
                                            ": ", r.status, " ", r.body.substr(0, 200));
      if (allowed) {
        EXPECT_NE(r.status, 401) << what;
        EXPECT_NE(r.status, 403) << what;
        EXPECT_NE(r.status, 0) << what;
      } else if (letter == 'P') {
        EXPECT_EQ(r.status, 401) << what;
      } else {
        EXPECT_EQ(r.status, 403) << what;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(Table().size() * tokens.size()));

  // A product-team token never reaches another start-up, on any route that names one.
  for (const Row& row : Table()) {
    if (row.path.find("{startup}") == std::string::npos || row.allowed.find('T') == std::string::npos) {
      continue;
    }
    const std::string path = absl::StrReplaceAll(row.path, {{"{startup}", s2.id()}});
    gateway::HttpResult r = p.Call(row.method, path, team, row.method == "GET" ? "" : row.body);
    EXPECT_EQ(r.status, 403) << row.method << " " << path << ": " << r.body;
  }

  // An agent sees only their own ideas; a juror not on the jury sees none.
  const std::string other_agent = p.Token("agent", "agent-2");
  EXPECT_EQ(p.Get(absl::StrCat("/v1/ideas/", idea.idea().id()), other_agent).status, 403);
  gateway::HttpResult listed = p.Get(absl::StrCat("/v1/challenges/", ch.id(), "/ideas"), other_agent);
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(idea.idea().id()), std::string::npos) << listed.body;
  EXPECT_NE(p.Get(absl::StrCat("/v1/challenges/", ch.id(), "/ideas"), agent).body.find(idea.idea().id()),
            std::string::npos);
  const std::string outsider = p.Token("juror", "juror-z");
  EXPECT_EQ(p.Get(absl::StrCat("/v1/challenges/", ch.id(), "/ranking"), outsider).status, 403);

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
