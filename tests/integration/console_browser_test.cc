// The web console in Debian's chromium (playwright-core, tests/browser/console.test.mjs) against
// the whole platform and the real OpenID provider (people sign in on its page); screenshots of each page are kept in <build>/test-artifacts/browser.
#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

TEST(ConsoleBrowser, PeopleSignInAndTakeAnIdeaToFeedback) {
  // pep-incubation's clock can be moved ahead (« six months later », issue 31): the script
  // writes the offset into this file; pepctl is the team's CI.
  TempDir clock;
  const std::string clock_file = clock.path() + "/offset";
  Platform p({}, {}, /*sign_in=*/true, "", 1, 1, {"--clock_offset_file", clock_file});
  const std::string artifacts = BinaryDir() + "/test-artifacts/browser";
  const std::string script = std::string(std::getenv("PEP_SOURCE_DIR")) + "/tests/browser/console.test.mjs";
  const int rc = RunCommand(absl::StrCat("rm -rf '", artifacts, "' && PEP_URL='", p.url(),
                                         "' ARTIFACT_DIR='", artifacts, "' PEP_CLOCK_FILE='", clock_file,
                                         "' PEPCTL='", BinaryDir(), "/services/gateway/pepctl' node '", script, "'"));
  EXPECT_EQ(rc, 0) << "see the steps above and the screenshots in " << artifacts;
}

}  // namespace
}  // namespace pep::testing
