// pep-notify's tables (see notify_store.h).
#include "services/notify/notify_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "store/proto_rows.h"
#include "store/sqlite.h"

namespace pep::notify {

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
CREATE TABLE contacts (
  account_id   TEXT PRIMARY KEY,
  email        TEXT NOT NULL,
  display_name TEXT NOT NULL,
  roles        TEXT NOT NULL,   -- ",coordinator,juror,"
  scopes       TEXT NOT NULL,   -- ",startup:<id>,"
  updated_us   BIGINT NOT NULL
);
CREATE TABLE preferences (
  account_id TEXT NOT NULL,
  category   TEXT NOT NULL,
  delivery   INTEGER NOT NULL,
  PRIMARY KEY (account_id, category)
);
CREATE TABLE ideas (
  id           TEXT PRIMARY KEY,
  challenge_id TEXT NOT NULL,
  author_id    TEXT NOT NULL,
  title        TEXT NOT NULL,
  withdrawn    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ideas_by_challenge ON ideas(challenge_id);
CREATE TABLE challenges (
  id        TEXT PRIMARY KEY,
  title     TEXT NOT NULL,
  closes_us BIGINT,
  open      INTEGER NOT NULL,
  jurors    TEXT NOT NULL
);
CREATE TABLE scores (
  idea_id  TEXT NOT NULL,
  juror_id TEXT NOT NULL,
  PRIMARY KEY (idea_id, juror_id)
);
CREATE TABLE startups (
  id      TEXT PRIMARY KEY,
  name    TEXT NOT NULL,
  idea_id TEXT NOT NULL
);
CREATE TABLE notifications (
  id             TEXT PRIMARY KEY,
  dedup          TEXT NOT NULL UNIQUE,
  recipient_id   TEXT NOT NULL,
  subject_type   TEXT NOT NULL,
  cause_id       TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  delivery       INTEGER NOT NULL,
  digest_id      TEXT,
  read_us        BIGINT,
  data           BLOB NOT NULL
);
CREATE INDEX notifications_by_recipient ON notifications(recipient_id, id);
CREATE INDEX notifications_by_digest ON notifications(digest_id);
CREATE TABLE mails (
  id           TEXT PRIMARY KEY,
  recipient_id TEXT NOT NULL,
  kind         TEXT NOT NULL,   -- single | daily | weekly
  rule         TEXT NOT NULL,   -- the notification's rule, or digest_daily / digest_weekly
  state        INTEGER NOT NULL,
  attempts     INTEGER NOT NULL,
  next_us      BIGINT NOT NULL,
  created_us   BIGINT NOT NULL,
  done_us      BIGINT,
  smtp_code    INTEGER NOT NULL DEFAULT 0,
  error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mails_due ON mails(state, next_us);
CREATE TABLE schedules (
  job    TEXT PRIMARY KEY,
  period TEXT NOT NULL
);
)sql"},
      {2, store::OutboxSchemaSql(), store::PostgresOutboxSql()},
      {3, store::InboxSchemaSql(), store::PostgresInboxSql()},
      {4, store::OutboxV2Sql(), store::kNothingOnPostgres},
      {5, "ALTER TABLE contacts ADD COLUMN source TEXT NOT NULL DEFAULT 'sign-in'"},
      {6, R"sql(
ALTER TABLE startups ADD COLUMN phase INTEGER NOT NULL DEFAULT 0;
ALTER TABLE startups ADD COLUMN phase_start_us BIGINT;
ALTER TABLE startups ADD COLUMN first_start_us BIGINT;
ALTER TABLE startups ADD COLUMN last_milestone_us BIGINT;
ALTER TABLE startups ADD COLUMN last_committee_us BIGINT;
ALTER TABLE startups ADD COLUMN has_feedback INTEGER NOT NULL DEFAULT 0;
CREATE TABLE members (
  startup_id TEXT NOT NULL,
  member_id  TEXT NOT NULL,
  name       TEXT NOT NULL,
  end_us     BIGINT,
  PRIMARY KEY (startup_id, member_id)
);
CREATE TABLE decisions (
  id         TEXT PRIMARY KEY,
  startup_id TEXT NOT NULL,
  outcome    INTEGER NOT NULL,
  date_us    BIGINT NOT NULL,
  used       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE follows (
  account_id   TEXT NOT NULL,
  subject_type TEXT NOT NULL,
  subject_id   TEXT NOT NULL,
  created_us   BIGINT NOT NULL,
  PRIMARY KEY (account_id, subject_type, subject_id)
);
CREATE INDEX follows_by_subject ON follows(subject_type, subject_id, created_us);
)sql"},
      {7, R"sql(
CREATE TABLE coauthors (
  idea_id    TEXT NOT NULL,
  account_id TEXT NOT NULL,
  PRIMARY KEY (idea_id, account_id)
);
)sql"},
      {8, "ALTER TABLE startups ADD COLUMN next_review_us BIGINT"},
      // The budget (issue 31): the state beside the start-up, its entries to count it again.
      {9, R"sql(
ALTER TABLE startups ADD COLUMN envelope_eur BIGINT NOT NULL DEFAULT 0;
ALTER TABLE startups ADD COLUMN budget_since_us BIGINT;
ALTER TABLE startups ADD COLUMN committed_eur BIGINT NOT NULL DEFAULT 0;
ALTER TABLE startups ADD COLUMN paid_eur BIGINT NOT NULL DEFAULT 0;
CREATE TABLE budget_entries (
  startup_id TEXT NOT NULL,
  entry_id   TEXT NOT NULL,
  date_us    BIGINT NOT NULL,
  kind       BIGINT NOT NULL,
  amount_eur BIGINT NOT NULL,
  PRIMARY KEY (startup_id, entry_id)
);
)sql"},
  };
  return *m;
}

int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromUs(int64_t us) { return absl::FromUnixMicros(us); }

std::string Listed(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return items.empty() ? "," : absl::StrCat(",", absl::StrJoin(items, ","), ",");
}

absl::StatusOr<StoredNotification> NotificationRow(store::Stmt& q) {
  // columns: recipient_id, subject_type, cause_id, correlation_id, delivery, read_us, data
  auto n = store::ParseRow<nv1::Notification>(q.Text(6), "notification");
  if (!n.ok()) return n.status();
  StoredNotification s;
  s.n = std::move(*n);
  s.recipient_id = q.Text(0);
  s.subject_type = q.Text(1);
  s.cause_id = q.Text(2);
  s.correlation_id = q.Text(3);
  s.delivery = static_cast<int>(q.Int(4));
  if (!q.IsNull(5)) *s.n.mutable_read_at() = ToTimestamp(FromUs(q.Int(5)));
  return s;
}

constexpr char kNotificationColumns[] =
    "recipient_id, subject_type, cause_id, correlation_id, delivery, read_us, data";

absl::StatusOr<std::vector<StoredNotification>> AllNotifications(store::Stmt& q) {
  std::vector<StoredNotification> out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    auto s = NotificationRow(q);
    if (!s.ok()) return s.status();
    out.push_back(std::move(*s));
  }
}

}  // namespace

