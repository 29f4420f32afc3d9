// Steering a start-up (issue 31): its indicators and their measures (the team, from its CI with
// `pepctl kpi push`, or a coordinator), committee meetings, the team's ask, the pre-read, and the
// pre-read regenerated from the ledger by pep-audit (what the committee knew, checked).
#include "pepiniere/audit/v1/audit.grpc.pb.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"
#include "services/gateway/calls.h"
#include "services/gateway/gateway.h"

namespace pep::gateway {

namespace nv1 = ::pepiniere::incubation::v1;
namespace av1 = ::pepiniere::audit::v1;

void Gateway::BuildSteeringRoutes() {
  Backends& b = backends_;
  auto* inc = b.incubation_stub.get();
  auto* audit = b.audit_stub.get();
  using NS = class nv1::IncubationService::Stub::async;
  using AS = class av1::AuditService::Stub::async;
  constexpr unsigned C = kCoordinator, T = kProductTeam;
  auto add = [this](std::string method, std::string pattern, unsigned roles, std::string summary, Body body,
                    const google::protobuf::Descriptor* request, const google::protobuf::Descriptor* response,
                    Backend* backend, RouteHandler h) {
    routes_.push_back(Route{std::move(method), std::move(pattern), roles, std::move(summary), body, request,
                            response, "application/json", std::move(h), backend, 0});
  };

  add("GET", "/v1/startups/{startup_id}/kpis", C | T, "Indicateurs d'impact d'une start-up : définitions, cibles, mesures",
      Body::kNone, nv1::ListKpisRequest::descriptor(), nv1::ListKpisResponse::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::ListKpis));
  add("POST", "/v1/startups/{startup_id}/kpis",
      C | T, "Définir un indicateur (ou le redéfinir sous le même id) : sens, point de départ, cibles datées",
      Body::kJson, nv1::DefineKpiRequest::descriptor(), nv1::KpiDefinition::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::DefineKpi));
  add("POST", "/v1/startups/{startup_id}/kpis/{kpi}/points", C | T,
      "Enregistrer une mesure d'un indicateur (CI de l'équipe : pepctl kpi push ; idempotente par clé)", Body::kJson,
      nv1::RecordKpiPointRequest::descriptor(), nv1::KpiPoint::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::RecordKpiPoint,
            UnaryOptions<nv1::RecordKpiPointRequest, nv1::KpiPoint>{.ok_status = 201}));

  add("GET", "/v1/committees", C | T, "Comités d'investissement (une équipe : ceux qui examinent ses start-ups)",
      Body::kNone, nv1::ListCommitteesRequest::descriptor(), nv1::ListCommitteesResponse::descriptor(),
      &b.incubation, Unary(b.incubation, inc, &NS::ListCommittees));
  add("POST", "/v1/committees", C, "Programmer un comité : date, invités, start-ups à l'ordre du jour", Body::kJson,
      nv1::ScheduleCommitteeRequest::descriptor(), nv1::CommitteeMeeting::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::ScheduleCommittee,
            UnaryOptions<nv1::ScheduleCommitteeRequest, nv1::CommitteeMeeting>{.ok_status = 201}));
  add("GET", "/v1/committees/{meeting_id}", C | T, "Un comité : ordre du jour, demandes des équipes, pré-lectures",
      Body::kNone, nv1::GetCommitteeRequest::descriptor(), nv1::CommitteeDetails::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::GetCommittee));
  add("POST", "/v1/committees/{meeting_id}/asks/{startup_id}", C | T,
      "Déposer la demande de l'équipe au comité (équipe, enveloppe, hypothèses, critères de succès) ; la remplacer",
      Body::kJson, nv1::SubmitCommitteeAskRequest::descriptor(), nv1::CommitteeAsk::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::SubmitCommitteeAsk));
  add("POST", "/v1/committees/{meeting_id}/prereads/{startup_id}", C,
      "Établir la pré-lecture d'une start-up pour ce comité (son empreinte va au registre)", Body::kNone,
      nv1::IssuePreReadRequest::descriptor(), nv1::PreRead::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::IssuePreRead, UnaryOptions<nv1::IssuePreReadRequest, nv1::PreRead>{.ok_status = 201}));
  add("GET", "/v1/prereads/{preread_id}", C | T, "Lire une pré-lecture", Body::kNone,
      nv1::GetPreReadRequest::descriptor(), nv1::PreRead::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::GetPreRead));
  add("POST", "/v1/startups/{startup_id}/budget", C | T,
      "Enregistrer un engagement (AE) ou un paiement (CP) de la start-up, idempotent par clé", Body::kJson,
      nv1::RecordBudgetEntryRequest::descriptor(), nv1::BudgetEntry::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::RecordBudgetEntry,
            UnaryOptions<nv1::RecordBudgetEntryRequest, nv1::BudgetEntry>{.ok_status = 201}));
  add("GET", "/v1/startups/{startup_id}/budget", C | T,
      "Le budget de la start-up : enveloppe en cours, engagé, payé, reste, épuisement au rythme actuel", Body::kNone,
      nv1::GetBudgetRequest::descriptor(), nv1::Budget::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::GetBudget));
  {
    Route r{"GET", "/v1/budget.csv", C,
            "Le budget du portefeuille pour le service financier (CSV : start-up, année, nature, AE, CP, enveloppes)",
            Body::kNone, nv1::ExportBudgetRequest::descriptor(), nullptr, "text/csv",
            [&b, inc](CallPtr call, Respond respond) {
              CallUnary(b.incubation, inc, &NS::ExportBudget, call->meta, nv1::ExportBudgetRequest(),
                        [respond, &b](const grpc::Status& s, nv1::BudgetCsv& out, int retry) {
                          if (!s.ok()) return respond(BackendErrorResponse(s, b.incubation.name(), retry));
                          HttpResponse r;
                          r.content_type = "text/csv; charset=utf-8";
                          r.headers["Content-Disposition"] = "attachment; filename=\"budget.csv\"";
                          r.body = std::move(*out.mutable_csv());
                          respond(std::move(r));
                        });
            },
            &b.incubation, 0};
    r.response_schema = R"({"type":"string"})";
    routes_.push_back(std::move(r));
  }
  add("GET", "/v1/startups/{startup_id}/prereads/{preread_id}/ledger", C | T,
      "La pré-lecture refaite à partir du seul registre, et si son empreinte est celle enregistrée", Body::kNone,
      av1::RegeneratePreReadRequest::descriptor(), av1::RegeneratedPreRead::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::RegeneratePreRead));
}

}  // namespace pep::gateway
