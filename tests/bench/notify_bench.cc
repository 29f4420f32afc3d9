// pep-notify-bench: a burst of notifications handed to a real SMTP server (Mailpit, from the
// harness), side by side with a baseline in the same run: a plain libcurl loop (the same
// SmtpSender, one connection reused) sending the same number of pre-rendered messages to the
// same server. pep-notify's side is the whole path after intake: the due e-mails read from its
// store, each rendered (French text + HTML, a signed unsubscribe link), handed over, and marked
// sent with its NotificationSent events in the outbox, one transaction per e-mail.
// The scene: the coordinator's challenge closes with 500 ideas and 4,500 agents following
// it. The 500 authors were told of their idea at once (« Mes idées »); the 4,500 followers get the
// closing in the next morning's digest (« Ce que je suis », daily by default): 5,000 e-mails.
// Usage: pep-notify-bench [N=5000] [MAX_UNRECORDED=2] [split] — N agents, a tenth of them authors
// (the intake is timed too). `split`: the SMTP server on one core and this process on the other
// (as a relay on its own machine would be), for both sides alike.
// Prints rates, their ratio, and the process's resident memory before and at the peak.
#include <sched.h>
#include <sys/resource.h>

#include <filesystem>

#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "common/uuid.h"
#include "harness/mailpit.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "prometheus/registry.h"
#include "services/notify/notify_mail.h"
#include "services/notify/notify_service.h"
#include "services/notify/smtp_sender.h"

namespace {

using namespace pep::notify;  // NOLINT: a benchmark's main

long RssKib(const char* field) {  // VmRSS or VmHWM from /proc/self/status
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(line.find(':') + 1));
  }
  return -1;
}

// Pins every thread of `pid` (0: this process) to one CPU.
void Pin(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const std::string dir = pid == 0 ? "/proc/self/task" : "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(dir)) {
    sched_setaffinity(std::stoi(t.path().filename().string()), sizeof set, &set);
  }
}

