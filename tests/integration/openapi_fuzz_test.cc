// Issues 26 and 33: an OpenAPI-driven fuzzer from PyPI (schemathesis 4.32.5) against a running
// gateway and the real services, driven by /openapi.json: examples, coverage, fuzzing and the
// stateful phase (links between operations), bounded in time, with a coordinator token it may not
// revoke (token revocation is left out). Every check is on: any 5xx, an undeclared method not
// answered 405 with Allow, a status, content type, header or body the document does not declare,
// an answer that is not valid JSON or UTF-8, ignored authentication, a request the document
// forbids that is accepted, a request it allows that is refused.
//
// A few refusals no JSON Schema can state stay, each explained here and in services/gateway/DESIGN.md:
// rules across two fields or against the clock (a committee that met in the future, closes_at
// before opens_at, a role and its scope), and the read models that follow Kafka (a start-up just
// created is in pep-feedback's and pep-audit's views some milliseconds later). Any other failure
// fails the test.
#include <cstdlib>
#include <fstream>
#include <vector>

#include <unistd.h>

#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

// Schema-valid requests a service refuses for a reason no JSON Schema can state.
constexpr const char* kExplainedRefusals[] = {
    "more than one day in the future",          // dates against the clock
    "cannot have met more than one day",
    "expires_at: must be in the future",
    "a token lives at most",
    "closes_at: must be after opens_at",        // two fields together
    "an idea filed for a colleague is sent",    // draft with on_behalf
    "results_at: must be in the future",         // an announcement, against the clock
    "results_at: at most a year ahead",
    "mission_end: must be after start",
    "to: must be after from",
    "from: at most 1000 buckets",
    "first: must be between 1 and",
    "a KPI milestone needs at least one value",
    "listed twice",
    "cannot be combined with a channel",        // « no help needed » and a channel (quotes come escaped)
    "needs scope",                               // a role and its scope
    "only product_team tokens are scoped",
    "the coordinator role has no scope",
    "slug: cannot be derived from the name",    // a name without a letter or digit
    "duplicate criterion",                       // items unique by one of their fields
    "scored twice",
    "unknown criterion",                         // against the challenge's own criteria
    "missing criterion",
    "a jury has at most",                        // the jury as it is plus the ones added
    "token: not an unsubscribe link of",         // a one-click link's token is signed by pep-notify
    "token: the link was altered",
    "must be after starts_at",                   // a stage's dates, and stages in their order
    "must not be before the previous stage ends",
    "stages come in order",
    "must include the scoring stage",
    "a stage lasts at most a year",
    "is not on the challenge's jury",            // a stage's reviewers against the jury as it is
    "is the idea itself",                        // two ids of one request
    "is the idea merged into",
    "is required when the idea is not eligible", // a reason owed for a refusal only
    "is required to reject an edit",
    "must be in 1990 or later",                  // steering (issue 31): dates bounded by a rule
    "more than a year ago",                      // a committee meeting, against the clock
    "more than two years ahead",
    "names an indicator (kpi) or says the objective in words",  // one of two fields
    "says at least the team, the envelope",      // an ask says something
    "two targets at the same date",              // items unique by their date
    "must be after the committee's date",        // next_review against date
    "at most three years after the committee",
    "a STOP has no next review",                 // next_review against outcome
    "a title or a kind of the list",             // a team member: one of two fields (issue 31)
    "nothing to change: give role",              // an edit changes at least one of its fields
    "cannot be both set and cleared",            // mission_end and clear_mission_end together
    "must be after the member's start",          // against the member's start as recorded
};

struct Failure {
  std::string kind;   // "ST202 Schema-valid request rejected"
  std::string text;   // the rest of its block
};

// The failures of a schemathesis report: each begins "- STnnn …" and runs to the next one.
std::vector<Failure> FailuresOf(const std::string& report) {
  std::vector<Failure> out;
  size_t at = 0;
  while ((at = report.find("\n- ST", at)) != std::string::npos) {
    const size_t eol = report.find('\n', at + 1);
    size_t end = report.find("\n- ST", eol);
    const size_t section = report.find("\n___", eol);
    if (section != std::string::npos && (end == std::string::npos || section < end)) end = section;
    out.push_back({report.substr(at + 3, eol - at - 3), report.substr(eol, end - eol)});
    at = eol;
  }
  return out;
}

bool Explained(const Failure& f) {
  if (absl::StartsWith(f.kind, "ST202")) {
    for (const char* why : kExplainedRefusals) {
      if (f.text.find(why) != std::string::npos) return true;
    }
  }
  // A start-up just created is not yet in the views that follow Kafka.
  if (absl::StartsWith(f.kind, "ST302")) {
    const size_t at = f.text.find("Not available with: `");
    const std::string op = at == std::string::npos ? "" : f.text.substr(at, f.text.find('\n', at) - at);
    // pep-feedback's placements and pep-audit's pre-read check follow Kafka too.
    for (const char* view : {"/feedback`", "/feedback/summary`", "/timeline`", "/state`", "/ledger:export`",
                             "/feedback-placements`", "/ledger`"}) {
      if (absl::EndsWith(op, view)) return true;
    }
  }
  return false;
}

