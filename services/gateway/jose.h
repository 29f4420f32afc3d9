// JOSE for OpenID Connect sign-in (issue 13): compact JWS parsing, JWK sets (RSA and EC P-256
// public keys), RS256 / ES256 signature checks with OpenSSL's EVP, and the ID token rules of
// OpenID Connect Core §3.1.3.7 (iss, aud, azp, exp/iat with a small skew, nonce, acr). Only the
// two asymmetric algorithms ProConnect signs with are accepted: `none`, HS* (a public key used
// as an HMAC secret) and anything else are refused before any key is looked at. OpenSSL types
// stay in the .cc file.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"

namespace pep::gateway::jose {

// A JSON object (INVALID_ARGUMENT "<what>: not a JSON object" otherwise), and one of its string
// members ("" when absent or not a string): shared by the JOSE and OIDC documents.
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(std::string_view json, const std::string& what);
std::string StringMember(const google::protobuf::Struct& object, const std::string& name);

// base64url without padding (RFC 7515 §2), both ways.
std::string Base64UrlEncode(std::string_view bytes);
absl::StatusOr<std::string> Base64UrlDecode(std::string_view text);

// One public key of a JWK set.
class PublicKey {
 public:
  ~PublicKey();
  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  const std::string& kid() const { return kid_; }
  const std::string& kty() const { return kty_; }  // "RSA" or "EC"
  // True when `signature` (JWS form: RSA PKCS#1 v1.5, or ECDSA r||s) signs `input` with `alg`.
  bool Verify(const std::string& alg, std::string_view input, std::string_view signature) const;

 private:
  friend class KeySet;
  PublicKey() = default;
  std::string kid_, kty_;
  void* pkey_ = nullptr;  // EVP_PKEY*
};

class KeySet {
 public:
  // A JWKS document ({"keys":[…]}); keys that are not RSA or EC P-256 signature keys are
  // skipped, a malformed one is an error naming it.
  static absl::StatusOr<KeySet> Parse(std::string_view jwks_json);
  const PublicKey* Find(const std::string& kid) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<PublicKey> keys_;
};

// A compact JWS split and decoded; claims are the payload's top-level members as JSON text
// values ("\"abc\"", "123", "[…]") so callers decide their types.
struct Jws {
  std::string alg, kid, typ;
  std::string signing_input;  // header.payload, as sent
  std::string signature;      // raw bytes
  std::map<std::string, std::string> claims;
  std::optional<std::string> String(const std::string& name) const;  // a string claim
  std::optional<double> Number(const std::string& name) const;       // a numeric claim
  std::optional<bool> Bool(const std::string& name) const;           // a boolean claim
  std::vector<std::string> Strings(const std::string& name) const;   // a string or an array
};
absl::StatusOr<Jws> ParseJws(std::string_view compact);

// The signature checked against `keys` (by kid; without a kid, the only key of the right type).
absl::Status VerifySignature(const Jws& jws, const KeySet& keys);

struct IdTokenRules {
  std::string issuer;
  std::string client_id;  // the audience
  std::string nonce;      // the one sent with this sign-in; empty: not checked (userinfo JWT)
  std::set<std::string> acr_values;  // when set, `acr` must be one of them
  absl::Time now;
  absl::Duration skew = absl::Seconds(60);
  bool require_exp = true;  // ID tokens expire; a userinfo JWT need not
};

// The claims every rule held for. Errors say which rule failed ("id_token: iss is …").
absl::StatusOr<Jws> ValidateIdToken(std::string_view token, const KeySet& keys,
                                    const IdTokenRules& rules);

// A provider's JWKS with key rotation: a token signed with a kid we do not know makes one
// refetch (at most one per `min_refetch`), never a loop.
class JwksCache {
 public:
  using Fetch = std::function<absl::StatusOr<std::string>()>;
  JwksCache(Fetch fetch, absl::Duration min_refetch = absl::Seconds(10))
      : fetch_(std::move(fetch)), min_refetch_(min_refetch) {}
  absl::StatusOr<Jws> Validate(std::string_view token, const IdTokenRules& rules);
  int fetches() const;

 private:
  absl::Status Refresh(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Fetch fetch_;
  const absl::Duration min_refetch_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time fetched_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pep::gateway::jose
