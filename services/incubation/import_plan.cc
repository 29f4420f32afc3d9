// PlanImport: the difference between a start-up's source line and what was imported before, as
// the events, rows and warnings that record it. Pure (see import_plan.h).
#include "services/incubation/import_plan.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "common/text.h"
#include "services/incubation/service_helpers.h"

namespace pep::incubation {

using internal::AsOfFirstPhase;
using internal::Change;
using internal::LinksText;

namespace {

class Planner {
 public:
  Planner(const ImportState& state, const ImportLine& line, const ImportContext& ctx)
      : state_(state), line_(line), ctx_(ctx), keys_(state.milestone_keys) {}

  ImportPlan Run() {
    if (!state_.snapshot.has_value()) return Create();
    if (DeterministicBytes(*state_.snapshot) == DeterministicBytes(line_.details)) {
      plan_.outcome = ImportPlan::Outcome::kUnchanged;
      return std::move(plan_);
    }
    return Update();
  }

 private:
  v1::Startup& st() { return plan_.startup; }

  void Emit(ImportEventPayload ev, absl::Time effective) {
    st().set_version(st().version() + 1);
    plan_.events.push_back({std::move(ev), effective, st().version()});
  }

  void Warn(const std::string& rule, const std::string& detail) {
    v1::ImportWarning& w = plan_.warnings.emplace_back();
    w.set_slug(line_.details.startup().slug());
    w.set_line(line_.line);
    w.set_rule(rule);
    w.set_detail(detail);
  }

  void PhaseChange(v1::Phase from, const v1::PhasePeriod& to) {
    v1::PhaseChanged ev;
    ev.set_startup_id(st().id());
    ev.set_from(from);
    ev.set_to(to.phase());
    *ev.mutable_effective_date() = to.start();
    ev.set_comment(to.comment());
    ev.set_imported(true);
    Emit(std::move(ev), FromTimestamp(to.start()));
  }

  void AddDecision(const v1::CommitteeDecision& from) {
    v1::CommitteeDecision d = from;
    d.set_id(ctx_.new_id());
    d.set_startup_id(st().id());
    d.set_recorded_by(ctx_.actor);
    *d.mutable_recorded_at() = ToTimestamp(ctx_.now);
    plan_.decisions.push_back(d);
    v1::CommitteeDecisionRecorded ev;
    *ev.mutable_decision() = std::move(d);
    const absl::Time eff = FromTimestamp(ev.decision().date());
    Emit(std::move(ev), eff);
  }

  void AddMilestone(const v1::Milestone& from) {
    v1::Milestone m = from;
    m.set_idempotency_key(absl::StrCat("import:", m.date().seconds(), ":", m.title(), ":",
                                       m.description()).substr(0, 128));
    // Already stored (listed twice in the source, or dropped from it and listed again): kept once.
    if (!keys_.insert(m.idempotency_key()).second) return;
    m.set_id(ctx_.new_id());
    m.set_startup_id(st().id());
    m.set_pushed_by(ctx_.actor);
    *m.mutable_recorded_at() = ToTimestamp(ctx_.now);
    if (!st().has_last_milestone_at() || st().last_milestone_at().seconds() < m.date().seconds()) {
      *st().mutable_last_milestone_at() = m.date();
    }
    plan_.milestones.push_back(m);
    v1::MilestonePushed ev;
    *ev.mutable_milestone() = std::move(m);
    const absl::Time eff = FromTimestamp(ev.milestone().date());
    Emit(std::move(ev), eff);
  }

  ImportPlan Create() {
    const v1::StartupDetails& src = line_.details;
    if (state_.slug_taken) {
      plan_.outcome = ImportPlan::Outcome::kRejected;
      plan_.rejection = absl::StrCat("slug '", src.startup().slug(),
                                     "' is used by a start-up not created by import");
      return std::move(plan_);
    }
    plan_.outcome = ImportPlan::Outcome::kCreated;
    st() = src.startup();
    st().set_id(ctx_.new_id());
    st().set_correlation_id(st().id());
    *st().mutable_created_at() = ToTimestamp(ctx_.now);
    st().set_version(0);
    v1::StartupCreated created;
    *created.mutable_startup() = AsOfFirstPhase(st());
    created.mutable_startup()->set_id(st().id());
    created.set_imported(true);
    Emit(std::move(created), FromTimestamp(st().phases(0).start()));
    for (int i = 1; i < st().phases_size(); ++i) {
      PhaseChange(st().phases(i - 1).phase(), st().phases(i));
    }
    for (const auto& d : src.decisions()) AddDecision(d);
    for (const auto& m : src.milestones()) AddMilestone(m);
    return std::move(plan_);
  }

