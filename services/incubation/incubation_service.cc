#include "services/incubation/incubation_service.h"
#include "services/incubation/team_rules.h"
#include "services/incubation/service_helpers.h"
#include "portfolio/budget.h"
#include "services/incubation/steering_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"

namespace pep::incubation {

using internal::Change;
using internal::CheckScope;
using internal::LinksText;
using internal::Lower;
using internal::RequireCoordinator;
using internal::RequirePortfolioReader;

IncubationMetrics::IncubationMetrics(prometheus::Registry& r) {
  auto& phases = prometheus::BuildGauge()
                     .Name("pep_startups")
                     .Help("Start-ups currently in each phase.")
                     .Register(r);
  for (int p = v1::PHASE_INVESTIGATION; p <= v1::PHASE_ABANDONED; ++p) {
    by_phase_[static_cast<v1::Phase>(p)] =
        &phases.Add({{"phase", Lower(PhaseName(static_cast<v1::Phase>(p)))}});
  }
  overdue_ = &prometheus::BuildGauge()
                  .Name("pep_startups_overdue")
                  .Help("Start-ups overdue: no milestone for too long, or phase past its length.")
                  .Register(r)
                  .Add({});
  transitions_ = &prometheus::BuildCounter()
                      .Name("pep_phase_transitions_total")
                      .Help("Phase changes recorded (imports included), by from and to phase.")
                      .Register(r);
  auto& milestones = prometheus::BuildCounter()
                         .Name("pep_milestones_total")
                         .Help("Milestones recorded, by kind.")
                         .Register(r);
  for (int k = v1::MILESTONE_KIND_PRODUCT_LAUNCH; k <= v1::MILESTONE_KIND_OTHER; ++k) {
    const auto kind = static_cast<v1::MilestoneKind>(k);
    std::string name = v1::MilestoneKind_Name(kind).substr(strlen("MILESTONE_KIND_"));
    milestones_[kind] = &milestones.Add({{"kind", Lower(name)}});
  }
  auto& lines = prometheus::BuildCounter()
                    .Name("pep_import_lines_total")
                    .Help("Portfolio import lines, by result.")
                    .Register(r);
  for (const char* res : {"created", "updated", "unchanged", "rejected"}) {
    import_lines_[res] = &lines.Add({{"result", res}});
  }
}

void IncubationMetrics::SetPortfolio(const std::map<v1::Phase, int>& by_phase, int overdue) {
  for (auto& [phase, g] : by_phase_) {
    auto it = by_phase.find(phase);
    g->Set(it == by_phase.end() ? 0 : it->second);
  }
  overdue_->Set(overdue);
}

prometheus::Counter& IncubationMetrics::Transition(v1::Phase from, v1::Phase to) {
  auto key = std::make_pair(static_cast<int>(from), static_cast<int>(to));
  absl::MutexLock l(&transition_mu_);
  auto it = transition_cache_.find(key);
  if (it != transition_cache_.end()) return *it->second;
  auto& c = transitions_->Add({{"from", Lower(PhaseName(from))}, {"to", Lower(PhaseName(to))}});
  transition_cache_[key] = &c;
  return c;
}

IncubationService::IncubationService(IncubationStore& store, const Clock& clock,
                                     IncubationMetrics& metrics, std::function<void()> on_commit,
                                     IncubationServiceOptions options)
    : store_(store), clock_(clock), metrics_(metrics), on_commit_(std::move(on_commit)),
      options_(std::move(options)) {}

absl::StatusOr<auth::Principal> IncubationService::Caller(grpc::ServerContext* ctx) const {
  return auth::Authenticate(*ctx, options_.auth);
}

void IncubationService::Decorate(v1::Startup* s) const {
  s->clear_overdue_reasons();
  for (auto& r : OverdueReasons(*s, clock_.Now(), options_.staleness)) s->add_overdue_reasons(r);
  s->set_overdue(s->overdue_reasons_size() > 0);
  s->clear_team_signals();
  for (auto& sig : TeamSignals(*s, clock_.Now())) *s->add_team_signals() = std::move(sig);
}

void IncubationService::RefreshGauges() {
  auto all = store_.AllStartups();
  if (!all.ok()) return;
  std::map<v1::Phase, int> by_phase;
  int overdue = 0;
  const absl::Time now = clock_.Now();
  for (const auto& s : *all) {
    ++by_phase[s.phase()];
    overdue += !OverdueReasons(s, now, options_.staleness).empty();
  }
  metrics_.SetPortfolio(by_phase, overdue);
}

// Incubation pace is a few writes a minute: recomputing the gauges after each is cheap.
void IncubationService::Committed() {
  if (on_commit_) on_commit_();
  RefreshGauges();
}

absl::Status IncubationService::HandleIdeaEvent(const events::Record& record,
                                                const events::Envelope& env) {
  if (env.type != "pepiniere.ideas.v1.IdeaSelected") return absl::OkStatus();
  pepiniere::ideas::v1::IdeaSelected sel;
  if (!sel.ParseFromString(record.value) || sel.idea_id().empty()) {
    return absl::InvalidArgumentError("IdeaSelected payload cannot be decoded");
  }
  bool created = false;
  absl::Status s = store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto first = tx.RecordInbox(env.id, record.topic);
    if (!first.ok()) return first.status();
    if (!*first) return absl::OkStatus();  // redelivered: already handled
    const absl::Time now = tx.Now();
    v1::Startup st;
    st.set_id(NewUuidV7(now));
    st.set_name(sel.title().substr(0, 120));
    std::string base = Slugify(sel.title());
    if (base.empty()) base = "startup";
    std::string slug = base;
    for (int n = 2;; ++n) {
      auto taken = tx.SlugTaken(slug);
      if (!taken.ok()) return taken.status();
      if (!*taken) break;
      slug = absl::StrCat(base, "-", n);
    }
    st.set_slug(slug);
    st.set_mission(sel.proposal().empty() ? sel.title() : sel.proposal());
    st.set_incubator(options_.default_incubator);
    st.add_tags(absl::StrCat("challenge:", sel.challenge_id()));
    st.set_origin_idea_id(sel.idea_id());
    st.set_correlation_id(env.correlation_id.empty() ? sel.idea_id() : env.correlation_id);
    *st.mutable_created_at() = ToTimestamp(now);
    ApplyPhaseChange(&st, v1::PHASE_INVESTIGATION, env.effective_time, "",
                     "Idée sélectionnée pour expérimentation");
    st.set_version(1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    v1::StartupCreated ev;
    *ev.mutable_startup() = st;
    created = true;
    return tx.Emit(st, ev, env.actor, env.effective_time, env.id);
  });
  if (s.ok() && created) Committed();
  return s;
}

