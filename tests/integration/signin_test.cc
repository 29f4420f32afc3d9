// People signing in through the gateway against the real OpenID provider (deploy/local/oidc),
// nothing mocked: the code flow over HTTP with its redirects and the provider's login form; a
// replayed state, a code without its PKCE verifier and a reused code refused; logout ending the
// session here and at the provider; a cross-site form POST with a valid session cookie refused;
// the first sign-in creating an agent account (and team access for an e-mail listed in
// pep-incubation); a team member's token never outliving their access; each grant on the
// start-up's timeline and on pepiniere.access.events, never with a secret.
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "events/envelope.h"
#include "harness/kafka_testing.h"
#include "integration/gateway_fixture.h"
#include "pepiniere/gateway/v1/events.pb.h"
#include "pepiniere/ideas/v1/ideas.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::testing {
namespace {

namespace nv1 = ::pepiniere::incubation::v1;
namespace iv1 = ::pepiniere::ideas::v1;

std::string Field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const size_t at = json.find(key);
  return at == std::string::npos ? "" : json.substr(at + key.size(), json.find('"', at + key.size()) - at - key.size());
}

class SignInTest : public ::testing::Test {
 protected:
  SignInTest() : p_({}, {"--signin_per_minute", "40"}, /*sign_in=*/true) {}
  // Up to the provider's redirect back to the gateway (not followed).
  std::string CallbackFor(Browser& b, const std::string& email, const std::string& password) {
    std::string to_provider;
    b.Follow(p_.url() + "/auth/login?return_to=/idees", p_.url(), &to_provider);
    return b.LogInAtProvider(to_provider, email, password);
  }
  gateway::HttpResult Get(Browser& b, const std::string& url) {
    auto r = b.http().Call(url, "GET", "");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : gateway::HttpResult{};
  }
  Platform p_;
};

TEST_F(SignInTest, CodeFlowMakesAnAgentAccountAndASessionCookie) {
  Browser b(p_.provider().issuer());
  const std::string callback = CallbackFor(b, "camille.roux@departement06.fr", "agent-06");
  ASSERT_TRUE(absl::StartsWith(callback, p_.url() + "/auth/callback?")) << callback;
  EXPECT_GE(QueryParam(callback, "state").size(), 32u);
  gateway::HttpResult landed = Get(b, callback);
  ASSERT_EQ(landed.status, 302) << landed.body;
  EXPECT_EQ(landed.headers["location"], "/idees") << "back where the sign-in began";
  const std::string cookie = landed.headers["set-cookie"];
  EXPECT_TRUE(absl::StartsWith(cookie, "pep_session=")) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain http on 127.0.0.1 only";

  gateway::HttpResult me = p_.As(b, "GET", "/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Field(me.body, "role"), "agent") << me.body;
  EXPECT_EQ(Field(me.body, "via"), "session");
  EXPECT_EQ(Field(me.body, "display_name"), "Camille Roux");
  // organizational_unit is not among the scopes asked by default: the SIRET stands for it.
  EXPECT_EQ(Field(me.body, "organisation"), "22060001900016");
  const std::string account = Field(me.body, "actor");

  // Signed in again later: the same account (iss, sub), not a new one.
  Browser again(p_.provider().issuer());
  ASSERT_EQ(Get(again, CallbackFor(again, "camille.roux@departement06.fr", "agent-06")).status, 302);
  EXPECT_EQ(Field(p_.As(again, "GET", "/v1/me").body, "actor"), account);

  // The agent submits to an open challenge and reads their idea; another's is not theirs.
  const std::string coord = p_.coordinator();
  const std::string ch = p_.Post<iv1::Challenge>("/v1/challenges", coord,
      R"({"title":"Simplifier","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})").id();
  p_.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", ch, ":open"), coord, "");
  gateway::HttpResult idea = p_.As(b, "POST", absl::StrCat("/v1/challenges/", ch, "/ideas"),
      R"({"title":"Formulaire unique","problem":"Trois formulaires.","proposal":"Un seul.",)"
      R"("author_name":"Camille Roux","department":"DAS","contact_email":"camille.roux@departement06.fr"})");
  ASSERT_EQ(idea.status, 201) << idea.body;
  EXPECT_EQ(Field(idea.body, "author_id"), account);

  // Issue 26: an identity provider that does not verify addresses asserts the bootstrap
  // coordinator's e-mail (email_verified: false). A first sign-in grants by e-mail only what the
  // provider vouches for: this one is an agent, not a coordinator (it used to be one).
  auto impostor = p_.SignIn(Platform::kCoordinatorEmail, "pas-claire");
  ASSERT_NE(impostor, nullptr);
  gateway::HttpResult fake = p_.As(*impostor, "GET", "/v1/me");
  EXPECT_EQ(Field(fake.body, "role"), "agent") << fake.body;
  EXPECT_EQ(Field(fake.body, "display_name"), "Fausse Claire");
}

