// The team's rules (issue 31), pure: each member's kind of role (from the list beta.gouv's member
// space uses) and status, what a team edit may change, and the « signaux faibles » a coordinator
// watches in the portfolio — no intrapreneur, no coach, a mission ending within 15 days (or
// ended with the member still listed), turnover over the last six months.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "portfolio/preread.h"

namespace pep::incubation {

namespace v1 = ::pepiniere::incubation::v1;

// A member's kind of role: the one recorded, else read from the free-text title members added
// before the list had ("Intrapreneure", "Coach", "Développeur back-end"…); unspecified when the
// title says none of them.
v1::TeamRole RoleKindOf(const v1::TeamMember& m);
v1::TeamRole RoleKindFromTitle(std::string_view title);
using ::pep::portfolio::RoleWord;    // "intrapreneur", "coach", "développement"… (libs/portfolio)
using ::pep::portfolio::StatusWord;  // "agent public", "prestataire", "indépendant"

// The thresholds, written once (DESIGN.md « Team signals »).
inline constexpr absl::Duration kMissionEndingNotice = absl::Hours(24 * 15);
inline constexpr int kTurnoverMonths = 6;
inline constexpr int kTurnoverMinDepartures = 2;
// Turnover: at least kTurnoverMinDepartures members left within kTurnoverMonths and they are at
// least half as many as the members on the team now.
bool HighTurnover(int departures, int current_members);

// On the team at `now`: arrived on or before it and not yet left.
bool OnTeam(const v1::TeamMember& m, absl::Time now);
// The signals at `now`, in a fixed order (codes: no_intrapreneur, no_coach, mission_ended,
// mission_ending, turnover); none for a start-up in a terminal phase.
std::vector<v1::TeamSignal> TeamSignals(const v1::Startup& s, absl::Time now);
bool IsTeamSignalCode(std::string_view code);

// An edit of a member (UpdateTeamMember): at least one field, each within its bounds; the
// mission's end after the member's start.
absl::Status ValidateMemberUpdate(const v1::UpdateTeamMemberRequest& r, const v1::TeamMember& m);

}  // namespace pep::incubation