grpc::Status IncubationService::CreateStartup(grpc::ServerContext* ctx,
                                              const v1::CreateStartupRequest* req,
                                              v1::Startup* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "creating a start-up"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateCreate(*req));
  const absl::Time now = clock_.Now();
  const absl::Time start = req->has_investigation_start() ? FromTimestamp(req->investigation_start()) : now;
  if (start > now + absl::Hours(24)) {
    return ToGrpcStatus(FieldError("investigation_start", "more than one day in the future"));
  }
  v1::Startup st;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    const std::string slug = req->slug().empty() ? Slugify(req->name()) : req->slug();
    auto taken = tx.SlugTaken(slug);
    if (!taken.ok()) return taken.status();
    if (*taken) return absl::AlreadyExistsError(absl::StrCat("slug: '", slug, "' is already used"));
    st.set_id(NewUuidV7(now));
    st.set_slug(slug);
    st.set_name(req->name());
    st.set_mission(req->mission());
    st.set_incubator(req->incubator());
    *st.mutable_sponsors() = req->sponsors();
    *st.mutable_links() = req->links();
    *st.mutable_tags() = req->tags();
    st.set_correlation_id(st.id());
    *st.mutable_created_at() = ToTimestamp(now);
    ApplyPhaseChange(&st, v1::PHASE_INVESTIGATION, start, "", "");
    st.set_version(1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    v1::StartupCreated ev;
    *ev.mutable_startup() = st;
    return tx.Emit(st, ev, p->id, start);
  }));
  Committed();
  Decorate(&st);
  *out = std::move(st);
  return grpc::Status::OK;
}

