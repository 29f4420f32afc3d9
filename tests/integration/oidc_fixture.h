// The real OpenID provider of deploy/local/oidc (npm oidc-provider, set up like ProConnect) on
// 127.0.0.1, and a browser-like HTTP client (cookies kept, redirects followed by hand, the
// provider's login form submitted) for the sign-in flows.
#pragma once

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "services/gateway/http_client.h"
#include "services/gateway/http_server.h"

namespace pep::testing {

inline constexpr char kOidcClientSecret[] = "test-client-secret-0123456789";

class OidcProvider {
 public:
  // `redirect`: the relying party's callback; `after_logout`: where end_session sends back.
  OidcProvider(const std::string& redirect, const std::string& after_logout) : port_(FreePort()) {
    std::ofstream(secret_file()) << kOidcClientSecret;
    proc_.Start({"/usr/bin/env", "node", SourceDir() + "/deploy/local/oidc/provider.mjs", "--port",
                 std::to_string(port_), "--client-id", "pepiniere", "--client-secret-file",
                 secret_file(), "--redirect-uri", redirect, "--post-logout-redirect-uri", after_logout,
                 // The demo's people, and the tests' own: an impostor, odd claims.
                 "--people", SourceDir() + "/deploy/local/oidc/people.json," + SourceDir() +
                                 "/tests/integration/people-test.json"},
                {}, dir_.path() + "/provider.log");
    EXPECT_TRUE(WaitFor([&] { return PortAccepts(port_); }, absl::Seconds(30)))
        << "provider not listening; see " << dir_.path();
  }
  std::string issuer() const { return absl::StrCat("http://127.0.0.1:", port_); }
  std::string secret_file() const { return dir_.path() + "/secret"; }
  ChildProcess& process() { return proc_; }

 private:
  TempDir dir_;
  int port_;
  ChildProcess proc_;
};

// The value of `name` in a URL's query.
inline std::string QueryParam(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  for (absl::string_view pair : absl::StrSplit(url.substr(q + 1), '&')) {
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return gateway::UrlDecode(std::string(pair.substr(eq + 1)), true);
  }
  return "";
}

// The text of attribute `attr="…"` after `from` in an HTML page.
inline std::string Attribute(const std::string& html, const std::string& attr, size_t from = 0) {
  const std::string key = attr + "=\"";
  const size_t at = html.find(key, from);
  if (at == std::string::npos) return "";
  return html.substr(at + key.size(), html.find('"', at + key.size()) - at - key.size());
}

// A browser: one cookie jar for every site on 127.0.0.1, redirects followed one by one.
class Browser {
 public:
  explicit Browser(std::string provider) : provider_(std::move(provider)) {}
  // GETs `url` and follows redirects while they stay on `stay_on` (a URL prefix); returns the
  // last answer, and in `left_to` the first redirect that leaves it.
  gateway::HttpResult Follow(const std::string& url, const std::string& stay_on,
                             std::string* left_to = nullptr) {
    std::string next = url;
    for (int hops = 0; hops < 10; ++hops) {
      auto r = http_.Call(next, "GET", "");
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return {};
      if (r->status < 300 || r->status >= 400) return *r;
      next = Absolute(next, r->headers["location"]);
      if (!absl::StartsWith(next, stay_on)) {
        if (left_to != nullptr) *left_to = next;
        return *r;
      }
    }
    ADD_FAILURE() << "redirect loop";
    return {};
  }
  // At the provider's login form (or with its session still open): signs in, and returns the
  // redirect back to the relying party ("" when refused; `login_status` the form's answer).
  std::string LogInAtProvider(const std::string& authorization_url, const std::string& email,
                              const std::string& password, int* login_status = nullptr) {
    std::string back;
    gateway::HttpResult page = Follow(authorization_url, provider_, &back);
    if (!back.empty()) return back;  // the provider's session is still open
    EXPECT_EQ(page.status, 200) << page.body.substr(0, 300);
    EXPECT_NE(page.body.find("Mot de passe"), std::string::npos) << "the provider's login form";
    const std::string action = Attribute(page.body, "action");
    auto posted = http_.Call(provider_ + action, "POST", "",
                             {{"Content-Type", "application/x-www-form-urlencoded"}},
                             absl::StrCat("email=", gateway::UrlEncode(email), "&password=",
                                          gateway::UrlEncode(password)));
    EXPECT_TRUE(posted.ok());
    if (login_status != nullptr) *login_status = posted.ok() ? posted->status : 0;
    if (!posted.ok() || posted->status != 303) return "";
    Follow(Absolute(provider_, posted->headers["location"]), provider_, &back);
    return back;
  }
  // The provider's logout confirmation (end_session): confirms, returns where it sends back.
  std::string ConfirmLogoutAtProvider(const std::string& end_session_url) {
    gateway::HttpResult confirm = Follow(end_session_url, provider_);
    EXPECT_EQ(confirm.status, 200) << confirm.body.substr(0, 300);
    const size_t xsrf_at = confirm.body.find("name=\"xsrf\"");
    const std::string xsrf = Attribute(confirm.body, "value", xsrf_at);
    const std::string action = Attribute(confirm.body, "action");
    auto done = http_.Call(Absolute(provider_, action), "POST", "",
                           {{"Content-Type", "application/x-www-form-urlencoded"}},
                           absl::StrCat("xsrf=", gateway::UrlEncode(xsrf), "&logout=yes"));
    EXPECT_TRUE(done.ok());
    if (!done.ok() || done->status < 300 || done->status >= 400) return "";
    std::string back = Absolute(provider_, done->headers["location"]);
    if (absl::StartsWith(back, provider_)) Follow(back, provider_, &back);
    return back;
  }
  gateway::HttpClient& http() { return http_; }
  static std::string Absolute(const std::string& base, const std::string& location) {
    if (absl::StartsWith(location, "http")) return location;
    const size_t scheme = base.find("://");
    const size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return (path == std::string::npos ? base : base.substr(0, path)) + location;
  }

 private:
  std::string provider_;
  gateway::HttpClient http_{{.timeout = absl::Seconds(10), .cookies = true}};
};

}  // namespace pep::testing
