// pep-gateway: wiring only — flags, the token store (and the bootstrap coordinator token), the
// HTTP(S) server on :8080, metrics on :9100, graceful drain on SIGTERM.
#include <openssl/rand.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/shutdown.h"
#include "services/gateway/gateway.h"
#include "services/gateway/gateway_db.h"
#include "services/gateway/http_server.h"
#include "services/gateway/signin_store.h"
#include "services/gateway/tokens.h"
#include "store/outbox_relay.h"
#include "telemetry/metrics.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

ABSL_FLAG(std::string, bind_address, "127.0.0.1", "Address the HTTP and metrics servers bind");
ABSL_FLAG(int, http_port, 8080, "HTTP port (REST API, console)");
ABSL_FLAG(int, metrics_port, 9100, "Prometheus metrics port");
ABSL_FLAG(std::string, data_dir, ".run/data/gateway", "Token database and client-IP salt");
ABSL_FLAG(std::string, database_url, "",
          "Tokens, accounts, sessions and the client-IP salt: postgres://… shared by several "
          "gateway replicas; empty: gateway.db in --data_dir");
ABSL_FLAG(std::string, ideas_addr, "127.0.0.1:7101",
          "pep-ideas gRPC address: host:port, replicas as h1:p1,h2:p2, or dns:///name:port (round robin)");
ABSL_FLAG(std::string, incubation_addr, "127.0.0.1:7102",
          "pep-incubation gRPC address: host:port, replicas as h1:p1,h2:p2, or dns:///name:port (round robin)");
ABSL_FLAG(std::string, feedback_addr, "127.0.0.1:7103",
          "pep-feedback gRPC address: host:port, replicas as h1:p1,h2:p2, or dns:///name:port (round robin)");
ABSL_FLAG(std::string, audit_addr, "127.0.0.1:7104",
          "pep-audit gRPC address: host:port, replicas as h1:p1,h2:p2, or dns:///name:port (round robin)");
ABSL_FLAG(std::string, notify_addr, "127.0.0.1:7105",
          "pep-notify: host:port, a comma list of replicas, or a gRPC target");
ABSL_FLAG(std::string, gateway_key, "", "Shared secret sent to services as x-pep-gateway-key");
ABSL_FLAG(std::string, bootstrap_token_file, "",
          "If set and no valid coordinator token is there, create one and write it here (0600)");
ABSL_FLAG(std::string, console_dir, PEP_CONSOLE_DIR, "Static files of the web console");
ABSL_FLAG(absl::Duration, public_list_max_age, absl::Seconds(1),
          "How long the published start-ups' list serves the public pages and open data (0: asked each time)");
ABSL_FLAG(int, max_body_bytes, 1 << 20,
          "Largest request body of a route without its own limit (the services' default; "
          "feedback 64 KiB and imports 32 MiB follow their services)");
ABSL_FLAG(int, http_threads, 2, "HTTP io threads (one event loop each)");
ABSL_FLAG(int, max_connections, 16384, "Open HTTP connections at most; past it a 503 and close");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(75), "A kept-alive connection may idle this long");
ABSL_FLAG(absl::Duration, header_timeout, absl::Seconds(10),
          "From a request's first byte to the end of its head (slowloris bound)");
ABSL_FLAG(absl::Duration, body_timeout, absl::Seconds(60), "From the end of the head to the end of the body");
ABSL_FLAG(absl::Duration, export_deadline, absl::Minutes(10), "Deadline of streamed exports");
ABSL_FLAG(int, max_backend_in_flight, 4096, "Calls in flight per service; past it 503 + Retry-After");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM certificate chain: serve HTTPS (with HSTS)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, trusted_proxies, "",
          "CIDR list of reverse proxies whose Forwarded / X-Forwarded-For is believed (empty: none)");
ABSL_FLAG(std::string, forwarded_header, "x-forwarded-for",
          "The header the trusted proxies write: x-forwarded-for or forwarded (the other is ignored)");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "On SIGTERM, how long requests in progress may take to finish");