grpc::Status IncubationService::GetStartup(grpc::ServerContext* ctx,
                                           const v1::GetStartupRequest* req,
                                           v1::StartupDetails* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->startup_id().empty()) return ToGrpcStatus(FieldError("startup_id", "is required"));
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto decisions = tx.Decisions(st->id());
    if (!decisions.ok()) return decisions.status();
    auto milestones = tx.Milestones(st->id());
    if (!milestones.ok()) return milestones.status();
    *out->mutable_startup() = std::move(*st);
    for (auto& d : *decisions) *out->add_decisions() = std::move(d);
    for (auto& m : *milestones) *out->add_milestones() = std::move(m);
    return absl::OkStatus();
  }));
  Decorate(out->mutable_startup());
  return grpc::Status::OK;
}

grpc::Status IncubationService::ListStartups(grpc::ServerContext* ctx,
                                             const v1::ListStartupsRequest* req,
                                             v1::ListStartupsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequirePortfolioReader(*p, "listing start-ups"));
  if (req->page_size() < 0 || req->page_size() > 1000) {
    return ToGrpcStatus(FieldError("page_size", absl::StrCat("must be 0-1000 (got ", req->page_size(), ")")));
  }
  if (!req->page_token().empty() && !IsUuid(req->page_token())) {
    return ToGrpcStatus(FieldError("page_token", "is not a token returned by ListStartups"));
  }
  if (req->skip() < 0) return ToGrpcStatus(FieldError("skip", absl::StrCat("must be >= 0 (got ", req->skip(), ")")));
  if (!req->team_signal().empty() && !IsTeamSignalCode(req->team_signal())) {
    return ToGrpcStatus(FieldError("team_signal", absl::StrCat("is not a team signal: '", req->team_signal(),
                                                               "' (no_intrapreneur, no_coach, mission_ending, mission_ended, turnover)")));
  }
  const int page = req->page_size() == 0 ? 100 : req->page_size();
  // Visits the start-ups after `cursor` that pass the filters, in id order, until `take` says
  // stop. Overdue depends on the clock, so it is filtered here, in batches.
  auto scan = [&](std::string cursor, auto take) -> absl::Status {
    constexpr int kBatch = 500;
    while (true) {
      auto batch = store_.ScanStartups(req->phase(), req->incubator(), req->sponsor(), cursor, kBatch);
      if (!batch.ok()) return batch.status();
      for (auto& s : *batch) {
        cursor = s.id();
        Decorate(&s);
        if (req->overdue_only() && !s.overdue()) continue;
        if (!req->team_signal().empty() &&
            std::none_of(s.team_signals().begin(), s.team_signals().end(),
                         [&](const v1::TeamSignal& sig) { return sig.code() == req->team_signal(); })) {
          continue;
        }
        if (!take(std::move(s))) return absl::OkStatus();
      }
      if (static_cast<int>(batch->size()) < kBatch) return absl::OkStatus();
    }
  };
  if (!req->query().empty() || !req->order_by().empty() || req->skip() > 0) {
    // The console's table: every matching start-up, sorted, then one page of them. A portfolio
    // is hundreds to a few thousand start-ups: one indexed scan and an in-memory sort.
    const std::string folded = FoldForSearch(req->query());
    const std::vector<std::string> words =
        folded.empty() ? std::vector<std::string>{} : absl::StrSplit(folded, ' ');
    std::vector<v1::Startup> all;
    PEP_GRPC_RETURN_IF_ERROR(scan("", [&](v1::Startup s) {
      if (MatchesQuery(s, words)) all.push_back(std::move(s));
      return true;
    }));
    PEP_GRPC_RETURN_IF_ERROR(SortStartups(&all, req->order_by()));
    out->set_total_size(static_cast<int32_t>(all.size()));
    for (size_t i = static_cast<size_t>(req->skip()); i < all.size() && out->startups_size() < page; ++i) {
      *out->add_startups() = std::move(all[i]);
    }
    return grpc::Status::OK;
  }
  PEP_GRPC_RETURN_IF_ERROR(scan(req->page_token(), [&](v1::Startup s) {
    *out->add_startups() = std::move(s);
    if (out->startups_size() < page) return true;
    out->set_next_page_token(out->startups(page - 1).id());  // the next page may turn out empty
    return false;
  }));
  return grpc::Status::OK;
}

