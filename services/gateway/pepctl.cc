// pepctl: the command line product teams call from their CI, and coordinators from a shell,
// over the REST gateway. PEP_URL (default http://127.0.0.1:8080) and PEP_TOKEN come from the
// environment. Exit codes: 0 done, 1 refused by Pépinière (4xx), 2 usage error, 3 Pépinière
// unreachable or failing (5xx) — so a CI job can tell "fix your call" from "retry later".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/proto_time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "pepiniere/audit/v1/audit.pb.h"
#include "pepiniere/gateway/v1/gateway.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "services/gateway/http_client.h"
#include "services/gateway/pepctl_cli.h"

namespace pep::pepctl {
namespace {

namespace nv1 = ::pepiniere::incubation::v1;
namespace av1 = ::pepiniere::audit::v1;
namespace gv1 = ::pepiniere::gateway::v1;

int MilestonePush(const Args& a) {
  for (const char* required : {"startup", "title", "idempotency-key"}) {
    if (a.options.count(required) == 0) return Usage(absl::StrCat("--", required, " is required"));
  }
  nv1::PushMilestoneRequest req;
  req.set_title(a.options.at("title"));
  req.set_idempotency_key(a.options.at("idempotency-key"));
  if (a.options.count("description")) req.set_description(a.options.at("description"));
  std::string kind = absl::AsciiStrToUpper(a.options.count("kind") ? a.options.at("kind") : "other");
  if (!absl::StartsWith(kind, "MILESTONE_KIND_")) kind = "MILESTONE_KIND_" + kind;
  nv1::MilestoneKind k;
  if (!nv1::MilestoneKind_Parse(kind, &k)) return Usage("--kind: unknown milestone kind");
  req.set_kind(k);
  absl::Time date = absl::Now();
  if (a.options.count("date")) {
    std::string err;
    if (!absl::ParseTime("%Y-%m-%d", a.options.at("date"), absl::UTCTimeZone(), &date, &err)) {
      return Usage("--date: expected YYYY-MM-DD");
    }
  }
  *req.mutable_date() = pep::ToTimestamp(date);
  std::string out;
  const std::string body = ToJson(req);
  const int rc = Call("POST", absl::StrCat("/v1/startups/", pep::gateway::UrlEncode(a.options.at("startup")), "/milestones"),
                      body, "application/json", &out);
  if (rc != 0) return rc;
  nv1::Milestone m;
  FromJson(out, &m);
  std::printf("milestone %s recorded: \"%s\" on %s (idempotency key %s)\n", m.id().c_str(),
              m.title().c_str(), Date(m.date()).c_str(), m.idempotency_key().c_str());
  return 0;
}

// A measure of an indicator from the team's CI (issue 31): idempotent like a milestone; the key
// defaults to the indicator and the date, so one measure a day per indicator needs no key.
int KpiPush(const Args& a) {
  for (const char* required : {"startup", "kpi", "value"}) {
    if (a.options.count(required) == 0) return Usage(absl::StrCat("--", required, " is required"));
  }
  nv1::RecordKpiPointRequest req;
  req.set_kpi(a.options.at("kpi"));
  double value = 0;
  if (!absl::SimpleAtod(a.options.at("value"), &value) || !std::isfinite(value)) {
    return Usage("--value: expected a number (a dot for decimals)");
  }
  req.set_value(value);
  absl::Time date = absl::Now();
  if (a.options.count("date")) {
    std::string err;
    if (!absl::ParseTime("%Y-%m-%d", a.options.at("date"), absl::UTCTimeZone(), &date, &err)) {
      return Usage("--date: expected YYYY-MM-DD");
    }
  }
  *req.mutable_date() = pep::ToTimestamp(date);
  req.set_idempotency_key(a.options.count("idempotency-key")
                              ? a.options.at("idempotency-key")
                              : absl::StrCat(req.kpi(), "@", absl::FormatTime("%Y-%m-%d", date, absl::UTCTimeZone())));
  std::string out;
  const int rc = Call("POST", absl::StrCat("/v1/startups/", pep::gateway::UrlEncode(a.options.at("startup")), "/kpis/",
                                           pep::gateway::UrlEncode(req.kpi()), "/points"),
                      ToJson(req), "application/json", &out);
  if (rc != 0) return rc;
  nv1::KpiPoint p;
  FromJson(out, &p);
  std::printf("measure of %s recorded: %s on %s (idempotency key %s)\n", p.kpi().c_str(),
              absl::StrCat(p.value()).c_str(), Date(p.date()).c_str(), p.idempotency_key().c_str());
  return 0;
}

int ImportPortfolio(const Args& a) {
  if (a.positional.size() < 3) return Usage("import portfolio: FILE is required");
  std::ifstream f(a.positional[2], std::ios::binary);
  if (!f) return Usage(absl::StrCat("cannot read ", a.positional[2]));
  const std::string body((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::string out;
  const bool dry = a.options.count("dry-run") > 0;
  const int rc = Call("POST", absl::StrCat("/v1/imports/portfolio", dry ? "?dry_run=true" : ""),
                      body, "application/x-ndjson", &out);
  if (rc != 0) return rc;
  nv1::ImportReport r;
  FromJson(out, &r);
  std::printf("%sread %d, created %d, updated %d, unchanged %d, rejected %d, events %d\n",
              dry ? "(dry run) " : "", r.read(), r.created(), r.updated(), r.unchanged(),
              r.rejected(), r.events_emitted());
  for (const auto& w : r.warnings()) {
    std::printf("warning line %d [%s] %s: %s\n", w.line(), w.rule().c_str(), w.slug().c_str(),
                w.detail().c_str());
  }
  for (const auto& x : r.rejections()) {
    std::printf("rejected line %d: %s\n", x.line(), x.reason().c_str());
  }
  return r.rejected() > 0 ? 1 : 0;
}

int Timeline(const Args& a) {
  if (a.positional.size() < 2) return Usage("timeline: ID is required");
  std::string out;
  const int rc = Call("GET",
                      absl::StrCat("/v1/startups/", pep::gateway::UrlEncode(a.positional[1]), "/timeline",
                                   a.options.count("individual-feedback") ? "?individual_feedback=true" : ""),
                      "", "", &out);
  if (rc != 0) return rc;
  av1::Timeline t;
  FromJson(out, &t);
  for (const auto& e : t.entries()) {
    std::printf("%s  %-16s %s\n", Date(e.effective_time()).c_str(),
                e.actor().empty() ? "-" : e.actor().c_str(), e.summary().c_str());
    for (const auto& c : e.changes()) {
      std::printf("            %s: %s -> %s\n", c.field().c_str(),
                  c.old_value().empty() ? "(vide)" : c.old_value().c_str(), c.new_value().c_str());
    }
  }
  return 0;
}

int Verify(const Args& a) {
  av1::VerifyLedgerRequest req;
  if (a.options.count("subject")) req.set_subject(a.options.at("subject"));
  std::string out;
  const std::string body = ToJson(req);
  const int rc = Call("POST", "/v1/audit:verify", body, "application/json", &out);
  if (rc != 0) return rc;
  av1::VerifyLedgerResponse v;
  FromJson(out, &v);
  std::printf("%s: %lld entries in %lld lineages; signed tree of %llu entries, root %s\n",
              v.ok() ? "ledger OK" : "LEDGER BROKEN", static_cast<long long>(v.records()),
              static_cast<long long>(v.subjects()), static_cast<unsigned long long>(v.tree_size()),
              v.global_head_hash().c_str());
  for (const auto& b : v.broken()) {
    std::printf("broken: %s, entry %lld (%s): %s\n", b.chain().c_str(),
                static_cast<long long>(b.seq()), b.ce_id().c_str(), b.reason().c_str());
  }
  for (const auto& g : v.gaps()) std::printf("gap: %s\n", g.c_str());
  for (const auto& d : v.duplicates()) std::printf("duplicate: %s\n", d.c_str());
  return v.ok() ? 0 : 1;
}

// Streams an export into --out (or stdout). A body cut short — the gateway ends it without its
// terminating chunk when the service fails mid-way — is a failure (exit 3), never a file that
// looks complete.
int Export(const Args& a) {
  const std::string what = a.positional.size() > 1 ? a.positional[1] : "";
  if (what != "ledger" && what != "feedback") return Usage("export: ledger or feedback");
  if (!a.options.count("startup")) return Usage("export: --startup is required");
  std::string target = absl::StrCat("/v1/startups/", pep::gateway::UrlEncode(a.options.at("startup")),
                                    what == "ledger" ? "/ledger:export" : "/feedback:export");
  if (what == "feedback") {
    const std::string format = a.options.count("format") ? a.options.at("format") : "csv";
    if (format != "csv" && format != "jsonl") return Usage("--format: csv or jsonl");
    absl::StrAppend(&target, "?format=EXPORT_FORMAT_", absl::AsciiStrToUpper(format));
  }
  const std::string out_path = a.options.count("out") ? a.options.at("out") : "";
  std::FILE* out = out_path.empty() ? stdout : std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) return Usage(absl::StrCat("cannot write ", out_path));
  std::map<std::string, std::string> headers;
  if (const std::string token = Env("PEP_TOKEN", ""); !token.empty()) {
    headers["Authorization"] = "Bearer " + token;
  }
  const std::string url = Env("PEP_URL", "http://127.0.0.1:8080");
  pep::gateway::HttpClient client(ClientOptions(600));
  size_t bytes = 0;
  auto r = client.Download(url, target, headers, [&](std::string_view piece) {
    bytes += piece.size();
    return std::fwrite(piece.data(), 1, piece.size(), out) == piece.size();
  });
  if (out != stdout) std::fclose(out);
  if (!r.ok()) {
    std::fprintf(stderr, "pepctl: export %s FAILED after %zu bytes: %s%s\n", what.c_str(), bytes,
                 std::string(r.status().message()).c_str(),
                 out_path.empty() ? "" : absl::StrCat(" — ", out_path, " is incomplete").c_str());
    return 3;
  }
  if (r->status < 200 || r->status >= 300) {
    // An error answer is small and went to the file: read it back for the message.
    std::string body;
    if (!out_path.empty()) {
      std::ifstream f(out_path, std::ios::binary);
      body.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
      std::remove(out_path.c_str());
    }
    std::fprintf(stderr, "pepctl: GET %s: HTTP %d: %s\n", target.c_str(), r->status,
                 ErrorMessage(body).c_str());
    return r->status >= 500 ? 3 : 1;
  }
  std::fprintf(stderr, "pepctl: export %s complete: %zu bytes%s\n", what.c_str(), bytes,
               out_path.empty() ? "" : absl::StrCat(" in ", out_path).c_str());
  return 0;
}

int Token(const Args& a) {
  const std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  std::string out;
  if (sub == "list") {
    const int rc = Call("GET", "/v1/tokens", "", "", &out);
    if (rc != 0) return rc;
    gv1::ListTokensResponse list;
    FromJson(out, &list);
    for (const auto& t : list.tokens()) {
      std::printf("%s  %-12s %-20s %-24s expires %s%s  %s\n", t.id().c_str(), t.role().c_str(),
                  t.actor().c_str(), t.scope().c_str(), Date(t.expires_at()).c_str(),
                  t.revoked() ? " REVOKED" : "", t.name().c_str());
    }
    return 0;
  }
  if (sub == "revoke") {
    if (a.positional.size() < 3) return Usage("token revoke: TOKEN_ID is required");
    const int rc = Call("DELETE", "/v1/tokens/" + pep::gateway::UrlEncode(a.positional[2]), "", "", &out);
    if (rc == 0) std::printf("token %s revoked\n", a.positional[2].c_str());
    return rc;
  }
  if (sub == "create") {
    if (!a.options.count("role") || !a.options.count("actor")) {
      return Usage("token create: --role and --actor are required");
    }
    gv1::CreateTokenRequest req;
    req.set_role(a.options.at("role"));
    req.set_actor(a.options.at("actor"));
    if (a.options.count("scope")) req.set_scope(a.options.at("scope"));
    req.set_name(a.options.count("name") ? a.options.at("name") : a.options.at("actor"));
    int days = 90;
    if (a.options.count("ttl-days") && !absl::SimpleAtoi(a.options.at("ttl-days"), &days)) {
      return Usage("--ttl-days: a number of days");
    }
    *req.mutable_expires_at() = pep::ToTimestamp(absl::Now() + absl::Hours(24) * days);
    const std::string body = ToJson(req);
    const int rc = Call("POST", "/v1/tokens", body, "application/json", &out);
    if (rc != 0) return rc;
    gv1::CreateTokenResponse made;
    FromJson(out, &made);
    std::fprintf(stderr, "token %s for %s (%s%s%s), expires %s — the secret below is shown once:\n",
                 made.token().id().c_str(), made.token().actor().c_str(), made.token().role().c_str(),
                 made.token().scope().empty() ? "" : ", ", made.token().scope().c_str(),
                 Date(made.token().expires_at()).c_str());
    std::printf("%s\n", made.secret().c_str());
    return 0;
  }
  return Usage("token: create, list or revoke");
}

}  // namespace
}  // namespace pep::pepctl

int main(int argc, char** argv) {
  using namespace pep::pepctl;  // NOLINT: the commands
  // pepctl's options are its own; PEP_KAFKA_* (how `dlt` reaches a secured Kafka) are flags.
  pep::ParseFlagsWithEnv(1, argv);
  const Args a = Parse(argc, argv);
  if (a.positional.empty() || a.options.count("help")) return Usage("a command is needed");
  const std::string& cmd = a.positional[0];
  if (cmd == "milestone" && a.positional.size() > 1 && a.positional[1] == "push") return MilestonePush(a);
  if (cmd == "kpi" && a.positional.size() > 1 && a.positional[1] == "push") return KpiPush(a);
  if (cmd == "import" && a.positional.size() > 1 && a.positional[1] == "portfolio") return ImportPortfolio(a);
  if (cmd == "timeline") return Timeline(a);
  if (cmd == "verify") return Verify(a);
  if (cmd == "token") return Token(a);
  if (cmd == "export") return Export(a);
  if (cmd == "ledger") return Ledger(a);
  if (cmd == "dlt") return Dlt(a);
  return Usage(absl::StrCat("unknown command '", cmd, "'"));
}