std::string Schemathesis() {
  const char* cache = std::getenv("PEP_CACHE_DIR");
  const std::string dir = cache != nullptr ? cache : std::string(std::getenv("HOME")) + "/.cache/pepiniere";
  return dir + "/schemathesis-4.32.5/bin/schemathesis";
}

TEST(OpenApiFuzz, NoServerErrorAndEveryAnswerAsTheDocumentDeclares) {
  ASSERT_EQ(access(Schemathesis().c_str(), X_OK), 0) << Schemathesis() << ": run deploy/local/lib/install-deps.sh";
  Platform p;
  namespace iv1 = ::pepiniere::ideas::v1;
  namespace nv1 = ::pepiniere::incubation::v1;
  // Something for the fuzzer to find: an open challenge with an idea, a start-up.
  const std::string challenge = p.Post<iv1::Challenge>("/v1/challenges", p.coordinator(),
      R"({"title":"Simplifier","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})").id();
  p.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", challenge, ":open"), p.coordinator(), "");
  p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                       R"({"name":"Signalement voirie","mission":"Signaler un danger","incubator":"lab06"})");
  // The ledger signs its first checkpoint a moment after start (503 until then, as it should):
  // the fuzzer meets a platform that is up.
  ASSERT_TRUE(WaitFor([&] { return p.Get("/v1/ledger/checkpoint", "").status == 200; }, absl::Seconds(60)));
  TempDir dir;
  const std::string log = dir.path() + "/schemathesis.log";
  // Stateful links from dependency analysis only: the « location headers » inference also scans
  // every 2xx JSON body for URLs, and schemathesis 4.32.5 stops the whole run on one it cannot
  // split (an accepted milestone title « http://[… » echoed back: « Invalid IPv6 URL », seen
  // once in three runs) — a fault of the tool's, not a finding about the API.
  std::ofstream(dir.path() + "/schemathesis.toml") << "[phases.stateful.inference]\nalgorithms = [\"dependency-analysis\"]\n";
  const std::string cmd = absl::StrCat(
      "timeout 240 ", Schemathesis(), " --config-file ", dir.path(), "/schemathesis.toml run ", p.url(), "/openapi.json",
      " -H 'Authorization: Bearer ", p.coordinator(), "'",
      " --checks all",
      " --phases examples,coverage,fuzzing,stateful --max-time 60 --workers 1 --seed 26",
      // One worker: with two, CPython 3.11's ast.parse (hypothesis describing a strategy) is not
      // thread-safe and the run can end in "SystemError: AST constructor recursion depth
      // mismatch" (seen once in three runs). Revoking its own token would leave the rest of the
      // run unauthenticated. The import's JSON Lines body is not one schemathesis can generate
      // (the property test and rest_contract_test send it bodies and ?dry_run= values).
      " --exclude-path '/v1/tokens/{token_id}'",
      " --exclude-path '/v1/imports/portfolio' --no-color > ", log, " 2>&1");
  const int rc = RunCommand(cmd);
  std::ifstream in(log);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string tail = out.substr(out.size() > 12000 ? out.size() - 12000 : 0);
  ASSERT_NE(out.find("SUMMARY"), std::string::npos) << "schemathesis did not finish: " << tail;
  EXPECT_EQ(out.find("= ERRORS ="), std::string::npos) << tail;
  EXPECT_NE(out.find("Stateful"), std::string::npos) << "the stateful phase did not run";
  const std::vector<Failure> failures = FailuresOf(out);
  int explained = 0;
  for (const Failure& f : failures) {
    if (Explained(f)) {
      ++explained;
      const size_t m = f.text.find("\"message\":");
      const size_t v = f.text.find("Not available with");
      const size_t at = m != std::string::npos ? m : v;
      std::printf("explained: %s — %s\n", f.kind.c_str(),
                  at == std::string::npos ? "" : f.text.substr(at, f.text.find('\n', at) - at).c_str());
    } else {
      ADD_FAILURE() << f.kind << f.text.substr(0, 3000);
    }
  }
  // rc 0 exactly when nothing was found; a non-zero rc must come from the failures listed.
  if (rc != 0) {
    EXPECT_FALSE(failures.empty()) << "schemathesis rc " << rc << ": " << tail;
  }
  std::printf("schemathesis: rc %d, %zu failures, %d of them explained\n", rc, failures.size(), explained);
  EXPECT_EQ(p.Get("/healthz", "").status, 200);
}

}  // namespace
}  // namespace pep::testing
