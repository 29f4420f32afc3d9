// pep-notify's flow: events become notifications, notifications become e-mails, the clock makes
// reminders and digests. How a send and its record are tied: an e-mail is a row of `mails`
// written in the same transaction as its notifications (so a redelivered event, which finds its
// ce_id in the inbox and its dedup keys taken, makes none again); the sender takes pending rows,
// hands each to the relay with a Message-ID made of the row's id (the same on every attempt),
// and marks it sent — with the NotificationSent events in the outbox — in one transaction after
// the relay's 250 (a recorder thread commits the outcomes in groups while the next e-mails go
// out). The window left: a crash between a 250 and its commit sends that e-mail again on restart,
// with the same Message-ID — at most max_unrecorded + 1 e-mails (the sender waits beyond that).
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/notify/v1/events.pb.h"
#include "services/notify/notify_mail.h"
#include "services/notify/notify_service.h"

namespace pep::notify {

namespace {
namespace iv1 = ::pepiniere::ideas::v1;
namespace incv1 = ::pepiniere::incubation::v1;
}  // namespace

NotifyMetrics::NotifyMetrics(prometheus::Registry& r)
    : made_(&prometheus::BuildCounter()
                 .Name("pep_notify_notifications_total")
                 .Help("Notifications made (one per person and cause), by rule.")
                 .Register(r)),
      sent_(&prometheus::BuildCounter()
                 .Name("pep_notify_emails_sent_total")
                 .Help("E-mails the relay accepted, by rule (digest_daily, digest_weekly for digests).")
                 .Register(r)),
      failed_(&prometheus::BuildCounter()
                   .Name("pep_notify_email_failures_total")
                   .Help("Attempts the relay refused or that could not reach it, by rule and kind "
                         "(temporary: retried; permanent: undeliverable).")
                   .Register(r)),
      retried_(&prometheus::BuildCounter()
                    .Name("pep_notify_emails_retried_total")
                    .Help("E-mails put back for a later attempt after a temporary failure, by rule.")
                    .Register(r)),
      undeliverable_(&prometheus::BuildCounter()
                          .Name("pep_notify_emails_undeliverable_total")
                          .Help("E-mails refused for good (5xx), recorded and shown to coordinators.")
                          .Register(r)),
      depth_(&prometheus::BuildGauge()
                  .Name("pep_notify_queue_depth")
                  .Help("E-mails waiting to be sent, by rule.")
                  .Register(r)),
      age_(&prometheus::BuildGauge()
                .Name("pep_notify_queue_oldest_age_seconds")
                .Help("Age of the oldest e-mail waiting to be sent, by rule (0: none waiting).")
                .Register(r)),
      schedule_runs_(&prometheus::BuildCounter()
                          .Name("pep_notify_schedule_runs_total")
                          .Help("Passes of the clock (reminders, weekly picture, digests) that completed.")
                          .Register(r)
                          .Add({})) {
  // Every series from the start, at 0: rates and alerts see a counter before its first event.
  std::vector<std::string> rules = {"digest_daily", "digest_weekly"};
  for (const Rule& rule : Rules()) rules.push_back(rule.name);
  absl::MutexLock l(&mu_);
  for (const auto& rule : rules) {
    if (rule.rfind("digest_", 0) != 0) Made(rule);
    Sent(rule);
    Failed(rule, "temporary");
    Failed(rule, "permanent");
    Retried(rule);
    Undeliverable(rule);
    depth_->Add({{"rule", rule}}).Set(0);
    age_->Add({{"rule", rule}}).Set(0);
    seen_rules_[rule] = false;
  }
}

void NotifyMetrics::SetBacklog(const std::vector<Backlog>& backlog, absl::Time now) {
  absl::MutexLock l(&mu_);
  for (auto& [rule, present] : seen_rules_) present = false;
  for (const auto& b : backlog) {
    seen_rules_[b.rule] = true;
    depth_->Add({{"rule", b.rule}}).Set(static_cast<double>(b.pending));
    age_->Add({{"rule", b.rule}}).Set(std::max(0.0, absl::ToDoubleSeconds(now - b.oldest)));
  }
  for (const auto& [rule, present] : seen_rules_) {
    if (present) continue;
    depth_->Add({{"rule", rule}}).Set(0);
    age_->Add({{"rule", rule}}).Set(0);
  }
}

void NotifyService::AsNotify(grpc::ClientContext& ctx) const {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ctx.AddMetadata("x-pep-actor", "pep-notify");
  ctx.AddMetadata("x-pep-roles", "coordinator");
  if (!options_.gateway_key.empty()) ctx.AddMetadata("x-pep-gateway-key", options_.gateway_key);
}

absl::StatusOr<std::optional<nv1::Contact>> NotifyService::AuthorAddress(
    const events::Envelope& env, const std::string& payload) {
  using None = std::optional<nv1::Contact>;
  if (env.type != "pepiniere.ideas.v1.IdeaSubmitted" || options_.ideas == nullptr) return None();
  iv1::IdeaSubmitted ev;
  if (!ev.ParseFromString(payload) || ev.idea().author_id().empty()) return None();
  bool known = false;
  PEP_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) -> absl::Status {
    auto c = tx.GetContact(ev.idea().author_id());
    if (!c.ok()) return c.status();
    known = c->has_value();
    return absl::OkStatus();
  }));
  if (known) return None();
  grpc::ClientContext ctx;  // outside the transaction: no lock is held across the network
  AsNotify(ctx);
  iv1::GetIdeaRequest req;
  req.set_idea_id(ev.idea().id());
  iv1::Idea idea;
  grpc::Status s = options_.ideas->GetIdea(&ctx, req, &idea);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND || s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    LogWarn("no contact address for an idea's author", {{"idea", ev.idea().id()}, {"error", s.error_message()}});
    return None();
  }
  if (!s.ok()) {  // pep-ideas down: the event is retried (the consumer waits for it)
    return absl::UnavailableError(absl::StrCat("pep-ideas (author's address): ", s.error_message()));
  }
  if (idea.contact_email().empty()) return None();
  nv1::Contact c;
  c.set_account_id(ev.idea().author_id());
  c.set_email(idea.contact_email());
  c.set_display_name(idea.author_name());
  c.add_roles("agent");
  c.set_source("idea");
  *c.mutable_updated_at() = ToTimestamp(clock_.Now());
  return std::optional<nv1::Contact>(std::move(c));
}