absl::Status NotifyTx::PutContact(const nv1::Contact& c) {
  auto q = db_.Prepare(
      "INSERT INTO contacts(account_id, email, display_name, roles, scopes, updated_us, source) "
      "VALUES (?,?,?,?,?,?,?) ON CONFLICT(account_id) DO UPDATE SET email = excluded.email, "
      "display_name = excluded.display_name, roles = excluded.roles, scopes = excluded.scopes, "
      "updated_us = excluded.updated_us, source = excluded.source");
  if (!q.ok()) return q.status();
  return q->Bind(1, c.account_id()).Bind(2, c.email()).Bind(3, c.display_name())
      .Bind(4, Listed(c.roles())).Bind(5, Listed(c.scopes()))
      .Bind(6, Us(FromTimestamp(c.updated_at()))).Bind(7, c.source()).Run();
}

namespace {
constexpr char kContactColumns[] =
    "account_id, email, display_name, roles, scopes, updated_us, source FROM contacts";
nv1::Contact ContactRow(store::Stmt& q) {
  nv1::Contact c;
  c.set_account_id(q.Text(0));
  c.set_email(q.Text(1));
  c.set_display_name(q.Text(2));
  for (auto r : absl::StrSplit(q.Text(3), ',', absl::SkipEmpty())) c.add_roles(std::string(r));
  for (auto s : absl::StrSplit(q.Text(4), ',', absl::SkipEmpty())) c.add_scopes(std::string(s));
  *c.mutable_updated_at() = ToTimestamp(FromUs(q.Int(5)));
  c.set_source(q.Text(6));
  return c;
}
}  // namespace

