// Issue 33: what the gateway reads from a request before any service sees it — bodies whose
// shape protobuf's JSON parser would let through, bytes that are not UTF-8, booleans and enums in
// the query string — refused with a message that names the field and never echoes the bytes.
#include "services/gateway/transcode.h"

#include "absl/strings/str_cat.h"
#include "common/text.h"
#include "gtest/gtest.h"
#include "pepiniere/audit/v1/audit.pb.h"
#include "pepiniere/ideas/v1/ideas.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::gateway {
namespace {

namespace iv1 = ::pepiniere::ideas::v1;
namespace nv1 = ::pepiniere::incubation::v1;
namespace av1 = ::pepiniere::audit::v1;

HttpRequest WithBody(std::string body) {
  HttpRequest r;
  r.body = std::move(body);
  return r;
}

HttpRequest WithQuery(std::multimap<std::string, std::string> q) {
  HttpRequest r;
  r.query = std::move(q);
  return r;
}

std::string BodyError(const std::string& body, google::protobuf::Message* m) {
  absl::Status s = ParseBody(WithBody(body), m);
  return s.ok() ? "accepted" : std::string(s.message());
}

TEST(ParseBody, AListIsAListOfValuesOfItsType) {
  iv1::AssignJurorsRequest jurors;
  // protobuf's parser reads "AAA" as ["AAA"]; the API document says an array.
  EXPECT_EQ(BodyError(R"({"juror_ids":"AAA"})", &jurors), "juror_ids: must be a list ([…])");
  EXPECT_EQ(BodyError(R"({"juror_ids":["a",null]})", &jurors), "juror_ids[1]: null is not allowed in a list");
  EXPECT_EQ(BodyError(R"({"juror_ids":[["a"]]})", &jurors), "juror_ids[0]: must be a string");
  EXPECT_EQ(BodyError(R"({"juror_ids":["agnès","josé"]})", &jurors), "accepted");
  EXPECT_EQ(jurors.juror_ids_size(), 2);
  nv1::RecordCommitteeDecisionRequest committee;
  EXPECT_EQ(BodyError(R"({"document_refs":[[null,null]]})", &committee), "document_refs[0]: must be a string");
  EXPECT_EQ(BodyError(R"({"participants":null})", &committee), "accepted");  // null: not set
}

TEST(ParseBody, EnumsByNameDatesAsStringsObjectsAsObjects) {
  nv1::ChangePhaseRequest phase;
  EXPECT_EQ(BodyError(R"({"to":2})", &phase), "to: must be one of the names the API document lists, not a number");
  EXPECT_EQ(BodyError(R"({"to":"PHASE_CONSTRUCTION"})", &phase), "accepted");
  EXPECT_EQ(BodyError(R"({"effective_date":{}})", &phase), "effective_date: must be a string (RFC 3339 for a date)");
  nv1::PushMilestoneRequest milestone;
  EXPECT_EQ(BodyError(R"({"kpis":[{"name":"usagers","value":"beaucoup"}]})", &milestone), "kpis[0].value: must be a number");
  EXPECT_EQ(BodyError(R"({"kpis":[{"name":7}]})", &milestone), "kpis[0].name: must be a string");
  EXPECT_EQ(BodyError(R"({"kpis":[{"name":"usagers","value":"12"}]})", &milestone), "kpis[0].value: must be a number");
  EXPECT_EQ(BodyError(R"({"kpis":[{"name":"usagers","value":"NaN"}]})", &milestone), "kpis[0].value: must be a number");
  EXPECT_EQ(BodyError(R"({"kpis":[{"name":"usagers","value":12.5}]})", &milestone), "accepted");
  EXPECT_EQ(BodyError(R"({"kpis":["x"]})", &milestone), "kpis[0]: must be an object");
  EXPECT_EQ(BodyError(R"([1,2])", &milestone), "body: must be a JSON object (a PushMilestoneRequest)");
  nv1::CreateStartupRequest create;
  EXPECT_EQ(BodyError(R"({"links":{"repository":["https://x"]}})", &create), "links.repository: must be a string");
}

TEST(ParseBody, BytesThatAreNotUtf8AreNamedNeverEchoed) {
  iv1::SubmitIdeaRequest idea;
  const std::string body = "{\"title\":\"Voirie\",\"problem\":\"nid de poule \xC3\x28 rue\"}";
  absl::Status s = ParseBody(WithBody(body), &idea);
  ASSERT_FALSE(s.ok());
  const std::string message(s.message());
  EXPECT_EQ(message, absl::StrCat("problem: not valid UTF-8 (byte ", body.find('\xC3'), " of the body)"));
  EXPECT_GE(Utf8Length(message), 0);
  // Overlong forms and lone surrogates (CESU) are not UTF-8 either.
  EXPECT_EQ(BodyError("{\"title\":\"\xC0\xAF\"}", &idea), "title: not valid UTF-8 (byte 10 of the body)");
  EXPECT_EQ(BodyError("{\"title\":\"\xED\xA0\x80\"}", &idea), "title: not valid UTF-8 (byte 10 of the body)");
  EXPECT_EQ(BodyError("\xFF{}", &idea), "body: not valid UTF-8 (byte 0 of the body)");
}

TEST(ParseQuery, BooleansInTheirUsualSpellingsAndNothingElse) {
  for (const char* yes : {"true", "1", "yes", "on", "True", "YES"}) {
    EXPECT_TRUE(*QueryBool("dry_run", yes)) << yes;
  }
  for (const char* no : {"false", "0", "no", "off", "FALSE"}) {
    EXPECT_FALSE(*QueryBool("dry_run", no)) << no;
  }
  for (const char* neither : {"", "ture", "2", "oui", "true "}) {
    auto b = QueryBool("dry_run", neither);
    ASSERT_FALSE(b.ok()) << neither;
    EXPECT_NE(b.status().message().find("dry_run: '"), std::string::npos);
  }
  av1::GetTimelineRequest timeline;
  EXPECT_TRUE(ParseQuery(WithQuery({{"individual_feedback", "yes"}}), &timeline).ok());
  EXPECT_TRUE(timeline.individual_feedback());
  absl::Status s = ParseQuery(WithQuery({{"individual_feedback", "peut-être"}}), &timeline);
  EXPECT_EQ(s.message(), "individual_feedback: 'peut-être' is not a boolean (true or false)");
  nv1::ListStartupsRequest list;
  EXPECT_EQ(ParseQuery(WithQuery({{"phase", "0"}}), &list).message(),
            "phase: '0' is not one of the values the API document lists");
  EXPECT_TRUE(ParseQuery(WithQuery({{"phase", "PHASE_ACCELERATION"}, {"overdue_only", "1"}}), &list).ok());
  EXPECT_TRUE(list.overdue_only());
  // Bytes that are not UTF-8 in a query are not echoed raw.
  s = ParseQuery(WithQuery({{"individual_feedback", "\xFF\xFE"}}), &timeline);
  EXPECT_GE(Utf8Length(std::string(s.message())), 0);
}

}  // namespace
}  // namespace pep::gateway