grpc::Status IncubationService::UpdateStartup(grpc::ServerContext* ctx,
                                              const v1::UpdateStartupRequest* req,
                                              v1::Startup* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "updating a start-up"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateUpdate(*req));
  v1::Startup st;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto got = tx.GetStartup(req->startup_id());
    if (!got.ok()) return got.status();
    st = std::move(*got);
    v1::StartupUpdated ev;
    ev.set_startup_id(st.id());
    if (!req->name().empty() && Change(&ev, "name", st.name(), req->name())) st.set_name(req->name());
    if (!req->mission().empty() && Change(&ev, "mission", st.mission(), req->mission())) {
      st.set_mission(req->mission());
    }
    if (!req->incubator().empty() && Change(&ev, "incubator", st.incubator(), req->incubator())) {
      st.set_incubator(req->incubator());
    }
    if (req->sponsors_size() > 0 && Change(&ev, "sponsors", absl::StrJoin(st.sponsors(), ","),
                                           absl::StrJoin(req->sponsors(), ","))) {
      *st.mutable_sponsors() = req->sponsors();
    }
    if (req->tags_size() > 0 &&
        Change(&ev, "tags", absl::StrJoin(st.tags(), ","), absl::StrJoin(req->tags(), ","))) {
      *st.mutable_tags() = req->tags();
    }
    if (req->has_links() && Change(&ev, "links", LinksText(st.links()), LinksText(req->links()))) {
      *st.mutable_links() = req->links();
    }
    if (ev.changes_size() == 0) return absl::OkStatus();
    st.set_version(st.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    return tx.Emit(st, ev, p->id, tx.Now());
  }));
  Committed();
  Decorate(&st);
  *out = std::move(st);
  return grpc::Status::OK;
}

