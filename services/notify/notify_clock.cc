// pep-notify's clock: reminders (jury closing, the teams' committee due / no milestone / mission
// ending), the coordinators' weekly picture, and the digests — each once per period, the periods
// kept in the store so a restart neither skips nor repeats one.
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/feedback/v1/feedback.grpc.pb.h"
#include "services/notify/notify_service.h"

namespace pep::notify {

namespace {
namespace fv1 = ::pepiniere::feedback::v1;

const char* KindOf(int delivery) {
  return delivery == nv1::DELIVERY_WEEKLY ? "weekly" : delivery == nv1::DELIVERY_DAILY ? "daily" : "single";
}

}  // namespace

absl::Status NotifyService::MakeReminders(NotifyTx& tx, const std::vector<Reminder>& reminders,
                                          const std::string& subject_id) {
  for (const Reminder& r : reminders) {
    const std::string cause = absl::StrCat("reminder:", r.what.rule, ":", subject_id, ":", r.period);
    PEP_RETURN_IF_ERROR(Make(tx, r.what, cause, subject_id, absl::StrCat(cause, "|", r.what.recipient_id)));
  }
  return absl::OkStatus();
}

absl::Status NotifyService::TeamReminders(absl::Time now) {
  return store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto live = tx.LiveStartups();
    if (!live.ok()) return live.status();
    for (const StartupInfo& s : *live) {
      auto members = tx.Members(s.id);
      if (!members.ok()) return members.status();
      PEP_RETURN_IF_ERROR(MakeReminders(
          tx, notify::TeamReminders(s, *members, now, options_.staleness, options_.committee_notice, tx),
          s.id));
    }
    return absl::OkStatus();
  });
}

absl::Status NotifyService::PortfolioWeekly(absl::Time now) {
  const std::string job = "portfolio:weekly", period = WeeklyPeriod(now);
  PortfolioFacts facts;
  std::vector<std::string> coordinators;
  std::vector<StartupInfo> with_feedback;
  bool done = false;
  PEP_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) -> absl::Status {
    auto last = tx.LastPeriod(job);
    if (!last.ok()) return last.status();
    if (*last == period) {
      done = true;
      return absl::OkStatus();
    }
    auto live = tx.LiveStartups();
    if (!live.ok()) return live.status();
    auto f = tx.Portfolio(*live, now, options_.staleness);
    if (!f.ok()) return f.status();
    facts = std::move(*f);
    auto c = tx.Coordinators();
    if (!c.ok()) return c.status();
    coordinators = std::move(*c);
    for (auto& s : *live) {
      if (s.has_feedback) with_feedback.push_back(std::move(s));
    }
    return absl::OkStatus();
  }));
  if (done) return absl::OkStatus();
  // The bands are pep-feedback's (its threshold, its 12 months), asked outside any transaction.
  // Unreachable: the picture says so rather than waiting a week.
  if (options_.feedback != nullptr) {
    facts.red_known = true;
    for (const auto& s : with_feedback) {
      grpc::ClientContext ctx;
      AsNotify(ctx);
      fv1::GetSummaryRequest req;
      req.set_startup_id(s.id);
      fv1::Summary summary;
      grpc::Status st = options_.feedback->GetSummary(&ctx, req, &summary);
      if (!st.ok()) {
        LogWarn("satisfaction bands unavailable for the weekly picture",
                {{"startup", s.id}, {"error", st.error_message()}});
        facts.red_known = false;
        facts.red.clear();
        break;
      }
      if (summary.buckets_size() > 0 && summary.buckets(0).scores().band() == fv1::BAND_RED) {
        facts.red.push_back({s.id, s.name});
      }
    }
  }
  const auto reminders = notify::PortfolioWeekly(facts, coordinators, now);
  PEP_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    PEP_RETURN_IF_ERROR(MakeReminders(tx, reminders, "portfolio"));
    return tx.SetLastPeriod(job, period);
  }));
  LogInfo("weekly portfolio picture made",
          {{"period", period}, {"coordinators", absl::StrCat(coordinators.size())},
           {"overdue", absl::StrCat(facts.overdue.size())}, {"red", absl::StrCat(facts.red.size())}});
  return absl::OkStatus();
}

absl::StatusOr<std::pair<int, int>> NotifyService::MakeDigests(int delivery) {
  std::pair<int, int> made{0, 0};
  PEP_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto who = tx.DigestRecipients(delivery);
    if (!who.ok()) return who.status();
    const absl::Time now = clock_.Now();
    for (const auto& r : *who) {
      const std::string id = NewUuidV7(now);
      auto n = tx.AttachToDigest(r, delivery, id);
      if (!n.ok()) return n.status();
      PEP_RETURN_IF_ERROR(tx.InsertMail({.id = id, .recipient_id = r, .kind = KindOf(delivery),
                                         .rule = absl::StrCat("digest_", KindOf(delivery)),
                                         .next_attempt = now, .created = now}));
      ++made.first;
      made.second += *n;
    }
    return absl::OkStatus();
  }));
  return made;
}

absl::Status NotifyService::RunSchedules() {
  PEP_RETURN_IF_ERROR(RunSchedulesOnce());
  metrics_.ScheduleRuns().Increment();
  return absl::OkStatus();
}

absl::Status NotifyService::RunSchedulesOnce() {
  const absl::Time now = clock_.Now();
  // Reminders: jurors of challenges closing soon, once per (challenge, closing day, juror).
  PEP_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto open = tx.OpenChallenges();
    if (!open.ok()) return open.status();
    for (const auto& c : *open) {
      PEP_RETURN_IF_ERROR(MakeReminders(tx, JuryClosing(c, now, options_.jury_reminder_window, tx), c.id));
    }
    return absl::OkStatus();
  }));
  PEP_RETURN_IF_ERROR(TeamReminders(now));
  // Digests: each morning from digest_hour (Paris), the weekly one on Mondays; the period is
  // recorded so a restart does not send the day's digest twice.
  if (options_.digest_hour < 0) return absl::OkStatus();  // on demand only (SendDigests)
  const absl::CivilSecond local = absl::ToCivilSecond(now, ParisTime());
  if (local.hour() < options_.digest_hour) return absl::OkStatus();
  if (absl::GetWeekday(absl::CivilDay(local)) == absl::Weekday::monday) {
    PEP_RETURN_IF_ERROR(PortfolioWeekly(now));
  }
  for (int delivery : {static_cast<int>(nv1::DELIVERY_DAILY), static_cast<int>(nv1::DELIVERY_WEEKLY)}) {
    if (delivery == nv1::DELIVERY_WEEKLY &&
        absl::GetWeekday(absl::CivilDay(local)) != absl::Weekday::monday) {
      continue;
    }
    const std::string job = absl::StrCat("digest:", KindOf(delivery));
    const std::string period = delivery == nv1::DELIVERY_DAILY ? DailyPeriod(now) : WeeklyPeriod(now);
    std::string last;
    PEP_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) -> absl::Status {
      auto p = tx.LastPeriod(job);
      if (!p.ok()) return p.status();
      last = *p;
      return absl::OkStatus();
    }));
    if (last == period) continue;
    auto made = MakeDigests(delivery);
    if (!made.ok()) return made.status();
    PEP_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) { return tx.SetLastPeriod(job, period); }));
    LogInfo("digests made", {{"cadence", KindOf(delivery)}, {"period", period},
                             {"digests", absl::StrCat(made->first)},
                             {"notifications", absl::StrCat(made->second)}});
  }
  return absl::OkStatus();
}

}  // namespace pep::notify
