// Unit tests for libs/common: UUIDv7 layout and order, RFC 3339, status mapping, JSON escaping.
#include <atomic>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "common/config.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, pep_test_port, 1, "a flag for the config test");
ABSL_FLAG(std::string, pep_test_name, "default", "a flag for the config test");

namespace pep {
namespace {

TEST(Config, EnvironmentOverridesDefaultAndCommandLineOverridesEnvironment) {
  setenv("PEP_PEP_TEST_PORT", "42", 1);
  setenv("PEP_PEP_TEST_NAME", "from-env", 1);
  char prog[] = "prog";
  char flag[] = "--pep_test_name=from-flag";
  char* argv[] = {prog, flag, nullptr};
  ParseFlagsWithEnv(2, argv);
  EXPECT_EQ(absl::GetFlag(FLAGS_pep_test_port), 42);
  EXPECT_EQ(absl::GetFlag(FLAGS_pep_test_name), "from-flag");
  unsetenv("PEP_PEP_TEST_PORT");
  unsetenv("PEP_PEP_TEST_NAME");
}

TEST(Uuid, V7LayoutAndTimeOrder) {
  const absl::Time t0 = absl::FromUnixMillis(1764331200000);
  std::string a = NewUuidV7(t0);
  std::string b = NewUuidV7(t0 + absl::Milliseconds(1));
  EXPECT_TRUE(IsUuid(a));
  EXPECT_EQ(a[14], '7') << a;                        // version nibble
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;  // variant
  EXPECT_LT(a, b);                                    // later millisecond sorts after
  EXPECT_EQ(a.substr(0, 13), "019aca55-9e00");  // 48-bit ms timestamp (0x19aca559e00)
  std::set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewUuidV7(t0);
    EXPECT_LT(prev, id) << "ids of one millisecond must keep creation order";
    EXPECT_EQ(id.substr(0, 13), "019aca55-9e00");
    EXPECT_TRUE(IsUuid(id));
    prev = id;
    seen.insert(std::move(id));
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(Uuid, RejectsMalformed) {
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("019acabb-0000-7000-8000-00000000000g"));
  EXPECT_FALSE(IsUuid("019acabb00000-7000-8000-000000000000"));
}

TEST(Clock, Rfc3339RoundTrip) {
  const absl::Time t = absl::FromUnixMicros(1764331200123456);
  const std::string s = FormatRfc3339(t);
  EXPECT_EQ(s, "2025-11-28T12:00:00.123456Z");
  absl::Time back;
  ASSERT_TRUE(ParseRfc3339(s, &back));
  EXPECT_EQ(back, t);
  EXPECT_FALSE(ParseRfc3339("yesterday", &back));
}

// The arithmetic fast paths agree with cctz on every shape, including before 1970, leap days
// and the last microsecond of a day; anything else still goes through absl.
TEST(Clock, Rfc3339FastPathAgreesWithAbsl) {
  std::vector<int64_t> micros = {0, -1, 951782400000000 /* 2000-02-29 */, 4107542399999999,
                                 -62135596800000000 /* 0001-01-01 */, 253402300799999999};
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {  // xorshift: spread over years 0001-9999
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    micros.push_back(-62135596800000000 + static_cast<int64_t>(x % 315537897600000000ULL));
  }
  for (int64_t us : micros) {
    const absl::Time t = absl::FromUnixMicros(us);
    const std::string s = FormatRfc3339(t);
    ASSERT_EQ(s, absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone())) << us;
    absl::Time back;
    ASSERT_TRUE(ParseRfc3339(s, &back)) << s;
    ASSERT_EQ(back, t) << s;
  }
  absl::Time t;
  ASSERT_TRUE(ParseRfc3339("2025-03-12T10:00:00Z", &t));
  EXPECT_EQ(t, absl::FromUnixSeconds(1741773600));
  ASSERT_TRUE(ParseRfc3339("2025-03-12T11:00:00+01:00", &t));  // absl's path
  EXPECT_EQ(t, absl::FromUnixSeconds(1741773600));
  EXPECT_FALSE(ParseRfc3339("2025-02-30T10:00:00Z", &t));
  EXPECT_FALSE(ParseRfc3339("2025-13-01T10:00:00Z", &t));
  // Nothing that would not come back the same through FormatRfc3339 (found by fuzz_envelope).
  ASSERT_TRUE(ParseRfc3339("2026-03-12T15:05:00.123456000Z", &t));
  EXPECT_EQ(FormatRfc3339(t), "2026-03-12T15:05:00.123456Z");
  EXPECT_FALSE(ParseRfc3339("2026-03-12T15:05:00.000000222222Z", &t));
  EXPECT_FALSE(ParseRfc3339("\x0c" "2026-03-12T15:05:00.000000Z", &t));
  EXPECT_FALSE(ParseRfc3339(" 2026-03-12T15:05:00Z", &t));
  EXPECT_FALSE(ParseRfc3339("2026-03-12T15:05:00Z ", &t));
  EXPECT_FALSE(ParseRfc3339("infinite-future", &t));
  EXPECT_FALSE(ParseRfc3339("", &t));
}

TEST(Status, FieldErrorNamesFieldAndMapsToGrpc) {
  absl::Status s = FieldError("title", "must be 1-140 characters (got 212)");
  EXPECT_EQ(s.message(), "title: must be 1-140 characters (got 212)");
  grpc::Status g = ToGrpcStatus(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), s.message());
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("x")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(FromGrpcStatus(g), absl::InvalidArgumentError(s.message()));  // code and message back
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

// People's text crosses gRPC metadata percent-encoded: every value it gives is printable ASCII
// (what grpc++ demands, or it aborts), and decoding gives the bytes back, whatever they were.
TEST(MetadataValue, EncodesToPrintableAsciiAndDecodesBack) {
  const std::vector<std::string> texts = {
      "équipe-voirie", "« Signalement » l'équipe", "emoji 🌱 ok", "100% sûr", std::string("nul\0byte", 8),
      "tab\tand\r\nnewline", "startup:018f,other", "", "plain-ascii_id.1"};
  std::mt19937 rng(7);
  std::vector<std::string> all = texts;
  for (int i = 0; i < 500; ++i) {
    std::string r(rng() % 40, '\0');
    for (char& c : r) c = static_cast<char>(rng() & 0xFF);
    all.push_back(r);
  }
  for (const std::string& t : all) {
    const std::string enc = EncodeMetadataValue(t, ",");
    for (const char c : enc) {
      ASSERT_TRUE(c >= 0x21 && c <= 0x7E && c != ',') << "byte " << int(static_cast<unsigned char>(c)) << " in " << enc;
    }
    std::string back;
    ASSERT_TRUE(DecodeMetadataValue(enc, &back)) << enc;
    EXPECT_EQ(back, t);
  }
  EXPECT_EQ(EncodeMetadataValue("plain-ascii_id.1"), "plain-ascii_id.1");  // identifiers unchanged
  EXPECT_EQ(EncodeMetadataValue("équipe"), "%C3%A9quipe");
  std::string out;
  EXPECT_FALSE(DecodeMetadataValue("abc%", &out));
  EXPECT_FALSE(DecodeMetadataValue("abc%4", &out));
  EXPECT_FALSE(DecodeMetadataValue("abc%zz", &out));
  EXPECT_TRUE(HasControlCharacter("a\tb"));
  EXPECT_TRUE(HasControlCharacter("a\x7f"));
  EXPECT_FALSE(HasControlCharacter("équipe « voirie » 🌱"));
}

TEST(Log, JsonEscape) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
  EXPECT_EQ(JsonEscape("é"), "é");
  // What is not UTF-8 (a client's bytes echoed in an error) never reaches a JSON document.
  EXPECT_EQ(JsonEscape(std::string("a\xc1\xff\xe9t\xf0\x9f\x8c\xb1", 9)), "a\ufffd\ufffd\ufffdt🌱");
}

}  // namespace
}  // namespace pep

namespace pep {
namespace {

TEST(PeriodicTask, RunsAtOnceThenEachPeriodAndStopsWithoutWaitingOutThePeriod) {
  std::atomic<int> runs{0};
  {
    PeriodicTask fast(absl::Milliseconds(5), [&] { ++runs; });
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (runs.load() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    EXPECT_GE(runs.load(), 3);
  }
  const int after_stop = runs.load();
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(runs.load(), after_stop);  // destroyed: it never runs again

  std::atomic<int> slow_runs{0};
  const absl::Time t0 = absl::Now();
  {
    PeriodicTask slow(absl::Hours(1), [&] { ++slow_runs; });
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (slow_runs.load() < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    slow.Stop();
  }
  EXPECT_EQ(slow_runs.load(), 1);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(10));  // Stop did not wait for the hour
}

}  // namespace
}  // namespace pep
