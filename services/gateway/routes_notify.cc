// The routes of pep-notify: the bell (list, read), « Mes notifications » (preferences), one-click
// unsubscribe from an e-mail (RFC 8058: POST to the List-Unsubscribe address, no sign-in; a GET —
// what a person's click or a mail scanner's prefetch sends — only shows a button), and the
// coordinators' view of undeliverable e-mails and digests on demand.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/text.h"
#include "services/gateway/calls.h"
#include "services/gateway/gateway.h"
#include "services/gateway/web_signin.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"

namespace pep::gateway {

namespace ntv1 = ::pepiniere::notify::v1;

namespace {

// The pages of one-click unsubscribe: the button (on a GET) and a way to the settings.
HttpResponse UnsubscribePage(int status, const std::string& title, const std::string& text,
                             const std::string& form_token) {
  std::string more;
  if (!form_token.empty()) {
    more = absl::StrCat("<form method=\"post\" action=\"/v1/notifications/unsubscribe?token=",
                        HtmlEscape(form_token),
                        "\"><button type=\"submit\">Ne plus recevoir ces courriels</button></form>");
  }
  absl::StrAppend(&more, "<p><a href=\"/notifications\">Choisir ce que vous recevez dans la console "
                         "(Mes notifications)</a></p>");
  return Page(status, title, text, more);
}

// Before a follow: may the caller see what they want to follow? Asked of the service that owns
// it, with the caller's own principal (an agent sees their own ideas; a jury its challenge's), so
// nobody learns through a follow what they may not read. `then(id)` gets the subject's id as its
// owner names it (a start-up's slug becomes its id).
void CheckSubject(Backends& b, const CallPtr& call, const std::string& type, const std::string& id,
                  const Respond& respond, std::function<void(std::string)> then) {
  using IS = class ::pepiniere::ideas::v1::IdeaService::Stub::async;
  using NS = class ::pepiniere::incubation::v1::IncubationService::Stub::async;
  auto refused = [respond, &b](const grpc::Status& s, Backend& backend, int retry) {
    respond(BackendErrorResponse(s, backend.name(), retry));
  };
  if (type == "idea") {
    ::pepiniere::ideas::v1::GetIdeaRequest rq;
    rq.set_idea_id(id);
    return CallUnary(b.ideas, b.ideas_stub.get(), &IS::GetIdea, call->meta, std::move(rq),
                     [&b, refused, then](const grpc::Status& s, ::pepiniere::ideas::v1::Idea& out, int retry) {
                       if (!s.ok()) return refused(s, b.ideas, retry);
                       then(out.id());
                     });
  }
  if (type == "challenge") {
    ::pepiniere::ideas::v1::GetChallengeRequest rq;
    rq.set_challenge_id(id);
    return CallUnary(b.ideas, b.ideas_stub.get(), &IS::GetChallenge, call->meta, std::move(rq),
                     [&b, refused, then](const grpc::Status& s, ::pepiniere::ideas::v1::Challenge& out, int retry) {
                       if (!s.ok()) return refused(s, b.ideas, retry);
                       then(out.id());
                     });
  }
  if (type == "startup") {
    ::pepiniere::incubation::v1::GetStartupRequest rq;
    rq.set_startup_id(id);
    return CallUnary(b.incubation, b.incubation_stub.get(), &NS::GetStartup, call->meta, std::move(rq),
                     [&b, refused, then](const grpc::Status& s, ::pepiniere::incubation::v1::StartupDetails& out, int retry) {
                       if (!s.ok()) return refused(s, b.incubation, retry);
                       then(out.startup().id());
                     });
  }
  respond(ErrorResponse(absl::InvalidArgumentError("subject_type: must be idea, challenge or startup")));
}

constexpr char kSubjectTypePattern[] = "^(idea|challenge|startup)$";

}  // namespace

void Gateway::BuildNotifyRoutes() {
  Backends& b = backends_;
  auto* nt = b.notify_stub.get();
  using TS = class ntv1::NotifyService::Stub::async;
  constexpr unsigned C = kCoordinator, J = kJuror, T = kProductTeam, A = kAgent;
  constexpr unsigned kPeople = C | J | T | A;
  auto add = [this](std::string method, std::string pattern, unsigned roles, std::string summary,
                    Body body, const google::protobuf::Descriptor* request,
                    const google::protobuf::Descriptor* response, Backend* backend, RouteHandler h,
                    std::string response_type = "application/json") {
    routes_.push_back(Route{std::move(method), std::move(pattern), roles, std::move(summary), body,
                            request, response, std::move(response_type), std::move(h), backend, 0});
  };

  add("GET", "/v1/notifications", kPeople,
      "Mes notifications, les plus récentes d'abord, et le nombre de non lues (?unread_only=true)",
      Body::kNone, ntv1::ListNotificationsRequest::descriptor(),
      ntv1::ListNotificationsResponse::descriptor(), &b.notify,
      Unary(b.notify, nt, &TS::ListNotifications));
  add("POST", "/v1/notifications:read", kPeople, "Marquer comme lues (des notifications, ou toutes)",
      Body::kJson, ntv1::MarkReadRequest::descriptor(), ntv1::MarkReadResponse::descriptor(),
      &b.notify, Unary(b.notify, nt, &TS::MarkRead));
  add("GET", "/v1/notifications/preferences", kPeople,
      "Mes réglages : pour chaque catégorie, aucun courriel, à chaque fois, chaque jour ou chaque semaine",
      Body::kNone, ntv1::GetPreferencesRequest::descriptor(), ntv1::Preferences::descriptor(),
      &b.notify, Unary(b.notify, nt, &TS::GetPreferences));
  add("PUT", "/v1/notifications/preferences", kPeople, "Changer mes réglages", Body::kJson,
      ntv1::SetPreferencesRequest::descriptor(), ntv1::Preferences::descriptor(), &b.notify,
      Unary(b.notify, nt, &TS::SetPreferences));
  add("DELETE", "/v1/notifications/contact", kPeople,
      "Effacer mon adresse, mes réglages et mes notifications (?account_id=… pour un coordinateur)",
      Body::kNone, ntv1::EraseContactRequest::descriptor(), ntv1::EraseContactResponse::descriptor(),
      &b.notify, Unary(b.notify, nt, &TS::EraseContact));
  // {person}, not {account_id}: the people of the address book are named by the ids the events
  // carry (a token's actor, « jury-dgs »), not only by accounts' UUIDs.
  add("PUT", "/v1/notifications/contacts/{person}", C,
      "Inscrire l'adresse d'une personne qui ne se connecte pas (juré extérieur…) ; sa connexion la remplace",
      Body::kJson, ntv1::UpsertContactRequest::descriptor(), ntv1::Contact::descriptor(), &b.notify,
      [&b, nt](CallPtr call, Respond respond) {
        ntv1::UpsertContactRequest in;
        if (absl::Status parsed = ParseBody(call->req, &in); !parsed.ok()) return respond(ErrorResponse(parsed));
        // The path names the person; an account_id in the body is checked as documented, then
        // the path's wins.
        if (Utf8Length(in.account_id()) > 128 || HasControlCharacter(in.account_id())) {
          return respond(ErrorResponse(absl::InvalidArgumentError(
              "account_id: at most 128 characters, no control character")));
        }
        in.set_account_id(call->params.at("person"));
        CallUnary(b.notify, nt, &TS::UpsertContact, call->meta, std::move(in),
                  [respond, &b](const grpc::Status& s, ntv1::Contact& out, int retry) {
                    if (!s.ok()) return respond(BackendErrorResponse(s, b.notify.name(), retry));
                    respond(JsonResponse(200, out));
                  });
      });
  routes_.back().param_patterns = {{"person", "^[^\\u0000-\\u001F\\u007F]{1,128}$"}};
  add("GET", "/v1/notifications/contacts", C, "Le carnet d'adresses de pep-notify (?account_id=…)",
      Body::kNone, ntv1::ListContactsRequest::descriptor(), ntv1::ListContactsResponse::descriptor(),
      &b.notify, Unary(b.notify, nt, &TS::ListContacts));
  add("GET", "/v1/notifications/undeliverable", C,
      "Courriels refusés définitivement par le relais (5xx)", Body::kNone,
      ntv1::ListUndeliverableRequest::descriptor(), ntv1::ListUndeliverableResponse::descriptor(),
      &b.notify, Unary(b.notify, nt, &TS::ListUndeliverable));
  add("POST", "/v1/notifications/digests", C,
      "Envoyer maintenant les récapitulatifs (DELIVERY_DAILY ou DELIVERY_WEEKLY)", Body::kJson,
      ntv1::SendDigestsRequest::descriptor(), ntv1::SendDigestsResponse::descriptor(), &b.notify,
      Unary(b.notify, nt, &TS::SendDigests));

  // Follows: the subject is checked with its owner first (CheckSubject), then recorded.
  add("PUT", "/v1/notifications/follows/{subject_type}/{subject_id}", kPeople,
      "Suivre une idée, un défi ou une start-up (idea, challenge, startup) : être informé·e de ce qui lui arrive",
      Body::kNone, ntv1::FollowRequest::descriptor(), ntv1::FollowResponse::descriptor(), &b.notify,
      [&b, nt](CallPtr call, Respond respond) {
        const std::string type = call->params.at("subject_type"), id = call->params.at("subject_id");
        CheckSubject(b, call, type, id, respond, [&b, nt, call, respond, type](std::string canonical) {
          ntv1::FollowRequest in;
          in.set_subject_type(type);
          in.set_subject_id(std::move(canonical));
          CallUnary(b.notify, nt, &TS::Follow, call->meta, std::move(in),
                    [respond, &b](const grpc::Status& s, ntv1::FollowResponse& out, int retry) {
                      if (!s.ok()) return respond(BackendErrorResponse(s, b.notify.name(), retry));
                      respond(JsonResponse(out.created() ? 201 : 200, out));
                    });
        });
      });
  routes_.back().param_patterns = {{"subject_type", kSubjectTypePattern}};  // subject_id: a UUID
  add("DELETE", "/v1/notifications/follows/{subject_type}/{subject_id}", kPeople,
      "Ne plus suivre", Body::kNone, ntv1::UnfollowRequest::descriptor(),
      ntv1::UnfollowResponse::descriptor(), &b.notify, Unary(b.notify, nt, &TS::Unfollow));
  routes_.back().param_patterns = {{"subject_type", kSubjectTypePattern}};  // subject_id: a UUID
  add("GET", "/v1/notifications/follows", kPeople,
      "Ce que je suis (?subject_type=…&subject_id=… : est-ce que je le suis)", Body::kNone,
      ntv1::ListFollowsRequest::descriptor(), ntv1::ListFollowsResponse::descriptor(), &b.notify,
      Unary(b.notify, nt, &TS::ListFollows));

  // One-click unsubscribe. The token (signed, expiring) is the whole authority: no session.
  add("GET", "/v1/notifications/unsubscribe", kAnyRole,
      "Page de désinscription d'un courriel (un bouton ; ne désinscrit pas à elle seule)",
      Body::kNone, ntv1::UnsubscribeRequest::descriptor(), nullptr, nullptr,
      [](CallPtr call, Respond respond) {
        const std::string token = call->req.Query("token");
        if (token.empty() || token.size() > 1000) {
          return respond(UnsubscribePage(400, "Lien incomplet",
                                         "token: le lien de désinscription est incomplet.", ""));
        }
        respond(UnsubscribePage(200, "Se désinscrire",
                                "Vous ne recevrez plus les courriels de cette catégorie ; les "
                                "notifications restent visibles dans la console.",
                                token));
      },
      "text/html");
  // The answer is a page, whoever asks: a mail provider's one-click POST ignores it, a person
  // who pressed the button reads it.
  add("POST", "/v1/notifications/unsubscribe", kAnyRole,
      "Désinscription en un clic (RFC 8058 : List-Unsubscribe=One-Click, ?token=…)", Body::kNone,
      ntv1::UnsubscribeRequest::descriptor(), nullptr, &b.notify,
      [&b, nt](CallPtr call, Respond respond) {
        ntv1::UnsubscribeRequest in;
        in.set_token(call->req.Query("token"));
        if (in.token().empty() || in.token().size() > 1000) {
          return respond(UnsubscribePage(400, "Lien incomplet",
                                         "token: le lien de désinscription est incomplet.", ""));
        }
        CallUnary(b.notify, nt, &TS::Unsubscribe, call->meta, std::move(in),
                  [respond](const grpc::Status& s, ntv1::UnsubscribeResponse& out, int) {
                    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                        s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
                      return respond(UnsubscribePage(400, "Désinscription impossible", s.error_message(), ""));
                    }
                    if (!s.ok()) {
                      return respond(UnsubscribePage(503, "Service momentanément indisponible",
                                                     "Réessayez dans quelques minutes.", ""));
                    }
                    respond(UnsubscribePage(200, "C'est fait",
                                            absl::StrCat("Vous ne recevrez plus de courriels pour : ",
                                                         out.label(), "."),
                                            ""));
                  });
      },
      "text/html");
}

}  // namespace pep::gateway