// Issue 26: each /auth/login is a row in the pending sign-ins; an anonymous client may begin
// only so many a minute (--signin_per_minute, 40 here), then waits (429, Retry-After).
TEST_F(SignInTest, AClientBeginsOnlySoManySignInsAMinute) {
  int begun = 0;
  gateway::HttpResult r;
  for (int i = 0; i < 60; ++i) {
    auto got = gateway::HttpCall(p_.url(), "GET", "/auth/login", {});
    ASSERT_TRUE(got.ok());
    r = *got;
    if (r.status != 302) break;
    ++begun;
  }
  EXPECT_EQ(begun, 40);
  EXPECT_EQ(r.status, 429) << r.body.substr(0, 300);
  EXPECT_FALSE(r.headers["retry-after"].empty());
}

TEST_F(SignInTest, ReplayedStateMissingVerifierAndReusedCodeAreRefused) {
  Browser b(p_.provider().issuer());
  const std::string callback = CallbackFor(b, "karim.benali@departement06.fr", "jury-06-a");
  ASSERT_EQ(Get(b, callback).status, 302);
  // The same callback again (a replayed state), even from the browser that began it: refused.
  gateway::HttpResult replay = Get(b, callback);
  EXPECT_EQ(replay.status, 400) << replay.body;
  EXPECT_NE(replay.body.find("already used"), std::string::npos) << replay.body;
  // From another browser: refused too, and no session comes of it.
  Browser thief(p_.provider().issuer());
  EXPECT_EQ(Get(thief, callback).status, 400);
  EXPECT_EQ(p_.As(thief, "GET", "/v1/me").body.find("\"via\":\"session\""), std::string::npos);

  // The code, already used, with a fresh sign-in's state: the provider refuses it.
  std::string to_provider;
  thief.Follow(p_.url() + "/auth/login", p_.url(), &to_provider);
  const std::string reused = absl::StrCat(p_.url(), "/auth/callback?code=",
                                          gateway::UrlEncode(QueryParam(callback, "code")),
                                          "&state=", gateway::UrlEncode(QueryParam(to_provider, "state")));
  gateway::HttpResult refused = Get(thief, reused);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_NE(refused.body.find("invalid_grant"), std::string::npos) << refused.body;

  // A fresh code presented without the PKCE verifier (as an interceptor would): refused by the
  // provider, which requires PKCE of this client.
  Browser c(p_.provider().issuer());
  const std::string cb = CallbackFor(c, "sophie.durand@departement06.fr", "jury-06-b");
  gateway::HttpClient rp({.timeout = absl::Seconds(10)});
  auto meta = rp.Call(p_.provider().issuer(), "GET", "/.well-known/openid-configuration");
  ASSERT_TRUE(meta.ok());
  auto token = rp.Call(Field(meta->body, "token_endpoint"), "POST", "",
                       {{"Content-Type", "application/x-www-form-urlencoded"}},
                       absl::StrCat("grant_type=authorization_code&code=", gateway::UrlEncode(QueryParam(cb, "code")),
                                    "&redirect_uri=", gateway::UrlEncode(p_.url() + "/auth/callback"),
                                    "&client_id=pepiniere&client_secret=", kOidcClientSecret));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->status, 400) << token->body;
  EXPECT_NE(token->body.find("invalid_grant"), std::string::npos) << token->body;
}

