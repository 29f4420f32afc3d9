// pep-notify without a broker or a relay: each rule's recipients (and nobody else), the French
// texts and links, the e-mail's MIME and headers, the unsubscribe token (forged, altered,
// expired), the retry schedule and the digest periods.
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/notify/notify_mail.h"
#include "services/notify/notify_rules.h"

namespace pep::notify {
namespace {

namespace iv1 = ::pepiniere::ideas::v1;
namespace incv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;

class FakeDirectory : public Directory {
 public:
  std::map<std::string, IdeaInfo> ideas;
  std::map<std::string, ChallengeInfo> challenges;
  std::map<std::string, StartupInfo> startups;
  std::map<std::string, std::vector<std::string>> teams;
  std::map<std::pair<std::string, std::string>, int> unscored;

  std::optional<IdeaInfo> Idea(const std::string& id) override {
    auto it = ideas.find(id);
    return it == ideas.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<ChallengeInfo> Challenge(const std::string& id) override {
    auto it = challenges.find(id);
    return it == challenges.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<StartupInfo> Startup(const std::string& id) override {
    auto it = startups.find(id);
    return it == startups.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<std::string> Team(const std::string& id) override { return teams[id]; }
  int UnscoredBy(const std::string& c, const std::string& j) override { return unscored[{c, j}]; }
};

absl::Time Day(const char* d) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d %H:%M", d, absl::UTCTimeZone(), &t, &err)) << d;
  return t;
}

events::Envelope Env(const std::string& type, const std::string& actor,
                     const std::string& correlation = "") {
  events::Envelope e;
  e.id = "ev-1";
  e.type = type;
  e.actor = actor;
  e.correlation_id = correlation;
  e.time = e.effective_time = Day("2026-03-03 10:00");
  return e;
}

struct Platform : FakeDirectory {
  Platform() {
    challenges["c1"] = {"c1", "Simplifier la voirie", Day("2026-03-20 17:00"), true, {"j1", "j2"}};
    challenges["c2"] = {"c2", "Autre défi", Day("2026-03-20 17:00"), true, {"j3"}};
    ideas["i1"] = {"i1", "c1", "agent-chloé", "Signaler un nid-de-poule"};
    ideas["i2"] = {"i2", "c1", "agent-bob", "Autre idée"};
    startups["s1"] = {"s1", "Équipe voirie", "i1"};
    startups["s2"] = {"s2", "Cantine", ""};
    teams["s1"] = {"team-léa", "team-omar"};
    teams["s2"] = {"team-zoé"};
  }
};

std::vector<std::string> Recipients(const std::vector<Planned>& p) {
  std::vector<std::string> out;
  for (const auto& x : p) out.push_back(x.recipient_id);
  return out;
}

TEST(Rules, IdeaReceivedGoesToItsAuthorOnlyInFrenchWithItsLink) {
  Platform dir;
  iv1::IdeaSubmitted ev;
  ev.mutable_idea()->set_id("i1");
  ev.mutable_idea()->set_challenge_id("c1");
  ev.mutable_idea()->set_author_id("agent-chloé");
  ev.mutable_idea()->set_title("Signaler un nid-de-poule");
  auto p = ForEvent(Env("pepiniere.ideas.v1.IdeaSubmitted", "agent-chloé"), ev.SerializeAsString(), dir);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].recipient_id, "agent-chloé");
  EXPECT_EQ(p[0].rule, "idea_received");
  EXPECT_EQ(p[0].category, "idees");
  EXPECT_EQ(p[0].link, "/idees/i1");
  EXPECT_EQ(p[0].title, "Votre idée « Signaler un nid-de-poule » est bien reçue");
  EXPECT_TRUE(absl::StrContains(p[0].body, "le 3 mars 2026 dans le défi « Simplifier la voirie »"))
      << p[0].body;
}

TEST(Rules, DecisionTellsTheAuthorTheReasonsAndNobodyElse) {
  Platform dir;
  iv1::IdeaAwarded ev;
  ev.set_idea_id("i1");
  ev.mutable_decision()->set_outcome(iv1::IDEA_STATUS_AWARDED);
  ev.mutable_decision()->set_prize("1er prix");
  ev.mutable_decision()->set_rationale("Utile à 4 500 agents, peu coûteuse.");
  auto p = ForEvent(Env("pepiniere.ideas.v1.IdeaAwarded", "coordinatrice"), ev.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"agent-chloé"});
  EXPECT_TRUE(absl::StrContains(p[0].body, "est récompensée par le jury : 1er prix")) << p[0].body;
  EXPECT_TRUE(absl::StrContains(p[0].body, "Motifs du jury : Utile à 4 500 agents")) << p[0].body;
  // An unknown idea (before pep-notify's time): nobody.
  ev.set_idea_id("ailleurs");
  EXPECT_TRUE(ForEvent(Env("pepiniere.ideas.v1.IdeaAwarded", "c"), ev.SerializeAsString(), dir).empty());
}

TEST(Rules, JurorsAddedAreToldNotTheOthersNorTheActor) {
  Platform dir;
  iv1::JurorsAssigned ev;
  ev.set_challenge_id("c1");
  ev.add_added_juror_ids("j2");
  ev.add_added_juror_ids("coordinatrice");  // a coordinator who names herself is not told
  ev.add_juror_ids("j1");
  ev.add_juror_ids("j2");
  auto p = ForEvent(Env("pepiniere.ideas.v1.JurorsAssigned", "coordinatrice"), ev.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"j2"});
  EXPECT_EQ(p[0].link, "/jury");
  EXPECT_TRUE(absl::StrContains(p[0].body, "se clôt le 20 mars 2026")) << p[0].body;
}

