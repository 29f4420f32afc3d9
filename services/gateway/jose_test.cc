// ID token and userinfo-JWT validation, each rule refused on its own: bad signature, other
// iss, other aud, expired, issued in the future, wrong nonce, missing or wrong acr, alg=none,
// HS256 keyed with the public key, an algorithm that does not fit the key, an unknown kid
// before and after a rotation (one refetch, not more). Keys are made by the test with OpenSSL.
#include "services/gateway/jose.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace pep::gateway::jose {
namespace {

// A signing key of the test's own "provider".
class TestKey {
 public:
  TestKey(const std::string& kty, std::string kid) : kty_(kty), kid_(std::move(kid)) {
    pkey_ = kty == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                         : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  }
  ~TestKey() { EVP_PKEY_free(pkey_); }
  std::string alg() const { return kty_ == "RSA" ? "RS256" : "ES256"; }
  const std::string& kid() const { return kid_; }

  std::string Jwk() const {
    if (kty_ == "RSA") {
      return absl::StrCat(R"({"kty":"RSA","use":"sig","alg":"RS256","kid":")", kid_, R"(","n":")",
                          Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_N)), R"(","e":")",
                          Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_E)), R"("})");
    }
    unsigned char point[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(pkey_, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    const std::string p(reinterpret_cast<char*>(point), len);
    return absl::StrCat(R"({"kty":"EC","crv":"P-256","use":"sig","kid":")", kid_, R"(","x":")",
                        Base64UrlEncode(p.substr(1, 32)), R"(","y":")",
                        Base64UrlEncode(p.substr(33, 32)), R"("})");
  }
  std::string PublicPem() const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, pkey_);
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(b);
    return out;
  }
  // header.payload.signature with this key.
  std::string Sign(const std::string& payload_json, const std::string& alg_override = "",
                   const std::string& kid_override = "\x01") const {
    const std::string header = absl::StrCat(
        R"({"alg":")", alg_override.empty() ? alg() : alg_override, "\"",
        kid_override == "\x01" ? absl::StrCat(R"(,"kid":")", kid_, "\"") : kid_override, "}");
    const std::string input =
        absl::StrCat(Base64UrlEncode(header), ".", Base64UrlEncode(payload_json));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey_);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (kty_ == "EC") sig = RawEcdsa(sig);
    return absl::StrCat(input, ".", Base64UrlEncode(sig));
  }

 private:
  std::string Bn(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(pkey_, name, &bn);
    std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  }
  static std::string RawEcdsa(const std::string& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
  }
  std::string kty_, kid_;
  EVP_PKEY* pkey_ = nullptr;
};

std::string Jwks(std::initializer_list<const TestKey*> keys) {
  std::string out = R"({"keys":[)";
  bool first = true;
  for (const TestKey* k : keys) {
    absl::StrAppend(&out, first ? "" : ",", k->Jwk());
    first = false;
  }
  return out + "]}";
}

constexpr char kIssuer[] = "http://127.0.0.1:9400";
const absl::Time kNow = absl::FromUnixSeconds(1796160000);

std::string Claims(const std::map<std::string, std::string>& overrides = {},
                   const std::set<std::string>& drop = {}) {
  std::map<std::string, std::string> c = {
      {"iss", absl::StrCat("\"", kIssuer, "\"")},
      {"aud", "\"pepiniere\""},
      {"sub", "\"agent-4711\""},
      {"nonce", "\"n-0123456789abcdef0123456789abcdef\""},
      {"acr", "\"eidas1\""},
      {"iat", absl::StrCat(absl::ToUnixSeconds(kNow) - 10)},
      {"exp", absl::StrCat(absl::ToUnixSeconds(kNow) + 60)},
      {"email", "\"camille.martin@departement06.fr\""},
  };
  for (const auto& [k, v] : overrides) c[k] = v;
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : c) {
    if (drop.count(k)) continue;
    absl::StrAppend(&out, first ? "" : ",", "\"", k, "\":", v);
    first = false;
  }
  return out + "}";
}

IdTokenRules Rules() {
  return {.issuer = kIssuer, .client_id = "pepiniere",
          .nonce = "n-0123456789abcdef0123456789abcdef", .acr_values = {"eidas1"}, .now = kNow};
}

class JoseTest : public ::testing::Test {
 protected:
  TestKey rsa_{"RSA", "rsa-1"}, ec_{"EC", "ec-1"};
  KeySet keys_ = *KeySet::Parse(Jwks({&rsa_, &ec_}));
};

TEST_F(JoseTest, ValidRs256AndEs256TokensPass) {
  ASSERT_EQ(keys_.size(), 2u);
  for (const TestKey* k : {&rsa_, &ec_}) {
    auto ok = ValidateIdToken(k->Sign(Claims()), keys_, Rules());
    ASSERT_TRUE(ok.ok()) << k->alg() << ": " << ok.status();
    EXPECT_EQ(ok->String("sub"), "agent-4711");
    EXPECT_EQ(ok->String("email"), "camille.martin@departement06.fr");
  }
}

void ExpectRefused(const absl::StatusOr<Jws>& r, const std::string& why) {
  ASSERT_FALSE(r.ok()) << "accepted; expected refusal for: " << why;
  EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status();
}

