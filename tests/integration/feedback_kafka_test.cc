// pep-feedback on a real broker with pep-incubation: a start-up moved to CONSTRUCTION starts
// accepting feedback, an abandoned one stops; FeedbackReceived carries the masked text only;
// killed and restarted, it follows the start-ups again at once (static group membership).
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "events/envelope.h"
#include "events/kafka.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/feedback/v1/events.pb.h"

namespace pep::testing {
namespace {

class FeedbackKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(events::EnsureTopics(KafkaBroker::Shared().bootstrap(), events::PepiniereTopics()).ok());
    incubation_ = std::make_unique<IncubationProcess>(KafkaBroker::Shared().bootstrap(), inc_dir_.path());
    incubation_->Start();
    feedback_ = std::make_unique<FeedbackProcess>(KafkaBroker::Shared().bootstrap(), fb_dir_.path());
    feedback_->Start();
  }

  grpc::Status Submit(const std::string& startup, const std::string& verbatim, std::string* id = nullptr) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-pep-actor", "public");
    ctx.AddMetadata("x-pep-client-key", "salted-hash-of-ip");
    fv1::SubmitFeedbackRequest r;
    r.set_startup_id(startup);
    r.set_satisfaction(fv1::SATISFACTION_GOOD);
    r.set_verbatim(verbatim);
    fv1::Feedback f;
    grpc::Status s = feedback_->stub().SubmitFeedback(&ctx, r, &f);
    if (id) *id = f.id();
    return s;
  }

  void Move(const std::string& id, incv1::Phase to, incv1::CommitteeOutcome outcome) {
    incv1::RecordCommitteeDecisionRequest d;
    d.set_startup_id(id);
    *d.mutable_date() = ToTimestamp(absl::Now() - absl::Hours(1));
    d.set_outcome(outcome);
    d.set_rationale("comité");
    d.add_participants("DGS");
    incv1::CommitteeDecision dec;
    {
      grpc::ClientContext ctx;
      ASSERT_TRUE(incubation_->stub().RecordCommitteeDecision(&ctx, d, &dec).ok());
    }
    incv1::ChangePhaseRequest cp;
    cp.set_startup_id(id);
    cp.set_to(to);
    cp.set_decision_id(dec.id());
    incv1::Startup out;
    grpc::ClientContext ctx;
    grpc::Status s = incubation_->stub().ChangePhase(&ctx, cp, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::string CreateInConstruction(const std::string& name) {
    incv1::CreateStartupRequest cr;
    cr.set_name(name);
    cr.set_mission("Simplifier une démarche");
    cr.set_incubator("lab06");
    incv1::Startup su;
    grpc::ClientContext ctx;
    grpc::Status s = incubation_->stub().CreateStartup(&ctx, cr, &su);
    EXPECT_TRUE(s.ok()) << s.error_message();
    Move(su.id(), incv1::PHASE_CONSTRUCTION, incv1::COMMITTEE_OUTCOME_GO);
    return su.id();
  }

  TempDir inc_dir_, fb_dir_;
  std::unique_ptr<IncubationProcess> incubation_;
  std::unique_ptr<FeedbackProcess> feedback_;
};

TEST_F(FeedbackKafkaTest, ConstructionOpensFeedbackAbandonClosesItEventsAreMasked) {
  incv1::CreateStartupRequest cr;
  cr.set_name("Cantine en ligne");
  cr.set_mission("Inscrire son enfant à la cantine sans papier");
  cr.set_incubator("lab06");
  incv1::Startup su;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(incubation_->stub().CreateStartup(&ctx, cr, &su).ok());
  }
  // Known once StartupCreated is consumed, but still in investigation: refused.
  ASSERT_TRUE(WaitFor([&] {
    return Submit(su.id(), "").error_code() == grpc::StatusCode::FAILED_PRECONDITION;
  }, absl::Seconds(60)));
  Move(su.id(), incv1::PHASE_CONSTRUCTION, incv1::COMMITTEE_OUTCOME_GO);
  std::string answer_id;
  ASSERT_TRUE(WaitFor([&] {
    return Submit(su.id(), "Très pratique ! Écrivez-moi : marie.curie@exemple.fr", &answer_id).ok();
  }, absl::Seconds(60))) << "construction never opened feedback";

  Move(su.id(), incv1::PHASE_ABANDONED, incv1::COMMITTEE_OUTCOME_STOP);
  // Until pep-feedback has consumed the PhaseChanged, answers are still (rightly) accepted.
  int accepted = 1;
  ASSERT_TRUE(WaitFor([&] {
    grpc::Status s = Submit(su.id(), "");
    accepted += s.ok();
    return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
  }, absl::Seconds(60))) << "an abandoned start-up still accepts feedback";

  events::Record received;
  ReadTopicUntil(KafkaBroker::Shared().bootstrap(), "pepiniere.feedback.events", [&](const auto& rs) {
    for (const auto& r : rs) {
      if (r.key == answer_id) received = r;
    }
    return !received.key.empty();
  });
  ASSERT_EQ(received.key, answer_id);
  EXPECT_EQ(*events::FindHeader(received.headers, "ce_type"), "pepiniere.feedback.v1.FeedbackReceived");
  EXPECT_EQ(*events::FindHeader(received.headers, "ce_correlationid"), su.id());
  EXPECT_EQ(received.value.find("marie.curie"), std::string::npos) << "raw PII on the topic";
  fv1::FeedbackReceived ev;
  ASSERT_TRUE(ev.ParseFromString(received.value));
  EXPECT_EQ(ev.feedback().verbatim(), "Très pratique ! Écrivez-moi : [email]");
  EXPECT_TRUE(ev.feedback().pii_masked());
  const std::string metrics = HttpGet(feedback_->metrics_port(), "/metrics");
  EXPECT_EQ(Sample(metrics, "pep_feedback_pii_masked_total{kind=\"email\"}"), 1);
  EXPECT_EQ(Sample(metrics, "pep_feedback_received_total{satisfaction=\"good\"}"), accepted);
  EXPECT_GE(Sample(metrics, "pep_feedback_rejected_total{reason=\"not_accepting\"}"), 2);
}