TEST(Rules, AStartupFromAnIdeaTellsItsAuthorAndItsPhasesItsTeamAndAuthor) {
  Platform dir;
  incv1::StartupCreated created;
  created.mutable_startup()->set_id("s1");
  created.mutable_startup()->set_name("Équipe voirie");
  auto p = ForEvent(Env("pepiniere.incubation.v1.StartupCreated", "pep-incubation", "i1"),
                    created.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"agent-chloé"});
  EXPECT_EQ(p[0].link, "/startups/s1");
  created.set_imported(true);  // the portfolio import tells nobody
  EXPECT_TRUE(ForEvent(Env("pepiniere.incubation.v1.StartupCreated", "x", "i1"),
                       created.SerializeAsString(), dir).empty());

  incv1::PhaseChanged moved;
  moved.set_startup_id("s1");
  moved.set_from(incv1::PHASE_INVESTIGATION);
  moved.set_to(incv1::PHASE_CONSTRUCTION);
  p = ForEvent(Env("pepiniere.incubation.v1.PhaseChanged", "team-léa"), moved.SerializeAsString(), dir);
  // The team member who moved it is not told; the other and the idea's author are.
  EXPECT_EQ(Recipients(p), (std::vector<std::string>{"team-omar", "agent-chloé"}));
  EXPECT_TRUE(absl::StrContains(p[0].body, "de la phase investigation à la phase construction"));
  moved.set_startup_id("s2");
  p = ForEvent(Env("pepiniere.incubation.v1.PhaseChanged", "coord"), moved.SerializeAsString(), dir);
  EXPECT_EQ(Recipients(p), std::vector<std::string>{"team-zoé"});
}

TEST(Rules, FeedbackGoesToThatStartupsTeamOnlyWithoutTheVerbatim) {
  Platform dir;
  fv1::FeedbackReceived ev;
  ev.mutable_feedback()->set_startup_id("s2");
  ev.mutable_feedback()->set_satisfaction(fv1::SATISFACTION_BAD);
  ev.mutable_feedback()->set_verbatim("Le formulaire m'a demandé trois fois mon adresse");
  auto p = ForEvent(Env("pepiniere.feedback.v1.FeedbackReceived", "public"), ev.SerializeAsString(), dir);
  ASSERT_EQ(Recipients(p), std::vector<std::string>{"team-zoé"});
  EXPECT_EQ(p[0].category, "retours");
  EXPECT_FALSE(absl::StrContains(p[0].body, "trois fois")) << p[0].body;
}

