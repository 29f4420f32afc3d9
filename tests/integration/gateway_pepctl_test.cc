// pepctl as a product team's CI and a coordinator's shell use it, against the real gateway and
// services: a milestone pushed (and pushed again by a retried job: same milestone), the
// timeline showing it, an import report, the ledger verified, tokens managed — and exit codes
// a CI can act on (1: fix the call, 3: retry later), with a message naming the problem.
#include <algorithm>
#include <fstream>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "pepiniere/audit/v1/audit.pb.h"

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

// Issue 31, the committee story through the gateway: a team defines its indicator and pushes
// measures from CI (pepctl kpi push, idempotent); the last committee (seven months ago) granted an
// envelope and an objective and set its review for six months on, so « comité dû » shows; the
// coordinator schedules the next meeting, the team files its ask with two success criteria, the
// coordinator issues the pre-read — which judges the objective against the measures — and
// pep-audit, from the ledger alone, makes it again byte for byte, its hash the one recorded; a
// measure recorded afterwards changes nothing of what the committee knew.
TEST(Pepctl, CommitteePreReadRegeneratedFromTheLedger) {
  Platform p;
  TempDir dir;
  namespace nv1 = ::pepiniere::incubation::v1;
  auto s = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                                R"({"name":"Équipe voirie","mission":"Signaler un nid-de-poule","incubator":"lab06"})");
  auto other = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                                    R"({"name":"Autre","mission":"Autre chose","incubator":"lab06"})");
  const std::string ci = p.Token("product_team", "équipe-voirie", "startup:" + s.id());
  const std::string stranger = p.Token("product_team", "ci-autre", "startup:" + other.id());
  const std::string base = absl::StrCat("/v1/startups/", s.id());
  const absl::Time now = absl::Now();
  auto day = [](absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); };
  auto fr = [](absl::Time t) { return absl::FormatTime("%d/%m/%Y", t, absl::UTCTimeZone()); };

  gateway::HttpResult defined = p.Call("POST", base + "/kpis", ci, R"({"kpi":{"id":"signalements","name":"Signalements traités","unit":"signalements","direction":"KPI_DIRECTION_UP","north_star":true}})");
  ASSERT_EQ(defined.status, 200) << defined.body;
  gateway::HttpResult bad = p.Call("POST", base + "/kpis", ci, R"({"kpi":{"id":"Sans Espace","name":"x","direction":"KPI_DIRECTION_UP"}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("kpi.id"), std::string::npos) << bad.body;

  // Measures from CI: one before the objective's date (judged), one after it.
  const absl::Time decided = now - absl::Hours(24 * 214), objective_by = now - absl::Hours(24 * 60);
  const std::string push1 = absl::StrCat("kpi push --startup ", s.id(), " --kpi signalements --value 1250 --date ",
                                         day(objective_by - absl::Hours(24 * 10)));
  Outcome first = Pepctl(p.url(), ci, push1, dir.path());
  ASSERT_EQ(first.rc, 0) << first.err;
  Outcome again = Pepctl(p.url(), ci, push1, dir.path());
  ASSERT_EQ(again.rc, 0) << again.err;
  EXPECT_EQ(first.out, again.out) << "a retried push made a second measure";
  Outcome changed = Pepctl(p.url(), ci, absl::StrCat("kpi push --startup ", s.id(), " --kpi signalements --value 9 --date ",
                                                      day(objective_by - absl::Hours(24 * 10))), dir.path());
  EXPECT_EQ(changed.rc, 1) << "the same key with another value was taken";
  EXPECT_NE(changed.err.find("idempotency_key"), std::string::npos) << changed.err;
  ASSERT_EQ(Pepctl(p.url(), ci, absl::StrCat("kpi push --startup ", s.id(), " --kpi signalements --value 1400 --date ",
                                             day(now - absl::Hours(24 * 5))), dir.path()).rc, 0);
  Outcome unknown = Pepctl(p.url(), ci, absl::StrCat("kpi push --startup ", s.id(), " --kpi inconnu --value 1"), dir.path());
  EXPECT_EQ(unknown.rc, 1);
  EXPECT_NE(unknown.err.find("no indicator 'inconnu'"), std::string::npos) << unknown.err;

  // The last committee, seven months ago: its review is due (six months on, by default).
  gateway::HttpResult dec = p.Call("POST", base + "/committee-decisions", p.coordinator(), absl::StrCat(
      R"({"date":")", absl::FormatTime(absl::RFC3339_sec, decided, absl::UTCTimeZone()),
      R"(","outcome":"COMMITTEE_OUTCOME_GO","rationale":"Premiers usages prometteurs","participants":["DGS"],)",
      R"("envelope_eur":120000,"objectives":[{"kpi":"signalements","target":1000,"by":")",
      absl::FormatTime(absl::RFC3339_sec, objective_by, absl::UTCTimeZone()), R"("},{"text":"Ouvrir aux agents de terrain"}]})"));
  ASSERT_EQ(dec.status, 201) << dec.body;
  gateway::HttpResult got = p.Get(base, p.coordinator());
  EXPECT_NE(got.body.find("committee due since"), std::string::npos) << got.body;

  // The next meeting; the team's ask; the pre-read.
  auto meeting = p.Post<nv1::CommitteeMeeting>("/v1/committees", p.coordinator(), absl::StrCat(
      R"({"title":"Comité de l'hiver","date":")", absl::FormatTime(absl::RFC3339_sec, now + absl::Hours(24 * 20), absl::UTCTimeZone()),
      R"(","invitees":["DGS","Directrice de l'innovation"],"startup_ids":[")", s.id(), R"("]})"));
  ASSERT_FALSE(meeting.id().empty());
  EXPECT_EQ(p.Call("POST", "/v1/committees", ci, R"({"title":"x","date":"2027-01-01T00:00:00Z","startup_ids":["a"]})").status, 403);
  const std::string ask_path = absl::StrCat("/v1/committees/", meeting.id(), "/asks/", s.id());
  gateway::HttpResult ask = p.Call("POST", ask_path, ci, R"({"ask":{"team":"Deux développeurs, une designer","envelope_eur":180000,)"
      R"("hypotheses":["Les agents signalent depuis leur téléphone"],"criteria":[{"kpi":"signalements","target":3000,"by":"2027-06-30T00:00:00Z"},)"
      R"({"text":"Une commune de plus chaque mois"}]}})");
  ASSERT_EQ(ask.status, 200) << ask.body;
  EXPECT_EQ(p.Call("POST", absl::StrCat("/v1/committees/", meeting.id(), "/asks/", other.id()), stranger,
                   R"({"ask":{"team":"x"}})").status, 409) << "an ask for a start-up not on the agenda";
  EXPECT_EQ(p.Call("POST", absl::StrCat("/v1/committees/", meeting.id(), "/prereads/", s.id()), ci).status, 403);
  auto pre = p.Post<nv1::PreRead>(absl::StrCat("/v1/committees/", meeting.id(), "/prereads/", s.id()), p.coordinator(), "");
  ASSERT_EQ(pre.sha256().size(), 64u) << pre.DebugString();
  const std::string& doc = pre.document();
  EXPECT_NE(doc.find("# Pré-lecture — Équipe voirie"), std::string::npos) << doc;
  EXPECT_NE(doc.find(absl::StrCat("Comité du ", fr(decided), " : poursuite (GO).")), std::string::npos) << doc;
  EXPECT_NE(doc.find("Enveloppe accordée : 120\u202f000 €."), std::string::npos) << doc;
  EXPECT_NE(doc.find(absl::StrCat("Signalements traités : cible 1\u202f000 signalements au ", fr(objective_by),
                                  " — mesuré 1\u202f250 signalements le ", fr(objective_by - absl::Hours(24 * 10)), " — atteint")),
            std::string::npos) << doc;
  EXPECT_NE(doc.find("Ouvrir aux agents de terrain — à apprécier par le comité"), std::string::npos) << doc;
  EXPECT_NE(doc.find("Enveloppe demandée : 180\u202f000 €."), std::string::npos) << doc;
  EXPECT_NE(doc.find("Une commune de plus chaque mois"), std::string::npos) << doc;

  // What the committee knew, checked against the ledger; a later measure does not change it.
  ASSERT_EQ(Pepctl(p.url(), ci, absl::StrCat("kpi push --startup ", s.id(), " --kpi signalements --value 2000"), dir.path()).rc, 0);
  const std::string ledger_path = absl::StrCat(base, "/prereads/", pre.id(), "/ledger");
  gateway::HttpResult regen;
  ASSERT_TRUE(WaitFor([&] {
    regen = p.Get(ledger_path, ci);
    return regen.status == 200;
  }, absl::Seconds(60))) << regen.status << " " << regen.body;
  ::pepiniere::audit::v1::RegeneratedPreRead r;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(regen.body, &r).ok()) << regen.body;
  EXPECT_TRUE(r.matches()) << r.DebugString();
  EXPECT_EQ(r.recorded_sha256(), pre.sha256());
  EXPECT_EQ(r.document(), doc) << "the ledger's pre-read differs from the one issued";
  EXPECT_GE(r.records_folded(), 6);
  EXPECT_EQ(p.Get(ledger_path, stranger).status, 403);
  EXPECT_EQ(p.Get("/v1/prereads/" + pre.id(), stranger).status, 403);
  EXPECT_EQ(p.Get("/v1/prereads/" + pre.id(), ci).status, 200);
  gateway::HttpResult committee = p.Get("/v1/committees/" + meeting.id(), ci);
  EXPECT_EQ(committee.status, 200);
  // The budget: a commitment and payments against the envelope granted; the finance CSV adds up.
  for (const auto& [kind, eur, key] : std::vector<std::tuple<std::string, int, std::string>>{
           {"BUDGET_KIND_COMMITMENT", 100000, "bc-2026-17"}, {"BUDGET_KIND_PAYMENT", 30000, "facture-1"},
           {"BUDGET_KIND_PAYMENT", 30000, "facture-1"}, {"BUDGET_KIND_PAYMENT", 25000, "facture-2"}}) {
    gateway::HttpResult e = p.Call("POST", base + "/budget", p.coordinator(), absl::StrCat(
        R"({"kind":")", kind, R"(","resource":"RESOURCE_KIND_SERVICES","amount_eur":)", eur, R"(,"label":"Développement — « lot 1 »","idempotency_key":")",
        key, R"(","date":")", absl::FormatTime(absl::RFC3339_sec, now - absl::Hours(24), absl::UTCTimeZone()), R"("})"));
    ASSERT_EQ(e.status, 201) << e.body;
  }
  nv1::Budget budget;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(p.Get(base + "/budget", ci).body, &budget).ok());
  EXPECT_EQ(budget.state().envelope_eur(), 120000);
  EXPECT_EQ(budget.state().committed_eur(), 100000);
  EXPECT_EQ(budget.state().paid_eur(), 55000) << "a retried entry was counted twice";
  EXPECT_EQ(budget.remaining_eur(), 65000);
  EXPECT_EQ(budget.entries_size(), 3);
  gateway::HttpResult csv = p.Get("/v1/budget.csv", p.coordinator());
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find(absl::StrCat(s.id(), ",\"Équipe voirie\",", absl::FormatTime("%Y", now - absl::Hours(24), absl::UTCTimeZone()),
                                       ",\"prestations\",100000,55000,0")), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find("total,\"\",,\"\",100000,55000,120000"), std::string::npos) << csv.body;
  EXPECT_EQ(p.Get("/v1/budget.csv", ci).status, 403);

  nv1::CommitteeDetails details;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(committee.body, &details).ok()) << committee.body;
  ASSERT_EQ(details.prereads_size(), 1);
  EXPECT_EQ(details.prereads(0).sha256(), pre.sha256());
  EXPECT_TRUE(details.prereads(0).document().empty()) << "a meeting lists its pre-reads without their text";
  ASSERT_EQ(details.asks_size(), 1);
  EXPECT_EQ(details.asks(0).criteria_size(), 2);
}

}  // namespace
}  // namespace pep::testing
