#include "services/gateway/router.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "auth/principal.h"
#include "common/uuid.h"

namespace pep::gateway {

Role RoleOf(const std::string& name) {
  if (name == "coordinator") return kCoordinator;
  if (name == "juror") return kJuror;
  if (name == "product_team") return kProductTeam;
  if (name == "agent") return kAgent;
  return kPublic;
}

std::string RoleName(Role r) {
  switch (r) {
    case kCoordinator: return "coordinator";
    case kJuror: return "juror";
    case kProductTeam: return "product_team";
    case kAgent: return "agent";
    default: return "public";
  }
}

std::vector<Role> RolesOf(unsigned roles) {
  std::vector<Role> out;
  for (Role r : {kCoordinator, kJuror, kProductTeam, kAgent}) {
    if (roles & r) out.push_back(r);
  }
  return out;
}

std::string RoleNames(unsigned roles) {
  const std::vector<Role> list = RolesOf(roles);
  if (list.empty()) return "public";
  return absl::StrJoin(list, ",", [](std::string* out, Role r) { out->append(RoleName(r)); });
}

Role HighestRole(unsigned roles) {
  const std::vector<Role> list = RolesOf(roles);
  return list.empty() ? kPublic : list.front();
}

bool Caller::CoversStartup(const std::string& id) const {
  return Has(kCoordinator) || (Has(kProductTeam) && auth::ScopesCoverStartup(scopes, id));
}

std::optional<PathParams> Match(const std::string& pattern, const std::string& path) {
  const std::vector<std::string> want = absl::StrSplit(pattern, '/');
  const std::vector<std::string> got = absl::StrSplit(path, '/');
  PathParams params;
  // A last segment "{name=**}" takes the rest of the path, one segment or more (C2SP tiles).
  if (!want.empty() && absl::EndsWith(want.back(), "=**}") && absl::StartsWith(want.back(), "{") &&
      got.size() >= want.size()) {
    std::vector<std::string> head(want.begin(), want.end() - 1);
    std::vector<std::string> got_head(got.begin(), got.begin() + static_cast<long>(head.size()));
    auto rest = Match(absl::StrJoin(head, "/"), absl::StrJoin(got_head, "/"));
    if (!rest) return std::nullopt;
    const std::string& w = want.back();
    std::vector<std::string> tail(got.begin() + static_cast<long>(head.size()), got.end());
    for (const std::string& t : tail) {
      if (t.empty() || t == "." || t == "..") return std::nullopt;
    }
    (*rest)[w.substr(1, w.size() - 5)] = absl::StrJoin(tail, "/");
    return rest;
  }
  if (want.size() != got.size()) return std::nullopt;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string_view w = want[i], g = got[i];
    const size_t open = w.find('{');
    if (open == std::string_view::npos) {
      if (w != g) return std::nullopt;
      continue;
    }
    const size_t close = w.find('}', open);
    const std::string_view prefix = w.substr(0, open), suffix = w.substr(close + 1);
    if (g.size() <= prefix.size() + suffix.size() || g.substr(0, prefix.size()) != prefix ||
        g.substr(g.size() - suffix.size()) != suffix) {
      return std::nullopt;
    }
    const std::string_view value = g.substr(prefix.size(), g.size() - prefix.size() - suffix.size());
    if (value.find(':') != std::string_view::npos) return std::nullopt;  // "x:open" is not an id
    params[std::string(w.substr(open + 1, close - open - 1))] = std::string(value);
  }
  return params;
}

std::vector<std::string> ParamNames(const std::string& pattern) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = pattern.find('{', at)) != std::string::npos) {
    const size_t close = pattern.find('}', at);
    std::string name = pattern.substr(at + 1, close - at - 1);
    if (absl::EndsWith(name, "=**")) name.resize(name.size() - 3);
    out.push_back(std::move(name));
    at = close;
  }
  return out;
}

bool PathIdOk(const Route& route, const std::string& name, const std::string& value) {
  if (!absl::EndsWith(name, "_id") || IsUuid(value)) return true;
  if (!route.slug_ok || value.empty() || value.size() > 100) return false;
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::vector<DocumentedPath> DocumentedPaths(const Route& route) {
  const size_t wild = route.pattern.find("=**}");
  if (wild == std::string::npos) return {{route.pattern, route.param_patterns}};
  // C2SP tlog-tiles: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>], N in 3-digit segments
  // ("x001/234" past the first thousand tiles, which these forms leave to the description).
  const std::string base = route.pattern.substr(0, route.pattern.rfind('/', wild) + 1);
  const std::map<std::string, std::string> tile = {{"level", "^([0-9]|entries)$"}, {"index", "^[0-9]{3}$"}};
  std::map<std::string, std::string> partial = tile;
  partial["width"] = "^([1-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$";
  return {{base + "{level}/{index}", tile}, {base + "{level}/{index}.p/{width}", partial}};
}

}  // namespace pep::gateway
