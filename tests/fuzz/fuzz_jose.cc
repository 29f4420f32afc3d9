// The OpenID Connect token parser (services/gateway/jose.h): a compact JWS from anywhere, its
// claims read every way the gateway reads them, then the ID-token rules against an empty key set
// (which must refuse).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/time/time.h"
#include "services/gateway/jose.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)pep::gateway::jose::Base64UrlDecode(in);
  (void)pep::gateway::jose::ParseJsonObject(in, "fuzz");
  auto jws = pep::gateway::jose::ParseJws(in);
  if (jws.ok()) {
    for (const auto& [name, value] : jws->claims) {
      (void)jws->String(name);
      (void)jws->Number(name);
      (void)jws->Strings(name);
    }
  }
  (void)pep::gateway::jose::KeySet::Parse(in);  // the provider's JWKS is outside input too
  static const auto none = pep::gateway::jose::KeySet::Parse(R"({"keys":[]})");
  if (!none.ok()) std::abort();
  auto token = pep::gateway::jose::ValidateIdToken(
      in, *none, {.issuer = "https://idp.example", .client_id = "pep", .nonce = "n",
                 .now = absl::FromUnixSeconds(1796000000)});
  if (token.ok()) std::abort();  // nothing verifies without a key
  return 0;
}