// Login CSRF: an attacker begins a sign-in, signs in as themselves and sends the victim the
// callback link; the victim's browser did not begin that sign-in, so nobody is signed in.
TEST_F(SignInTest, ASignInBegunInAnotherBrowserIsRefused) {
  Browser attacker(p_.provider().issuer());
  const std::string link = CallbackFor(attacker, "karim.benali@departement06.fr", "jury-06-a");
  ASSERT_TRUE(absl::StartsWith(link, p_.url() + "/auth/callback?")) << link;
  Browser victim(p_.provider().issuer());
  gateway::HttpResult pushed = Get(victim, link);
  EXPECT_EQ(pushed.status, 400) << pushed.body;
  EXPECT_NE(pushed.body.find("not begun in this browser"), std::string::npos) << pushed.body;
  EXPECT_EQ(Field(p_.As(victim, "GET", "/v1/me").body, "role"), "public");
  // The attacker's own browser still finishes it: the refusal consumed nothing.
  EXPECT_EQ(Get(attacker, link).status, 302);
}

TEST_F(SignInTest, AfterSignInOnlyAPathOfThisSiteIsAPlaceToReturnTo) {
  Browser b(p_.provider().issuer());
  for (const std::string& hostile : {std::string("//evil.example/"), std::string("/%09/evil.example"),
                                     std::string("/%5Cevil.example"), std::string("https://evil.example/"),
                                     std::string("/%0d%0aSet-Cookie:x=y")}) {
    std::string to_provider;
    b.Follow(p_.url() + "/auth/login?return_to=" + hostile, p_.url(), &to_provider);
    const std::string callback = b.LogInAtProvider(to_provider, "camille.roux@departement06.fr", "agent-06");
    gateway::HttpResult landed = Get(b, callback);
    ASSERT_EQ(landed.status, 302) << hostile << ": " << landed.body;
    EXPECT_EQ(landed.headers["location"], "/") << hostile;
  }
}

TEST_F(SignInTest, LogoutEndsTheSessionHereAndAtTheProvider) {
  auto b = p_.SignIn("claire.martin@departement06.fr", "coordination-06");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Field(p_.As(*b, "GET", "/v1/me").body, "role"), "coordinator") << "--oidc_coordinator_emails";
  // A cross-site page cannot log the person out either.
  auto cross = b->http().Call(p_.url(), "POST", "/auth/logout", {{"Origin", "https://evil.example"}}, "");
  ASSERT_TRUE(cross.ok());
  EXPECT_EQ(cross->status, 403);
  gateway::HttpResult out = p_.As(*b, "POST", "/auth/logout", "", "application/x-www-form-urlencoded");
  ASSERT_EQ(out.status, 303) << out.body;
  const std::string end_session = out.headers["location"];
  ASSERT_TRUE(absl::StartsWith(end_session, p_.provider().issuer())) << end_session;
  EXPECT_FALSE(QueryParam(end_session, "id_token_hint").empty());
  EXPECT_FALSE(QueryParam(end_session, "state").empty());
  EXPECT_NE(out.headers["set-cookie"].find("Max-Age=0"), std::string::npos);
  // Ended here: the cookie no longer signs anyone in, even if a copy was kept.
  EXPECT_EQ(Field(p_.As(*b, "GET", "/v1/me").body, "role"), "public");
  EXPECT_EQ(p_.As(*b, "GET", "/v1/challenges").status, 401) << "a stale cookie is nobody";
  // Ended at the provider: after confirming, signing in asks for the password again.
  const std::string back = b->ConfirmLogoutAtProvider(end_session);
  EXPECT_TRUE(absl::StartsWith(back, p_.url() + "/")) << back;
  std::string to_provider, leaked;
  b->Follow(p_.url() + "/auth/login", p_.url(), &to_provider);
  gateway::HttpResult form = b->Follow(to_provider, p_.provider().issuer(), &leaked);
  EXPECT_TRUE(leaked.empty()) << "signed in without a password after logout: " << leaked;
  EXPECT_NE(form.body.find("Mot de passe"), std::string::npos);
}

