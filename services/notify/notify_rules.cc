// The rules table and what each rule says, in French.
#include "services/notify/notify_rules.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/notify/v1/notify.pb.h"
#include "services/notify/notify_mail.h"

namespace pep::notify {

namespace {

namespace iv1 = ::pepiniere::ideas::v1;
namespace incv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;
namespace nv1 = ::pepiniere::notify::v1;

std::string Quoted(const std::string& s) { return absl::StrCat("« ", s, " »"); }

const char* PhaseLabel(incv1::Phase p) {
  switch (p) {
    case incv1::PHASE_INVESTIGATION: return "investigation";
    case incv1::PHASE_CONSTRUCTION: return "construction";
    case incv1::PHASE_ACCELERATION: return "accélération";
    case incv1::PHASE_CONSOLIDATION: return "consolidation";
    case incv1::PHASE_TRANSFERRED: return "transférée";
    case incv1::PHASE_OPERATED: return "opérée";
    case incv1::PHASE_ABANDONED_IN_INVESTIGATION: return "abandonnée (investigation)";
    case incv1::PHASE_ABANDONED: return "abandonnée";
    default: return "inconnue";
  }
}

const char* OutcomeLabel(incv1::CommitteeOutcome o) {
  switch (o) {
    case incv1::COMMITTEE_OUTCOME_GO: return "GO, passage à la phase suivante";
    case incv1::COMMITTEE_OUTCOME_STOP: return "arrêt";
    case incv1::COMMITTEE_OUTCOME_PIVOT: return "pivot";
    case incv1::COMMITTEE_OUTCOME_EXTEND: return "prolongation de la phase";
    default: return "décision enregistrée";
  }
}

const char* SatisfactionLabel(fv1::Satisfaction s) {
  switch (s) {
    case fv1::SATISFACTION_GOOD: return "satisfait";
    case fv1::SATISFACTION_MEDIUM: return "moyennement satisfait";
    case fv1::SATISFACTION_BAD: return "pas satisfait";
    default: return "sans avis";
  }
}

Planned Make(const char* rule, const std::string& to, const char* subject_type,
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

// The decision events of pep-ideas, told to the author with the jury's reasons.
std::vector<Planned> Decision(const std::string& idea_id, const iv1::Decision& d, Directory& dir) {
  auto idea = dir.Idea(idea_id);
  if (!idea || idea->author_id.empty()) return {};
  std::string what;
  switch (d.outcome()) {
    case iv1::IDEA_STATUS_SHORTLISTED: what = "a été présélectionnée par le jury"; break;
    case iv1::IDEA_STATUS_AWARDED:
      what = d.prize().empty() ? std::string("est récompensée par le jury")
                               : absl::StrCat("est récompensée par le jury : ", d.prize());
      break;
    case iv1::IDEA_STATUS_REJECTED: what = "n'a pas été retenue par le jury"; break;
    case iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION:
      what = "est retenue pour devenir une start-up publique";
      break;
    default: return {};
  }
  std::string body = absl::StrCat("Votre idée ", Quoted(idea->title), " ", what, ".");
  if (!d.rationale().empty()) absl::StrAppend(&body, "\n\nMotifs du jury : ", d.rationale());
  return {Make("idea_decision", idea->author_id, "idea", idea_id,
               absl::StrCat("Décision du jury sur votre idée ", Quoted(idea->title)), body,
               absl::StrCat("/idees/", idea_id))};
}

// The start-up's team and, when it came from an idea, the idea's author; once each.
std::vector<std::string> StartupPeople(const StartupInfo& s, Directory& dir, bool with_author) {
  std::vector<std::string> out = dir.Team(s.id);
  if (with_author && !s.idea_id.empty()) {
    if (auto idea = dir.Idea(s.idea_id); idea && !idea->author_id.empty()) {
      out.push_back(idea->author_id);
    }
  }
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (auto& a : out) {
    if (seen.insert(a).second) unique.push_back(std::move(a));
  }
  return unique;
}

}  // namespace

const std::vector<Category>& Categories() {
  static const auto* c = new std::vector<Category>{
      {"idees", "Mes idées (accusé de réception, décision du jury)", nv1::DELIVERY_IMMEDIATE},
      {"jury", "Jury (désignation, rappels avant la clôture)", nv1::DELIVERY_IMMEDIATE},
      {"startups", "Mes start-ups (phases, comités)", nv1::DELIVERY_DAILY},
      {"retours", "Retours des usagers", nv1::DELIVERY_WEEKLY},
  };
  return *c;
}

const Category* FindCategory(const std::string& name) {
  for (const auto& c : Categories()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

const std::vector<Rule>& Rules() {
  static const auto* r = new std::vector<Rule>{
      {"idea_received", "pepiniere.ideas.v1.IdeaSubmitted", "the idea's author", "idees"},
      {"idea_decision", "pepiniere.ideas.v1.IdeaShortlisted|IdeaAwarded|IdeaRejected|IdeaSelected",
       "the idea's author, with the jury's reasons", "idees"},
      {"idea_became_startup", "pepiniere.incubation.v1.StartupCreated",
       "the author of the idea it came from", "idees"},
      {"startup_phase", "pepiniere.incubation.v1.PhaseChanged",
       "the team, and the author of the idea it came from", "startups"},
      {"committee_decision", "pepiniere.incubation.v1.CommitteeDecisionRecorded", "the team",
       "startups"},
      {"juror_assigned", "pepiniere.ideas.v1.JurorsAssigned", "the jurors added", "jury"},
      {"jury_closing", "clock", "each juror with ideas left to score, 2 days before closing",
       "jury"},
      {"new_feedback", "pepiniere.feedback.v1.FeedbackReceived", "the team", "retours"},
  };
  return *r;
}

std::string FrenchDate(absl::Time t) {
  static const char* kMonths[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                  "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
  const absl::CivilDay d = absl::ToCivilDay(t, ParisTime());
  return absl::StrCat(d.day() == 1 ? "1er" : absl::StrCat(d.day()), " ", kMonths[d.month() - 1],
                      " ", d.year());
}

std::vector<Planned> ForEvent(const events::Envelope& env, const std::string& payload,
                              Directory& dir) {
  std::vector<Planned> out;
  auto keep = [&](std::vector<Planned> more) {
    for (auto& p : more) {
      if (p.recipient_id != env.actor) out.push_back(std::move(p));
    }
  };
  const std::string& t = env.type;
  if (t == "pepiniere.ideas.v1.IdeaSubmitted") {
    iv1::IdeaSubmitted ev;
    if (!ev.ParseFromString(payload)) return out;
    const auto& idea = ev.idea();
    if (idea.author_id().empty()) return out;
    std::string challenge;
    if (auto c = dir.Challenge(idea.challenge_id())) challenge = c->title;
    std::string body = absl::StrCat("Votre idée ", Quoted(idea.title()), " a bien été reçue le ",
                                    FrenchDate(env.effective_time));
    if (!challenge.empty()) absl::StrAppend(&body, " dans le défi ", Quoted(challenge));
    absl::StrAppend(&body, ".\n\nLe jury l'examinera ; vous serez informé·e de sa décision et "
                           "de ses motifs.");
    // Told even when the author filed it themselves: the receipt is the point.
    out.push_back(Make("idea_received", idea.author_id(), "idea", idea.id(),
                       absl::StrCat("Votre idée ", Quoted(idea.title()), " est bien reçue"), body,
                       absl::StrCat("/idees/", idea.id())));
  } else if (t == "pepiniere.ideas.v1.IdeaShortlisted") {
    iv1::IdeaShortlisted ev;
    if (ev.ParseFromString(payload)) keep(Decision(ev.idea_id(), ev.decision(), dir));
  } else if (t == "pepiniere.ideas.v1.IdeaAwarded") {
    iv1::IdeaAwarded ev;
    if (ev.ParseFromString(payload)) keep(Decision(ev.idea_id(), ev.decision(), dir));
  } else if (t == "pepiniere.ideas.v1.IdeaRejected") {
    iv1::IdeaRejected ev;
    if (ev.ParseFromString(payload)) keep(Decision(ev.idea_id(), ev.decision(), dir));
  } else if (t == "pepiniere.ideas.v1.IdeaSelected") {
    iv1::IdeaSelected ev;
    if (ev.ParseFromString(payload)) keep(Decision(ev.idea_id(), ev.decision(), dir));
  } else if (t == "pepiniere.ideas.v1.JurorsAssigned") {
    iv1::JurorsAssigned ev;
    if (!ev.ParseFromString(payload)) return out;
    auto c = dir.Challenge(ev.challenge_id());
    const std::string title = c ? c->title : ev.challenge_id();
    std::string body = absl::StrCat("Vous êtes désigné·e membre du jury du défi ", Quoted(title),
                                    ".");
    if (c && c->closes_at != absl::InfiniteFuture()) {
      absl::StrAppend(&body, " Le défi se clôt le ", FrenchDate(c->closes_at),
                      " ; les idées déposées vous attendent dans la console.");
    }
    for (const auto& j : ev.added_juror_ids()) {
      keep({Make("juror_assigned", j, "challenge", ev.challenge_id(),
                 absl::StrCat("Vous êtes membre du jury du défi ", Quoted(title)), body, "/jury")});
    }
  } else if (t == "pepiniere.incubation.v1.StartupCreated") {
    incv1::StartupCreated ev;
    if (!ev.ParseFromString(payload) || ev.imported()) return out;
    auto idea = dir.Idea(env.correlation_id);
    if (!idea || idea->author_id.empty()) return out;
    out.push_back(Make(
        "idea_became_startup", idea->author_id, "startup", ev.startup().id(),
        absl::StrCat("Votre idée devient la start-up publique ", Quoted(ev.startup().name())),
        absl::StrCat("Votre idée ", Quoted(idea->title), " devient la start-up publique ",
                     Quoted(ev.startup().name()), ", en phase d'investigation.\n\nVous pouvez "
                     "suivre sa vie dans la console."),
        absl::StrCat("/startups/", ev.startup().id())));
  } else if (t == "pepiniere.incubation.v1.PhaseChanged") {
    incv1::PhaseChanged ev;
    if (!ev.ParseFromString(payload) || ev.imported()) return out;
    auto s = dir.Startup(ev.startup_id());
    if (!s) return out;
    std::string body = absl::StrCat(Quoted(s->name), " passe de la phase ", PhaseLabel(ev.from()),
                                    " à la phase ", PhaseLabel(ev.to()), " le ",
                                    FrenchDate(env.effective_time), ".");
    if (!ev.comment().empty()) absl::StrAppend(&body, "\n\n", ev.comment());
    for (const auto& who : StartupPeople(*s, dir, /*with_author=*/true)) {
      keep({Make("startup_phase", who, "startup", s->id,
                 absl::StrCat(Quoted(s->name), " : phase ", PhaseLabel(ev.to())), body,
                 absl::StrCat("/startups/", s->id))});
    }
  } else if (t == "pepiniere.incubation.v1.CommitteeDecisionRecorded") {
    incv1::CommitteeDecisionRecorded ev;
    if (!ev.ParseFromString(payload)) return out;
    const auto& d = ev.decision();
    auto s = dir.Startup(d.startup_id());
    if (!s || d.outcome() == incv1::COMMITTEE_OUTCOME_UNSPECIFIED) return out;  // imported
    std::string body = absl::StrCat("Le comité d'investissement a décidé pour ", Quoted(s->name),
                                    " : ", OutcomeLabel(d.outcome()), ".");
    if (!d.rationale().empty()) absl::StrAppend(&body, "\n\nMotifs : ", d.rationale());
    for (const auto& who : StartupPeople(*s, dir, /*with_author=*/false)) {
      keep({Make("committee_decision", who, "startup", s->id,
                 absl::StrCat("Comité d'investissement : ", Quoted(s->name)), body,
                 absl::StrCat("/startups/", s->id))});
    }
  } else if (t == "pepiniere.feedback.v1.FeedbackReceived") {
    fv1::FeedbackReceived ev;
    if (!ev.ParseFromString(payload)) return out;
    auto s = dir.Startup(ev.feedback().startup_id());
    if (!s) return out;
    // The verbatim stays in pep-feedback (masked there); the message says only that it came.
    const std::string body = absl::StrCat(
        "Un usager a répondu au questionnaire de ", Quoted(s->name), " : ",
        SatisfactionLabel(ev.feedback().satisfaction()), ".",
        ev.feedback().verbatim().empty() ? "" : " Son commentaire est à lire dans la console.");
    for (const auto& who : StartupPeople(*s, dir, /*with_author=*/false)) {
      out.push_back(Make("new_feedback", who, "startup", s->id,
                         absl::StrCat("Nouveau retour d'usager sur ", Quoted(s->name)), body,
                         absl::StrCat("/startups/", s->id)));
    }
  }
  return out;
}

std::vector<Reminder> JuryClosing(const ChallengeInfo& c, absl::Time now, absl::Duration window,
                                  Directory& dir) {
  std::vector<Reminder> out;
  if (!c.open || c.closes_at == absl::InfiniteFuture() || c.closes_at <= now ||
      c.closes_at - now > window) {
    return out;
  }
  const std::string period = absl::FormatTime("%Y-%m-%d", c.closes_at, absl::UTCTimeZone());
  for (const auto& j : c.juror_ids) {
    const int left = dir.UnscoredBy(c.id, j);
    if (left <= 0) continue;
    const std::string ideas = left == 1 ? "1 idée" : absl::StrCat(left, " idées");
    out.push_back({Make("jury_closing", j, "challenge", c.id,
                        absl::StrCat("Le défi ", Quoted(c.title), " se clôt le ",
                                     FrenchDate(c.closes_at), " : ", ideas, " à évaluer"),
                        absl::StrCat("Il vous reste ", ideas, " à évaluer dans le défi ",
                                     Quoted(c.title), ", qui se clôt le ", FrenchDate(c.closes_at),
                                     ".\n\nVos notes comptent pour le quorum du jury."),
                        "/jury"),
                   period});
  }
  return out;
}

}  // namespace pep::notify
