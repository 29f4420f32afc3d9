// What pep-notify's rules and reminders say, shared by notify_rules.cc and notify_reminders.cc:
// names in French quotes, phases and committee outcomes in words, and a message planned for
// one person under one rule (its category from the rules table).
#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "portfolio/preread.h"
#include "pepiniere/feedback/v1/feedback.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "services/notify/notify_rules.h"

namespace pep::notify::internal {

namespace incv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;

inline std::string Quoted(const std::string& s) { return absl::StrCat("« ", s, " »"); }

// The phase in French, as the pre-reads and pep-audit's timelines say it.
inline std::string PhaseLabel(incv1::Phase p) { return portfolio::PhaseWord(p); }

inline const char* OutcomeLabel(incv1::CommitteeOutcome o) {
  switch (o) {
    case incv1::COMMITTEE_OUTCOME_GO: return "GO, passage à la phase suivante";
    case incv1::COMMITTEE_OUTCOME_STOP: return "arrêt";
    case incv1::COMMITTEE_OUTCOME_PIVOT: return "pivot";
    case incv1::COMMITTEE_OUTCOME_EXTEND: return "prolongation de la phase";
    default: return "décision enregistrée";
  }
}

inline const char* SatisfactionLabel(fv1::Satisfaction s) {
  switch (s) {
    case fv1::SATISFACTION_GOOD: return "satisfait";
    case fv1::SATISFACTION_MEDIUM: return "moyennement satisfait";
    case fv1::SATISFACTION_BAD: return "pas satisfait";
    default: return "sans avis";
  }
}

inline Planned Make(const char* rule, const std::string& to, const char* subject_type,
             const std::string& subject_id, std::string title, std::string body,
             std::string link) {
  Planned p;
  p.rule = rule;
  for (const Rule& r : Rules()) {
    if (p.rule == r.name) p.category = r.category;
  }
  p.recipient_id = to;
  p.subject_type = subject_type;
  p.subject_id = subject_id;
  p.title = std::move(title);
  p.body = std::move(body);
  p.link = std::move(link);
  return p;
}

}  // namespace pep::notify::internal
