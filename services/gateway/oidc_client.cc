#include "services/gateway/oidc_client.h"

#include <openssl/sha.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/gateway/tokens.h"

namespace pep::gateway::oidc {

namespace {

// The provider's answer as an object; a malformed one is the provider's fault: UNAVAILABLE.
absl::StatusOr<google::protobuf::Struct> JsonObject(const std::string& body, const std::string& what) {
  auto s = jose::ParseJsonObject(body, what);
  if (!s.ok()) return absl::UnavailableError(s.status().message());
  return s;
}

std::string Form(std::initializer_list<std::pair<std::string, std::string>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) absl::StrAppend(&out, out.empty() ? "" : "&", UrlEncode(k), "=", UrlEncode(v));
  return out;
}

jose::IdTokenRules Rules(const ProviderMetadata& meta, const ClientSettings& client, absl::Time now) {
  jose::IdTokenRules r{.issuer = meta.issuer, .client_id = client.client_id, .now = now};
  for (absl::string_view acr : absl::StrSplit(client.acr_values, ' ', absl::SkipEmpty())) {
    r.acr_values.insert(std::string(acr));
  }
  return r;
}

}  // namespace

absl::StatusOr<ProviderMetadata> Discover(HttpClient& http, const std::string& issuer) {
  auto r = http.Call(issuer, "GET", "/.well-known/openid-configuration");
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("oidc discovery: ", r.status().message()));
  if (r->status != 200) return absl::UnavailableError(absl::StrCat("oidc discovery: HTTP ", r->status));
  auto doc = JsonObject(r->body, "oidc discovery");
  if (!doc.ok()) return doc.status();
  ProviderMetadata m{jose::StringMember(*doc, "issuer"), jose::StringMember(*doc, "authorization_endpoint"), jose::StringMember(*doc, "token_endpoint"),
                     jose::StringMember(*doc, "userinfo_endpoint"), jose::StringMember(*doc, "jwks_uri"), jose::StringMember(*doc, "end_session_endpoint")};
  if (m.issuer != issuer) {
    return absl::FailedPreconditionError(
        absl::StrCat("oidc discovery: the document says issuer '", m.issuer, "', expected '", issuer, "'"));
  }
  if (m.authorization_endpoint.empty() || m.token_endpoint.empty() || m.jwks_uri.empty()) {
    return absl::FailedPreconditionError("oidc discovery: authorization, token or jwks endpoint missing");
  }
  return m;
}

AuthorizationRequest BuildAuthorization(const ProviderMetadata& meta, const ClientSettings& client) {
  AuthorizationRequest a{.state = RandomToken(), .nonce = RandomToken(), .code_verifier = RandomToken()};
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.code_verifier.data()), a.code_verifier.size(), digest);
  const std::string challenge = jose::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
  a.url = absl::StrCat(meta.authorization_endpoint,
                       absl::StrContains(meta.authorization_endpoint, "?") ? "&" : "?",
                       Form({{"response_type", "code"}, {"client_id", client.client_id},
                             {"redirect_uri", client.redirect_url}, {"scope", client.scopes},
                             {"state", a.state}, {"nonce", a.nonce}, {"code_challenge", challenge},
                             {"code_challenge_method", "S256"}}));
  if (!client.acr_values.empty()) absl::StrAppend(&a.url, "&acr_values=", UrlEncode(client.acr_values));
  return a;
}

absl::StatusOr<SignIn> ExchangeCode(HttpClient& http, const ProviderMetadata& meta,
                                    const ClientSettings& client, jose::JwksCache& jwks,
                                    const std::string& code, const AuthorizationRequest& request,
                                    absl::Time now) {
  auto r = http.Call(meta.token_endpoint, "POST", "",
                     {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
                     Form({{"grant_type", "authorization_code"}, {"code", code},
                           {"redirect_uri", client.redirect_url}, {"client_id", client.client_id},
                           {"client_secret", client.client_secret},
                           {"code_verifier", request.code_verifier}}));
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("oidc token: ", r.status().message()));
  auto doc = JsonObject(r->body, "oidc token");
  if (!doc.ok()) return doc.status();
  if (r->status != 200) {
    return absl::PermissionDeniedError(absl::StrCat("oidc token: ", jose::StringMember(*doc, "error"), " (",
                                                    jose::StringMember(*doc, "error_description"), ")"));
  }
  SignIn s{jose::StringMember(*doc, "id_token"), jose::StringMember(*doc, "access_token"), {}};
  jose::IdTokenRules rules = Rules(meta, client, now);
  rules.nonce = request.nonce;
  auto claims = jwks.Validate(s.id_token, rules);
  if (!claims.ok()) return claims.status();
  s.id_claims = *std::move(claims);
  return s;
}

absl::StatusOr<jose::Jws> FetchUserinfo(HttpClient& http, const ProviderMetadata& meta,
                                        const ClientSettings& client, jose::JwksCache& jwks,
                                        const SignIn& sign_in, absl::Time now) {
  auto r = http.Call(meta.userinfo_endpoint, "GET", "", {{"Authorization", "Bearer " + sign_in.access_token}});
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("oidc userinfo: ", r.status().message()));
  if (r->status != 200) return absl::PermissionDeniedError(absl::StrCat("oidc userinfo: HTTP ", r->status));
  jose::Jws claims;
  if (absl::StartsWith(r->headers["content-type"], "application/jwt")) {
    jose::IdTokenRules rules = Rules(meta, client, now);
    rules.acr_values.clear();
    rules.require_exp = false;
    auto v = jwks.Validate(r->body, rules);
    if (!v.ok()) return absl::Status(v.status().code(), absl::StrCat("userinfo ", v.status().message()));
    claims = *std::move(v);
  } else {
    auto doc = JsonObject(r->body, "oidc userinfo");
    if (!doc.ok()) return doc.status();
    for (const auto& [name, value] : doc->fields()) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(value, &json);
      claims.claims[name] = json;
    }
  }
  if (claims.String("sub") != sign_in.id_claims.String("sub")) {
    return absl::PermissionDeniedError("oidc userinfo: sub differs from the ID token's");
  }
  return claims;
}

std::string EndSessionUrl(const ProviderMetadata& meta, const std::string& id_token_hint,
                          const std::string& state, const std::string& post_logout_redirect) {
  return absl::StrCat(meta.end_session_endpoint, absl::StrContains(meta.end_session_endpoint, "?") ? "&" : "?",
                      Form({{"id_token_hint", id_token_hint}, {"state", state},
                            {"post_logout_redirect_uri", post_logout_redirect}}));
}

}  // namespace pep::gateway::oidc