double CpuSeconds() {  // this process, every thread (the sender and the recorder included)
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Baseline(SmtpSender& smtp, const std::vector<std::pair<std::string, std::string>>& mails) {
  const absl::Time t0 = absl::Now();
  for (const auto& [to, mime] : mails) {
    if (smtp.Send("ne-pas-repondre@pepiniere.localhost", to, mime).kind != SendResult::Kind::kSent) {
      std::cerr << "baseline: send failed\n";
      std::exit(1);
    }
  }
  return mails.size() / absl::ToDoubleSeconds(absl::Now() - t0);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 5000;
  // pep-notify's --max_unrecorded (its default 2): e-mails handed over ahead of their record.
  const int max_unrecorded = argc > 2 ? std::atoi(argv[2]) : 2;
  pep::testing::TempDir dir;
  const bool split = argc > 3 && std::string(argv[3]) == "split";
  pep::testing::Mailpit mailpit;
  if (split) {  // before this process starts its own threads (the recorder), which inherit it
    Pin(mailpit.pid(), 1);
    Pin(0, 0);
  }
  auto store = NotifyStore::Open(dir.path() + "/notify.db");
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  prometheus::Registry registry;
  NotifyMetrics metrics(registry);
  NotifyService svc(**store, pep::SystemClock::Get(), metrics,
                    {.console_url = "http://127.0.0.1:8080", .unsubscribe_key = "clé de banc d'essai", .max_unrecorded = max_unrecorded});
  // The address book: n agents.
  (void)(*store)->Write([&](NotifyTx& tx) -> absl::Status {
    for (int i = 0; i < n; ++i) {
      pepiniere::notify::v1::Contact c;
      c.set_account_id(absl::StrCat("agent-", i));
      c.set_email(absl::StrCat("agent.", i, "@departement06.fr"));
      c.set_display_name(absl::StrCat("Agent n°", i, " — équipe voirie"));
      c.set_source("sign-in");
      if (auto s = tx.PutContact(c); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
  const long rss_before = RssKib("VmRSS:");

  // Intake: the challenge, a tenth of the agents submit an idea (each a receipt at once), the
  // others follow the challenge; then it closes (each follower told), and the morning's digests.
  const int authors = std::max(1, n / 10);
  auto handle = [&](const std::string& type, const std::string& actor, const std::string& subject,
                    const google::protobuf::Message& ev) {
    pep::events::Envelope env;
    env.id = pep::NewUuidV7(absl::Now());
    env.type = type;
    env.actor = actor;
    env.correlation_id = subject;
    env.time = env.effective_time = absl::Now();
    pep::events::Record rec{.topic = "pepiniere.ideas.events", .value = ev.SerializeAsString()};
    if (auto s = svc.HandleEvent(rec, env); !s.ok()) {
      std::cerr << "intake: " << s << "\n";
      std::exit(1);
    }
  };
  pepiniere::ideas::v1::ChallengeCreated created;
  created.mutable_challenge()->set_id("c1");
  created.mutable_challenge()->set_title("Simplifier la vie des agents — édition 2026");
  created.mutable_challenge()->set_status(pepiniere::ideas::v1::CHALLENGE_STATUS_OPEN);
  handle("pepiniere.ideas.v1.ChallengeCreated", "coord", "c1", created);
  (void)(*store)->Write([&](NotifyTx& tx) -> absl::Status {
    for (int i = authors; i < n; ++i) {
      auto f = tx.Follow(absl::StrCat("agent-", i), "challenge", "c1", absl::Now());
      if (!f.ok()) return f.status();
    }
    return absl::OkStatus();
  });
  absl::Time t0 = absl::Now();
  for (int i = 0; i < authors; ++i) {
    pepiniere::ideas::v1::IdeaSubmitted ev;
    auto* idea = ev.mutable_idea();
    idea->set_id(pep::NewUuidV7(absl::Now()));
    idea->set_challenge_id("c1");
    idea->set_author_id(absl::StrCat("agent-", i));
    idea->set_title(absl::StrCat("Idée n°", i, " : réparer la chaussée"));
    handle("pepiniere.ideas.v1.IdeaSubmitted", idea->author_id(), idea->id(), ev);
  }
  pepiniere::ideas::v1::ChallengeClosed closed;
  closed.set_challenge_id("c1");
  handle("pepiniere.ideas.v1.ChallengeClosed", "coord", "c1", closed);
  auto digests = svc.MakeDigests(pepiniere::notify::v1::DELIVERY_DAILY);
  if (!digests.ok() || digests->first != n - authors) {
    std::cerr << "digests: " << digests.status() << "\n";
    return 1;
  }
  const double intake = n / absl::ToDoubleSeconds(absl::Now() - t0);

  // The baseline's messages: the very e-mails pep-notify is about to send (read from its store
  // and rendered as its sender does), so the SMTP server has the same work on both sides.
  std::vector<std::pair<std::string, std::string>> pre;
  double render_us = 0;
  (void)(*store)->Read([&](NotifyTx& tx) -> absl::Status {
    auto due = tx.DueMails(absl::Now(), n);
    if (!due.ok()) return due.status();
    const absl::Time r0 = absl::Now();
    for (const MailRow& m : *due) {
      auto to = tx.GetContact(m.recipient_id);
      auto items = tx.NotificationsOfMail(m.id);
      if (!to.ok() || !to->has_value() || !items.ok()) return absl::InternalError("bench: a due e-mail without its parts");
      pre.emplace_back((*to)->email(), RenderMime(svc.Compose(m, **to, *items)));
    }
    render_us = absl::ToDoubleMicroseconds(absl::Now() - r0) / std::max<size_t>(1, due->size());
    return absl::OkStatus();
  });
  if (static_cast<int>(pre.size()) != n) {
    std::cerr << "bench: " << pre.size() << " e-mails due, want " << n << "\n";
    return 1;
  }
  size_t bytes = 0;
  for (const auto& [to, mime] : pre) bytes += mime.size();

  SmtpSender base_smtp({.url = mailpit.smtp_url()});
  double c0 = CpuSeconds();
  const double base1 = Baseline(base_smtp, pre);
  const double base_cpu_us = (CpuSeconds() - c0) * 1e6 / n;
  SmtpSender smtp({.url = mailpit.smtp_url()});
  c0 = CpuSeconds();
  t0 = absl::Now();
  int sent = 0;
  while (sent < n) {
    const int k = svc.SendDue(smtp);
    if (k == 0) break;
    sent += k;
  }
  const double notify = sent / absl::ToDoubleSeconds(absl::Now() - t0);
  const double notify_cpu_us = (CpuSeconds() - c0) * 1e6 / std::max(1, sent);
  const double base2 = Baseline(base_smtp, pre);
  const long hwm = RssKib("VmHWM:");
  const double base = (base1 + base2) / 2;
  std::printf("recipients=%d sent_by_pep_notify=%d max_unrecorded=%d%s\n", n, sent, max_unrecorded,
              split ? " (SMTP server on CPU 1, this process on CPU 0)" : "");
  std::printf("intake (%d receipts, the closing told to %d followers, their digests; durable): "
              "%.0f notifications/s\n", authors, n - authors, intake);
  std::printf("baseline (plain libcurl loop, pre-rendered): %.0f msg/s before, %.0f msg/s after\n", base1, base2);
  std::printf("pep-notify (read, render, sign, hand over, mark sent + events): %.0f msg/s\n", notify);
  std::printf("CPU of this process per e-mail: baseline %.0f us, pep-notify %.0f us (2 cores, shared "
              "with the SMTP server)\n", base_cpu_us, notify_cpu_us);
  std::printf("reading and rendering one e-mail (its rows, MIME text + HTML, signed link): %.0f us; "
              "%.0f bytes on average\n", render_us, static_cast<double>(bytes) / n);
  std::printf("ratio pep-notify/baseline: %.0f %%\n", 100.0 * notify / base);
  std::printf("resident memory: %ld KiB after the address book, peak %ld KiB\n", rss_before, hwm);
  return sent == n ? 0 : 1;
}
