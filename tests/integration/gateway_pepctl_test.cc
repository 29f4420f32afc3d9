// pepctl as a product team's CI and a coordinator's shell use it, against the real gateway and
// services: a milestone pushed (and pushed again by a retried job: same milestone), the
// timeline showing it, an import report, the ledger verified, tokens managed — and exit codes
// a CI can act on (1: fix the call, 3: retry later), with a message naming the problem.
#include <algorithm>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

using Outcome = PepctlOutcome;

Outcome Pepctl(const std::string& url, const std::string& token, const std::string& args,
               const std::string& dir) {
  return RunPepctl(absl::StrCat("PEP_URL='", url, "' PEP_TOKEN='", token, "'"), args, dir);
}

TEST(Pepctl, MilestoneFromCiTimelineImportVerifyTokens) {
  Platform p;
  TempDir dir;
  namespace nv1 = ::pepiniere::incubation::v1;
  auto s1 = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                                 R"({"name":"Signalement voirie","mission":"Signaler un danger","incubator":"lab06"})");
  auto s2 = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                                 R"({"name":"Autre","mission":"Autre chose","incubator":"lab06"})");

  // A coordinator makes the team's CI token with pepctl; the secret goes to stdout alone.
  Outcome made = Pepctl(p.url(), p.coordinator(),
                    absl::StrCat("token create --role product_team --actor ci-voirie --scope startup:",
                                 s1.id(), " --name 'CI voirie' --ttl-days 30"),
                    dir.path());
  ASSERT_EQ(made.rc, 0) << made.err;
  const std::string ci = std::string(absl::StripAsciiWhitespace(made.out));
  EXPECT_TRUE(absl::StartsWith(ci, "pep_")) << made.out;
  EXPECT_NE(made.err.find("shown once"), std::string::npos);

  const std::string push = absl::StrCat("milestone push --startup ", s1.id(),
                                        " --title 'Mise en production' --kind product_launch "
                                        "--idempotency-key pipeline-4711 --date 2026-11-20");
  Outcome first = Pepctl(p.url(), ci, push, dir.path());
  ASSERT_EQ(first.rc, 0) << first.err;
  EXPECT_NE(first.out.find("\"Mise en production\" on 2026-11-20"), std::string::npos) << first.out;
  Outcome again = Pepctl(p.url(), ci, push, dir.path());  // the CI job retried
  ASSERT_EQ(again.rc, 0) << again.err;
  EXPECT_EQ(first.out, again.out) << "a retried push made a second milestone";

  // Wrong start-up, no token, missing option, gateway down: each says so, with its exit code.
  Outcome other = Pepctl(p.url(), ci,
                     absl::StrCat("milestone push --startup ", s2.id(),
                                  " --title X --idempotency-key k"),
                     dir.path());
  EXPECT_EQ(other.rc, 1);
  EXPECT_NE(other.err.find("HTTP 403"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("outside this caller's scope (startup:" + s1.id()), std::string::npos) << other.err;
  Outcome anonymous = Pepctl(p.url(), "", push, dir.path());
  EXPECT_EQ(anonymous.rc, 1);
  EXPECT_NE(anonymous.err.find("HTTP 401"), std::string::npos) << anonymous.err;
  Outcome usage = Pepctl(p.url(), ci, absl::StrCat("milestone push --startup ", s1.id()), dir.path());
  EXPECT_EQ(usage.rc, 2);
  EXPECT_NE(usage.err.find("--title is required"), std::string::npos) << usage.err;
  Outcome down = Pepctl(absl::StrCat("http://127.0.0.1:", FreePort()), ci, push, dir.path());
  EXPECT_EQ(down.rc, 3);
  EXPECT_NE(down.err.find("unreachable"), std::string::npos) << down.err;

  // The milestone reaches the ledger; the team reads its start-up's timeline.
  Outcome timeline;
  ASSERT_TRUE(WaitFor([&] {
    timeline = Pepctl(p.url(), ci, "timeline " + s1.id(), dir.path());
    return timeline.rc == 0 && timeline.out.find("Jalon : Mise en production") != std::string::npos;
  }, absl::Seconds(60))) << timeline.out << timeline.err;
  EXPECT_NE(timeline.out.find("Start-up créée : Signalement voirie"), std::string::npos);
  EXPECT_NE(timeline.out.find("ci-voirie"), std::string::npos) << "the milestone's actor";
  EXPECT_EQ(Pepctl(p.url(), ci, "timeline " + s2.id(), dir.path()).rc, 1);

  // The team exports its lineage's ledger through the gateway (streamed, chunked) and anyone can
  // re-verify it offline; an unknown start-up is a 404 before any byte of body.
  // A checkpoint signs what its sequencer committed before it: the seal follows the timeline.
  gateway::HttpResult ledger;
  ASSERT_TRUE(WaitFor([&] {
    ledger = p.Call("GET", absl::StrCat("/v1/startups/", s1.id(), "/ledger:export"), ci);
    return ledger.status == 200 && ledger.body.find("pepiniere.incubation.v1.MilestonePushed") != std::string::npos;
  }, absl::Seconds(30))) << ledger.status << " " << ledger.body;
  EXPECT_EQ(ledger.headers["transfer-encoding"], "chunked");
  EXPECT_GE(std::count(ledger.body.begin(), ledger.body.end(), '\n'), 2) << ledger.body;
  std::ofstream(dir.path() + "/ledger.jsonl") << ledger.body;
  // With the log's published verifier key (public, like the checkpoint).
  const std::string key = p.LedgerKey();
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(RunCommand(absl::StrCat("python3 ", std::getenv("PEP_SOURCE_DIR"),
                                    "/services/audit/tools/verify-ledger.py --key '", key, "' ", dir.path(),
                                    "/ledger.jsonl")),
            0);
  Outcome verified = Pepctl(p.url(), "", absl::StrCat("ledger verify ", dir.path(), "/ledger.jsonl --key '", key, "'"),
                            dir.path());
  EXPECT_EQ(verified.rc, 0) << verified.out << verified.err;
  EXPECT_EQ(p.Call("GET", "/v1/startups/01a22222-0000-7000-8000-000000000000/ledger:export",
                   p.coordinator()).status,
            404);

  // An import, with its report; a line that cannot be read is rejected and said so.
  {
    std::ofstream f(dir.path() + "/portfolio.jsonl");
    f << R"({"slug":"rdv-pmi","title":"Rendez-vous PMI","mission":"Prendre rendez-vous en PMI.","incubator":"lab06","phases":[{"name":"investigation","start":"2022-03-01"}]})"
      << "\n{not json\n";
  }
  Outcome imported = Pepctl(p.url(), p.coordinator(),
                        "import portfolio " + dir.path() + "/portfolio.jsonl", dir.path());
  EXPECT_EQ(imported.rc, 1) << "a rejected line is a failure for a CI job";
  EXPECT_NE(imported.out.find("read 2, created 1"), std::string::npos) << imported.out;
  EXPECT_NE(imported.out.find("rejected line 2"), std::string::npos) << imported.out;

  Outcome verify = Pepctl(p.url(), p.coordinator(), "verify", dir.path());
  EXPECT_EQ(verify.rc, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("ledger OK"), std::string::npos) << verify.out;
  EXPECT_EQ(Pepctl(p.url(), ci, "verify", dir.path()).rc, 1);

  Outcome list = Pepctl(p.url(), p.coordinator(), "token list", dir.path());
  ASSERT_EQ(list.rc, 0);
  EXPECT_NE(list.out.find("ci-voirie"), std::string::npos);
  EXPECT_EQ(list.out.find(ci), std::string::npos) << "a token list shows a secret";
  const size_t line = list.out.rfind('\n', list.out.find("ci-voirie"));
  const std::string token_id = list.out.substr(line == std::string::npos ? 0 : line + 1, 36);
  Outcome revoke = Pepctl(p.url(), p.coordinator(), "token revoke " + token_id, dir.path());
  EXPECT_EQ(revoke.rc, 0) << revoke.err << " id=" << token_id;
  Outcome after = Pepctl(p.url(), ci, push, dir.path());
  EXPECT_EQ(after.rc, 1);
  EXPECT_NE(after.err.find("revoked"), std::string::npos) << after.err;
}

