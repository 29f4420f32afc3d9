// pepctl: the command line product teams call from their CI, and coordinators from a shell,
// over the REST gateway. PEP_URL (default http://127.0.0.1:8080) and PEP_TOKEN come from the
// environment. Exit codes: 0 done, 1 refused by Pépinière (4xx), 2 usage error, 3 Pépinière
// unreachable or failing (5xx) — so a CI job can tell "fix your call" from "retry later".
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
#include "events/dead_letters.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "pepiniere/audit/v1/audit.pb.h"
#include "pepiniere/gateway/v1/gateway.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "services/audit/entry_v2.h"
#include "services/gateway/http_client.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace {

namespace nv1 = ::pepiniere::incubation::v1;
namespace av1 = ::pepiniere::audit::v1;
namespace gv1 = ::pepiniere::gateway::v1;

constexpr char kUsage[] = R"(usage: pepctl <command> [options]      (PEP_URL, PEP_TOKEN from the environment)
  milestone push --startup ID --title TEXT --idempotency-key KEY [--kind KIND] [--date YYYY-MM-DD]
                 [--description TEXT]         kinds: product_launch users_reached kpi funding team other
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

int Usage(const std::string& why) {
  std::fprintf(stderr, "pepctl: %s\n%s", why.c_str(), kUsage);
  return 2;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --name value, or "true" for flags
};

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

