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
