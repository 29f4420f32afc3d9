#include "auth/principal.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/text.h"

namespace pep::auth {

namespace {
const std::string* Find(const std::multimap<std::string, std::string>& md, const char* key) {
  auto it = md.find(key);
  return it == md.end() ? nullptr : &it->second;
}

// Constant-time comparison so the key can't be guessed byte by byte from timings.
bool SameKey(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}
}  // namespace

bool Principal::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Principal::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

bool ScopesCoverStartup(const std::vector<std::string>& scopes, std::string_view startup_id) {
  constexpr std::string_view kStartup = "startup:";
  return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& s) {
    return s.size() == kStartup.size() + startup_id.size() && s.starts_with(kStartup) &&
           s.ends_with(startup_id);
  });
}

bool Principal::CoversStartup(std::string_view startup_id) const {
  if (HasRole("coordinator")) return true;
  return HasRole("product_team") && ScopesCoverStartup(scopes, startup_id);
}

std::string Principal::ScopeText() const { return absl::StrJoin(scopes, ","); }

absl::StatusOr<Principal> Authenticate(const std::multimap<std::string, std::string>& md,
                                       const AuthOptions& options) {
  if (!options.insecure_dev) {
    const std::string* key = Find(md, "x-pep-gateway-key");
    if (options.gateway_key.empty() || key == nullptr || !SameKey(*key, options.gateway_key)) {
      return absl::UnauthenticatedError(
          "x-pep-gateway-key: missing or wrong; call through pep-gateway");
    }
  }
  Principal p;
  if (const std::string* actor = Find(md, "x-pep-actor"); actor != nullptr && !actor->empty()) {
    if (!DecodeMetadataValue(*actor, &p.id) || Utf8Length(p.id) < 0) {
      return absl::InvalidArgumentError("x-pep-actor: not percent-encoded UTF-8");
    }
  } else if (options.insecure_dev) {
    p.id = "dev";
    p.roles = {"coordinator"};
    return p;
  } else {
    return absl::UnauthenticatedError("x-pep-actor: required metadata missing");
  }
  if (Utf8Length(p.id) > 128) return absl::InvalidArgumentError("x-pep-actor: longer than 128 characters");
  if (const std::string* roles = Find(md, "x-pep-roles")) {
    for (absl::string_view r : absl::StrSplit(*roles, ',', absl::SkipWhitespace())) {
      p.roles.emplace_back(absl::StripAsciiWhitespace(r));
    }
  }
  if (const std::string* scope = Find(md, "x-pep-scope")) {
    for (absl::string_view s : absl::StrSplit(*scope, ',', absl::SkipWhitespace())) {
      std::string decoded;
      const absl::string_view v = absl::StripAsciiWhitespace(s);
      if (!DecodeMetadataValue(std::string_view(v.data(), v.size()), &decoded) || Utf8Length(decoded) < 0) {
        return absl::InvalidArgumentError("x-pep-scope: not percent-encoded UTF-8");
      }
      p.scopes.push_back(std::move(decoded));
    }
  }
  return p;
}

absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& ctx,
                                       const AuthOptions& options) {
  std::multimap<std::string, std::string> md;
  for (const auto& [k, v] : ctx.client_metadata()) {
    const std::string key(k.data(), k.size());
    if (key.rfind("x-pep-", 0) == 0) md.emplace(key, std::string(v.data(), v.size()));
  }
  return Authenticate(md, options);
}

}  // namespace pep::auth
