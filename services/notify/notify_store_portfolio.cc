// pep-notify's projection of the portfolio (start-ups' lifecycle, team members, committee
// decisions) and the follows — the facts the clock rules and followers' rules need.
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/notify/notify_store.h"

namespace pep::notify {

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
  return s;
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

absl::Status NotifyTx::SetLastCommittee(const std::string& startup_id, absl::Time at) {
  return Run(db_,
             "UPDATE startups SET last_committee_us = ? WHERE id = ? AND "
             "(last_committee_us IS NULL OR last_committee_us < ?)",
             [&](store::Stmt& q) { q.Bind(1, Us(at)).Bind(2, startup_id).Bind(3, Us(at)); });
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

absl::StatusOr<PortfolioFacts> NotifyTx::Portfolio(absl::Time now,
                                                   const portfolio::StalenessPolicy& policy) {
  PortfolioFacts f;
  auto live = LiveStartups();
  if (!live.ok()) return live.status();
  for (const auto& s : *live) {
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
