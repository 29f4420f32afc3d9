// The « Je donne mon avis » button (issue 30): the two images a team's snippet shows (blue for a
// light page, white for a dark one) at addresses that never change, and the placements — one
// per place a team puts the button — whose ids the snippet's link carries to the public form.
#include "absl/strings/str_cat.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "services/gateway/calls.h"
#include "services/gateway/gateway.h"

namespace pep::gateway {

namespace {

namespace fv1 = ::pepiniere::feedback::v1;

// 212 × 48, the State's blue (#000091) and white; the words are also the image's alt text in
// the snippet. Drawn here (no font file): a speech bubble, then the words in a sans-serif.
std::string Button(bool blue) {
  const char* bg = blue ? "#000091" : "#ffffff";
  const char* fg = blue ? "#ffffff" : "#000091";
  return absl::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"212\" height=\"48\" viewBox=\"0 0 212 48\" role=\"img\" "
      "aria-label=\"Je donne mon avis\"><title>Je donne mon avis</title>"
      "<rect x=\"1\" y=\"1\" width=\"210\" height=\"46\" rx=\"4\" fill=\"", bg, "\" stroke=\"#000091\" stroke-width=\"2\"/>"
      "<path d=\"M16 15h22a3 3 0 0 1 3 3v11a3 3 0 0 1-3 3h-12l-6 5v-5h-4a3 3 0 0 1-3-3v-11a3 3 0 0 1 3-3z\" fill=\"none\" "
      "stroke=\"", fg, "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>"
      "<text x=\"50\" y=\"30\" fill=\"", fg, "\" font-family=\"Marianne, Arial, Helvetica, sans-serif\" font-size=\"16\" "
      "font-weight=\"700\">Je donne mon avis</text></svg>\n");
}

}  // namespace

void Gateway::BuildButtonRoutes() {
  Backends& b = backends_;
  auto* fb = b.feedback_stub.get();
  using FS = class fv1::FeedbackService::Stub::async;
  constexpr unsigned C = kCoordinator, T = kProductTeam;
  for (const bool blue : {true, false}) {
    const std::string svg = Button(blue);
    Route r{"GET", absl::StrCat("/v1/public/boutons/je-donne-mon-avis-", blue ? "bleu" : "blanc", ".svg"), kAnyRole,
            absl::StrCat("Le bouton « Je donne mon avis » (", blue ? "bleu, pour un fond clair" : "blanc, pour un fond foncé",
                         ") que les équipes placent dans leur service"),
            Body::kNone, nullptr, nullptr, "image/svg+xml",
            [svg](CallPtr, Respond respond) {
              HttpResponse r;
              r.content_type = "image/svg+xml";
              r.body = svg;
              r.headers["Cache-Control"] = "public, max-age=86400";
              r.headers["Access-Control-Allow-Origin"] = "*";  // shown in the teams' own services
              respond(std::move(r));
            },
            nullptr, 0};
    r.response_schema = R"({"type":"string"})";
    routes_.push_back(std::move(r));
  }
  auto add = [this, &b](std::string method, std::string summary, Body body, const google::protobuf::Descriptor* request,
                        const google::protobuf::Descriptor* response, RouteHandler h) {
    routes_.push_back(Route{std::move(method), "/v1/startups/{startup_id}/feedback-placements", C | T, std::move(summary),
                            body, request, response, "application/json", std::move(h), &b.feedback, 0});
  };
  add("POST", "Placer le bouton « Je donne mon avis » : un emplacement de plus (son code à coller, ses avis comptés à part)",
      Body::kJson, fv1::CreatePlacementRequest::descriptor(), fv1::Placement::descriptor(),
      Unary(b.feedback, fb, &FS::CreatePlacement, UnaryOptions<fv1::CreatePlacementRequest, fv1::Placement>{.ok_status = 201}));
  add("GET", "Les emplacements du bouton « Je donne mon avis », avec le nombre d'avis reçus par chacun", Body::kNone,
      fv1::ListPlacementsRequest::descriptor(), fv1::ListPlacementsResponse::descriptor(),
      Unary(b.feedback, fb, &FS::ListPlacements));
}

}  // namespace pep::gateway