TEST_F(SignInTest, ACrossSiteFormPostWithAValidSessionCookieIsRefused) {
  auto claire = p_.SignIn("claire.martin@departement06.fr", "coordination-06");
  ASSERT_NE(claire, nullptr);
  const std::string body = R"({"title":"Défi","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})";
  // What a form on another site sends: the cookie rides along (SameSite=Lax aside, e.g. a
  // sibling subdomain), the Origin is the other site's.
  for (const auto& headers : std::vector<std::map<std::string, std::string>>{
           {{"Origin", "https://evil.example"}, {"Content-Type", "application/json"}},
           {{"Origin", "null"}, {"Content-Type", "application/json"}},
           {{"Content-Type", "application/json"}},  // no Origin, no Referer
           {{"Referer", "https://evil.example/form"}, {"Content-Type", "application/json"}}}) {
    auto r = claire->http().Call(p_.url(), "POST", "/v1/challenges", headers, body);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 403) << r->body;
    EXPECT_NE(r->body.find("csrf"), std::string::npos) << r->body;
  }
  EXPECT_EQ(p_.As(*claire, "POST", "/v1/challenges", body).status, 201) << "the console's own page";
  // A bearer token needs no Origin: CI stays CSRF-free.
  EXPECT_EQ(p_.Call("POST", "/v1/challenges", p_.coordinator(), body).status, 201);
}

