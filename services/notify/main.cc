// pep-notify: wiring only — its parts in the order they start (ServiceMain stops them in
// reverse): store, outbox relay, the service, the consumer of every source topic, the sender
// thread, the schedules (reminders, digests, queue gauges), the gRPC server.
#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "common/config.h"
#include "server/service_main.h"
#include "services/notify/notify_service.h"
#include "services/notify/notify_store.h"
#include "services/notify/smtp_sender.h"

ABSL_FLAG(std::string, consumer_group, "pep-notify", "Kafka consumer group");
ABSL_FLAG(std::string, consumer_instance, "pep-notify-0",
          "Static member id in the consumer group (empty: dynamic membership)");
ABSL_FLAG(std::string, topics,
          "pepiniere.ideas.events,pepiniere.incubation.events,pepiniere.feedback.events",
          "Topics whose events may concern someone");
ABSL_FLAG(std::string, ideas_addr, "127.0.0.1:7101",
          "pep-ideas (the contact address of an idea whose author never signed in); empty: none");
ABSL_FLAG(std::string, feedback_addr, "127.0.0.1:7103",
          "pep-feedback (satisfaction bands for the coordinators' weekly picture); empty: none");
ABSL_FLAG(int, committee_notice_days, 30,
          "Teams are told a committee is due this many days before their phase's expected end");
ABSL_FLAG(std::string, smtp_url, "smtp://127.0.0.1:1025",
          "The SMTP relay: smtp://host:port (STARTTLS when offered) or smtps://host:port");
ABSL_FLAG(std::string, smtp_user, "", "SMTP user (empty: no authentication)");
ABSL_FLAG(std::string, smtp_password_file, "", "File holding the SMTP password");
ABSL_FLAG(bool, smtp_require_tls, false, "Refuse to send unless the relay speaks TLS");
ABSL_FLAG(std::string, smtp_ca_file, "", "CA certificates to verify the relay (else the system's)");
ABSL_FLAG(std::string, mail_from, "ne-pas-repondre@pepiniere.localhost", "Envelope and From address");
ABSL_FLAG(std::string, mail_from_name, "Pépinière", "From display name");
ABSL_FLAG(std::string, console_url, "http://127.0.0.1:8080",
          "The console's public address: links in messages and the unsubscribe link");
ABSL_FLAG(std::string, unsubscribe_key_file, "",
          "HMAC key of unsubscribe links (default <data_dir>/unsubscribe.key, made when absent)");
ABSL_FLAG(int, digest_hour, 8,
          "Hour (Europe/Paris) from which daily and weekly digests and the weekly picture go out; "
          "-1: only when asked (SendDigests), as the tests do to be independent of the clock");
ABSL_FLAG(absl::Duration, retry_max_delay, absl::Minutes(10),
          "Temporary SMTP failures are retried after 5 s, doubling up to this, for as long as it takes");
ABSL_FLAG(int, max_unrecorded, 2,
          "E-mails the relay took that may wait for their record (group commit) while the next go "
          "out; a crash re-sends at most this + 1 (same Message-IDs). 0: record each before the next");
ABSL_FLAG(absl::Duration, send_every, absl::Milliseconds(200), "Sender pass period");
ABSL_FLAG(absl::Duration, schedule_every, absl::Seconds(30), "Reminders and digests check period");

namespace {


// The unsubscribe key: read, or made once (32 random bytes, base64) so links outlive restarts.
absl::StatusOr<std::string> UnsubscribeKey(const std::string& path) {
  if (std::filesystem::exists(path)) {
    std::string key = pep::FirstLine(path);
    if (key.empty()) return absl::NotFoundError("unsubscribe_key_file: cannot read " + path);
    return key;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return absl::InternalError("RAND_bytes failed");
  const std::string key = absl::Base64Escape(std::string(reinterpret_cast<char*>(raw), sizeof raw));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << key << "\n";
    if (!out.flush()) return absl::InternalError("cannot write " + tmp);
  }
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(tmp, path);
  return key;
}

}  // namespace