  ImportPlan Update() {
    plan_.outcome = ImportPlan::Outcome::kUpdated;
    const v1::StartupDetails& old = *state_.snapshot;
    const v1::StartupDetails& src = line_.details;
    st() = *state_.current;
    const v1::Startup& n = src.startup();
    const v1::Startup& o = old.startup();
    v1::StartupUpdated upd;
    upd.set_startup_id(st().id());
    if (Change(&upd, "name", o.name(), n.name())) st().set_name(n.name());
    if (Change(&upd, "mission", o.mission(), n.mission())) st().set_mission(n.mission());
    if (Change(&upd, "incubator", o.incubator(), n.incubator())) st().set_incubator(n.incubator());
    if (Change(&upd, "sponsors", absl::StrJoin(o.sponsors(), ","),
               absl::StrJoin(n.sponsors(), ","))) {
      *st().mutable_sponsors() = n.sponsors();
    }
    if (Change(&upd, "links", LinksText(o.links()), LinksText(n.links()))) {
      *st().mutable_links() = n.links();
    }
    if (upd.changes_size() > 0) Emit(std::move(upd), ctx_.now);
    UpdatePhases(o, n);
    // Decisions and milestones: new ones are added; ones gone from the source are kept, reported.
    AddNew(old.decisions(), src.decisions(), &Planner::AddDecision, "committee event(s)");
    AddNew(old.milestones(), src.milestones(), &Planner::AddMilestone, "event(s)");
    return std::move(plan_);
  }

  // Adds the items of `now` not in `before` (as a multiset); warns of those only in `before`.
  template <typename List, typename Item>
  void AddNew(const List& before, const List& now, void (Planner::*add)(const Item&),
              const char* what) {
    std::multiset<std::string> gone;
    for (const auto& x : before) gone.insert(DeterministicBytes(x));
    for (const auto& x : now) {
      auto it = gone.find(DeterministicBytes(x));
      if (it != gone.end()) {
        gone.erase(it);
      } else {
        (this->*add)(x);
      }
    }
    if (!gone.empty()) {
      Warn("removed_in_source", absl::StrCat(gone.size(), " ", what, " no longer in the source: kept"));
    }
  }

  // Appended phases are transitions; any other difference corrects the history.
  void UpdatePhases(const v1::Startup& o, const v1::Startup& n) {
    bool same = DeterministicBytes(AsOfFirstPhase(o)) == DeterministicBytes(AsOfFirstPhase(n)) &&
                o.phases_size() == n.phases_size();
    for (int i = 0; same && i < o.phases_size(); ++i) {
      same = DeterministicBytes(o.phases(i)) == DeterministicBytes(n.phases(i));
    }
    if (same) return;
    bool prefix = n.phases_size() > o.phases_size();
    for (int i = 0; prefix && i < o.phases_size(); ++i) {
      v1::PhasePeriod a = o.phases(i), b = n.phases(i);
      if (i == o.phases_size() - 1) {  // the period that was open is closed now
        a.clear_end();
        b.clear_end();
      }
      prefix = DeterministicBytes(a) == DeterministicBytes(b);
    }
    *st().mutable_phases() = n.phases();
    st().set_phase(n.phase());
    if (prefix) {
      for (int i = o.phases_size(); i < n.phases_size(); ++i) {
        PhaseChange(n.phases(i - 1).phase(), n.phases(i));
      }
    } else {
      v1::PhaseHistoryCorrected ev;
      ev.set_startup_id(st().id());
      *ev.mutable_phases() = n.phases();
      Emit(std::move(ev), ctx_.now);
    }
  }

  const ImportState& state_;
  const ImportLine& line_;
  const ImportContext& ctx_;
  std::set<std::string> keys_;
  ImportPlan plan_;
};

}  // namespace

ImportPlan PlanImport(const ImportState& state, const ImportLine& line, const ImportContext& ctx) {
  return Planner(state, line, ctx).Run();
}

}  // namespace pep::incubation
