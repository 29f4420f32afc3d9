#include "services/audit/audit_core.h"
#include "portfolio/preread.h"
#include "services/audit/record_reading.h"

#include <algorithm>
#include <cassert>
#include <tuple>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/gateway/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"

namespace pep::audit {

namespace av1 = pepiniere::audit::v1;
namespace iv1 = pepiniere::ideas::v1;
namespace nv1 = pepiniere::incubation::v1;
namespace fv1 = pepiniere::feedback::v1;
namespace gv1 = pepiniere::gateway::v1;

std::string ShortType(const std::string& ce_type) {
  const size_t dot = ce_type.rfind('.');
  return dot == std::string::npos ? ce_type : ce_type.substr(dot + 1);
}

std::string PhaseLabel(int phase) { return portfolio::PhaseWord(phase); }

namespace internal {

// Folds a start-up's phase events into its phase history: the initial phase (from
// StartupCreated), each PhaseChanged's period, a PhaseHistoryCorrected replacing the list.
void ApplyPhaseEvent(const LedgerRecord& r, const std::string& type,
                     std::vector<nv1::PhasePeriod>* phases) {
  if (type == "StartupCreated") {
    auto st = Parse<nv1::StartupCreated>(r).startup();
    phases->assign(st.phases().begin(), st.phases().end());
    if (phases->empty()) {
      nv1::PhasePeriod p;
      p.set_phase(st.phase());
      *p.mutable_start() = ToTimestamp(r.envelope.effective_time);
      phases->push_back(p);
    }
  } else if (type == "PhaseChanged") {
    auto ev = Parse<nv1::PhaseChanged>(r);
    nv1::PhasePeriod p;
    p.set_phase(ev.to());
    *p.mutable_start() =
        ev.has_effective_date() ? ev.effective_date() : ToTimestamp(r.envelope.effective_time);
    p.set_decision_id(ev.decision_id());
    phases->push_back(p);
  } else if (type == "PhaseHistoryCorrected") {
    auto ev = Parse<nv1::PhaseHistoryCorrected>(r);
    phases->assign(ev.phases().begin(), ev.phases().end());
  }
}

std::vector<const LedgerRecord*> InTimelineOrder(const std::vector<LedgerRecord>& records) {
  std::vector<const LedgerRecord*> order;
  order.reserve(records.size());
  for (const auto& r : records) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](const LedgerRecord* a, const LedgerRecord* b) {
    return TimelineKey::Of(*a) < TimelineKey::Of(*b);
  });
  return order;
}

}  // namespace internal

using namespace internal;  // the record readers of record_reading.h

