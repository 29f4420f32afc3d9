#include "services/incubation/incubation_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/incubation/publication.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "store/proto_rows.h"

namespace pep::incubation {

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
CREATE TABLE startups (
  id        TEXT PRIMARY KEY,
  slug      TEXT NOT NULL UNIQUE,
  incubator TEXT NOT NULL,
  phase     INTEGER NOT NULL,
  sponsors  TEXT NOT NULL,  -- ",a,b," for LIKE filtering
  imported  INTEGER NOT NULL DEFAULT 0,
  data      BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX startups_by_phase ON startups(phase, id);
CREATE TABLE decisions (
  id         TEXT PRIMARY KEY,
  startup_id TEXT NOT NULL REFERENCES startups(id),
  data       BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX decisions_by_startup ON decisions(startup_id, id);
CREATE TABLE milestones (
  id              TEXT PRIMARY KEY,
  startup_id      TEXT NOT NULL REFERENCES startups(id),
  idempotency_key TEXT NOT NULL,
  fingerprint     BLOB NOT NULL,
  data            BLOB NOT NULL,
  UNIQUE (startup_id, idempotency_key)
) WITHOUT ROWID;
CREATE TABLE import_snapshots (
  slug TEXT PRIMARY KEY,
  data BLOB NOT NULL
) WITHOUT ROWID;
)sql",
       R"sql(
CREATE TABLE startups (
  id        TEXT PRIMARY KEY,
  slug      TEXT NOT NULL UNIQUE,
  incubator TEXT NOT NULL,
  phase     BIGINT NOT NULL,
  sponsors  TEXT NOT NULL,
  imported  BIGINT NOT NULL DEFAULT 0,
  data      BYTEA NOT NULL
);
CREATE INDEX startups_by_phase ON startups(phase, id);
CREATE TABLE decisions (
  id         TEXT PRIMARY KEY,
  startup_id TEXT NOT NULL REFERENCES startups(id),
  data       BYTEA NOT NULL
);
CREATE INDEX decisions_by_startup ON decisions(startup_id, id);
CREATE TABLE milestones (
  id              TEXT PRIMARY KEY,
  startup_id      TEXT NOT NULL REFERENCES startups(id),
  idempotency_key TEXT NOT NULL,
  fingerprint     BYTEA NOT NULL,
  data            BYTEA NOT NULL,
  UNIQUE (startup_id, idempotency_key)
);
CREATE TABLE import_snapshots (
  slug TEXT PRIMARY KEY,
  data BYTEA NOT NULL
);
)sql"},
      {2, store::OutboxSchemaSql(), store::PostgresOutboxSql()},
      {3, store::InboxSchemaSql(), store::PostgresInboxSql()},
      {4, store::OutboxV2Sql(), store::kNothingOnPostgres},
      {5, R"sql(
CREATE TABLE fiche_edits (
  id         TEXT PRIMARY KEY,
  startup_id TEXT NOT NULL,
  status     BIGINT NOT NULL,
  data       BYTEA NOT NULL
);
CREATE INDEX fiche_edits_by_startup ON fiche_edits(startup_id, id);
)sql"},
      {6, R"sql(
CREATE TABLE public_facts (
  startup_id TEXT NOT NULL,
  fact_key   TEXT NOT NULL,
  fact_id    TEXT NOT NULL,
  PRIMARY KEY (startup_id, fact_key)
);
)sql"},
      {7, SteeringMigrationSql()},
  };
  return *m;
}

}  // namespace

absl::StatusOr<v1::Startup> IncubationTx::GetStartup(const std::string& key) {
  if (IsUuid(key)) {
    return store::GetProto<v1::Startup>(db_, "SELECT data FROM startups WHERE id = ?", key,
                                        "start-up");
  }
  return store::GetProto<v1::Startup>(db_, "SELECT data FROM startups WHERE slug = ?", key,
                                      "start-up");
}

