#include "services/gateway/web_signin.h"

#include <algorithm>

#include "services/gateway/client_address.h"

#include "absl/strings/ascii.h"
#include "boost/asio/post.hpp"
#include "boost/asio/thread_pool.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/text.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "pepiniere/incubation/v1/incubation.grpc.pb.h"
#include "services/gateway/gateway.h"
#include "services/gateway/tokens.h"

namespace pep::gateway {

namespace nv1 = ::pepiniere::incubation::v1;

namespace {


HttpResponse Redirect(int status, const std::string& location) {
  HttpResponse r{status, "text/plain; charset=utf-8", ""};
  r.headers["Location"] = location;
  r.headers["Cache-Control"] = "no-store";
  return r;
}

// Only a path of this site: "/…" but not "//host", "/\\host", nor anything a browser would turn
// into one (it drops tabs and newlines from URLs: "/\t/host" is "//host"). Printable ASCII only.
std::string SafeReturnTo(const std::string& r) {
  if (r.empty() || r[0] != '/') return "/";
  for (unsigned char c : r) {
    if (c <= 0x20 || c >= 0x7f || c == '\\') return "/";
  }
  if (r.size() > 1 && r[1] == '/') return "/";
  return r;
}

// "https://host:port" of a URL.
std::string OriginOf(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

std::string HostOf(const std::string& origin) {
  const size_t scheme = origin.find("://");
  return scheme == std::string::npos ? "" : absl::AsciiStrToLower(origin.substr(scheme + 3));
}

}  // namespace

HttpResponse Page(int status, const std::string& title, const std::string& text,
                  const std::string& more_html) {
  HttpResponse r{status, "text/html; charset=utf-8",
                 absl::StrCat("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
                              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                              "<title>", HtmlEscape(title), " — Pépinière</title></head><body><main><h1>",
                              HtmlEscape(title), "</h1><p>", HtmlEscape(text), "</p>",
                              more_html.empty() ? "<p><a href=\"/\">Retour à la console</a></p>" : more_html,
                              "</main></body></html>\n")};
  r.headers["Cache-Control"] = "no-store";
  return r;
}

absl::Status CheckSameOrigin(const HttpRequest& req, const std::string& public_origin) {
  const std::string* origin = req.Header("origin");
  std::string seen;
  if (origin != nullptr && !origin->empty() && *origin != "null") {
    seen = *origin;
  } else if (const std::string* referer = req.Header("referer"); referer != nullptr) {
    seen = OriginOf(*referer);
  }
  if (seen.empty()) {
    return absl::PermissionDeniedError(
        "csrf: a signed-in change needs the browser's Origin header (or use a bearer token)");
  }
  const std::string* host = req.Header("host");
  const std::string got = HostOf(seen);
  if ((host != nullptr && got == absl::AsciiStrToLower(*host)) ||
      (!public_origin.empty() && got == HostOf(public_origin))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("csrf: a request from ", seen, " may not act with this site's session"));
}

WebSignIn::WebSignIn(WebSignInOptions options, SignInStore& store, Backends& backends)
    : options_(std::move(options)),
      store_(store),
      backends_(backends),
      jwks_([this]() -> absl::StatusOr<std::string> {
        auto meta = Metadata();
        if (!meta.ok()) return meta.status();
        HttpClient http({.timeout = absl::Seconds(10)});
        auto r = http.Call(meta->jwks_uri, "GET", "");
        if (!r.ok()) return r.status();
        if (r->status != 200) return absl::UnavailableError(absl::StrCat("jwks: HTTP ", r->status));
        return r->body;
      }),
      starts_(options_.starts_per_minute, absl::Minutes(1)) {
  origin_ = OriginOf(options_.client.redirect_url);
  secure_ = absl::StartsWith(origin_, "https://");
  cookie_name_ = secure_ ? "__Host-pep_session" : "pep_session";
  state_cookie_ = secure_ ? "__Host-pep_signin" : "pep_signin";
  if (enabled()) pool_ = std::make_unique<boost::asio::thread_pool>(std::max(1, options_.threads));
}

WebSignIn::~WebSignIn() {
  if (pool_ == nullptr) return;
  pool_->stop();  // sign-ins not begun are dropped with the process
  pool_->join();
}

std::string WebSignIn::provider_origin() const { return OriginOf(options_.issuer); }

bool WebSignIn::Post(std::function<void()> work) {
  // Sign-ins are open to anyone: a flood waits in a bounded line, the rest is told to retry.
  if (queued_.fetch_add(1) >= kMaxQueued) {
    --queued_;
    return false;
  }
  boost::asio::post(*pool_, [this, work = std::move(work)] {
    work();
    --queued_;
  });
  return true;
}

namespace {
std::string CookieValue(const HttpRequest& req, const std::string& name) {
  const std::string* cookie = req.Header("cookie");
  if (cookie == nullptr) return "";
  for (absl::string_view part : absl::StrSplit(*cookie, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}
}  // namespace

std::string WebSignIn::SessionCookie(const HttpRequest& req) const {
  return CookieValue(req, cookie_name_);
}

std::string WebSignIn::SessionCookieHeader(const std::string& value, bool clear) const {
  return absl::StrCat(cookie_name_, "=", clear ? "" : value, "; Path=/; HttpOnly; SameSite=Lax",
                      secure_ ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

void WebSignIn::Handle(HttpRequest req, Respond respond) {
  if (!enabled()) {
    return respond(Page(404, "Connexion indisponible",
                        "Aucun fournisseur d'identité n'est configuré (--oidc_issuer)."));
  }
  auto busy = respond;
  const bool queued = Post([this, req = std::move(req), respond = std::move(respond)] {
    HttpResponse r;
    if (req.path == "/auth/login" && (req.method == "GET" || req.method == "HEAD")) {
      r = Login(req);
    } else if (req.path == "/auth/callback" && req.method == "GET") {
      r = Callback(req);
    } else if (req.path == "/auth/logout" && req.method == "POST") {
      r = Logout(req);
    } else {
      r = Page(404, "Page introuvable", absl::StrCat(req.method, " ", req.path));
    }
    respond(std::move(r));
  });
  if (!queued) {
    HttpResponse r = Page(503, "Connexion momentanément indisponible", "Trop de connexions en cours ; réessayez dans un instant.");
    r.headers.emplace("Retry-After", "1");  // (operator[] = "1" trips gcc 12's -Wrestrict)
    busy(std::move(r));
  }
}

absl::StatusOr<oidc::ProviderMetadata> WebSignIn::Metadata() {
  {
    absl::MutexLock l(&meta_mu_);
    if (meta_) return *meta_;
  }
  HttpClient http({.timeout = absl::Seconds(10)});
  auto m = oidc::Discover(http, options_.issuer);
  if (!m.ok()) return m.status();
  absl::MutexLock l(&meta_mu_);
  meta_ = *m;
  return *m;
}

HttpResponse WebSignIn::Login(const HttpRequest& req) {
  std::optional<absl::Duration> wait;
  {
    absl::MutexLock l(&limit_mu_);
    wait = starts_.Allow(ClientKey("", req.client_addr), absl::Now());
  }
  if (wait) {
    HttpResponse r = Page(429, "Trop de tentatives de connexion",
                          "Trop de connexions commencées depuis votre réseau ; réessayez dans une minute.");
    r.headers.emplace("Retry-After", absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(*wait) + 1)));
    return r;
  }
  auto meta = Metadata();
  if (!meta.ok()) {
    LogWarn("sign-in: provider unavailable", {{"error", std::string(meta.status().message())}});
    return Page(503, "Connexion momentanément indisponible",
                "Le fournisseur d'identité ne répond pas ; réessayez dans un instant.");
  }
  oidc::AuthorizationRequest a = oidc::BuildAuthorization(*meta, options_.client);
  absl::Status saved =
      store_.SavePending(a.state, {a.nonce, a.code_verifier, SafeReturnTo(req.Query("return_to"))});
  if (!saved.ok()) return Page(500, "Erreur", std::string(saved.message()));
  HttpResponse r = Redirect(302, a.url);
  // The state is also this browser's: a callback carrying a state begun in another browser (an
  // attacker's sign-in pushed onto a victim: login CSRF) is refused. Lax: the provider's
  // redirect back is a top-level GET, which carries it.
  r.headers["Set-Cookie"] = absl::StrCat(state_cookie_, "=", a.state, "; Path=/; HttpOnly; SameSite=Lax; Max-Age=600",
                                         secure_ ? "; Secure" : "");
  return r;
}

absl::StatusOr<std::vector<GrantSpec>> WebSignIn::FirstGrants(const std::string& email) {
  std::vector<GrantSpec> grants;
  if (email.empty()) return grants;
  for (const std::string& c : options_.coordinator_emails) {
    if (c == email) {
      grants.push_back({"coordinator", "", "--oidc_coordinator_emails"});
      break;  // listed twice is still one grant
    }
  }
  // The gateway asks as itself: the one place it acts without a person behind the call.
  grpc::ClientContext ctx;
  ApplyMetadata(ctx, {.deadline = absl::Seconds(5),
                      .caller = {.actor = "pep-gateway", .roles = kCoordinator},
                      .gateway_key = options_.gateway_key});
  nv1::FindTeamMembershipsRequest rq;
  rq.set_email(email);
  nv1::FindTeamMembershipsResponse out;
  grpc::Status s = backends_.incubation_stub->FindTeamMemberships(&ctx, rq, &out);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("pep-incubation: ", s.error_message()));
  }
  for (const std::string& id : out.startup_ids()) {
    grants.push_back({"product_team", "startup:" + id, "membre de l'équipe dans pep-incubation"});
  }
  return grants;
}

void WebSignIn::ClaimAssistedIdeas(const Account& account) {
  grpc::ClientContext ctx;
  ApplyMetadata(ctx, {.deadline = absl::Seconds(5), .caller = PersonCaller(account),
                      .gateway_key = options_.gateway_key});
  pepiniere::ideas::v1::ClaimIdeasRequest rq;
  rq.set_email(account.email);
  pepiniere::ideas::v1::ClaimIdeasResponse out;
  grpc::Status s = backends_.ideas_stub->ClaimIdeas(&ctx, rq, &out);
  if (!s.ok()) {
    LogWarn("pep-ideas: ideas filed by a relais not claimed (next sign-in asks again)",
            {{"account", account.id}, {"error", s.error_message()}});
  } else if (out.idea_ids_size() > 0) {
    LogInfo("ideas filed by a relais claimed", {{"account", account.id}, {"ideas", absl::StrCat(out.idea_ids_size())}});
  }
}

HttpResponse WebSignIn::Callback(const HttpRequest& req) {
  if (const std::string error = req.Query("error"); !error.empty()) {
    return Page(400, "Connexion refusée",
                absl::StrCat("Le fournisseur d'identité a répondu : ", error, " ",
                             req.Query("error_description")));
  }
  const std::string state = req.Query("state"), code = req.Query("code");
  if (state.empty() || code.empty()) {
    return Page(400, "Connexion incomplète", "state et code sont requis : recommencez la connexion.");
  }
  if (CookieValue(req, state_cookie_) != state) {
    return Page(400, "Connexion refusée",
                "state: this sign-in was not begun in this browser — start it again from Pépinière.");
  }
  auto pending = store_.TakePending(state);
  if (!pending.ok()) {
    return Page(400, "Connexion expirée ou déjà utilisée",
                absl::StrCat(pending.status().message(), " — recommencez la connexion."));
  }
  auto meta = Metadata();
  if (!meta.ok()) return Page(503, "Connexion momentanément indisponible", std::string(meta.status().message()));
  HttpClient http({.timeout = absl::Seconds(10)});
  const oidc::AuthorizationRequest request{"", state, pending->nonce, pending->code_verifier};
  const absl::Time now = absl::Now();
  auto signed_in = oidc::ExchangeCode(http, *meta, options_.client, jwks_, code, request, now);
  if (!signed_in.ok()) {
    LogWarn("sign-in refused", {{"error", std::string(signed_in.status().message())}});
    return Page(401, "Connexion refusée", std::string(signed_in.status().message()));
  }
  auto info = oidc::FetchUserinfo(http, *meta, options_.client, jwks_, *signed_in, now);
  if (!info.ok()) {
    LogWarn("sign-in refused (userinfo)", {{"error", std::string(info.status().message())}});
    return Page(401, "Connexion refusée", std::string(info.status().message()));
  }
  auto claim = [&](const char* name) { return info->String(name).value_or(""); };
  Account claims{.issuer = meta->issuer,
                 .subject = signed_in->id_claims.String("sub").value_or(""),
                 .email = absl::AsciiStrToLower(claim("email")),
                 .display_name = std::string(absl::StripAsciiWhitespace(
                     absl::StrCat(claim("given_name"), " ", claim("usual_name")))),
                 .organisation = !claim("organizational_unit").empty() ? claim("organizational_unit")
                                                                       : claim("siret")};
  if (claims.display_name.empty()) claims.display_name = claims.email;
  // What a first sign-in brings (bootstrap coordinator, team access from pep-incubation) is
  // looked up for a first sign-in only.
  auto known = store_.HasAccount(claims.issuer, claims.subject);
  if (!known.ok()) return Page(500, "Erreur", std::string(known.status().message()));
  std::vector<GrantSpec> first;
  // Grants by e-mail only for an address the provider vouches for: any provider of a federation
  // could otherwise assert a coordinator's address and inherit her rights.
  const bool vouched =
      info->Bool("email_verified").value_or(false) ||
      std::find(options_.trusted_idps.begin(), options_.trusted_idps.end(), claim("idp_id")) !=
          options_.trusted_idps.end();
  if (!*known && !vouched) {
    LogWarn("first sign-in: e-mail not verified by the provider, no grant by e-mail",
            {{"idp_id", claim("idp_id")}});
  }
  if (!*known && vouched) {
    auto grants = FirstGrants(claims.email);
    if (!grants.ok()) {
      return Page(503, "Connexion momentanément indisponible",
                  absl::StrCat(grants.status().message(), " — réessayez dans un instant."));
    }
    first = *std::move(grants);
  }
  auto account = store_.UpsertAccount(claims, first);
  if (!account.ok()) return Page(500, "Erreur", std::string(account.status().message()));
  auto secret = store_.CreateSession(account->id, signed_in->id_token);
  if (!secret.ok()) return Page(500, "Erreur", std::string(secret.status().message()));
  LogInfo("signed in", {{"account", account->id}, {"new", account->created_now ? "yes" : "no"}});
  SyncContact(backends_, options_.gateway_key, PersonCaller(*account), account->email,
              account->display_name);
  if (vouched) ClaimAssistedIdeas(*account);  // before the first page, which may list them
  HttpResponse r = Redirect(302, pending->return_to);
  r.headers["Set-Cookie"] = SessionCookieHeader(*secret, false);
  return r;
}

HttpResponse WebSignIn::Logout(const HttpRequest& req) {
  if (absl::Status same = CheckSameOrigin(req, origin_); !same.ok()) {
    return Page(403, "Déconnexion refusée", std::string(same.message()));
  }
  const std::string secret = SessionCookie(req);
  std::string id_token;
  if (!secret.empty()) {
    auto live = store_.Authenticate(secret);
    if (live.ok()) id_token = live->id_token;
    (void)store_.Revoke(secret);  // already gone is as good
  }
  auto meta = Metadata();
  // Ended here in any case; at the provider too when it says how.
  HttpResponse r = Redirect(303, "/");
  if (!id_token.empty() && meta.ok() && !meta->end_session_endpoint.empty()) {
    r = Redirect(303, oidc::EndSessionUrl(*meta, id_token, RandomToken(), origin_ + "/"));
  }
  r.headers["Set-Cookie"] = SessionCookieHeader("", true);
  return r;
}

}  // namespace pep::gateway
