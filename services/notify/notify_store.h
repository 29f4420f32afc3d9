// pep-notify's store: the address book (the only place e-mail addresses live), preferences,
// what it projects of the platform to know who is concerned (ideas, challenges, scores,
// start-ups), the notifications, the e-mails to send, and outbox/inbox in the same transactions.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "pepiniere/notify/v1/notify.pb.h"
#include "services/notify/notify_rules.h"
#include "store/db.h"

namespace pep::notify {

namespace nv1 = ::pepiniere::notify::v1;

inline constexpr char kTopic[] = "pepiniere.notify.events";
inline constexpr char kSource[] = "/pepiniere/notify";

// A notification as stored (the console's list and the e-mail's content).
struct StoredNotification {
  nv1::Notification n;
  std::string recipient_id, subject_type, cause_id, correlation_id;
  int delivery = 0;  // nv1::Delivery chosen when it was made
};

// An e-mail waiting to be sent, or sent, or refused for good.
struct MailRow {
  enum State { kPending = 0, kSent = 1, kUndeliverable = 2, kNoAddress = 3 };
  std::string id, recipient_id, kind;  // kind: "single" | "daily" | "weekly"
  std::string rule;                    // the notification's, or "digest_daily" / "digest_weekly"
  int state = kPending;
  int attempts = 0;
  absl::Time next_attempt, created;
};

struct Backlog {
  std::string rule;
  int64_t pending = 0;
  absl::Time oldest;
};

class NotifyTx : public Directory {
 public:
  explicit NotifyTx(store::Db& db) : db_(db) {}

  // Directory (for the rules).
  std::optional<IdeaInfo> Idea(const std::string& id) override;
  std::optional<ChallengeInfo> Challenge(const std::string& id) override;
  std::optional<StartupInfo> Startup(const std::string& id) override;
  std::vector<std::string> Team(const std::string& startup_id) override;
  int UnscoredBy(const std::string& challenge_id, const std::string& juror_id) override;

  // Projections.
  absl::Status PutIdea(const IdeaInfo& idea);
  absl::Status SetIdeaWithdrawn(const std::string& id);
  absl::Status PutChallenge(const ChallengeInfo& c);
  absl::Status PutScore(const std::string& idea_id, const std::string& juror_id);
  absl::Status PutStartup(const StartupInfo& s);
  absl::StatusOr<std::vector<ChallengeInfo>> OpenChallenges();

  // Address book and preferences.
  absl::Status PutContact(const nv1::Contact& c);
  absl::StatusOr<std::optional<nv1::Contact>> GetContact(const std::string& account_id);
  absl::StatusOr<std::vector<nv1::Contact>> Contacts();
  absl::StatusOr<int> EraseContact(const std::string& account_id);
  // The delivery of `category` for the account: its choice, else the category's default.
  absl::StatusOr<int> DeliveryOf(const std::string& account_id, const std::string& category);
  absl::Status SetDelivery(const std::string& account_id, const std::string& category, int delivery);

  // Notifications. Insert returns false when `dedup` is taken (the same cause told already).
  absl::StatusOr<bool> InsertNotification(const StoredNotification& s, const std::string& dedup);
  absl::StatusOr<std::vector<StoredNotification>> ListFor(const std::string& account_id,
                                                          const std::string& before_id, int limit,
                                                          bool unread_only);
  absl::StatusOr<int> UnreadCount(const std::string& account_id);
  absl::StatusOr<int> MarkRead(const std::string& account_id, const std::vector<std::string>& ids,
                               bool all, absl::Time now);
  absl::StatusOr<std::vector<StoredNotification>> NotificationsOfMail(const std::string& mail_id);
  // Recipients with notifications of `delivery` waiting for a digest.
  absl::StatusOr<std::vector<std::string>> DigestRecipients(int delivery);
  // Ties every waiting notification of (recipient, delivery) to the digest mail; returns how many.
  absl::StatusOr<int> AttachToDigest(const std::string& recipient, int delivery,
                                     const std::string& mail_id);

  // E-mails.
  absl::Status InsertMail(const MailRow& m);
  absl::StatusOr<std::vector<MailRow>> DueMails(absl::Time now, int limit);
  absl::Status MailSent(const std::string& id, int state, int smtp_code, const std::string& error,
                        absl::Time now);
  absl::Status MailRetry(const std::string& id, int attempts, absl::Time next, int smtp_code,
                         const std::string& error);
  absl::StatusOr<std::vector<nv1::Undeliverable>> Undeliverable(int limit);
  // Pending e-mails per rule: how many, and when the oldest was made.
  absl::StatusOr<std::vector<Backlog>> Backlogs();

  // Schedules: the last period a job ran for ("digest:daily" -> "2026-12-07").
  absl::StatusOr<std::string> LastPeriod(const std::string& job);
  absl::Status SetLastPeriod(const std::string& job, const std::string& period);

  absl::StatusOr<bool> RecordInbox(const std::string& ce_id, const std::string& topic, absl::Time now);
  absl::Status Emit(const std::string& aggregate_id, const std::string& correlation_id,
                    const std::string& causation_id, const google::protobuf::Message& payload,
                    absl::Time now);

 private:
  store::Db& db_;
};

class NotifyStore {
 public:
  static absl::StatusOr<std::unique_ptr<NotifyStore>> Open(const std::string& database_url);
  absl::Status Write(const std::function<absl::Status(NotifyTx&)>& fn);
  absl::Status Read(const std::function<absl::Status(NotifyTx&)>& fn);

 private:
  explicit NotifyStore(std::unique_ptr<store::Db> db) : db_(std::move(db)) {}
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pep::notify
