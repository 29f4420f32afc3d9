// The REST routes: one table. Adding a route is one `add(...)` here — method, pattern, roles,
// summary, body, documented messages, handler; dispatch, role checks, body limits and
// /openapi.json all read this table.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "pepiniere/gateway/v1/gateway.pb.h"
#include "services/gateway/calls.h"
#include "services/gateway/gateway.h"

namespace pep::gateway {

namespace iv1 = ::pepiniere::ideas::v1;
namespace nv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;
namespace av1 = ::pepiniere::audit::v1;
namespace gv1 = ::pepiniere::gateway::v1;

namespace {

gv1::Token TokenJson(const Token& t) {
  gv1::Token out;
  out.set_id(t.id);
  out.set_name(t.name);
  out.set_actor(t.actor);
  out.set_role(t.role);
  out.set_scope(t.scope);
  out.set_created_by(t.created_by);
  *out.mutable_created_at() = ToTimestamp(t.created_at);
  *out.mutable_expires_at() = ToTimestamp(t.expires_at);
  out.set_revoked(t.revoked);
  return out;
}

// A service's error as an absl::Status naming the service (for checks made before the call).
absl::Status BackendStatus(const grpc::Status& s, const Backend& backend) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(backend.name(), ": ", s.error_message()));
}

// Limits of the services' gRPC servers (their --max_receive_bytes defaults), so an oversized
// body is refused here with 413 rather than by the service.
constexpr size_t kFeedbackBodyBytes = 64 << 10;
constexpr size_t kImportBodyBytes = 32 << 20;

}  // namespace

