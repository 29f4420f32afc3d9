// pep-incubation's steering rows (issue 31): indicators and their measures, committee meetings,
// the teams' asks, pre-reads, and the journal — every event emitted about a start-up, in order,
// which the pre-read is folded from (libs/portfolio/preread.h).
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/incubation/incubation_store.h"
#include "store/proto_rows.h"

namespace pep::incubation {

const char* SteeringMigrationSql() {
  return R"sql(
CREATE TABLE steering_journal (
  startup_id TEXT NOT NULL,
  seq        BIGINT NOT NULL,
  type       TEXT NOT NULL,
  payload    BYTEA NOT NULL,
  PRIMARY KEY (startup_id, seq)
);
CREATE TABLE kpis (
  startup_id TEXT NOT NULL,
  id         TEXT NOT NULL,
  data       BYTEA NOT NULL,
  PRIMARY KEY (startup_id, id)
);
CREATE TABLE kpi_points (
  startup_id      TEXT NOT NULL,
  kpi             TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  date            BIGINT NOT NULL,
  data            BYTEA NOT NULL,
  PRIMARY KEY (startup_id, kpi, idempotency_key)
);
CREATE TABLE committees (
  id   TEXT PRIMARY KEY,
  date BIGINT NOT NULL,
  data BYTEA NOT NULL
);
CREATE TABLE committee_asks (
  meeting_id TEXT NOT NULL,
  startup_id TEXT NOT NULL,
  data       BYTEA NOT NULL,
  PRIMARY KEY (meeting_id, startup_id)
);
CREATE TABLE prereads (
  id         TEXT PRIMARY KEY,
  meeting_id TEXT NOT NULL,
  startup_id TEXT NOT NULL,
  data       BYTEA NOT NULL
);
CREATE INDEX prereads_by_meeting ON prereads(meeting_id, id);
CREATE TABLE budget_entries (
  startup_id      TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  date            BIGINT NOT NULL,
  data            BYTEA NOT NULL,
  PRIMARY KEY (startup_id, idempotency_key)
);
)sql";
}

absl::Status IncubationTx::Journal(const std::string& startup_id, const google::protobuf::Message& payload) {
  auto next = db_.Prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM steering_journal WHERE startup_id = ?");
  if (!next.ok()) return next.status();
  next->Bind(1, startup_id);
  auto row = next->Step();
  if (!row.ok()) return row.status();
  const int64_t seq = next->Int(0);
  auto q = db_.Prepare("INSERT INTO steering_journal(startup_id, seq, type, payload) VALUES (?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, startup_id).Bind(2, seq).Bind(3, payload.GetDescriptor()->full_name())
      .BindBlob(4, payload.SerializeAsString()).Run();
}

absl::Status IncubationTx::FoldJournal(const std::string& startup_id, portfolio::SteeringFold* fold) {
  auto q = db_.Prepare("SELECT type, payload FROM steering_journal WHERE startup_id = ? ORDER BY seq");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    PEP_RETURN_IF_ERROR(fold->Add(q->Text(0), q->Text(1)));
  }
}

absl::StatusOr<std::vector<std::string>> IncubationTx::StartupsWithoutJournal() {
  auto q = db_.Prepare("SELECT id FROM startups s WHERE NOT EXISTS "
                       "(SELECT 1 FROM steering_journal j WHERE j.startup_id = s.id) ORDER BY id");
  if (!q.ok()) return q.status();
  return store::FirstColumn<std::vector<std::string>>(*q);
}

absl::StatusOr<std::vector<v1::KpiDefinition>> IncubationTx::Kpis(const std::string& startup_id) {
  auto q = db_.Prepare("SELECT data FROM kpis WHERE startup_id = ? ORDER BY id");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  return store::AllProtos<v1::KpiDefinition>(*q, "indicator");
}

