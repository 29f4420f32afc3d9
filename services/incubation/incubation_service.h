// The pep-incubation gRPC edge (and the IdeaSelected handler): authenticate, check scope and
// role, validate, run the domain inside one store transaction (state + outbox), map statuses.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "auth/principal.h"
#include "common/clock.h"
#include "events/consumer.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/incubation/incubation_core.h"
#include "services/incubation/incubation_store.h"

namespace pep::incubation {

struct ImportPlan;

class IncubationMetrics {
 public:
  explicit IncubationMetrics(prometheus::Registry& registry);
  void SetPortfolio(const std::map<v1::Phase, int>& by_phase, int overdue);
  prometheus::Counter& Transition(v1::Phase from, v1::Phase to);
  prometheus::Counter& Milestone(v1::MilestoneKind kind) { return *milestones_.at(kind); }
  prometheus::Counter& ImportLines(const std::string& result) { return *import_lines_.at(result); }

 private:
  std::map<v1::Phase, prometheus::Gauge*> by_phase_;
  prometheus::Gauge* overdue_;
  prometheus::Family<prometheus::Counter>* transitions_;
  // Filled from gRPC threads as moves happen (issue 16 named the race: it had no lock).
  absl::Mutex transition_mu_;
  std::map<std::pair<int, int>, prometheus::Counter*> transition_cache_ ABSL_GUARDED_BY(transition_mu_);
  std::map<v1::MilestoneKind, prometheus::Counter*> milestones_;
  std::map<std::string, prometheus::Counter*> import_lines_;
};

struct IncubationServiceOptions {
  auth::AuthOptions auth;
  StalenessPolicy staleness;
  std::string default_incubator = "Incubateur";
  bool fiche_edits_reviewed = true;  // a team's fiche edit waits for a coordinator (false: live at once)
};

class IncubationService final : public v1::IncubationService::Service {
 public:
  IncubationService(IncubationStore& store, const Clock& clock, IncubationMetrics& metrics,
                    std::function<void()> on_commit, IncubationServiceOptions options);

  // Consumer handler for pepiniere.ideas.events: IdeaSelected opens a start-up (once per
  // event, through the inbox); other event types are acknowledged and ignored.
  absl::Status HandleIdeaEvent(const events::Record& record, const events::Envelope& env);
  // Recomputes the phase and overdue gauges (after writes, and periodically as time passes).
  void RefreshGauges();