grpc::Status IncubationService::RecordCommitteeDecision(
    grpc::ServerContext* ctx, const v1::RecordCommitteeDecisionRequest* req,
    v1::CommitteeDecision* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "recording a committee decision"));
  PEP_GRPC_RETURN_IF_ERROR(ValidateDecision(*req, clock_.Now()));
  PEP_GRPC_RETURN_IF_ERROR(ValidateDecisionSteering(*req));
  v1::CommitteeDecision d;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    if (IsTerminal(st->phase())) {
      return absl::FailedPreconditionError(
          absl::StrCat("start-up is ", PhaseName(st->phase()), ": no further committee"));
    }
    const absl::Time now = tx.Now();
    d.set_id(NewUuidV7(now));
    d.set_startup_id(st->id());
    *d.mutable_date() = req->date();
    d.set_outcome(req->outcome());
    d.set_rationale(req->rationale());
    *d.mutable_participants() = req->participants();
    *d.mutable_document_refs() = req->document_refs();
    d.set_recorded_by(p->id);
    *d.mutable_recorded_at() = ToTimestamp(now);
    // What the committee granted (issue 31): the meeting it sat in, the envelope, the objectives,
    // when it looks again — the start-up's next review, unless an earlier-dated decision is
    // recorded late.
    if (!req->meeting_id().empty()) {
      auto m = tx.GetCommittee(req->meeting_id());
      if (absl::IsNotFound(m.status())) return absl::NotFoundError("meeting_id: no such committee meeting");
      if (!m.ok()) return m.status();
      if (std::find(m->startup_ids().begin(), m->startup_ids().end(), st->id()) == m->startup_ids().end()) {
        return absl::FailedPreconditionError(
            absl::StrCat("meeting_id: start-up ", st->id(), " is not on that meeting's agenda"));
      }
      d.set_meeting_id(m->id());
    }
    d.set_envelope_eur(req->envelope_eur());
    *d.mutable_objectives() = req->objectives();
    const std::optional<absl::Time> next = NextReview(*req);
    if (next) *d.mutable_next_review() = ToTimestamp(*next);
    auto earlier = tx.Decisions(st->id());
    if (!earlier.ok()) return earlier.status();
    bool latest = true;
    for (const auto& e : *earlier) latest = latest && FromTimestamp(e.date()) <= FromTimestamp(req->date());
    if (latest) {
      if (next) *st->mutable_next_review() = ToTimestamp(*next);
      else st->clear_next_review();
      if (req->envelope_eur() > 0) {  // a new envelope: its period begins at the decision
        auto entries = tx.BudgetEntries(st->id());
        if (!entries.ok()) return entries.status();
        *st->mutable_budget() = portfolio::WithEnvelope(req->envelope_eur(), FromTimestamp(req->date()), *entries);
      }
    }
    PEP_RETURN_IF_ERROR(tx.PutDecision(d));
    st->set_version(st->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
    v1::CommitteeDecisionRecorded ev;
    *ev.mutable_decision() = d;
    return tx.Emit(*st, ev, p->id, FromTimestamp(req->date()));
  }));
  Committed();
  *out = std::move(d);
  return grpc::Status::OK;
}

grpc::Status IncubationService::ChangePhase(grpc::ServerContext* ctx,
                                            const v1::ChangePhaseRequest* req, v1::Startup* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "changing a phase"));
  if (req->to() == v1::PHASE_UNSPECIFIED) return ToGrpcStatus(FieldError("to", "is required"));
  v1::Startup st;
  v1::Phase from = v1::PHASE_UNSPECIFIED;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto got = tx.GetStartup(req->startup_id());
    if (!got.ok()) return got.status();
    st = std::move(*got);
    from = st.phase();
    const absl::Time now = tx.Now();
    const absl::Time effective = req->has_effective_date() ? FromTimestamp(req->effective_date()) : now;
    PEP_RETURN_IF_ERROR(CheckTransition(from, req->to()));
    const absl::Time current_start = FromTimestamp(st.phases(st.phases_size() - 1).start());
    PEP_RETURN_IF_ERROR(CheckEffectiveDate(effective, current_start, now));
    std::optional<v1::CommitteeDecision> decision;
    if (!req->decision_id().empty()) {
      auto d = tx.GetDecision(req->decision_id());
      if (absl::IsNotFound(d.status())) {
        return absl::NotFoundError(absl::StrCat("decision_id: no committee decision ", req->decision_id()));
      }
      if (!d.ok()) return d.status();
      decision = std::move(*d);
    }
    PEP_RETURN_IF_ERROR(CheckCommitteeGate(decision ? &*decision : nullptr, st.id(), from,
                                           req->to(), effective));
    if (decision) {
      decision->set_used(true);
      PEP_RETURN_IF_ERROR(tx.PutDecision(*decision));
    }
    ApplyPhaseChange(&st, req->to(), effective, req->decision_id(), req->comment());
    st.set_version(st.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    v1::PhaseChanged ev;
    ev.set_startup_id(st.id());
    ev.set_from(from);
    ev.set_to(req->to());
    *ev.mutable_effective_date() = ToTimestamp(effective);
    ev.set_decision_id(req->decision_id());
    ev.set_comment(req->comment());
    return tx.Emit(st, ev, p->id, effective);
  }));
  metrics_.Transition(from, req->to()).Increment();
  Committed();
  Decorate(&st);
  *out = std::move(st);
  return grpc::Status::OK;
}

