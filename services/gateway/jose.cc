#include "services/gateway/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pep::gateway::jose {

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string JsonOf(const Value& v) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(v, &out);
  return out;
}

std::optional<Value> ValueOf(const std::map<std::string, std::string>& claims, const std::string& name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  Value v;
  if (!google::protobuf::util::JsonStringToMessage(it->second, &v).ok()) return std::nullopt;
  return v;
}

EVP_PKEY* FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (ctx != nullptr && params != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

EVP_PKEY* RsaKey(const std::string& n, const std::string& e) {
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bn_n != nullptr && bn_e != nullptr && bld != nullptr &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    pkey = FromParams("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return pkey;
}

EVP_PKEY* P256Key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  const std::string point = std::string(1, '\x04') + x + y;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bld != nullptr &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1) {
    pkey = FromParams("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

// JWS ES256 signatures are r||s (32 bytes each); EVP wants DER.
std::string EcdsaDer(std::string_view raw) {
  if (raw.size() != 64) return "";
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + 32), 32, nullptr);
  std::string der;
  if (sig != nullptr && r != nullptr && s != nullptr && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    unsigned char* out = nullptr;
    const int len = i2d_ECDSA_SIG(sig, &out);
    if (len > 0) der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return der;
}

bool IsAllowedAlg(const std::string& alg) { return alg == "RS256" || alg == "ES256"; }

}  // namespace

absl::StatusOr<Struct> ParseJsonObject(std::string_view json, const std::string& what) {
  Struct s;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &s).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a JSON object"));
  }
  return s;
}

std::string StringMember(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it != s.fields().end() && it->second.has_string_value() ? it->second.string_value() : "";
}

std::string Base64UrlEncode(std::string_view bytes) {
  return absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  if (text.find_first_of("+/=") != std::string_view::npos ||
      !absl::WebSafeBase64Unescape(absl::string_view(text.data(), text.size()), &out)) {
    return absl::InvalidArgumentError("not base64url");
  }
  return out;
}

PublicKey::~PublicKey() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }
PublicKey::PublicKey(PublicKey&& o) noexcept : kid_(std::move(o.kid_)), kty_(std::move(o.kty_)), pkey_(o.pkey_) {
  o.pkey_ = nullptr;
}
PublicKey& PublicKey::operator=(PublicKey&& o) noexcept {
  std::swap(kid_, o.kid_);
  std::swap(kty_, o.kty_);
  std::swap(pkey_, o.pkey_);
  return *this;
}

bool PublicKey::Verify(const std::string& alg, std::string_view input, std::string_view signature) const {
  if (pkey_ == nullptr) return false;
  // The algorithm must fit the key: an RSA key never verifies an ES256 token, and the reverse.
  if (!((alg == "RS256" && kty_ == "RSA") || (alg == "ES256" && kty_ == "EC"))) return false;
  std::string sig(signature);
  if (alg == "ES256") {
    sig = EcdsaDer(signature);
    if (sig.empty()) return false;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(pkey_)) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

absl::StatusOr<KeySet> KeySet::Parse(std::string_view jwks_json) {
  auto doc = ParseJsonObject(jwks_json, "jwks");
  if (!doc.ok()) return doc.status();
  auto keys = doc->fields().find("keys");
  if (keys == doc->fields().end() || !keys->second.has_list_value()) {
    return absl::InvalidArgumentError("jwks: no \"keys\" array");
  }
  KeySet set;
  int index = 0;
  for (const Value& v : keys->second.list_value().values()) {
    const std::string where = absl::StrCat("jwks: key ", index++);
    if (!v.has_struct_value()) return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    const Struct& k = v.struct_value();
    const std::string kty = StringMember(k, "kty"), use = StringMember(k, "use"), crv = StringMember(k, "crv");
    if (!use.empty() && use != "sig") continue;  // encryption keys are not for us
    PublicKey key;
    key.kid_ = StringMember(k, "kid");
    key.kty_ = kty;
    if (kty == "RSA") {
      auto n = Base64UrlDecode(StringMember(k, "n"));
      auto e = Base64UrlDecode(StringMember(k, "e"));
      if (!n.ok() || !e.ok() || n->empty() || e->empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, " (", key.kid_, "): bad n or e"));
      }
      key.pkey_ = RsaKey(*n, *e);
    } else if (kty == "EC" && crv == "P-256") {
      auto x = Base64UrlDecode(StringMember(k, "x"));
      auto y = Base64UrlDecode(StringMember(k, "y"));
      if (!x.ok() || !y.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, " (", key.kid_, "): bad x or y"));
      }
      key.pkey_ = P256Key(*x, *y);
    } else {
      continue;  // another curve or key type: not one we verify with
    }
    if (key.pkey_ == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, " (", key.kid_, "): not a valid public key"));
    }
    set.keys_.push_back(std::move(key));
  }
  return set;
}

