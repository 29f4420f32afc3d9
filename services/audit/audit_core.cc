#include "services/audit/audit_core.h"

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

std::string PhaseLabel(int phase) {
  switch (phase) {
    case nv1::PHASE_INVESTIGATION: return "investigation";
    case nv1::PHASE_CONSTRUCTION: return "construction";
    case nv1::PHASE_ACCELERATION: return "accélération";
    case nv1::PHASE_CONSOLIDATION: return "consolidation";
    case nv1::PHASE_TRANSFERRED: return "transférée";
    case nv1::PHASE_OPERATED: return "opérée";
    case nv1::PHASE_ABANDONED_IN_INVESTIGATION: return "abandonnée en investigation";
    case nv1::PHASE_ABANDONED: return "abandonnée";
    default: return "inconnue";
  }
}

namespace {

std::string Date(absl::Time t) { return absl::FormatTime("%d/%m/%Y", t, absl::UTCTimeZone()); }
std::string DayOf(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

std::string IdeaStatusName(int s) {
  std::string n = iv1::IdeaStatus_Name(static_cast<iv1::IdeaStatus>(s));
  return n.rfind("IDEA_STATUS_", 0) == 0 ? n.substr(12) : n;
}

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

std::string OutcomeName(int o) {
  if (o == nv1::COMMITTEE_OUTCOME_UNSPECIFIED) return "issue non renseignée";  // imported records
  std::string n = nv1::CommitteeOutcome_Name(static_cast<nv1::CommitteeOutcome>(o));
  return n.rfind("COMMITTEE_OUTCOME_", 0) == 0 ? n.substr(18) : n;
}

std::string MilestoneKindName(int k) {
  std::string n = nv1::MilestoneKind_Name(static_cast<nv1::MilestoneKind>(k));
  return n.rfind("MILESTONE_KIND_", 0) == 0 ? n.substr(15) : n;
}

double SatisfactionPoints(int s) {
  return s == fv1::SATISFACTION_GOOD ? 10.0 : s == fv1::SATISFACTION_MEDIUM ? 5.0 : 0.0;
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

bool Is(const LedgerRecord& r, std::string_view short_type) {
  return ShortType(r.envelope.type) == short_type;
}

template <typename M>
M Parse(const LedgerRecord& r) {
  M m;
  m.ParseFromString(r.payload);  // an unparsable payload reads as empty: the record still shows
  return m;
}

// Running feedback scores.
struct FeedbackTally {
  int64_t answers = 0;
  double satisfaction_points = 0;
  int64_t nps_answers = 0, promoters = 0, detractors = 0;
  void Add(const fv1::Feedback& f) {
    ++answers;
    satisfaction_points += SatisfactionPoints(f.satisfaction());
    if (f.has_nps()) {
      ++nps_answers;
      if (f.nps() >= 9) ++promoters;
      if (f.nps() <= 6) ++detractors;
    }
  }
  av1::FeedbackScores Scores() const {
    av1::FeedbackScores s;
    s.set_answers(answers);
    if (answers > 0) s.set_satisfaction_score(satisfaction_points / static_cast<double>(answers));
    if (nps_answers > 0) {
      s.set_has_nps(true);
      s.set_nps(100.0 * static_cast<double>(promoters - detractors) /
                static_cast<double>(nps_answers));
    }
    return s;
  }
};

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
  } else if (t == "TeamMemberRemoved") {
    auto ev = Parse<nv1::TeamMemberRemoved>(r);
    auto n = ctx.member_names.find(ev.member_id());
    const std::string name = n == ctx.member_names.end() ? ev.member_id() : n->second;
    e->set_summary(absl::StrCat("Départ de l'équipe : ", name));
    AddChange(e, "équipe", name, "");
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

// Where an entry sits in the timeline: effective time, then recorded time, then chain order.
struct TimelineKey {
  absl::Time effective, recorded;
  int64_t seq;
  static TimelineKey Of(const LedgerRecord& r) {
    return {r.envelope.effective_time, r.envelope.time, r.subject_seq};
  }
  bool operator<(const TimelineKey& o) const {
    return std::tie(effective, recorded, seq) < std::tie(o.effective, o.recorded, o.seq);
  }
};

std::vector<const LedgerRecord*> InTimelineOrder(const std::vector<LedgerRecord>& records) {
  std::vector<const LedgerRecord*> order;
  order.reserve(records.size());
  for (const auto& r : records) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](const LedgerRecord* a, const LedgerRecord* b) {
    return TimelineKey::Of(*a) < TimelineKey::Of(*b);
  });
  return order;
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

namespace {

// The as-of fold over a lineage's records without its users' answers, which come already
// folded (`answers`, and how many were hidden by K or folded).
av1::StateAsOf FoldWithAnswers(const std::string& subject, const std::vector<LedgerRecord>& records,
                               absl::Time as_of, std::optional<absl::Time> known_at,
                               const FeedbackTally& answers, int64_t answers_hidden,
                               int64_t answers_folded) {
  av1::StateAsOf out;
  out.set_subject(subject);
  struct Member {
    nv1::TeamMember m;
    absl::Time start, end = absl::InfiniteFuture();
  };
  std::vector<nv1::PhasePeriod> phases;  // as known at K, whatever D is
  std::map<std::string, Member> team;
  FeedbackTally feedback = answers;
  std::optional<nv1::Milestone> last_milestone;
  absl::Time last_milestone_at = absl::InfinitePast();
  bool startup_exists = false;
  for (const LedgerRecord* r : InTimelineOrder(records)) {
    if (known_at && r->envelope.time > *known_at) {
      out.set_records_hidden_by_known_at(out.records_hidden_by_known_at() + 1);
      continue;
    }
    const absl::Time eff = r->envelope.effective_time;
    const std::string t = ShortType(r->envelope.type);
    // The phase history is a statement about the past: keep what was known at K.
    ApplyPhaseEvent(*r, t, &phases);
    if (eff > as_of) continue;
    out.set_records_folded(out.records_folded() + 1);
    if (t == "IdeaSubmitted") {
      auto idea = Parse<iv1::IdeaSubmitted>(*r).idea();
      out.set_idea_id(idea.id());
      out.set_idea_status(IdeaStatusName(iv1::IDEA_STATUS_SUBMITTED));
    } else if (t == "IdeaShortlisted" || t == "IdeaAwarded" || t == "IdeaRejected" ||
               t == "IdeaSelected") {
      // All four carry the decision in field 2; IdeaSelected is the richest shape.
      out.set_idea_status(IdeaStatusName(Parse<iv1::IdeaSelected>(*r).decision().outcome()));
    } else if (t == "IdeaWithdrawn") {
      out.set_idea_status(IdeaStatusName(iv1::IDEA_STATUS_WITHDRAWN));
    } else if (t == "StartupCreated") {
      auto st = Parse<nv1::StartupCreated>(*r).startup();
      startup_exists = true;
      out.set_startup_id(st.id());
      out.set_startup_name(st.name());
      for (const auto& m : st.team()) {
        Member mem{m, m.has_start() ? FromTimestamp(m.start()) : eff};
        if (m.has_end()) mem.end = FromTimestamp(m.end());
        team[m.id()] = mem;
      }
    } else if (t == "StartupUpdated") {
      const auto updated = Parse<nv1::StartupUpdated>(*r);  // named, as in Context
      for (const auto& c : updated.changes()) {
        if (c.field() == "name") out.set_startup_name(c.new_value());
      }
    } else if (t == "TeamMemberAdded") {
      auto m = Parse<nv1::TeamMemberAdded>(*r).member();
      team[m.id()] = Member{m, m.has_start() ? FromTimestamp(m.start()) : eff};
    } else if (t == "TeamMemberRemoved") {
      auto ev = Parse<nv1::TeamMemberRemoved>(*r);
      auto it = team.find(ev.member_id());
      if (it != team.end()) it->second.end = ev.has_end() ? FromTimestamp(ev.end()) : eff;
    } else if (t == "MilestonePushed") {
      auto m = Parse<nv1::MilestonePushed>(*r).milestone();
      const absl::Time at = m.has_date() ? FromTimestamp(m.date()) : eff;
      if (at <= as_of && at >= last_milestone_at) {
        last_milestone = m;
        last_milestone_at = at;
      }
    } else if (t == "FeedbackReceived") {
      feedback.Add(Parse<fv1::FeedbackReceived>(*r).feedback());
    }
  }
  if (startup_exists) {
    for (const auto& p : phases) {  // the last period begun by D
      if (FromTimestamp(p.start()) <= as_of) {
        out.set_phase(p.phase());
        *out.mutable_phase_since() = p.start();
      }
    }
    for (const auto& [id, mem] : team) {
      if (mem.start <= as_of && as_of < mem.end) {
        auto* t = out.add_team();
        t->set_id(id);
        t->set_name(mem.m.name());
        t->set_role(mem.m.role());
      }
    }
  }
  if (last_milestone) {
    auto* m = out.mutable_last_milestone();
    m->set_title(last_milestone->title());
    m->set_kind(MilestoneKindName(last_milestone->kind()));
    *m->mutable_date() = ToTimestamp(last_milestone_at);
  }
  *out.mutable_feedback() = feedback.Scores();
  out.set_records_hidden_by_known_at(out.records_hidden_by_known_at() + answers_hidden);
  out.set_records_folded(out.records_folded() + answers_folded);
  return out;
}

}  // namespace

struct StateAsOfBuilder::Answers {
  FeedbackTally tally;
  int64_t hidden = 0, folded = 0;
};

StateAsOfBuilder::StateAsOfBuilder(std::string subject, absl::Time as_of,
                                   std::optional<absl::Time> known_at)
    : subject_(std::move(subject)), as_of_(as_of), known_at_(known_at),
      answers_(std::make_unique<Answers>()) {}

StateAsOfBuilder::~StateAsOfBuilder() = default;

void StateAsOfBuilder::Add(LedgerRecord r) {
  if (!Is(r, "FeedbackReceived")) {
    kept_.push_back(std::move(r));
    return;
  }
  // As the fold treats any record: hidden when recorded after K, left out when after D.
  if (known_at_ && r.envelope.time > *known_at_) {
    ++answers_->hidden;
  } else if (r.envelope.effective_time <= as_of_) {
    ++answers_->folded;
    answers_->tally.Add(Parse<fv1::FeedbackReceived>(r).feedback());
  }
}

av1::StateAsOf StateAsOfBuilder::Build() {
  return FoldWithAnswers(subject_, kept_, as_of_, known_at_, answers_->tally, answers_->hidden,
                         answers_->folded);
}

av1::StateAsOf FoldStateAsOf(const std::string& subject, const std::vector<LedgerRecord>& records,
                             absl::Time as_of, std::optional<absl::Time> known_at) {
  StateAsOfBuilder b(subject, as_of, known_at);
  for (const auto& r : records) b.Add(r);
  return b.Build();
}

std::string ChallengeOf(const std::vector<LedgerRecord>& records) {
  for (const auto& r : records) {
    if (Is(r, "IdeaSubmitted")) return Parse<iv1::IdeaSubmitted>(r).idea().challenge_id();
  }
  return "";
}

namespace {

// The lineage view over its records without the users' answers, which come already tallied;
// `count` and `head_leaf` are the whole lineage's.
av1::Lineage LineageWithAnswers(const std::string& subject, const std::vector<LedgerRecord>& records,
                                const std::vector<LedgerRecord>& challenge_records,
                                const FeedbackTally& answers, int64_t count,
                                const std::string& head_leaf) {
  av1::Lineage out;
  out.set_subject(subject);
  out.set_records(count);
  if (count > 0) out.set_head_hash(Hex(head_leaf));
  FeedbackTally feedback = answers;
  std::map<std::string, double> scores;  // juror -> latest weighted score
  std::vector<nv1::PhasePeriod> phases;
  for (const LedgerRecord* r : InTimelineOrder(records)) {
    const std::string t = ShortType(r->envelope.type);
    auto* idea = out.mutable_idea();
    if (t == "IdeaSubmitted") {
      auto i = Parse<iv1::IdeaSubmitted>(*r).idea();
      idea->set_id(i.id());
      idea->set_title(i.title());
      idea->set_author_name(i.author_name());
      idea->set_department(i.department());
      idea->set_challenge_id(i.challenge_id());
      idea->set_status(IdeaStatusName(iv1::IDEA_STATUS_SUBMITTED));
    } else if (t == "IdeaEdited") {
      const auto edited = Parse<iv1::IdeaEdited>(*r);  // named, as in Context
      for (const auto& c : edited.changes()) {
        if (c.field() == "title") idea->set_title(c.new_value());
      }
    } else if (t == "IdeaScored") {
      auto card = Parse<iv1::IdeaScored>(*r).scorecard();
      scores[card.juror_id()] = card.weighted_score();
    } else if (t == "IdeaShortlisted" || t == "IdeaAwarded" || t == "IdeaRejected" ||
               t == "IdeaSelected") {
      auto d = Parse<iv1::IdeaSelected>(*r).decision();
      idea->set_status(IdeaStatusName(d.outcome()));
      idea->set_decision_rationale(d.rationale());
      if (!d.prize().empty()) idea->set_prize(d.prize());
      idea->set_decided_by(d.decided_by().empty() ? r->envelope.actor : d.decided_by());
    } else if (t == "IdeaWithdrawn") {
      idea->set_status(IdeaStatusName(iv1::IDEA_STATUS_WITHDRAWN));
    } else if (t == "StartupCreated") {
      auto ev = Parse<nv1::StartupCreated>(*r);
      auto* st = out.mutable_startup();
      st->set_id(ev.startup().id());
      st->set_name(ev.startup().name());
      st->set_imported(ev.imported());
      st->set_phase(ev.startup().phase());
      ApplyPhaseEvent(*r, t, &phases);
    } else if (t == "StartupUpdated") {
      const auto updated = Parse<nv1::StartupUpdated>(*r);  // named, as in Context
      for (const auto& c : updated.changes()) {
        if (c.field() == "name") out.mutable_startup()->set_name(c.new_value());
      }
    } else if (t == "PhaseChanged" || t == "PhaseHistoryCorrected") {
      ApplyPhaseEvent(*r, t, &phases);
      if (!phases.empty()) out.mutable_startup()->set_phase(phases.back().phase());
    } else if (t == "CommitteeDecisionRecorded") {
      auto d = Parse<nv1::CommitteeDecisionRecorded>(*r).decision();
      auto* ld = out.mutable_startup()->add_decisions();
      ld->set_id(d.id());
      *ld->mutable_date() = d.date();
      ld->set_outcome(OutcomeName(d.outcome()));
      ld->set_rationale(d.rationale());
    } else if (t == "MilestonePushed") {
      auto m = Parse<nv1::MilestonePushed>(*r).milestone();
      auto* lm = out.mutable_startup()->add_milestones();
      lm->set_title(m.title());
      lm->set_kind(MilestoneKindName(m.kind()));
      *lm->mutable_date() = m.has_date() ? m.date() : ToTimestamp(r->envelope.effective_time);
    } else if (t == "FeedbackReceived") {
      feedback.Add(Parse<fv1::FeedbackReceived>(*r).feedback());
    }
  }
  if (out.idea().id().empty()) {
    out.clear_idea();
  } else {
    double sum = 0;
    for (const auto& [juror, s] : scores) {
      auto* js = out.mutable_idea()->add_scores();
      js->set_juror_id(juror);
      js->set_weighted_score(s);
      sum += s;
    }
    if (!scores.empty()) out.mutable_idea()->set_mean_score(sum / static_cast<double>(scores.size()));
    for (const auto& r : challenge_records) {
      if (Is(r, "ChallengeCreated")) {
        out.mutable_idea()->set_challenge_title(Parse<iv1::ChallengeCreated>(r).challenge().title());
      }
    }
  }
  if (out.has_startup()) {
    for (size_t i = 0; i < phases.size(); ++i) {
      auto* lp = out.mutable_startup()->add_phases();
      lp->set_phase(phases[i].phase());
      *lp->mutable_start() = phases[i].start();
      if (phases[i].has_end()) {
        *lp->mutable_end() = phases[i].end();
      } else if (i + 1 < phases.size()) {
        *lp->mutable_end() = phases[i + 1].start();
      }
      lp->set_decision_id(phases[i].decision_id());
    }
  }
  *out.mutable_feedback() = feedback.Scores();
  return out;
}

}  // namespace

struct LineageBuilder::Answers {
  FeedbackTally tally;
};

LineageBuilder::LineageBuilder(std::string subject)
    : subject_(std::move(subject)), answers_(std::make_unique<Answers>()) {}

LineageBuilder::~LineageBuilder() = default;

void LineageBuilder::Add(LedgerRecord r) {
  ++count_;
  head_leaf_ = r.leaf;
  if (Is(r, "FeedbackReceived")) {
    answers_->tally.Add(Parse<fv1::FeedbackReceived>(r).feedback());
    return;
  }
  kept_.push_back(std::move(r));
}

av1::Lineage LineageBuilder::Build(const std::vector<LedgerRecord>& challenge_records) {
  return LineageWithAnswers(subject_, kept_, challenge_records, answers_->tally, count_, head_leaf_);
}

av1::Lineage BuildLineage(const std::string& subject, const std::vector<LedgerRecord>& records,
                          const std::vector<LedgerRecord>& challenge_records) {
  LineageBuilder b(subject);
  for (const auto& r : records) b.Add(r);
  return b.Build(challenge_records);
}

bool JuryOnly(const LedgerRecord& r) { return r.envelope.type == "pepiniere.ideas.v1.IdeaScored"; }

void WithholdJuryDetail(av1::Timeline& timeline) {
  for (av1::TimelineEntry& e : *timeline.mutable_entries()) {
    if (e.type() != "IdeaScored") continue;
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
