// pep-notify's projections of the platform — challenges, ideas, scores, start-ups with their
// lifecycle, team members and committee decisions — and the follows: the facts its rules need
// to know who is concerned.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/notify/notify_store.h"

#include <optional>
#include <tuple>

#include "portfolio/budget.h"

namespace pep::notify {

namespace incv1 = ::pepiniere::incubation::v1;

namespace {

int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromUs(int64_t us) { return absl::FromUnixMicros(us); }
absl::Time OrPast(store::Stmt& q, int col) {
  return q.IsNull(col) ? absl::InfinitePast() : FromUs(q.Int(col));
}

// Runs `q` and collects one value per row.
template <typename T, typename F>
absl::StatusOr<std::vector<T>> Rows(store::Stmt& q, F row) {
  std::vector<T> out;
  while (true) {
    auto more = q.Step();
    if (!more.ok()) return more.status();
    if (!*more) return out;
    out.push_back(row(q));
  }
}

absl::Status Run(store::Db& db, const std::string& sql,
                 const std::function<void(store::Stmt&)>& bind) {
  auto q = db.Prepare(sql);
  if (!q.ok()) return q.status();
  bind(*q);
  return q->Run();
}

}  // namespace

StartupInfo StartupRow(store::Stmt& q) {
  StartupInfo s{q.Text(0), q.Text(1), q.Text(2)};
  s.phase = static_cast<int>(q.Int(3));
  s.phase_start = OrPast(q, 4);
  s.first_start = OrPast(q, 5);
  s.last_milestone = OrPast(q, 6);
  s.last_committee = OrPast(q, 7);
  s.has_feedback = q.Int(8) != 0;
  s.next_review = q.IsNull(9) ? absl::InfiniteFuture() : FromUs(q.Int(9));
  s.budget.set_envelope_eur(static_cast<int32_t>(q.Int(10)));
  if (!q.IsNull(11)) *s.budget.mutable_since() = ToTimestamp(FromUs(q.Int(11)));
  s.budget.set_committed_eur(q.Int(12));
  s.budget.set_paid_eur(q.Int(13));
  return s;
}

std::optional<IdeaInfo> NotifyTx::Idea(const std::string& id) {
  auto q = db_.Prepare("SELECT challenge_id, author_id, title FROM ideas WHERE id = ?");
  if (!q.ok()) return std::nullopt;
  q->Bind(1, id);
  if (!q->Step().value_or(false)) return std::nullopt;
  IdeaInfo idea{id, q->Text(0), q->Text(1), q->Text(2)};
  auto co = db_.Prepare("SELECT account_id FROM coauthors WHERE idea_id = ? ORDER BY account_id");
  if (!co.ok()) return std::nullopt;
  co->Bind(1, id);
  while (co->Step().value_or(false)) idea.coauthor_ids.push_back(co->Text(0));
  return idea;
}

std::optional<ChallengeInfo> NotifyTx::Challenge(const std::string& id) {
  auto q = db_.Prepare("SELECT title, closes_us, open, jurors FROM challenges WHERE id = ?");
  if (!q.ok()) return std::nullopt;
  q->Bind(1, id);
  if (!q->Step().value_or(false)) return std::nullopt;
  ChallengeInfo c;
  c.id = id;
  c.title = q->Text(0);
  if (!q->IsNull(1)) c.closes_at = FromUs(q->Int(1));
  c.open = q->Int(2) != 0;
  c.juror_ids = absl::StrSplit(q->Text(3), ',', absl::SkipEmpty());
  return c;
}

std::optional<StartupInfo> NotifyTx::Startup(const std::string& id) {
  auto q = db_.Prepare(absl::StrCat("SELECT ", kStartupColumns, " FROM startups WHERE id = ?"));
  if (!q.ok()) return std::nullopt;
  q->Bind(1, id);
  if (!q->Step().value_or(false)) return std::nullopt;
  return StartupRow(*q);
}

std::vector<std::string> NotifyTx::Team(const std::string& startup_id) {
  std::vector<std::string> out;
  auto q = db_.Prepare("SELECT account_id FROM contacts WHERE scopes LIKE ? ORDER BY account_id");
  if (!q.ok()) return out;
  q->Bind(1, absl::StrCat("%,startup:", startup_id, ",%"));
  while (q->Step().value_or(false)) out.push_back(q->Text(0));
  return out;
}

int NotifyTx::UnscoredBy(const std::string& challenge_id, const std::string& juror_id) {
  auto q = db_.Prepare(
      "SELECT COUNT(*) FROM ideas i WHERE i.challenge_id = ?1 AND i.withdrawn = 0 AND i.author_id <> ?2 "
      "AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.idea_id = i.id AND s.juror_id = ?2) "
      "AND NOT EXISTS (SELECT 1 FROM coauthors c WHERE c.idea_id = i.id AND c.account_id = ?2)");
  if (!q.ok()) return 0;
  q->Bind(1, challenge_id).Bind(2, juror_id);  // not their own ideas, nor those they stepped aside on
  return q->Step().value_or(false) ? static_cast<int>(q->Int(0)) : 0;
}

absl::Status NotifyTx::PutIdea(const IdeaInfo& idea) {
  auto q = db_.Prepare(
      "INSERT INTO ideas(id, challenge_id, author_id, title) VALUES (?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET title = excluded.title, author_id = excluded.author_id");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea.id).Bind(2, idea.challenge_id).Bind(3, idea.author_id).Bind(4, idea.title).Run();
}

