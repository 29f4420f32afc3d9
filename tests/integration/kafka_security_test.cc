// Issue 26: events are authenticated. A real broker (Kafka 4.1) takes clients over TLS only,
// each with a certificate of its own user (mutual TLS; CN=pep-ideas…, all from a test CA), and
// enforces ACLs (StandardAuthorizer): the services' table of events/acls.h, created by the
// admin. (SCRAM, the other way the flags and the chart offer, is refused by Kafka 4.x from
// Debian's librdkafka 2.0.2: see libs/events/kafka_security.h.) Each service runs as its own user:
// pep-ideas publishes its events, pep-audit sequences them into its log; a service writing
// another's topic, or anyone but pep-audit writing the log, is refused; a foreign record on the
// log (written by a super user) is reported and does not stop sequencing.
#include "absl/flags/flag.h"
#include "events/acls.h"
#include "events/kafka_security.h"
#include "events/producer.h"
#include "harness/kafka_testing.h"
#include "integration/service_fixture.h"
#include "pepiniere/audit/v1/log.pb.h"

namespace pep::testing {
namespace {

class KafkaSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new KafkaBroker(SecureKafka{.users = {"pep-ideas", "pep-feedback", "pep-audit"}});
  }
  static void TearDownTestSuite() { delete broker_; }
  void SetUp() override {
    // This process is the admin: the harness's own clients (topics, readers) go through MakeConf.
    absl::SetFlag(&FLAGS_kafka_security_protocol, "ssl");
    absl::SetFlag(&FLAGS_kafka_ssl_ca_file, broker_->ca_file());
    absl::SetFlag(&FLAGS_kafka_ssl_certificate_file, broker_->cert_file("admin"));
    absl::SetFlag(&FLAGS_kafka_ssl_key_file, broker_->key_file("admin"));
  }
  // A service's flags: its own user.
  std::vector<std::string> As(const std::string& user) {
    return {"--kafka_security_protocol", "ssl", "--kafka_ssl_ca_file", broker_->ca_file(),
            "--kafka_ssl_certificate_file", broker_->cert_file(user), "--kafka_ssl_key_file", broker_->key_file(user)};
  }
  // Produces one record as `user` and returns how its delivery ended.
  absl::Status ProduceAs(const std::string& user, const std::string& topic, const std::string& value = "x") {
    absl::Status delivered = absl::UnknownError("no delivery report");
    auto p = events::Producer::Create(
        {{"bootstrap.servers", broker_->bootstrap()}, {"ssl.certificate.location", broker_->cert_file(user)},
         {"ssl.key.location", broker_->key_file(user)}, {"message.timeout.ms", "10000"}},
        [&](uint64_t, const absl::Status& s) { delivered = s; });
    if (!p.ok()) return p.status();
    if (absl::Status s = (*p)->Produce(topic, "k", value, {}, 1); !s.ok()) return s;
    (void)(*p)->Flush(absl::Seconds(15));
    return delivered;
  }
  static KafkaBroker* broker_;
  TempDir dir_;
};
KafkaBroker* KafkaSecurityTest::broker_ = nullptr;

TEST_F(KafkaSecurityTest, EachServiceWritesItsOwnTopicOnlyAndOnlyAuditWritesTheLog) {
  const std::string brokers = broker_->bootstrap();
  ASSERT_TRUE(events::EnsureTopics(brokers, events::PepiniereTopics()).ok());
  ASSERT_TRUE(events::EnsureAcls(brokers, events::PepiniereAcls()).ok());
  // librdkafka 2.0's admin API has no transactional-id resource: Kafka's own tool grants it.
  ASSERT_EQ(broker_->Acl("--add --allow-principal User:pep-audit --operation Write --operation Describe "
                         "--transactional-id pep-audit-sequencer --resource-pattern-type prefixed"),
            0);

  // Someone else's topic, the log: refused, by name. One's own topic: delivered.
  absl::Status foreign = ProduceAs("pep-feedback", "pepiniere.ideas.events");
  EXPECT_FALSE(foreign.ok());
  EXPECT_NE(foreign.message().find("uthoriz"), std::string::npos) << foreign;
  EXPECT_TRUE(ProduceAs("pep-feedback", "pepiniere.feedback.events").ok());
  EXPECT_FALSE(ProduceAs("pep-ideas", "pepiniere.audit.log").ok());
  EXPECT_FALSE(ProduceAs("pep-feedback", "pepiniere.audit.log").ok());

  // pep-ideas publishes as pep-ideas; pep-audit (as pep-audit) sequences its events.
  TempDir ideas_dir, audit_dir;
  IdeasProcess ideas(brokers, ideas_dir.path(), As("pep-ideas"));
  ideas.Start();
  std::vector<std::string> audit_args = As("pep-audit");
  audit_args.insert(audit_args.end(), {"--topics", "pepiniere.ideas.events"});
  AuditProcess audit(brokers, audit_dir.path(), audit_args);
  audit.Start();
  const std::string challenge = ideas.OpenChallenge();  // two events
  auto submit = [&](const std::string& title) {
    grpc::ClientContext ctx;
    IdeasProcess::As(ctx, "agent-7", "agent");
    iv1::SubmitIdeaResponse resp;
    ASSERT_TRUE(ideas.stub().SubmitIdea(&ctx, IdeasProcess::Idea(challenge, title), &resp).ok());
  };
  submit("Guichet unique");
  ASSERT_TRUE(WaitFor([&] { return audit.Checkpoint().tree_size() >= 3; }, absl::Seconds(60)))
      << "signed " << audit.Checkpoint().tree_size();

  // A record on the log that pep-audit did not write (only a super user can now): reported, and
  // the log goes on.
  const std::string log = AuditProcess::LogTopic(audit.ledger());
  EXPECT_FALSE(ProduceAs("pep-ideas", log).ok()) << "a service wrote the ledger";
  EXPECT_TRUE(ProduceAs("admin", log, std::string("\xff\xff\xff not a log record", 24)).ok());
  submit("Cantine sans papier");
  ASSERT_TRUE(WaitFor([&] { return audit.Checkpoint().tree_size() >= 4; }, absl::Seconds(60)))
      << "sequencing stopped at " << audit.Checkpoint().tree_size();
  av1::VerifyLedgerResponse v = audit.Verify();
  EXPECT_EQ(v.records(), 4);
  EXPECT_FALSE(v.undecodable().empty() && v.broken().empty()) << "the foreign record went unreported";
}

}  // namespace
}  // namespace pep::testing
