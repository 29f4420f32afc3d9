// The verifiable log as an inspector meets it, through the real gateway and services: the
// checkpoint and hash tiles without a token (cacheable), entry bundles for coordinators only;
// `pepctl ledger watch` from a state file as a cron job runs it — the log growing is fine, a
// rewritten history (the same key signing another tree) fails; an export fetched through the
// gateway verified by `pepctl ledger verify`, and refused once cut. And the public facts of
// issue 30: a fact on a public page links to its proof, which anyone fetches without a token and
// checks offline with either verifier; withdrawn, its statement is withheld and it still verifies.
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "common/uuid.h"
#include "events/envelope.h"
#include "events/producer.h"
#include "integration/gateway_fixture.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "services/gateway/tokens.h"
#include "tlog/note.h"

namespace pep::testing {
namespace {

namespace av1 = ::pepiniere::audit::v1;
namespace nv1 = ::pepiniere::incubation::v1;

PepctlOutcome Pepctl(const std::string& url, const std::string& token, const std::string& args,
                     const std::string& dir) {
  return RunPepctl(absl::StrCat("PEP_URL='", url, "' PEP_TOKEN='", token, "'"), args, dir);
}

uint64_t SignedSize(Platform& p) {
  gateway::HttpResult r = p.Get("/ledger/checkpoint", "");
  if (r.status != 200) return 0;
  const std::vector<std::string> lines = absl::StrSplit(r.body, '\n');
  uint64_t n = 0;
  return lines.size() > 1 && absl::SimpleAtoi(lines[1], &n) ? n : 0;
}

TEST(LedgerGateway, TilesWatchRewrittenHistoryAndOfflineVerify) {
  Platform p;
  TempDir dir;
  auto s1 = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                                 R"({"name":"Signalement voirie","mission":"Signaler un danger","incubator":"lab06"})");
  ASSERT_TRUE(WaitFor([&] { return SignedSize(p) > 0; }, absl::Seconds(30)))
      << "no checkpoint published: " << p.Get("/ledger/checkpoint", "").status << " "
      << p.Get("/ledger/checkpoint", "").body;