  grpc::Status CreateStartup(grpc::ServerContext*, const v1::CreateStartupRequest*,
                             v1::Startup*) override;
  grpc::Status GetStartup(grpc::ServerContext*, const v1::GetStartupRequest*,
                          v1::StartupDetails*) override;
  grpc::Status ListStartups(grpc::ServerContext*, const v1::ListStartupsRequest*,
                            v1::ListStartupsResponse*) override;
  grpc::Status UpdateStartup(grpc::ServerContext*, const v1::UpdateStartupRequest*,
                             v1::Startup*) override;
  grpc::Status RecordCommitteeDecision(grpc::ServerContext*,
                                       const v1::RecordCommitteeDecisionRequest*,
                                       v1::CommitteeDecision*) override;
  grpc::Status ChangePhase(grpc::ServerContext*, const v1::ChangePhaseRequest*,
                           v1::Startup*) override;
  grpc::Status PushMilestone(grpc::ServerContext*, const v1::PushMilestoneRequest*,
                             v1::Milestone*) override;
  grpc::Status ListMilestones(grpc::ServerContext*, const v1::ListMilestonesRequest*,
                              v1::ListMilestonesResponse*) override;
  grpc::Status FindTeamMemberships(grpc::ServerContext*, const v1::FindTeamMembershipsRequest*,
                                   v1::FindTeamMembershipsResponse*) override;
  grpc::Status AddTeamMember(grpc::ServerContext*, const v1::AddTeamMemberRequest*,
                             v1::Startup*) override;
  grpc::Status RemoveTeamMember(grpc::ServerContext*, const v1::RemoveTeamMemberRequest*,
                                v1::Startup*) override;
  grpc::Status UpdateTeamMember(grpc::ServerContext*, const v1::UpdateTeamMemberRequest*,
                                v1::Startup*) override;
  grpc::Status ImportPortfolio(grpc::ServerContext*, const v1::ImportPortfolioRequest*,
                               v1::ImportReport*) override;
  grpc::Status GetPortfolioStats(grpc::ServerContext*, const v1::GetPortfolioStatsRequest*,
                                 v1::PortfolioStats*) override;
  grpc::Status SetPublication(grpc::ServerContext*, const v1::SetPublicationRequest*, v1::Startup*) override;
  grpc::Status ListPublicStartups(grpc::ServerContext*, const v1::ListPublicStartupsRequest*,
                                  v1::ListPublicStartupsResponse*) override;
  grpc::Status ProposeFicheEdit(grpc::ServerContext*, const v1::ProposeFicheEditRequest*, v1::FicheEdit*) override;
  grpc::Status ListFicheEdits(grpc::ServerContext*, const v1::ListFicheEditsRequest*,
                              v1::ListFicheEditsResponse*) override;
  grpc::Status DecideFicheEdit(grpc::ServerContext*, const v1::DecideFicheEditRequest*, v1::FicheEdit*) override;
  // Steering (incubation_steering.cc, issue 31).
  grpc::Status DefineKpi(grpc::ServerContext*, const v1::DefineKpiRequest*, v1::KpiDefinition*) override;
  grpc::Status RecordKpiPoint(grpc::ServerContext*, const v1::RecordKpiPointRequest*, v1::KpiPoint*) override;
  grpc::Status ListKpis(grpc::ServerContext*, const v1::ListKpisRequest*, v1::ListKpisResponse*) override;
  grpc::Status ScheduleCommittee(grpc::ServerContext*, const v1::ScheduleCommitteeRequest*,
                                 v1::CommitteeMeeting*) override;
  grpc::Status ListCommittees(grpc::ServerContext*, const v1::ListCommitteesRequest*,
                              v1::ListCommitteesResponse*) override;
  grpc::Status GetCommittee(grpc::ServerContext*, const v1::GetCommitteeRequest*, v1::CommitteeDetails*) override;
  grpc::Status SubmitCommitteeAsk(grpc::ServerContext*, const v1::SubmitCommitteeAskRequest*,
                                  v1::CommitteeAsk*) override;
  grpc::Status IssuePreRead(grpc::ServerContext*, const v1::IssuePreReadRequest*, v1::PreRead*) override;
  grpc::Status GetPreRead(grpc::ServerContext*, const v1::GetPreReadRequest*, v1::PreRead*) override;
  // Budget (incubation_budget.cc, issue 31).
  grpc::Status RecordBudgetEntry(grpc::ServerContext*, const v1::RecordBudgetEntryRequest*, v1::BudgetEntry*) override;
  grpc::Status GetBudget(grpc::ServerContext*, const v1::GetBudgetRequest*, v1::Budget*) override;
  grpc::Status ExportBudget(grpc::ServerContext*, const v1::ExportBudgetRequest*, v1::BudgetCsv*) override;

 private:
  using MemberChange =
      std::function<absl::Status(IncubationTx&, const auth::Principal&, v1::Startup&, v1::TeamMember&)>;
  grpc::Status ChangeMember(grpc::ServerContext* ctx, const std::string& startup_id,
                            const std::string& member_id, v1::Startup* out, const MemberChange& change);
  absl::StatusOr<auth::Principal> Caller(grpc::ServerContext* ctx) const;
  void Decorate(v1::Startup* s) const;  // overdue flags, from the clock
  void Committed();
  // Writes a PlanImport result: its rows, its events through the outbox, the new snapshot.
  absl::Status WritePlan(IncubationTx& tx, const ImportPlan& plan, const std::string& slug,
                         const v1::StartupDetails& src, const std::string& actor);

  IncubationStore& store_;
  const Clock& clock_;
  IncubationMetrics& metrics_;
  std::function<void()> on_commit_;
  const IncubationServiceOptions options_;
};

}  // namespace pep::incubation