absl::Status NotifyTx::SetIdeaWithdrawn(const std::string& id) {
  auto q = db_.Prepare("UPDATE ideas SET withdrawn = 1 WHERE id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, id).Run();
}

absl::Status NotifyTx::PutChallenge(const ChallengeInfo& c) {
  auto q = db_.Prepare(
      "INSERT INTO challenges(id, title, closes_us, open, jurors) VALUES (?,?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET title = excluded.title, closes_us = excluded.closes_us, "
      "open = excluded.open, jurors = excluded.jurors");
  if (!q.ok()) return q.status();
  q->Bind(1, c.id).Bind(2, c.title);
  if (c.closes_at == absl::InfiniteFuture()) {
    q->BindNull(3);
  } else {
    q->Bind(3, Us(c.closes_at));
  }
  return q->Bind(4, int64_t{c.open ? 1 : 0}).Bind(5, absl::StrJoin(c.juror_ids, ",")).Run();
}

absl::Status NotifyTx::PutCoauthor(const std::string& idea_id, const std::string& account_id) {
  auto q = db_.Prepare("INSERT INTO coauthors(idea_id, account_id) VALUES (?,?) ON CONFLICT DO NOTHING");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).Bind(2, account_id).Run();
}

absl::Status NotifyTx::DeleteCoauthor(const std::string& idea_id, const std::string& account_id) {
  auto q = db_.Prepare("DELETE FROM coauthors WHERE idea_id = ? AND account_id = ?");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).Bind(2, account_id).Run();
}

absl::Status NotifyTx::PutScore(const std::string& idea_id, const std::string& juror_id) {
  auto q = db_.Prepare("INSERT INTO scores(idea_id, juror_id) VALUES (?,?) ON CONFLICT DO NOTHING");
  if (!q.ok()) return q.status();
  return q->Bind(1, idea_id).Bind(2, juror_id).Run();
}

absl::Status NotifyTx::PutStartup(const StartupInfo& s) {
  auto q = db_.Prepare(
      "INSERT INTO startups(id, name, idea_id) VALUES (?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN startups.name "
      "ELSE excluded.name END");
  if (!q.ok()) return q.status();
  return q->Bind(1, s.id).Bind(2, s.name).Bind(3, s.idea_id).Run();
}

absl::StatusOr<std::vector<ChallengeInfo>> NotifyTx::OpenChallenges() {
  std::vector<std::string> ids;
  {
    auto q = db_.Prepare("SELECT id FROM challenges WHERE open = 1 ORDER BY id");
    if (!q.ok()) return q.status();
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ids.push_back(q->Text(0));
    }
  }
  std::vector<ChallengeInfo> out;
  for (const auto& id : ids) {
    if (auto c = Challenge(id)) out.push_back(std::move(*c));
  }
  return out;
}