const PublicKey* KeySet::Find(const std::string& kid) const {
  for (const PublicKey& k : keys_) {
    if (k.kid() == kid) return &k;
  }
  return nullptr;
}

std::optional<std::string> Jws::String(const std::string& name) const {
  auto v = ValueOf(claims, name);
  if (!v || !v->has_string_value()) return std::nullopt;
  return v->string_value();
}

std::optional<double> Jws::Number(const std::string& name) const {
  auto v = ValueOf(claims, name);
  if (!v || !v->has_number_value()) return std::nullopt;
  return v->number_value();
}

std::optional<bool> Jws::Bool(const std::string& name) const {
  auto v = ValueOf(claims, name);
  if (!v || !v->has_bool_value()) return std::nullopt;
  return v->bool_value();
}

std::vector<std::string> Jws::Strings(const std::string& name) const {
  std::vector<std::string> out;
  auto v = ValueOf(claims, name);
  if (!v) return out;
  if (v->has_string_value()) out.push_back(v->string_value());
  if (v->has_list_value()) {
    for (const Value& e : v->list_value().values()) {
      if (e.has_string_value()) out.push_back(e.string_value());
    }
  }
  return out;
}

absl::StatusOr<Jws> ParseJws(std::string_view compact) {
  const std::vector<std::string> parts = absl::StrSplit(absl::string_view(compact.data(), compact.size()), '.');
  if (parts.size() != 3) return absl::InvalidArgumentError("jws: expected three dot-separated parts");
  auto header_json = Base64UrlDecode(parts[0]);
  auto payload_json = Base64UrlDecode(parts[1]);
  auto signature = Base64UrlDecode(parts[2]);
  if (!header_json.ok() || !payload_json.ok() || !signature.ok()) {
    return absl::InvalidArgumentError("jws: a part is not base64url");
  }
  auto header = ParseJsonObject(*header_json, "jws header");
  if (!header.ok()) return header.status();
  auto payload = ParseJsonObject(*payload_json, "jws payload");
  if (!payload.ok()) return payload.status();
  Jws jws;
  jws.alg = StringMember(*header, "alg");
  jws.kid = StringMember(*header, "kid");
  jws.typ = StringMember(*header, "typ");
  if (header->fields().count("crit")) {
    return absl::InvalidArgumentError("jws: critical header parameters are not supported");
  }
  jws.signing_input = absl::StrCat(parts[0], ".", parts[1]);
  jws.signature = *std::move(signature);
  for (const auto& [name, value] : payload->fields()) jws.claims[name] = JsonOf(value);
  return jws;
}

absl::Status VerifySignature(const Jws& jws, const KeySet& keys) {
  if (!IsAllowedAlg(jws.alg)) {
    return absl::UnauthenticatedError(
        absl::StrCat("signature: algorithm '", jws.alg, "' is not accepted (RS256 or ES256 only)"));
  }
  const PublicKey* key = nullptr;
  if (!jws.kid.empty()) {
    key = keys.Find(jws.kid);
    if (key == nullptr) {
      return absl::NotFoundError(absl::StrCat("signature: no key '", jws.kid, "' in the provider's JWKS"));
    }
  } else {
    return absl::UnauthenticatedError("signature: the token names no key (kid)");
  }
  if (!key->Verify(jws.alg, jws.signing_input, jws.signature)) {
    return absl::UnauthenticatedError("signature: does not verify with the provider's key");
  }
  return absl::OkStatus();
}