TEST_F(SignInTest, TeamAccessFromIncubationTokensBoundedByTheirCreatorGrantsOnTheTimeline) {
  const std::string coord = p_.coordinator();
  const std::string s1 = p_.Post<nv1::Startup>("/v1/startups", coord,
      R"({"name":"Signalement voirie","mission":"Signaler un nid-de-poule","incubator":"lab06"})").id();
  const std::string s2 = p_.Post<nv1::Startup>("/v1/startups", coord,
      R"({"name":"Cantine","mission":"Inscrire sans papier","incubator":"lab06"})").id();
  // Léa is on s1's team in pep-incubation with her e-mail: her first sign-in gives her access.
  p_.Post<nv1::Startup>(absl::StrCat("/v1/startups/", s1, "/team"), coord,
                        R"({"name":"Léa Moreau","role":"développeuse","email":"Lea.Moreau@beta.gouv.fr"})");
  auto lea = p_.SignIn("lea.moreau@beta.gouv.fr", "equipe-06");
  ASSERT_NE(lea, nullptr);
  gateway::HttpResult me = p_.As(*lea, "GET", "/v1/me");
  EXPECT_NE(me.body.find("startup:" + s1), std::string::npos) << me.body;
  const std::string lea_id = Field(me.body, "actor");
  EXPECT_EQ(p_.As(*lea, "GET", "/v1/startups/" + s1).status, 200);
  EXPECT_EQ(p_.As(*lea, "GET", "/v1/startups/" + s2).status, 403);

  // She makes a CI token for her start-up: never more than she has.
  gateway::HttpResult wider = p_.As(*lea, "POST", "/v1/tokens",
      absl::StrCat(R"({"role":"product_team","scope":"startup:)", s2, R"(","name":"CI"})"));
  EXPECT_EQ(wider.status, 403) << wider.body;
  EXPECT_EQ(p_.As(*lea, "POST", "/v1/tokens", R"({"role":"coordinator","name":"CI"})").status, 403);
  gateway::HttpResult made = p_.As(*lea, "POST", "/v1/tokens",
      absl::StrCat(R"({"role":"product_team","scope":"startup:)", s1, R"(","name":"CI voirie"})"));
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string ci = Field(made.body, "secret");
  const std::string ci_id = Field(made.body, "id");
  gateway::HttpResult pushed = p_.Call("POST", absl::StrCat("/v1/startups/", s1, "/milestones"), ci,
      absl::StrCat(R"({"title":"Mise en production","kind":"MILESTONE_KIND_TEAM","idempotency_key":"mep-1","date":")",
                   FormatRfc3339(absl::Now()), R"("})"));
  EXPECT_EQ(pushed.status, 201) << pushed.body;
  EXPECT_EQ(Field(pushed.body, "pushed_by"), lea_id) << "the token acts as the member who made it";
  gateway::HttpResult listed = p_.As(*lea, "GET", "/v1/tokens");
  EXPECT_NE(listed.body.find(ci_id), std::string::npos);
  EXPECT_NE(listed.body.find("last_used_at"), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find("pep_"), std::string::npos) << "never a secret in a list";

  // The coordinator withdraws her team access: her token stops with it.
  gateway::HttpResult withdrawn = p_.Call("DELETE",
      absl::StrCat("/v1/accounts/", lea_id, "/grants?role=product_team&scope=startup:", s1), coord);
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_EQ(p_.Call("GET", absl::StrCat("/v1/startups/", s1, "/milestones"), ci).status, 401);
  EXPECT_EQ(p_.As(*lea, "GET", "/v1/startups/" + s1).status, 403);

  // Both the grant and its withdrawal are on s1's timeline, with who did it; people by name.
  EXPECT_TRUE(WaitFor([&] {
    gateway::HttpResult t = p_.Get(absl::StrCat("/v1/startups/", s1, "/timeline"), coord);
    return t.body.find("Accès accordé à Léa Moreau") != std::string::npos &&
           t.body.find("Accès retiré à Léa Moreau") != std::string::npos &&
           t.body.find("Jeton d'accès créé") != std::string::npos &&
           // Her milestone names her, not her account id.
           t.body.find("\"actor_name\":\"Léa Moreau\"") != std::string::npos;
  }, absl::Seconds(30))) << p_.Get(absl::StrCat("/v1/startups/", s1, "/timeline"), coord).body;

  // And on the topic, as protobuf events with their envelope, never with a secret.
  std::vector<std::string> types;
  bool secret_seen = false;
  const std::vector<std::string> wanted = {
      "pepiniere.gateway.v1.AccountCreated", "pepiniere.gateway.v1.RoleGranted",
      "pepiniere.gateway.v1.TokenCreated", "pepiniere.gateway.v1.RoleRevoked"};
  ReadTopicUntil(KafkaBroker::Shared().bootstrap(), "pepiniere.access.events", [&](const auto& records) {
    types.clear();
    for (const auto& r : records) {
      auto env = events::FromHeaders(r.headers);
      EXPECT_TRUE(env.ok()) << env.status();  // pep-audit must be able to read every one
      if (!env.ok()) continue;
      if (r.value.find(ci) != std::string::npos) secret_seen = true;
      if (env->subject == lea_id || env->correlation_id == s1) types.push_back(env->type);
    }
    return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& t) {
      return std::find(types.begin(), types.end(), t) != types.end();
    });
  });
  EXPECT_FALSE(secret_seen);
  for (const std::string& t : wanted) {
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t << " among " << absl::StrJoin(types, " ");
  }
}

