// pep-notify's service: events in (HandleEvent), notifications made by the rules, e-mails sent
// by one sender thread (SendDue), reminders and digests from the clock (RunSchedules), and the
// gRPC API of the console's bell and settings, the address book and one-click unsubscribe.
#pragma once

#include <map>
#include <thread>
#include <vector>
#include <string>

#include "absl/synchronization/mutex.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "events/consumer.h"
#include "events/envelope.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"
#include "pepiniere/notify/v1/notify.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/notify/notify_mail.h"
#include "services/notify/notify_rules.h"
#include "services/notify/notify_store.h"
#include "services/notify/smtp_sender.h"

namespace pep::notify {

class NotifyMetrics {
 public:
  explicit NotifyMetrics(prometheus::Registry& registry);
  prometheus::Counter& Made(const std::string& rule) { return made_->Add({{"rule", rule}}); }
  prometheus::Counter& Sent(const std::string& rule) { return sent_->Add({{"rule", rule}}); }
  prometheus::Counter& Failed(const std::string& rule, const char* kind) {
    return failed_->Add({{"rule", rule}, {"kind", kind}});
  }
  prometheus::Counter& Retried(const std::string& rule) { return retried_->Add({{"rule", rule}}); }
  prometheus::Counter& Undeliverable(const std::string& rule) {
    return undeliverable_->Add({{"rule", rule}});
  }
  prometheus::Counter& ScheduleRuns() { return *schedule_runs_; }
  // Sets the queue gauges from the store's backlog (rules with none go to 0).
  void SetBacklog(const std::vector<Backlog>& backlog, absl::Time now);

 private:
  prometheus::Family<prometheus::Counter>* made_;
  prometheus::Family<prometheus::Counter>* sent_;
  prometheus::Family<prometheus::Counter>* failed_;
  prometheus::Family<prometheus::Counter>* retried_;
  prometheus::Family<prometheus::Counter>* undeliverable_;
  prometheus::Family<prometheus::Gauge>* depth_;
  prometheus::Family<prometheus::Gauge>* age_;
  prometheus::Counter* schedule_runs_;
  absl::Mutex mu_;
  std::map<std::string, bool> seen_rules_ ABSL_GUARDED_BY(mu_);
};

struct NotifyOptions {
  auth::AuthOptions auth;
  std::string console_url = "http://127.0.0.1:8080";  // links in messages: console_url + path
  std::string mail_from = "ne-pas-repondre@pepiniere.localhost";
  std::string mail_from_name = "Pépinière";
  std::string message_id_domain = "pepiniere.localhost";
  std::string unsubscribe_key;  // HMAC key of the one-click links (required)
  absl::Duration unsubscribe_ttl = absl::Hours(24 * 60);
  absl::Duration jury_reminder_window = absl::Hours(48);
  int digest_hour = 8;  // Europe/Paris: daily digests from this hour, weekly ones on Mondays; <0: on demand
  int send_batch = 100;  // e-mails taken per pass of the sender
  // E-mails the relay took whose record (one group commit) has not yet landed: the sender waits
  // beyond it. A crash re-sends at most max_unrecorded + 1 (same Message-IDs); 0: one at a time.
  int max_unrecorded = 2;
  absl::Duration retry_max_delay = absl::Minutes(10);  // temporary failures: the longest wait
  // pep-ideas, to read the contact address of an idea whose author has no entry in the address
  // book (never signed in); null: such authors are told in the console only.
  pepiniere::ideas::v1::IdeaService::Stub* ideas = nullptr;
  // pep-feedback, for the satisfaction bands of the coordinators' weekly picture; null: the
  // picture says they are unavailable.
  pepiniere::feedback::v1::FeedbackService::Stub* feedback = nullptr;
  std::string gateway_key;  // sent to pep-ideas and pep-feedback
  // The teams' clock rules: the same policy as pep-incubation's overdue flags.
  portfolio::StalenessPolicy staleness;
  absl::Duration committee_notice = absl::Hours(30 * 24);  // committee_due: this long before
};

class NotifyService final : public nv1::NotifyService::Service {
 public:
  NotifyService(NotifyStore& store, const Clock& clock, NotifyMetrics& metrics,
                NotifyOptions options)
      : store_(store), clock_(clock), metrics_(metrics), options_(std::move(options)) {
    StartRecorder();
  }
  ~NotifyService() override;

  // The consumer's handler for every topic: inbox, projections, the rules' notifications, in
  // one transaction.
  absl::Status HandleEvent(const events::Record& record, const events::Envelope& env);
  // One pass of the sender over the e-mails due now; returns how many it attempted. Stops early
  // when the relay cannot be reached (the rest wait for the next pass).
  int SendDue(SmtpSender& smtp);
  // Reminders (jury closing; teams' committee due, no milestone, mission ending), the
  // coordinators' weekly picture and the digests whose hour has come; once per period each.
  absl::Status RunSchedules();
  // Digests of one cadence for everyone with notifications waiting; {digests, notifications}.
  absl::StatusOr<std::pair<int, int>> MakeDigests(int delivery);
  // The coordinators' picture of the week (once per ISO week; a weekly SendDigests runs it too).
  absl::Status PortfolioWeekly(absl::Time now);
  absl::Status RefreshBacklog();