int main(int argc, char** argv) {
  return pep::server::ServiceMain(
      {.name = "pep-notify",
       .defaults = {.grpc_port = 7105, .metrics_port = 9105, .data_dir = ".run/data/notify",
                    .max_receive_bytes = 256 << 10},
       .database_file = "notify.db"},
      argc, argv, [](pep::server::ServiceContext& ctx) -> absl::Status {
        const std::string db_url = ctx.DatabaseUrl("notify.db");
        auto store = pep::notify::NotifyStore::Open(db_url);
        if (!store.ok()) return store.status();
        auto& notify_store = ctx.Own("store", std::move(*store));
        auto relay = ctx.StartOutboxRelay(db_url);
        if (!relay.ok()) return relay.status();
        std::string key_file = absl::GetFlag(FLAGS_unsubscribe_key_file);
        if (key_file.empty()) key_file = ctx.DataPath("unsubscribe.key");
        auto key = UnsubscribeKey(key_file);
        if (!key.ok()) return key.status();
        pep::notify::SmtpOptions smtp{.url = absl::GetFlag(FLAGS_smtp_url),
                                      .user = absl::GetFlag(FLAGS_smtp_user),
                                      .require_tls = absl::GetFlag(FLAGS_smtp_require_tls),
                                      .ca_file = absl::GetFlag(FLAGS_smtp_ca_file)};
        if (const std::string f = absl::GetFlag(FLAGS_smtp_password_file); !f.empty()) {
          smtp.password = pep::FirstLine(f);
          if (smtp.password.empty()) return absl::NotFoundError("smtp_password_file: cannot read " + f);
        }
        std::unique_ptr<pepiniere::ideas::v1::IdeaService::Stub> ideas;
        if (const std::string a = absl::GetFlag(FLAGS_ideas_addr); !a.empty()) {
          ideas = pepiniere::ideas::v1::IdeaService::NewStub(
              grpc::CreateChannel(a, grpc::InsecureChannelCredentials()));
        }
        auto* ideas_stub = ideas.get();
        if (ideas) ctx.Own("ideas-client", std::move(ideas));
        std::unique_ptr<pepiniere::feedback::v1::FeedbackService::Stub> feedback;
        if (const std::string a = absl::GetFlag(FLAGS_feedback_addr); !a.empty()) {
          feedback = pepiniere::feedback::v1::FeedbackService::NewStub(
              grpc::CreateChannel(a, grpc::InsecureChannelCredentials()));
        }
        auto* feedback_stub = feedback.get();
        if (feedback) ctx.Own("feedback-client", std::move(feedback));
        auto& metrics =
            ctx.Own("metrics", std::make_unique<pep::notify::NotifyMetrics>(ctx.registry()));
        auto& service = ctx.Own(
            "notify-service",
            std::make_unique<pep::notify::NotifyService>(
                notify_store, ctx.clock(), metrics,
                pep::notify::NotifyOptions{
                    .auth = {.insecure_dev = ctx.flags().insecure_dev,
                             .gateway_key = ctx.flags().gateway_key},
                    .console_url = absl::GetFlag(FLAGS_console_url),
                    .mail_from = absl::GetFlag(FLAGS_mail_from),
                    .mail_from_name = absl::GetFlag(FLAGS_mail_from_name),
                    .unsubscribe_key = *key,
                    .digest_hour = absl::GetFlag(FLAGS_digest_hour),
                    .max_unrecorded = std::max(0, absl::GetFlag(FLAGS_max_unrecorded)),
                    .retry_max_delay = absl::GetFlag(FLAGS_retry_max_delay),
                    .ideas = ideas_stub,
                    .feedback = feedback_stub,
                    .gateway_key = ctx.flags().gateway_key,
                    .staleness = pep::portfolio::StalenessFromFlags(),
                    .committee_notice =
                        absl::Hours(24 * std::max(0, absl::GetFlag(FLAGS_committee_notice_days)))}));
        auto consumer = ctx.StartConsumer(
            {.group_id = absl::GetFlag(FLAGS_consumer_group),
             .instance_id = absl::GetFlag(FLAGS_consumer_instance),
             .topics = absl::StrSplit(absl::GetFlag(FLAGS_topics), ',', absl::SkipEmpty())},
            [&service](const pep::events::Record& r, const pep::events::Envelope& e) {
              return service.HandleEvent(r, e);
            });
        if (!consumer.ok()) return consumer.status();
        // One sender thread, one SMTP handle (its connection reused from message to message).
        auto sender = std::make_shared<pep::notify::SmtpSender>(smtp);
        ctx.Every("sender", absl::GetFlag(FLAGS_send_every), [&service, sender, r = *relay] {
          if (service.SendDue(*sender) > 0) r->Notify();
        });
        ctx.EveryChecked("schedules", absl::GetFlag(FLAGS_schedule_every),
                         [&service] { return service.RunSchedules(); });
        ctx.EveryChecked("queue-gauges", absl::Seconds(5), [&service] { return service.RefreshBacklog(); });
        return ctx.Serve(&service, "pepiniere.notify.v1.NotifyService");
      });
}
