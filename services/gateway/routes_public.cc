// The public routes of issue 30 that need no sign-in: open data in beta.gouv.fr's format
// (/api/v2.7/…), made from pep-incubation's ListPublicStartups — the published start-ups' public
// parts and nothing else. Each answer is cacheable (a strong ETag of its bytes, one minute of
// Cache-Control) and a revalidation with the same ETag is a 304 with no body.
#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <mutex>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/text.h"
#include "absl/time/clock.h"
#include "pepiniere/audit/v1/audit.grpc.pb.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
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

std::string StrongEtag(const std::string& body) { return absl::StrCat("\"", Sha256Hex(body).substr(0, 32), "\""); }

// The bytes, or a 304 when the client's copy is current.
HttpResponse Cacheable(const HttpRequest& req, std::string body, const std::string& type,
                       std::string etag = "") {
  if (etag.empty()) etag = StrongEtag(body);
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

// The published list, kept a second: every public page and file is made from it, and asking
// pep-incubation to read 660 start-ups with their events for each visitor made it the
// bottleneck (public_bench.sh). Callers arriving while it is fetched wait for that one fetch.
// A page may thus be a second older than the portfolio (its Cache-Control allows a minute).
class PublishedList {
 public:
  using List = nv1::ListPublicStartupsResponse;
  using Use = std::function<void(const grpc::Status&, std::shared_ptr<const List>)>;
  using Fetch = std::function<void(std::function<void(const grpc::Status&, List&)>)>;

  explicit PublishedList(absl::Duration max_age) : max_age_(max_age) {}

  struct Rendered {
    std::string body, etag;
  };
  // The bytes made from `list` under `key` (a route and its query), made once per list: the
  // 235 kB of startups.json cost 10 ms each, which capped it at 100 answers a second.
  std::shared_ptr<const Rendered> Render(const std::shared_ptr<const List>& list, const std::string& key,
                                         const std::function<std::string()>& make) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (rendered_for_ == list) {
        if (auto it = rendered_.find(key); it != rendered_.end()) return it->second;
      }
    }
    auto r = std::make_shared<Rendered>();
    r->body = make();
    r->etag = StrongEtag(r->body);
    std::lock_guard<std::mutex> l(mu_);
    if (rendered_for_ != list) {  // held, the old list cannot be mistaken for a new one
      rendered_.clear();
      rendered_for_ = list;
    }
    if (rendered_.size() >= kMaxRendered) rendered_.clear();  // searches are many; pages few
    rendered_.emplace(key, r);
    return r;
  }

  // A publication changed through this gateway: the next reader fetches afresh.
  void Invalidate() {
    std::lock_guard<std::mutex> l(mu_);
    list_.reset();
    ++generation_;
  }

  void Get(const Fetch& fetch, Use use) {
    std::shared_ptr<const List> fresh;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (list_ && absl::Now() - at_ < max_age_) {
        fresh = list_;
      } else {
        waiting_.push_back(std::move(use));
        if (fetching_) return;
        fetching_ = true;
      }
    }
    if (fresh) return use(grpc::Status::OK, fresh);
    const absl::Time asked = absl::Now();
    uint64_t generation;
    {
      std::lock_guard<std::mutex> l(mu_);
      generation = generation_;
    }
    fetch([this, asked, generation](const grpc::Status& s, List& got) {
      std::vector<Use> waiters;
      std::shared_ptr<const List> list;
      {
        std::lock_guard<std::mutex> l(mu_);
        list = s.ok() ? std::make_shared<const List>(std::move(got)) : list_;
        if (s.ok() && generation == generation_) {  // not kept if a publication changed meanwhile
          list_ = list;
          at_ = asked;  // its age counts from the asking: nothing older is served as fresh
        }
        waiters.swap(waiting_);
        fetching_ = false;
      }
      for (auto& w : waiters) w(s, s.ok() ? list : nullptr);
    });
  }

 private:
  const absl::Duration max_age_;
  std::mutex mu_;
  std::shared_ptr<const List> list_;
  absl::Time at_;
  bool fetching_ = false;
  uint64_t generation_ = 0;
  static constexpr size_t kMaxRendered = 512;
  std::shared_ptr<const List> rendered_for_;
  std::map<std::string, std::shared_ptr<const Rendered>> rendered_;
  std::vector<Use> waiting_;
};

