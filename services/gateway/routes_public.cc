// The public routes of issue 30 that need no sign-in: open data in beta.gouv.fr's format
// (/api/v2.7/…), made from pep-incubation's ListPublicStartups — the published start-ups' public
// parts and nothing else. Each answer is cacheable (a strong ETag of its bytes, one minute of
// Cache-Control) and a revalidation with the same ETag is a 304 with no body.
#include "absl/strings/str_cat.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"
#include "services/gateway/calls.h"
#include "services/gateway/gateway.h"
#include "services/gateway/opendata.h"
#include "services/gateway/public_pages.h"
#include "pepiniere/gateway/v1/gateway.pb.h"
#include "services/gateway/tokens.h"

namespace pep::gateway {

namespace {

using Format = std::string (*)(const nv1::ListPublicStartupsResponse&, const std::string&);

// The bytes, or a 304 when the client's copy is current.
HttpResponse Cacheable(const HttpRequest& req, std::string body, const std::string& type) {
  const std::string etag = absl::StrCat("\"", Sha256Hex(body).substr(0, 32), "\"");
  HttpResponse r;
  r.headers["ETag"] = etag;
  r.headers["Cache-Control"] = "public, max-age=60";
  r.headers["Access-Control-Allow-Origin"] = "*";  // open data: any site may read it
  if (const std::string* seen = req.Header("if-none-match"); seen != nullptr && *seen == etag) {
    r.status = 304;
    return r;
  }
  r.content_type = type;
  r.body = std::move(body);
  return r;
}

// A refusal on a public page, as a page (the document declares them text/html).
HttpResponse HtmlError(int status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = body;
  r.headers["Cache-Control"] = "no-store";
  return r;
}

}  // namespace

void Gateway::BuildPublicRoutes() {
  Backends& b = backends_;
  auto* inc = b.incubation_stub.get();
  using NS = class nv1::IncubationService::Stub::async;
  // One handler per file: ListPublicStartups, then the format.
  auto open_data = [&b, inc](Format format, std::string type) -> RouteHandler {
    return [&b, inc, format, type](CallPtr call, Respond respond) {
      CallUnary(b.incubation, inc, &NS::ListPublicStartups, call->meta, nv1::ListPublicStartupsRequest(),
                [call, respond, format, type, &b](const grpc::Status& s, nv1::ListPublicStartupsResponse& list,
                                                  int retry_after) {
                  if (!s.ok()) return respond(BackendErrorResponse(s, b.incubation.name(), retry_after));
                  respond(Cacheable(call->req, format(list, call->req.path), type));
                });
    };
  };
  auto add = [this, &b](std::string pattern, std::string summary, RouteHandler h, std::string type,
                        std::string schema) {
    Route r{"GET", std::move(pattern), kAnyRole, std::move(summary), Body::kNone,
            nv1::ListPublicStartupsRequest::descriptor(), nullptr, std::move(type), std::move(h), &b.incubation, 0};
    r.response_schema = std::move(schema);
    r.revalidates = true;
    routes_.push_back(std::move(r));
  };
  Route publish{"PUT", "/v1/startups/{startup_id}/publication", kCoordinator,
                "Publier une start-up : ce qui en est public (rien tant qu'elle n'est pas publiée)", Body::kJson,
                nv1::SetPublicationRequest::descriptor(), nv1::Startup::descriptor(), "application/json",
                Unary(b.incubation, inc, &NS::SetPublication), &b.incubation, 0};
  publish.slug_ok = true;  // an imported start-up by its own id (`auxAJ`)
  routes_.push_back(std::move(publish));
  // The public pages: the portfolio, a start-up, the statistics — HTML from the same list.
  namespace gv1 = ::pepiniere::gateway::v1;
  const StaticFiles* files = &static_files_;
  auto page = [&b, inc, files](std::function<HttpResponse(const RouteCall&, const nv1::ListPublicStartupsResponse&,
                                                           const std::string& assets)> render) -> RouteHandler {
    return [&b, inc, files, render](CallPtr call, Respond respond) {
      CallUnary(b.incubation, inc, &NS::ListPublicStartups, call->meta, nv1::ListPublicStartupsRequest(),
                [call, respond, render, files, &b](const grpc::Status& s, nv1::ListPublicStartupsResponse& list, int) {
                  const std::string assets = files->AssetsBase();
                  if (!s.ok()) {
                    return respond(HtmlError(503, PublicMessagePage("Momentanément indisponible",
                                                                   "Le portefeuille ne répond pas : réessayez dans un instant.", assets)));
                  }
                  respond(render(*call, list, assets));
                });
    };
  };
  auto add_page = [this, &b](std::string pattern, std::string summary, const google::protobuf::Descriptor* request,
                             RouteHandler h) {
    Route r{"GET", std::move(pattern), kAnyRole, std::move(summary), Body::kNone, request, nullptr,
            "text/html; charset=utf-8", std::move(h), &b.incubation, 0};
    r.response_schema = R"({"type":"string"})";
    r.revalidates = true;
    r.slug_ok = true;
    routes_.push_back(std::move(r));
  };
  constexpr const char* kHtml = "text/html; charset=utf-8";
  add_page("/startups", "Page publique : les start-ups publiées, filtrées comme sur beta.gouv.fr",
           gv1::PublicPortfolioRequest::descriptor(),
           page([kHtml](const RouteCall& call, const nv1::ListPublicStartupsResponse& list, const std::string& assets) {
             gv1::PublicPortfolioRequest in;
             if (absl::Status st = ParseQuery(call.req, &in); !st.ok()) {
               return HtmlError(400, PublicMessagePage("Recherche impossible", std::string(st.message()), assets));
             }
             PortfolioQuery q{in.q(), in.incubateur(), in.phase(), in.thematique(), in.sponsor(), std::max(1, in.page())};
             return Cacheable(call.req, PublicPortfolioPage(list, q, assets), kHtml);
           }));
  add_page("/startups/{startup_id}", "Page publique d'une start-up publiée",
           gv1::PublicStartupPageRequest::descriptor(),
           page([kHtml](const RouteCall& call, const nv1::ListPublicStartupsResponse& list, const std::string& assets) {
             const std::string id = call.params.at("startup_id");
             for (const auto& s : list.startups()) {
               if (s.id() == id) return Cacheable(call.req, PublicStartupPage(s, assets, absl::Now()), kHtml);
             }
             return HtmlError(404, PublicNotFoundPage(id, assets));
           }));
  add_page("/statistiques", "Page publique : les statistiques des start-ups publiées",
           gv1::PublicStatsRequest::descriptor(),
           page([kHtml](const RouteCall& call, const nv1::ListPublicStartupsResponse& list, const std::string& assets) {
             return Cacheable(call.req, PublicStatsPage(list, assets), kHtml);
           }));
  constexpr char kObject[] = R"({"type":"object"})";
  add("/api/v2.7/startups.json", "Données ouvertes : les start-ups publiées (JSON:API, format beta.gouv.fr v2.7)",
      open_data([](const nv1::ListPublicStartupsResponse& l, const std::string& self) { return StartupsJson(l, self); },
                "application/json"),
      "application/json", kObject);
  add("/api/v2.7/startups_details.json", "Données ouvertes : le détail des start-ups publiées (équipes quand elles sont publiques)",
      open_data([](const nv1::ListPublicStartupsResponse& l, const std::string&) { return StartupsDetailsJson(l); },
                "application/json"),
      "application/json", kObject);
  add("/api/v2.7/startups.csv", "Données ouvertes : les start-ups publiées (CSV, point-virgule)",
      open_data([](const nv1::ListPublicStartupsResponse& l, const std::string&) { return StartupsCsv(l); },
                "text/csv; charset=utf-8"),
      "text/csv", R"({"type":"string"})");
  add("/api/v2.7/incubators.json", "Données ouvertes : les incubateurs et leurs start-ups publiées",
      open_data([](const nv1::ListPublicStartupsResponse& l, const std::string&) { return IncubatorsJson(l); },
                "application/json"),
      "application/json", kObject);
  add("/api/v2.7/sponsors.json", "Données ouvertes : les sponsors des start-ups publiées",
      open_data([](const nv1::ListPublicStartupsResponse& l, const std::string&) { return SponsorsJson(l); },
                "application/json"),
      "application/json", kObject);
}

}  // namespace pep::gateway