grpc::Status IncubationService::PushMilestone(grpc::ServerContext* ctx,
                                              const v1::PushMilestoneRequest* req,
                                              v1::Milestone* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!p->HasRole("coordinator") && !p->HasRole("product_team")) {
    return ToGrpcStatus(absl::PermissionDeniedError(
        "pushing a milestone requires the product_team or coordinator role"));
  }
  PEP_GRPC_RETURN_IF_ERROR(ValidateMilestone(*req, clock_.Now()));
  const std::string fingerprint = MilestoneFingerprint(*req);
  v1::Milestone m;
  bool replay = false;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto existing = tx.MilestoneByKey(st->id(), req->idempotency_key());
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      if ((*existing)->second != fingerprint) {
        return absl::AlreadyExistsError(absl::StrCat(
            "idempotency_key: '", req->idempotency_key(),
            "' was already used for a different milestone of this start-up"));
      }
      m = (*existing)->first;
      replay = true;
      return absl::OkStatus();
    }
    const absl::Time now = tx.Now();
    m.set_id(NewUuidV7(now));
    m.set_startup_id(st->id());
    m.set_title(req->title());
    m.set_description(req->description());
    *m.mutable_date() = req->date();
    m.set_kind(req->kind());
    *m.mutable_kpis() = req->kpis();
    *m.mutable_links() = req->links();
    m.set_idempotency_key(req->idempotency_key());
    m.set_pushed_by(p->id);
    *m.mutable_recorded_at() = ToTimestamp(now);
    PEP_RETURN_IF_ERROR(tx.PutMilestone(m, fingerprint));
    if (!st->has_last_milestone_at() || st->last_milestone_at().seconds() < m.date().seconds()) {
      *st->mutable_last_milestone_at() = m.date();
    }
    st->set_version(st->version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
    v1::MilestonePushed ev;
    *ev.mutable_milestone() = m;
    return tx.Emit(*st, ev, p->id, FromTimestamp(m.date()));
  }));
  if (!replay) {
    metrics_.Milestone(m.kind()).Increment();
    Committed();
  }
  *out = std::move(m);
  return grpc::Status::OK;
}

grpc::Status IncubationService::ListMilestones(grpc::ServerContext* ctx,
                                               const v1::ListMilestonesRequest* req,
                                               v1::ListMilestonesResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](IncubationTx& tx) -> absl::Status {
    auto st = tx.GetStartup(req->startup_id());
    if (!st.ok()) return st.status();
    PEP_RETURN_IF_ERROR(CheckScope(*p, st->id()));
    auto ms = tx.Milestones(st->id());
    if (!ms.ok()) return ms.status();
    for (auto& m : *ms) *out->add_milestones() = std::move(m);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status IncubationService::GetPortfolioStats(grpc::ServerContext* ctx,
                                                  const v1::GetPortfolioStatsRequest* req,
                                                  v1::PortfolioStats* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequirePortfolioReader(*p, "portfolio statistics"));
  auto all = store_.AllStartups();
  PEP_GRPC_RETURN_IF_ERROR(all.status());
  std::vector<v1::Startup> selected;
  for (auto& s : *all) {
    if (req->incubator().empty() || s.incubator() == req->incubator()) selected.push_back(std::move(s));
  }
  const absl::Time now = clock_.Now();
  *out = ComputeStats(selected, now, options_.staleness);
  for (const v1::Startup& s : selected) {
    std::set<std::string> codes;  // a start-up counts once per signal (two missions ending: one)
    for (const v1::TeamSignal& sig : TeamSignals(s, now)) codes.insert(sig.code());
    for (const std::string& c : codes) ++(*out->mutable_team_signals())[c];
  }
  return grpc::Status::OK;
}

}  // namespace pep::incubation
