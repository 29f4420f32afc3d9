// Issue 26: an OpenAPI-driven fuzzer from PyPI (schemathesis 4.32.5) against a running gateway and
// the real services, driven by /openapi.json: examples, coverage, fuzzing and the stateful phase
// (links between operations), bounded in time, with a coordinator token it may not revoke (token
// revocation is left out). It fails on any answer of 5xx, an undeclared method not answered 405
// with its Allow header, a status, content type, header or body that the document does not
// declare, an answer that is not valid JSON or UTF-8, ignored authentication.
// Not yet checked here: positive_data_acceptance and negative_data_rejection (that every request
// the document allows is accepted, and every one it forbids refused): the document states the
// constraints of pep-ideas' requests (pepiniere.api.v1.rules) but not yet all of the others'.
#include <cstdlib>
#include <fstream>

#include <unistd.h>

#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

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
  TempDir dir;
  const std::string log = dir.path() + "/schemathesis.log";
  const std::string cmd = absl::StrCat(
      "timeout 240 ", Schemathesis(), " run ", p.url(), "/openapi.json",
      " -H 'Authorization: Bearer ", p.coordinator(), "'",
      " --checks all --exclude-checks positive_data_acceptance,negative_data_rejection",
      " --phases examples,coverage,fuzzing,stateful --max-time 60 --workers 1 --seed 26",
      // One worker: with two, CPython 3.11's ast.parse (hypothesis describing a strategy) is not
      // thread-safe and the run can end in "SystemError: AST constructor recursion depth
      // mismatch" (seen once in three runs). Revoking its own token would leave the rest of the run unauthenticated. The tile path's
      // {tile=**} spans segments, which OpenAPI cannot template; the import's JSON Lines body is
      // not one schemathesis can generate (the property test sends it random bodies).
      " --exclude-path '/v1/tokens/{token_id}' --exclude-path '/ledger/tile/{tile=**}'",
      " --exclude-path '/v1/imports/portfolio' --no-color > ", log, " 2>&1");
  const int rc = RunCommand(cmd);
  std::ifstream in(log);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << out.substr(out.size() > 12000 ? out.size() - 12000 : 0);
  EXPECT_NE(out.find("Stateful"), std::string::npos) << "the stateful phase did not run";
  EXPECT_EQ(p.Get("/healthz", "").status, 200);
}

}  // namespace
}  // namespace pep::testing