TEST(Rules, JuryClosingRemindsOnlyJurorsWithIdeasLeftWithinTheWindow) {
  Platform dir;
  dir.unscored[{"c1", "j1"}] = 12;
  dir.unscored[{"c1", "j2"}] = 0;
  const ChallengeInfo c = dir.challenges["c1"];
  EXPECT_TRUE(JuryClosing(c, Day("2026-03-17 17:00"), absl::Hours(48), dir).empty());  // 3 days
  auto r = JuryClosing(c, Day("2026-03-18 18:00"), absl::Hours(48), dir);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].what.recipient_id, "j1");
  EXPECT_EQ(r[0].period, "2026-03-20");
  EXPECT_TRUE(absl::StrContains(r[0].what.title, "12 idées à évaluer")) << r[0].what.title;
  EXPECT_TRUE(JuryClosing(c, Day("2026-03-20 18:00"), absl::Hours(48), dir).empty());  // closed
}

TEST(Rules, EveryRuleHasACategoryThatExists) {
  for (const Rule& r : Rules()) EXPECT_NE(FindCategory(r.category), nullptr) << r.name;
}

Mail Sample() {
  Mail m;
  m.message_id = "<0190-abc@pepiniere.localhost>";
  m.from_address = "ne-pas-repondre@pepiniere.localhost";
  m.from_name = "Pépinière";
  m.to_address = "chloe.martin@departement06.fr";
  m.to_name = "Chloé Martin";
  m.subject = "Décision du jury sur votre idée « Signaler un nid-de-poule »";
  m.items = {{"Décision du jury", "Votre idée est récompensée.\n\nMotifs : <utile> & simple",
              "http://127.0.0.1:8080/idees/i1"}};
  m.unsubscribe_url = "http://127.0.0.1:8080/v1/notifications/unsubscribe?token=abc";
  m.unsubscribe_label = "Mes idées";
  m.date = Day("2026-03-03 10:00");
  return m;
}

std::string DecodedPart(const std::string& mime, const std::string& type) {
  const size_t at = mime.find("Content-Type: " + type);
  const size_t body = mime.find("\r\n\r\n", at) + 4;
  const size_t end = mime.find("--", body);
  std::string b64 = mime.substr(body, end - body), out;
  b64.erase(std::remove(b64.begin(), b64.end(), '\r'), b64.end());
  b64.erase(std::remove(b64.begin(), b64.end(), '\n'), b64.end());
  EXPECT_TRUE(absl::Base64Unescape(b64, &out));
  return out;
}