absl::StatusOr<std::optional<nv1::Contact>> NotifyTx::GetContact(const std::string& account_id) {
  auto q = db_.Prepare(absl::StrCat("SELECT ", kContactColumns, " WHERE account_id = ?"));
  if (!q.ok()) return q.status();
  q->Bind(1, account_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<nv1::Contact>();
  return std::optional<nv1::Contact>(ContactRow(*q));
}

absl::StatusOr<std::vector<nv1::Contact>> NotifyTx::Contacts() {
  auto q = db_.Prepare(absl::StrCat("SELECT ", kContactColumns, " ORDER BY account_id"));
  if (!q.ok()) return q.status();
  std::vector<nv1::Contact> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(ContactRow(*q));
  }
}

absl::StatusOr<int> NotifyTx::EraseContact(const std::string& account_id) {
  for (const char* sql : {"DELETE FROM contacts WHERE account_id = ?",
                          "DELETE FROM preferences WHERE account_id = ?",
                          "DELETE FROM follows WHERE account_id = ?",
                          // e-mails not sent yet have nobody to go to any more
                          "DELETE FROM mails WHERE recipient_id = ? AND state = 0"}) {
    auto q = db_.Prepare(sql);
    if (!q.ok()) return q.status();
    PEP_RETURN_IF_ERROR(q->Bind(1, account_id).Run());
  }
  auto q = db_.Prepare("DELETE FROM notifications WHERE recipient_id = ?");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, account_id).Run());
  return static_cast<int>(db_.Changes());
}

absl::StatusOr<int> NotifyTx::DeliveryOf(const std::string& account_id, const std::string& category) {
  auto q = db_.Prepare("SELECT delivery FROM preferences WHERE account_id = ? AND category = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, account_id).Bind(2, category);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (*row) return static_cast<int>(q->Int(0));
  const Category* c = FindCategory(category);
  return c ? c->default_delivery : static_cast<int>(nv1::DELIVERY_DAILY);
}

absl::Status NotifyTx::SetDelivery(const std::string& account_id, const std::string& category,
                                   int delivery) {
  auto q = db_.Prepare(
      "INSERT INTO preferences(account_id, category, delivery) VALUES (?,?,?) "
      "ON CONFLICT(account_id, category) DO UPDATE SET delivery = excluded.delivery");
  if (!q.ok()) return q.status();
  return q->Bind(1, account_id).Bind(2, category).Bind(3, int64_t{delivery}).Run();
}

absl::StatusOr<bool> NotifyTx::InsertNotification(const StoredNotification& s,
                                                  const std::string& dedup) {
  auto q = db_.Prepare(
      "INSERT INTO notifications(id, dedup, recipient_id, subject_type, cause_id, correlation_id, "
      "delivery, data) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(dedup) DO NOTHING");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, s.n.id()).Bind(2, dedup).Bind(3, s.recipient_id)
                          .Bind(4, s.subject_type).Bind(5, s.cause_id).Bind(6, s.correlation_id)
                          .Bind(7, int64_t{s.delivery}).BindBlob(8, s.n.SerializeAsString()).Run());
  return db_.Changes() == 1;
}

absl::StatusOr<std::vector<StoredNotification>> NotifyTx::ListFor(const std::string& account_id,
                                                                  const std::string& before_id,
                                                                  int limit, bool unread_only) {
  auto q = db_.Prepare(absl::StrCat(
      "SELECT ", kNotificationColumns, " FROM notifications WHERE recipient_id = ? AND (? = '' OR "
      "id < ?) AND (? = 0 OR read_us IS NULL) ORDER BY id DESC LIMIT ?"));
  if (!q.ok()) return q.status();
  q->Bind(1, account_id).Bind(2, before_id).Bind(3, before_id)
      .Bind(4, int64_t{unread_only ? 1 : 0}).Bind(5, int64_t{limit});
  return AllNotifications(*q);
}