absl::StatusOr<Jws> ValidateIdToken(std::string_view token, const KeySet& keys,
                                    const IdTokenRules& rules) {
  auto jws = ParseJws(token);
  if (!jws.ok()) return absl::UnauthenticatedError(absl::StrCat("id_token: ", jws.status().message()));
  if (absl::Status s = VerifySignature(*jws, keys); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("id_token: ", s.message()));
  }
  auto fail = [](const std::string& why) { return absl::UnauthenticatedError(absl::StrCat("id_token: ", why)); };
  if (jws->String("iss").value_or("") != rules.issuer) {
    return fail(absl::StrCat("iss is '", jws->String("iss").value_or(""), "', expected '", rules.issuer, "'"));
  }
  const std::vector<std::string> aud = jws->Strings("aud");
  if (std::find(aud.begin(), aud.end(), rules.client_id) == aud.end()) {
    return fail("aud does not name this client");
  }
  if (aud.size() > 1 && jws->String("azp").value_or("") != rules.client_id) {
    return fail("several audiences and azp is not this client");
  }
  const double now = absl::ToDoubleSeconds(rules.now - absl::UnixEpoch());
  const double skew = absl::ToDoubleSeconds(rules.skew);
  auto exp = jws->Number("exp");
  if (rules.require_exp && !exp) return fail("no exp");
  if (exp && *exp + skew < now) return fail("expired");
  auto iat = jws->Number("iat");
  if (rules.require_exp && !iat) return fail("no iat");
  if (iat && *iat - skew > now) return fail("issued in the future (iat)");
  if (!rules.nonce.empty() && jws->String("nonce").value_or("") != rules.nonce) {
    return fail("nonce does not match this sign-in");
  }
  if (!rules.acr_values.empty() && rules.acr_values.count(jws->String("acr").value_or("")) == 0) {
    return fail(absl::StrCat("acr '", jws->String("acr").value_or(""), "' is not an accepted level"));
  }
  if (jws->String("sub").value_or("").empty()) return fail("no sub");
  return jws;
}

absl::Status JwksCache::Refresh(absl::Time now) {
  auto body = fetch_();
  ++fetches_;
  fetched_at_ = now;
  if (!body.ok()) return absl::UnavailableError(absl::StrCat("jwks: ", body.status().message()));
  auto set = KeySet::Parse(*body);
  if (!set.ok()) return set.status();
  keys_ = std::make_shared<const KeySet>(*std::move(set));
  return absl::OkStatus();
}

absl::StatusOr<Jws> JwksCache::Validate(std::string_view token, const IdTokenRules& rules) {
  std::shared_ptr<const KeySet> keys;
  {
    absl::MutexLock l(&mu_);
    if (keys_ == nullptr) {
      if (absl::Status s = Refresh(rules.now); !s.ok()) return s;
    }
    keys = keys_;
  }
  auto r = ValidateIdToken(token, *keys, rules);
  if (!absl::IsNotFound(r.status())) return r;
  // A kid we have not seen: the provider may have rotated its keys. Refetch — once: not again
  // within min_refetch, so forged kids cannot make us hammer the provider.
  {
    absl::MutexLock l(&mu_);
    if (keys_ == keys && rules.now - fetched_at_ >= min_refetch_) {
      if (absl::Status s = Refresh(rules.now); !s.ok()) return s;
    }
    keys = keys_;  // ours, or the one another sign-in just fetched
  }
  r = ValidateIdToken(token, *keys, rules);
  if (absl::IsNotFound(r.status())) return absl::UnauthenticatedError(r.status().message());
  return r;
}

int JwksCache::fetches() const {
  absl::MutexLock l(&mu_);
  return fetches_;
}

}  // namespace pep::gateway::jose