absl::Status NotifyService::HandleEvent(const events::Record& record, const events::Envelope& env) {
  auto author = AuthorAddress(env, record.value);
  if (!author.ok()) return author.status();
  return store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto fresh = tx.RecordInbox(env.id, record.topic, clock_.Now());
    if (!fresh.ok()) return fresh.status();
    if (!*fresh) return absl::OkStatus();  // handled before (redelivery)
    if (author->has_value()) {
      auto now_known = tx.GetContact((*author)->account_id());
      if (!now_known.ok()) return now_known.status();
      if (!now_known->has_value()) PEP_RETURN_IF_ERROR(tx.PutContact(**author));
    }
    PEP_RETURN_IF_ERROR(Project(tx, env, record.value));
    for (const Planned& p : ForEvent(env, record.value, tx)) {
      PEP_RETURN_IF_ERROR(
          Make(tx, p, env.id, env.correlation_id, absl::StrCat(p.rule, "|", env.id, "|", p.recipient_id)));
    }
    return absl::OkStatus();
  });
}

absl::Status NotifyService::Make(NotifyTx& tx, const Planned& p, const std::string& cause_id,
                                 const std::string& correlation_id, const std::string& dedup) {
  const absl::Time now = clock_.Now();
  auto delivery = tx.DeliveryOf(p.recipient_id, p.category);
  if (!delivery.ok()) return delivery.status();
  StoredNotification s;
  s.n.set_id(NewUuidV7(now));
  s.n.set_rule(p.rule);
  s.n.set_category(p.category);
  s.n.set_title(p.title);
  s.n.set_body(p.body);
  s.n.set_link(p.link);
  s.n.set_subject_id(p.subject_id);
  *s.n.mutable_created_at() = ToTimestamp(now);
  s.recipient_id = p.recipient_id;
  s.subject_type = p.subject_type;
  s.cause_id = cause_id;
  s.correlation_id = correlation_id;
  s.delivery = *delivery;
  auto inserted = tx.InsertNotification(s, dedup);
  if (!inserted.ok()) return inserted.status();
  if (!*inserted) return absl::OkStatus();  // this person was told of this cause already
  metrics_.Made(p.rule).Increment();
  if (*delivery == nv1::DELIVERY_NONE) return Tell(tx, {s}, nv1::CHANNEL_CONSOLE, "");
  if (*delivery == nv1::DELIVERY_IMMEDIATE) {
    return tx.InsertMail({.id = s.n.id(), .recipient_id = p.recipient_id, .kind = "single",
                          .rule = p.rule, .next_attempt = now, .created = now});
  }
  return absl::OkStatus();  // waits for its digest
}

