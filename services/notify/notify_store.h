// pep-notify's store: the address book (the only place e-mail addresses live), preferences,
// what it projects of the platform to know who is concerned (ideas, challenges, scores,
// start-ups), the notifications, the e-mails to send, and outbox/inbox in the same transactions.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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

// The columns StartupRow reads, in its order.
inline constexpr char kStartupColumns[] =
    "id, name, idea_id, phase, phase_start_us, first_start_us, last_milestone_us, "
    "last_committee_us, has_feedback, next_review_us, envelope_eur, budget_since_us, committed_eur, paid_eur";
StartupInfo StartupRow(store::Stmt& q);  // a row of kStartupColumns

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
  absl::Status PutCoauthor(const std::string& idea_id, const std::string& account_id);
  absl::Status DeleteCoauthor(const std::string& idea_id, const std::string& account_id);
  absl::Status PutStartup(const StartupInfo& s);
  absl::StatusOr<std::vector<ChallengeInfo>> OpenChallenges();

  // The start-ups' lifecycle, team members and committee decisions (notify_store_projections.cc).
  absl::Status SetPhase(const std::string& startup_id, int phase, absl::Time start,
                        absl::Time first_start);  // first_start: InfinitePast keeps the stored one
  absl::Status SetLastMilestone(const std::string& startup_id, absl::Time at);  // the later wins
  // The later committee wins, and its next review (InfiniteFuture: none — a STOP, or an older
  // decision that set none) with it.
  absl::Status SetLastCommittee(const std::string& startup_id, absl::Time at, absl::Time next_review);
  absl::Status SetHasFeedback(const std::string& startup_id);
  absl::Status PutMember(const std::string& startup_id, const MemberInfo& m);
  // The budget (issue 31): an entry kept once (by its id); an envelope granted on `since` (the
  // latest-dated one wins); after each, the state is counted again from the entries.
  absl::Status PutBudgetEntry(const pepiniere::incubation::v1::BudgetEntry& e);
  absl::Status SetEnvelope(const std::string& startup_id, int32_t envelope_eur, absl::Time since);
  absl::Status EndMember(const std::string& startup_id, const std::string& member_id, absl::Time end);
  absl::StatusOr<std::vector<MemberInfo>> Members(const std::string& startup_id);
  absl::Status PutDecision(const std::string& id, const std::string& startup_id, int outcome,
                           absl::Time date);
  absl::Status UseDecision(const std::string& id);
  // Start-ups in a phase pep-notify knows that is not terminal (the clock rules' subjects).
  absl::StatusOr<std::vector<StartupInfo>> LiveStartups();
  // The weekly picture's facts from the store: overdue among `live` (by `policy` at `now`), ideas awaiting
  // scores, decisions not turned into phase changes (red bands come from pep-feedback).
  absl::StatusOr<PortfolioFacts> Portfolio(const std::vector<StartupInfo>& live, absl::Time now,
                                           const portfolio::StalenessPolicy& policy);
  absl::StatusOr<std::vector<std::string>> Coordinators();

  // Follows (an account following an idea, a challenge or a start-up).
  std::vector<std::string> Followers(const std::string& subject_type,
                                     const std::string& subject_id) override;
  absl::StatusOr<bool> Follow(const std::string& account_id, const std::string& subject_type,
                              const std::string& subject_id, absl::Time now);  // false: already
  absl::StatusOr<bool> Unfollow(const std::string& account_id, const std::string& subject_type,
                                const std::string& subject_id);  // false: was not
  absl::StatusOr<std::vector<nv1::Follow>> FollowsOf(const std::string& account_id);

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
  absl::Status RecountBudget(const std::string& startup_id,
                             std::optional<std::pair<int32_t, absl::Time>> envelope);
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