ABSL_FLAG(std::string, kafka_brokers, "127.0.0.1:9092",
          "Kafka bootstrap servers (access events: accounts, grants, tokens)");
ABSL_FLAG(int, token_max_days, 365, "A bearer token lives at most this many days");
ABSL_FLAG(std::string, oidc_issuer, "",
          "OpenID provider (ProConnect: https://auth.agentconnect.gouv.fr/api/v2); empty: no sign-in");
ABSL_FLAG(std::string, oidc_client_id, "", "Client id registered with the provider");
ABSL_FLAG(std::string, oidc_client_secret_file, "", "File holding the client secret");
ABSL_FLAG(std::string, oidc_redirect_url, "",
          "Public callback URL, e.g. https://pepiniere.example.gouv.fr/auth/callback");
ABSL_FLAG(std::string, oidc_scopes, "openid email given_name usual_name uid siret idp_id",
          "Scopes asked (ProConnect's claims are scopes)");
ABSL_FLAG(std::string, oidc_acr_values, "", "acr values to ask and require (e.g. eidas1); empty: none");
ABSL_FLAG(int, signin_per_minute, 120,
          "Sign-ins one client (its /24 or /64) may start per minute; past it 429 (0: no limit)");
ABSL_FLAG(std::string, oidc_coordinator_emails, "",
          "Comma list: these people are coordinators from their first sign-in (bootstrap)");
ABSL_FLAG(std::string, oidc_trusted_idps, "",
          "Comma list of idp_id values whose e-mail addresses are taken as verified without an "
          "email_verified claim (first-sign-in grants by e-mail need one or the other)");

namespace {

// pep-feedback's rate limits key on SHA-256(salt || client IP): the salt is kept in the
// gateway's database, so every replica and every restart computes the same key and the IP is
// never sent anywhere. A salt from before it moved there (data_dir/client_ip_salt) is kept.
absl::StatusOr<std::string> ClientIpSalt(const std::string& database_url, const std::string& dir) {
  auto db = pep::store::Db::Connect(database_url);
  if (!db.ok()) return db.status();
  return pep::gateway::SharedSetting(**db, "client_ip_salt", [&] {
    std::ifstream in(dir + "/client_ip_salt");
    std::string salt;
    if (in && std::getline(in, salt) && salt.size() >= 32) return salt;
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) std::abort();  // no randomness: refuse to run
    return absl::BytesToHexString(std::string(reinterpret_cast<const char*>(raw), sizeof raw));
  });
}

// The first coordinator token. A token already in the file (e.g. mounted from a Kubernetes
// Secret) is registered if this gateway does not know it yet; with no file, one is made and
// written (0600) for the operator.
int Bootstrap(pep::gateway::TokenStore& tokens, const std::string& file) {
  if (const std::string secret = pep::FirstLine(file); !secret.empty()) {
    auto t = tokens.Authenticate(secret);
    if (t.ok()) return 0;  // known and valid: nothing to do
    if (t.status().message() != "unknown token") {
      pep::LogWarn("the bootstrap token is no longer valid; make another with a coordinator token",
                   {{"file", file}, {"why", std::string(t.status().message())}});
      return 0;
    }
    auto r = tokens.Register({.name = "bootstrap", .actor = "coordinator", .role = "coordinator",
                              .expires_at = absl::Now() + absl::Hours(24 * 365)},
                             "bootstrap", secret);
    if (absl::IsAlreadyExists(r.status())) return 0;  // another replica registered it just now
    if (!r.ok()) {
      pep::LogError("cannot register the bootstrap token", {{"error", std::string(r.status().message())}});
      return 1;
    }
    pep::LogInfo("bootstrap coordinator token registered", {{"file", file}});
    return 0;
  }
  auto made = tokens.Create({.name = "bootstrap", .actor = "coordinator", .role = "coordinator",
                             .expires_at = absl::Now() + absl::Hours(24 * 365)},
                            "bootstrap");
  if (!made.ok()) {
    pep::LogError("cannot create the bootstrap token", {{"error", std::string(made.status().message())}});
    return 1;
  }
  std::ofstream out(file, std::ios::trunc);
  out << made->second << "\n";
  out.close();
  chmod(file.c_str(), 0600);
  pep::LogInfo("bootstrap coordinator token written", {{"file", file}});
  return 0;
}