absl::Status NotifyService::Tell(NotifyTx& tx, const std::vector<StoredNotification>& items,
                                 int channel, const std::string& message_id) {
  const absl::Time now = clock_.Now();
  for (const auto& s : items) {
    nv1::NotificationSent ev;
    ev.set_notification_id(s.n.id());
    ev.set_recipient_id(s.recipient_id);
    ev.set_rule(s.n.rule());
    ev.set_subject_type(s.subject_type);
    ev.set_subject_id(s.n.subject_id());
    ev.set_cause_event_id(s.cause_id);
    ev.set_channel(static_cast<nv1::Channel>(channel));
    ev.set_message_id(message_id);
    PEP_RETURN_IF_ERROR(tx.Emit(s.n.id(), s.correlation_id,
                                absl::StartsWith(s.cause_id, "reminder:") ? "" : s.cause_id, ev, now));
  }
  return absl::OkStatus();
}

Mail NotifyService::Compose(const MailRow& m, const nv1::Contact& to,
                            const std::vector<StoredNotification>& items) const {
  Mail mail;
  mail.message_id = absl::StrCat("<", m.id, "@", options_.message_id_domain, ">");
  mail.from_address = options_.mail_from;
  mail.from_name = options_.mail_from_name;
  mail.to_address = to.email();
  mail.to_name = to.display_name();
  mail.date = clock_.Now();
  for (const auto& s : items) {
    mail.items.push_back({s.n.title(), s.n.body(), absl::StrCat(options_.console_url, s.n.link())});
  }
  std::string category = items.empty() ? "" : items.front().n.category();
  if (m.kind == "single") {
    mail.subject = items.empty() ? "Pépinière" : items.front().n.title();
  } else {
    const bool daily = m.kind == "daily";
    mail.subject = absl::StrCat(daily ? "Votre point du jour" : "Votre point de la semaine",
                                " sur Pépinière : ", items.size(),
                                items.size() == 1 ? " nouvelle" : " nouvelles");
    mail.intro = absl::StrCat("Voici ce qui s'est passé ", daily ? "depuis hier" : "cette semaine",
                              " dans ce qui vous concerne.");
    for (const auto& s : items) {
      if (s.n.category() != category) category.clear();  // several: the link unsubscribes all
    }
  }
  const std::string token = SignUnsubscribe(options_.unsubscribe_key, to.account_id(),
                                            category.empty() ? "*" : category,
                                            clock_.Now() + options_.unsubscribe_ttl);
  mail.unsubscribe_url =
      absl::StrCat(options_.console_url, "/v1/notifications/unsubscribe?token=", token);
  const Category* c = FindCategory(category);
  mail.unsubscribe_label = c ? c->label : "toutes les catégories";
  mail.settings_url = absl::StrCat(options_.console_url, "/notifications");
  return mail;
}

