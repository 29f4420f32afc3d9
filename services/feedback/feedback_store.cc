#include "services/feedback/feedback_store.h"

#include <limits>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "services/feedback/feedback_core.h"
#include "store/proto_rows.h"

namespace pep::feedback {

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
CREATE TABLE products (
  startup_id     TEXT PRIMARY KEY,
  phase          INTEGER NOT NULL,
  correlation_id TEXT NOT NULL,
  name           TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE feedback (
  id              TEXT PRIMARY KEY,
  startup_id      TEXT NOT NULL,
  received_us     INTEGER NOT NULL,
  hidden          INTEGER NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  data            BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX feedback_by_startup ON feedback(startup_id, id);
CREATE INDEX feedback_by_time ON feedback(startup_id, received_us);
CREATE UNIQUE INDEX feedback_idempotency ON feedback(startup_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
)sql",
       // PostgreSQL's index entries do not end with the primary key: id is named in the
       // time index so that lists by (received_us, id) are read in order.
       R"sql(
CREATE TABLE products (
  startup_id     TEXT PRIMARY KEY,
  phase          BIGINT NOT NULL,
  correlation_id TEXT NOT NULL,
  name           TEXT NOT NULL
);
CREATE TABLE feedback (
  id              TEXT PRIMARY KEY,
  startup_id      TEXT NOT NULL,
  received_us     BIGINT NOT NULL,
  hidden          BIGINT NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  data            BYTEA NOT NULL
);
CREATE INDEX feedback_by_startup ON feedback(startup_id, id);
CREATE INDEX feedback_by_time ON feedback(startup_id, received_us, id);
CREATE UNIQUE INDEX feedback_idempotency ON feedback(startup_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
)sql"},
      {2, store::OutboxSchemaSql(), store::PostgresOutboxSql()},
      {3, store::InboxSchemaSql(), store::PostgresInboxSql()},
      {4, store::OutboxV2Sql(), store::kNothingOnPostgres},
      // (startup_id, received_us) ends with the primary key id in a WITHOUT ROWID table: it
      // orders lists by (received_us, id) and serves ranges, so (startup_id, id) was a fourth
      // index written by every answer for nothing.
      {5, "DROP INDEX feedback_by_startup"},
      // Idempotency keys are the client's (issue 12): the same key from two clients is two
      // answers, and a replay is answered only to the client that made the first.
      {6, R"sql(
ALTER TABLE feedback ADD COLUMN client_key TEXT NOT NULL DEFAULT '';
DROP INDEX feedback_idempotency;
CREATE UNIQUE INDEX feedback_idempotency ON feedback(startup_id, client_key, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
)sql"},
      // Rate limits every replica shares (PostgreSQL): a client's recent hits, one row per
      // (client key, start-up). Unused on SQLite, where one process keeps them in memory.
      {7, "CREATE TABLE rate_limits (key TEXT PRIMARY KEY, hits TEXT NOT NULL, last_us BIGINT NOT NULL)"},
      // The aggregate version each product's phase came from (issue 26).
      {8, "ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
       "ALTER TABLE products ADD COLUMN version BIGINT NOT NULL DEFAULT 0"},
      // The « Je donne mon avis » button's placements (issue 30), and which one an answer came by.
      {9, R"sql(
ALTER TABLE feedback ADD COLUMN placement TEXT NOT NULL DEFAULT '';
CREATE TABLE placements (
  id         TEXT PRIMARY KEY,
  startup_id TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  data       BLOB NOT NULL
);
CREATE INDEX placements_by_startup ON placements(startup_id, created_us);
)sql",
       R"sql(
ALTER TABLE feedback ADD COLUMN placement TEXT NOT NULL DEFAULT '';
CREATE TABLE placements (
  id         TEXT PRIMARY KEY,
  startup_id TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  data       BYTEA NOT NULL
);
CREATE INDEX placements_by_startup ON placements(startup_id, created_us);
)sql"},
  };
  return *m;
}

// A products row read as "startup_id, phase, correlation_id, name, version".
Product ProductOf(const store::Stmt& q) {
  return {q.Text(0), static_cast<int>(q.Int(1)), q.Text(2), q.Text(3), q.Int(4)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<FeedbackStore>> FeedbackStore::Open(const std::string& database_url,
                                                                   const Clock& clock,
                                                                   int max_batch,
                                                                   int max_queued) {
  auto writer = store::Db::Connect(database_url);
  if (!writer.ok()) return writer.status();
  absl::Status s = (*writer)->Migrate(Migrations());
  if (!s.ok()) return s;
  auto aux = store::Db::Connect(database_url);
  if (!aux.ok()) return aux.status();
  auto reads = store::ReadPool::Open(database_url, store::kReadConnections);
  if (!reads.ok()) return reads.status();
  auto store = std::unique_ptr<FeedbackStore>(
      new FeedbackStore(std::move(*writer), std::move(*aux), clock, max_batch, max_queued));
  store->reads_ = std::move(*reads);
  if (store->writer_db_->engine() != store::Engine::kSqlite) {  // the server checkpoints
    auto limits = store::Db::Connect(database_url);
    if (!limits.ok()) return limits.status();
    store->limits_db_ = std::move(*limits);
    return store;
  }
  auto checkpointer = store::WalCheckpointer::Attach(
      *store->writer_db_, store::ParseDatabaseUrl(database_url)->target);
  if (!checkpointer.ok()) return checkpointer.status();
  store->checkpointer_ = std::move(*checkpointer);
  return store;
}

FeedbackStore::~FeedbackStore() { StopWriter(); }

void FeedbackStore::StartWriter(std::function<void()> on_commit) {
  on_commit_ = std::move(on_commit);
  writer_ = std::thread([this] { WriterLoop(); });
  completer_ = std::thread([this] { CompleterLoop(); });
}

void FeedbackStore::Prepare(PendingAnswer& a, absl::Time now) {
  a.feedback_bytes = a.feedback.SerializeAsString();
  store::OutboxEvent ev = store::MakeEvent({.topic = kTopic,
                                            .source = kSource,
                                            .aggregate_id = a.feedback.id(),
                                            .correlation_id = a.correlation_id,
                                            .aggregate_version = 1,
                                            .actor = a.actor,
                                            .effective_time = FromTimestamp(a.feedback.received_at()),
                                            .recorded_time = now},
                                           v1::FeedbackReceived::default_instance());
  // FeedbackReceived is the answer as its field 1: on the wire, that field's tag and length in
  // front of the bytes serialised above — no second copy of the message.
  ev.payload.clear();
  {
    using google::protobuf::internal::WireFormatLite;
    google::protobuf::io::StringOutputStream out(&ev.payload);
    google::protobuf::io::CodedOutputStream wire(&out);
    wire.WriteTag(WireFormatLite::MakeTag(v1::FeedbackReceived::kFeedbackFieldNumber,
                                          WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    wire.WriteVarint32(static_cast<uint32_t>(a.feedback_bytes.size()));
    wire.WriteString(a.feedback_bytes);
  }
  a.event = store::Encode(std::move(ev));
}

void FeedbackStore::Enqueue(PendingAnswer answer) {
  absl::MutexLock l(&queue_mu_);
  if (stopping_) {
    answer.done(absl::UnavailableError("pep-feedback is shutting down: retry"), false);
    return;
  }
  if (static_cast<int>(queue_.size()) >= max_queued_) {
    answer.done(absl::ResourceExhaustedError(absl::StrCat(
                    "pep-feedback is overloaded (", max_queued_, " answers waiting): retry shortly")),
                false);
    return;
  }
  queue_.push_back(std::move(answer));
}

void FeedbackStore::StopWriter() {
  {
    absl::MutexLock l(&queue_mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock l(&done_mu_);
    writer_finished_ = true;
  }
  if (completer_.joinable()) completer_.join();
}

void FeedbackStore::WriterLoop() {
  auto statements = PrepareWriter();
  while (true) {
    std::vector<PendingAnswer> batch;
    {
      absl::MutexLock l(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](FeedbackStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->queue_mu_) {
            return !s->queue_.empty() || s->stopping_;
          },
          this));
      if (queue_.empty()) return;  // stopping and drained
      // Everything that arrived while the previous batch was being made durable.
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<bool> replayed(batch.size(), false);
    absl::Status s = statements.ok() ? WriteBatch(*statements, batch, replayed) : statements.status();
    if (s.ok()) {
      ++batches_;
      if (on_commit_) on_commit_();
    } else {
      LogError("feedback batch not committed", {{"error", std::string(s.message())},
                                                {"answers", absl::StrCat(batch.size())}});
    }
    absl::MutexLock l(&done_mu_);
    done_.push_back({std::move(batch), std::move(replayed), s});
  }
}

void FeedbackStore::CompleterLoop() {
  while (true) {
    Completed c;
    {
      absl::MutexLock l(&done_mu_);
      done_mu_.Await(absl::Condition(
          +[](FeedbackStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->done_mu_) {
            return !s->done_.empty() || s->writer_finished_;
          },
          this));
      if (done_.empty()) return;  // the writer has stopped and every reply was sent
      c = std::move(done_.front());
      done_.pop_front();
    }
    for (size_t i = 0; i < c.batch.size(); ++i) {
      if (c.status.ok()) {
        c.batch[i].done(std::move(c.batch[i].feedback), c.replayed[i]);
      } else {
        c.batch[i].done(
            absl::UnavailableError(absl::StrCat("not stored, retry: ", c.status.message())), false);
      }
    }
  }
}

absl::StatusOr<FeedbackStore::WriterStatements> FeedbackStore::PrepareWriter() {
  store::Db& db = *writer_db_;
  auto insert = db.Prepare(
      "INSERT INTO feedback(id, startup_id, received_us, idempotency_key, data, client_key, placement) "
      "VALUES (?,?,?,?,?,?,?)");
  if (!insert.ok()) return insert.status();
  auto by_key = db.Prepare(
      "SELECT data FROM feedback WHERE startup_id = ? AND client_key = ? AND idempotency_key = ?");
  if (!by_key.ok()) return by_key.status();
  auto outbox = store::OutboxAppender::Create(db);
  if (!outbox.ok()) return outbox.status();
  return WriterStatements{std::move(*insert), std::move(*by_key), std::move(*outbox)};
}

absl::Status FeedbackStore::WriteBatch(WriterStatements& st, std::vector<PendingAnswer>& batch,
                                       std::vector<bool>& replayed) {
  store::Transaction tx(*writer_db_);
  if (!tx.status().ok()) return tx.status();
  store::Stmt* insert = &st.insert;
  store::Stmt* by_key = &st.by_key;
  store::OutboxAppender* outbox = &st.outbox;
  absl::flat_hash_map<std::string, size_t> keys_in_batch;
  for (size_t i = 0; i < batch.size(); ++i) {
    PendingAnswer& a = batch[i];
    v1::Feedback& f = a.feedback;
    if (!a.idempotency_key.empty()) {
      const std::string k = absl::StrCat(f.startup_id(), "|", a.client_key, "|", a.idempotency_key);
      if (auto it = keys_in_batch.find(k); it != keys_in_batch.end()) {
        f = batch[it->second].feedback;  // a double click inside one batch
        replayed[i] = true;
        continue;
      }
      by_key->Reset();
      by_key->Bind(1, f.startup_id()).Bind(2, a.client_key).Bind(3, a.idempotency_key);
      auto row = by_key->Step();
      if (!row.ok()) return row.status();
      if (*row) {
        auto existing = store::ParseRow<v1::Feedback>(by_key->Text(0), "feedback");
        by_key->Reset();
        if (!existing.ok()) return existing.status();
        f = std::move(*existing);
        replayed[i] = true;
        continue;
      }
      keys_in_batch[k] = i;
    }
    insert->Reset();
    insert->Bind(1, f.id()).Bind(2, f.startup_id()).Bind(3, absl::ToUnixMicros(FromTimestamp(f.received_at())));
    if (a.idempotency_key.empty()) {
      insert->BindNull(4);
    } else {
      insert->Bind(4, a.idempotency_key);
    }
    absl::Status s = insert->BindBlob(5, a.feedback_bytes).Bind(6, a.client_key).Bind(7, f.placement()).Run();
    if (!s.ok()) return s;
    s = outbox->Append(a.event);
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

absl::StatusOr<std::vector<Product>> FeedbackStore::Products() {
  absl::MutexLock l(&aux_mu_);
  auto q = aux_db_->Prepare("SELECT startup_id, phase, correlation_id, name, version FROM products");
  if (!q.ok()) return q.status();
  std::vector<Product> out;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(ProductOf(*q));
  }
}

absl::StatusOr<std::optional<absl::Duration>> FeedbackStore::AllowShared(const std::string& key,
                                                                        absl::Time now, int limit,
                                                                        absl::Duration window) {
  absl::MutexLock l(&limits_mu_);
  store::Db& db = *limits_db_;
  // Only this row is locked (not the store's writer lock): answers of other clients go on.
  PEP_RETURN_IF_ERROR(db.Exec("BEGIN"));
  auto rollback = [&](absl::Status s) {
    (void)db.Exec("ROLLBACK");
    return s;
  };
  auto row = db.Prepare(
      "INSERT INTO rate_limits(key, hits, last_us) VALUES (?, '', ?) "
      "ON CONFLICT(key) DO UPDATE SET last_us = rate_limits.last_us RETURNING hits");
  if (!row.ok()) return rollback(row.status());
  auto got = row->Bind(1, key).Bind(2, absl::ToUnixMicros(now)).Step();
  if (!got.ok()) return rollback(got.status());
  std::vector<absl::Time> hits;
  for (absl::string_view t : absl::StrSplit(row->Text(0), ',', absl::SkipEmpty())) {
    int64_t us = 0;
    if (absl::SimpleAtoi(t, &us)) hits.push_back(absl::FromUnixMicros(us));
  }
  row->Reset();
  std::optional<absl::Duration> wait = SlideWindow(hits, now, limit, window);
  if (wait) {  // refused: nothing to change
    (void)db.Exec("ROLLBACK");
    return wait;
  }
  std::string text;
  for (absl::Time t : hits) absl::StrAppend(&text, text.empty() ? "" : ",", absl::ToUnixMicros(t));
  auto put = db.Prepare("UPDATE rate_limits SET hits = ?, last_us = ? WHERE key = ?");
  if (!put.ok()) return rollback(put.status());
  absl::Status s = put->Bind(1, text).Bind(2, absl::ToUnixMicros(now)).Bind(3, key).Run();
  if (!s.ok()) return rollback(s);
  PEP_RETURN_IF_ERROR(db.Exec("COMMIT"));
  return std::optional<absl::Duration>();
}

absl::StatusOr<int64_t> FeedbackStore::ForgetIdleLimits(absl::Time before) {
  absl::MutexLock l(&limits_mu_);
  auto q = limits_db_->Prepare("DELETE FROM rate_limits WHERE last_us < ?");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, absl::ToUnixMicros(before)).Run());
  return limits_db_->Changes();
}

absl::StatusOr<std::optional<Product>> FeedbackStore::FindProduct(const std::string& startup_id) {
  absl::MutexLock l(&aux_mu_);
  auto q = aux_db_->Prepare(
      "SELECT startup_id, phase, correlation_id, name, version FROM products WHERE startup_id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<Product>();
  return std::optional<Product>(
      ProductOf(*q));
}

absl::StatusOr<std::optional<Product>> FeedbackStore::ApplyProduct(const std::string& ce_id,
                                                                   const std::string& topic,
                                                                   const Product& p) {
  absl::MutexLock l(&aux_mu_);
  store::Transaction tx(*aux_db_);
  if (!tx.status().ok()) return tx.status();
  auto first = store::RecordInInbox(*aux_db_, ce_id, topic, clock_.Now());
  if (!first.ok()) return first.status();
  if (!*first) return std::optional<Product>();
  // The phase moves only forward in the start-up's own history (its aggregate version).
  auto q = aux_db_->Prepare(
      "INSERT INTO products(startup_id, phase, correlation_id, name, version) VALUES (?,?,?,?,?) "
      "ON CONFLICT(startup_id) DO UPDATE SET "
      "phase = CASE WHEN excluded.version > products.version THEN excluded.phase ELSE products.phase END, "
      "version = CASE WHEN excluded.version > products.version THEN excluded.version ELSE products.version END, "
      "correlation_id = CASE WHEN excluded.correlation_id = '' THEN products.correlation_id "
      "ELSE excluded.correlation_id END, "
      "name = CASE WHEN excluded.name = '' THEN products.name ELSE excluded.name END "
      "RETURNING startup_id, phase, correlation_id, name, version");
  if (!q.ok()) return q.status();
  auto row = q->Bind(1, p.startup_id)
                 .Bind(2, static_cast<int64_t>(p.phase))
                 .Bind(3, p.correlation_id)
                 .Bind(4, p.name)
                 .Bind(5, p.version)
                 .Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("products: the upsert returned no row");
  Product now = ProductOf(*q);
  q->Reset();
  absl::Status s = tx.Commit();
  if (!s.ok()) return s;
  return std::optional<Product>(std::move(now));
}

absl::StatusOr<v1::Feedback> FeedbackStore::Get(const std::string& id) {
  return reads_->With(aux_mu_, *aux_db_, [&](store::Db& db) {
    return store::GetProto<v1::Feedback>(db, "SELECT data FROM feedback WHERE id = ?", id, "feedback");
  });
}

absl::StatusOr<std::vector<v1::Feedback>> FeedbackStore::List(const std::string& startup_id,
                                                              const std::string& after_id,
                                                              int limit) {
  return reads_->With(aux_mu_, *aux_db_, [&](store::Db& db) { return ListOn(db, startup_id, after_id, limit); });
}

absl::StatusOr<std::vector<v1::Feedback>> FeedbackStore::ListOn(store::Db& db,
                                                                const std::string& startup_id,
                                                                const std::string& after_id,
                                                                int limit) {
  // Oldest first, by (received_us, id): the order of the (startup_id, received_us) index, whose
  // entries end with the primary key. The cursor is the last id of the previous page.
  int64_t after_us = std::numeric_limits<int64_t>::min();
  if (!after_id.empty()) {
    auto at = db.Prepare("SELECT received_us FROM feedback WHERE id = ?");
    if (!at.ok()) return at.status();
    at->Bind(1, after_id);
    auto row = at->Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::NotFoundError("page_token: no answer with this id (a token from another list?)");
    after_us = at->Int(0);
  }
  auto q = db.Prepare(
      "SELECT data FROM feedback WHERE startup_id = ? AND (received_us, id) > (?, ?) "
      "ORDER BY received_us, id LIMIT ?");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id).Bind(2, after_us).Bind(3, after_id).Bind(4, static_cast<int64_t>(limit));
  return store::AllProtos<v1::Feedback>(*q, "feedback");
}

absl::Status FeedbackStore::ForEachInRange(const std::string& startup_id, absl::Time from,
                                           absl::Time to,
                                           const std::function<void(const v1::Feedback&)>& each) {
  // In pages along (received_us, id): PostgreSQL results are read whole, so a year of answers
  // in one query would be held in memory at once; pages keep it to kRangePage rows on both
  // engines, and writers are not held off for the whole scan.
  constexpr int64_t kRangePage = 2000;
  int64_t after_us = absl::ToUnixMicros(from);
  std::string after_id;  // with after_us: the last row seen; "" sorts before every id, so the
                         // first page starts at `from` itself
  while (true) {
    auto rows = reads_->With(aux_mu_, *aux_db_, [&](store::Db& db) -> absl::StatusOr<std::vector<v1::Feedback>> {
      auto q = db.Prepare(
          "SELECT data FROM feedback WHERE startup_id = ? AND (received_us, id) > (?, ?) "
          "AND received_us < ? ORDER BY received_us, id LIMIT ?");
      if (!q.ok()) return q.status();
      q->Bind(1, startup_id).Bind(2, after_us).Bind(3, after_id);
      q->Bind(4, absl::ToUnixMicros(to)).Bind(5, kRangePage);
      return store::AllProtos<v1::Feedback>(*q, "feedback");
    });
    if (!rows.ok()) return rows.status();
    const std::vector<v1::Feedback> page = std::move(*rows);
    for (const auto& f : page) each(f);
    if (static_cast<int64_t>(page.size()) < kRangePage) return absl::OkStatus();
    after_us = absl::ToUnixMicros(FromTimestamp(page.back().received_at()));
    after_id = page.back().id();
  }
}

absl::StatusOr<v1::Feedback> FeedbackStore::Hide(const std::string& id, const std::string& reason,
                                                 const std::string& actor,
                                                 const std::string& correlation_id) {
  absl::MutexLock l(&aux_mu_);
  store::Transaction tx(*aux_db_);
  if (!tx.status().ok()) return tx.status();
  auto f = store::GetProto<v1::Feedback>(*aux_db_, "SELECT data FROM feedback WHERE id = ?", id,
                                         "feedback");
  if (!f.ok()) return f.status();
  if (f->hidden()) return absl::FailedPreconditionError("feedback is already hidden");
  f->set_hidden(true);
  f->set_hidden_reason(reason);
  auto q = aux_db_->Prepare("UPDATE feedback SET hidden = 1, data = ? WHERE id = ?");
  if (!q.ok()) return q.status();
  absl::Status s = q->BindBlob(1, f->SerializeAsString()).Bind(2, id).Run();
  if (!s.ok()) return s;
  v1::FeedbackModerated ev;
  ev.set_feedback_id(id);
  ev.set_startup_id(f->startup_id());
  ev.set_reason(reason);
  const absl::Time now = clock_.Now();
  s = store::EmitEvent(*aux_db_,
                       {.topic = kTopic,
                        .source = kSource,
                        .aggregate_id = id,
                        .correlation_id = correlation_id,
                        .aggregate_version = 2,
                        .actor = actor,
                        .effective_time = now,
                        .recorded_time = now},
                       ev);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  return *f;
}

}  // namespace pep::feedback