// Issue 26: a coordinator makes a CI token for « équipe-voirie » and the CI pushes milestones
// with it. grpc++ aborts on a metadata value that is not printable ASCII, and the gateway used
// to pass the actor as is: the first push killed it, the CI retried, it crash-looped. Now every
// push lands, the gateway stays up, and the ledger records the actor as written.
// And a token made with a token holds only while its maker does: T1 makes T2, T1 is revoked,
// T2 is refused at its next use (it used to go on as a coordinator for up to a year).
TEST(Pepctl, AccentedActorsAndTokensMadeByTokens) {
  Platform p;
  TempDir dir;
  namespace nv1 = ::pepiniere::incubation::v1;
  auto s = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                                R"({"name":"Signalement voirie","mission":"Signaler un danger","incubator":"lab06"})");
  int n = 0;
  for (const std::string actor : {"équipe-voirie", "« Équipe » d'Antibes 🌱", "100% ça passe, ou pas"}) {
    ++n;
    const std::string ci = p.Token("product_team", actor, "startup:" + s.id());
    ASSERT_FALSE(ci.empty()) << actor;
    for (int i = 0; i < 3; ++i) {
      Outcome push = Pepctl(p.url(), ci,
                            absl::StrCat("milestone push --startup ", s.id(), " --title 'Étape ", i,
                                         " de l’équipe' --idempotency-key ci-", n, "-", i),
                            dir.path());
      ASSERT_EQ(push.rc, 0) << actor << ": " << push.err;
    }
    ASSERT_EQ(p.Get("/healthz", "").status, 200) << "the gateway died on actor " << actor;
  }
  // The services saw the actor as written (decoded from its percent-encoding).
  Outcome timeline;
  EXPECT_TRUE(WaitFor([&] {
    timeline = Pepctl(p.url(), p.coordinator(), "timeline " + s.id(), dir.path());
    return timeline.out.find("« Équipe » d'Antibes 🌱") != std::string::npos &&
           timeline.out.find("équipe-voirie") != std::string::npos;
  }, absl::Seconds(60))) << timeline.out << timeline.err;
  // A token's actor or name with a control character is refused, naming the field.
  gateway::HttpResult bad = p.Call("POST", "/v1/tokens", p.coordinator(),
                                   R"({"role":"agent","actor":"ab","name":"x"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("actor"), std::string::npos) << bad.body;

  // Tokens made by tokens.
  const std::string t1 = p.Token("coordinator", "robot-1");
  gateway::HttpResult made = p.Call("POST", "/v1/tokens", t1,
                                    R"({"role":"coordinator","actor":"robot-2","name":"fait par un jeton"})");
  ASSERT_EQ(made.status, 201) << made.body;
  const size_t at = made.body.find("\"secret\":\"");
  const std::string t2 = made.body.substr(at + 10, made.body.find('"', at + 10) - at - 10);
  EXPECT_EQ(p.Get("/v1/startups", t2).status, 200);
  const std::string t1_id = [&] {
    gateway::HttpResult list = p.Call("GET", "/v1/tokens", p.coordinator());
    const size_t r1 = list.body.find("\"actor\":\"robot-1\"");
    const size_t open = list.body.rfind("\"id\":\"", r1);
    return list.body.substr(open + 6, 36);
  }();
  ASSERT_EQ(p.Call("DELETE", "/v1/tokens/" + t1_id, p.coordinator()).status, 200);
  EXPECT_EQ(p.Get("/v1/startups", t1).status, 401);
  gateway::HttpResult orphan = p.Get("/v1/startups", t2);
  EXPECT_EQ(orphan.status, 401) << "a token made by a revoked token still works: " << orphan.body;
}

}  // namespace
}  // namespace pep::testing
