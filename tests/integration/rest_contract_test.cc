// Issue 33: the REST contract as an outside tester's fuzzer found it, each finding against the
// real gateway and services. A rehearsal (?dry_run=…) that imported for real, a documented
// filter always refused, a 400 that echoed bytes that are not UTF-8 (and logged a protobuf line
// per request, through the public form), a 401 without its challenge.
#include "absl/strings/match.h"
#include "common/text.h"
#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

namespace iv1 = ::pepiniere::ideas::v1;
namespace nv1 = ::pepiniere::incubation::v1;

std::string Line(const std::string& slug) {
  return absl::StrCat(R"({"slug":")", slug, R"(","title":"Répétition d'import","mission":"Préparer l'équipe",)",
                      R"("incubator":"lab06","phases":[{"name":"investigation","start":"2024-09-02"}]})", "\n");
}

TEST(RestContract, ARehearsalNeverImportsAndAWordThatIsNotABooleanIsRefused) {
  Platform p;
  // Each usual spelling of "yes" rehearses: the report comes back, the start-up does not exist.
  int n = 0;
  for (const char* yes : {"1", "yes", "True", "on"}) {
    const std::string slug = absl::StrCat("repetition-", ++n);
    gateway::HttpResult r = p.Call("POST", absl::StrCat("/v1/imports/portfolio?dry_run=", yes), p.coordinator(),
                                   Line(slug), "application/x-ndjson");
    EXPECT_EQ(r.status, 200) << yes << ": " << r.body;
    EXPECT_NE(r.body.find("\"read\":1"), std::string::npos) << yes << ": " << r.body;
    EXPECT_EQ(p.Get(absl::StrCat("/v1/startups/", slug), p.coordinator()).status, 404) << yes << " imported for real";
  }
  // Anything else is a 400 naming the parameter; nothing imported either.
  for (const char* neither : {"", "peut-être", "ture", "2"}) {
    const std::string slug = absl::StrCat("repetition-", ++n);
    gateway::HttpResult r = p.Call("POST", absl::StrCat("/v1/imports/portfolio?dry_run=", neither), p.coordinator(),
                                   Line(slug), "application/x-ndjson");
    EXPECT_EQ(r.status, 400) << neither << ": " << r.body;
    EXPECT_NE(r.body.find("dry_run: '"), std::string::npos) << r.body;
    EXPECT_EQ(p.Get(absl::StrCat("/v1/startups/", slug), p.coordinator()).status, 404) << neither;
  }
  gateway::HttpResult typo = p.Call("POST", "/v1/imports/portfolio?dryrun=1", p.coordinator(), Line("typo"),
                                    "application/x-ndjson");
  EXPECT_EQ(typo.status, 400) << typo.body;
  EXPECT_EQ(p.Get("/v1/startups/typo", p.coordinator()).status, 404);
  // The control: "no" imports, and the start-up is there.
  gateway::HttpResult real = p.Call("POST", "/v1/imports/portfolio?dry_run=no", p.coordinator(),
                                    Line("pour-de-vrai"), "application/x-ndjson");
  EXPECT_EQ(real.status, 200) << real.body;
  EXPECT_EQ(p.Get("/v1/startups/pour-de-vrai", p.coordinator()).status, 200);
  // Issue 30: beta.gouv.fr's `auxAJ` imports under its own id; published, it is in the open data
  // by that id, the unpublished one is not; a revalidation with the ETag is a bodiless 304.
  ASSERT_EQ(p.Call("POST", "/v1/imports/portfolio", p.coordinator(), Line("auxAJ"), "application/x-ndjson").status, 200);
  EXPECT_EQ(p.Get("/v1/startups/auxAJ", p.coordinator()).status, 200);
  gateway::HttpResult none = p.Get("/api/v2.7/startups.json", "");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_FALSE(absl::StrContains(none.body, "auxAJ")) << "nothing public before it is published";
  gateway::HttpResult pub = p.Call("PUT", "/v1/startups/auxAJ/publication", p.coordinator(),
                                   R"({"policy":{"published":true,"phases":true}})");
  ASSERT_EQ(pub.status, 200) << pub.body;
  gateway::HttpResult data = p.Get("/api/v2.7/startups.json", "");
  ASSERT_EQ(data.status, 200) << data.body;
  EXPECT_TRUE(absl::StrContains(data.body, R"("id":"auxAJ")")) << data.body;
  EXPECT_FALSE(absl::StrContains(data.body, "pour-de-vrai")) << data.body;
  EXPECT_FALSE(absl::StrContains(data.body, "Préparer l'équipe")) << "its mission is not public";
  const std::string etag = data.headers["etag"];
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(data.headers["cache-control"], "public, max-age=60");
  auto again = gateway::HttpCall(p.url(), "GET", "/api/v2.7/startups.json", {{"If-None-Match", etag}}, "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 304);
  EXPECT_EQ(again->body, "");
  EXPECT_EQ(p.Get("/api/v2.7/startups.csv", "").headers["content-type"], "text/csv; charset=utf-8");
}

TEST(RestContract, FiltersTheDocumentOffersAreHonouredAndBadBytesNamedNotEchoed) {
  Platform p;
  const std::string challenge = p.Post<iv1::Challenge>("/v1/challenges", p.coordinator(),
      R"({"title":"Simplifier","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})").id();
  p.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", challenge, ":open"), p.coordinator(), "");
  const std::string idea = p.Post<iv1::SubmitIdeaResponse>(absl::StrCat("/v1/challenges/", challenge, "/ideas"),
      p.coordinator(), R"({"title":"Nids de poule","problem":"p","proposal":"q","author_name":"Agnès",)"
                       R"("department":"Voirie","contact_email":"agnes@example.fr"})").idea().id();
  // The challenge's scorecards narrowed to one idea, and one idea's checked against a challenge.
  gateway::HttpResult one = p.Get(absl::StrCat("/v1/challenges/", challenge, "/scores?idea_id=", idea), p.coordinator());
  EXPECT_EQ(one.status, 200) << one.body;
  gateway::HttpResult both = p.Get(absl::StrCat("/v1/ideas/", idea, "/scores?challenge_id=", challenge), p.coordinator());
  EXPECT_EQ(both.status, 200) << both.body;
  gateway::HttpResult elsewhere = p.Get(absl::StrCat("/v1/ideas/", idea, "/scores?challenge_id=", idea), p.coordinator());
  EXPECT_EQ(elsewhere.status, 404) << elsewhere.body;

  // Bytes that are not UTF-8 through the public form: a 400 naming the field and the offset, an
  // answer that is UTF-8 itself, no line in the gateway's log.
  const std::string startup = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
      R"({"name":"Signalement voirie","mission":"Signaler un danger","incubator":"lab06"})").id();
  const std::string body = "{\"satisfaction\":\"SATISFACTION_GOOD\",\"verbatim\":\"tr\xE8s bien\"}";
  const std::string before = p.GatewayLog();
  for (int i = 0; i < 20; ++i) {
    gateway::HttpResult bad = p.Call("POST", absl::StrCat("/v1/startups/", startup, "/feedback"), "", body);
    ASSERT_EQ(bad.status, 400) << bad.body;
    EXPECT_GE(Utf8Length(bad.body), 0) << "the answer is not UTF-8";
    EXPECT_NE(bad.body.find(absl::StrCat("verbatim: not valid UTF-8 (byte ", body.find('\xE8'), " of the body)")),
              std::string::npos) << bad.body;
  }
  EXPECT_EQ(p.GatewayLog().size(), before.size()) << p.GatewayLog().substr(before.size());

  // A 401 says how to authenticate (RFC 6750).
  gateway::HttpResult anonymous = p.Get("/v1/startups", "");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(absl::StartsWith(anonymous.headers["www-authenticate"], "Bearer")) << anonymous.headers["www-authenticate"];
}

}  // namespace
}  // namespace pep::testing
