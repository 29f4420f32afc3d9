// Envelope <-> CloudEvents binary-binding headers: round trip, and precise errors.
#include "common/uuid.h"
#include "events/envelope.h"
#include "gtest/gtest.h"

namespace pep::events {
namespace {

Envelope Sample() {
  Envelope e;
  e.id = NewUuidV7(absl::FromUnixMillis(1764331200000));
  e.source = "/pepiniere/ideas";
  e.type = "pepiniere.ideas.v1.IdeaSubmitted";
  e.subject = "019aca55-9e00-7000-8000-000000000001";
  e.time = absl::FromUnixMicros(1764331200123456);
  e.actor = "agent-42";
  e.correlation_id = e.subject;
  e.causation_id = "019aca55-9e00-7000-8000-000000000002";
  e.aggregate_version = 3;
  e.effective_time = absl::FromUnixMicros(1700000000000000);
  return e;
}

TEST(Envelope, RoundTripThroughHeaders) {
  const Envelope e = Sample();
  Headers h = ToHeaders(e);
  EXPECT_EQ(*FindHeader(h, "ce_specversion"), "1.0");
  EXPECT_EQ(*FindHeader(h, "ce_type"), "pepiniere.ideas.v1.IdeaSubmitted");
  EXPECT_EQ(*FindHeader(h, "ce_time"), "2025-11-28T12:00:00.123456Z");
  EXPECT_EQ(*FindHeader(h, "content-type"), "application/protobuf");
  EXPECT_EQ(*FindHeader(h, "ce_aggregateversion"), "3");
  absl::StatusOr<Envelope> back = FromHeaders(h);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, e);
}

TEST(Envelope, CausationIsOptional) {
  Envelope e = Sample();
  e.causation_id.clear();
  Headers h = ToHeaders(e);
  EXPECT_EQ(FindHeader(h, "ce_causationid"), nullptr);
  auto back = FromHeaders(h);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, e);
}

TEST(Envelope, EachRequiredHeaderIsNamedWhenMissing) {
  for (const char* name : {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject",
                           "ce_time", "content-type", "ce_actor", "ce_correlationid",
                           "ce_aggregateversion", "ce_effectivetime"}) {
    Headers h;
    for (auto& kv : ToHeaders(Sample())) {
      if (kv.first != name) h.push_back(kv);
    }
    auto r = FromHeaders(h);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().substr(0, strlen(name) + 1), std::string(name) + ":")
        << r.status();
  }
}

TEST(Envelope, MalformedValuesAreRefused) {
  auto with = [](const char* name, const char* value) {
    Headers h = ToHeaders(Sample());
    for (auto& kv : h) {
      if (kv.first == name) kv.second = value;
    }
    return FromHeaders(h).status();
  };
  EXPECT_NE(with("ce_aggregateversion", "0").message().find("positive integer"),
            absl::string_view::npos);
  EXPECT_NE(with("ce_aggregateversion", "x").message().find("ce_aggregateversion"),
            absl::string_view::npos);
  EXPECT_NE(with("ce_time", "2025-13-99").message().find("ce_time"), absl::string_view::npos);
  EXPECT_NE(with("ce_id", "not-a-uuid").message().find("ce_id"), absl::string_view::npos);
  EXPECT_NE(with("ce_specversion", "0.3").message().find("unsupported"), absl::string_view::npos);
}

}  // namespace
}  // namespace pep::events
