// pep-notify's rules, in one table: which fact (an event, or the clock) concerns whom, in which
// category, and what they are told (French title and text, the console page it is about).
// Pure: who is who comes through the Directory the caller passes (pep-notify's store in the
// service, a map in tests); no clock, no store, no network.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "events/envelope.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "portfolio/staleness.h"

namespace pep::notify {

// What pep-notify remembers of the platform, projected from the events it reads.
struct IdeaInfo {
  std::string id, challenge_id, author_id, title;
  std::vector<std::string> coauthor_ids;  // told as the author is
};
struct ChallengeInfo {
  std::string id, title;
  absl::Time closes_at = absl::InfiniteFuture();  // InfiniteFuture: no closing date
  bool open = false;
  std::vector<std::string> juror_ids;
};
struct StartupInfo {
  std::string id, name, idea_id;  // idea_id: the idea it came from (its correlation id), if any
  // Its lifecycle as the incubation events tell it (phase 0: not known — created before
  // pep-notify kept it). InfinitePast: never (no milestone yet, no committee yet).
  int phase = 0;  // a pepiniere.incubation.v1.Phase value
  absl::Time phase_start = absl::InfinitePast();
  absl::Time first_start = absl::InfinitePast();
  absl::Time last_milestone = absl::InfinitePast();
  absl::Time last_committee = absl::InfinitePast();
  bool has_feedback = false;
  // The review the last committee set (issue 31); InfiniteFuture: none set.
  absl::Time next_review = absl::InfiniteFuture();
  // The current envelope and what was committed and paid since (issue 31), counted as
  // pep-incubation counts them (libs/portfolio/budget.h) from the decisions and budget entries.
  pepiniere::incubation::v1::BudgetState budget;
};
// A team member as TeamMemberAdded / Removed tell it (their address is never on the topic).
struct MemberInfo {
  std::string member_id, name;
  absl::Time end = absl::InfiniteFuture();  // InfiniteFuture: no end date
};

class Directory {
 public:
  virtual ~Directory() = default;
  virtual std::optional<IdeaInfo> Idea(const std::string& id) = 0;
  virtual std::optional<ChallengeInfo> Challenge(const std::string& id) = 0;
  virtual std::optional<StartupInfo> Startup(const std::string& id) = 0;
  // Accounts whose scopes name the start-up ("startup:<id>"): its product team.
  virtual std::vector<std::string> Team(const std::string& startup_id) = 0;
  // Ideas of the challenge this juror has not scored yet (not withdrawn).
  virtual int UnscoredBy(const std::string& challenge_id, const std::string& juror_id) = 0;
  // Accounts following a subject ("idea", "challenge", "startup"), oldest follow first.
  virtual std::vector<std::string> Followers(const std::string& subject_type,
                                             const std::string& subject_id) = 0;
};

struct Category {
  const char* name;   // "idees"
  const char* label;  // « Mes idées »
  int default_delivery;  // a pepiniere.notify.v1.Delivery value
};
const std::vector<Category>& Categories();
const Category* FindCategory(const std::string& name);

struct Rule {
  const char* name;      // "idea_decision"
  const char* trigger;   // the event type, or "clock"
  const char* audience;  // who, in words (for the notes and /rules)
  const char* category;
};
const std::vector<Rule>& Rules();

// One message for one person.
struct Planned {
  std::string rule, category, recipient_id;
  std::string subject_type, subject_id;
  std::string title, body, link;  // link: a console path ("/idees/<id>")
};

// The people an event concerns and what they are told. `payload` is the event's protobuf bytes;
// an event no rule is about gives nothing. The actor is never told of their own act (a
// coordinator who files an idea for someone else is not its author).
std::vector<Planned> ForEvent(const events::Envelope& env, const std::string& payload,
                              Directory& dir);

// Clock rule "jury_closing": each juror of an open challenge closing within `window` of `now`
// who has ideas left to score. `period` (the day it closes) makes it once per challenge.
struct Reminder {
  Planned what;
  std::string period;
};
std::vector<Reminder> JuryClosing(const ChallengeInfo& c, absl::Time now, absl::Duration window,
                                  Directory& dir);

// Clock rules of a start-up's team (its members who signed in): committee_due — 30 days
// (`committee_notice`) before its phase's expected end and once when that end has passed, unless
// a committee decided since the phase began; no_milestone — once per gap of the policy's months
// without a milestone; mission_ending — 15 and 2 days before a member's end date; envelope —
// once per envelope when it runs out within 45 days, once when payments go beyond it.
std::vector<Reminder> TeamReminders(const StartupInfo& s, const std::vector<MemberInfo>& members,
                                    absl::Time now, const portfolio::StalenessPolicy& policy,
                                    absl::Duration committee_notice, Directory& dir);

// Why a start-up is overdue at `now`, in French (empty: it is not) — the policy pep-incubation
// flags start-ups with.
std::vector<std::string> OverdueFrench(const StartupInfo& s, absl::Time now,
                                       const portfolio::StalenessPolicy& policy);

// What the coordinators' weekly picture is made of (gathered by the caller from the store and,
// for the satisfaction bands, from pep-feedback).
struct PortfolioFacts {
  struct Overdue {
    std::string id, name;
    std::vector<std::string> reasons;
  };
  struct Awaiting {  // an open challenge with ideas not yet scored by every juror
    std::string id, title;
    int ideas = 0;
    absl::Time closes_at = absl::InfiniteFuture();
  };
  struct Named {
    std::string id, name;
  };
  struct Undone {  // a committee decision (GO / STOP / PIVOT) not yet turned into a phase change
    std::string startup_id, name;
    int outcome = 0;
    absl::Time date;
  };
  std::vector<Overdue> overdue;
  std::vector<Awaiting> unscored;
  std::vector<Named> red;   // users' satisfaction in the red band (pep-feedback's)
  bool red_known = false;   // false: pep-feedback not configured, or it did not answer
  std::vector<Undone> undone;
};
// Rule "portfolio_weekly": one message to each coordinator, once per ISO week.
std::vector<Reminder> PortfolioWeekly(const PortfolioFacts& f,
                                      const std::vector<std::string>& coordinators, absl::Time now);

// "12 mars 2026" (Europe/Paris).
std::string FrenchDate(absl::Time t);

}  // namespace pep::notify