TEST(Mime, HeadersForOneClickUnsubscribeAndAStableMessageId) {
  const std::string mime = RenderMime(Sample());
  EXPECT_TRUE(absl::StrContains(mime, "Message-ID: <0190-abc@pepiniere.localhost>\r\n"));
  EXPECT_TRUE(absl::StrContains(
      mime, "List-Unsubscribe: <http://127.0.0.1:8080/v1/notifications/unsubscribe?token=abc>\r\n"));
  EXPECT_TRUE(absl::StrContains(mime, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
  EXPECT_TRUE(absl::StrContains(mime, "Subject: =?UTF-8?B?"));
  EXPECT_TRUE(absl::StrContains(mime, "Content-Type: multipart/alternative; boundary="));
  EXPECT_EQ(mime, RenderMime(Sample()));  // a retry sends the same bytes
  for (size_t i = 0; i + 1 < mime.size(); ++i) {  // no bare LF, 7-bit only
    if (mime[i + 1] == '\n') ASSERT_EQ(mime[i], '\r') << i;
    ASSERT_LT(static_cast<unsigned char>(mime[i]), 0x80) << i;
  }
}

TEST(Mime, FrenchTextAndEscapedHtmlWithTheLink) {
  const std::string mime = RenderMime(Sample());
  const std::string text = DecodedPart(mime, "text/plain");
  EXPECT_TRUE(absl::StrContains(text, "Bonjour Chloé Martin,")) << text;
  EXPECT_TRUE(absl::StrContains(text, "Voir dans la console : http://127.0.0.1:8080/idees/i1"));
  const std::string html = DecodedPart(mime, "text/html");
  EXPECT_TRUE(absl::StrContains(html, "&lt;utile&gt; &amp; simple")) << html;
  EXPECT_FALSE(absl::StrContains(html, "<utile>"));
  EXPECT_TRUE(absl::StrContains(html, "href=\"http://127.0.0.1:8080/idees/i1\""));
  EXPECT_TRUE(absl::StrContains(html, "#000091"));
  EXPECT_FALSE(absl::StrContains(html, "<img"));
}

TEST(Mime, LongAccentedSubjectsSplitBetweenCharacters) {
  const std::string subject(200, 'a');
  std::string accented;
  for (int i = 0; i < 60; ++i) accented += "é";
  for (const std::string& s : {subject + "é", accented}) {
    const std::string enc = EncodeHeaderWord(s);
    std::string decoded;
    for (absl::string_view word : absl::StrSplit(enc, "\r\n ")) {
      ASSERT_LE(word.size(), 75u);
      ASSERT_TRUE(absl::StartsWith(word, "=?UTF-8?B?"));
      std::string part;
      ASSERT_TRUE(absl::Base64Unescape(word.substr(10, word.size() - 12), &part));
      decoded += part;
    }
    EXPECT_EQ(decoded, s);
  }
}

TEST(Unsubscribe, GoodForgedAlteredAndExpired) {
  const absl::Time now = Day("2026-03-03 10:00");
  const std::string t = SignUnsubscribe("clé", "agent-chloé", "idees", now + absl::Hours(24));
  auto ok = VerifyUnsubscribe("clé", t, now);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->account_id, "agent-chloé");
  EXPECT_EQ(ok->category, "idees");
  EXPECT_EQ(VerifyUnsubscribe("autre clé", t, now).status().code(), absl::StatusCode::kInvalidArgument);
  // Someone else's account in the same token shape, signed with another key.
  const std::string forged = SignUnsubscribe("devinée", "agent-bob", "idees", now + absl::Hours(24));
  EXPECT_EQ(VerifyUnsubscribe("clé", forged, now).status().code(), absl::StatusCode::kInvalidArgument);
  // The payload of one, the signature of the other.
  const std::string spliced = forged.substr(0, forged.find('.')) + t.substr(t.find('.'));
  EXPECT_EQ(VerifyUnsubscribe("clé", spliced, now).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyUnsubscribe("clé", "n'importe quoi", now).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyUnsubscribe("clé", t, now + absl::Hours(25)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Schedule, RetryDelaysGrowToTenMinutesAndPeriodsFollowParis) {
  EXPECT_EQ(RetryDelay(1), absl::Seconds(5));
  EXPECT_EQ(RetryDelay(2), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(7), absl::Seconds(320));
  EXPECT_EQ(RetryDelay(8), absl::Minutes(10));
  EXPECT_EQ(RetryDelay(50), absl::Minutes(10));
  // 23:30 UTC on 6 December is 00:30 on the 7th in Paris (a Monday, ISO week 50).
  EXPECT_EQ(DailyPeriod(Day("2026-12-06 23:30")), "2026-12-07");
  EXPECT_EQ(WeeklyPeriod(Day("2026-12-06 23:30")), "2026-W50");
  EXPECT_EQ(WeeklyPeriod(Day("2026-12-06 12:00")), "2026-W49");
  EXPECT_EQ(WeeklyPeriod(Day("2027-01-01 12:00")), "2026-W53");  // a Friday of 2026's last week
  EXPECT_EQ(FrenchDate(Day("2026-03-01 10:00")), "1er mars 2026");
}

}  // namespace
}  // namespace pep::notify
