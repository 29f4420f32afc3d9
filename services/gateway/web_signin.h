// Sign-in for people (issue 13): /auth/login, /auth/callback and /auth/logout on the gateway,
// against an OpenID provider set up like ProConnect (oidc_client.h), accounts, grants and
// sessions in SignInStore. The blocking work (discovery, code exchange, userinfo, the team
// lookup in pep-incubation) runs on this class's own thread pool, never on an io thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/gateway/backends.h"
#include "services/gateway/http_server.h"
#include "services/gateway/jose.h"
#include "common/rate_limit.h"
#include "services/gateway/oidc_client.h"
#include "services/gateway/signin_store.h"

namespace boost::asio {
class thread_pool;
}

namespace pep::gateway {

struct WebSignInOptions {
  std::string issuer;        // --oidc_issuer; empty: sign-in off
  oidc::ClientSettings client;
  std::vector<std::string> coordinator_emails;  // lower case (--oidc_coordinator_emails)
  // What a first sign-in is given by e-mail (bootstrap coordinator, team access) needs an
  // address the provider vouches for: `email_verified: true`, or an identity provider listed
  // here (--oidc_trusted_idps, ProConnect's idp_id: an administration's own directory).
  std::vector<std::string> trusted_idps;
  std::string gateway_key;   // for the team lookup in pep-incubation
  int threads = 2;
  // Sign-ins one client (its /24 or /64) may start per minute (--signin_per_minute): each is
  // a row in the pending table until it ends or expires, and an anonymous client must not fill it.
  int starts_per_minute = 120;  // a /24 is a floor of agents signing in at 9:00
};

// A short French page for people (sign-in failures, one-click unsubscribe), never a JSON body:
// `title`, `text`, then `more_html` (already HTML; empty: a link back to the console).
HttpResponse Page(int status, const std::string& title, const std::string& text,
                  const std::string& more_html = "");

class WebSignIn {
 public:
  WebSignIn(WebSignInOptions options, SignInStore& store, Backends& backends);
  ~WebSignIn();
  bool enabled() const { return !options_.issuer.empty(); }
  // "__Host-pep_session" (Secure) when the public address is https; "pep_session" on a plain
  // http loopback address, where browsers refuse __Host- cookies.
  const std::string& cookie_name() const { return cookie_name_; }
  bool secure_cookie() const { return secure_; }
  // The public origin ("https://pepiniere.example.fr"), from --oidc_redirect_url.
  const std::string& origin() const { return origin_; }
  // The provider's origin (the logout form ends there: the console's CSP allows it).
  std::string provider_origin() const;
  // GET /auth/login, GET /auth/callback, POST /auth/logout. Answers through `respond`.
  void Handle(HttpRequest req, Respond respond);
  // The session cookie's value in `req`, or "".
  std::string SessionCookie(const HttpRequest& req) const;

 private:
  HttpResponse Login(const HttpRequest& req);
  HttpResponse Callback(const HttpRequest& req);
  HttpResponse Logout(const HttpRequest& req);
  absl::StatusOr<oidc::ProviderMetadata> Metadata();
  absl::StatusOr<std::vector<GrantSpec>> FirstGrants(const std::string& email);
  // Ideas a relais filed for this person's (vouched) address become theirs: asked of pep-ideas
  // at each sign-in, as the person; a failure is logged and the next sign-in asks again.
  void ClaimAssistedIdeas(const Account& account);
  std::string SessionCookieHeader(const std::string& value, bool clear) const;
  static constexpr size_t kMaxQueued = 256;
  bool Post(std::function<void()> work);  // false when the line is full

  const WebSignInOptions options_;
  SignInStore& store_;
  Backends& backends_;
  std::string cookie_name_, state_cookie_, origin_;
  bool secure_ = false;
  jose::JwksCache jwks_;
  absl::Mutex meta_mu_;
  std::optional<oidc::ProviderMetadata> meta_ ABSL_GUARDED_BY(meta_mu_);

  std::unique_ptr<boost::asio::thread_pool> pool_;  // only when sign-in is on
  std::atomic<size_t> queued_{0};
  absl::Mutex limit_mu_;
  RateLimiter starts_ ABSL_GUARDED_BY(limit_mu_);
};

// The browser's own origin for a state-changing request: Origin (or, without it, Referer)
// must name this host (the Host header) — a cross-site form POST with a valid session cookie
// is refused. Returns the refusal, or OK.
absl::Status CheckSameOrigin(const HttpRequest& req, const std::string& public_origin);

}  // namespace pep::gateway