absl::StatusOr<bool> IncubationTx::SlugTaken(const std::string& slug) {
  auto q = db_.Prepare("SELECT 1 FROM startups WHERE slug = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, slug);
  return q->Step();
}

absl::Status IncubationTx::PutStartup(const v1::Startup& s, bool imported) {
  v1::Startup stored = s;
  stored.clear_overdue();  // computed when read
  stored.clear_overdue_reasons();
  auto q = db_.Prepare(
      "INSERT INTO startups(id, slug, incubator, phase, sponsors, imported, data) "
      "VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET slug = excluded.slug, "
      "incubator = excluded.incubator, phase = excluded.phase, sponsors = excluded.sponsors, "
      "imported = CASE WHEN excluded.imported > startups.imported THEN excluded.imported "
      "ELSE startups.imported END, data = excluded.data");
  if (!q.ok()) return q.status();
  const std::string sponsors = absl::StrCat(",", absl::StrJoin(s.sponsors(), ","), ",");
  return q->Bind(1, s.id())
      .Bind(2, s.slug())
      .Bind(3, s.incubator())
      .Bind(4, static_cast<int64_t>(s.phase()))
      .Bind(5, sponsors)
      .Bind(6, static_cast<int64_t>(imported))
      .BindBlob(7, stored.SerializeAsString())
      .Run();
}

absl::StatusOr<v1::FicheEdit> IncubationTx::GetFicheEdit(const std::string& id) {
  return store::GetProto<v1::FicheEdit>(db_, "SELECT data FROM fiche_edits WHERE id = ?", id, "fiche edit");
}

absl::Status IncubationTx::PutFicheEdit(const v1::FicheEdit& e) {
  auto q = db_.Prepare("INSERT INTO fiche_edits(id, startup_id, status, data) VALUES (?,?,?,?) "
                       "ON CONFLICT(id) DO UPDATE SET status = excluded.status, data = excluded.data");
  if (!q.ok()) return q.status();
  return q->Bind(1, e.id()).Bind(2, e.startup_id()).Bind(3, static_cast<int64_t>(e.status()))
      .BindBlob(4, e.SerializeAsString()).Run();
}

absl::StatusOr<std::vector<v1::FicheEdit>> IncubationTx::FicheEdits(const std::string& startup_id,
                                                                   v1::FicheEditStatus status) {
  auto q = db_.Prepare("SELECT data FROM fiche_edits WHERE (?1 = '' OR startup_id = ?1) AND (?2 = 0 OR status = ?2) "
                       "ORDER BY id");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id).Bind(2, static_cast<int64_t>(status));
  return store::AllProtos<v1::FicheEdit>(*q, "fiche edit");
}

absl::StatusOr<v1::CommitteeDecision> IncubationTx::GetDecision(const std::string& id) {
  return store::GetProto<v1::CommitteeDecision>(db_, "SELECT data FROM decisions WHERE id = ?",
                                                id, "committee decision");
}

absl::Status IncubationTx::PutDecision(const v1::CommitteeDecision& d) {
  auto q = db_.Prepare("INSERT INTO decisions(id, startup_id, data) VALUES (?,?,?) "
                       "ON CONFLICT(id) DO UPDATE SET startup_id = excluded.startup_id, data = excluded.data");
  if (!q.ok()) return q.status();
  return q->Bind(1, d.id()).Bind(2, d.startup_id()).BindBlob(3, d.SerializeAsString()).Run();
}

absl::StatusOr<std::vector<v1::CommitteeDecision>> IncubationTx::Decisions(
    const std::string& startup_id) {
  auto q = db_.Prepare("SELECT data FROM decisions WHERE startup_id = ? ORDER BY id");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  return store::AllProtos<v1::CommitteeDecision>(*q, "committee decision");
}

