#include "services/incubation/publication.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/proto_time.h"

namespace pep::incubation {

namespace {

std::string OutcomeTitle(v1::CommitteeOutcome o) {
  switch (o) {
    case v1::COMMITTEE_OUTCOME_GO: return "Comité d'investissement : poursuite";
    case v1::COMMITTEE_OUTCOME_STOP: return "Comité d'investissement : arrêt";
    case v1::COMMITTEE_OUTCOME_PIVOT: return "Comité d'investissement : pivot";
    case v1::COMMITTEE_OUTCOME_EXTEND: return "Comité d'investissement : prolongation";
    default: return "Comité d'investissement";
  }
}

std::string PhaseWord(v1::Phase p) {
  switch (p) {
    case v1::PHASE_INVESTIGATION: return "investigation";
    case v1::PHASE_CONSTRUCTION: return "construction";
    case v1::PHASE_ACCELERATION: return "accélération";
    case v1::PHASE_CONSOLIDATION: return "consolidation";
    case v1::PHASE_TRANSFERRED: return "transfert";
    case v1::PHASE_OPERATED: return "opération";
    case v1::PHASE_ABANDONED_IN_INVESTIGATION: return "abandon (en investigation)";
    case v1::PHASE_ABANDONED: return "abandon";
    default: return "phase non précisée";
  }
}

std::string Day(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%d/%m/%Y", FromTimestamp(t), absl::UTCTimeZone());
}

// Records the fact shown (when asked) and returns its attested id (or "").
class Facts {
 public:
  Facts(const v1::Startup& s, const std::map<std::string, std::string>* ids, std::vector<PublicFact>* out)
      : s_(s), ids_(ids), out_(out) {}

  std::string Shown(std::string key, const std::string& kind, const google::protobuf::Timestamp& date,
                    const std::string& source_id, const std::function<void(v1::PublicFactPublished&)>& fill) {
    if (out_ != nullptr) {
      PublicFact f{key, {}};
      f.fact.set_startup_id(s_.id());
      f.fact.set_public_id(s_.slug());
      f.fact.set_startup_name(s_.name());
      f.fact.set_kind(kind);
      *f.fact.mutable_date() = date;
      f.fact.set_source_id(source_id);
      fill(f.fact);
      out_->push_back(std::move(f));
    }
    if (ids_ == nullptr) return "";
    auto it = ids_->find(key);
    return it == ids_->end() ? "" : it->second;
  }

 private:
  const v1::Startup& s_;
  const std::map<std::string, std::string>* ids_;
  std::vector<PublicFact>* out_;
};

}  // namespace

std::optional<v1::PublicStartup> PublicView(const v1::StartupDetails& d,
                                            const std::map<std::string, std::string>* fact_ids,
                                            std::vector<PublicFact>* facts) {
  const v1::Startup& s = d.startup();
  const v1::PublicationPolicy& p = s.publication();
  if (!p.published()) return std::nullopt;
  v1::PublicStartup out;
  out.set_id(s.slug());
  out.set_startup_id(s.id());
  out.set_name(s.name());
  out.set_incubator(s.incubator());
  out.set_phase(s.phase());
  *out.mutable_published_at() = p.changed_at();
  v1::PublicationPolicy& shown = *out.mutable_policy();
  shown = p;
  shown.clear_changed_by();
  shown.clear_changed_at();
  if (p.mission()) out.set_mission(s.mission());
  Facts attested(s, fact_ids, facts);
  if (p.phases()) {
    for (const auto& ph : s.phases()) {
      auto* o = out.add_phases();
      o->set_phase(ph.phase());
      *o->mutable_start() = ph.start();
      if (ph.has_end()) *o->mutable_end() = ph.end();
      o->set_fact_id(attested.Shown(
          absl::StrCat("phase:", ph.phase(), ":", ph.start().seconds()), "phase", ph.start(), s.id(),
          [&](v1::PublicFactPublished& f) {
            f.set_phase(ph.phase());
            f.set_statement(absl::StrCat(s.name(), " : entrée en ", PhaseWord(ph.phase()), " le ", Day(ph.start())));
          }));
    }
  }
  if (p.events()) {
    for (const auto& c : d.decisions()) {
      auto* e = out.add_events();
      *e->mutable_date() = c.date();
      e->set_kind("committee");
      e->set_title(OutcomeTitle(c.outcome()));
      e->set_outcome(c.outcome());
      e->set_fact_id(attested.Shown(absl::StrCat("committee:", c.id()), "committee", c.date(), c.id(),
                                 [&](v1::PublicFactPublished& f) {
                                   f.set_outcome(c.outcome());
                                   f.set_statement(absl::StrCat(s.name(), " : ", OutcomeTitle(c.outcome()),
                                                                " (comité du ", Day(c.date()), ")"));
                                 }));
    }
    for (const auto& m : d.milestones()) {
      auto* e = out.add_events();
      *e->mutable_date() = m.date();
      e->set_kind("milestone");
      e->set_title(m.title());
      e->set_milestone_kind(m.kind());
      e->set_fact_id(attested.Shown(absl::StrCat("milestone:", m.id()), "milestone", m.date(), m.id(),
                                 [&](v1::PublicFactPublished& f) {
                                   f.set_milestone_kind(m.kind());
                                   f.set_title(m.title());
                                   f.set_statement(absl::StrCat(s.name(), " : jalon du ", Day(m.date()), ", “",
                                                                m.title(), "”"));
                                 }));
    }
    std::stable_sort(out.mutable_events()->begin(), out.mutable_events()->end(),
                     [](const v1::PublicEvent& a, const v1::PublicEvent& b) {
                       return std::make_pair(a.date().seconds(), a.date().nanos()) <
                              std::make_pair(b.date().seconds(), b.date().nanos());
                     });
  }
  if (p.team()) {
    for (const auto& m : s.team()) {
      auto* o = out.add_team();
      o->set_name(m.name());
      o->set_role(m.role());
      *o->mutable_start() = m.start();
      if (m.has_end()) *o->mutable_end() = m.end();
    }
  }
  if (p.sponsors()) *out.mutable_sponsors() = s.sponsors();
  if (p.links()) *out.mutable_links() = s.links();
  if (p.thematiques()) *out.mutable_thematiques() = s.tags();
  if (p.origin_idea()) out.set_origin_idea_id(s.origin_idea_id());
  if (p.kpis()) *out.mutable_kpis() = s.public_kpis();
  return out;
}

}  // namespace pep::incubation