template <typename M>
bool FromJson(const std::string& json, M* m) {
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;  // a newer gateway may say more
  return google::protobuf::util::JsonStringToMessage(json, m, o).ok();
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

// ----------------------------------------------------------------------------- ledger

std::string Str(const google::protobuf::Struct& s, const std::string& k) {
  auto it = s.fields().find(k);
  return it == s.fields().end() ? "" : it->second.string_value();
}

bool Unb64(const std::string& in, std::string* out) { return absl::Base64Unescape(in, out); }

int LedgerVerify(const Args& a) {
  if (a.positional.size() < 3) return Usage("ledger verify: FILE is required");
  if (!a.options.count("key")) return Usage("ledger verify: --key (the log's published verifier key) is required");
  std::ifstream in(a.positional[2]);
  if (!in) return Usage(absl::StrCat("cannot read ", a.positional[2]));
  std::vector<google::protobuf::Struct> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    google::protobuf::Struct s;
    if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) {
      std::printf("line %zu: not JSON\n", lines.size() + 1);
      return 1;
    }
    lines.push_back(std::move(s));
  }
  if (lines.empty() || Str(lines[0], "checkpoint").empty()) {
    std::printf("the first line is not an export head with a checkpoint\n");
    return 1;
  }
  auto text = pep::tlog::OpenNote(Str(lines[0], "checkpoint"), a.options.at("key"));
  auto cp = text.ok() ? pep::tlog::ParseCheckpoint(*text) : absl::StatusOr<pep::tlog::Checkpoint>(text.status());
  if (!cp.ok()) {
    std::printf("checkpoint: %s\n", std::string(cp.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> problems;
  std::map<std::string, std::set<int64_t>> versions;
  std::set<uint64_t> seen;
  int64_t entries = 0, withheld = 0;
  const google::protobuf::Struct* end = nullptr;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& f = lines[i].fields();
    if (f.count("export_end")) {
      end = &lines[i];
      continue;
    }
    if (!f.count("index")) continue;
    ++entries;
    const uint64_t index = static_cast<uint64_t>(f.at("index").number_value());
    const std::string where = absl::StrCat("entry ", entries, " (index ", index, ")");
    std::string entry;
    pep::audit::EntryV2Fields fields;
    if (!Unb64(Str(lines[i], "entry"), &entry) || pep::audit::SplitEntryV2(entry, &fields) != -1 ||
        fields[11].size() != 32) {
      problems.push_back(where + ": not a version 2 entry");
      continue;
    }
    if (!seen.insert(index).second) problems.push_back(where + ": index given twice");
    const std::string ce_id(fields[0]);
    if (f.count("payload_withheld") && f.at("payload_withheld").bool_value()) {
      ++withheld;
    } else {
      std::string payload;
      const pep::tlog::Hash h = pep::tlog::Sha256(Unb64(Str(lines[i], "payload"), &payload) ? payload : "");
      if (std::string_view(reinterpret_cast<const char*>(h.data()), 32) != fields[11]) {
        problems.push_back(absl::StrCat(where, " (", ce_id, "): the payload does not hash to the entry"));
      }
    }
    std::vector<pep::tlog::Hash> proof;
    bool proof_ok = f.count("proof") > 0;
    if (proof_ok) {
      for (const auto& v : f.at("proof").list_value().values()) {
        std::string raw;
        if (!Unb64(v.string_value(), &raw) || raw.size() != 32) proof_ok = false;
        pep::tlog::Hash h{};
        std::copy(raw.begin(), raw.end(), h.begin());
        proof.push_back(h);
      }
    }
    if (!proof_ok || !pep::tlog::VerifyInclusion(index, cp->size, pep::tlog::LeafHash(entry), proof, cp->root)) {
      problems.push_back(absl::StrCat(where, " (", ce_id, "): the inclusion proof does not lead to the signed root"));
    }
    int64_t v = 0;
    if (absl::SimpleAtoi(absl::string_view(fields[8].data(), fields[8].size()), &v)) {
      versions[std::string(fields[3])].insert(v);
    }
  }
  for (const auto& [aggregate, vs] : versions) {
    for (int64_t v = 1; v < *vs.rbegin(); ++v) {
      if (!vs.count(v)) problems.push_back(absl::StrCat(aggregate, ": version ", v, " missing"));
    }
  }
  if (end == nullptr) {
    problems.push_back("no closing line: the export is cut short");
  } else {
    const auto& f = end->fields();
    if (!f.count("entries") || static_cast<int64_t>(f.at("entries").number_value()) != entries) {
      problems.push_back(absl::StrCat("the closing line's entry count is not the file's ", entries,
                                      ": cut short or added to"));
    }
    if (!f.count("tree_size") || static_cast<uint64_t>(f.at("tree_size").number_value()) != cp->size) {
      problems.push_back("the closing line's tree size is not the checkpoint's");
    }
  }
  const std::string subject = Str(lines[0], "subject");
  if (subject.empty() && seen.size() != cp->size) {
    problems.push_back(absl::StrCat("an export of the whole log must hold entries 0..", cp->size - 1));
  }
  for (const auto& p : problems) std::printf("%s\n", p.c_str());
  if (!problems.empty()) return 1;
  std::printf("OK: %lld entries of %s, each included in the tree of size %llu signed by %s (root %s)%s\n",
              static_cast<long long>(entries), subject.empty() ? "the whole log" : ("lineage " + subject).c_str(),
              static_cast<unsigned long long>(cp->size), cp->origin.c_str(), pep::tlog::ToHex(cp->root).c_str(),
              withheld ? absl::StrCat("; ", withheld, " payloads withheld, their hashes verified in place").c_str() : "");
  return 0;
}

// The state file: the verifier key on the first line, then the last checkpoint seen (its note).
int LedgerWatch(const Args& a) {
  if (!a.options.count("state")) return Usage("ledger watch: --state FILE is required");
  const std::string state_path = a.options.at("state");
  std::string key = a.options.count("key") ? a.options.at("key") : "";
  std::string saved_note;
  if (std::ifstream st(state_path); st) {
    std::string saved_key;
    std::getline(st, saved_key);
    saved_note.assign(std::istreambuf_iterator<char>(st), std::istreambuf_iterator<char>());
    if (!key.empty() && key != saved_key) return Usage("--key differs from the key saved in the state file");
    key = saved_key;
  }
  if (key.empty()) return Usage("ledger watch: --key is needed the first time (the log's published key)");
  std::string note;
  if (int rc = Call("GET", "/ledger/checkpoint", "", "", &note); rc != 0) return rc;
  auto text = pep::tlog::OpenNote(note, key);
  auto now = text.ok() ? pep::tlog::ParseCheckpoint(*text) : absl::StatusOr<pep::tlog::Checkpoint>(text.status());
  if (!now.ok()) {
    std::printf("INCONSISTENT: the published checkpoint does not verify: %s\n", std::string(now.status().message()).c_str());
    return 1;
  }
  if (!saved_note.empty()) {
    auto old_text = pep::tlog::OpenNote(saved_note, key);
    auto old = old_text.ok() ? pep::tlog::ParseCheckpoint(*old_text) : absl::StatusOr<pep::tlog::Checkpoint>(old_text.status());
    if (!old.ok()) return Usage(absl::StrCat("the state file's checkpoint does not verify: ", old.status().message()));
    if (old->origin != now->origin) {
      std::printf("INCONSISTENT: the log is now '%s', it was '%s'\n", now->origin.c_str(), old->origin.c_str());
      return 1;
    }
    if (now->size < old->size) {
      std::printf("INCONSISTENT: the log shrank from %llu to %llu entries\n",
                  static_cast<unsigned long long>(old->size), static_cast<unsigned long long>(now->size));
      return 1;
    }
    if (now->size == old->size) {
      if (now->root != old->root) {
        std::printf("INCONSISTENT: two roots signed for size %llu\n", static_cast<unsigned long long>(now->size));
        return 1;
      }
    } else {
      std::string out;
      if (int rc = Call("GET", absl::StrCat("/v1/ledger/consistency?first=", old->size, "&second=", now->size), "", "", &out);
          rc != 0) {
        return rc;
      }
      av1::ConsistencyProof proof;
      FromJson(out, &proof);
      std::vector<pep::tlog::Hash> hashes;
      for (const std::string& h : proof.hashes()) {
        pep::tlog::Hash x{};
        if (h.size() == 32) std::copy(h.begin(), h.end(), x.begin());
        hashes.push_back(x);
      }
      if (!pep::tlog::VerifyConsistency(old->size, now->size, old->root, now->root, hashes)) {
        std::printf("INCONSISTENT: the tree of %llu entries does not extend the one of %llu seen before: "
                    "history was rewritten\n",
                    static_cast<unsigned long long>(now->size), static_cast<unsigned long long>(old->size));
        return 1;
      }
    }
    std::printf("OK: %s grew from %llu to %llu entries, consistently (root %s)\n", now->origin.c_str(),
                static_cast<unsigned long long>(old->size), static_cast<unsigned long long>(now->size),
                pep::tlog::ToHex(now->root).c_str());
  } else {
    std::printf("OK: first checkpoint of %s saved: %llu entries (root %s)\n", now->origin.c_str(),
                static_cast<unsigned long long>(now->size), pep::tlog::ToHex(now->root).c_str());
  }
  const std::string tmp = state_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << key << "\n" << note;
    if (!out) return Usage(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), state_path.c_str()) != 0) return Usage(absl::StrCat("cannot write ", state_path));
  return 0;
}