  // The published key and checkpoint, no token needed.
  gateway::HttpResult json = p.Get("/v1/ledger/checkpoint", "");
  ASSERT_EQ(json.status, 200) << json.body;
  av1::Checkpoint cp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.body, &cp).ok()) << json.body;
  const std::string key = cp.verifier_key();
  gateway::HttpResult note = p.Get("/ledger/checkpoint", "");
  EXPECT_EQ(note.headers["cache-control"], "no-cache");
  EXPECT_TRUE(absl::StartsWith(note.headers["content-type"], "text/plain"));
  auto opened = tlog::OpenNote(note.body, key);
  ASSERT_TRUE(opened.ok()) << opened.status() << "\n" << note.body;

  // Hash tiles: public; the right edge is partial (no-cache); an entry bundle is not public.
  const uint64_t size = SignedSize(p);
  ASSERT_LT(size, 256u) << "a small log: one partial tile";
  const std::string partial = absl::StrCat("/ledger/tile/0/000.p/", size);
  gateway::HttpResult tile = p.Get(partial, "");
  ASSERT_EQ(tile.status, 200) << tile.body;
  EXPECT_EQ(tile.body.size(), 32 * size);
  EXPECT_EQ(tile.headers["content-type"], "application/octet-stream");
  EXPECT_EQ(p.Get(absl::StrCat("/ledger/tile/0/000.p/", size + 1), "").status, 404) << "beyond the signed tree";
  EXPECT_EQ(p.Get("/ledger/tile/0/../x", "").status, 404);
  const std::string bundle = absl::StrCat("/ledger/tile/entries/000.p/", size);
  EXPECT_EQ(p.Get(bundle, "").status, 403) << "entries carry envelopes";
  gateway::HttpResult entries = p.Get(bundle, p.coordinator());
  ASSERT_EQ(entries.status, 200) << entries.body;
  EXPECT_NE(entries.body.find("pep-ledger-v2"), std::string::npos);

  // The inspector's cron: the first run saves the checkpoint, a later one checks the log grew
  // consistently.
  const std::string state = dir.path() + "/ledger.state";
  PepctlOutcome first = Pepctl(p.url(), "", absl::StrCat("ledger watch --state ", state, " --key '", key, "'"), dir.path());
  ASSERT_EQ(first.rc, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("first checkpoint"), std::string::npos) << first.out;
  // What it saved (the log may have grown since `size` was read: the first start-up's events).
  uint64_t saved = 0;
  {
    const size_t at = first.out.find("saved: ");
    ASSERT_NE(at, std::string::npos) << first.out;
    ASSERT_TRUE(absl::SimpleAtoi(first.out.substr(at + 7, first.out.find(' ', at + 7) - at - 7), &saved)) << first.out;
  }
  p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                       R"({"name":"Cantine","mission":"Réserver la cantine","incubator":"lab06"})");
  ASSERT_TRUE(WaitFor([&] { return SignedSize(p) > saved; }, absl::Seconds(30)));
  PepctlOutcome grew = Pepctl(p.url(), "", absl::StrCat("ledger watch --state ", state), dir.path());
  ASSERT_EQ(grew.rc, 0) << grew.out << grew.err;
  EXPECT_NE(grew.out.find(absl::StrCat("grew from ", saved, " to")), std::string::npos) << grew.out;

  // An export through the gateway, verified with pepctl and the published key; cut, refused.
  gateway::HttpResult exported = p.Get(absl::StrCat("/v1/startups/", s1.id(), "/ledger:export"), p.coordinator());
  ASSERT_EQ(exported.status, 200) << exported.body;
  const std::string file = dir.path() + "/export.jsonl";
  std::ofstream(file) << exported.body;
  PepctlOutcome verified = Pepctl(p.url(), "", absl::StrCat("ledger verify ", file, " --key '", key, "'"), dir.path());
  EXPECT_EQ(verified.rc, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("OK: "), std::string::npos) << verified.out;
  std::ofstream(file) << exported.body.substr(0, exported.body.rfind("{\"export_end\""));
  PepctlOutcome cut = Pepctl(p.url(), "", absl::StrCat("ledger verify ", file, " --key '", key, "'"), dir.path());
  EXPECT_EQ(cut.rc, 1) << cut.out;
  EXPECT_NE(cut.out.find("cut short"), std::string::npos) << cut.out;

  // History rewritten by whoever holds the key: another log, signed by the same key, longer
  // than the one the inspector saw. The watch catches it.
  const std::string forged_topic = "forged.events";
  ASSERT_TRUE(events::EnsureTopics(p.brokers(), {events::TopicSpec{forged_topic, 1, 1, {}}}).ok());
  const uint64_t seen = SignedSize(p);
  {
    auto producer = events::Producer::Create({{"bootstrap.servers", p.brokers()}}, [](uint64_t, const absl::Status&) {});
    ASSERT_TRUE(producer.ok());
    for (uint64_t i = 0; i < seen + 5; ++i) {
      events::Envelope e;
      e.time = e.effective_time = absl::Now();
      e.id = NewUuidV7(e.time);
      e.source = "/pepiniere/incubation";
      e.type = "pepiniere.incubation.v1.MilestonePushed";
      e.subject = "startup-forged";
      e.actor = "nobody";
      e.correlation_id = "startup-forged";
      e.aggregate_version = static_cast<int64_t>(i) + 1;
      ASSERT_TRUE((*producer)->Produce(forged_topic, e.subject, "x", events::ToHeaders(e), i).ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
  }
  TempDir forged_dir;
  AuditProcess forged(p.brokers(), forged_dir.path(),
                      {"--topics", forged_topic, "--ledger_signing_key_file", p.audit().key_file()});
  forged.RequireGatewayKey(Platform::kKey);
  forged.Start();
  auto other = p.AnotherGateway({}, forged.address());
  ASSERT_TRUE(WaitFor([&] {
    gateway::HttpResult r = gateway::HttpCall(other->url(), "GET", "/v1/ledger/checkpoint", {}, "").value_or(gateway::HttpResult{});
    av1::Checkpoint c;
    return r.status == 200 && google::protobuf::util::JsonStringToMessage(r.body, &c).ok() && c.tree_size() >= seen + 5;
  }, absl::Seconds(30)));
  PepctlOutcome caught = Pepctl(other->url(), "", absl::StrCat("ledger watch --state ", state), dir.path());
  EXPECT_EQ(caught.rc, 1) << caught.out << caught.err;
  EXPECT_NE(caught.out.find("history was rewritten"), std::string::npos) << caught.out;
  // The state file still holds the last good checkpoint: the next run fails again.
  EXPECT_EQ(Pepctl(other->url(), "", absl::StrCat("ledger watch --state ", state), dir.path()).rc, 1);
  EXPECT_EQ(Pepctl(p.url(), "", absl::StrCat("ledger watch --state ", state), dir.path()).rc, 0)
      << "the true log is still consistent with it";
}

// Both offline verifiers on a proof file: their exit codes and what they printed.
std::pair<int, std::string> VerifyBoth(Platform& p, const std::string& dir, const std::string& body,
                                       const std::string& key) {
  const std::string file = dir + "/preuve.jsonl";
  std::ofstream(file) << body;
  PepctlOutcome go = Pepctl(p.url(), "", absl::StrCat("ledger verify ", file, " --key '", key, "'"), dir);
  const int py = RunCommand(absl::StrCat("python3 ", SourceDir(), "/services/audit/tools/verify-ledger.py --key '", key,
                                         "' ", file, " > ", dir, "/py.out 2>&1"));
  std::ifstream f(dir + "/py.out");
  std::string py_out((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return {go.rc != 0 ? go.rc : py, go.out + go.err + py_out};
}

TEST(LedgerGateway, APublicFactLinksToAProofAnyoneVerifiesOffline) {
  Platform p;
  TempDir dir;
  auto s = p.Post<nv1::Startup>("/v1/startups", p.coordinator(),
                                R"({"name":"Équipe voirie","mission":"Signaler un nid-de-poule","incubator":"lab06"})");
  ASSERT_EQ(p.Call("PUT", absl::StrCat("/v1/startups/", s.id(), "/publication"), p.coordinator(),
                   R"({"policy":{"published":true,"phases":true}})").status, 200);
  // The public page links the phase to its proof (« Preuve »).
  std::string fact_id;
  ASSERT_TRUE(WaitFor([&] {
    gateway::HttpResult page = p.Get(absl::StrCat("/startups/", s.slug()), "");
    const size_t at = page.body.find("href=\"/ledger/faits/");
    if (page.status != 200 || at == std::string::npos) return false;
    const size_t from = at + std::string("href=\"/ledger/faits/").size();
    fact_id = page.body.substr(from, page.body.find('"', from) - from);
    return true;
  }, absl::Seconds(30)));
  ASSERT_TRUE(IsUuid(fact_id)) << fact_id;
  const std::string proof_url = absl::StrCat("/v1/public/facts/", fact_id, "/proof");
  gateway::HttpResult proof;
  ASSERT_TRUE(WaitFor([&] { return (proof = p.Get(proof_url, "")).status == 200; }, absl::Seconds(30)))
      << proof.status << " " << proof.body;
  EXPECT_EQ(proof.headers["content-type"], "application/x-ndjson");
  EXPECT_NE(proof.body.find("\"payload\":"), std::string::npos) << "a public fact's statement is public";
  EXPECT_EQ(proof.body.find("Signaler"), std::string::npos) << "the mission is not public: not in the proof either";
  const std::string key = p.LedgerKey();
  auto [rc, out] = VerifyBoth(p, dir.path(), proof.body, key);
  EXPECT_EQ(rc, 0) << out << proof.body;
  EXPECT_NE(out.find("OK: 1 entries"), std::string::npos) << out;
  // The page says what the ledger holds, and how to check it.
  gateway::HttpResult page = p.Get(absl::StrCat("/ledger/faits/", fact_id), "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Équipe voirie : entrée en investigation le "), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(key), std::string::npos);
  // One changed byte of the statement: both verifiers refuse the file.
  std::string forged = proof.body;
  const size_t payload = forged.find("\"payload\":\"") + 12;
  forged[payload + 20] = forged[payload + 20] == 'A' ? 'B' : 'A';
  auto [forged_rc, forged_out] = VerifyBoth(p, dir.path(), forged, key);
  EXPECT_EQ(forged_rc, 1) << forged_out;
  // Only a public fact's lineage: the start-up's own is nobody's through this door.
  EXPECT_EQ(p.Get(absl::StrCat("/v1/public/facts/", s.id(), "/proof"), "").status, 404);
  EXPECT_EQ(p.Get(absl::StrCat("/v1/public/facts/", s.id(), "/proof"), p.coordinator()).status, 404);
  EXPECT_EQ(p.Get(absl::StrCat("/ledger/faits/", NewUuidV7(absl::Now())), "").status, 404);

  // The open data's release: the files' hashes, the fact, the checkpoint it goes with.
  google::protobuf::Struct release;
  ASSERT_TRUE(WaitFor([&] {
    gateway::HttpResult r = p.Get("/api/v2.7/release.json", "");
    return r.status == 200 && google::protobuf::util::JsonStringToMessage(r.body, &release).ok() &&
           release.fields().at("tree_size").number_value() > 0;
  }, absl::Seconds(30)));
  ASSERT_TRUE(tlog::OpenNote(release.fields().at("checkpoint").string_value(), key).ok());
  EXPECT_EQ(release.fields().at("files_sha256").struct_value().fields().at("/api/v2.7/startups.json").string_value(),
            gateway::Sha256Hex(p.Get("/api/v2.7/startups.json", "").body));
  const auto& listed = release.fields().at("facts").struct_value().fields().at(s.slug()).list_value();
  ASSERT_EQ(listed.values_size(), 1);
  EXPECT_EQ(listed.values(0).string_value(), fact_id);
  const auto release_size = static_cast<uint64_t>(release.fields().at("tree_size").number_value());

  // Unpublished: the fact is withdrawn; its statement is withheld, its proof still verifies.
  ASSERT_EQ(p.Call("PUT", absl::StrCat("/v1/startups/", s.id(), "/publication"), p.coordinator(),
                   R"({"policy":{"published":false}})").status, 200);
  ASSERT_TRUE(WaitFor([&] {
    proof = p.Get(proof_url, "");
    return proof.status == 200 && proof.body.find("PublicFactWithdrawn") != std::string::npos;
  }, absl::Seconds(30))) << proof.body;
  EXPECT_NE(proof.body.find("\"payload_withheld\":true"), std::string::npos) << proof.body;
  auto [after_rc, after_out] = VerifyBoth(p, dir.path(), proof.body, key);
  EXPECT_EQ(after_rc, 0) << after_out;
  page = p.Get(absl::StrCat("/ledger/faits/", fact_id), "");
  EXPECT_NE(page.body.find("n'est plus public"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("entrée en investigation"), std::string::npos) << "withheld";
  // The next release has no such fact; the withdrawal that explains it lies after the first
  // release's checkpoint and inside the new one's.
  const size_t at = proof.body.rfind("{\"index\":");
  uint64_t withdrawal = 0;
  ASSERT_TRUE(absl::SimpleAtoi(proof.body.substr(at + 9, proof.body.find(',', at) - at - 9), &withdrawal));
  EXPECT_GE(withdrawal, release_size);
  ASSERT_TRUE(WaitFor([&] {
    gateway::HttpResult r = p.Get("/api/v2.7/release.json", "");
    return r.status == 200 && google::protobuf::util::JsonStringToMessage(r.body, &release).ok() &&
           release.fields().at("tree_size").number_value() > static_cast<double>(withdrawal);
  }, absl::Seconds(30)));
  EXPECT_FALSE(release.fields().at("facts").struct_value().fields().contains(s.slug()));
  // A coordinator reads the same public copy here (the full one is the lineage's export).
  EXPECT_NE(p.Get(proof_url, p.coordinator()).body.find("\"payload_withheld\":true"), std::string::npos);
}

}  // namespace
}  // namespace pep::testing
