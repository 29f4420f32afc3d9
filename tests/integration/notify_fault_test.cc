// pep-notify under faults, counted through Mailpit's API: the relay stopped for a minute under a
// burst, then back — every message delivered once; pep-notify killed -9 in the middle of a burst
// and restarted — none lost, and no notification twice (a resend after the kill carries the
// same Message-ID: the one window, between the relay's 250 and its record's commit, at most
// --max_unrecorded + 1 e-mails a kill).
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "harness/mailpit.h"
#include "service_fixture.h"

namespace pep::testing {
namespace {

class NotifyFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(events::EnsureTopics(brokers_, events::PepiniereTopics()).ok());
    ideas_.Start();
    notify_->Start();
  }

  std::unique_ptr<NotifyProcess> NewNotify() {
    return std::make_unique<NotifyProcess>(
        brokers_, notify_dir_.path(),
        std::vector<std::string>{"--smtp_url", mail_.smtp_url(), "--retry_max_delay", "2s",
                                 "--ideas_addr", ideas_.address(),
                                 "--consumer_group", group_, "--consumer_instance", group_ + "-0"});
  }

  // `n` agents, each registered with an address; their addresses.
  std::vector<std::string> Register(const std::string& prefix, int n) {
    std::vector<std::string> addresses;
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext ctx;
      NotifyProcess::As(ctx, absl::StrCat(prefix, "-", i), "agent");
      nv1::UpsertContactRequest req;
      req.set_email(absl::StrCat(prefix, ".", i, "@departement06.fr"));
      req.set_display_name(absl::StrCat("Agent n°", i, " de la voirie"));
      nv1::Contact c;
      EXPECT_TRUE(notify_->stub().UpsertContact(&ctx, req, &c).ok());
      addresses.push_back(req.email());
    }
    return addresses;
  }

  // Each of the `n` agents submits one idea: n receipts to send.
  void Submit(const std::string& prefix, int n) {
    const std::string challenge = ideas_.OpenChallenge(1);
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext ctx;
      IdeasProcess::As(ctx, absl::StrCat(prefix, "-", i), "agent");
      iv1::SubmitIdeaResponse resp;
      grpc::Status s = ideas_.stub().SubmitIdea(
          &ctx, IdeasProcess::Idea(challenge, absl::StrCat("Idée n°", i, " : réparer la chaussée")),
          &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
  }

  // Messages per address and the distinct Message-IDs per address.
  void Count(std::map<std::string, int>* raw, std::map<std::string, std::set<std::string>>* ids) {
    for (const auto& m : mail_.Messages()) {
      ++(*raw)[m.to];
      (*ids)[m.to].insert(m.message_id);
    }
  }

  const std::string brokers_ = KafkaBroker::Shared().bootstrap();
  const std::string group_ = absl::StrCat("pep-notify-fault-", getpid());
  TempDir ideas_dir_, notify_dir_;
  Mailpit mail_;
  IdeasProcess ideas_{brokers_, ideas_dir_.path()};
  std::unique_ptr<NotifyProcess> notify_ = NewNotify();
};

TEST_F(NotifyFaultTest, RelayDownForAMinuteUnderABurstThenEveryMessageOnce) {
  mail_.Stop();
  const absl::Time down = absl::Now();
  const auto addresses = Register("panne", 100);
  Submit("panne", 100);
  // Down for a minute, and pep-notify really tried meanwhile (temporary failures, retried).
  ASSERT_TRUE(WaitFor([&] {
    const std::string m = HttpGet(notify_->metrics_port(), "/metrics");
    return absl::Now() - down >= absl::Minutes(1) &&
           Sample(m, "pep_notify_email_failures_total{kind=\"temporary\",rule=\"idea_received\"}") >= 3;
  }, absl::Minutes(3), absl::Milliseconds(500)));
  const std::string during = HttpGet(notify_->metrics_port(), "/metrics");
  EXPECT_EQ(Sample(during, "pep_notify_queue_depth{rule=\"idea_received\"}"), 100) << during;
  EXPECT_GT(Sample(during, "pep_notify_queue_oldest_age_seconds{rule=\"idea_received\"}"), 30);
  mail_.Start();
  ASSERT_TRUE(WaitFor([&] { return static_cast<int>(mail_.Messages().size()) >= 100; },
                      absl::Seconds(60), absl::Milliseconds(250)));
  std::map<std::string, int> raw;
  std::map<std::string, std::set<std::string>> ids;
  Count(&raw, &ids);
  for (const auto& a : addresses) EXPECT_EQ(raw[a], 1) << a;
  EXPECT_EQ(raw.size(), addresses.size());
  EXPECT_TRUE(WaitFor([&] {
    return Sample(HttpGet(notify_->metrics_port(), "/metrics"),
                  "pep_notify_queue_depth{rule=\"idea_received\"}") == 0;
  }, absl::Seconds(15)));
}

TEST_F(NotifyFaultTest, KilledMidBurstLosesNoneAndTellsNobodyTwice) {
  const int n = 300;
  const auto addresses = Register("coupure", n);
  // The ideas arrive while pep-notify is killed -9: once while it reads events and hands
  // e-mails over, once more while it only hands them over.
  std::thread burst([&] { Submit("coupure", n); });
  int kills = 0;
  for (int at : {30, 200}) {
    if (at == 200) burst.join();
    ASSERT_TRUE(WaitFor([&] { return static_cast<int>(mail_.Messages().size()) >= at; },
                        absl::Seconds(60), absl::Milliseconds(20)))
        << FileTail(notify_->log_path());
    notify_->Kill9();
    ++kills;
    EXPECT_LT(static_cast<int>(mail_.Messages().size()), n) << "the burst was over before the kill";
    notify_ = NewNotify();
    notify_->Start();
  }
  ASSERT_TRUE(WaitFor([&] {
    std::map<std::string, int> raw;
    std::map<std::string, std::set<std::string>> ids;
    Count(&raw, &ids);
    return static_cast<int>(ids.size()) == n;
  }, absl::Seconds(90), absl::Milliseconds(250))) << FileTail(notify_->log_path());
  ASSERT_TRUE(WaitFor([&] {
    return Sample(HttpGet(notify_->metrics_port(), "/metrics"),
                  "pep_notify_queue_depth{rule=\"idea_received\"}") == 0;
  }, absl::Seconds(30)));
  std::map<std::string, int> raw;
  std::map<std::string, std::set<std::string>> ids;
  Count(&raw, &ids);
  int resent = 0;
  for (const auto& a : addresses) {
    EXPECT_EQ(ids[a].size(), 1u) << a << ": told twice (two notifications for one cause)";
    resent += raw[a] - 1;
  }
  // The same e-mail handed over again after a kill (same Message-ID): at most those the relay
  // had taken and the recorder not yet committed — pep-notify's --max_unrecorded (2) + 1 a kill.
  EXPECT_LE(resent, kills * 3);
  std::cout << "kills=" << kills << " recipients=" << ids.size() << " resent_same_message_id="
            << resent << "\n";
}

}  // namespace
}  // namespace pep::testing