absl::Status IncubationTx::PutKpi(const v1::KpiDefinition& k) {
  auto q = db_.Prepare("INSERT INTO kpis(startup_id, id, data) VALUES (?,?,?) "
                       "ON CONFLICT(startup_id, id) DO UPDATE SET data = excluded.data");
  if (!q.ok()) return q.status();
  return q->Bind(1, k.startup_id()).Bind(2, k.id()).BindBlob(3, k.SerializeAsString()).Run();
}

absl::StatusOr<std::optional<v1::KpiPoint>> IncubationTx::KpiPointByKey(const std::string& startup_id,
                                                                       const std::string& kpi,
                                                                       const std::string& key) {
  auto q = db_.Prepare("SELECT data FROM kpi_points WHERE startup_id = ? AND kpi = ? AND idempotency_key = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id).Bind(2, kpi).Bind(3, key);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<v1::KpiPoint>();
  auto p = store::ParseRow<v1::KpiPoint>(q->Text(0), "measure");
  if (!p.ok()) return p.status();
  return std::optional<v1::KpiPoint>(std::move(*p));
}

absl::Status IncubationTx::PutKpiPoint(const v1::KpiPoint& p) {
  auto q = db_.Prepare("INSERT INTO kpi_points(startup_id, kpi, idempotency_key, date, data) VALUES (?,?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, p.startup_id()).Bind(2, p.kpi()).Bind(3, p.idempotency_key())
      .Bind(4, static_cast<int64_t>(p.date().seconds())).BindBlob(5, p.SerializeAsString()).Run();
}

absl::StatusOr<std::vector<v1::KpiPoint>> IncubationTx::KpiPoints(const std::string& startup_id) {
  auto q = db_.Prepare("SELECT data FROM kpi_points WHERE startup_id = ? ORDER BY kpi, date, idempotency_key");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  return store::AllProtos<v1::KpiPoint>(*q, "measure");
}

absl::StatusOr<v1::CommitteeMeeting> IncubationTx::GetCommittee(const std::string& id) {
  return store::GetProto<v1::CommitteeMeeting>(db_, "SELECT data FROM committees WHERE id = ?", id,
                                               "committee meeting");
}

absl::Status IncubationTx::PutCommittee(const v1::CommitteeMeeting& m) {
  auto q = db_.Prepare("INSERT INTO committees(id, date, data) VALUES (?,?,?) "
                       "ON CONFLICT(id) DO UPDATE SET date = excluded.date, data = excluded.data");
  if (!q.ok()) return q.status();
  return q->Bind(1, m.id()).Bind(2, static_cast<int64_t>(m.date().seconds()))
      .BindBlob(3, m.SerializeAsString()).Run();
}

absl::StatusOr<std::vector<v1::CommitteeMeeting>> IncubationTx::Committees() {
  auto q = db_.Prepare("SELECT data FROM committees ORDER BY date DESC, id");
  if (!q.ok()) return q.status();
  return store::AllProtos<v1::CommitteeMeeting>(*q, "committee meeting");
}

absl::Status IncubationTx::PutAsk(const v1::CommitteeAsk& a) {
  auto q = db_.Prepare("INSERT INTO committee_asks(meeting_id, startup_id, data) VALUES (?,?,?) "
                       "ON CONFLICT(meeting_id, startup_id) DO UPDATE SET data = excluded.data");
  if (!q.ok()) return q.status();
  return q->Bind(1, a.meeting_id()).Bind(2, a.startup_id()).BindBlob(3, a.SerializeAsString()).Run();
}

absl::StatusOr<std::vector<v1::CommitteeAsk>> IncubationTx::Asks(const std::string& meeting_id) {
  auto q = db_.Prepare("SELECT data FROM committee_asks WHERE meeting_id = ? ORDER BY startup_id");
  if (!q.ok()) return q.status();
  q->Bind(1, meeting_id);
  return store::AllProtos<v1::CommitteeAsk>(*q, "committee ask");
}

absl::StatusOr<v1::PreRead> IncubationTx::GetPreRead(const std::string& id) {
  return store::GetProto<v1::PreRead>(db_, "SELECT data FROM prereads WHERE id = ?", id, "pre-read");
}

absl::Status IncubationTx::PutPreRead(const v1::PreRead& p) {
  auto q = db_.Prepare("INSERT INTO prereads(id, meeting_id, startup_id, data) VALUES (?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, p.id()).Bind(2, p.meeting_id()).Bind(3, p.startup_id())
      .BindBlob(4, p.SerializeAsString()).Run();
}

absl::StatusOr<std::vector<v1::PreRead>> IncubationTx::PreReads(const std::string& meeting_id) {
  auto q = db_.Prepare("SELECT data FROM prereads WHERE meeting_id = ? ORDER BY id");
  if (!q.ok()) return q.status();
  q->Bind(1, meeting_id);
  return store::AllProtos<v1::PreRead>(*q, "pre-read");
}

absl::StatusOr<std::optional<v1::BudgetEntry>> IncubationTx::BudgetEntryByKey(const std::string& startup_id,
                                                                             const std::string& key) {
  auto q = db_.Prepare("SELECT data FROM budget_entries WHERE startup_id = ? AND idempotency_key = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id).Bind(2, key);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<v1::BudgetEntry>();
  auto e = store::ParseRow<v1::BudgetEntry>(q->Text(0), "budget entry");
  if (!e.ok()) return e.status();
  return std::optional<v1::BudgetEntry>(std::move(*e));
}

absl::Status IncubationTx::PutBudgetEntry(const v1::BudgetEntry& e) {
  auto q = db_.Prepare("INSERT INTO budget_entries(startup_id, idempotency_key, date, data) VALUES (?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, e.startup_id()).Bind(2, e.idempotency_key()).Bind(3, static_cast<int64_t>(e.date().seconds()))
      .BindBlob(4, e.SerializeAsString()).Run();
}

absl::StatusOr<std::vector<v1::BudgetEntry>> IncubationTx::BudgetEntries(const std::string& startup_id) {
  // Empty: every start-up's, grouped by start-up (the finance department's CSV).
  auto q = db_.Prepare("SELECT data FROM budget_entries WHERE (?1 = '' OR startup_id = ?1) "
                       "ORDER BY startup_id, date DESC, idempotency_key");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  return store::AllProtos<v1::BudgetEntry>(*q, "budget entry");
}

absl::StatusOr<std::vector<v1::CommitteeDecision>> IncubationTx::AllDecisions() {
  auto q = db_.Prepare("SELECT data FROM decisions ORDER BY startup_id, id");
  if (!q.ok()) return q.status();
  return store::AllProtos<v1::CommitteeDecision>(*q, "committee decision");
}

absl::Status IncubationStore::BaselineSteering() {
  return Write([&](IncubationTx& tx) -> absl::Status {
    auto ids = tx.StartupsWithoutJournal();
    if (!ids.ok()) return ids.status();
    for (const std::string& id : *ids) {
      auto st = tx.GetStartup(id);
      if (!st.ok()) return st.status();
      v1::SteeringBaseline ev;
      auto decisions = tx.Decisions(id);
      if (!decisions.ok()) return decisions.status();
      auto milestones = tx.Milestones(id);
      if (!milestones.ok()) return milestones.status();
      v1::StartupDetails* d = ev.mutable_details();
      for (auto& c : *decisions) *d->add_decisions() = std::move(c);
      for (auto& m : *milestones) *d->add_milestones() = std::move(m);
      st->set_version(st->version() + 1);
      PEP_RETURN_IF_ERROR(tx.PutStartup(*st));
      *d->mutable_startup() = *st;
      for (auto& m : *d->mutable_startup()->mutable_team()) m.clear_email();
      d->mutable_startup()->clear_overdue();
      d->mutable_startup()->clear_overdue_reasons();
      PEP_RETURN_IF_ERROR(tx.Emit(*st, ev, "pep-incubation", tx.Now()));
    }
    return absl::OkStatus();
  });
}

}  // namespace pep::incubation