absl::StatusOr<int> NotifyTx::UnreadCount(const std::string& account_id) {
  auto q = db_.Prepare(
      "SELECT COUNT(*) FROM notifications WHERE recipient_id = ? AND read_us IS NULL");
  if (!q.ok()) return q.status();
  q->Bind(1, account_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(q->Int(0));
}

absl::StatusOr<int> NotifyTx::MarkRead(const std::string& account_id,
                                       const std::vector<std::string>& ids, bool all,
                                       absl::Time now) {
  int marked = 0;
  if (all) {
    auto q = db_.Prepare(
        "UPDATE notifications SET read_us = ? WHERE recipient_id = ? AND read_us IS NULL");
    if (!q.ok()) return q.status();
    PEP_RETURN_IF_ERROR(q->Bind(1, Us(now)).Bind(2, account_id).Run());
    return static_cast<int>(db_.Changes());
  }
  auto q = db_.Prepare(
      "UPDATE notifications SET read_us = ? WHERE id = ? AND recipient_id = ? AND read_us IS NULL");
  if (!q.ok()) return q.status();
  for (const auto& id : ids) {
    q->Reset();
    PEP_RETURN_IF_ERROR(q->Bind(1, Us(now)).Bind(2, id).Bind(3, account_id).Run());
    marked += static_cast<int>(db_.Changes());
  }
  return marked;
}

absl::StatusOr<std::vector<StoredNotification>> NotifyTx::NotificationsOfMail(
    const std::string& mail_id) {
  auto q = db_.Prepare(absl::StrCat("SELECT ", kNotificationColumns,
                                    " FROM notifications WHERE id = ? OR digest_id = ? ORDER BY id"));
  if (!q.ok()) return q.status();
  q->Bind(1, mail_id).Bind(2, mail_id);
  return AllNotifications(*q);
}

absl::StatusOr<std::vector<std::string>> NotifyTx::DigestRecipients(int delivery) {
  auto q = db_.Prepare(
      "SELECT DISTINCT recipient_id FROM notifications WHERE delivery = ? AND digest_id IS NULL "
      "ORDER BY recipient_id");
  if (!q.ok()) return q.status();
  q->Bind(1, int64_t{delivery});
  std::vector<std::string> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(q->Text(0));
  }
}

absl::StatusOr<int> NotifyTx::AttachToDigest(const std::string& recipient, int delivery,
                                             const std::string& mail_id) {
  auto q = db_.Prepare(
      "UPDATE notifications SET digest_id = ? WHERE recipient_id = ? AND delivery = ? AND "
      "digest_id IS NULL");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, mail_id).Bind(2, recipient).Bind(3, int64_t{delivery}).Run());
  return static_cast<int>(db_.Changes());
}

absl::Status NotifyTx::InsertMail(const MailRow& m) {
  auto q = db_.Prepare(
      "INSERT INTO mails(id, recipient_id, kind, rule, state, attempts, next_us, created_us) "
      "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING");
  if (!q.ok()) return q.status();
  return q->Bind(1, m.id).Bind(2, m.recipient_id).Bind(3, m.kind).Bind(4, m.rule)
      .Bind(5, int64_t{m.state}).Bind(6, int64_t{m.attempts}).Bind(7, Us(m.next_attempt))
      .Bind(8, Us(m.created)).Run();
}

absl::StatusOr<std::vector<MailRow>> NotifyTx::DueMails(absl::Time now, int limit) {
  auto q = db_.Prepare(
      "SELECT id, recipient_id, kind, attempts, next_us, created_us, rule FROM mails WHERE state = 0 "
      "AND next_us <= ? ORDER BY next_us, id LIMIT ?");
  if (!q.ok()) return q.status();
  q->Bind(1, Us(now)).Bind(2, int64_t{limit});
  std::vector<MailRow> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    MailRow m;
    m.id = q->Text(0);
    m.recipient_id = q->Text(1);
    m.kind = q->Text(2);
    m.attempts = static_cast<int>(q->Int(3));
    m.next_attempt = FromUs(q->Int(4));
    m.created = FromUs(q->Int(5));
    m.rule = q->Text(6);
    out.push_back(std::move(m));
  }
}