void NotifyService::StartRecorder() {
  recorder_ = std::thread([this] {
    while (true) {
      std::vector<Outcome> batch;
      {
        absl::MutexLock l(&rec_mu_);
        rec_mu_.Await(absl::Condition(
            +[](NotifyService* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->rec_mu_) {
              return s->stop_ || !s->queue_.empty();
            },
            this));
        if (queue_.empty()) return;  // stopping, nothing left
        // Let a group gather before the commit (its fsync is most of the record's cost): as many
        // as the sender may hand over unrecorded, the end of its pass, or 5 ms — whichever first.
        // The window is unchanged: the sender still waits beyond max_unrecorded.
        rec_mu_.AwaitWithTimeout(absl::Condition(
            +[](NotifyService* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->rec_mu_) {
              return s->stop_ || s->pass_ended_ ||
                     static_cast<int>(s->queue_.size()) >= std::max(1, s->options_.max_unrecorded);
            },
            this), absl::Milliseconds(5));
        batch.swap(queue_);
      }
      Record(batch);
      absl::MutexLock l(&rec_mu_);
      unrecorded_ -= static_cast<int>(batch.size());
    }
  });
}

NotifyService::~NotifyService() {
  {
    absl::MutexLock l(&rec_mu_);
    stop_ = true;
  }
  if (recorder_.joinable()) recorder_.join();
}

// The outcomes handed over since the last commit, in one transaction (group commit): the relay's
// answer for each, and for a sent one its NotificationSent events. Retried until it commits: an
// e-mail the relay took must not be left looking unsent longer than the store refuses writes.
void NotifyService::Record(const std::vector<Outcome>& batch) {
  absl::Status w;
  for (int attempt = 0;; ++attempt) {
    w = store_.Write([&](NotifyTx& tx) -> absl::Status {
      for (const Outcome& o : batch) {
        const MailRow& m = o.mail;
        const SendResult& r = o.result;
        const int channel = m.kind == "single" ? nv1::CHANNEL_EMAIL : nv1::CHANNEL_EMAIL_DIGEST;
        switch (r.kind) {
          case SendResult::Kind::kSent:
            PEP_RETURN_IF_ERROR(tx.MailSent(m.id, MailRow::kSent, r.smtp_code, "", o.at));
            PEP_RETURN_IF_ERROR(Tell(tx, o.items, channel, o.message_id));
            break;
          case SendResult::Kind::kPermanent:
            PEP_RETURN_IF_ERROR(tx.MailSent(m.id, MailRow::kUndeliverable, r.smtp_code, r.error, o.at));
            for (const auto& s : o.items) {
              nv1::NotificationUndeliverable ev;
              ev.set_notification_id(s.n.id());
              ev.set_recipient_id(s.recipient_id);
              ev.set_rule(s.n.rule());
              ev.set_smtp_code(r.smtp_code);
              PEP_RETURN_IF_ERROR(tx.Emit(s.n.id(), s.correlation_id, "", ev, o.at));
            }
            break;
          case SendResult::Kind::kTemporary:
            PEP_RETURN_IF_ERROR(tx.MailRetry(m.id, m.attempts + 1,
                                             o.at + RetryDelay(m.attempts + 1, options_.retry_max_delay),
                                             r.smtp_code, r.error));
            break;
        }
      }
      return absl::OkStatus();
    });
    if (w.ok()) break;
    LogWarn("recording e-mails' outcomes failed; retrying",
            {{"emails", absl::StrCat(batch.size())}, {"error", w.ToString()}});
    absl::SleepFor(std::min(absl::Seconds(5), absl::Milliseconds(100) * (attempt + 1)));
  }
  for (const Outcome& o : batch) {
    switch (o.result.kind) {
      case SendResult::Kind::kSent: metrics_.Sent(o.mail.rule).Increment(); break;
      case SendResult::Kind::kPermanent: metrics_.Undeliverable(o.mail.rule).Increment(); break;
      case SendResult::Kind::kTemporary: metrics_.Retried(o.mail.rule).Increment(); break;
    }
  }
}