TEST_F(FeedbackKafkaTest, KilledAndRestartedItFollowsNewStartupsWithoutWaitingOutItsSession) {
  const std::string first = CreateInConstruction("Avant la panne");
  ASSERT_TRUE(WaitFor([&] { return Submit(first, "").ok(); }, absl::Seconds(60)));
  feedback_->Kill9();
  feedback_->Start();
  const absl::Time restarted = absl::Now();
  const std::string second = CreateInConstruction("Après la panne");
  // A dynamic member would wait for the killed one's session to expire (45 s) before the group
  // hands the partition back; the static member (--consumer_instance) takes it back at once.
  ASSERT_TRUE(WaitFor([&] { return Submit(second, "").ok(); }, absl::Seconds(20)))
      << "the restarted pep-feedback did not learn of the new start-up within 20 s";
  std::printf("new start-up accepted %.1f s after the restart\n",
              absl::ToDoubleSeconds(absl::Now() - restarted));
  EXPECT_TRUE(Submit(first, "").ok()) << "the read model survived the kill";
}

// Calls to pep-feedback answer without a periodic pause. SubmitFeedback used to be a gRPC
// callback-API method; with gRPC 1.51 that left the server's connections polled by the callback
// queue's two threads, which sleep 100 ms after every idle second, so any call could wait up to
// 100 ms once a second when no answer was coming in (seen: a 100 ms call every 1.1 s, through
// the gateway as well). Here: one answer, then on one kept-alive channel reads one after the
// other for 4.5 s — at most one call over 50 ms (a scheduling hiccup), where the pause gave four.
TEST_F(FeedbackKafkaTest, NoCallWaitsOnAPeriodicPause) {
  const std::string id = CreateInConstruction("Sans pause");
  ASSERT_TRUE(WaitFor([&] { return Submit(id, "premier").ok(); }, absl::Seconds(30)));
  int calls = 0;
  std::vector<std::string> slow;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Milliseconds(4500)) {
    const absl::Time t = absl::Now();
    ++calls;
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-pep-actor", "coordination");
    ctx.AddMetadata("x-pep-roles", "coordinator");
    fv1::GetSummaryRequest r;
    r.set_startup_id(id);
    fv1::Summary out;
    const grpc::Status s = feedback_->stub().GetSummary(&ctx, r, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const absl::Duration took = absl::Now() - t;
    if (took > absl::Milliseconds(50)) {
      slow.push_back(absl::StrCat(absl::FormatDuration(took), " at ", absl::FormatDuration(t - start)));
    }
  }
  std::printf("%d calls, %zu over 50 ms: %s\n", calls, slow.size(), absl::StrJoin(slow, ", ").c_str());
  EXPECT_LE(slow.size(), 1u) << absl::StrJoin(slow, ", ");
}

}  // namespace
}  // namespace pep::testing
