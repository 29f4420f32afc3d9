#include "services/incubation/team_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "portfolio/staleness.h"
#include "services/incubation/incubation_core.h"

namespace pep::incubation {

v1::TeamRole RoleKindFromTitle(std::string_view title) {
  // Folded like portfolio search ("Développeuse" -> "developpeuse"): accents and case ignored.
  const std::string t = FoldForSearch(title);
  struct Word {
    const char* stem;
    v1::TeamRole role;
  };
  // Most specific first: "coach agile" is a coach, "data designer" data's.
  static constexpr Word kWords[] = {
      {"intrapren", v1::TEAM_ROLE_INTRAPRENEUR}, {"coach", v1::TEAM_ROLE_COACH},
      {"sponsor", v1::TEAM_ROLE_SPONSOR},        {"data", v1::TEAM_ROLE_DATA},
      {"deploiement", v1::TEAM_ROLE_DEPLOIEMENT}, {"bizdev", v1::TEAM_ROLE_DEPLOIEMENT},
      {"design", v1::TEAM_ROLE_DESIGN},          {"dev", v1::TEAM_ROLE_DEVELOPPEMENT},
  };
  for (const Word& w : kWords) {
    if (absl::StrContains(t, w.stem)) return w.role;
  }
  return v1::TEAM_ROLE_UNSPECIFIED;
}

v1::TeamRole RoleKindOf(const v1::TeamMember& m) {
  return m.kind() != v1::TEAM_ROLE_UNSPECIFIED ? m.kind() : RoleKindFromTitle(m.role());
}

bool HighTurnover(int departures, int current_members) {
  return departures >= kTurnoverMinDepartures && 2 * departures >= current_members;
}

bool OnTeam(const v1::TeamMember& m, absl::Time now) {
  return FromTimestamp(m.start()) <= now && (!m.has_end() || FromTimestamp(m.end()) > now);
}

std::vector<v1::TeamSignal> TeamSignals(const v1::Startup& s, absl::Time now) {
  std::vector<v1::TeamSignal> out;
  if (IsTerminal(s.phase()) || s.phases_size() == 0) return out;
  bool intrapreneur = false, coach = false;
  int current = 0, departures = 0;
  std::vector<v1::TeamSignal> ended, ending;
  const absl::Time turnover_since = portfolio::AddMonths(now, -kTurnoverMonths);
  for (const v1::TeamMember& m : s.team()) {
    if (m.has_end()) {
      const absl::Time end = FromTimestamp(m.end());
      if (end > turnover_since && end <= now) ++departures;
    }
    if (!OnTeam(m, now)) continue;
    ++current;
    const v1::TeamRole kind = RoleKindOf(m);
    intrapreneur |= kind == v1::TEAM_ROLE_INTRAPRENEUR;
    coach |= kind == v1::TEAM_ROLE_COACH;
    if (m.has_mission_end()) {
      const absl::Time mission_end = FromTimestamp(m.mission_end());
      if (mission_end <= now + kMissionEndingNotice) {
        v1::TeamSignal sig;
        sig.set_code(mission_end <= now ? "mission_ended" : "mission_ending");
        sig.set_member_id(m.id());
        *sig.mutable_date() = m.mission_end();
        (mission_end <= now ? ended : ending).push_back(std::move(sig));
      }
    }
  }
  auto add = [&out](const char* code) {
    v1::TeamSignal sig;
    sig.set_code(code);
    out.push_back(std::move(sig));
  };
  if (!intrapreneur) add("no_intrapreneur");
  if (!coach) add("no_coach");
  for (auto* list : {&ended, &ending}) {
    std::sort(list->begin(), list->end(), [](const v1::TeamSignal& a, const v1::TeamSignal& b) {
      return FromTimestamp(a.date()) < FromTimestamp(b.date());
    });
    for (auto& sig : *list) out.push_back(std::move(sig));
  }
  if (HighTurnover(departures, current)) {
    add("turnover");
    out.back().set_count(departures);
  }
  return out;
}

bool IsTeamSignalCode(std::string_view code) {
  return code == "no_intrapreneur" || code == "no_coach" || code == "mission_ending" ||
         code == "mission_ended" || code == "turnover";
}

absl::Status ValidateMemberUpdate(const v1::UpdateTeamMemberRequest& r, const v1::TeamMember& m) {
  if (r.role().empty() && r.kind() == v1::TEAM_ROLE_UNSPECIFIED && r.status() == v1::MEMBER_STATUS_UNSPECIFIED &&
      !r.has_mission_end() && !r.clear_mission_end()) {
    return FieldError("body", "nothing to change: give role, kind, status, mission_end or clear_mission_end");
  }
  if (const int n = Utf8Length(r.role()); n > 80) {
    return FieldError("role", absl::StrCat("must be at most 80 characters (got ", n, ")"));
  }
  if (!v1::TeamRole_IsValid(r.kind())) return FieldError("kind", "is not a role of the list");
  if (!v1::MemberStatus_IsValid(r.status())) return FieldError("status", "is not a status of the list");
  if (r.has_mission_end() && r.clear_mission_end()) {
    return FieldError("mission_end", "cannot be both set and cleared");
  }
  if (r.has_mission_end() && FromTimestamp(r.mission_end()) <= FromTimestamp(m.start())) {
    return FieldError("mission_end", "must be after the member's start");
  }
  return absl::OkStatus();
}

}  // namespace pep::incubation