TEST_F(JoseTest, EachRuleIsRefusedOnItsOwn) {
  for (const TestKey* k : {&rsa_, &ec_}) {
    SCOPED_TRACE(k->alg());
    std::string token = k->Sign(Claims());
    token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
    ExpectRefused(ValidateIdToken(token, keys_, Rules()), "does not verify");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({{"iss", "\"http://evil.example\""}})), keys_, Rules()), "iss is");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({{"aud", "\"other-client\""}})), keys_, Rules()), "aud");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({{"aud", R"(["pepiniere","other"])"}})), keys_, Rules()), "azp");
    EXPECT_TRUE(ValidateIdToken(k->Sign(Claims({{"aud", R"(["pepiniere","other"])"}, {"azp", "\"pepiniere\""}})), keys_, Rules()).ok());
    ExpectRefused(ValidateIdToken(k->Sign(Claims({{"exp", absl::StrCat(absl::ToUnixSeconds(kNow) - 120)}})), keys_, Rules()), "expired");
    EXPECT_TRUE(ValidateIdToken(k->Sign(Claims({{"exp", absl::StrCat(absl::ToUnixSeconds(kNow) - 30)}})), keys_, Rules()).ok())
        << "within the skew";
    ExpectRefused(ValidateIdToken(k->Sign(Claims({{"iat", absl::StrCat(absl::ToUnixSeconds(kNow) + 600)}})), keys_, Rules()), "future");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({}, {"exp"})), keys_, Rules()), "no exp");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({{"nonce", "\"replayed\""}})), keys_, Rules()), "nonce");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({}, {"nonce"})), keys_, Rules()), "nonce");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({{"acr", "\"eidas0\""}})), keys_, Rules()), "acr");
    ExpectRefused(ValidateIdToken(k->Sign(Claims({}, {"sub"})), keys_, Rules()), "no sub");
    ExpectRefused(ValidateIdToken(k->Sign(Claims(), "", ""), keys_, Rules()), "names no key");
  }
}

TEST_F(JoseTest, NoneHmacAndMismatchedAlgorithmsAreRefused) {
  const std::string payload = Base64UrlEncode(Claims());
  // alg=none, no signature.
  const std::string none = absl::StrCat(Base64UrlEncode(R"({"alg":"none","kid":"rsa-1"})"), ".", payload, ".");
  ExpectRefused(ValidateIdToken(none, keys_, Rules()), "'none' is not accepted");
  // HS256 keyed with the provider's public key (the classic confusion attack).
  const std::string input = absl::StrCat(Base64UrlEncode(R"({"alg":"HS256","kid":"rsa-1"})"), ".", payload);
  const std::string pem = rsa_.PublicPem();
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), pem.data(), static_cast<int>(pem.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  const std::string hs = absl::StrCat(input, ".", Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len)));
  ExpectRefused(ValidateIdToken(hs, keys_, Rules()), "'HS256' is not accepted");
  // ES256 claimed over the RSA key's kid: the algorithm must fit the key.
  ExpectRefused(ValidateIdToken(ec_.Sign(Claims(), "ES256", R"(,"kid":"rsa-1")"), keys_, Rules()), "does not verify");
  ExpectRefused(ValidateIdToken("not.a.jwt.at-all", keys_, Rules()), "three");
  ExpectRefused(ValidateIdToken("e30.e30.", keys_, Rules()), "not accepted");
}

TEST_F(JoseTest, UserinfoJwtNeedsNoNonceButTheRestHolds) {
  IdTokenRules userinfo = Rules();
  userinfo.nonce.clear();
  userinfo.acr_values.clear();
  userinfo.require_exp = false;
  auto ok = ValidateIdToken(rsa_.Sign(Claims({{"given_name", "\"Camille\""}}, {"nonce", "exp", "iat", "acr"})), keys_, userinfo);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->String("given_name"), "Camille");
  ExpectRefused(ValidateIdToken(rsa_.Sign(Claims({{"aud", "\"x\""}}, {"nonce"})), keys_, userinfo), "aud");
}

TEST(JwksCacheTest, AnUnknownKidRefetchesOnceAfterARotation) {
  TestKey before("RSA", "2026-11"), after("EC", "2026-12");
  std::string published = Jwks({&before});
  JwksCache cache([&]() -> absl::StatusOr<std::string> { return published; }, absl::Seconds(10));
  IdTokenRules rules = Rules();
  ASSERT_TRUE(cache.Validate(before.Sign(Claims()), rules).ok());
  EXPECT_EQ(cache.fetches(), 1);
  ASSERT_TRUE(cache.Validate(before.Sign(Claims()), rules).ok());
  EXPECT_EQ(cache.fetches(), 1) << "a known kid uses the cache";
  published = Jwks({&after});  // the provider rotates
  rules.now += absl::Seconds(30);
  auto rotated = cache.Validate(after.Sign(Claims({{"exp", absl::StrCat(absl::ToUnixSeconds(rules.now) + 60)}})), rules);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(cache.fetches(), 2);
  // A kid nobody publishes: at most one refetch, then refused — and not again right away.
  TestKey forged("RSA", "forged");
  rules.now += absl::Seconds(30);
  auto r = cache.Validate(forged.Sign(Claims({{"exp", absl::StrCat(absl::ToUnixSeconds(rules.now) + 60)}})), rules);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(r.status())) << r.status();
  EXPECT_EQ(cache.fetches(), 3);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(cache.Validate(forged.Sign(Claims()), rules).ok());
  EXPECT_EQ(cache.fetches(), 3) << "forged kids must not make us hammer the provider";
}

TEST(KeySetTest, MalformedKeysAreNamed) {
  auto bad = KeySet::Parse(R"({"keys":[{"kty":"RSA","kid":"k1","n":"***","e":"AQAB"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("k1"), std::string::npos) << bad.status();
  EXPECT_FALSE(KeySet::Parse("[]").ok());
  auto skipped = KeySet::Parse(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"EC","crv":"P-384","x":"","y":""}]})");
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(skipped->size(), 0u) << "symmetric and other curves are never verification keys";
}

}  // namespace
}  // namespace pep::gateway::jose