absl::Status NotifyTx::MailSent(const std::string& id, int state, int smtp_code,
                                const std::string& error, absl::Time now) {
  auto q = db_.Prepare(
      "UPDATE mails SET state = ?, done_us = ?, smtp_code = ?, error = ?, attempts = attempts + 1 "
      "WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, int64_t{state}).Bind(2, Us(now)).Bind(3, int64_t{smtp_code}).Bind(4, error)
      .Bind(5, id).Run();
}

absl::Status NotifyTx::MailRetry(const std::string& id, int attempts, absl::Time next,
                                 int smtp_code, const std::string& error) {
  auto q = db_.Prepare(
      "UPDATE mails SET attempts = ?, next_us = ?, smtp_code = ?, error = ? WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, int64_t{attempts}).Bind(2, Us(next)).Bind(3, int64_t{smtp_code})
      .Bind(4, error).Bind(5, id).Run();
}

absl::StatusOr<std::vector<nv1::Undeliverable>> NotifyTx::Undeliverable(int limit) {
  auto q = db_.Prepare(
      "SELECT id, recipient_id, smtp_code, error, done_us, rule FROM mails "
      "WHERE state = 2 ORDER BY done_us DESC LIMIT ?");
  if (!q.ok()) return q.status();
  q->Bind(1, int64_t{limit});
  std::vector<nv1::Undeliverable> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    nv1::Undeliverable u;
    u.set_notification_id(q->Text(0));
    u.set_account_id(q->Text(1));
    u.set_smtp_code(static_cast<int>(q->Int(2)));
    u.set_error(q->Text(3));
    if (!q->IsNull(4)) *u.mutable_failed_at() = ToTimestamp(FromUs(q->Int(4)));
    u.set_rule(q->Text(5));
    out.push_back(std::move(u));
  }
  return out;
}

absl::StatusOr<std::vector<Backlog>> NotifyTx::Backlogs() {
  auto q = db_.Prepare(
      "SELECT rule, COUNT(*), MIN(created_us) FROM mails WHERE state = 0 GROUP BY rule ORDER BY rule");
  if (!q.ok()) return q.status();
  std::vector<Backlog> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({q->Text(0), q->Int(1), FromUs(q->Int(2))});
  }
}

absl::StatusOr<std::string> NotifyTx::LastPeriod(const std::string& job) {
  auto q = db_.Prepare("SELECT period FROM schedules WHERE job = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, job);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return *row ? q->Text(0) : std::string();
}

absl::Status NotifyTx::SetLastPeriod(const std::string& job, const std::string& period) {
  auto q = db_.Prepare(
      "INSERT INTO schedules(job, period) VALUES (?,?) ON CONFLICT(job) DO UPDATE SET "
      "period = excluded.period");
  if (!q.ok()) return q.status();
  return q->Bind(1, job).Bind(2, period).Run();
}

absl::StatusOr<bool> NotifyTx::RecordInbox(const std::string& ce_id, const std::string& topic,
                                           absl::Time now) {
  return store::RecordInInbox(db_, ce_id, topic, now);
}

absl::Status NotifyTx::Emit(const std::string& aggregate_id, const std::string& correlation_id,
                            const std::string& causation_id,
                            const google::protobuf::Message& payload, absl::Time now) {
  return store::EmitEvent(db_,
                          {.topic = kTopic,
                           .source = kSource,
                           .aggregate_id = aggregate_id,
                           .correlation_id = correlation_id.empty() ? aggregate_id : correlation_id,
                           .causation_id = causation_id,
                           .aggregate_version = 1,  // a notification is told once
                           .actor = "pep-notify",
                           .effective_time = now,
                           .recorded_time = now},
                          payload);
}

absl::StatusOr<std::unique_ptr<NotifyStore>> NotifyStore::Open(const std::string& database_url) {
  auto db = store::Db::Connect(database_url);
  if (!db.ok()) return db.status();
  if (auto s = (*db)->Migrate(Migrations()); !s.ok()) return s;
  return std::unique_ptr<NotifyStore>(new NotifyStore(std::move(*db)));
}

absl::Status NotifyStore::Write(const std::function<absl::Status(NotifyTx&)>& fn) {
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  NotifyTx ntx(*db_);
  if (auto s = fn(ntx); !s.ok()) return s;
  return tx.Commit();
}

absl::Status NotifyStore::Read(const std::function<absl::Status(NotifyTx&)>& fn) {
  absl::MutexLock l(&mu_);
  NotifyTx ntx(*db_);
  return fn(ntx);
}

}  // namespace pep::notify
