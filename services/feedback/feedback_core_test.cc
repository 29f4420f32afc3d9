// Feedback rules: every validation rule (the PII patterns are libs/pii's), the
// Observatoire formulas on hand-computed fixtures, the data threshold, rate limiting.
#include "services/feedback/feedback_core.h"

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace pep::feedback {
namespace {

v1::SubmitFeedbackRequest Good() {
  v1::SubmitFeedbackRequest r;
  r.set_startup_id("019aca55-9e00-7000-8000-000000000001");
  r.set_satisfaction(v1::SATISFACTION_GOOD);
  return r;
}

void ExpectField(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()).substr(0, field.size() + 1), field + ":") << s;
}

TEST(Validate, EachRuleNamesItsField) {
  EXPECT_TRUE(ValidateSubmit(Good()).ok());
  auto r = Good();
  r.clear_startup_id();
  ExpectField(ValidateSubmit(r), "startup_id");
  r = Good();
  r.set_startup_id("abc");
  ExpectField(ValidateSubmit(r), "startup_id");
  r = Good();
  r.clear_satisfaction();
  ExpectField(ValidateSubmit(r), "satisfaction");
  r = Good();
  r.set_satisfaction(static_cast<v1::Satisfaction>(42));
  ExpectField(ValidateSubmit(r), "satisfaction");
  for (int bad : {0, 6}) {
    r = Good();
    r.set_clarity(bad);
    ExpectField(ValidateSubmit(r), "clarity");
  }
  for (int bad : {-1, 11}) {
    r = Good();
    r.set_nps(bad);
    ExpectField(ValidateSubmit(r), "nps");
  }
  r = Good();
  r.add_help()->set_channel(v1::HELP_CHANNEL_UNSPECIFIED);
  ExpectField(ValidateSubmit(r), "help[0].channel");
  r = Good();
  r.add_help()->set_channel(v1::HELP_CHANNEL_PHONE);
  r.add_help()->set_channel(v1::HELP_CHANNEL_PHONE);
  ExpectField(ValidateSubmit(r), "help[1].channel");
  r = Good();
  r.add_help()->set_channel(v1::HELP_CHANNEL_NO_HELP_NEEDED);
  r.add_help()->set_channel(v1::HELP_CHANNEL_PHONE);
  ExpectField(ValidateSubmit(r), "help");
  r = Good();
  std::string v;
  for (int i = 0; i < 2001; ++i) v += "é";
  r.set_verbatim(v);
  EXPECT_EQ(ValidateSubmit(r).message(), "verbatim: at most 2000 characters (got 2001)");
  r.set_verbatim(v.substr(2));  // 2,000 characters (4,000 bytes) is fine
  EXPECT_TRUE(ValidateSubmit(r).ok());
  r = Good();
  r.set_idempotency_key(std::string(129, 'k'));
  ExpectField(ValidateSubmit(r), "idempotency_key");
}

TEST(Accepts, ConstructionOnwardsNotAbandoned) {
  EXPECT_FALSE(AcceptsFeedback(0));
  EXPECT_FALSE(AcceptsFeedback(1));  // investigation
  for (int p = 2; p <= 6; ++p) EXPECT_TRUE(AcceptsFeedback(p)) << p;
  EXPECT_FALSE(AcceptsFeedback(7));  // abandoned in investigation
  EXPECT_FALSE(AcceptsFeedback(8));  // abandoned
}

v1::Feedback Answer(v1::Satisfaction s, std::optional<int> clarity, std::optional<int> nps,
                    std::vector<std::pair<v1::HelpChannel, bool>> help = {}) {
  v1::Feedback f;
  f.set_satisfaction(s);
  if (clarity) f.set_clarity(*clarity);
  if (nps) f.set_nps(*nps);
  for (auto [c, r] : help) {
    auto* h = f.add_help();
    h->set_channel(c);
    h->set_reached(r);
  }
  return f;
}

TEST(Scores, ObservatoireFormulasOnAHandComputedFixture) {
  using S = v1::Satisfaction;
  const std::vector<v1::Feedback> answers = {
      Answer(S::SATISFACTION_GOOD, 5, 10, {{v1::HELP_CHANNEL_NO_HELP_NEEDED, false}}),
      Answer(S::SATISFACTION_GOOD, 4, 9, {{v1::HELP_CHANNEL_PHONE, true}}),
      Answer(S::SATISFACTION_MEDIUM, 3, 7, {{v1::HELP_CHANNEL_PHONE, false}, {v1::HELP_CHANNEL_EMAIL, false}}),
      Answer(S::SATISFACTION_BAD, 1, 2, {{v1::HELP_CHANNEL_COUNTER, false}, {v1::HELP_CHANNEL_CHAT, true}}),
      Answer(S::SATISFACTION_GOOD, std::nullopt, std::nullopt),
  };
  const v1::Scores s = ComputeScores(answers, /*threshold=*/5);
  EXPECT_EQ(s.answers(), 5);
  EXPECT_DOUBLE_EQ(s.satisfaction(), (10 + 10 + 5 + 0 + 10) / 5.0);  // 7
  EXPECT_DOUBLE_EQ(s.clarity(), (10 + 7.5 + 5 + 0) / 4.0);           // 5.625
  EXPECT_DOUBLE_EQ(s.help_reached(), 2.0 / 3.0);  // 3 tried a channel, 2 reached someone
  EXPECT_DOUBLE_EQ(s.autonomy(), 1.0 / 4.0);      // 1 of the 4 who answered the help question
  EXPECT_DOUBLE_EQ(s.nps(), 100.0 * (2 - 1) / 4);  // promoters 10, 9; detractor 2; 7 passive
  EXPECT_EQ(s.band(), v1::BAND_YELLOW);
}