void Gateway::BuildRoutes() {
  Backends& b = backends_;
  auto* ideas = b.ideas_stub.get();
  auto* inc = b.incubation_stub.get();
  auto* fb = b.feedback_stub.get();
  auto* audit = b.audit_stub.get();
  constexpr unsigned C = kCoordinator, J = kJuror, T = kProductTeam, A = kAgent;
  auto add = [this](std::string method, std::string pattern, unsigned roles, std::string summary,
                    Body body, const google::protobuf::Descriptor* request,
                    const google::protobuf::Descriptor* response, Backend* backend,
                    RouteHandler h, std::string response_type = "application/json",
                    size_t max_body = 0) {
    routes_.push_back(Route{std::move(method), std::move(pattern), roles, std::move(summary), body,
                            request, response, std::move(response_type), std::move(h), backend,
                            max_body});
  };

  // A juror reads and scores only the ideas of challenges they sit on.
  auto juror_of_challenge = [&b, ideas](const CallPtr& call, const std::string& challenge_id,
                                        std::function<void(absl::Status)> done) {
    const Caller& c = call->caller;
    if (c.role != kJuror) return done(absl::OkStatus());
    iv1::GetChallengeRequest rq;
    rq.set_challenge_id(challenge_id);
    CallUnary(b.ideas, ideas, &iv1::IdeaService::Stub::async::GetChallenge, call->meta, rq,
              [actor = c.actor, challenge_id, done, &b](const grpc::Status& s, iv1::Challenge& ch,
                                                        int) {
                if (!s.ok()) return done(BackendStatus(s, b.ideas));
                for (const auto& j : ch.juror_ids()) {
                  if (j == actor) return done(absl::OkStatus());
                }
                done(absl::PermissionDeniedError(absl::StrCat(
                    "'", actor, "' is not on the jury of challenge '", challenge_id, "'")));
              });
  };
  AsyncCheck juror_of_path_challenge = [juror_of_challenge](CallPtr call, std::function<void(absl::Status)> done) {
    juror_of_challenge(call, call->params.at("challenge_id"), std::move(done));
  };
  AsyncCheck juror_of_path_idea = [&b, ideas, juror_of_challenge](CallPtr call,
                                                                   std::function<void(absl::Status)> done) {
    if (call->caller.role != kJuror) return done(absl::OkStatus());
    iv1::GetIdeaRequest rq;
    rq.set_idea_id(call->params.at("idea_id"));
    CallUnary(b.ideas, ideas, &iv1::IdeaService::Stub::async::GetIdea, call->meta, rq,
              [call, done, juror_of_challenge, &b](const grpc::Status& s, iv1::Idea& idea, int) {
                if (!s.ok()) return done(BackendStatus(s, b.ideas));
                juror_of_challenge(call, idea.challenge_id(), done);
              });
  };
  auto own_idea = [](const Caller& c, const iv1::Idea& idea) -> absl::Status {
    if (c.role == kAgent && idea.author_id() != c.actor) {
      return absl::PermissionDeniedError("an agent reads only the ideas they submitted");
    }
    return absl::OkStatus();
  };
  using IS = class iv1::IdeaService::Stub::async;
  using NS = class nv1::IncubationService::Stub::async;
  using FS = class fv1::FeedbackService::Stub::async;
  using AS = class av1::AuditService::Stub::async;

  // --- challenges and ideas ---
  add("GET", "/v1/challenges", C | J | A, "Lister les défis", Body::kNone,
      iv1::ListChallengesRequest::descriptor(), iv1::ListChallengesResponse::descriptor(),
      &b.ideas, Unary(b.ideas, ideas, &IS::ListChallenges));
  add("POST", "/v1/challenges", C, "Créer un défi (brouillon)", Body::kJson,
      iv1::CreateChallengeRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::CreateChallenge,
            UnaryOptions<iv1::CreateChallengeRequest, iv1::Challenge>{.ok_status = 201}));
  add("GET", "/v1/challenges/{challenge_id}", C | J | A, "Lire un défi", Body::kNone,
      iv1::GetChallengeRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::GetChallenge));
  add("POST", "/v1/challenges/{challenge_id}:open", C, "Ouvrir un défi aux dépôts", Body::kJson,
      iv1::ChallengeTransitionRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::OpenChallenge));
  add("POST", "/v1/challenges/{challenge_id}:close", C, "Clore un défi", Body::kJson,
      iv1::ChallengeTransitionRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::CloseChallenge));
  add("POST", "/v1/challenges/{challenge_id}/jurors", C, "Désigner des jurés", Body::kJson,
      iv1::AssignJurorsRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::AssignJurors));
  add("GET", "/v1/challenges/{challenge_id}/ideas", C | J | A,
      "Lister les idées d'un défi (un agent ne voit que les siennes)", Body::kNone,
      iv1::ListIdeasRequest::descriptor(), iv1::ListIdeasResponse::descriptor(), &b.ideas,
      Guarded(Unary(b.ideas, ideas, &IS::ListIdeas,
                    UnaryOptions<iv1::ListIdeasRequest, iv1::ListIdeasResponse>{
                        .before = [](const Caller& c, const PathParams&, iv1::ListIdeasRequest& r) {
                          if (c.role == kAgent) r.set_author_id(c.actor);
                          return absl::OkStatus();
                        }}),
              juror_of_path_challenge));
  add("POST", "/v1/challenges/{challenge_id}/ideas", C | A, "Déposer une idée", Body::kJson,
      iv1::SubmitIdeaRequest::descriptor(), iv1::SubmitIdeaResponse::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::SubmitIdea,
            UnaryOptions<iv1::SubmitIdeaRequest, iv1::SubmitIdeaResponse>{.ok_status = 201}));
  add("GET", "/v1/challenges/{challenge_id}/ranking", C | J, "Classement des idées d'un défi",
      Body::kNone, iv1::RankIdeasRequest::descriptor(), iv1::RankIdeasResponse::descriptor(),
      &b.ideas, Guarded(Unary(b.ideas, ideas, &IS::RankIdeas), juror_of_path_challenge));
  add("GET", "/v1/ideas/{idea_id}", C | J | A, "Lire une idée", Body::kNone,
      iv1::GetIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Guarded(Unary(b.ideas, ideas, &IS::GetIdea,
                    UnaryOptions<iv1::GetIdeaRequest, iv1::Idea>{.after = own_idea}),
              juror_of_path_idea));
  add("PATCH", "/v1/ideas/{idea_id}", C | A, "Modifier son idée", Body::kJson,
      iv1::EditIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::EditIdea));
  add("POST", "/v1/ideas/{idea_id}:withdraw", C | A, "Retirer son idée", Body::kJson,
      iv1::WithdrawIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::WithdrawIdea));
  add("GET", "/v1/ideas/{idea_id}/scores", C | J, "Grilles d'évaluation d'une idée", Body::kNone,
      iv1::ListScorecardsRequest::descriptor(), iv1::ListScorecardsResponse::descriptor(),
      &b.ideas, Guarded(Unary(b.ideas, ideas, &IS::ListScorecards), juror_of_path_idea));
  add("POST", "/v1/ideas/{idea_id}/scores", J, "Évaluer une idée (juré)", Body::kJson,
      iv1::ScoreIdeaRequest::descriptor(), iv1::Scorecard::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::ScoreIdea));
  add("POST", "/v1/ideas/{idea_id}:decide", C, "Décider du sort d'une idée", Body::kJson,
      iv1::DecideIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::DecideIdea));

  // --- start-ups ---
  add("GET", "/v1/startups", C, "Portefeuille des start-ups", Body::kNone,
      nv1::ListStartupsRequest::descriptor(), nv1::ListStartupsResponse::descriptor(),
      &b.incubation, Unary(b.incubation, inc, &NS::ListStartups));
  add("POST", "/v1/startups", C, "Créer une start-up", Body::kJson,
      nv1::CreateStartupRequest::descriptor(), nv1::Startup::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::CreateStartup,
            UnaryOptions<nv1::CreateStartupRequest, nv1::Startup>{.ok_status = 201}));
  add("GET", "/v1/startups/{startup_id}", C | T, "Lire une start-up", Body::kNone,
      nv1::GetStartupRequest::descriptor(), nv1::StartupDetails::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::GetStartup));
  add("PATCH", "/v1/startups/{startup_id}", C, "Mettre à jour une fiche", Body::kJson,
      nv1::UpdateStartupRequest::descriptor(), nv1::Startup::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::UpdateStartup));
  add("POST", "/v1/startups/{startup_id}/committee-decisions", C, "Enregistrer un comité",
      Body::kJson, nv1::RecordCommitteeDecisionRequest::descriptor(),
      nv1::CommitteeDecision::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::RecordCommitteeDecision,
            UnaryOptions<nv1::RecordCommitteeDecisionRequest, nv1::CommitteeDecision>{
                .ok_status = 201}));
  add("POST", "/v1/startups/{startup_id}:change-phase", C, "Changer de phase (après comité)",
      Body::kJson, nv1::ChangePhaseRequest::descriptor(), nv1::Startup::descriptor(),
      &b.incubation, Unary(b.incubation, inc, &NS::ChangePhase));
  add("GET", "/v1/startups/{startup_id}/milestones", C | T, "Jalons d'une start-up", Body::kNone,
      nv1::ListMilestonesRequest::descriptor(), nv1::ListMilestonesResponse::descriptor(),
      &b.incubation, Unary(b.incubation, inc, &NS::ListMilestones));
  add("POST", "/v1/startups/{startup_id}/milestones", C | T, "Publier un jalon (CI de l'équipe)",
      Body::kJson, nv1::PushMilestoneRequest::descriptor(), nv1::Milestone::descriptor(),
      &b.incubation,
      Unary(b.incubation, inc, &NS::PushMilestone,
            UnaryOptions<nv1::PushMilestoneRequest, nv1::Milestone>{.ok_status = 201}));
  add("POST", "/v1/startups/{startup_id}/team", C, "Ajouter un membre à l'équipe", Body::kJson,
      nv1::AddTeamMemberRequest::descriptor(), nv1::Startup::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::AddTeamMember));
  add("DELETE", "/v1/startups/{startup_id}/team/{member_id}", C, "Retirer un membre de l'équipe",
      Body::kNone, nv1::RemoveTeamMemberRequest::descriptor(), nv1::Startup::descriptor(),
      &b.incubation, Unary(b.incubation, inc, &NS::RemoveTeamMember));
  add("POST", "/v1/imports/portfolio", C,
      "Importer un portefeuille (JSON Lines, une start-up par ligne; ?dry_run=true)",
      Body::kJsonLines, nv1::ImportPortfolioRequest::descriptor(), nv1::ImportReport::descriptor(),
      &b.incubation,
      [&b, inc](CallPtr call, Respond respond) {
        nv1::ImportPortfolioRequest in;
        in.set_jsonl(call->req.body);
        in.set_dry_run(call->req.Query("dry_run") == "true");
        CallUnary(b.incubation, inc, &NS::ImportPortfolio, call->meta, std::move(in),
                  [respond, &b](const grpc::Status& s, nv1::ImportReport& out, int retry) {
                    respond(s.ok() ? JsonResponse(200, out)
                                   : BackendErrorResponse(s, b.incubation.name(), retry));
                  });
      },
      "application/json", kImportBodyBytes);
  add("GET", "/v1/portfolio/stats", C, "Statistiques du portefeuille", Body::kNone,
      nv1::GetPortfolioStatsRequest::descriptor(), nv1::PortfolioStats::descriptor(),
      &b.incubation, Unary(b.incubation, inc, &NS::GetPortfolioStats));

  // --- feedback ---
  add("POST", "/v1/startups/{startup_id}/feedback", kAnyRole,
      "Donner son avis sur un service (public, sans jeton)", Body::kJson,
      fv1::SubmitFeedbackRequest::descriptor(), fv1::Feedback::descriptor(), &b.feedback,
      Unary(b.feedback, fb, &FS::SubmitFeedback,
            UnaryOptions<fv1::SubmitFeedbackRequest, fv1::Feedback>{.ok_status = 201}),
      "application/json", kFeedbackBodyBytes);
  add("GET", "/v1/startups/{startup_id}/feedback", C | T, "Avis reçus", Body::kNone,
      fv1::ListFeedbackRequest::descriptor(), fv1::ListFeedbackResponse::descriptor(),
      &b.feedback, Unary(b.feedback, fb, &FS::ListFeedback));
  add("GET", "/v1/startups/{startup_id}/feedback/summary", C | T,
      "Synthèse des avis (jour, semaine, mois, 12 mois)", Body::kNone,
      fv1::GetSummaryRequest::descriptor(), fv1::Summary::descriptor(), &b.feedback,
      Unary(b.feedback, fb, &FS::GetSummary));
  add("GET", "/v1/startups/{startup_id}/feedback:export", C | T,
      "Exporter les avis (?format=EXPORT_FORMAT_CSV ou EXPORT_FORMAT_JSONL)", Body::kNone,
      fv1::ExportFeedbackRequest::descriptor(), nullptr, &b.feedback,
      Streaming<fv1::FeedbackService::Stub, fv1::ExportFeedbackRequest, fv1::ExportChunk>(
          b.feedback, fb, &FS::ExportFeedback, {},
          [](const fv1::ExportFeedbackRequest& in) -> std::string {
            return in.format() == fv1::EXPORT_FORMAT_JSONL ? "application/x-ndjson"
                                                           : "text/csv; charset=utf-8";
          },
          [](const fv1::ExportChunk& chunk) { return chunk.data(); }),
      "text/csv");
  add("POST", "/v1/feedback/{feedback_id}:moderate", C, "Masquer un verbatim (modération)",
      Body::kJson, fv1::ModerateFeedbackRequest::descriptor(), fv1::Feedback::descriptor(),
      &b.feedback, Unary(b.feedback, fb, &FS::ModerateFeedback));

  // --- audit ---
  add("GET", "/v1/startups/{startup_id}/timeline", C | T,
      "Chronologie de la lignée (?individual_feedback=true)", Body::kNone,
      av1::GetTimelineRequest::descriptor(), av1::Timeline::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::GetTimeline,
            UnaryOptions<av1::GetTimelineRequest, av1::Timeline>{.rename = {{"startup_id", "id"}}}));
  add("GET", "/v1/startups/{startup_id}/state",
      C | T, "État à une date (?as_of=…&known_at=…, RFC 3339)", Body::kNone,
      av1::GetStateAsOfRequest::descriptor(), av1::StateAsOf::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::GetStateAsOf,
            UnaryOptions<av1::GetStateAsOfRequest, av1::StateAsOf>{.rename = {{"startup_id", "id"}}}));
  add("GET", "/v1/lineage/{id}", C, "Lignée : idée → start-up → phases → jalons → avis",
      Body::kNone, av1::GetLineageRequest::descriptor(), av1::Lineage::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::GetLineage));
  add("POST", "/v1/audit:verify", C, "Vérifier le registre (tout, ou ?subject=…)", Body::kJson,
      av1::VerifyLedgerRequest::descriptor(), av1::VerifyLedgerResponse::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::VerifyLedger));
  add("GET", "/v1/startups/{startup_id}/ledger:export", C | T,
      "Exporter le registre de la lignée (JSON Lines, vérifiable hors ligne ; la dernière ligne "
      "dit combien d'enregistrements et quelles têtes de chaîne elle couvre)",
      Body::kNone, av1::ExportLedgerRequest::descriptor(), nullptr, &b.audit,
      Streaming<av1::AuditService::Stub, av1::ExportLedgerRequest, av1::ExportLedgerLine>(
          b.audit, audit, &AS::ExportLedger, {{"startup_id", "id"}},
          [](const av1::ExportLedgerRequest&) -> std::string { return "application/x-ndjson"; },
          [](const av1::ExportLedgerLine& line) { return line.json() + "\n"; }),
      "application/x-ndjson");

  // --- identity (served by the gateway itself) ---
  add("GET", "/v1/me", kAnyRole, "Qui suis-je (rôle et périmètre du jeton)", Body::kNone, nullptr,
      gv1::Me::descriptor(), nullptr, [](CallPtr call, Respond respond) {
        gv1::Me me;
        me.set_actor(call->caller.actor);
        me.set_role(RoleName(call->caller.role));
        me.set_scope(call->caller.scope);
        respond(JsonResponse(200, me));
      });
  add("GET", "/v1/tokens", C, "Lister les jetons (jamais leur secret)", Body::kNone, nullptr,
      gv1::ListTokensResponse::descriptor(), nullptr, [this](CallPtr, Respond respond) {
        auto list = tokens_.List();
        if (!list.ok()) return respond(ErrorResponse(list.status()));
        gv1::ListTokensResponse out;
        for (const Token& t : *list) *out.add_tokens() = TokenJson(t);
        respond(JsonResponse(200, out));
      });
  add("POST", "/v1/tokens", C, "Créer un jeton (le secret n'est montré qu'une fois)", Body::kJson,
      gv1::CreateTokenRequest::descriptor(), gv1::CreateTokenResponse::descriptor(), nullptr,
      [this](CallPtr call, Respond respond) {
        gv1::CreateTokenRequest in;
        absl::Status parsed = ParseBody(call->req, &in);
        if (!parsed.ok()) return respond(ErrorResponse(parsed));
        NewToken n{in.name(), in.actor(), in.role(), in.scope(),
                   in.has_expires_at() ? FromTimestamp(in.expires_at())
                                       : absl::Now() + absl::Hours(24 * 90)};
        auto made = tokens_.Create(n, call->caller.actor);
        if (!made.ok()) return respond(ErrorResponse(made.status()));
        gv1::CreateTokenResponse out;
        *out.mutable_token() = TokenJson(made->first);
        out.set_secret(made->second);
        respond(JsonResponse(201, out));
      });
  add("DELETE", "/v1/tokens/{token_id}", C, "Révoquer un jeton", Body::kNone, nullptr,
      gv1::Empty::descriptor(), nullptr, [this](CallPtr call, Respond respond) {
        absl::Status s = tokens_.Revoke(call->params.at("token_id"));
        respond(s.ok() ? JsonResponse(200, gv1::Empty()) : ErrorResponse(s));
      });
}

}  // namespace pep::gateway
