// pepctl's shared parts (pepctl_cli.h): arguments, environment, the gateway call, JSON.
#include "services/gateway/pepctl_cli.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "pepiniere/gateway/v1/gateway.pb.h"

namespace pep::pepctl {

namespace gv1 = ::pepiniere::gateway::v1;

namespace {

constexpr char kUsage[] = R"(usage: pepctl <command> [options]      (PEP_URL, PEP_TOKEN from the environment)
  milestone push --startup ID --title TEXT --idempotency-key KEY [--kind KIND] [--date YYYY-MM-DD]
                 [--description TEXT]         kinds: product_launch users_reached kpi funding team other
  kpi push --startup ID --kpi KPI --value N [--date YYYY-MM-DD] [--idempotency-key KEY]
                                              a measure of an indicator (key: KPI@date by default)
  import portfolio FILE [--dry-run]           JSON Lines, one start-up per line; prints the report
  timeline ID [--individual-feedback]         a start-up's (or idea's) life, one line per event
  verify [--subject ID]                       pep-audit re-checks its index against the signed log
  export ledger --startup ID [--out FILE]     the lineage's ledger (JSON Lines; verify offline)
  export feedback --startup ID [--format csv|jsonl] [--out FILE]
  ledger verify FILE --key KEY                checks an export offline: entries, payload hashes,
                                              inclusion proofs, the checkpoint's signature, gaps
  ledger watch --state FILE [--key KEY]       fetches the newest checkpoint, checks its signature
                                              and its consistency with the one saved in FILE,
                                              saves it; exit 1 on any inconsistency (cron)
  dlt list TOPIC                              dead letters of TOPIC (from TOPIC.dlt): where, when, why
  dlt show TOPIC --offset N [--partition P]   one of them whole: headers and payload (base64)
  dlt replay TOPIC [--offset N [--partition P]]
                                              sends them (all, or one) back to their original
                                              topic after a fix; consumers deduplicate by ce_id
                                              (these three talk to Kafka: --brokers or
                                              PEP_KAFKA_BROKERS, default 127.0.0.1:9092)
  token create --role ROLE --actor WHO [--scope startup:ID] [--name TEXT] [--ttl-days N]
  token list
  token revoke TOKEN_ID
environment: PEP_URL (http:// or https://), PEP_TOKEN, PEP_CA_FILE (a CA bundle for https),
  PEP_TIMEOUT_SECONDS (whole call, default 30; exports 600), HTTPS_PROXY / NO_PROXY
)";

}  // namespace

int Usage(const std::string& why) {
  std::fprintf(stderr, "pepctl: %s\n%s", why.c_str(), kUsage);
  return 2;
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (absl::StartsWith(s, "--")) {
      s = s.substr(2);
      const bool flag = s == "dry-run" || s == "individual-feedback";
      if (const size_t eq = s.find('='); eq != std::string::npos) {
        a.options[s.substr(0, eq)] = s.substr(eq + 1);
      } else if (flag || i + 1 >= argc) {
        a.options[s] = "true";
      } else {
        a.options[s] = argv[++i];
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

pep::gateway::HttpClientOptions ClientOptions(int default_seconds) {
  int seconds = default_seconds;
  if (!absl::SimpleAtoi(Env("PEP_TIMEOUT_SECONDS", ""), &seconds) || seconds <= 0) {
    seconds = default_seconds;
  }
  return {.timeout = absl::Seconds(seconds)};
}

// The gateway's {code, message} as one line, or the body itself.
std::string ErrorMessage(const std::string& body) {
  gv1::Error e;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(body, &e, o).ok() ? e.message() : body;
}

// Calls the gateway; on failure prints a line fit for a CI log and returns the exit code.
int Call(const std::string& method, const std::string& target, const std::string& body,
         const std::string& content_type, std::string* out) {
  std::map<std::string, std::string> headers;
  if (const std::string token = Env("PEP_TOKEN", ""); !token.empty()) {
    headers["Authorization"] = "Bearer " + token;
  }
  if (!body.empty()) headers["Content-Type"] = content_type;
  const std::string url = Env("PEP_URL", "http://127.0.0.1:8080");
  auto r = pep::gateway::HttpCall(url, method, target, headers, body, ClientOptions(30));
  if (!r.ok()) {
    std::fprintf(stderr, "pepctl: %s unreachable: %s\n", url.c_str(),
                 std::string(r.status().message()).c_str());
    return 3;
  }
  if (r->status >= 200 && r->status < 300) {
    *out = r->body;
    return 0;
  }
  std::fprintf(stderr, "pepctl: %s %s: HTTP %d: %s\n", method.c_str(), target.c_str(), r->status,
               ErrorMessage(r->body).c_str());
  return r->status >= 500 ? 3 : 1;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string body;
  google::protobuf::util::JsonPrintOptions po;
  po.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &body, po);
  return body;
}

std::string Date(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d", pep::FromTimestamp(ts), absl::UTCTimeZone());
}

}  // namespace pep::pepctl