  grpc::Status UpsertContact(grpc::ServerContext*, const nv1::UpsertContactRequest*,
                             nv1::Contact*) override;
  grpc::Status ListContacts(grpc::ServerContext*, const nv1::ListContactsRequest*,
                            nv1::ListContactsResponse*) override;
  grpc::Status EraseContact(grpc::ServerContext*, const nv1::EraseContactRequest*,
                            nv1::EraseContactResponse*) override;
  grpc::Status ListNotifications(grpc::ServerContext*, const nv1::ListNotificationsRequest*,
                                 nv1::ListNotificationsResponse*) override;
  grpc::Status MarkRead(grpc::ServerContext*, const nv1::MarkReadRequest*,
                        nv1::MarkReadResponse*) override;
  grpc::Status GetPreferences(grpc::ServerContext*, const nv1::GetPreferencesRequest*,
                              nv1::Preferences*) override;
  grpc::Status SetPreferences(grpc::ServerContext*, const nv1::SetPreferencesRequest*,
                              nv1::Preferences*) override;
  grpc::Status Unsubscribe(grpc::ServerContext*, const nv1::UnsubscribeRequest*,
                           nv1::UnsubscribeResponse*) override;
  grpc::Status ListUndeliverable(grpc::ServerContext*, const nv1::ListUndeliverableRequest*,
                                 nv1::ListUndeliverableResponse*) override;
  grpc::Status SendDigests(grpc::ServerContext*, const nv1::SendDigestsRequest*,
                           nv1::SendDigestsResponse*) override;
  grpc::Status Follow(grpc::ServerContext*, const nv1::FollowRequest*, nv1::FollowResponse*) override;
  grpc::Status Unfollow(grpc::ServerContext*, const nv1::UnfollowRequest*,
                        nv1::UnfollowResponse*) override;
  grpc::Status ListFollows(grpc::ServerContext*, const nv1::ListFollowsRequest*,
                           nv1::ListFollowsResponse*) override;

  // The e-mail of a mail row, as it will be sent (tests and the benchmark render with it).
  Mail Compose(const MailRow& m, const nv1::Contact& to,
               const std::vector<StoredNotification>& items) const;

 private:
  // Records one planned notification (once per dedup key) and queues what its delivery needs.
  absl::Status Make(NotifyTx& tx, const Planned& p, const std::string& cause_id,
                    const std::string& correlation_id, const std::string& dedup);
  // The author of a new idea with no address yet: the one they filed it with, from pep-ideas.
  absl::StatusOr<std::optional<nv1::Contact>> AuthorAddress(const events::Envelope& env,
                                                           const std::string& payload);
  absl::Status Project(NotifyTx& tx, const events::Envelope& env, const std::string& payload);
  // A call to another service as pep-notify (coordinator role, the gateway key, a 5 s deadline).
  void AsNotify(grpc::ClientContext& ctx) const;
  // The clock's parts (notify_clock.cc).
  absl::Status MakeReminders(NotifyTx& tx, const std::vector<Reminder>& reminders,
                             const std::string& subject_id);
  absl::Status TeamReminders(absl::Time now);
  absl::Status RunSchedulesOnce();

  absl::Status Tell(NotifyTx& tx, const std::vector<StoredNotification>& items, int channel,
                    const std::string& message_id);
  absl::StatusOr<auth::Principal> Caller(const grpc::ServerContext* ctx) const;
  absl::Status FillPreferences(NotifyTx& tx, const std::string& account, nv1::Preferences* out);

  struct Outcome {  // one e-mail's answer from the relay, for the recorder
    MailRow mail;
    std::vector<StoredNotification> items;
    SendResult result;
    std::string message_id;
    absl::Time at;
  };
  void StartRecorder();
  void Record(const std::vector<Outcome>& batch);

  NotifyStore& store_;
  const Clock& clock_;
  NotifyMetrics& metrics_;
  const NotifyOptions options_;
  // The recorder: outcomes handed over by SendDue, committed in groups by its own thread.
  absl::Mutex rec_mu_;
  std::vector<Outcome> queue_ ABSL_GUARDED_BY(rec_mu_);
  int unrecorded_ ABSL_GUARDED_BY(rec_mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(rec_mu_) = false;
  bool pass_ended_ ABSL_GUARDED_BY(rec_mu_) = false;  // the sender waits for the last records
  std::thread recorder_;
};

}  // namespace pep::notify
