// The routes of the flows around an idea (issue 29): a challenge's relais and evaluation stages,
// links and merges, eligibility, clarification. Who may do what is pep-ideas' rule; the roles
// here only keep out those who never may (an eligibility reviewer or a relais is often an agent).
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "services/gateway/calls.h"
#include "services/gateway/gateway.h"

namespace pep::gateway {

namespace iv1 = ::pepiniere::ideas::v1;

void Gateway::BuildIdeaFlowRoutes() {
  Backends& b = backends_;
  auto* ideas = b.ideas_stub.get();
  using IS = class iv1::IdeaService::Stub::async;
  constexpr unsigned C = kCoordinator, J = kJuror, A = kAgent;
  auto add = [this, &b](std::string method, std::string pattern, unsigned roles, std::string summary,
                        Body body, const google::protobuf::Descriptor* request,
                        const google::protobuf::Descriptor* response, RouteHandler h) {
    routes_.push_back(Route{std::move(method), std::move(pattern), roles, std::move(summary), body,
                            request, response, "application/json", std::move(h), &b.ideas, 0});
  };
  add("PUT", "/v1/challenges/{challenge_id}/relays", C,
      "Nommer les relais d'un défi (ils déposent des idées pour des collègues sans poste)", Body::kJson,
      iv1::SetRelaysRequest::descriptor(), iv1::Challenge::descriptor(), Unary(b.ideas, ideas, &IS::SetRelays));
  add("PUT", "/v1/challenges/{challenge_id}/stages", C,
      "Fixer les étapes d'évaluation : recevabilité, notation, audition, décision (dates, évaluateurs)",
      Body::kJson, iv1::SetStagesRequest::descriptor(), iv1::Challenge::descriptor(),
      Unary(b.ideas, ideas, &IS::SetStages));
  add("POST", "/v1/ideas/{idea_id}/links", C, "Lier deux idées (semblable, fait partie de, complète)",
      Body::kJson, iv1::LinkIdeasRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(b.ideas, ideas, &IS::LinkIdeas));
  add("DELETE", "/v1/ideas/{idea_id}/links/{other_idea_id}", C, "Défaire le lien entre deux idées",
      Body::kNone, iv1::UnlinkIdeasRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(b.ideas, ideas, &IS::UnlinkIdeas));
  add("POST", "/v1/ideas/{idea_id}:merge", C,
      "Fusionner des idées dans celle-ci (leurs auteurs en deviennent co-auteurs, les soutiens suivent)",
      Body::kJson, iv1::MergeIdeasRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(b.ideas, ideas, &IS::MergeIdeas));
  add("POST", "/v1/ideas/{idea_id}:undo-merge", C, "Annuler la fusion d'une idée : elle redevient elle-même",
      Body::kNone, iv1::UndoMergeRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(b.ideas, ideas, &IS::UndoMerge));
  add("POST", "/v1/ideas/{idea_id}:eligibility", C | J | A,
      "Recevabilité d'une idée (évaluateurs de l'étape) ; non recevable, elle est écartée, motif à l'appui",
      Body::kJson, iv1::CheckEligibilityRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(b.ideas, ideas, &IS::CheckEligibility));
  add("POST", "/v1/ideas/{idea_id}:ask-clarification", C | J | A,
      "Demander une précision aux auteurs : l'horloge de l'idée s'arrête jusqu'à leur réponse", Body::kJson,
      iv1::RequestClarificationRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(b.ideas, ideas, &IS::RequestClarification));
  add("POST", "/v1/ideas/{idea_id}:answer-clarification", C | A, "Répondre à la demande de précision du jury",
      Body::kJson, iv1::AnswerClarificationRequest::descriptor(), iv1::Idea::descriptor(),
      Unary(b.ideas, ideas, &IS::AnswerClarification));
  add("POST", "/v1/ideas/{idea_id}:public-credit", C | A,
      "Accepter (ou non) que mon nom figure sur la page publique de la start-up issue de l'idée", Body::kJson,
      iv1::SetPublicCreditRequest::descriptor(), iv1::Idea::descriptor(), Unary(b.ideas, ideas, &IS::SetPublicCredit));
}

}  // namespace pep::gateway