// Thousands of kept-alive connections need as many descriptors: take the hard limit.
void RaiseFileLimit() {
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  pep::BlockShutdownSignals();
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pep::ParseFlagsWithEnv(argc, argv);
  pep::SetLogService("pep-gateway");
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  const std::string db_url = absl::GetFlag(FLAGS_database_url).empty()
                                  ? data_dir + "/gateway.db"
                                  : absl::GetFlag(FLAGS_database_url);
  auto tokens = pep::gateway::TokenStore::Open(
      db_url, pep::SystemClock::Get(),
      {.max_lifetime = absl::Hours(24) * absl::GetFlag(FLAGS_token_max_days)});
  if (!tokens.ok()) {
    pep::LogError("cannot open token store", {{"error", std::string(tokens.status().message())}});
    return 1;
  }
  auto accounts = pep::gateway::SignInStore::Open(db_url, pep::SystemClock::Get());
  if (!accounts.ok()) {
    pep::LogError("cannot open account store", {{"error", std::string(accounts.status().message())}});
    return 1;
  }
  pep::gateway::WebSignInOptions signin{.issuer = absl::GetFlag(FLAGS_oidc_issuer),
                                        .starts_per_minute = absl::GetFlag(FLAGS_signin_per_minute)};
  if (!signin.issuer.empty()) {
    signin.client = {.client_id = absl::GetFlag(FLAGS_oidc_client_id),
                     .redirect_url = absl::GetFlag(FLAGS_oidc_redirect_url),
                     .scopes = absl::GetFlag(FLAGS_oidc_scopes),
                     .acr_values = absl::GetFlag(FLAGS_oidc_acr_values)};
    signin.client.client_secret = pep::FirstLine(absl::GetFlag(FLAGS_oidc_client_secret_file));
    if (signin.client.client_id.empty() || signin.client.client_secret.empty() ||
        signin.client.redirect_url.empty()) {
      pep::LogError("bad flag", {{"error", "--oidc_issuer needs --oidc_client_id, "
                                           "--oidc_client_secret_file and --oidc_redirect_url"}});
      return 2;
    }
    for (absl::string_view e : absl::StrSplit(absl::GetFlag(FLAGS_oidc_coordinator_emails), ',',
                                              absl::SkipWhitespace())) {
      signin.coordinator_emails.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(e)));
    }
    for (absl::string_view idp : absl::StrSplit(absl::GetFlag(FLAGS_oidc_trusted_idps), ',',
                                                absl::SkipWhitespace())) {
      signin.trusted_idps.emplace_back(absl::StripAsciiWhitespace(idp));
    }
  }
  if (const std::string f = absl::GetFlag(FLAGS_bootstrap_token_file); !f.empty()) {
    if (Bootstrap(**tokens, f) != 0) return 1;
  }
  const std::string bind = absl::GetFlag(FLAGS_bind_address);
  auto trusted = pep::gateway::TrustedProxies::Parse(absl::GetFlag(FLAGS_trusted_proxies),
                                                        absl::GetFlag(FLAGS_forwarded_header));
  if (!trusted.ok()) {
    pep::LogError("bad flag", {{"error", std::string(trusted.status().message())}});
    return 2;
  }
  RaiseFileLimit();
  pep::telemetry::MetricsServer metrics(absl::StrCat(bind, ":", absl::GetFlag(FLAGS_metrics_port)));
  pep::gateway::HttpMetrics http_metrics(metrics.registry());
  pep::telemetry::EventMetrics event_metrics(metrics.registry());
  // Access events (accounts, grants, tokens) leave through the same outbox as the services'.
  pep::store::OutboxRelay relay(db_url, {.brokers = absl::GetFlag(FLAGS_kafka_brokers)}, &event_metrics);
  if (auto s = relay.Start(); !s.ok()) {
    pep::LogError("cannot start outbox relay", {{"error", std::string(s.message())}});
    return 1;
  }
  auto salt = ClientIpSalt(db_url, data_dir);
  if (!salt.ok()) {
    pep::LogError("cannot read the client-IP salt", {{"error", std::string(salt.status().message())}});
    return 1;
  }
  const bool tls = !absl::GetFlag(FLAGS_tls_cert_file).empty();
  pep::gateway::Gateway gateway(
      {.backends = {.ideas = absl::GetFlag(FLAGS_ideas_addr),
                    .incubation = absl::GetFlag(FLAGS_incubation_addr),
                    .feedback = absl::GetFlag(FLAGS_feedback_addr),
                    .audit = absl::GetFlag(FLAGS_audit_addr),
                    .notify = absl::GetFlag(FLAGS_notify_addr)},
       .gateway_key = absl::GetFlag(FLAGS_gateway_key),
       .client_ip_salt = *salt,
       .console_dir = absl::GetFlag(FLAGS_console_dir),
       .trusted_proxies = *std::move(trusted),
       .export_deadline = absl::GetFlag(FLAGS_export_deadline),
       .max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes)),
       .max_backend_in_flight = absl::GetFlag(FLAGS_max_backend_in_flight),
       .tls = tls,
       .signin = std::move(signin),
       .public_list_max_age = absl::GetFlag(FLAGS_public_list_max_age)},
      **tokens, http_metrics, &metrics.registry(), accounts->get());
  auto server = pep::gateway::HttpServer::Start(
      {.bind_address = bind,
       .port = absl::GetFlag(FLAGS_http_port),
       .threads = absl::GetFlag(FLAGS_http_threads),
       .max_connections = absl::GetFlag(FLAGS_max_connections),
       .idle_timeout = absl::GetFlag(FLAGS_idle_timeout),
       .header_timeout = absl::GetFlag(FLAGS_header_timeout),
       .body_timeout = absl::GetFlag(FLAGS_body_timeout),
       .tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file),
       .tls_key_file = absl::GetFlag(FLAGS_tls_key_file),
       .registry = &metrics.registry(),
       .form_action = gateway.web_signin() != nullptr ? gateway.web_signin()->provider_origin() : ""},
      [&gateway](pep::gateway::HttpRequest r, pep::gateway::Respond respond) {
        gateway.Handle(std::move(r), std::move(respond));
      },
      [&gateway](pep::gateway::HttpRequest head,
                 std::function<void(pep::gateway::HttpServer::Admission)> done) {
        gateway.Admit(std::move(head), std::move(done));
      });
  if (!server.ok()) {
    pep::LogError("cannot start HTTP server", {{"error", std::string(server.status().message())}});
    return 1;
  }
  pep::LogInfo("pep-gateway serving", {{tls ? "https" : "http", absl::StrCat(bind, ":", (*server)->port())},
                                       {"metrics", absl::StrCat(bind, ":", metrics.port())}});
  const int sig = pep::WaitForShutdownSignal();
  pep::LogInfo("shutting down", {{"signal", absl::StrCat(sig)}});
  gateway.SetDraining();
  const int left = (*server)->Drain(absl::GetFlag(FLAGS_drain_timeout));
  pep::LogInfo("drained", {{"connections_left", absl::StrCat(left)}});
  server->reset();
  relay.Stop(absl::Seconds(2));  // what is left stays in the outbox for the next start
  tokens->reset();
  std::fflush(nullptr);
  std::_Exit(0);  // prometheus-cpp's exit path is slow; the data is closed
}
