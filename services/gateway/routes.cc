// The REST routes: one table. Adding a route is one `add(...)` here — method, pattern, roles,
// summary, body, documented messages, handler; dispatch, role checks, body limits and
// /openapi.json all read this table.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  if (t.last_used_at != absl::InfinitePast()) *out.mutable_last_used_at() = ToTimestamp(t.last_used_at);
  out.set_created_by_account(t.created_by_account);
  return out;
}

gv1::Grant GrantJson(const GrantRow& g) {
  gv1::Grant out;
  out.set_account_id(g.account_id);
  out.set_role(g.role);
  out.set_scope(g.scope);
  out.set_granted_by(g.granted_by);
  *out.mutable_granted_at() = ToTimestamp(g.granted_at);
  out.set_reason(g.reason);
  return out;
}

gv1::Account AccountJson(const Account& a) {
  gv1::Account out;
  out.set_id(a.id);
  out.set_display_name(a.display_name);
  out.set_email(a.email);
  out.set_organisation(a.organisation);
  out.set_issuer(a.issuer);
  *out.mutable_created_at() = ToTimestamp(a.created_at);
  for (const GrantRow& g : a.grants) *out.add_grants() = GrantJson(g);
  return out;
}

// Limits of the services' gRPC servers (their --max_receive_bytes defaults), so an oversized
// body is refused here with 413 rather than by the service.
constexpr size_t kFeedbackBodyBytes = 64 << 10;
constexpr size_t kImportBodyBytes = 32 << 20;