namespace {

std::string Date(absl::Time t) { return absl::FormatTime("%d/%m/%Y", t, absl::UTCTimeZone()); }
std::string DayOf(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

std::string IdeaStatusLabel(int s) {
  switch (s) {
    case iv1::IDEA_STATUS_SUBMITTED: return "déposée";
    case iv1::IDEA_STATUS_SHORTLISTED: return "présélectionnée";
    case iv1::IDEA_STATUS_AWARDED: return "primée";
    case iv1::IDEA_STATUS_REJECTED: return "écartée";
    case iv1::IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION: return "retenue pour expérimentation";
    case iv1::IDEA_STATUS_WITHDRAWN: return "retirée";
    default: return "";
  }
}

std::string SatisfactionLabel(int s) {
  return s == fv1::SATISFACTION_GOOD ? "bonne" : s == fv1::SATISFACTION_MEDIUM ? "moyenne" : "mauvaise";
}

std::string AccessLabel(const std::string& role) {
  if (role == "coordinator") return "coordination de l'incubateur";
  if (role == "juror") return "juré du défi";
  if (role == "product_team") return "membre de l'équipe";
  return role;
}

std::string Score(double v) {  // French decimal comma, one decimal when needed
  std::string s = absl::StrFormat("%.1f", v);
  if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
  std::replace(s.begin(), s.end(), '.', ',');
  return s;
}

// What the timeline needs to know from other records to describe one.
struct Context {
  std::map<std::string, nv1::CommitteeDecision> decisions;
  std::map<std::string, std::string> member_names;
  std::map<std::string, int> idea_status;  // idea id -> status so far (timeline order)
  std::map<std::string, int> phase;        // start-up id -> phase so far
  std::map<std::string, std::string> startup_names;
  std::map<std::string, std::string> last_milestone;  // start-up id -> title so far

  explicit Context(const std::vector<LedgerRecord>& records) {
    for (const auto& r : records) {
      if (Is(r, "CommitteeDecisionRecorded")) {
        auto d = Parse<nv1::CommitteeDecisionRecorded>(r).decision();
        decisions[d.id()] = d;
      } else if (Is(r, "TeamMemberAdded")) {
        auto m = Parse<nv1::TeamMemberAdded>(r).member();
        member_names[m.id()] = m.name();
      } else if (Is(r, "StartupCreated")) {
        // Named first: a range-for over a member of a temporary reads freed memory (C++20).
        const auto created = Parse<nv1::StartupCreated>(r);
        for (const auto& m : created.startup().team()) {
          member_names[m.id()] = m.name();
        }
      }
    }
  }
};

// A team member's change (TeamMemberUpdated) in French words: the list's kinds and statuses as
// words, a mission without end as « sans fin prévue ».
struct TeamChange {
  std::string field, from, to;
};
TeamChange TeamChangeWords(const nv1::StartupFieldChange& c) {
  if (c.field() == "kind" || c.field() == "status") {
    const bool kind = c.field() == "kind";
    auto word = [kind](const std::string& name) {
      if (kind) {
        nv1::TeamRole r = nv1::TEAM_ROLE_UNSPECIFIED;
        return nv1::TeamRole_Parse(name, &r) ? portfolio::RoleWord(r) : name;
      }
      nv1::MemberStatus st = nv1::MEMBER_STATUS_UNSPECIFIED;
      return nv1::MemberStatus_Parse(name, &st) ? portfolio::StatusWord(st) : name;
    };
    return {kind ? "rôle" : "statut", word(c.old_value()), word(c.new_value())};
  }
  if (c.field() == "mission_end") {
    auto day = [](const std::string& v) { return v.empty() ? std::string("sans fin prévue") : v; };
    return {"fin de mission", day(c.old_value()), day(c.new_value())};
  }
  return {c.field() == "role" ? "intitulé" : c.field(), c.old_value(), c.new_value()};
}

void AddChange(av1::TimelineEntry* e, const std::string& field, const std::string& from,
               const std::string& to) {
  auto* c = e->add_changes();
  c->set_field(field);
  c->set_old_value(from);
  c->set_new_value(to);
}

// An edit event (IdeaEdited, StartupUpdated): each field change listed, the summary naming them.
template <typename Changes>
void FieldEdits(av1::TimelineEntry* e, const Changes& changes, const std::string& what) {
  std::vector<std::string> fields;
  for (const auto& c : changes) {
    fields.push_back(c.field());
    AddChange(e, c.field(), c.old_value(), c.new_value());
  }
  e->set_summary(absl::StrCat(what, " (", absl::StrJoin(fields, ", "), ")"));
}

void IdeaDecision(av1::TimelineEntry* e, Context& ctx, const std::string& idea_id,
                  const iv1::Decision& d, const std::string& what) {
  const int before = ctx.idea_status.count(idea_id) ? ctx.idea_status[idea_id] : 0;
  std::string s = what;
  if (!d.prize().empty()) absl::StrAppend(&s, " (", d.prize(), ")");
  if (!d.rationale().empty()) absl::StrAppend(&s, " : ", d.rationale());
  e->set_summary(s);
  AddChange(e, "statut", IdeaStatusLabel(before), IdeaStatusLabel(d.outcome()));
  ctx.idea_status[idea_id] = d.outcome();
}

// Fills summary and changes of one record's entry.
void Describe(const LedgerRecord& r, Context& ctx, av1::TimelineEntry* e) {
  const std::string t = ShortType(r.envelope.type);
  if (t == "ChallengeCreated") {
    e->set_summary(absl::StrCat("Défi créé : « ", Parse<iv1::ChallengeCreated>(r).challenge().title(), " »"));
  } else if (t == "ChallengeOpened") {
    e->set_summary("Défi ouvert aux dépôts d'idées");
    AddChange(e, "statut", "brouillon", "ouvert");
  } else if (t == "ChallengeClosed") {
    e->set_summary("Défi clos");
    AddChange(e, "statut", "ouvert", "clos");
  } else if (t == "JurorsAssigned") {
    auto ev = Parse<iv1::JurorsAssigned>(r);
    e->set_summary(absl::StrCat("Jury désigné : ", ev.juror_ids_size(), " membre(s)"));
    AddChange(e, "jury", "", absl::StrJoin(ev.juror_ids(), ", "));
  } else if (t == "JurorsRemoved") {
    auto ev = Parse<iv1::JurorsRemoved>(r);
    e->set_summary(absl::StrCat("Retiré(s) du jury : ", absl::StrJoin(ev.removed_juror_ids(), ", ")));
    AddChange(e, "jury", absl::StrJoin(ev.removed_juror_ids(), ", "), "");
  } else if (t == "IdeaSubmitted") {
    auto idea = Parse<iv1::IdeaSubmitted>(r).idea();
    std::string by = idea.author_name().empty() ? r.envelope.actor : idea.author_name();
    if (!idea.department().empty()) absl::StrAppend(&by, " (", idea.department(), ")");
    e->set_summary(absl::StrCat("Idée déposée par ", by, " : « ", idea.title(), " »"));
    AddChange(e, "statut", "", IdeaStatusLabel(iv1::IDEA_STATUS_SUBMITTED));
    ctx.idea_status[idea.id()] = iv1::IDEA_STATUS_SUBMITTED;
  } else if (t == "IdeaEdited") {
    FieldEdits(e, Parse<iv1::IdeaEdited>(r).changes(), "Idée modifiée");
  } else if (t == "IdeaWithdrawn") {
    auto ev = Parse<iv1::IdeaWithdrawn>(r);
    iv1::Decision d;
    d.set_outcome(iv1::IDEA_STATUS_WITHDRAWN);
    d.set_rationale(ev.reason());
    IdeaDecision(e, ctx, ev.idea_id(), d, "Idée retirée par son auteur");
  } else if (t == "IdeaScored") {
    auto ev = Parse<iv1::IdeaScored>(r);
    e->set_summary(absl::StrCat(ev.replaced_previous() ? "Évaluation révisée" : "Évaluation",
                                " du juré ", ev.scorecard().juror_id(), " : ",
                                Score(ev.scorecard().weighted_score()), "/5"));
    AddChange(e, absl::StrCat("note de ", ev.scorecard().juror_id()), "",
              Score(ev.scorecard().weighted_score()));
  } else if (t == "CoauthorInvited") {
    e->set_summary("Invitation d'un·e co-auteur·e");
  } else if (t == "CoauthorJoined") {
    e->set_summary("Un·e co-auteur·e rejoint l'idée");
  } else if (t == "ScorecardCommitted") {
    e->set_summary("Évaluation scellée d'un juré (son empreinte seule ; les notes à la levée des scellés)");
  } else if (t == "ScorecardRevealed") {
    iv1::Scorecard card;
    card.ParseFromString(Parse<iv1::ScorecardRevealed>(r).card());
    e->set_summary(absl::StrCat("Évaluation descellée du juré ", card.juror_id(), " : ",
                                Score(card.weighted_score()), "/5, conforme à son empreinte"));
    AddChange(e, absl::StrCat("note de ", card.juror_id()), "", Score(card.weighted_score()));
  } else if (t == "ScoresRevealed") {
    auto ev = Parse<iv1::ScoresRevealed>(r);
    e->set_summary(absl::StrCat("Notes du jury descellées ensemble : ", ev.scorecards(), " grille",
                                ev.scorecards() > 1 ? "s" : ""));
  } else if (t == "IdeaShortlisted") {
    auto ev = Parse<iv1::IdeaShortlisted>(r);
    IdeaDecision(e, ctx, ev.idea_id(), ev.decision(), "Idée présélectionnée par le jury");
  } else if (t == "IdeaAwarded") {
    auto ev = Parse<iv1::IdeaAwarded>(r);
    IdeaDecision(e, ctx, ev.idea_id(), ev.decision(), "Idée primée");
  } else if (t == "IdeaRejected") {
    auto ev = Parse<iv1::IdeaRejected>(r);
    IdeaDecision(e, ctx, ev.idea_id(), ev.decision(), "Idée écartée");
  } else if (t == "IdeaSelected") {
    auto ev = Parse<iv1::IdeaSelected>(r);
    IdeaDecision(e, ctx, ev.idea_id(), ev.decision(), "Idée retenue pour expérimentation");
  } else if (t == "ChallengeVisibilityChanged") {
    auto ev = Parse<iv1::ChallengeVisibilityChanged>(r);
    const bool all = ev.visibility() == iv1::VISIBILITY_AGENTS;
    e->set_summary(absl::StrCat("Idées du défi lisibles par ", all ? "tous les agents" : "le jury seulement",
                                ev.support_threshold() > 0
                                    ? absl::StrCat(" ; présélection à ", ev.support_threshold(), " soutiens")
                                    : "",
                                ev.blind_review() ? " ; jury à l'aveugle" : ""));
    AddChange(e, "visibilité", "", all ? "tous les agents" : "jury");
  } else if (t == "IdeaSupported" || t == "IdeaSupportWithdrawn") {
    auto ev = Parse<iv1::IdeaSupported>(r);  // the two carry idea_id, account_id, supports
    e->set_summary(absl::StrCat(t == "IdeaSupported" ? "Soutien d'un agent" : "Soutien retiré",
                                " (", ev.supports(), " au total)"));
    AddChange(e, "soutiens", "", absl::StrCat(ev.supports()));
  } else if (t == "ResultsScheduled") {
    auto ev = Parse<iv1::ResultsScheduled>(r);
    e->set_summary(absl::StrCat("Résultats du défi annoncés ensemble le ", Date(FromTimestamp(ev.results_at()))));
  } else if (t == "IdeaDecisionRecorded") {  // the outcome is published with the results, not before
    auto ev = Parse<iv1::IdeaDecisionRecorded>(r);
    e->set_summary(absl::StrCat("Décision du jury enregistrée, publiée avec les résultats du ",
                                Date(FromTimestamp(ev.results_at()))));
  } else if (t == "ResultsAnnounced") {
    auto ev = Parse<iv1::ResultsAnnounced>(r);
    e->set_summary(absl::StrCat("Résultats annoncés : ", ev.decisions(), " décision",
                                ev.decisions() > 1 ? "s publiées" : " publiée", " ensemble"));
  } else if (t == "ConflictDeclared") {
    auto ev = Parse<iv1::ConflictDeclared>(r);
    e->set_summary(absl::StrCat("Un juré se déporte (conflit d'intérêts)",
                                ev.had_scored() ? " : sa grille ne compte plus" : ""));
  } else if (t == "IdeaCommented") {  // what was said stays in pep-ideas' thread, not here
    auto ev = Parse<iv1::IdeaCommented>(r);
    e->set_summary(ev.comment().parent_id().empty() ? "Commentaire d'un agent" : "Réponse à un commentaire");
  } else if (t == "CommentEdited") {
    e->set_summary("Commentaire modifié par son auteur·e");
  } else if (t == "CommentReported") {
    auto ev = Parse<iv1::CommentReported>(r);
    e->set_summary(absl::StrCat("Commentaire signalé à la modération (", ev.reports(), " signalement",
                                ev.reports() > 1 ? "s" : "", ")"));
  } else if (t == "CommentHidden") {
    auto ev = Parse<iv1::CommentHidden>(r);
    e->set_summary(absl::StrCat("Commentaire masqué par la modération : ", ev.reason()));
  } else if (t == "StartupCreated") {
    auto ev = Parse<nv1::StartupCreated>(r);
    const auto& st = ev.startup();
    ctx.startup_names[st.id()] = st.name();
    ctx.phase[st.id()] = st.phase();
    e->set_summary(absl::StrCat("Start-up créée : ", st.name(),
                                ev.imported() ? " (reprise du portefeuille)" : "", ", en ",
                                PhaseLabel(st.phase())));
    AddChange(e, "phase", "", PhaseLabel(st.phase()));
  } else if (t == "StartupUpdated") {
    FieldEdits(e, Parse<nv1::StartupUpdated>(r).changes(), "Fiche mise à jour");
  } else if (t == "CommitteeDecisionRecorded") {
    auto d = Parse<nv1::CommitteeDecisionRecorded>(r).decision();
    std::string s = absl::StrCat("Comité du ", Date(FromTimestamp(d.date())), " : ",
                                 OutcomeName(d.outcome()));
    if (!d.rationale().empty()) absl::StrAppend(&s, " — ", d.rationale());
    e->set_summary(s);
  } else if (t == "PhaseChanged") {
    auto ev = Parse<nv1::PhaseChanged>(r);
    std::string s = absl::StrCat("Passage en ", PhaseLabel(ev.to()));
    auto d = ctx.decisions.find(ev.decision_id());
    if (d != ctx.decisions.end()) {
      absl::StrAppend(&s, " (comité du ", Date(FromTimestamp(d->second.date())), ", ",
                      OutcomeName(d->second.outcome()), ")");
    } else if (ev.imported()) {
      absl::StrAppend(&s, " (reprise du portefeuille)");
    }
    e->set_summary(s);
    AddChange(e, "phase", PhaseLabel(ev.from()), PhaseLabel(ev.to()));
    ctx.phase[ev.startup_id()] = ev.to();
  } else if (t == "PhaseHistoryCorrected") {
    auto ev = Parse<nv1::PhaseHistoryCorrected>(r);
    e->set_summary(absl::StrCat("Historique des phases corrigé (", ev.phases_size(), " périodes)"));
    if (ev.phases_size() > 0) {
      const int before = ctx.phase.count(ev.startup_id()) ? ctx.phase[ev.startup_id()] : 0;
      const int after = ev.phases(ev.phases_size() - 1).phase();
      if (before != after) AddChange(e, "phase", PhaseLabel(before), PhaseLabel(after));
      ctx.phase[ev.startup_id()] = after;
    }
  } else if (t == "MilestonePushed") {
    auto m = Parse<nv1::MilestonePushed>(r).milestone();
    e->set_summary(absl::StrCat("Jalon : ", m.title()));
    AddChange(e, "dernier jalon", ctx.last_milestone[m.startup_id()], m.title());
    ctx.last_milestone[m.startup_id()] = m.title();
  } else if (t == "TeamMemberAdded") {
    auto ev = Parse<nv1::TeamMemberAdded>(r);
    std::string s = absl::StrCat("Arrivée dans l'équipe : ", ev.member().name());
    if (!ev.member().role().empty()) absl::StrAppend(&s, " (", ev.member().role(), ")");
    e->set_summary(s);
    AddChange(e, "équipe", "", ev.member().name());
  } else if (t == "TeamMemberUpdated") {
    auto ev = Parse<nv1::TeamMemberUpdated>(r);
    std::vector<std::string> words;
    for (const auto& c : ev.changes()) {
      const TeamChange w = TeamChangeWords(c);
      AddChange(e, w.field, w.from, w.to);
      words.push_back(absl::StrCat(w.field, " : ", w.from.empty() ? "—" : w.from, " → ", w.to.empty() ? "—" : w.to));
    }
    e->set_summary(absl::StrCat("Équipe : ", ev.member().name(), " (", absl::StrJoin(words, " ; "), ")"));
  } else if (t == "TeamMemberRemoved") {
    auto ev = Parse<nv1::TeamMemberRemoved>(r);
    auto n = ctx.member_names.find(ev.member_id());
    const std::string name = n == ctx.member_names.end() ? ev.member_id() : n->second;
    e->set_summary(absl::StrCat("Départ de l'équipe : ", name));
    AddChange(e, "équipe", name, "");
  } else if (t == "KpiDefined") {
    auto k = Parse<nv1::KpiDefined>(r).kpi();
    e->set_summary(absl::StrCat("Indicateur défini : ", k.name(), k.north_star() ? " (étoile du Nord)" : "",
                                k.targets_size() > 0 ? absl::StrCat(", ", k.targets_size(), " cible(s)") : ""));
  } else if (t == "KpiPointRecorded") {
    auto pt = Parse<nv1::KpiPointRecorded>(r).point();
    e->set_summary(absl::StrCat("Mesure de l'indicateur ", pt.kpi(), " : ", portfolio::FrenchNumber(pt.value())));
  } else if (t == "CommitteeScheduled") {
    auto ev = Parse<nv1::CommitteeScheduled>(r);
    e->set_summary(absl::StrCat("Comité programmé le ", Date(FromTimestamp(ev.date())), " : ", ev.title(), " (",
                                ev.startup_ids_size(), " start-up(s) à l'ordre du jour)"));
  } else if (t == "CommitteeAskSubmitted") {
    auto ev = Parse<nv1::CommitteeAskSubmitted>(r);
    e->set_summary(absl::StrCat("Demande de l'équipe au comité du ", Date(FromTimestamp(ev.meeting_date())),
                                ev.ask().envelope_eur() > 0
                                    ? absl::StrCat(" : ", portfolio::FrenchNumber(static_cast<double>(ev.ask().envelope_eur())), " €")
                                    : ""));
  } else if (t == "PreReadIssued") {
    auto ev = Parse<nv1::PreReadIssued>(r);
    e->set_summary(absl::StrCat("Pré-lecture établie pour le comité « ", ev.meeting_title(), " » du ",
                                Date(FromTimestamp(ev.meeting_date())), " (empreinte ", ev.sha256().substr(0, 12), "…)"));
  } else if (t == "SteeringBaseline") {
    e->set_summary("État de référence pour les pré-lectures des comités");
  } else if (t == "FeedbackReceived") {
    auto f = Parse<fv1::FeedbackReceived>(r).feedback();
    e->set_summary(absl::StrCat("Avis usager : satisfaction ", SatisfactionLabel(f.satisfaction()),
                                f.pii_masked() ? " (données personnelles masquées)" : ""));
  } else if (t == "FeedbackModerated") {
    auto ev = Parse<fv1::FeedbackModerated>(r);
    e->set_summary(absl::StrCat("Avis masqué par la modération : ", ev.reason()));
    AddChange(e, "verbatim", "visible", "masqué");
  } else if (t == "AccountCreated") {
    auto ev = Parse<gv1::AccountCreated>(r);
    e->set_summary(absl::StrCat("Compte créé à la première connexion : ", ev.display_name(),
                                ev.organisation().empty() ? "" : absl::StrCat(" (", ev.organisation(), ")")));
  } else if (t == "RoleGranted") {
    auto ev = Parse<gv1::RoleGranted>(r);
    e->set_summary(absl::StrCat("Accès accordé à ", ev.display_name(), " : ", AccessLabel(ev.role()),
                                ev.reason().empty() ? "" : absl::StrCat(" (", ev.reason(), ")")));
    AddChange(e, absl::StrCat("accès de ", ev.display_name()), "", AccessLabel(ev.role()));
  } else if (t == "RoleRevoked") {
    auto ev = Parse<gv1::RoleRevoked>(r);
    e->set_summary(absl::StrCat("Accès retiré à ", ev.display_name(), " : ", AccessLabel(ev.role())));
    AddChange(e, absl::StrCat("accès de ", ev.display_name()), AccessLabel(ev.role()), "");
  } else if (t == "TokenCreated") {
    auto ev = Parse<gv1::TokenCreated>(r);
    e->set_summary(absl::StrCat("Jeton d'accès créé : « ", ev.name(), " » (", ev.role(),
                                ", jusqu'au ", Date(FromTimestamp(ev.expires_at())), ")"));
  } else if (t == "TokenRevoked") {
    auto ev = Parse<gv1::TokenRevoked>(r);
    e->set_summary(absl::StrCat("Jeton d'accès révoqué : « ", ev.name(), " »"));
  } else {
    e->set_summary(absl::StrCat("Événement ", t));
  }
}

}  // namespace

struct TimelineBuilder::Days {
  struct Day {
    TimelineKey first, last;  // the day's entry sits where its first answer would
    std::string aggregate_id;  // the product, from the first answer
    FeedbackTally tally;
  };
  std::map<std::string, Day> by_date;  // "YYYY-MM-DD" (UTC)
};

TimelineBuilder::TimelineBuilder(std::string subject, bool individual_feedback,
                                 size_t max_individual)
    : subject_(std::move(subject)),
      individual_(individual_feedback),
      max_individual_(max_individual),
      days_(std::make_unique<Days>()) {}

TimelineBuilder::~TimelineBuilder() = default;

absl::Status TimelineBuilder::Add(LedgerRecord r) {
  if (Is(r, "FeedbackReceived")) {
    if (individual_) {
      if (++individual_count_ > max_individual_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "individual_feedback: this lineage has more than ", max_individual_,
            " answers to list one by one; ask for the daily aggregates, or export the answers"));
      }
      kept_.push_back(std::move(r));
      return absl::OkStatus();
    }
    const fv1::Feedback f = Parse<fv1::FeedbackReceived>(r).feedback();
    const TimelineKey key = TimelineKey::Of(r);
    auto [it, fresh] = days_->by_date.try_emplace(DayOf(r.envelope.effective_time));
    Days::Day& d = it->second;
    if (fresh || key < d.first) {
      d.first = key;
      d.aggregate_id = f.startup_id();
    }
    if (fresh || d.last < key) d.last = key;
    d.tally.Add(f);
    return absl::OkStatus();
  }
  kept_.push_back(std::move(r));
  return absl::OkStatus();
}

