// The rules table and what each rule says, in French.
#include "services/notify/notify_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/notify/v1/notify.pb.h"
#include "services/notify/notify_mail.h"
#include "services/notify/notify_words.h"

namespace pep::notify {

namespace {

using internal::Make;
using internal::OutcomeLabel;
using internal::PhaseLabel;
using internal::Quoted;
using internal::SatisfactionLabel;

namespace iv1 = ::pepiniere::ideas::v1;
namespace incv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;
namespace nv1 = ::pepiniere::notify::v1;

// The decision events of pep-ideas, told to the author with the jury's reasons.
// An idea's author, then its co-authors.
std::vector<std::string> Authors(const IdeaInfo& idea) {
  std::vector<std::string> out{idea.author_id};
  out.insert(out.end(), idea.coauthor_ids.begin(), idea.coauthor_ids.end());
  return out;
}

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
  std::vector<Planned> out;
  for (const auto& who : Authors(*idea)) {
    out.push_back(Make("idea_decision", who, "idea", idea_id,
                       absl::StrCat("Décision du jury sur votre idée ", Quoted(idea->title)), body,
                       absl::StrCat("/idees/", idea_id)));
  }
  return out;
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

const char* DecisionLabel(iv1::IdeaStatus outcome) {
  switch (outcome) {
    case iv1::IDEA_STATUS_SHORTLISTED: return "a été présélectionnée par le jury";
    case iv1::IDEA_STATUS_AWARDED: return "est récompensée par le jury";
    case iv1::IDEA_STATUS_REJECTED: return "n'a pas été retenue par le jury";
    case iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION:
      return "est retenue pour devenir une start-up publique";
    default: return nullptr;
  }
}

// What followers of an idea, a challenge or a start-up are told of an event. The texts say what
// happened, never the jury's reasons (those are the author's).
std::vector<Planned> ForFollowers(const events::Envelope& env, const std::string& payload,
                                  Directory& dir) {
  std::vector<Planned> out;
  auto tell = [&](const char* rule, const char* type, const std::string& id,
                  const std::string& title, const std::string& body, const std::string& link) {
    for (auto& who : dir.Followers(type, id)) {
      out.push_back(Make(rule, who, type, id, title, body, link));
    }
  };
  const std::string& t = env.type;
  if (t == "pepiniere.ideas.v1.IdeaShortlisted" || t == "pepiniere.ideas.v1.IdeaAwarded" ||
      t == "pepiniere.ideas.v1.IdeaRejected" || t == "pepiniere.ideas.v1.IdeaSelected") {
    iv1::IdeaAwarded ev;  // the four carry idea_id = 1, decision = 2
    if (!ev.ParseFromString(payload)) return out;
    auto idea = dir.Idea(ev.idea_id());
    const char* what = DecisionLabel(ev.decision().outcome());
    if (!idea || what == nullptr) return out;
    const std::string link = absl::StrCat("/idees/", idea->id);
    tell("followed_idea", "idea", idea->id,
         absl::StrCat("Décision du jury sur l'idée ", Quoted(idea->title)),
         absl::StrCat("L'idée ", Quoted(idea->title), ", que vous suivez, ", what, "."), link);
    const auto o = ev.decision().outcome();
    if (o == iv1::IDEA_STATUS_AWARDED || o == iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION) {
      auto c = dir.Challenge(idea->challenge_id);
      const std::string title = c ? c->title : idea->challenge_id;
      tell("followed_challenge", "challenge", idea->challenge_id,
           absl::StrCat("Défi ", Quoted(title), " : l'idée ", Quoted(idea->title), " ", what),
           absl::StrCat("Dans le défi ", Quoted(title), ", que vous suivez, l'idée ",
                        Quoted(idea->title), " ", what, "."),
           link);
    }
  } else if (t == "pepiniere.ideas.v1.IdeaCommented") {
    iv1::IdeaCommented ev;
    if (!ev.ParseFromString(payload)) return out;
    if (auto idea = dir.Idea(ev.comment().idea_id())) {
      tell("followed_idea", "idea", idea->id, absl::StrCat("Nouveau commentaire sur l'idée ", Quoted(idea->title)),
           absl::StrCat("L'idée ", Quoted(idea->title), ", que vous suivez, a reçu un commentaire."),
           absl::StrCat("/idees/", idea->id, "#comments"));
    }
  } else if (t == "pepiniere.ideas.v1.ChallengeOpened" || t == "pepiniere.ideas.v1.ChallengeClosed") {
    iv1::ChallengeOpened ev;  // both carry challenge_id = 1
    if (!ev.ParseFromString(payload)) return out;
    auto c = dir.Challenge(ev.challenge_id());
    if (!c) return out;
    const bool opened = t == "pepiniere.ideas.v1.ChallengeOpened";
    std::string body = absl::StrCat("Le défi ", Quoted(c->title), ", que vous suivez, ",
                                    opened ? "est ouvert : vous pouvez y déposer vos idées"
                                           : "est clos : le jury examine les idées déposées");
    if (opened && c->closes_at != absl::InfiniteFuture()) {
      absl::StrAppend(&body, " jusqu'au ", FrenchDate(c->closes_at));
    }
    absl::StrAppend(&body, ".");
    tell("followed_challenge", "challenge", c->id,
         absl::StrCat("Le défi ", Quoted(c->title), opened ? " est ouvert" : " est clos"), body,
         absl::StrCat("/defis/", c->id));
  } else if (t == "pepiniere.incubation.v1.StartupCreated") {
    incv1::StartupCreated ev;
    if (!ev.ParseFromString(payload) || ev.imported()) return out;
    auto idea = dir.Idea(env.correlation_id);
    if (!idea) return out;
    tell("followed_idea", "idea", idea->id,
         absl::StrCat("L'idée ", Quoted(idea->title), " devient une start-up publique"),
         absl::StrCat("L'idée ", Quoted(idea->title), ", que vous suivez, devient la start-up "
                      "publique ", Quoted(ev.startup().name()), "."),
         absl::StrCat("/startups/", ev.startup().id()));
  } else if (t == "pepiniere.incubation.v1.PhaseChanged") {
    incv1::PhaseChanged ev;
    if (!ev.ParseFromString(payload) || ev.imported()) return out;
    auto s = dir.Startup(ev.startup_id());
    if (!s) return out;
    tell("followed_startup", "startup", s->id,
         absl::StrCat(Quoted(s->name), " : phase ", PhaseLabel(ev.to())),
         absl::StrCat(Quoted(s->name), ", que vous suivez, passe en phase ", PhaseLabel(ev.to()),
                      " le ", FrenchDate(env.effective_time), "."),
         absl::StrCat("/startups/", s->id));
  } else if (t == "pepiniere.incubation.v1.CommitteeDecisionRecorded") {
    incv1::CommitteeDecisionRecorded ev;
    if (!ev.ParseFromString(payload)) return out;
    auto s = dir.Startup(ev.decision().startup_id());
    if (!s || ev.decision().outcome() == incv1::COMMITTEE_OUTCOME_UNSPECIFIED) return out;
    tell("followed_startup", "startup", s->id,
         absl::StrCat("Comité d'investissement : ", Quoted(s->name)),
         absl::StrCat("Le comité d'investissement a décidé pour ", Quoted(s->name),
                      ", que vous suivez : ", OutcomeLabel(ev.decision().outcome()), "."),
         absl::StrCat("/startups/", s->id));
  } else if (t == "pepiniere.incubation.v1.MilestonePushed") {
    incv1::MilestonePushed ev;
    if (!ev.ParseFromString(payload)) return out;
    auto s = dir.Startup(ev.milestone().startup_id());
    if (!s) return out;
    tell("followed_startup", "startup", s->id,
         absl::StrCat(Quoted(s->name), " : ", ev.milestone().title()),
         absl::StrCat(Quoted(s->name), ", que vous suivez, a publié un jalon : ",
                      Quoted(ev.milestone().title()), "."),
         absl::StrCat("/startups/", s->id));
  }
  return out;
}

}  // namespace

const std::vector<Category>& Categories() {
  static const auto* c = new std::vector<Category>{
      {"idees", "Mes idées (accusé de réception, décision du jury)", nv1::DELIVERY_IMMEDIATE},
      {"jury", "Jury (désignation, rappels avant la clôture)", nv1::DELIVERY_IMMEDIATE},
      {"startups", "Mes start-ups (phases, comités)", nv1::DELIVERY_DAILY},
      {"retours", "Retours des usagers", nv1::DELIVERY_WEEKLY},
      {"suivis", "Ce que je suis (idées, défis, start-ups)", nv1::DELIVERY_DAILY},
      {"pilotage", "Pilotage (synthèse du lundi pour la coordination)", nv1::DELIVERY_IMMEDIATE},
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
      {"idea_commented", "pepiniere.ideas.v1.IdeaCommented",
       "the idea's author (not the text: it stays in pep-ideas)", "idees"},
      {"idea_merged", "pepiniere.ideas.v1.IdeaMerged",
       "the merged idea's authors: co-authors of the one it joined, with the reasons", "idees"},
      {"clarification_asked", "pepiniere.ideas.v1.ClarificationRequested",
       "the idea's authors, with the question (its clock is stopped until they answer)", "idees"},
      {"clarification_answered", "pepiniere.ideas.v1.ClarificationAnswered",
       "whoever asked (not the answer: it is read in the console)", "jury"},
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
      {"committee_due", "clock",
       "the team, 30 days before its phase's expected end and once past it, unless a committee "
       "decided since the phase began",
       "startups"},
      {"no_milestone", "clock", "the team, once per gap of N months without a milestone",
       "startups"},
      {"envelope", "clock",
       "the team, once per envelope: when it runs out within 45 days at the current pace, and "
       "when payments go beyond it",
       "startups"},
      {"mission_ending", "clock", "the team, 15 and 2 days before a member's mission ends",
       "startups"},
      {"portfolio_weekly", "clock",
       "each coordinator, Mondays: overdue start-ups, ideas awaiting scores, red satisfaction "
       "bands, committee decisions not yet turned into phase changes",
       "pilotage"},
      {"followed_idea", "pepiniere.ideas.v1.IdeaShortlisted|IdeaAwarded|IdeaRejected|IdeaSelected|IdeaCommented, "
       "pepiniere.incubation.v1.StartupCreated",
       "the idea's followers", "suivis"},
      {"followed_challenge", "pepiniere.ideas.v1.ChallengeOpened|ChallengeClosed|IdeaAwarded|IdeaSelected",
       "the challenge's followers (of its ideas, only the awarded and selected ones are named)",
       "suivis"},
      {"followed_startup",
       "pepiniere.incubation.v1.PhaseChanged|CommitteeDecisionRecorded|MilestonePushed",
       "the start-up's followers", "suivis"},
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
    if (idea.awaiting_claim()) {  // a relais filed it: the relais holds it until its author signs in
      body = absl::StrCat("L'idée ", Quoted(idea.title()), " que vous avez déposée pour ", idea.author_name(),
                          " a bien été reçue le ", FrenchDate(env.effective_time), ".\n\nVous serez informé·e "
                          "de la décision du jury pour la lui transmettre, jusqu'à ce qu'elle ou il se connecte "
                          "avec l'adresse donnée : l'idée sera alors la sienne.");
    }
    // Told even when the author filed it themselves: the receipt is the point.
    out.push_back(Make("idea_received", idea.author_id(), "idea", idea.id(),
                       absl::StrCat(idea.awaiting_claim() ? "L'idée " : "Votre idée ", Quoted(idea.title()),
                                    " est bien reçue"), body,
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
  } else if (t == "pepiniere.ideas.v1.IdeaCommented") {
    // Not the text: it may be hidden later, and an e-mail cannot be taken back.
    iv1::IdeaCommented ev;
    if (!ev.ParseFromString(payload)) return out;
    auto idea = dir.Idea(ev.comment().idea_id());
    if (idea && !idea->author_id.empty()) {
      for (const auto& who : Authors(*idea)) {
        keep({Make("idea_commented", who, "idea", idea->id,
                   absl::StrCat("Nouveau commentaire sur votre idée ", Quoted(idea->title)),
                   absl::StrCat("Un·e collègue a commenté votre idée ", Quoted(idea->title),
                                ". Vous pouvez lui répondre dans la console."),
                   absl::StrCat("/idees/", idea->id, "#comments"))});
      }
    }
  } else if (t == "pepiniere.ideas.v1.IdeaMerged") {
    iv1::IdeaMerged ev;
    if (!ev.ParseFromString(payload)) return out;
    auto idea = dir.Idea(ev.idea_id());
    auto into = dir.Idea(ev.into_idea_id());
    if (!idea || !into) return out;
    for (const auto& who : Authors(*idea)) {
      keep({Make("idea_merged", who, "idea", into->id,
                 absl::StrCat("Votre idée ", Quoted(idea->title), " rejoint ", Quoted(into->title)),
                 absl::StrCat("Votre idée ", Quoted(idea->title), " a été regroupée avec l'idée ",
                              Quoted(into->title), " : vous en êtes co-auteur·e, ses soutiens la suivent "
                              "et le jury l'examine désormais avec elle.\n\nMotifs : ", ev.rationale()),
                 absl::StrCat("/idees/", into->id))});
    }
  } else if (t == "pepiniere.ideas.v1.ClarificationRequested") {
    iv1::ClarificationRequested ev;
    if (!ev.ParseFromString(payload)) return out;
    auto idea = dir.Idea(ev.idea_id());
    if (!idea || idea->author_id.empty()) return out;
    for (const auto& who : Authors(*idea)) {
      keep({Make("clarification_asked", who, "idea", idea->id,
                 absl::StrCat("Le jury vous demande une précision sur ", Quoted(idea->title)),
                 absl::StrCat("Question : ", ev.question(), "\n\nL'examen de votre idée est suspendu jusqu'à "
                              "votre réponse, que vous donnez dans la console ; vous pouvez aussi y "
                              "modifier votre idée."),
                 absl::StrCat("/idees/", idea->id, "#clarification"))});
    }
  } else if (t == "pepiniere.ideas.v1.ClarificationAnswered") {
    iv1::ClarificationAnswered ev;
    if (!ev.ParseFromString(payload) || ev.asked_by().empty()) return out;
    auto idea = dir.Idea(ev.idea_id());
    if (!idea) return out;
    keep({Make("clarification_answered", ev.asked_by(), "idea", idea->id,
               absl::StrCat("Réponse à votre question sur ", Quoted(idea->title)),
               absl::StrCat("Les auteurs de l'idée ", Quoted(idea->title), " ont répondu à votre "
                            "question. Son examen reprend."),
               absl::StrCat("/idees/", idea->id, "#clarification"))});
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
  // Followers, unless the event tells them already (an author following their own idea) or they
  // did it themselves.
  std::set<std::string> told{env.actor};
  for (const auto& p : out) told.insert(p.recipient_id);
  for (auto& p : ForFollowers(env, payload, dir)) {
    if (told.insert(p.recipient_id).second) out.push_back(std::move(p));
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