absl::StatusOr<std::optional<std::pair<v1::Milestone, std::string>>> IncubationTx::MilestoneByKey(
    const std::string& startup_id, const std::string& key) {
  using Result = std::optional<std::pair<v1::Milestone, std::string>>;
  auto q = db_.Prepare(
      "SELECT data, fingerprint FROM milestones WHERE startup_id = ? AND idempotency_key = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id).Bind(2, key);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Result();
  auto m = store::ParseRow<v1::Milestone>(q->Text(0), "milestone");
  if (!m.ok()) return m.status();
  return Result(std::make_pair(std::move(*m), q->Text(1)));
}

absl::Status IncubationTx::PutMilestone(const v1::Milestone& m, const std::string& fingerprint) {
  auto q = db_.Prepare(
      "INSERT INTO milestones(id, startup_id, idempotency_key, fingerprint, data) "
      "VALUES (?,?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, m.id())
      .Bind(2, m.startup_id())
      .Bind(3, m.idempotency_key())
      .BindBlob(4, fingerprint)
      .BindBlob(5, m.SerializeAsString())
      .Run();
}

absl::StatusOr<std::vector<v1::Milestone>> IncubationTx::Milestones(const std::string& startup_id) {
  auto q = db_.Prepare("SELECT data FROM milestones WHERE startup_id = ? ORDER BY id");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  return store::AllProtos<v1::Milestone>(*q, "milestone");
}

absl::StatusOr<std::optional<v1::StartupDetails>> IncubationTx::ImportSnapshot(
    const std::string& slug) {
  auto d = store::GetProto<v1::StartupDetails>(
      db_, "SELECT data FROM import_snapshots WHERE slug = ?", slug, "import snapshot");
  if (absl::IsNotFound(d.status())) return std::optional<v1::StartupDetails>();
  if (!d.ok()) return d.status();
  return std::optional<v1::StartupDetails>(std::move(*d));
}

absl::Status IncubationTx::PutImportSnapshot(const std::string& slug, const v1::StartupDetails& d) {
  auto q = db_.Prepare("INSERT INTO import_snapshots(slug, data) VALUES (?,?) "
                       "ON CONFLICT(slug) DO UPDATE SET data = excluded.data");
  if (!q.ok()) return q.status();
  return q->Bind(1, slug).BindBlob(2, d.SerializeAsString()).Run();
}

absl::StatusOr<bool> IncubationTx::RecordInbox(const std::string& ce_id, const std::string& topic) {
  return store::RecordInInbox(db_, ce_id, topic, clock_.Now());
}

absl::StatusOr<std::map<std::string, std::string>> IncubationTx::FactIds(const std::string& startup_id) {
  auto q = db_.Prepare("SELECT fact_key, fact_id FROM public_facts WHERE startup_id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  std::map<std::string, std::string> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.emplace(q->Text(0), q->Text(1));
  }
}

absl::Status IncubationTx::EmitOwn(const std::string& aggregate_id, int64_t version, const std::string& actor,
                                   absl::Time effective, const google::protobuf::Message& payload) {
  return store::EmitEvent(db_,
                          {.topic = kTopic,
                           .source = kSource,
                           .aggregate_id = aggregate_id,
                           .correlation_id = aggregate_id,  // its own lineage (a fact: public as a whole)
                           .aggregate_version = version,
                           .actor = actor,
                           .effective_time = effective,
                           .recorded_time = clock_.Now()},
                          payload);
}

absl::Status IncubationTx::AttestPublicFacts() {
  for (const std::string& id : touched_) {
    auto st = GetStartup(id);
    if (!st.ok()) return st.status();
    v1::StartupDetails d;
    const bool published = st->publication().published();
    if (published && st->publication().events()) {
      auto decisions = Decisions(id);
      if (!decisions.ok()) return decisions.status();
      auto milestones = Milestones(id);
      if (!milestones.ok()) return milestones.status();
      for (auto& c : *decisions) *d.add_decisions() = std::move(c);
      for (auto& m : *milestones) *d.add_milestones() = std::move(m);
    }
    *d.mutable_startup() = std::move(*st);
    std::vector<PublicFact> shown;
    PublicView(d, nullptr, &shown);
    auto attested = FactIds(id);
    if (!attested.ok()) return attested.status();
    std::set<std::string> keys;
    for (PublicFact& f : shown) {
      keys.insert(f.key);
      if (attested->contains(f.key)) continue;
      const std::string fact_id = NewUuidV7(clock_.Now());
      f.fact.set_fact_id(fact_id);
      PEP_RETURN_IF_ERROR(EmitOwn(fact_id, 1, "pep-incubation", FromTimestamp(f.fact.date()), f.fact));
      auto q = db_.Prepare("INSERT INTO public_facts(startup_id, fact_key, fact_id) VALUES (?,?,?)");
      if (!q.ok()) return q.status();
      PEP_RETURN_IF_ERROR(q->Bind(1, id).Bind(2, f.key).Bind(3, fact_id).Run());
    }
    for (const auto& [key, fact_id] : *attested) {
      if (keys.contains(key)) continue;
      v1::PublicFactWithdrawn w;
      w.set_fact_id(fact_id);
      w.set_startup_id(id);
      const bool phase = key.rfind("phase:", 0) == 0;
      w.set_reason(!published                                      ? "unpublished"
                   : phase && d.startup().publication().phases()  ? "corrected"
                                                                   : "part_hidden");
      PEP_RETURN_IF_ERROR(EmitOwn(fact_id, 2, "pep-incubation", clock_.Now(), w));
      auto q = db_.Prepare("DELETE FROM public_facts WHERE startup_id = ? AND fact_key = ?");
      if (!q.ok()) return q.status();
      PEP_RETURN_IF_ERROR(q->Bind(1, id).Bind(2, key).Run());
    }
  }
  touched_.clear();
  return absl::OkStatus();
}

absl::Status IncubationTx::Emit(const v1::Startup& s, const google::protobuf::Message& payload,
                                const std::string& actor, absl::Time effective,
                                const std::string& causation_id) {
  if (s.publication().published() || payload.GetDescriptor() == v1::PublicationChanged::descriptor()) {
    touched_.insert(s.id());
  }
  PEP_RETURN_IF_ERROR(Journal(s.id(), payload));
  return store::EmitEvent(db_,
                          {.topic = kTopic,
                           .source = kSource,
                           .aggregate_id = s.id(),
                           .correlation_id = s.correlation_id(),
                           .causation_id = causation_id,
                           .aggregate_version = s.version(),
                           .actor = actor,
                           .effective_time = effective,
                           .recorded_time = clock_.Now()},
                          payload);
}

absl::StatusOr<std::unique_ptr<IncubationStore>> IncubationStore::Open(
    const std::string& database_url, const Clock& clock) {
  auto db = store::Db::Connect(database_url);
  if (!db.ok()) return db.status();
  absl::Status s = (*db)->Migrate(Migrations());
  if (!s.ok()) return s;
  auto reads = store::ReadPool::Open(database_url, store::kReadConnections);
  if (!reads.ok()) return reads.status();
  std::unique_ptr<IncubationStore> store(new IncubationStore(std::move(*db), std::move(*reads), clock));
  PEP_RETURN_IF_ERROR(store->BaselineSteering());
  return store;
}

absl::Status IncubationStore::Write(const std::function<absl::Status(IncubationTx&)>& fn) {
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  IncubationTx itx(*db_, clock_);
  absl::Status s = fn(itx);
  if (!s.ok()) return s;
  PEP_RETURN_IF_ERROR(itx.AttestPublicFacts());
  return tx.Commit();
}

absl::Status IncubationStore::Read(const std::function<absl::Status(IncubationTx&)>& fn) {
  return reads_->With(mu_, *db_, [&](store::Db& db) {
    IncubationTx itx(db, clock_);
    return fn(itx);
  });
}

absl::StatusOr<std::vector<v1::Startup>> IncubationStore::AllStartups() {
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<std::vector<v1::Startup>> {
    auto q = db.Prepare("SELECT data FROM startups ORDER BY id");
    if (!q.ok()) return q.status();
    return store::AllProtos<v1::Startup>(*q, "start-up");
  });
}

absl::StatusOr<std::vector<v1::Startup>> IncubationStore::ScanStartups(
    v1::Phase phase, const std::string& incubator, const std::string& sponsor,
    const std::string& after_id, int limit) {
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<std::vector<v1::Startup>> {
    auto q = db.Prepare(
        "SELECT data FROM startups WHERE (?1 = 0 OR phase = ?1) AND (?2 = '' OR incubator = ?2) "
        "AND (?3 = '' OR sponsors LIKE '%,' || ?3 || ',%') AND id > ?4 ORDER BY id LIMIT ?5");
    if (!q.ok()) return q.status();
    q->Bind(1, static_cast<int64_t>(phase)).Bind(2, incubator).Bind(3, sponsor);
    q->Bind(4, after_id).Bind(5, static_cast<int64_t>(limit));
    return store::AllProtos<v1::Startup>(*q, "start-up");
  });
}

}  // namespace pep::incubation