av1::Timeline TimelineBuilder::Build() {
  av1::Timeline out;
  out.set_subject(subject_);
  Context ctx(kept_);
  struct Item {
    TimelineKey key;
    const LedgerRecord* record;  // or
    const std::pair<const std::string, Days::Day>* day;
  };
  std::vector<Item> items;
  items.reserve(kept_.size() + days_->by_date.size());
  for (const auto& r : kept_) items.push_back({TimelineKey::Of(r), &r, nullptr});
  for (const auto& d : days_->by_date) items.push_back({d.second.first, nullptr, &d});
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.key < b.key; });
  for (const Item& item : items) {
    auto* e = out.add_entries();
    if (item.day) {
      const std::string& day = item.day->first;
      const Days::Day& d = item.day->second;
      e->set_type("FeedbackDaily");
      e->set_log_index(-1);
      e->set_aggregate_id(d.aggregate_id);
      absl::Time start;
      absl::ParseTime("%Y-%m-%d", day, absl::UTCTimeZone(), &start, nullptr);
      *e->mutable_effective_time() = ToTimestamp(start);
      *e->mutable_recorded_time() = ToTimestamp(d.last.recorded);
      const av1::FeedbackScores s = d.tally.Scores();
      auto* fd = e->mutable_feedback_day();
      fd->set_date(day);
      fd->set_answers(s.answers());
      fd->set_satisfaction_score(s.satisfaction_score());
      e->set_summary(absl::StrCat("Avis usagers du ", day.substr(8, 2), "/", day.substr(5, 2),
                                  "/", day.substr(0, 4), " : ", s.answers(),
                                  s.answers() > 1 ? " réponses" : " réponse",
                                  ", satisfaction ", Score(s.satisfaction_score()), "/10"));
      continue;
    }
    const LedgerRecord* r = item.record;
    e->set_ce_id(r->envelope.id);
    e->set_type(ShortType(r->envelope.type));
    e->set_aggregate_id(r->envelope.subject);
    e->set_actor(r->envelope.actor);
    *e->mutable_effective_time() = ToTimestamp(r->envelope.effective_time);
    *e->mutable_recorded_time() = ToTimestamp(r->envelope.time);
    e->set_subject_seq(r->subject_seq);
    e->set_hash(Hex(r->leaf));
    e->set_log_index(r->log_index);
    Describe(*r, ctx, e);
  }
  return out;
}

av1::Timeline BuildTimeline(const std::string& subject, const std::vector<LedgerRecord>& records,
                            bool individual_feedback) {
  TimelineBuilder b(subject, individual_feedback, records.size());
  for (const auto& r : records) {
    absl::Status s = b.Add(r);
    assert(s.ok());  // the cap is the number of records: it cannot be passed
    (void)s;
  }
  return b.Build();
}

void WithholdJuryDetail(av1::Timeline& timeline) {
  for (av1::TimelineEntry& e : *timeline.mutable_entries()) {
    if (e.type() != "IdeaScored" && e.type() != "ScorecardRevealed") continue;
    e.clear_actor();
    e.clear_actor_name();
    e.clear_changes();
    e.set_summary("Évaluation d'un juré (le détail est réservé au jury et aux coordinateurs)");
  }
}

void WithholdJuryDetail(av1::Lineage& lineage) {
  if (lineage.has_idea()) lineage.mutable_idea()->clear_scores();
}

}  // namespace pep::audit
