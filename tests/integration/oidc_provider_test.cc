// OpenID Connect sign-in against a real provider (deploy/local/oidc: npm oidc-provider, set up
// like ProConnect), with nothing about it mocked: discovery, the authorization code flow over
// HTTP as a browser makes it (redirects followed by hand, the provider's login form submitted,
// its cookies kept), PKCE, the ID token and the signed userinfo JWT checked by our JOSE code; a
// reused code and a wrong PKCE verifier refused by the provider; logout ending the provider's
// session (the next sign-in asks for the password again).
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "services/gateway/http_client.h"
#include "services/gateway/http_server.h"
#include "integration/oidc_fixture.h"
#include "services/gateway/oidc_client.h"
#include "services/gateway/tokens.h"

namespace pep::testing {
namespace {

using gateway::HttpClient;
using gateway::HttpResult;

constexpr char kRedirect[] = "http://127.0.0.1:1/auth/callback";
constexpr char kAfterLogout[] = "http://127.0.0.1:1/";

class OidcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto meta = gateway::oidc::Discover(rp_http_, provider_.issuer());
    ASSERT_TRUE(meta.ok()) << meta.status();
    meta_ = *meta;
    client_ = {.client_id = "pepiniere", .client_secret = kOidcClientSecret,
               .redirect_url = kRedirect,
               .scopes = "openid email given_name usual_name uid siret idp_id organizational_unit",
               .acr_values = "eidas1"};
    jwks_ = std::make_unique<gateway::jose::JwksCache>([this]() -> absl::StatusOr<std::string> {
      auto r = rp_http_.Call(meta_.jwks_uri, "GET", "");
      if (!r.ok()) return r.status();
      return r->body;
    });
  }
  // Signs in as `email` and returns the callback URL the provider sends the browser to.
  std::string SignInAs(const gateway::oidc::AuthorizationRequest& req, const std::string& email,
                       const std::string& password, int* login_status = nullptr) {
    return browser_.LogInAtProvider(req.url, email, password, login_status);
  }

  OidcProvider provider_{kRedirect, kAfterLogout};
  HttpClient rp_http_{{.timeout = absl::Seconds(10)}};
  Browser browser_{provider_.issuer()};
  gateway::oidc::ProviderMetadata meta_;
  gateway::oidc::ClientSettings client_;
  std::unique_ptr<gateway::jose::JwksCache> jwks_;
};

TEST_F(OidcTest, CodeFlowWithPkceIdTokenAndSignedUserinfo) {
  EXPECT_FALSE(meta_.end_session_endpoint.empty());
  const auto req = gateway::oidc::BuildAuthorization(meta_, client_);
  EXPECT_EQ(req.state.size(), 43u);
  EXPECT_EQ(req.nonce.size(), 43u);
  EXPECT_EQ(req.code_verifier.size(), 43u);
  int status = 0;
  EXPECT_EQ(SignInAs(req, "camille.roux@departement06.fr", "pas le bon", &status), "");
  EXPECT_EQ(status, 401) << "a wrong password is refused by the provider";
  const std::string callback = SignInAs(req, "camille.roux@departement06.fr", "agent-06");
  ASSERT_TRUE(absl::StartsWith(callback, kRedirect)) << callback;
  EXPECT_EQ(QueryParam(callback, "state"), req.state);
  EXPECT_EQ(QueryParam(callback, "iss"), provider_.issuer());
  const std::string code = QueryParam(callback, "code");
  ASSERT_FALSE(code.empty()) << callback;

  auto signed_in = gateway::oidc::ExchangeCode(rp_http_, meta_, client_, *jwks_, code, req, absl::Now());
  ASSERT_TRUE(signed_in.ok()) << signed_in.status();
  EXPECT_EQ(signed_in->id_claims.String("sub"), "pc-agent-0004");
  EXPECT_EQ(signed_in->id_claims.String("acr"), "eidas1");
  EXPECT_EQ(signed_in->id_claims.String("nonce"), req.nonce);
  auto info = gateway::oidc::FetchUserinfo(rp_http_, meta_, client_, *jwks_, *signed_in, absl::Now());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->alg, "RS256") << "userinfo came as a signed JWT";
  EXPECT_EQ(info->String("email"), "camille.roux@departement06.fr");
  EXPECT_EQ(info->String("given_name"), "Camille");
  EXPECT_EQ(info->String("usual_name"), "Roux");
  EXPECT_EQ(info->String("siret"), "22060001900016");
  EXPECT_EQ(info->String("organizational_unit"), "Direction de l'action sociale");
  EXPECT_FALSE(info->String("password").has_value());

  // A code is good once.
  auto again = gateway::oidc::ExchangeCode(rp_http_, meta_, client_, *jwks_, code, req, absl::Now());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("invalid_grant"), std::string::npos) << again.status();
  // The ID token is bound to this sign-in's nonce: another request's nonce refuses it.
  auto other = gateway::oidc::BuildAuthorization(meta_, client_);
  EXPECT_NE(other.nonce, req.nonce);
}

TEST_F(OidcTest, AWrongPkceVerifierIsRefused) {
  auto req = gateway::oidc::BuildAuthorization(meta_, client_);
  const std::string callback = SignInAs(req, "karim.benali@departement06.fr", "jury-06-a");
  const std::string code = QueryParam(callback, "code");
  ASSERT_FALSE(code.empty()) << callback;
  auto stolen = req;
  stolen.code_verifier = gateway::RandomToken();  // a code intercepted without its verifier
  auto r = gateway::oidc::ExchangeCode(rp_http_, meta_, client_, *jwks_, code, stolen, absl::Now());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("invalid_grant"), std::string::npos) << r.status();
}

TEST_F(OidcTest, LogoutEndsTheProvidersSession) {
  auto req = gateway::oidc::BuildAuthorization(meta_, client_);
  const std::string code = QueryParam(SignInAs(req, "claire.martin@departement06.fr", "coordination-06"), "code");
  auto signed_in = gateway::oidc::ExchangeCode(rp_http_, meta_, client_, *jwks_, code, req, absl::Now());
  ASSERT_TRUE(signed_in.ok()) << signed_in.status();
  // While the provider's session lives, a new sign-in needs no password.
  auto quiet = gateway::oidc::BuildAuthorization(meta_, client_);
  std::string callback;
  browser_.Follow(quiet.url, provider_.issuer(), &callback);
  EXPECT_TRUE(absl::StartsWith(callback, kRedirect)) << "session kept: " << callback;
  // end_session: the provider asks to confirm (a form with its own xsrf), then redirects back.
  const std::string state = gateway::RandomToken();
  const std::string back = browser_.ConfirmLogoutAtProvider(
      gateway::oidc::EndSessionUrl(meta_, signed_in->id_token, state, kAfterLogout));
  EXPECT_TRUE(absl::StartsWith(back, kAfterLogout)) << back;
  EXPECT_EQ(QueryParam(back, "state"), state);
  // Signed out there too: the next sign-in shows the password form again.
  auto after = gateway::oidc::BuildAuthorization(meta_, client_);
  std::string leaked;
  HttpResult form = browser_.Follow(after.url, provider_.issuer(), &leaked);
  EXPECT_TRUE(leaked.empty()) << "signed in without a password after logout: " << leaked;
  EXPECT_NE(form.body.find("Mot de passe"), std::string::npos);
}

}  // namespace
}  // namespace pep::testing