TEST(Scores, BandsAndInsufficientData) {
  EXPECT_EQ(BandFor(8.0), v1::BAND_GREEN);
  EXPECT_EQ(BandFor(7.99), v1::BAND_YELLOW);
  EXPECT_EQ(BandFor(5.0), v1::BAND_YELLOW);
  EXPECT_EQ(BandFor(4.99), v1::BAND_RED);
  std::vector<v1::Feedback> answers(99, Answer(v1::SATISFACTION_GOOD, std::nullopt, std::nullopt));
  v1::Scores few = ComputeScores(answers, 100);
  EXPECT_EQ(few.band(), v1::BAND_INSUFFICIENT_DATA);
  EXPECT_DOUBLE_EQ(few.satisfaction(), 10);  // the score is still given, the band is not
  EXPECT_FALSE(few.has_nps());
  answers.push_back(Answer(v1::SATISFACTION_GOOD, std::nullopt, std::nullopt));
  EXPECT_EQ(ComputeScores(answers, 100).band(), v1::BAND_GREEN);
  EXPECT_EQ(ComputeScores({}, 0).band(), v1::BAND_INSUFFICIENT_DATA);
}

TEST(RateLimit, FivePerMinutePerKeyWithAnInjectedClock) {
  RateLimiter rl(5, absl::Minutes(1));
  absl::Time t = absl::FromUnixSeconds(1764331200);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(rl.Allow("ip1|s1", t + absl::Seconds(i)).has_value());
  auto wait = rl.Allow("ip1|s1", t + absl::Seconds(10));
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, absl::Seconds(50));  // the first hit leaves the window at t+60
  EXPECT_FALSE(rl.Allow("ip2|s1", t + absl::Seconds(10)).has_value());  // other client
  EXPECT_FALSE(rl.Allow("ip1|s2", t + absl::Seconds(10)).has_value());  // other start-up
  EXPECT_FALSE(rl.Allow("ip1|s1", t + absl::Seconds(60)).has_value());  // window slid
  RateLimiter off(0, absl::Minutes(1));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(off.Allow("k", t).has_value());
}

TEST(Buckets, DayWeekMonth) {
  absl::Time t;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2026-11-26T15:00:00Z", &t, &err));  // Thursday
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d", BucketStart(t, v1::GRANULARITY_DAY), absl::UTCTimeZone()), "2026-11-26");
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d", BucketStart(t, v1::GRANULARITY_WEEK), absl::UTCTimeZone()), "2026-11-23");
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d", BucketStart(t, v1::GRANULARITY_MONTH), absl::UTCTimeZone()), "2026-11-01");
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d", NextBucket(BucketStart(t, v1::GRANULARITY_MONTH), v1::GRANULARITY_MONTH), absl::UTCTimeZone()), "2026-12-01");
}

TEST(Export, CsvQuotesAndHiddenVerbatims) {
  v1::Feedback f = Answer(v1::SATISFACTION_MEDIUM, 4, std::nullopt, {{v1::HELP_CHANNEL_PHONE, true}});
  f.set_id("id-1");
  f.set_verbatim("Bien, mais \"lent\",\nparfois");
  EXPECT_EQ(CsvLine(f), "id-1,1970-01-01T00:00:00.000000Z,medium,4,,phone:reached,\"Bien, mais \"\"lent\"\",\nparfois\",0\n");
  f.set_hidden(true);
  EXPECT_EQ(CsvLine(f), "id-1,1970-01-01T00:00:00.000000Z,medium,4,,phone:reached,,0\n");
  EXPECT_EQ(JsonLine(f), R"({"id":"id-1","received_at":"1970-01-01T00:00:00.000000Z","satisfaction":"medium","clarity":4,"help":"phone:reached","verbatim":"","pii_masked":false})" "\n");
}

TEST(Export, CsvCellsThatASpreadsheetWouldRunAreNeutralised) {
  v1::Feedback f = Answer(v1::SATISFACTION_GOOD, std::nullopt, std::nullopt, {});
  f.set_id("id-2");
  for (const std::string formula : {"=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"}) {
    f.set_verbatim(formula);
    const std::string line = CsvLine(f);
    const std::string first = formula.substr(0, 1);
    EXPECT_NE(line.find("'" + first), std::string::npos) << line;
    EXPECT_EQ(line.find("," + first), std::string::npos) << line;
    EXPECT_EQ(line.find(",\"" + first), std::string::npos) << line;
  }
  f.set_verbatim("Très bien = parfait");  // only a leading character counts
  EXPECT_NE(CsvLine(f).find(",Très bien = parfait,"), std::string::npos);
  // French Excel reads ';' as the separator: each piece after one is a cell of its own.
  f.set_verbatim("Bien;=HYPERLINK(\"http://x\");  +1;ok");
  EXPECT_NE(CsvLine(f).find(",\"Bien;'=HYPERLINK(\"\"http://x\"\");  '+1;ok\","), std::string::npos)
      << CsvLine(f);
  const std::vector<std::string> cells = absl::StrSplit(CsvLine(f), ';');
  for (const std::string& cell : cells) {
    const size_t start = cell.find_first_not_of(' ');
    ASSERT_NE(start, std::string::npos);
    EXPECT_TRUE(std::string("=+-@").find(cell[start]) == std::string::npos) << cell;
  }
}

}  // namespace
}  // namespace pep::feedback