int Ledger(const Args& a) {
  const std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  if (sub == "verify") return LedgerVerify(a);
  if (sub == "watch") return LedgerWatch(a);
  return Usage("ledger: verify or watch");
}

// --- dead letters (straight to Kafka: an operator's tool) ------------------------------------

std::string Brokers(const Args& a) {
  if (a.options.count("brokers")) return a.options.at("brokers");
  const char* env = std::getenv("PEP_KAFKA_BROKERS");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:9092";
}

// The letters `--offset` (and `--partition`, default any) pick, or all of them.
absl::StatusOr<std::vector<pep::events::DeadLetter>> Pick(const Args& a,
                                                          std::vector<pep::events::DeadLetter> all) {
  if (!a.options.count("offset")) return all;
  int64_t offset = -1;
  int partition = -1;
  if (!absl::SimpleAtoi(a.options.at("offset"), &offset) || offset < 0) {
    return absl::InvalidArgumentError("--offset: a record's offset in the dead-letter topic");
  }
  if (a.options.count("partition") && !absl::SimpleAtoi(a.options.at("partition"), &partition)) {
    return absl::InvalidArgumentError("--partition: a number");
  }
  std::vector<pep::events::DeadLetter> out;
  for (auto& d : all) {
    if (d.record.offset == offset && (partition < 0 || d.record.partition == partition)) out.push_back(std::move(d));
  }
  if (out.empty()) return absl::NotFoundError(absl::StrCat("no dead letter at offset ", offset));
  if (out.size() > 1) return absl::InvalidArgumentError("--partition: several partitions have that offset");
  return out;
}