// Each band onto the start-ups whose policy makes satisfaction public, and only those.
void MergeBands(const ::pepiniere::feedback::v1::ListBandsResponse& bands, nv1::ListPublicStartupsResponse* list) {
  std::map<std::string, const ::pepiniere::feedback::v1::StartupBand*> by;
  for (const auto& band : bands.bands()) by[band.startup_id()] = &band;
  for (auto& s : *list->mutable_startups()) {
    if (!s.policy().satisfaction()) continue;
    auto it = by.find(s.startup_id());
    if (it == by.end()) continue;  // not open to feedback
    s.set_satisfaction_band(::pepiniere::feedback::v1::Band_Name(it->second->band()));
    s.set_satisfaction(it->second->satisfaction());
    s.set_answers(it->second->answers());
    s.set_band_threshold(bands.threshold());
  }
}

// Then, for start-ups that publish their origin, what pep-ideas shows of the idea (selected ideas
// only; the names of the authors who agreed); without it the page says « non disponible ».
void WithOrigins(Backends& b, ::pepiniere::ideas::v1::IdeaService::Stub* ideas, const CallPtr& call,
                 std::shared_ptr<nv1::ListPublicStartupsResponse> list,
                 std::function<void(const grpc::Status&, nv1::ListPublicStartupsResponse&)> done) {
  ::pepiniere::ideas::v1::ListPublicOriginsRequest req;
  for (const auto& s : list->startups()) {
    if (s.policy().origin_idea() && !s.origin_idea_id().empty() && req.idea_ids_size() < 1000) {
      req.add_idea_ids(s.origin_idea_id());
    }
  }
  if (req.idea_ids().empty()) return done(grpc::Status::OK, *list);
  using IS = class ::pepiniere::ideas::v1::IdeaService::Stub::async;
  CallUnary(b.ideas, ideas, &IS::ListPublicOrigins, call->meta, std::move(req),
            [list, done](const grpc::Status& s, ::pepiniere::ideas::v1::ListPublicOriginsResponse& got, int) {
              if (s.ok()) {
                std::map<std::string, const ::pepiniere::ideas::v1::PublicOrigin*> by;
                for (const auto& o : got.origins()) by[o.idea_id()] = &o;
                for (auto& st : *list->mutable_startups()) {
                  if (!st.policy().origin_idea()) continue;
                  auto it = by.find(st.origin_idea_id());
                  if (it == by.end()) continue;
                  st.set_origin_title(it->second->title());
                  st.set_origin_challenge(it->second->challenge_title());
                  *st.mutable_origin_submitted_at() = it->second->submitted_at();
                  *st.mutable_origin_credited() = it->second->credited();
                }
              }
              done(grpc::Status::OK, *list);
            });
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
  auto published = std::make_shared<PublishedList>(options_.public_list_max_age);
  // One fetch of the list, as the caller that triggered it (the public, or anyone: it is public).
  // Then, when a start-up makes its users' satisfaction public, the bands pep-feedback holds
  // (without them, the pages say « non disponible »: the list is not held back for them).
  auto* fb = b.feedback_stub.get();
  using FS = class ::pepiniere::feedback::v1::FeedbackService::Stub::async;
  auto* ideas = b.ideas_stub.get();
  auto fetch = [&b, inc, fb, ideas](CallPtr call) -> PublishedList::Fetch {
    return [&b, inc, fb, ideas, call](std::function<void(const grpc::Status&, nv1::ListPublicStartupsResponse&)> done) {
      CallUnary(b.incubation, inc, &NS::ListPublicStartups, call->meta, nv1::ListPublicStartupsRequest(),
                [&b, fb, ideas, call, done](const grpc::Status& s, nv1::ListPublicStartupsResponse& list, int) {
                  const bool wanted = s.ok() && std::any_of(list.startups().begin(), list.startups().end(),
                                                            [](const auto& x) { return x.policy().satisfaction(); });
                  if (!wanted) {
                    if (!s.ok()) return done(s, list);
                    return WithOrigins(b, ideas, call, std::make_shared<nv1::ListPublicStartupsResponse>(std::move(list)),
                                       done);
                  }
                  auto held = std::make_shared<nv1::ListPublicStartupsResponse>(std::move(list));
                  CallUnary(b.feedback, fb, &FS::ListBands, call->meta, ::pepiniere::feedback::v1::ListBandsRequest(),
                            [&b, ideas, call, held, done](const grpc::Status& bs,
                                                           ::pepiniere::feedback::v1::ListBandsResponse& bands, int) {
                              if (bs.ok()) MergeBands(bands, held.get());
                              WithOrigins(b, ideas, call, held, done);
                            });
                });
    };
  };
  auto open_data = [&b, fetch, published](Format format, std::string type) -> RouteHandler {
    return [&b, fetch, published, format, type](CallPtr call, Respond respond) {
      published->Get(fetch(call), [call, respond, format, type, published, &b](const grpc::Status& s,
                                                                    std::shared_ptr<const nv1::ListPublicStartupsResponse> list) {
        if (!s.ok()) return respond(BackendErrorResponse(s, b.incubation.name(), 1));
        auto r = published->Render(list, call->req.path, [&] { return format(*list, call->req.path); });
        respond(Cacheable(call->req, r->body, type, r->etag));
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
                Unary(b.incubation, inc, &NS::SetPublication,
                      UnaryOptions<nv1::SetPublicationRequest, nv1::Startup>{
                          .after = [published](const Caller&, const nv1::Startup&) {
                            published->Invalidate();  // the visitor sees it at once
                            return absl::OkStatus();
                          }}),
                &b.incubation, 0};
  publish.slug_ok = true;  // an imported start-up by its own id (`auxAJ`)
  routes_.push_back(std::move(publish));
  // The team keeps its fiche: its members propose, coordinators review (pep-incubation says
  // whether an edit waits); what changes the public pages refreshes them here at once.
  auto refresh = [published](const Caller&, const nv1::FicheEdit&) {
    published->Invalidate();
    return absl::OkStatus();
  };
  constexpr unsigned C = kCoordinator, T = kProductTeam;
  auto fiche = [this, &b](std::string method, std::string pattern, unsigned roles, std::string summary, Body body,
                          const google::protobuf::Descriptor* request, const google::protobuf::Descriptor* response,
                          RouteHandler h) {
    Route r{std::move(method), std::move(pattern), roles, std::move(summary), body, request, response,
            "application/json", std::move(h), &b.incubation, 0};
    r.slug_ok = absl::StrContains(r.pattern, "{startup_id}");  // a start-up by its slug; an edit by its id
    routes_.push_back(std::move(r));
  };
  fiche("POST", "/v1/startups/{startup_id}/fiche-edits", C | T,
        "Modifier la fiche (mission, liens, thématiques) : en ligne aussitôt ou après relecture, selon l'incubateur",
        Body::kJson, nv1::ProposeFicheEditRequest::descriptor(), nv1::FicheEdit::descriptor(),
        Unary(b.incubation, inc, &NS::ProposeFicheEdit,
              UnaryOptions<nv1::ProposeFicheEditRequest, nv1::FicheEdit>{.ok_status = 201, .after = refresh}));
  fiche("GET", "/v1/startups/{startup_id}/fiche-edits", C | T, "Les modifications de fiche d'une start-up",
        Body::kNone, nv1::ListFicheEditsRequest::descriptor(), nv1::ListFicheEditsResponse::descriptor(),
        Unary(b.incubation, inc, &NS::ListFicheEdits));
  fiche("GET", "/v1/fiche-edits", C, "Les modifications de fiche à relire (toutes les start-ups)", Body::kNone,
        nv1::ListFicheEditsRequest::descriptor(), nv1::ListFicheEditsResponse::descriptor(),
        Unary(b.incubation, inc, &NS::ListFicheEdits));
  fiche("POST", "/v1/fiche-edits/{edit_id}:decide", C, "Accepter ou refuser (motif à l'appui) une modification de fiche",
        Body::kJson, nv1::DecideFicheEditRequest::descriptor(), nv1::FicheEdit::descriptor(),
        Unary(b.incubation, inc, &NS::DecideFicheEdit,
              UnaryOptions<nv1::DecideFicheEditRequest, nv1::FicheEdit>{.after = refresh}));
  // The public pages: the portfolio, a start-up, the statistics — HTML from the same list.
  namespace gv1 = ::pepiniere::gateway::v1;
  const StaticFiles* files = &static_files_;
  using List = nv1::ListPublicStartupsResponse;
  auto page = [fetch, published, files](std::function<HttpResponse(const RouteCall&, const std::shared_ptr<const List>&,
                                                                    const std::string& assets, PublishedList&)> render) -> RouteHandler {
    return [fetch, published, files, render](CallPtr call, Respond respond) {
      published->Get(fetch(call), [call, respond, render, files, published](const grpc::Status& s,
                                                                std::shared_ptr<const nv1::ListPublicStartupsResponse> list) {
                  const std::string assets = files->AssetsBase();
                  if (!s.ok()) {
                    return respond(HtmlError(503, PublicMessagePage("Momentanément indisponible",
                                                                   "Le portefeuille ne répond pas : réessayez dans un instant.", assets)));
                  }
                  respond(render(*call, list, assets, *published));
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
           page([kHtml](const RouteCall& call, const std::shared_ptr<const List>& list, const std::string& assets,
                        PublishedList& cache) {
             gv1::PublicPortfolioRequest in;
             absl::Status st = ParseQuery(call.req, &in);
             // The document's limits, held here: this page is the gateway's own (no service behind checks them).
             for (const auto& [field, value, max] : {std::tuple<const char*, const std::string*, size_t>{"q", &in.q(), 200},
                                                     {"incubateur", &in.incubateur(), 120}, {"phase", &in.phase(), 60},
                                                     {"thematique", &in.thematique(), 120}, {"sponsor", &in.sponsor(), 120}}) {
               if (st.ok() && Utf8Length(*value) > static_cast<int>(max)) {
                 st = FieldError(field, absl::StrCat("at most ", max, " characters"));
               }
             }
             if (st.ok() && (in.page() < 0 || in.page() > 10000)) st = FieldError("page", "must be 0-10000");
             if (!st.ok()) {
               return HtmlError(400, PublicMessagePage("Recherche impossible", std::string(st.message()), assets));
             }
             PortfolioQuery q{in.q(), in.incubateur(), in.phase(), in.thematique(), in.sponsor(), std::max(1, in.page())};
             auto r = cache.Render(list, absl::StrCat("/startups\x1f", q.q, "\x1f", q.incubator, "\x1f", q.phase, "\x1f",
                                                      q.thematique, "\x1f", q.sponsor, "\x1f", q.page, "\x1f", assets),
                                   [&] { return PublicPortfolioPage(*list, q, assets); });
             return Cacheable(call.req, r->body, kHtml, r->etag);
           }));
  add_page("/startups/{startup_id}", "Page publique d'une start-up publiée",
           gv1::PublicStartupPageRequest::descriptor(),
           page([kHtml](const RouteCall& call, const std::shared_ptr<const List>& list, const std::string& assets,
                        PublishedList& cache) {
             const std::string id = call.params.at("startup_id");
             for (const auto& s : list->startups()) {
               if (s.id() != id) continue;
               auto r = cache.Render(list, absl::StrCat("/startups/", id, "\x1f", assets),
                                     [&] { return PublicStartupPage(s, assets, absl::Now()); });
               return Cacheable(call.req, r->body, kHtml, r->etag);
             }
             return HtmlError(404, PublicNotFoundPage(id, assets));
           }));
  add_page("/statistiques", "Page publique : les statistiques des start-ups publiées",
           gv1::PublicStatsRequest::descriptor(),
           page([kHtml](const RouteCall& call, const std::shared_ptr<const List>& list, const std::string& assets,
                        PublishedList& cache) {
             auto r = cache.Render(list, absl::StrCat("/statistiques\x1f", assets), [&] { return PublicStatsPage(*list, assets); });
             return Cacheable(call.req, r->body, kHtml, r->etag);
           }));
  constexpr char kObject[] = R"({"type":"object"})";
  struct OpenData {
    const char* path;
    const char* summary;
    Format format;
    const char* type;
    const char* schema;
  };
  static const OpenData kFiles[] = {
      {"/api/v2.7/startups.json", "Données ouvertes : les start-ups publiées (JSON:API, format beta.gouv.fr v2.7)",
       [](const nv1::ListPublicStartupsResponse& l, const std::string& self) { return StartupsJson(l, self); },
       "application/json", kObject},
      {"/api/v2.7/startups_details.json",
       "Données ouvertes : le détail des start-ups publiées (équipes quand elles sont publiques)",
       [](const nv1::ListPublicStartupsResponse& l, const std::string&) { return StartupsDetailsJson(l); },
       "application/json", kObject},
      {"/api/v2.7/startups.csv", "Données ouvertes : les start-ups publiées (CSV, point-virgule)",
       [](const nv1::ListPublicStartupsResponse& l, const std::string&) { return StartupsCsv(l); },
       "text/csv; charset=utf-8", R"({"type":"string"})"},
      {"/api/v2.7/incubators.json", "Données ouvertes : les incubateurs et leurs start-ups publiées",
       [](const nv1::ListPublicStartupsResponse& l, const std::string&) { return IncubatorsJson(l); },
       "application/json", kObject},
      {"/api/v2.7/sponsors.json", "Données ouvertes : les sponsors des start-ups publiées",
       [](const nv1::ListPublicStartupsResponse& l, const std::string&) { return SponsorsJson(l); },
       "application/json", kObject},
  };
  for (const OpenData& f : kFiles) {
    add(f.path, f.summary, open_data(f.format, f.type), std::string(f.type).substr(0, std::string(f.type).find(';')),
        f.schema);
  }
  // The release: what the files above are made of now, with the ledger's newest signed
  // checkpoint — a re-user keeps it beside the files; later, a consistency proof between two
  // releases' checkpoints and the withdrawal of each fact that left (its proof) show nothing
  // was dropped silently (OPENDATA.md).
  auto* audit = b.audit_stub.get();
  using AS = class ::pepiniere::audit::v1::AuditService::Stub::async;
  add("/api/v2.7/release.json",
      "Données ouvertes : la version publiée — empreintes des fichiers, faits de chaque start-up, point de contrôle signé du registre",
      [&b, fetch, published, audit](CallPtr call, Respond respond) {
        published->Get(fetch(call), [&b, call, respond, published, audit](const grpc::Status& s,
                                                                           std::shared_ptr<const List> list) {
          if (!s.ok()) return respond(BackendErrorResponse(s, b.incubation.name(), 1));
          CallUnary(b.audit, audit, &AS::GetCheckpoint, call->meta, ::pepiniere::audit::v1::GetCheckpointRequest(),
                    [&b, call, respond, published, list](const grpc::Status& cs, ::pepiniere::audit::v1::Checkpoint& cp,
                                                         int retry) {
                      if (!cs.ok()) return respond(BackendErrorResponse(cs, b.audit.name(), retry));
                      std::map<std::string, std::string> files;
                      for (const OpenData& f : kFiles) {
                        files[f.path] = Sha256Hex(published->Render(list, f.path, [&] { return f.format(*list, f.path); })->body);
                      }
                      auto r = published->Render(list, absl::StrCat("release\x1f", cp.note()),
                                                 [&] { return ReleaseJson(*list, files, cp.note(), cp.tree_size()); });
                      respond(Cacheable(call->req, r->body, "application/json", r->etag));
                    });
        });
      },
      "application/json", kObject);
}

}  // namespace pep::gateway