absl::Status NotifyTx::SetPhase(const std::string& startup_id, int phase, absl::Time start,
                                absl::Time first_start) {
  return Run(db_,
             "UPDATE startups SET phase = ?, phase_start_us = ?, first_start_us = "
             "COALESCE(?, first_start_us, ?) WHERE id = ?",
             [&](store::Stmt& q) {
               q.Bind(1, int64_t{phase}).Bind(2, Us(start));
               if (first_start == absl::InfinitePast()) {
                 q.BindNull(3);
               } else {
                 q.Bind(3, Us(first_start));
               }
               q.Bind(4, Us(start)).Bind(5, startup_id);
             });
}

absl::Status NotifyTx::SetLastMilestone(const std::string& startup_id, absl::Time at) {
  return Run(db_,
             "UPDATE startups SET last_milestone_us = ? WHERE id = ? AND "
             "(last_milestone_us IS NULL OR last_milestone_us < ?)",
             [&](store::Stmt& q) { q.Bind(1, Us(at)).Bind(2, startup_id).Bind(3, Us(at)); });
}

absl::Status NotifyTx::SetLastCommittee(const std::string& startup_id, absl::Time at, absl::Time next_review) {
  return Run(db_,
             "UPDATE startups SET last_committee_us = ?, next_review_us = ? WHERE id = ? AND "
             "(last_committee_us IS NULL OR last_committee_us <= ?)",
             [&](store::Stmt& q) {
               q.Bind(1, Us(at));
               if (next_review == absl::InfiniteFuture()) q.BindNull(2);
               else q.Bind(2, Us(next_review));
               q.Bind(3, startup_id).Bind(4, Us(at));
             });
}

absl::Status NotifyTx::PutBudgetEntry(const incv1::BudgetEntry& e) {
  PEP_RETURN_IF_ERROR(Run(db_,
                          "INSERT INTO budget_entries(startup_id, entry_id, date_us, kind, amount_eur) "
                          "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                          [&](store::Stmt& q) {
                            q.Bind(1, e.startup_id()).Bind(2, e.id()).Bind(3, Us(FromTimestamp(e.date())))
                                .Bind(4, int64_t{e.kind()}).Bind(5, int64_t{e.amount_eur()});
                          }));
  return RecountBudget(e.startup_id(), std::nullopt);
}

absl::Status NotifyTx::SetEnvelope(const std::string& startup_id, int32_t envelope_eur, absl::Time since) {
  return RecountBudget(startup_id, std::make_pair(envelope_eur, since));
}

// Counts the start-up's budget again from its entries, with the envelope given (when it is the
// latest-dated one) or the one it has.
absl::Status NotifyTx::RecountBudget(const std::string& startup_id,
                                     std::optional<std::pair<int32_t, absl::Time>> envelope) {
  int32_t amount = 0;
  absl::Time since = absl::InfinitePast();
  {
    auto q = db_.Prepare("SELECT envelope_eur, budget_since_us FROM startups WHERE id = ?");
    if (!q.ok()) return q.status();
    q->Bind(1, startup_id);
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();  // not known here (created before pep-notify kept it)
    amount = static_cast<int32_t>(q->Int(0));
    if (!q->IsNull(1)) since = FromUs(q->Int(1));
  }
  if (envelope && envelope->second >= since) std::tie(amount, since) = *envelope;
  std::vector<incv1::BudgetEntry> entries;
  {
    auto q = db_.Prepare("SELECT date_us, kind, amount_eur FROM budget_entries WHERE startup_id = ? ORDER BY date_us, entry_id");
    if (!q.ok()) return q.status();
    q->Bind(1, startup_id);
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      incv1::BudgetEntry e;
      *e.mutable_date() = ToTimestamp(FromUs(q->Int(0)));
      e.set_kind(static_cast<incv1::BudgetKind>(q->Int(1)));
      e.set_amount_eur(static_cast<int32_t>(q->Int(2)));
      entries.push_back(std::move(e));
    }
  }
  incv1::BudgetState b;
  if (since == absl::InfinitePast()) {
    for (const auto& e : entries) portfolio::Count(&b, e);  // no envelope yet: every entry
  } else {
    b = portfolio::WithEnvelope(amount, since, entries);
  }
  return Run(db_,
             "UPDATE startups SET envelope_eur = ?, budget_since_us = ?, committed_eur = ?, paid_eur = ? WHERE id = ?",
             [&](store::Stmt& q) {
               q.Bind(1, int64_t{b.envelope_eur()});
               if (since == absl::InfinitePast()) q.BindNull(2);
               else q.Bind(2, Us(since));
               q.Bind(3, b.committed_eur()).Bind(4, b.paid_eur()).Bind(5, startup_id);
             });
}

