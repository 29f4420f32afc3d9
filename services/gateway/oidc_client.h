// The relying-party side of OpenID Connect sign-in (issue 13): discovery, an authorization
// request with PKCE (S256), state and nonce, the code exchange (client_secret_post, as
// ProConnect), the ID token checked with jose.h, the userinfo answer as a signed JWT
// (application/jwt) or JSON, and the end_session URL. HTTP through libcurl (http_client.h).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/gateway/http_client.h"
#include "services/gateway/jose.h"

namespace pep::gateway::oidc {

struct ProviderMetadata {
  std::string issuer, authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri,
      end_session_endpoint;
};

// GET <issuer>/.well-known/openid-configuration; the document's issuer must be `issuer`.
absl::StatusOr<ProviderMetadata> Discover(HttpClient& http, const std::string& issuer);

struct ClientSettings {
  std::string client_id, client_secret, redirect_url;
  std::string scopes = "openid email given_name usual_name uid siret idp_id";
  std::string acr_values;  // space-separated; empty: none asked (and none checked)
};

// One sign-in in progress: what the browser is sent to, and what must be kept (server-side)
// until the callback. state, nonce and the PKCE verifier are 43 random base64url characters.
struct AuthorizationRequest {
  std::string url, state, nonce, code_verifier;
};
AuthorizationRequest BuildAuthorization(const ProviderMetadata& meta, const ClientSettings& client);

struct SignIn {
  std::string id_token;      // kept for logout (id_token_hint)
  std::string access_token;  // for userinfo only
  jose::Jws id_claims;
};

// Exchanges the code (with the verifier of its request) and validates the ID token: signature
// (keys from `jwks`), iss, aud, exp/iat, nonce, acr when asked.
absl::StatusOr<SignIn> ExchangeCode(HttpClient& http, const ProviderMetadata& meta,
                                    const ClientSettings& client, jose::JwksCache& jwks,
                                    const std::string& code, const AuthorizationRequest& request,
                                    absl::Time now);

// The userinfo claims; a JWT answer is verified like an ID token (no nonce), and its sub must be
// the ID token's.
absl::StatusOr<jose::Jws> FetchUserinfo(HttpClient& http, const ProviderMetadata& meta,
                                        const ClientSettings& client, jose::JwksCache& jwks,
                                        const SignIn& sign_in, absl::Time now);

// Where to send the browser to end the provider's session too.
std::string EndSessionUrl(const ProviderMetadata& meta, const std::string& id_token_hint,
                          const std::string& state, const std::string& post_logout_redirect);

}  // namespace pep::gateway::oidc
