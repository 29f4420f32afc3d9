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

namespace pep::notify {

// What pep-notify remembers of the platform, projected from the events it reads.
struct IdeaInfo {
  std::string id, challenge_id, author_id, title;
};
struct ChallengeInfo {
  std::string id, title;
  absl::Time closes_at = absl::InfiniteFuture();  // InfiniteFuture: no closing date
  bool open = false;
  std::vector<std::string> juror_ids;
};
struct StartupInfo {
  std::string id, name, idea_id;  // idea_id: the idea it came from (its correlation id), if any
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

// "12 mars 2026" (Europe/Paris).
std::string FrenchDate(absl::Time t);

}  // namespace pep::notify