// A C2SP resource of the log as pep-audit serves it: the bytes as they are, cacheable as the
// spec allows (a tile or bundle never changes under its name; the checkpoint does).
RouteHandler LedgerTile(Backend& backend, av1::AuditService::Stub* stub, std::string fixed) {
  return [&backend, stub, fixed](CallPtr call, Respond respond) {
    av1::ReadLedgerTileRequest req;
    auto tile = call->params.find("tile");
    req.set_path(fixed.empty() && tile != call->params.end() ? "tile/" + tile->second : fixed);
    const bool entries = absl::StartsWith(req.path(), "tile/entries/");
    const bool checkpoint = fixed == "checkpoint";
    CallUnary(backend, stub, &av1::AuditService::Stub::async::ReadLedgerTile, call->meta, std::move(req),
              [respond, entries, checkpoint, &backend](const grpc::Status& s, av1::LedgerTile& tile,
                                                       int retry_after) {
                if (!s.ok()) return respond(BackendErrorResponse(s, backend.name(), retry_after));
                HttpResponse r;
                r.content_type = checkpoint ? "text/plain; charset=utf-8" : "application/octet-stream";
                r.body = std::move(*tile.mutable_data());
                r.headers.emplace("Cache-Control", !tile.immutable() ? "no-cache"
                                                   : entries         ? "private, max-age=31536000, immutable"
                                                                     : "public, max-age=31536000, immutable");
                respond(std::move(r));
              });
  };
}

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
  add("POST", "/v1/challenges/{challenge_id}:visibility", C,
      "Qui lit les idées d'un défi (VISIBILITY_JURY, VISIBILITY_AGENTS) et le seuil de soutiens qui présélectionne",
      Body::kJson, iv1::SetChallengeVisibilityRequest::descriptor(), iv1::Challenge::descriptor(),
      &b.ideas, Unary(b.ideas, ideas, &IS::SetChallengeVisibility));
  add("POST", "/v1/challenges/{challenge_id}/jurors", C, "Désigner des jurés", Body::kJson,
      iv1::AssignJurorsRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::AssignJurors));
  // Who reads which idea is pep-ideas' rule (an agent their own, a juror their challenges'):
  // enforced there, so a direct gRPC call with the wrong principal is refused as well.
  add("GET", "/v1/challenges/{challenge_id}/ideas", C | J | A,
      "Lister les idées d'un défi (un agent ne voit que les siennes, un juré celles de son jury)",
      Body::kNone, iv1::ListIdeasRequest::descriptor(), iv1::ListIdeasResponse::descriptor(),
      &b.ideas, Unary(b.ideas, ideas, &IS::ListIdeas));
  add("POST", "/v1/challenges/{challenge_id}/ideas", C | A, "Déposer une idée", Body::kJson,
      iv1::SubmitIdeaRequest::descriptor(), iv1::SubmitIdeaResponse::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::SubmitIdea,
            UnaryOptions<iv1::SubmitIdeaRequest, iv1::SubmitIdeaResponse>{.ok_status = 201}));
  add("GET", "/v1/challenges/{challenge_id}/scores", C | J,
      "Grilles d'évaluation de toutes les idées d'un défi (avancement du jury)", Body::kNone,
      iv1::ListScorecardsRequest::descriptor(), iv1::ListScorecardsResponse::descriptor(),
      &b.ideas, Unary(b.ideas, ideas, &IS::ListScorecards));
  add("GET", "/v1/challenges/{challenge_id}/ranking", C | J, "Classement des idées d'un défi",
      Body::kNone, iv1::RankIdeasRequest::descriptor(), iv1::RankIdeasResponse::descriptor(),
      &b.ideas, Unary(b.ideas, ideas, &IS::RankIdeas));
  add("GET", "/v1/ideas/{idea_id}", C | J | A, "Lire une idée", Body::kNone,
      iv1::GetIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::GetIdea));
  add("DELETE", "/v1/ideas/{idea_id}", A, "Supprimer un brouillon (une idée envoyée se retire)", Body::kNone,
      iv1::SubmitDraftRequest::descriptor(), iv1::DiscardDraftResponse::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::DiscardDraft));
  add("POST", "/v1/ideas/{idea_id}:submit", A, "Envoyer au jury une idée gardée en brouillon", Body::kNone,
      iv1::SubmitDraftRequest::descriptor(), iv1::SubmitIdeaResponse::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::SubmitDraft));
  add("PATCH", "/v1/ideas/{idea_id}", C | A, "Modifier son idée", Body::kJson,
      iv1::EditIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::EditIdea));
  add("POST", "/v1/ideas/{idea_id}:withdraw", C | A, "Retirer son idée", Body::kJson,
      iv1::WithdrawIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::WithdrawIdea));
  add("GET", "/v1/ideas/{idea_id}/scores", C | J, "Grilles d'évaluation d'une idée", Body::kNone,
      iv1::ListScorecardsRequest::descriptor(), iv1::ListScorecardsResponse::descriptor(),
      &b.ideas, Unary(b.ideas, ideas, &IS::ListScorecards));
  add("POST", "/v1/ideas/{idea_id}/scores", J, "Évaluer une idée (juré)", Body::kJson,
      iv1::ScoreIdeaRequest::descriptor(), iv1::Scorecard::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::ScoreIdea));
  add("POST", "/v1/challenges/{challenge_id}:reveal-scores", C,
      "Lever les scellés : publier les grilles du jury, chacune vérifiée contre son empreinte, et clore l'évaluation",
      Body::kJson, iv1::ChallengeTransitionRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::RevealScores));
  add("POST", "/v1/challenges/{challenge_id}:schedule-results", C,
      "Annoncer les résultats ensemble : les décisions d'ici là sont publiées à cette date", Body::kJson,
      iv1::ScheduleResultsRequest::descriptor(), iv1::Challenge::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::ScheduleResults));
  add("POST", "/v1/ideas/{idea_id}:declare-conflict", J,
      "Se déporter sur une idée (conflit d'intérêts) : sa grille et sa voix ne comptent plus pour elle",
      Body::kNone, iv1::DeclareConflictRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::DeclareConflict));
  add("POST", "/v1/ideas/{idea_id}:decide", C, "Décider du sort d'une idée", Body::kJson,
      iv1::DecideIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::DecideIdea));
  add("POST", "/v1/challenges/{challenge_id}/similar-ideas", C | J | A,
      "Avant de déposer : les idées du défi qui ressemblent au texte saisi (parmi celles que l'on peut lire)",
      Body::kJson, iv1::FindSimilarIdeasRequest::descriptor(), iv1::FindSimilarIdeasResponse::descriptor(),
      &b.ideas, Unary(b.ideas, ideas, &IS::FindSimilarIdeas));
  add("GET", "/v1/ideas", C | J | A,
      "Mes idées, tous défis confondus (?author_id= pour un coordinateur ; ?status=)", Body::kNone,
      iv1::ListIdeasRequest::descriptor(), iv1::ListIdeasResponse::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::ListIdeas));
  // Supports are agents' (a signed-in person is an agent as well as what they were granted).
  add("PUT", "/v1/ideas/{idea_id}/support", A,
      "Soutenir l'idée d'un·e collègue (une fois ; dans un défi ouvert à tous les agents)", Body::kNone,
      iv1::SupportIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::SupportIdea));
  add("DELETE", "/v1/ideas/{idea_id}/support", A, "Retirer son soutien", Body::kNone,
      iv1::SupportIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::WithdrawSupport));
  // Co-authors: an author's single-use invitation, and a colleague joining with its code.
  add("POST", "/v1/ideas/{idea_id}/coauthor-invitations", A,
      "Inviter un·e collègue comme co-auteur·e (un code à lui transmettre, valable 14 jours, une fois)",
      Body::kNone, iv1::InviteCoauthorRequest::descriptor(), iv1::CoauthorInvitation::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::InviteCoauthor,
            UnaryOptions<iv1::InviteCoauthorRequest, iv1::CoauthorInvitation>{.ok_status = 201}));
  add("POST", "/v1/ideas/{idea_id}:join", A, "Rejoindre une idée comme co-auteur·e, avec le code reçu",
      Body::kJson, iv1::JoinIdeaRequest::descriptor(), iv1::Idea::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::JoinIdea));
  // Comments go with the idea: whoever reads it reads and writes them (pep-ideas decides).
  add("GET", "/v1/ideas/{idea_id}/comments", C | J | A,
      "Les commentaires d'une idée (chaque réponse après son commentaire)", Body::kNone,
      iv1::ListCommentsRequest::descriptor(), iv1::ListCommentsResponse::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::ListComments));
  add("POST", "/v1/ideas/{idea_id}/comments", C | J | A,
      "Commenter une idée, ou répondre à un commentaire (parent_id) ; coordonnées masquées",
      Body::kJson, iv1::AddCommentRequest::descriptor(), iv1::Comment::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::AddComment,
            UnaryOptions<iv1::AddCommentRequest, iv1::Comment>{.ok_status = 201}));
  add("PATCH", "/v1/comments/{comment_id}", C | J | A,
      "Modifier son commentaire (dans les 15 minutes)", Body::kJson,
      iv1::EditCommentRequest::descriptor(), iv1::Comment::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::EditComment));
  add("POST", "/v1/comments/{comment_id}:report", C | J | A, "Signaler un commentaire à la modération",
      Body::kJson, iv1::ReportCommentRequest::descriptor(), iv1::Comment::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::ReportComment));
  add("POST", "/v1/comments/{comment_id}:hide", C, "Masquer un commentaire, motif à l'appui",
      Body::kJson, iv1::HideCommentRequest::descriptor(), iv1::Comment::descriptor(), &b.ideas,
      Unary(b.ideas, ideas, &IS::HideComment));

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
  routes_.back().slug_ok = true;  // « /v1/startups/dossier-unique » for a coordinator
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
  add("POST", "/v1/startups/{startup_id}/team", C | T, "Ajouter un membre à l'équipe (l'équipe elle-même, ou la coordination)", Body::kJson,
      nv1::AddTeamMemberRequest::descriptor(), nv1::Startup::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::AddTeamMember));
  add("PATCH", "/v1/startups/{startup_id}/team/{member_id}", C | T,
      "Modifier un membre : intitulé, rôle, statut, fin de mission (l'équipe elle-même, ou la coordination)",
      Body::kJson, nv1::UpdateTeamMemberRequest::descriptor(), nv1::Startup::descriptor(), &b.incubation,
      Unary(b.incubation, inc, &NS::UpdateTeamMember));
  add("DELETE", "/v1/startups/{startup_id}/team/{member_id}", C | T, "Retirer un membre de l'équipe (l'équipe elle-même, ou la coordination)",
      Body::kNone, nv1::RemoveTeamMemberRequest::descriptor(), nv1::Startup::descriptor(),
      &b.incubation, Unary(b.incubation, inc, &NS::RemoveTeamMember));
  add("POST", "/v1/imports/portfolio", C,
      "Importer un portefeuille (JSON Lines, une start-up par ligne; ?dry_run=true)",
      Body::kJsonLines, nv1::ImportPortfolioRequest::descriptor(), nv1::ImportReport::descriptor(),
      &b.incubation,
      [&b, inc](CallPtr call, Respond respond) {
        if (call->req.body.empty()) {  // as the API document says: a body is required
          return respond(ErrorResponse(absl::InvalidArgumentError(
              "body: an import needs JSON Lines, one start-up per line (the body is empty)")));
        }
        nv1::ImportPortfolioRequest in;  // ?dry_run= as every boolean; an unknown name refused
        if (absl::Status q = ParseQuery(call->req, &in); !q.ok()) return respond(ErrorResponse(q));
        in.set_jsonl(call->req.body);
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

  // --- the verifiable log (issue 14): the tree is public, the entries are not ---
  // The checkpoint, proofs and hash tiles are hashes only: anyone may monitor the log without a
  // token (pepctl ledger watch from an inspector's cron). Entry bundles carry the events'
  // envelopes: pep-audit serves them to coordinators and auditors only.
  add("GET", "/ledger/checkpoint", kAnyRole, "Dernier point de contrôle signé (C2SP tlog-checkpoint)",
      Body::kNone, nullptr, nullptr, &b.audit, LedgerTile(b.audit, audit, "checkpoint"), "text/plain; charset=utf-8");
  add("GET", "/ledger/tile/{tile=**}", kAnyRole,
      "Tuiles du registre (C2SP tlog-tiles) : hachages publics, lots d'entrées pour les coordinateurs",
      Body::kNone, nullptr, nullptr, &b.audit, LedgerTile(b.audit, audit, ""), "application/octet-stream");
  add("GET", "/v1/ledger/checkpoint", kAnyRole, "Point de contrôle signé et clé de vérification publiée",
      Body::kNone, av1::GetCheckpointRequest::descriptor(), av1::Checkpoint::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::GetCheckpoint));
  add("GET", "/v1/ledger/inclusion", kAnyRole, "Preuve d'inclusion (?index=…&tree_size=…)", Body::kNone,
      av1::GetInclusionProofRequest::descriptor(), av1::InclusionProof::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::GetInclusionProof));
  add("GET", "/v1/ledger/consistency", kAnyRole, "Preuve de cohérence (?first=…&second=…)", Body::kNone,
      av1::GetConsistencyProofRequest::descriptor(), av1::ConsistencyProof::descriptor(), &b.audit,
      Unary(b.audit, audit, &AS::GetConsistencyProof));

  // --- identity (served by the gateway itself) ---
  add("GET", "/v1/me", kAnyRole,
      "Qui suis-je (personne connectée ou jeton : rôles, périmètre, droits accordés)", Body::kNone,
      nullptr, gv1::Me::descriptor(), nullptr, [this](CallPtr call, Respond respond) {
        const Caller& c = call->caller;
        gv1::Me me;
        me.set_actor(c.actor);
        me.set_role(RoleName(HighestRole(c.roles)));
        me.set_scope(absl::StrJoin(c.scopes, ","));
        for (Role r : RolesOf(c.roles)) me.add_roles(RoleName(r));
        me.set_via(c.via);
        me.set_sign_in_available(web_ != nullptr && web_->enabled());
        if (c.person != nullptr) {  // the account the session authenticated, grants included
          me.set_display_name(c.person->display_name);
          me.set_email(c.person->email);
          me.set_organisation(c.person->organisation);
          for (const GrantRow& g : c.person->grants) *me.add_grants() = GrantJson(g);
        }
        respond(JsonResponse(200, me));
      });

  // Tokens are for machines: a coordinator makes any; a team member makes product_team tokens
  // for their own start-up, acting as themselves. None outlives --token_max_days or carries more
  // than its creator holds (checked again at each use).
  add("GET", "/v1/tokens", C | T, "Lister les jetons (jamais leur secret ; les siens pour une équipe)",
      Body::kNone, nullptr, gv1::ListTokensResponse::descriptor(), nullptr,
      [this](CallPtr call, Respond respond) {
        auto list = tokens_.List();
        if (!list.ok()) return respond(ErrorResponse(list.status()));
        gv1::ListTokensResponse out;
        for (const Token& t : *list) {
          if (call->caller.Has(kCoordinator) ||
              (!call->caller.account_id.empty() && t.created_by_account == call->caller.account_id)) {
            *out.add_tokens() = TokenJson(t);
          }
        }
        respond(JsonResponse(200, out));
      });
  add("POST", "/v1/tokens", C | T, "Créer un jeton (le secret n'est montré qu'une fois)", Body::kJson,
      gv1::CreateTokenRequest::descriptor(), gv1::CreateTokenResponse::descriptor(), nullptr,
      [this](CallPtr call, Respond respond) {
        const Caller& c = call->caller;
        gv1::CreateTokenRequest in;
        absl::Status parsed = ParseBody(call->req, &in);
        if (!parsed.ok()) return respond(ErrorResponse(parsed));
        if (c.via == "token" && !c.Has(kCoordinator)) {
          return respond(ErrorResponse(absl::PermissionDeniedError(
              "a team's token makes no tokens: sign in to the console to make one")));
        }
        if (absl::Status may = MayIssue(c, in.role(), in.scope()); !may.ok()) {
          return respond(ErrorResponse(may));
        }
        NewToken n{in.name(), c.Has(kCoordinator) ? in.actor() : c.actor, in.role(), in.scope(),
                   in.has_expires_at() ? FromTimestamp(in.expires_at())
                                       : absl::Now() + absl::Hours(24 * 90),
                   c.via == "session" ? c.account_id : "", c.via == "token" ? c.token_id : ""};
        auto made = tokens_.Create(n, c.actor);
        if (!made.ok()) return respond(ErrorResponse(made.status()));
        gv1::CreateTokenResponse out;
        *out.mutable_token() = TokenJson(made->first);
        out.set_secret(made->second);
        respond(JsonResponse(201, out));
      });
  add("DELETE", "/v1/tokens/{token_id}", C | T, "Révoquer un jeton", Body::kNone, nullptr,
      gv1::Empty::descriptor(), nullptr, [this](CallPtr call, Respond respond) {
        const Caller& c = call->caller;
        const std::string& id = call->params.at("token_id");
        if (!c.Has(kCoordinator)) {
          auto t = tokens_.Get(id);
          if (!t.ok()) return respond(ErrorResponse(t.status()));
          if (c.account_id.empty() || t->created_by_account != c.account_id) {
            return respond(ErrorResponse(
                absl::PermissionDeniedError("token_id: a team member revokes only the tokens they made")));
          }
        }
        absl::Status s = tokens_.Revoke(id, c.actor);
        respond(s.ok() ? JsonResponse(200, gv1::Empty()) : ErrorResponse(s));
      });

  // --- accounts and grants (coordinators) ---
  if (accounts_ == nullptr) return;
  add("GET", "/v1/accounts", C, "Comptes des personnes connectées (?q=nom ou e-mail)", Body::kNone,
      gv1::ListAccountsRequest::descriptor(), gv1::ListAccountsResponse::descriptor(), nullptr,
      [this](CallPtr call, Respond respond) {
        auto list = accounts_->ListAccounts(call->req.Query("q"));
        if (!list.ok()) return respond(ErrorResponse(list.status()));
        gv1::ListAccountsResponse out;
        for (const Account& a : *list) *out.add_accounts() = AccountJson(a);
        respond(JsonResponse(200, out));
      });
  // A grant is recorded (RoleGranted on pepiniere.access.events) once what it stands for holds:
  // a juror is on the challenge's jury in pep-ideas, a team's start-up exists in pep-incubation.
  auto record_grant = [this](CallPtr call, gv1::GrantRoleRequest in, Respond respond) {
    auto g = accounts_->Grant(in.account_id(), {in.role(), in.scope(), ""}, call->caller.actor);
    respond(g.ok() ? JsonResponse(201, GrantJson(*g)) : ErrorResponse(g.status()));
  };
  add("POST", "/v1/accounts/{account_id}/grants",
      C, "Accorder un rôle : coordinator, juror (scope challenge:<id>), product_team (scope startup:<id>)",
      Body::kJson, gv1::GrantRoleRequest::descriptor(), gv1::Grant::descriptor(), nullptr,
      [this, &b, ideas, inc, record_grant](CallPtr call, Respond respond) {
        gv1::GrantRoleRequest in;
        absl::Status parsed = ParseBody(call->req, &in);
        if (!parsed.ok()) return respond(ErrorResponse(parsed));
        in.set_account_id(call->params.at("account_id"));
        if (absl::Status ok = CheckGrant(in.role(), in.scope()); !ok.ok()) return respond(ErrorResponse(ok));
        if (auto a = accounts_->GetAccount(in.account_id()); !a.ok()) return respond(ErrorResponse(a.status()));
        const std::string target = in.scope().substr(in.scope().find(':') + 1);
        if (in.role() == "juror") {
          iv1::AssignJurorsRequest rq;
          rq.set_challenge_id(target);
          rq.add_juror_ids(in.account_id());
          return CallUnary(b.ideas, ideas, &IS::AssignJurors, call->meta, std::move(rq),
                           [call, in, respond, record_grant, &b](const grpc::Status& s, iv1::Challenge&, int retry) {
                             if (!s.ok()) return respond(BackendErrorResponse(s, b.ideas.name(), retry));
                             record_grant(call, in, respond);
                           });
        }
        if (in.role() == "product_team") {
          nv1::GetStartupRequest rq;
          rq.set_startup_id(target);
          return CallUnary(b.incubation, inc, &NS::GetStartup, call->meta, std::move(rq),
                           [call, in, respond, record_grant, &b](const grpc::Status& s, nv1::StartupDetails&, int retry) {
                             if (!s.ok()) return respond(BackendErrorResponse(s, b.incubation.name(), retry));
                             record_grant(call, in, respond);
                           });
        }
        record_grant(call, in, respond);
      });
  add("DELETE", "/v1/accounts/{account_id}/grants", C,
      "Retirer un rôle (?role=…&scope=…) ; un juré quitte aussi le jury du défi", Body::kNone,
      gv1::GrantRoleRequest::descriptor(), gv1::Empty::descriptor(), nullptr,
      [this, &b, ideas](CallPtr call, Respond respond) {
        const std::string account = call->params.at("account_id");
        const std::string role = call->req.Query("role"), scope = call->req.Query("scope");
        if (absl::Status ok = CheckGrant(role, scope); !ok.ok()) return respond(ErrorResponse(ok));
        auto revoke = [this, account, role, scope, call, respond] {
          absl::Status s = accounts_->RevokeGrant(account, role, scope, call->caller.actor);
          respond(s.ok() ? JsonResponse(200, gv1::Empty()) : ErrorResponse(s));
        };
        if (role != "juror") return revoke();
        iv1::RemoveJurorsRequest rq;
        rq.set_challenge_id(scope.substr(scope.find(':') + 1));
        rq.add_juror_ids(account);
        CallUnary(b.ideas, ideas, &IS::RemoveJurors, call->meta, std::move(rq),
                  [revoke, respond, &b](const grpc::Status& s, iv1::Challenge&, int retry) {
                    if (!s.ok()) return respond(BackendErrorResponse(s, b.ideas.name(), retry));
                    revoke();
                  });
      });
  BuildIdeaFlowRoutes();
  BuildPublicRoutes();
  BuildFactRoutes();
  BuildButtonRoutes();
  BuildSteeringRoutes();
  BuildNotifyRoutes();
}

}  // namespace pep::gateway