absl::Status NotifyTx::SetHasFeedback(const std::string& startup_id) {
  return Run(db_, "UPDATE startups SET has_feedback = 1 WHERE id = ? AND has_feedback = 0",
             [&](store::Stmt& q) { q.Bind(1, startup_id); });
}

absl::Status NotifyTx::PutMember(const std::string& startup_id, const MemberInfo& m) {
  return Run(db_,
             "INSERT INTO members(startup_id, member_id, name, end_us) VALUES (?,?,?,?) "
             "ON CONFLICT(startup_id, member_id) DO UPDATE SET name = excluded.name, "
             "end_us = excluded.end_us",
             [&](store::Stmt& q) {
               q.Bind(1, startup_id).Bind(2, m.member_id).Bind(3, m.name);
               if (m.end == absl::InfiniteFuture()) {
                 q.BindNull(4);
               } else {
                 q.Bind(4, Us(m.end));
               }
             });
}

absl::Status NotifyTx::EndMember(const std::string& startup_id, const std::string& member_id,
                                 absl::Time end) {
  return Run(db_, "UPDATE members SET end_us = ? WHERE startup_id = ? AND member_id = ?",
             [&](store::Stmt& q) { q.Bind(1, Us(end)).Bind(2, startup_id).Bind(3, member_id); });
}

absl::StatusOr<std::vector<MemberInfo>> NotifyTx::Members(const std::string& startup_id) {
  auto q = db_.Prepare(
      "SELECT member_id, name, end_us FROM members WHERE startup_id = ? ORDER BY member_id");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  return Rows<MemberInfo>(*q, [](store::Stmt& r) {
    return MemberInfo{r.Text(0), r.Text(1),
                      r.IsNull(2) ? absl::InfiniteFuture() : FromUs(r.Int(2))};
  });
}

absl::Status NotifyTx::PutDecision(const std::string& id, const std::string& startup_id,
                                   int outcome, absl::Time date) {
  return Run(db_,
             "INSERT INTO decisions(id, startup_id, outcome, date_us) VALUES (?,?,?,?) "
             "ON CONFLICT(id) DO NOTHING",
             [&](store::Stmt& q) {
               q.Bind(1, id).Bind(2, startup_id).Bind(3, int64_t{outcome}).Bind(4, Us(date));
             });
}

absl::Status NotifyTx::UseDecision(const std::string& id) {
  return Run(db_, "UPDATE decisions SET used = 1 WHERE id = ?",
             [&](store::Stmt& q) { q.Bind(1, id); });
}

absl::StatusOr<std::vector<StartupInfo>> NotifyTx::LiveStartups() {
  // Terminal phases: transferred 5, operated 6, abandoned in investigation 7, abandoned 8 —
  // filtered again by the rules (portfolio::IsTerminal), this only keeps the scan short.
  auto q = db_.Prepare(absl::StrCat("SELECT ", kStartupColumns,
                                    " FROM startups WHERE phase BETWEEN 1 AND 4 ORDER BY id"));
  if (!q.ok()) return q.status();
  return Rows<StartupInfo>(*q, [](store::Stmt& r) { return StartupRow(r); });
}

