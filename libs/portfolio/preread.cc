#include "portfolio/preread.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/proto_time.h"
#include "portfolio/budget.h"
#include "tlog/merkle.h"

namespace pep::portfolio {

namespace {

absl::Time At(const google::protobuf::Timestamp& ts) { return FromTimestamp(ts); }

std::string Day(absl::Time t) { return absl::FormatTime("%d/%m/%Y", t, absl::UTCTimeZone()); }
std::string Day(const google::protobuf::Timestamp& ts) { return Day(At(ts)); }

// People's words kept on one line of the document (a line break in a title would start a
// paragraph or a list of its own).
std::string Line(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

template <typename T>
absl::Status ParseInto(T* m, std::string_view type, std::string_view payload) {
  if (!m->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("payload of ", std::string(type), " does not parse"));
  }
  return absl::OkStatus();
}

void OpenPhase(SteeringState& s, incv1::Phase to, const google::protobuf::Timestamp& at,
               const std::string& decision_id) {
  if (!s.phases.empty() && !s.phases.back().has_end()) *s.phases.back().mutable_end() = at;
  incv1::PhasePeriod p;
  p.set_phase(to);
  *p.mutable_start() = at;
  p.set_decision_id(decision_id);
  s.phases.push_back(std::move(p));
  s.phase = to;
}

void FromStartup(SteeringState& s, const incv1::Startup& st) {
  s.startup_id = st.id();
  s.name = st.name();
  s.slug = st.slug();
  s.phase = st.phase();
  s.phases.assign(st.phases().begin(), st.phases().end());
  s.members.clear();
  for (const auto& m : st.team()) {
    incv1::TeamMember copy = m;
    copy.clear_email();
    s.members[m.id()] = std::move(copy);
  }
}

const incv1::CommitteeDecision* LastDecisionBefore(const SteeringState& s, absl::Time before,
                                                   const std::string& meeting_id) {
  const incv1::CommitteeDecision* last = nullptr;
  for (const auto& d : s.decisions) {
    if (!meeting_id.empty() && d.meeting_id() == meeting_id) continue;
    if (At(d.date()) >= before) continue;
    if (last == nullptr || At(d.date()) >= At(last->date())) last = &d;
  }
  return last;
}

std::string Unit(const incv1::KpiDefinition* k) {
  return k == nullptr || k->unit().empty() ? "" : absl::StrCat(" ", Line(k->unit()));
}

std::string StatusWord(ObjectiveStatus st) {
  switch (st) {
    case ObjectiveStatus::kNoIndicator: return "à apprécier par le comité";
    case ObjectiveStatus::kNoMeasure: return "aucune mesure";
    case ObjectiveStatus::kReached: return "atteint";
    case ObjectiveStatus::kInProgress: return "en cours";
    case ObjectiveStatus::kMissed: return "non atteint";
  }
  return "";
}

void Objectives(std::string& out, const SteeringState& s,
                const google::protobuf::RepeatedPtrField<incv1::Objective>& objectives,
                absl::Time at) {
  for (const auto& o : objectives) {
    auto k = s.kpis.find(o.kpi());
    const incv1::KpiDefinition* def = k == s.kpis.end() ? nullptr : &k->second;
    std::string what = !o.text().empty() ? Line(o.text()) : def ? Line(def->name()) : Line(o.kpi());
    if (o.kpi().empty()) {
      absl::StrAppend(&out, "- ", what, " — ", StatusWord(ObjectiveStatus::kNoIndicator), "\n");
      continue;
    }
    absl::StrAppend(&out, "- ", what, " : cible ", FrenchNumber(o.target()), Unit(def));
    if (o.has_by()) absl::StrAppend(&out, " au ", Day(o.by()));
    const ObjectiveJudgement j = JudgeObjective(s, o, at);
    if (j.status == ObjectiveStatus::kNoMeasure || j.status == ObjectiveStatus::kNoIndicator) {
      absl::StrAppend(&out, " — ", j.status == ObjectiveStatus::kNoIndicator
                                       ? absl::StrCat("indicateur « ", o.kpi(), " » inconnu")
                                       : StatusWord(j.status), "\n");
      continue;
    }
    absl::StrAppend(&out, " — mesuré ", FrenchNumber(j.value), Unit(def), " le ", Day(j.measured_at),
                    " — ", StatusWord(j.status));
    if (j.status != ObjectiveStatus::kReached) {
      absl::StrAppend(&out, " (écart ", FrenchNumber(j.gap), Unit(def), ")");
    }
    absl::StrAppend(&out, "\n");
  }
}

}  // namespace

absl::Status SteeringFold::Add(std::string_view type, std::string_view payload) {
  const size_t dot = type.rfind('.');
  const std::string_view t = dot == std::string_view::npos ? type : type.substr(dot + 1);
  if (t == "StartupCreated") {
    incv1::StartupCreated ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    FromStartup(s_, ev.startup());
  } else if (t == "SteeringBaseline") {
    incv1::SteeringBaseline ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    const SteeringState keep = s_;
    s_ = SteeringState{};
    FromStartup(s_, ev.details().startup());
    s_.decisions.assign(ev.details().decisions().begin(), ev.details().decisions().end());
    s_.milestones.assign(ev.details().milestones().begin(), ev.details().milestones().end());
    // What the journal already held (an indicator defined after the migration but before the
    // baseline was written) stays.
    s_.kpis = keep.kpis;
    s_.points = keep.points;
    s_.asks = keep.asks;
    s_.budget_entries = keep.budget_entries;
    s_.budget = ev.details().startup().budget();
  } else if (t == "StartupUpdated") {
    incv1::StartupUpdated ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    for (const auto& c : ev.changes()) {
      if (c.field() == "name") s_.name = c.new_value();
    }
  } else if (t == "PhaseChanged") {
    incv1::PhaseChanged ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    OpenPhase(s_, ev.to(), ev.effective_date(), ev.decision_id());
  } else if (t == "PhaseHistoryCorrected") {
    incv1::PhaseHistoryCorrected ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    s_.phases.assign(ev.phases().begin(), ev.phases().end());
    if (!s_.phases.empty()) s_.phase = s_.phases.back().phase();
  } else if (t == "MilestonePushed") {
    incv1::MilestonePushed ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    s_.milestones.push_back(ev.milestone());
  } else if (t == "TeamMemberAdded") {
    incv1::TeamMemberAdded ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    incv1::TeamMember m = ev.member();
    m.clear_email();
    s_.members[m.id()] = std::move(m);
  } else if (t == "TeamMemberUpdated") {
    incv1::TeamMemberUpdated ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    auto it = s_.members.find(ev.member().id());
    if (it != s_.members.end()) {
      incv1::TeamMember m = ev.member();
      m.clear_email();
      *m.mutable_start() = it->second.start();  // what TeamMemberAdded said it was
      if (it->second.has_end()) *m.mutable_end() = it->second.end();
      it->second = std::move(m);
    }
  } else if (t == "TeamMemberRemoved") {
    incv1::TeamMemberRemoved ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    auto it = s_.members.find(ev.member_id());
    if (it != s_.members.end()) *it->second.mutable_end() = ev.end();
  } else if (t == "CommitteeDecisionRecorded") {
    incv1::CommitteeDecisionRecorded ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    // The latest-dated decision that grants an envelope opens the budget's period, as
    // pep-incubation's RecordCommitteeDecision does.
    bool latest = true;
    for (const auto& d : s_.decisions) latest = latest && At(d.date()) <= At(ev.decision().date());
    if (latest && ev.decision().envelope_eur() > 0) {
      s_.budget = WithEnvelope(ev.decision().envelope_eur(), At(ev.decision().date()), s_.budget_entries);
    }
    s_.decisions.push_back(ev.decision());
  } else if (t == "BudgetEntryRecorded") {
    incv1::BudgetEntryRecorded ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    s_.budget_entries.push_back(ev.entry());
    Count(&s_.budget, ev.entry());
  } else if (t == "KpiDefined") {
    incv1::KpiDefined ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    if (ev.kpi().north_star()) {
      for (auto& [id, k] : s_.kpis) k.set_north_star(false);
    }
    s_.kpis[ev.kpi().id()] = ev.kpi();
  } else if (t == "KpiPointRecorded") {
    incv1::KpiPointRecorded ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    s_.points[ev.point().kpi()][ev.point().date().seconds()] = ev.point();
  } else if (t == "CommitteeAskSubmitted") {
    incv1::CommitteeAskSubmitted ev;
    if (auto st = ParseInto(&ev, type, payload); !st.ok()) return st;
    s_.asks[ev.ask().meeting_id()] = ev.ask();
  }
  return absl::OkStatus();
}

ObjectiveJudgement JudgeObjective(const SteeringState& s, const incv1::Objective& o, absl::Time at) {
  ObjectiveJudgement j;
  auto k = s.kpis.find(o.kpi());
  if (o.kpi().empty() || k == s.kpis.end()) return j;
  j.status = ObjectiveStatus::kNoMeasure;
  auto pts = s.points.find(o.kpi());
  if (pts == s.points.end()) return j;
  const bool due = o.has_by() && At(o.by()) <= at;
  const int64_t limit = due ? o.by().seconds() : absl::ToUnixSeconds(at);
  const incv1::KpiPoint* chosen = nullptr;
  for (const auto& [date, p] : pts->second) {
    if (date <= limit) chosen = &p;
  }
  if (chosen == nullptr) return j;
  j.value = chosen->value();
  j.measured_at = At(chosen->date());
  const bool down = k->second.direction() == incv1::KPI_DIRECTION_DOWN;
  const bool reached = down ? j.value <= o.target() : j.value >= o.target();
  j.gap = reached ? 0 : std::fabs(o.target() - j.value);
  j.status = reached ? ObjectiveStatus::kReached : due ? ObjectiveStatus::kMissed : ObjectiveStatus::kInProgress;
  return j;
}

std::string BuildPreRead(const SteeringState& s, const PreReadMeeting& meeting, absl::Time issued_at) {
  std::string out;
  absl::StrAppend(&out, "# Pré-lecture — ", Line(s.name), "\n\n");
  absl::StrAppend(&out, "Comité « ", Line(meeting.title), " » du ", Day(meeting.date), ".\n");
  absl::StrAppend(&out, "Établie le ", absl::FormatTime("%d/%m/%Y à %H:%M:%S UTC", issued_at, absl::UTCTimeZone()),
                  ", de ce qui était enregistré à cet instant (identifiant de la start-up : ",
                  s.startup_id, ").\n\n");
  if (!s.phases.empty()) {
    absl::StrAppend(&out, "Phase : ", PhaseWord(s.phase), " depuis le ", Day(s.phases.back().start()), ".\n\n");
  }

  const incv1::CommitteeDecision* last = LastDecisionBefore(s, meeting.date, meeting.id);
  absl::Time since = absl::InfinitePast();
  absl::StrAppend(&out, "## Ce que le dernier comité a fixé\n\n");
  if (last == nullptr) {
    absl::StrAppend(&out, "Aucun comité n'a encore décidé pour cette start-up.\n\n");
  } else {
    since = At(last->date());
    absl::StrAppend(&out, "Comité du ", Day(last->date()), " : ", OutcomeWord(last->outcome()), ".\n");
    if (last->envelope_eur() > 0) {
      absl::StrAppend(&out, "Enveloppe accordée : ", FrenchNumber(static_cast<double>(last->envelope_eur())), " €.\n");
    }
    if (last->has_next_review()) absl::StrAppend(&out, "Revue prévue le ", Day(last->next_review()), ".\n");
    if (last->objectives_size() == 0) {
      absl::StrAppend(&out, "Aucun objectif chiffré n'avait été fixé.\n\n");
    } else {
      absl::StrAppend(&out, "\nObjectifs, au ", Day(issued_at), " :\n\n");
      Objectives(out, s, last->objectives(), issued_at);
      absl::StrAppend(&out, "\n");
    }
  }

  absl::StrAppend(&out, "## Budget\n\n");
  if (s.budget.envelope_eur() <= 0) {
    absl::StrAppend(&out, "Aucune enveloppe accordée.");
    if (s.budget.paid_eur() > 0 || s.budget.committed_eur() > 0) {
      absl::StrAppend(&out, " Engagé : ", FrenchNumber(static_cast<double>(s.budget.committed_eur())), " € ; payé : ",
                      FrenchNumber(static_cast<double>(s.budget.paid_eur())), " €.");
    }
    absl::StrAppend(&out, "\n\n");
  } else {
    const BudgetOutlook o = Outlook(s.budget, issued_at);
    absl::StrAppend(&out, "Enveloppe en cours : ", FrenchNumber(s.budget.envelope_eur()), " € depuis le ",
                    Day(s.budget.since()), ". Engagé : ", FrenchNumber(static_cast<double>(s.budget.committed_eur())),
                    " € ; payé : ", FrenchNumber(static_cast<double>(s.budget.paid_eur())), " € ; reste : ",
                    FrenchNumber(static_cast<double>(o.remaining_eur)), " €.\n");
    if (o.exceeded) absl::StrAppend(&out, "L'enveloppe est dépassée.\n");
    if (o.overcommitted) absl::StrAppend(&out, "Les engagements dépassent l'enveloppe.\n");
    if (!o.exceeded && o.runs_out != absl::InfiniteFuture()) {
      absl::StrAppend(&out, "Au rythme des paiements (", FrenchNumber(o.paid_per_day_eur * 30.0),
                      " € par mois), elle sera épuisée le ", Day(o.runs_out), ".\n");
    }
    absl::StrAppend(&out, "\n");
  }

  absl::StrAppend(&out, "## Indicateurs\n\n");
  if (s.kpis.empty()) absl::StrAppend(&out, "Aucun indicateur défini.\n\n");
  // The North Star first, then by id.
  std::vector<const incv1::KpiDefinition*> kpis;
  for (const auto& [id, k] : s.kpis) kpis.push_back(&k);
  std::stable_sort(kpis.begin(), kpis.end(), [](auto* a, auto* b) { return a->north_star() && !b->north_star(); });
  for (const incv1::KpiDefinition* k : kpis) {
    absl::StrAppend(&out, "### ", Line(k->name()), k->north_star() ? " (étoile du Nord)" : "", "\n\n");
    if (!k->definition().empty()) absl::StrAppend(&out, Line(k->definition()), "\n");
    absl::StrAppend(&out, "Sens : ", k->direction() == incv1::KPI_DIRECTION_DOWN ? "à la baisse" : "à la hausse",
                    " ; point de départ ", FrenchNumber(k->baseline()), Unit(k));
    if (!k->source().empty()) absl::StrAppend(&out, " ; source : ", Line(k->source()));
    absl::StrAppend(&out, ".\n");
    auto pts = s.points.find(k->id());
    std::vector<const incv1::KpiPoint*> known;
    if (pts != s.points.end()) {
      for (const auto& [date, p] : pts->second) {
        if (date <= absl::ToUnixSeconds(issued_at)) known.push_back(&p);
      }
    }
    if (known.empty()) {
      absl::StrAppend(&out, "Aucune mesure.\n");
    } else {
      const size_t from = known.size() > 6 ? known.size() - 6 : 0;
      absl::StrAppend(&out, "Mesures :");
      for (size_t i = from; i < known.size(); ++i) {
        absl::StrAppend(&out, i == from ? " " : " ; ", Day(known[i]->date()), " ", FrenchNumber(known[i]->value()));
      }
      absl::StrAppend(&out, Unit(k), ".\n");
    }
    // The next target from the issue date on (else the last one).
    const incv1::KpiTarget* next = nullptr;
    for (const auto& t : k->targets()) {
      if (At(t.date()) >= issued_at && (next == nullptr || At(t.date()) < At(next->date()))) next = &t;
    }
    if (next != nullptr && !known.empty()) {
      const double v = known.back()->value();
      const bool down = k->direction() == incv1::KPI_DIRECTION_DOWN;
      const bool reached = down ? v <= next->value() : v >= next->value();
      absl::StrAppend(&out, "Prochaine cible : ", FrenchNumber(next->value()), Unit(k), " au ", Day(next->date()),
                      reached ? " — déjà atteinte" : absl::StrCat(" — écart ", FrenchNumber(std::fabs(next->value() - v)), Unit(k)),
                      ".\n");
    } else if (next != nullptr) {
      absl::StrAppend(&out, "Prochaine cible : ", FrenchNumber(next->value()), Unit(k), " au ", Day(next->date()), ".\n");
    }
    absl::StrAppend(&out, "\n");
  }

  absl::StrAppend(&out, "## Jalons depuis le dernier comité\n\n");
  std::vector<const incv1::Milestone*> ms;
  for (const auto& m : s.milestones) {
    if (At(m.date()) > since && At(m.date()) <= issued_at) ms.push_back(&m);
  }
  std::stable_sort(ms.begin(), ms.end(), [](auto* a, auto* b) { return At(a->date()) < At(b->date()); });
  if (ms.empty()) absl::StrAppend(&out, "Aucun jalon.\n");
  for (const incv1::Milestone* m : ms) {
    absl::StrAppend(&out, "- ", Day(m->date()), " — ", MilestoneKindWord(m->kind()), " : ", Line(m->title()), "\n");
  }
  absl::StrAppend(&out, "\n## Équipe\n\n");
  int current = 0;
  std::vector<std::string> arrivals, departures;
  for (const auto& [id, m] : s.members) {
    const bool left = m.has_end() && At(m.end()) <= issued_at;
    if (!left && At(m.start()) <= issued_at) {
      ++current;
      absl::StrAppend(&out, "- ", Line(m.name()), " — ", Line(m.role()));
      // Said only when recorded (issue 31): pre-reads issued before keep their exact bytes.
      if (const std::string st = StatusWord(m.status()); !st.empty()) absl::StrAppend(&out, " (", st, ")");
      absl::StrAppend(&out, ", depuis le ", Day(m.start()));
      if (m.has_mission_end()) absl::StrAppend(&out, ", mission jusqu'au ", Day(m.mission_end()));
      absl::StrAppend(&out, "\n");
    }
    if (At(m.start()) > since && At(m.start()) <= issued_at) {
      arrivals.push_back(absl::StrCat(Line(m.name()), " (", Day(m.start()), ")"));
    }
    if (left && At(m.end()) > since) departures.push_back(absl::StrCat(Line(m.name()), " (", Day(m.end()), ")"));
  }
  if (current == 0) absl::StrAppend(&out, "Personne dans l'équipe.\n");
  std::sort(arrivals.begin(), arrivals.end());
  std::sort(departures.begin(), departures.end());
  absl::StrAppend(&out, "\nDepuis le dernier comité : ", arrivals.size(), " arrivée(s)",
                  arrivals.empty() ? "" : absl::StrCat(" — ", absl::StrJoin(arrivals, ", ")), " ; ",
                  departures.size(), " départ(s)",
                  departures.empty() ? "" : absl::StrCat(" — ", absl::StrJoin(departures, ", ")), ".\n\n");

  absl::StrAppend(&out, "## La demande de l'équipe\n\n");
  auto ask = s.asks.find(meeting.id);
  if (ask == s.asks.end()) {
    absl::StrAppend(&out, "L'équipe n'a pas déposé de demande pour ce comité.\n");
  } else {
    const incv1::CommitteeAsk& a = ask->second;
    absl::StrAppend(&out, "Déposée le ", Day(a.submitted_at()), ".\n");
    if (a.envelope_eur() > 0) absl::StrAppend(&out, "Enveloppe demandée : ", FrenchNumber(static_cast<double>(a.envelope_eur())), " €.\n");
    if (!a.team().empty()) absl::StrAppend(&out, "Équipe : ", Line(a.team()), "\n");
    if (a.hypotheses_size() > 0) {
      absl::StrAppend(&out, "\nHypothèses à tester :\n\n");
      for (const auto& h : a.hypotheses()) absl::StrAppend(&out, "- ", Line(h), "\n");
    }
    if (a.criteria_size() > 0) {
      absl::StrAppend(&out, "\nCritères de succès proposés :\n\n");
      Objectives(out, s, a.criteria(), issued_at);
    }
  }
  return out;
}

std::string DocumentSha256(std::string_view document) {
  const tlog::Hash h = tlog::Sha256(document);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

std::string RoleWord(int team_role) {
  switch (team_role) {
    case incv1::TEAM_ROLE_INTRAPRENEUR: return "intrapreneur";
    case incv1::TEAM_ROLE_COACH: return "coach";
    case incv1::TEAM_ROLE_DEVELOPPEMENT: return "développement";
    case incv1::TEAM_ROLE_DESIGN: return "design";
    case incv1::TEAM_ROLE_DEPLOIEMENT: return "déploiement";
    case incv1::TEAM_ROLE_DATA: return "data";
    case incv1::TEAM_ROLE_SPONSOR: return "sponsor";
    default: return "";
  }
}

std::string StatusWord(int member_status) {
  switch (member_status) {
    case incv1::MEMBER_STATUS_AGENT: return "agent public";
    case incv1::MEMBER_STATUS_CONTRACTOR: return "prestataire";
    case incv1::MEMBER_STATUS_INDEPENDENT: return "indépendant";
    default: return "";
  }
}

std::string PhaseWord(int phase) {
  switch (phase) {
    case incv1::PHASE_INVESTIGATION: return "investigation";
    case incv1::PHASE_CONSTRUCTION: return "construction";
    case incv1::PHASE_ACCELERATION: return "accélération";
    case incv1::PHASE_CONSOLIDATION: return "consolidation";
    case incv1::PHASE_TRANSFERRED: return "transférée";
    case incv1::PHASE_OPERATED: return "opérée";
    case incv1::PHASE_ABANDONED_IN_INVESTIGATION: return "abandonnée en investigation";
    case incv1::PHASE_ABANDONED: return "abandonnée";
    default: return "inconnue";
  }
}

std::string OutcomeWord(int outcome) {
  switch (outcome) {
    case incv1::COMMITTEE_OUTCOME_GO: return "poursuite (GO)";
    case incv1::COMMITTEE_OUTCOME_STOP: return "arrêt (STOP)";
    case incv1::COMMITTEE_OUTCOME_PIVOT: return "pivot";
    case incv1::COMMITTEE_OUTCOME_EXTEND: return "prolongation de la phase";
    default: return "décision non renseignée";
  }
}

std::string MilestoneKindWord(int kind) {
  switch (kind) {
    case incv1::MILESTONE_KIND_PRODUCT_LAUNCH: return "mise en production";
    case incv1::MILESTONE_KIND_USERS_REACHED: return "usagers atteints";
    case incv1::MILESTONE_KIND_KPI: return "indicateur";
    case incv1::MILESTONE_KIND_FUNDING: return "financement";
    case incv1::MILESTONE_KIND_TEAM: return "équipe";
    case incv1::MILESTONE_KIND_OTHER: return "autre";
    default: return "non précisé";
  }
}

std::string FrenchNumber(double v) {
  if (!std::isfinite(v)) return "—";
  const bool negative = v < 0;
  const double a = std::round(std::fabs(v) * 100.0) / 100.0;
  const double whole = std::floor(a);
  const int cents = static_cast<int>(std::lround((a - whole) * 100.0));
  char digits[64];
  std::snprintf(digits, sizeof digits, "%.0f", whole);
  const std::string d = digits;
  std::string out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0 && (d.size() - i) % 3 == 0) out += "\u202f";
    out += d[i];
  }
  if (cents != 0) {
    out += cents % 10 == 0 ? absl::StrFormat(",%d", cents / 10) : absl::StrFormat(",%02d", cents);
  }
  return negative && out != "0" ? "-" + out : out;
}

}  // namespace pep::portfolio