int Dlt(const Args& a) {
  const std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  if (sub != "list" && sub != "show" && sub != "replay") return Usage("dlt: list, show or replay");
  if (a.positional.size() < 3) return Usage(absl::StrCat("dlt ", sub, ": TOPIC is required"));
  std::string topic = a.positional[2];
  if (!absl::EndsWith(topic, ".dlt")) topic += ".dlt";
  auto letters = pep::events::ReadDeadLetters(Brokers(a), topic);
  if (!letters.ok()) {
    std::fprintf(stderr, "pepctl: %s\n", std::string(letters.status().message()).c_str());
    return letters.status().code() == absl::StatusCode::kNotFound ? 1 : 3;
  }
  if (sub == "list") {
    std::printf("%zu dead letter(s) in %s\n", letters->size(), topic.c_str());
    for (const auto& d : *letters) {
      const std::string* type = pep::events::FindHeader(d.record.headers, "ce_type");
      const std::string* id = pep::events::FindHeader(d.record.headers, "ce_id");
      std::printf("%d@%lld  from %s/%d@%lld  %s  %s  %s (%s, %d attempt(s))  %s\n", d.record.partition,
                  static_cast<long long>(d.record.offset), d.original_topic.c_str(), d.original_partition,
                  static_cast<long long>(d.original_offset), d.failed_at.c_str(), type ? type->c_str() : "-",
                  d.error.c_str(), d.error_code.c_str(), d.attempts, id ? id->c_str() : "-");
    }
    return 0;
  }
  if (sub == "show" && !a.options.count("offset")) return Usage("dlt show: --offset N is required");
  auto picked = Pick(a, std::move(*letters));
  if (!picked.ok()) {
    std::fprintf(stderr, "pepctl: %s\n", std::string(picked.status().message()).c_str());
    return picked.status().code() == absl::StatusCode::kNotFound ? 1 : 2;
  }
  if (sub == "show") {
    const auto& d = picked->front();
    std::printf("dead letter %s %d@%lld\nkey: %s\n", topic.c_str(), d.record.partition,
                static_cast<long long>(d.record.offset), d.record.key.c_str());
    for (const auto& [name, value] : d.record.headers) std::printf("%s: %s\n", name.c_str(), value.c_str());
    std::printf("payload (%zu bytes, base64): %s\n", d.record.value.size(), absl::Base64Escape(d.record.value).c_str());
    return 0;
  }
  auto sent = pep::events::Replay(Brokers(a), *picked);
  if (!sent.ok()) {
    std::fprintf(stderr, "pepctl: replay: %s\n", std::string(sent.status().message()).c_str());
    return 3;
  }
  std::printf("replayed %d of %zu to %s\n", *sent, picked->size(),
              picked->empty() ? "-" : picked->front().original_topic.c_str());
  return *sent == static_cast<int>(picked->size()) ? 0 : 3;
}

int main(int argc, char** argv) {
  // pepctl's options are its own; PEP_KAFKA_* (how `dlt` reaches a secured Kafka) are flags.
  pep::ParseFlagsWithEnv(1, argv);
  const Args a = Parse(argc, argv);
  if (a.positional.empty() || a.options.count("help")) return Usage("a command is needed");
  const std::string& cmd = a.positional[0];
  if (cmd == "milestone" && a.positional.size() > 1 && a.positional[1] == "push") return MilestonePush(a);
  if (cmd == "import" && a.positional.size() > 1 && a.positional[1] == "portfolio") return ImportPortfolio(a);
  if (cmd == "timeline") return Timeline(a);
  if (cmd == "verify") return Verify(a);
  if (cmd == "token") return Token(a);
  if (cmd == "export") return Export(a);
  if (cmd == "ledger") return Ledger(a);
  if (cmd == "dlt") return Dlt(a);
  return Usage(absl::StrCat("unknown command '", cmd, "'"));
}