absl::StatusOr<PortfolioFacts> NotifyTx::Portfolio(const std::vector<StartupInfo>& live,
                                                   absl::Time now,
                                                   const portfolio::StalenessPolicy& policy) {
  PortfolioFacts f;
  for (const auto& s : live) {
    auto reasons = OverdueFrench(s, now, policy);
    if (!reasons.empty()) f.overdue.push_back({s.id, s.name, std::move(reasons)});
  }
  auto open = OpenChallenges();
  if (!open.ok()) return open.status();
  for (const auto& c : *open) {
    if (c.juror_ids.empty()) continue;
    auto q = db_.Prepare(
        "SELECT COUNT(*) FROM ideas i WHERE i.challenge_id = ? AND i.withdrawn = 0 AND "
        "(SELECT COUNT(*) FROM scores s WHERE s.idea_id = i.id) < ?");
    if (!q.ok()) return q.status();
    q->Bind(1, c.id).Bind(2, static_cast<int64_t>(c.juror_ids.size()));
    auto row = q->Step();
    if (!row.ok()) return row.status();
    const int n = *row ? static_cast<int>(q->Int(0)) : 0;
    if (n > 0) f.unscored.push_back({c.id, c.title, n, c.closes_at});
  }
  // GO, STOP, PIVOT move a phase (EXTEND keeps it): 1, 2, 3 in CommitteeOutcome.
  auto q = db_.Prepare(
      "SELECT d.startup_id, s.name, d.outcome, d.date_us FROM decisions d JOIN startups s ON "
      "s.id = d.startup_id WHERE d.used = 0 AND d.outcome IN (1, 2, 3) AND s.phase BETWEEN 1 AND 4 "
      "ORDER BY d.date_us");
  if (!q.ok()) return q.status();
  auto undone = Rows<PortfolioFacts::Undone>(*q, [](store::Stmt& r) {
    return PortfolioFacts::Undone{r.Text(0), r.Text(1), static_cast<int>(r.Int(2)), FromUs(r.Int(3))};
  });
  if (!undone.ok()) return undone.status();
  f.undone = std::move(*undone);
  return f;
}

absl::StatusOr<std::vector<std::string>> NotifyTx::Coordinators() {
  auto q = db_.Prepare(
      "SELECT account_id FROM contacts WHERE roles LIKE '%,coordinator,%' ORDER BY account_id");
  if (!q.ok()) return q.status();
  return Rows<std::string>(*q, [](store::Stmt& r) { return r.Text(0); });
}

std::vector<std::string> NotifyTx::Followers(const std::string& subject_type,
                                             const std::string& subject_id) {
  auto q = db_.Prepare(
      "SELECT account_id FROM follows WHERE subject_type = ? AND subject_id = ? "
      "ORDER BY created_us, account_id");
  if (!q.ok()) return {};
  q->Bind(1, subject_type).Bind(2, subject_id);
  return Rows<std::string>(*q, [](store::Stmt& r) { return r.Text(0); }).value_or(std::vector<std::string>{});
}

absl::StatusOr<bool> NotifyTx::Follow(const std::string& account_id, const std::string& subject_type,
                                      const std::string& subject_id, absl::Time now) {
  PEP_RETURN_IF_ERROR(Run(db_,
                          "INSERT INTO follows(account_id, subject_type, subject_id, created_us) "
                          "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                          [&](store::Stmt& q) {
                            q.Bind(1, account_id).Bind(2, subject_type).Bind(3, subject_id)
                                .Bind(4, Us(now));
                          }));
  return db_.Changes() > 0;
}

absl::StatusOr<bool> NotifyTx::Unfollow(const std::string& account_id,
                                        const std::string& subject_type,
                                        const std::string& subject_id) {
  PEP_RETURN_IF_ERROR(Run(db_,
                          "DELETE FROM follows WHERE account_id = ? AND subject_type = ? AND "
                          "subject_id = ?",
                          [&](store::Stmt& q) {
                            q.Bind(1, account_id).Bind(2, subject_type).Bind(3, subject_id);
                          }));
  return db_.Changes() > 0;
}

absl::StatusOr<std::vector<nv1::Follow>> NotifyTx::FollowsOf(const std::string& account_id) {
  auto q = db_.Prepare(
      "SELECT subject_type, subject_id, created_us FROM follows WHERE account_id = ? "
      "ORDER BY created_us DESC, subject_type, subject_id");
  if (!q.ok()) return q.status();
  q->Bind(1, account_id);
  return Rows<nv1::Follow>(*q, [](store::Stmt& r) {
    nv1::Follow f;
    f.set_subject_type(r.Text(0));
    f.set_subject_id(r.Text(1));
    *f.mutable_since() = ToTimestamp(FromUs(r.Int(2)));
    return f;
  });
}

}  // namespace pep::notify