int NotifyService::SendDue(SmtpSender& smtp) {
  // The batch read at once: the e-mails due, their recipients and their notifications.
  struct Due {
    MailRow mail;
    std::optional<nv1::Contact> to;
    std::vector<StoredNotification> items;
  };
  std::vector<Due> due;
  if (auto s = store_.Read([&](NotifyTx& tx) -> absl::Status {
        auto d = tx.DueMails(clock_.Now(), options_.send_batch);
        if (!d.ok()) return d.status();
        for (MailRow& m : *d) {
          Due x{std::move(m), std::nullopt, {}};
          auto c = tx.GetContact(x.mail.recipient_id);
          if (!c.ok()) return c.status();
          x.to = std::move(*c);
          auto n = tx.NotificationsOfMail(x.mail.id);
          if (!n.ok()) return n.status();
          x.items = std::move(*n);
          due.push_back(std::move(x));
        }
        return absl::OkStatus();
      });
      !s.ok()) {
    LogWarn("reading the e-mails due failed", {{"error", s.ToString()}});
    return 0;
  }
  int attempted = 0;
  for (Due& d : due) {
    if (!d.to || d.to->email().empty() || d.items.empty()) {
      // Nobody to write to (never signed in, or erased): the console shows it.
      (void)store_.Write([&](NotifyTx& tx) -> absl::Status {
        PEP_RETURN_IF_ERROR(tx.MailSent(d.mail.id, MailRow::kNoAddress, 0, "no address", clock_.Now()));
        return Tell(tx, d.items, nv1::CHANNEL_CONSOLE, "");
      });
      continue;
    }
    const Mail mail = Compose(d.mail, *d.to, d.items);
    ++attempted;
    // The relay's answer: the one moment an e-mail leaves. Its record follows (Record), and at
    // most max_unrecorded answers wait for it — the e-mails a crash now would hand over again.
    SendResult r = smtp.Send(options_.mail_from, d.to->email(), RenderMime(mail));
    const bool unreachable = r.kind == SendResult::Kind::kTemporary && r.smtp_code == 0;
    if (r.kind == SendResult::Kind::kPermanent) {
      metrics_.Failed(d.mail.rule, "permanent").Increment();
      LogWarn("e-mail refused for good", {{"mail", d.mail.id}, {"smtp_code", absl::StrCat(r.smtp_code)},
                                          {"error", r.error}});
    } else if (r.kind == SendResult::Kind::kTemporary) {
      metrics_.Failed(d.mail.rule, "temporary").Increment();
      if (unreachable) LogWarn("SMTP relay unreachable", {{"error", r.error}});
    }
    {
      absl::MutexLock l(&rec_mu_);
      queue_.push_back({std::move(d.mail), std::move(d.items), std::move(r), mail.message_id, clock_.Now()});
      ++unrecorded_;
      rec_mu_.Await(absl::Condition(
          +[](NotifyService* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->rec_mu_) {
            return s->unrecorded_ <= s->options_.max_unrecorded;
          },
          this));
    }
    if (unreachable) break;  // the others wait for the next pass
  }
  // Before the next pass reads what is due, every outcome of this one is recorded.
  absl::MutexLock l(&rec_mu_);
  pass_ended_ = true;
  rec_mu_.Await(absl::Condition(
      +[](NotifyService* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->rec_mu_) { return s->unrecorded_ == 0; },
      this));
  pass_ended_ = false;
  return attempted;
}

absl::Status NotifyService::RefreshBacklog() {
  return store_.Read([&](NotifyTx& tx) -> absl::Status {
    auto b = tx.Backlogs();
    if (!b.ok()) return b.status();
    metrics_.SetBacklog(*b, clock_.Now());
    return absl::OkStatus();
  });
}

}  // namespace pep::notify
