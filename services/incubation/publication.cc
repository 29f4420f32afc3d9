#include "services/incubation/publication.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

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

}  // namespace

std::optional<v1::PublicStartup> PublicView(const v1::StartupDetails& d) {
  const v1::Startup& s = d.startup();
  const v1::PublicationPolicy& p = s.publication();
  if (!p.published()) return std::nullopt;
  v1::PublicStartup out;
  out.set_id(s.slug());
  out.set_name(s.name());
  out.set_incubator(s.incubator());
  out.set_phase(s.phase());
  *out.mutable_published_at() = p.changed_at();
  v1::PublicationPolicy& shown = *out.mutable_policy();
  shown = p;
  shown.clear_changed_by();
  shown.clear_changed_at();
  if (p.mission()) out.set_mission(s.mission());
  if (p.phases()) {
    for (const auto& ph : s.phases()) {
      auto* o = out.add_phases();
      o->set_phase(ph.phase());
      *o->mutable_start() = ph.start();
      if (ph.has_end()) *o->mutable_end() = ph.end();
    }
  }
  if (p.events()) {
    for (const auto& c : d.decisions()) {
      auto* e = out.add_events();
      *e->mutable_date() = c.date();
      e->set_kind("committee");
      e->set_title(OutcomeTitle(c.outcome()));
      e->set_outcome(c.outcome());
    }
    for (const auto& m : d.milestones()) {
      auto* e = out.add_events();
      *e->mutable_date() = m.date();
      e->set_kind("milestone");
      e->set_title(m.title());
      e->set_milestone_kind(m.kind());
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
  return out;
}

}  // namespace pep::incubation