// Issue 26: what a caller types reaches the gateway in a token's actor, name and scope, JSON
// bodies, query strings, paths, headers and the OpenID provider's claims. Random text of every
// kind — accents, emoji, « guillemets », control characters, RTL overrides, bytes that are not
// UTF-8, 100,000-character strings — in each of them never brings a process down: every answer
// is a reply below 500 (a 4xx names what it refused), and the gateway and the services answer
// after it. The seed is printed: a failure replays.
TEST_F(SignInTest, RandomTextInEveryFieldACallerControlsCrashesNothing) {
  const unsigned seed = static_cast<unsigned>(absl::ToUnixMicros(absl::Now()));
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937 rng(seed);
  const std::vector<std::string> pieces = {
      "équipe-voirie", "« Signalement »", "l’idée d'Antibes", "🌱", "👩🏽‍💻", "ZoË", "\u202e", "\u2028",
      "\x01", "\x07", "\x1b[31m", "\x7f", "\t", "%", "%zz", "%00", "\\", "\"", "'", "<script>", "${x}",
      std::string("\xff\xfe", 2), std::string("\xc0\xaf", 2), std::string("\xed\xa0\x80", 3), ",", ";", "=",
      "startup:", "coordinator", " ", "😀😀😀"};
  auto text = [&](bool allow_newlines = true) {
    std::string out;
    const int n = static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) absl::StrAppend(&out, pieces[rng() % pieces.size()]);
    if (rng() % 25 == 0) out += std::string(100000, "aé"[rng() % 2]);
    if (allow_newlines && rng() % 10 == 0) out += "\r\n";
    return out;
  };
  auto header_text = [&] {  // HTTP framing: no NUL, CR or LF in a header value
    std::string t = text(false);
    t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '\0' || c == '\r' || c == '\n'; }), t.end());
    return t.substr(0, 4000);
  };
  auto pct = [](const std::string& raw) {
    std::string out;
    for (unsigned char c : raw) absl::StrAppend(&out, "%", absl::StrFormat("%02X", c));
    return out;
  };
  auto json = [&](std::initializer_list<const char*> fields) {
    std::string body = "{";
    for (const char* f : fields) {
      // Mostly well-formed JSON around random text; sometimes the raw bytes, unescaped.
      const std::string v = text();
      absl::StrAppend(&body, body.size() > 1 ? "," : "", "\"", f, "\":\"",
                      rng() % 6 == 0 ? v : JsonEscape(v), "\"");
    }
    return body + "}";
  };
  const std::string coord = p_.coordinator();
  const std::string startup = p_.Post<nv1::Startup>("/v1/startups", coord,
      R"({"name":"Signalement voirie","mission":"Signaler un nid-de-poule","incubator":"lab06"})").id();
  const std::string challenge = p_.Post<iv1::Challenge>("/v1/challenges", coord,
      R"({"title":"Simplifier","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})").id();
  p_.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", challenge, ":open"), coord, "");

  int calls = 0, refused = 0;
  auto check = [&](const std::string& what, const gateway::HttpResult& r) {
    ++calls;
    refused += r.status >= 400;
    EXPECT_TRUE(r.status >= 200 && r.status < 500) << what << " answered " << r.status << ": " << r.body.substr(0, 300);
    if (r.status == 400) EXPECT_NE(r.body.find("\"message\":\""), std::string::npos) << what << ": " << r.body.substr(0, 300);
  };
  auto call = [&](const std::string& method, const std::string& target, const std::string& body,
                  std::map<std::string, std::string> headers) {
    if (!body.empty()) headers.emplace("Content-Type", "application/json");
    auto r = gateway::HttpCall(p_.url(), method, target, headers, body);
    EXPECT_TRUE(r.ok()) << method << " " << target.substr(0, 200) << ": " << r.status();
    return r.ok() ? *r : gateway::HttpResult{};
  };
  const std::map<std::string, std::string> as_coord = {{"Authorization", "Bearer " + coord}};
  for (int i = 0; i < 60; ++i) {
    // A token's actor, name and scope; then a call made with it.
    gateway::HttpResult t = call("POST", "/v1/tokens",
                                 json({"actor", "name", "scope"}).insert(1, R"("role":"product_team",)"), as_coord);
    check("token", t);
    gateway::HttpResult t2 = call("POST", "/v1/tokens",
        absl::StrCat(R"({"role":"agent","actor":")", JsonEscape(text()), R"(","name":")", JsonEscape(text()), R"("})"), as_coord);
    check("agent token", t2);
    if (t2.status == 201) {
      const size_t at = t2.body.find("\"secret\":\"");
      const std::string secret = t2.body.substr(at + 10, t2.body.find('"', at + 10) - at - 10);
      check("call as a random actor", call("GET", "/v1/challenges", "", {{"Authorization", "Bearer " + secret}}));
      check("submit as a random actor",
            call("POST", absl::StrCat("/v1/challenges/", challenge, "/ideas"),
                 json({"title", "problem", "proposal", "author_name", "department", "contact_email"}),
                 {{"Authorization", "Bearer " + secret}}));
    }
    // JSON bodies of the coordinator's and the team's forms.
    check("challenge", call("POST", "/v1/challenges", json({"title", "theme", "description"}), as_coord));
    check("startup", call("POST", "/v1/startups", json({"name", "mission", "incubator"}), as_coord));
    check("milestone", call("POST", absl::StrCat("/v1/startups/", startup, "/milestones"),
                            json({"title", "idempotency_key", "description"}), as_coord));
    check("team", call("POST", absl::StrCat("/v1/startups/", startup, "/team"), json({"name", "role", "email"}), as_coord));
    // The public form: anyone's text.
    check("feedback", call("POST", absl::StrCat("/v1/startups/", startup, "/feedback"),
                           json({"verbatim", "idempotency_key"}).insert(1, R"("satisfaction":"SATISFACTION_GOOD",)"),
                           {{"X-Forwarded-For", header_text()}}));
    // Query strings and paths, every byte percent-encoded.
    check("accounts?q", call("GET", "/v1/accounts?q=" + pct(text()), "", as_coord));
    check("startups?page", call("GET", absl::StrCat("/v1/startups?page_token=", pct(text()), "&page_size=", pct(text())), "", as_coord));
    check("path", call("GET", absl::StrCat("/v1/startups/", pct(text()), "/timeline"), "", as_coord));
    // Headers: a token, a cookie, an Origin, anything.
    check("bearer", call("GET", "/v1/startups", "", {{"Authorization", "Bearer " + header_text()}}));
    check("cookie", call("POST", "/v1/challenges", json({"title"}),
                         {{"Cookie", "pep_session=" + header_text()}, {"Origin", header_text()}}));
    check("header", call("GET", "/v1/challenges", "", {{"X-" + std::to_string(i), header_text()}, {"Accept-Language", header_text()}}));
  }
  EXPECT_GT(refused, 0);
  // Claims from the provider: « Zoé 🌱 » with a bell and an RTL override, 3,000 « é », a CR LF in
  // the organisation, a NUL in the uid. Signed in: an account, a session, a page.
  auto odd = p_.SignIn("etrange@departement06.fr", "etrange-06");
  ASSERT_NE(odd, nullptr);
  gateway::HttpResult me = p_.As(*odd, "GET", "/v1/me");
  EXPECT_EQ(me.status, 200) << me.body.substr(0, 300);
  EXPECT_NE(me.body.find("Zo"), std::string::npos);
  // Every process still answers.
  EXPECT_EQ(p_.Get("/healthz", "").status, 200);
  EXPECT_EQ(p_.Get("/readyz?verbose", "").body.find("DOWN"), std::string::npos) << p_.Get("/readyz?verbose", "").body;
  for (ServiceProcess* s : p_.ServiceReplicas()) EXPECT_TRUE(s->Running());
  EXPECT_TRUE(p_.audit().Running());
  std::printf("%d calls, %d refused, seed %u\n", calls, refused, seed);
}

}  // namespace
}  // namespace pep::testing
