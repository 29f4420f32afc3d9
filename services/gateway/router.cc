#include "services/gateway/router.h"

#include "absl/strings/str_split.h"

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

std::string RoleNames(unsigned roles) {
  std::string out;
  for (Role r : {kCoordinator, kJuror, kProductTeam, kAgent}) {
    if (roles & r) out += (out.empty() ? "" : ",") + RoleName(r);
  }
  return out.empty() ? "public" : out;
}

Role HighestRole(unsigned roles) {
  for (Role r : {kCoordinator, kJuror, kProductTeam, kAgent}) {
    if (roles & r) return r;
  }
  return kPublic;
}

bool Caller::CoversStartup(const std::string& id) const {
  if (Has(kCoordinator)) return true;
  if (!Has(kProductTeam)) return false;
  for (const std::string& s : scopes) {
    if (s.size() == 8 + id.size() && s.rfind("startup:", 0) == 0 && s.compare(8, id.size(), id) == 0) return true;
  }
  return false;
}

std::optional<PathParams> Match(const std::string& pattern, const std::string& path) {
  const std::vector<std::string> want = absl::StrSplit(pattern, '/');
  const std::vector<std::string> got = absl::StrSplit(path, '/');
  if (want.size() != got.size()) return std::nullopt;
  PathParams params;
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
    out.push_back(pattern.substr(at + 1, close - at - 1));
    at = close;
  }
  return out;
}

}  // namespace pep::gateway
