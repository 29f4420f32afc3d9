// The clock's reminders in French: a start-up's overdue reasons, a team's reminders (committee
// due, no milestone, missions ending), the coordinators' weekly picture.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "portfolio/budget.h"
#include "portfolio/preread.h"
#include "services/notify/notify_mail.h"
#include "services/notify/notify_rules.h"
#include "services/notify/notify_words.h"

namespace pep::notify {

using internal::Make;
using internal::OutcomeLabel;
using internal::PhaseLabel;
using internal::Quoted;

namespace {

namespace incv1 = ::pepiniere::incubation::v1;

std::string Day(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

std::string Days(int n) { return n == 1 ? "1 jour" : absl::StrCat(n, " jours"); }

// Up to `max` lines of a list, then « … et N autres ».
template <typename T, typename F>
void Listing(std::string* body, const std::vector<T>& items, size_t max, F line) {
  for (size_t i = 0; i < items.size() && i < max; ++i) absl::StrAppend(body, "\n- ", line(items[i]));
  if (items.size() > max) absl::StrAppend(body, "\n- … et ", items.size() - max, " autres");
}

}  // namespace

std::vector<std::string> OverdueFrench(const StartupInfo& s, absl::Time now,
                                       const portfolio::StalenessPolicy& policy) {
  std::vector<std::string> out;
  const auto phase = static_cast<incv1::Phase>(s.phase);
  if (s.phase == 0 || portfolio::IsTerminal(phase) || s.phase_start == absl::InfinitePast()) {
    return out;
  }
  const absl::Time due = portfolio::PhaseDueAt(phase, s.phase_start, policy);
  if (s.next_review != absl::InfiniteFuture() && s.next_review < now) {
    out.push_back(absl::StrCat("comité dû depuis le ", FrenchDate(s.next_review)));
  }
  if (due < now) {
    out.push_back(absl::StrCat("phase ", PhaseLabel(phase), " au-delà de ses ",
                               portfolio::ExpectedMonths(phase, policy), " mois prévus (depuis le ",
                               FrenchDate(due), ")"));
  }
  const absl::Time since = s.last_milestone != absl::InfinitePast() ? s.last_milestone : s.first_start;
  if (since != absl::InfinitePast() && portfolio::MilestoneDueAt(since, policy) < now) {
    out.push_back(absl::StrCat("aucun jalon depuis le ", FrenchDate(since)));
  }
  return out;
}

std::vector<Reminder> TeamReminders(const StartupInfo& s, const std::vector<MemberInfo>& members,
                                    absl::Time now, const portfolio::StalenessPolicy& policy,
                                    absl::Duration committee_notice, Directory& dir) {
  std::vector<Reminder> out;
  const auto phase = static_cast<incv1::Phase>(s.phase);
  if (s.phase == 0 || portfolio::IsTerminal(phase) || s.phase_start == absl::InfinitePast()) {
    return out;
  }
  // What is due first; the team (a scan of the address book) only when something is.
  struct Due {
    const char* rule;
    std::string period, title, body;
  };
  std::vector<Due> todo;
  auto to_team = [&](const char* rule, std::string period, std::string title, std::string body) {
    todo.push_back({rule, std::move(period), std::move(title), std::move(body)});
  };
  // Committee due: the phase's expected end is near (or past) and no committee decided since
  // the phase began. Once before, once after; the period names the phase by its start.
  // When the last committee set its next review (issue 31), that date is the one: « comité dû »
  // `committee_notice` before it and once it has passed (the period names the review's day).
  const absl::Time due = portfolio::PhaseDueAt(phase, s.phase_start, policy);
  const bool decided = s.last_committee != absl::InfinitePast() && s.last_committee >= s.phase_start;
  if (s.next_review != absl::InfiniteFuture()) {
    if (now >= s.next_review - committee_notice) {
      const bool past = now >= s.next_review;
      to_team("committee_due", absl::StrCat(past ? "revue-depassee:" : "revue-avant:", Day(s.next_review)),
              absl::StrCat("Comité d'investissement à prévoir pour ", Quoted(s.name)),
              absl::StrCat("Le dernier comité de ", Quoted(s.name), " (le ", FrenchDate(s.last_committee),
                           ") a fixé sa prochaine revue au ", FrenchDate(s.next_review), past ? " : elle est passée." : ".",
                           "\n\nDéposez la demande de l'équipe dans la console (Comités) : l'équipe, l'enveloppe, "
                           "les hypothèses à tester et les critères de succès chiffrés."));
    }
  } else if (!decided && due != absl::InfiniteFuture() && now >= due - committee_notice) {
    const bool past = now >= due;
    to_team("committee_due", absl::StrCat(past ? "depassee:" : "avant:", Day(s.phase_start)),
            absl::StrCat("Comité d'investissement à prévoir pour ", Quoted(s.name)),
            absl::StrCat("La phase ", PhaseLabel(phase), " de ", Quoted(s.name), " a commencé le ",
                         FrenchDate(s.phase_start), " pour ",
                         portfolio::ExpectedMonths(phase, policy), " mois : elle ",
                         past ? "a atteint son terme le " : "arrive à son terme le ",
                         FrenchDate(due),
                         ".\n\nPréparez le comité d'investissement avec l'incubateur : ce qui a "
                         "été appris, ce que vous demandez pour la suite."));
  }
  // No milestone for N months: once per gap (the period is the day the gap began).
  const absl::Time since = s.last_milestone != absl::InfinitePast() ? s.last_milestone : s.first_start;
  if (since != absl::InfinitePast() && portfolio::MilestoneDueAt(since, policy) <= now) {
    to_team("no_milestone", Day(since),
            absl::StrCat(Quoted(s.name), " : aucun jalon depuis ", policy.milestone_gap_months,
                         " mois"),
            absl::StrCat(Quoted(s.name), " n'a publié aucun jalon depuis le ", FrenchDate(since),
                         ".\n\nPubliez où en est le produit (console ou pepctl milestone push) : "
                         "l'incubateur et les usagers suivent sa vie en public."));
  }
  // A member's mission ends in 15 days, then in 2 days (the nearer notice only, once each).
  for (const MemberInfo& m : members) {
    if (m.end == absl::InfiniteFuture() || m.end <= now || m.end - now > absl::Hours(15 * 24)) {
      continue;
    }
    const int notice = m.end - now <= absl::Hours(2 * 24) ? 2 : 15;
    const int left = std::max<int>(1, static_cast<int>(absl::ToInt64Hours(m.end - now + absl::Hours(23)) / 24));
    to_team("mission_ending", absl::StrCat(m.member_id, ":", notice, "j:", Day(m.end)),
            absl::StrCat(Quoted(s.name), " : la mission de ", m.name, " se termine le ",
                         FrenchDate(m.end)),
            absl::StrCat("La mission de ", m.name, " dans l'équipe de ", Quoted(s.name),
                         " se termine le ", FrenchDate(m.end), " (dans ", Days(left),
                         ").\n\nProlongez-la ou préparez la passation avec l'incubateur."));
  }
  // The envelope its committee granted (issue 31): once when payments go beyond it, else once
  // when it runs out within 45 days at the current pace (libs/portfolio/budget.h, the rule of the
  // overdue reasons); the period names the envelope by the day it began.
  if (s.budget.envelope_eur() > 0 && s.budget.has_since()) {
    const portfolio::BudgetOutlook b = portfolio::Outlook(s.budget, now);
    const absl::Time since = FromTimestamp(s.budget.since());
    const std::string envelope = absl::StrCat(portfolio::FrenchNumber(s.budget.envelope_eur()), " €");
    const std::string paid = absl::StrCat(portfolio::FrenchNumber(static_cast<double>(s.budget.paid_eur())), " €");
    if (b.exceeded) {
      to_team("envelope", absl::StrCat("depassee:", Day(since)),
              absl::StrCat(Quoted(s.name), " : enveloppe dépassée"),
              absl::StrCat("Les paiements de ", Quoted(s.name), " (", paid, ") dépassent l'enveloppe de ", envelope,
                           " accordée le ", FrenchDate(since),
                           ".\n\nPréparez avec l'incubateur le prochain comité : ce qui a été appris, ce que vous "
                           "demandez pour la suite."));
    } else if (b.runs_out != absl::InfiniteFuture() && b.runs_out <= now + portfolio::kRunOutNotice) {
      to_team("envelope", absl::StrCat("epuisee:", Day(since)),
              absl::StrCat(Quoted(s.name), " : enveloppe épuisée le ", FrenchDate(b.runs_out)),
              absl::StrCat("Au rythme des paiements depuis le ", FrenchDate(since), " (", paid, " payés sur ", envelope,
                           "), l'enveloppe de ", Quoted(s.name), " sera épuisée le ", FrenchDate(b.runs_out),
                           ".\n\nLe comité d'investissement se prépare 30 à 45 jours avant : déposez la demande "
                           "de l'équipe dans la console (Comités)."));
    }
  }
  if (todo.empty()) return out;
  const std::string link = absl::StrCat("/startups/", s.id);
  for (const auto& who : dir.Team(s.id)) {
    for (const Due& d : todo) out.push_back({Make(d.rule, who, "startup", s.id, d.title, d.body, link), d.period});
  }
  return out;
}

std::vector<Reminder> PortfolioWeekly(const PortfolioFacts& f,
                                      const std::vector<std::string>& coordinators, absl::Time now) {
  std::vector<Reminder> out;
  std::string body = absl::StrCat("Le portefeuille au ", FrenchDate(now), ".\n");
  absl::StrAppend(&body, "\nStart-ups en retard : ", f.overdue.size());
  Listing(&body, f.overdue, 30, [](const PortfolioFacts::Overdue& o) {
    return absl::StrCat(o.name, " — ", absl::StrJoin(o.reasons, " ; "));
  });
  int waiting = 0;
  for (const auto& a : f.unscored) waiting += a.ideas;
  absl::StrAppend(&body, "\n\nIdées qui attendent encore des notes du jury : ", waiting);
  Listing(&body, f.unscored, 30, [](const PortfolioFacts::Awaiting& a) {
    std::string line = absl::StrCat(Quoted(a.title), " : ", a.ideas, a.ideas == 1 ? " idée" : " idées");
    if (a.closes_at != absl::InfiniteFuture()) absl::StrAppend(&line, ", clôture le ", FrenchDate(a.closes_at));
    return line;
  });
  if (f.red_known) {
    absl::StrAppend(&body, "\n\nSatisfaction des usagers dans le rouge (12 derniers mois) : ", f.red.size());
    Listing(&body, f.red, 30, [](const PortfolioFacts::Named& n) { return n.name; });
  } else {
    absl::StrAppend(&body, "\n\nSatisfaction des usagers : indisponible cette semaine (pep-feedback n'a pas répondu).");
  }
  absl::StrAppend(&body, "\n\nDécisions de comité pas encore suivies d'un changement de phase : ",
                  f.undone.size());
  Listing(&body, f.undone, 30, [](const PortfolioFacts::Undone& u) {
    return absl::StrCat(u.name, " — ", OutcomeLabel(static_cast<incv1::CommitteeOutcome>(u.outcome)),
                        ", décidé le ", FrenchDate(u.date));
  });
  const std::string title =
      absl::StrCat("Pépinière : la semaine du portefeuille (", f.overdue.size(), " en retard, ",
                   waiting, " idées à noter)");
  const std::string period = WeeklyPeriod(now);
  for (const auto& who : coordinators) {
    out.push_back({Make("portfolio_weekly", who, "portfolio", "portfolio", title, body,
                        "/portefeuille"),
                   period});
  }
  return out;
}

}  // namespace pep::notify
