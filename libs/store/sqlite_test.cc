// SQLite floor: pragmas, outbox row encoding and its SQLite migrations, inbox dedupe, the WAL
// checkpointer, online backup.
#include "common/uuid.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include <atomic>
#include <filesystem>
#include <thread>

#include "store/checkpointer.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "store/sqlite.h"

namespace pep::store {
namespace {

std::unique_ptr<Db> OpenTemp(const pep::testing::TempDir& dir) {
  auto db = Db::Open(dir.path() + "/t.db");
  EXPECT_TRUE(db.ok()) << db.status();
  return std::move(*db);
}

int64_t Scalar(Db& db, const std::string& sql) {
  auto q = db.Prepare(sql);
  EXPECT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->Step().value_or(false));
  return q->Int(0);
}

TEST(Sqlite, WalAndFullSync) {
  pep::testing::TempDir dir;
  auto db = OpenTemp(dir);
  auto q = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(q->Step().value_or(false));
  EXPECT_EQ(q->Text(0), "wal");
  EXPECT_EQ(Scalar(*db, "PRAGMA synchronous"), 2);  // FULL
}

// Migrations and transactions: Store/BothEngines in postgres_test.cc, on SQLite too.

TEST(Outbox, HeadersEncodingRoundTripsAnyBytes) {
  events::Headers h = {{"a", "1"}, {"b:c", std::string("x\0y:12:", 7)}, {"", ""}};
  auto back = DecodeHeaders(EncodeHeaders(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(DecodeHeaders("5:ab").ok());
}

TEST(Outbox, EnvelopeHeadersEncodeAsTheGenericEncoding) {
  events::Envelope e;
  e.id = NewUuidV7(absl::Now());
  e.source = "/pepiniere/feedback";
  e.type = "pepiniere.feedback.v1.FeedbackReceived";
  e.subject = "s-1";
  e.time = absl::FromUnixMicros(1764288000123456);
  e.effective_time = absl::FromUnixMicros(1764201600000000);
  e.actor = "public";
  e.correlation_id = "c-1";
  e.aggregate_version = 12;
  EXPECT_EQ(EncodeEnvelopeHeaders(e), EncodeHeaders(events::ToHeaders(e)));
  e.causation_id = "cause";
  EXPECT_EQ(EncodeEnvelopeHeaders(e), EncodeHeaders(events::ToHeaders(e)));
  auto back = DecodeHeaders(EncodeEnvelopeHeaders(e));
  ASSERT_TRUE(back.ok());
  auto env = events::FromHeaders(*back);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->aggregate_version, 12);
  EXPECT_EQ(env->causation_id, "cause");
  EXPECT_EQ(env->time, e.time);
}

// Outbox row number i: key "k<i>", payload "p<i>", recorded at `time`.
OutboxEvent NumberedEvent(int i, absl::Time time) {
  OutboxEvent e;
  e.topic = "t";
  e.key = absl::StrCat("k", i);
  e.envelope.id = NewUuidV7(time);
  e.envelope.type = "x.v1.Happened";
  e.envelope.time = time;
  e.payload = absl::StrCat("p", i);
  return e;
}

TEST(Outbox, SecondVersionKeepsEveryRowItsSeqAndSentMark) {
  pep::testing::TempDir dir;
  auto db = OpenTemp(dir);
  ASSERT_TRUE(db->Migrate({{1, OutboxSchemaSql()}}).ok());
  auto event = [](int i) { return NumberedEvent(i, absl::Now()); };
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(AppendToOutbox(*db, event(i)).ok());
  ASSERT_TRUE(db->Exec("UPDATE outbox SET sent_us = 42 WHERE seq = 2").ok());
  ASSERT_TRUE(db->Migrate({{1, OutboxSchemaSql()}, {2, OutboxV2Sql()}}).ok());
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'"), 0);
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM outbox"), 3);
  EXPECT_EQ(Scalar(*db, "SELECT group_concat(seq) = '1,3' FROM outbox WHERE sent_us IS NULL"), 1);
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM outbox WHERE CAST(payload AS TEXT) = 'p3' AND msg_key = 'k3'"), 1);
  ASSERT_TRUE(AppendToOutbox(*db, event(4)).ok());
  EXPECT_EQ(Scalar(*db, "SELECT MAX(seq) FROM outbox"), 4);  // numbering goes on
  // The relay's query still finds the unsent rows through the partial index.
  auto plan = db->Prepare(
      "EXPLAIN QUERY PLAN SELECT seq FROM outbox WHERE sent_us IS NULL AND seq > 0 ORDER BY seq");
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(plan->Step().value_or(false));
  EXPECT_NE(plan->Text(3).find("outbox_unsent"), std::string::npos) << plan->Text(3);
}

TEST(Outbox, PruningDeletesOnlyRowsSentBeforeTheCutAndKeepsTheNewest) {
  pep::testing::TempDir dir;
  auto db = OpenTemp(dir);
  ASSERT_TRUE(db->Migrate({{1, OutboxSchemaSql()}, {2, OutboxV2Sql()}}).ok());
  const absl::Time t0 = absl::FromUnixSeconds(1795867200);
  // seq 1..12 created an hour apart; 1-5 sent right away, 6 never sent, 7-12 sent as well.
  for (int i = 1; i <= 12; ++i) ASSERT_TRUE(AppendToOutbox(*db, NumberedEvent(i, t0 + absl::Hours(i))).ok());
  ASSERT_TRUE(db->Exec("UPDATE outbox SET sent_us = created_us + 1000 WHERE seq <> 6").ok());
  // Cut between seq 8 and 9: 1-5 and 7-8 go (in chunks of 2), 6 (unsent) and 9-12 stay.
  auto pruned = PruneSentOutbox(*db, t0 + absl::Hours(8) + absl::Minutes(30), /*chunk=*/2);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 7);
  EXPECT_EQ(Scalar(*db, "SELECT group_concat(seq) = '6,9,10,11,12' FROM outbox"), 1);
  // Everything old and sent, yet the newest row stays: seq numbering must go on from it.
  pruned = PruneSentOutbox(*db, t0 + absl::Hours(100));
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 3);
  EXPECT_EQ(Scalar(*db, "SELECT group_concat(seq) = '6,12' FROM outbox"), 1);
  ASSERT_TRUE(AppendToOutbox(*db, NumberedEvent(13, t0 + absl::Hours(13))).ok());
  EXPECT_EQ(Scalar(*db, "SELECT MAX(seq) FROM outbox"), 13);
}

TEST(Checkpointer, KeepsTheWalBoundedWithoutTheWritersOwnCheckpoints) {
  pep::testing::TempDir dir;
  const std::string path = dir.path() + "/t.db";
  auto db = OpenTemp(dir);
  ASSERT_TRUE(db->Exec("CREATE TABLE a(x BLOB)").ok());
  constexpr int kPages = 64;
  {
    auto ck = WalCheckpointer::Attach(*db, path, kPages);
    ASSERT_TRUE(ck.ok()) << ck.status();
    auto ins = db->Prepare("INSERT INTO a VALUES (randomblob(3000))");
    for (int i = 0; i < 3000; ++i) {
      ins->Reset();
      ASSERT_TRUE(ins->Run().ok());
    }
    pep::testing::WaitFor([&] { return (*ck)->checkpoints() >= 2; }, absl::Seconds(10));
    EXPECT_GE((*ck)->checkpoints(), 2);
  }
  // 3,000 single-row commits of a page or more each would make a WAL of over 12 MB if nothing
  // checkpointed (the connection's automatic checkpoint is off while the checkpointer is on).
  const auto wal = std::filesystem::file_size(path + "-wal");
  EXPECT_LT(wal, 2u * 4 * kPages * (4096 + 24)) << wal;
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM a"), 3000);
}

TEST(Inbox, SecondDeliveryOfSameEventIsRecognised) {
  pep::testing::TempDir dir;
  auto db = OpenTemp(dir);
  ASSERT_TRUE(db->Migrate({{1, InboxSchemaSql()}}).ok());
  const std::string id = NewUuidV7(absl::Now());
  EXPECT_TRUE(RecordInInbox(*db, id, "t", absl::Now()).value());
  EXPECT_FALSE(RecordInInbox(*db, id, "t", absl::Now()).value());
  EXPECT_TRUE(RecordInInbox(*db, NewUuidV7(absl::Now()), "t", absl::Now()).value());
}

TEST(Backup, CopiesALiveDatabaseConsistentlyWhileItsWriterGoesOn) {
  pep::testing::TempDir dir;
  const std::string live = dir.path() + "/live.db";
  auto writer = Db::Open(live);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Exec("CREATE TABLE pairs(batch INTEGER, half INTEGER)").ok());
  // Each transaction writes a pair; a consistent copy holds whole pairs only.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> committed{0};
  std::thread load([&] {
    auto ins = (*writer)->Prepare("INSERT INTO pairs VALUES (?, ?)");
    for (int64_t b = 0; !stop; ++b) {
      Transaction tx(**writer);
      for (int64_t half : {0, 1}) {
        ins->Reset();
        ASSERT_TRUE(ins->Bind(1, b).Bind(2, half).Run().ok());
      }
      ASSERT_TRUE(tx.Commit().ok());
      committed = b + 1;
    }
  });
  ASSERT_TRUE(pep::testing::WaitFor([&] { return committed >= 2000; }, absl::Seconds(60)));
  const std::string copy = dir.path() + "/backup.db";
  auto pages = BackupSqlite(live, copy);
  const int64_t after = committed;
  stop = true;
  load.join();
  ASSERT_TRUE(pages.ok()) << pages.status();
  EXPECT_GT(*pages, 0);
  EXPECT_FALSE(std::filesystem::exists(copy + ".partial"));
  auto restored = Db::Open(copy);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(Scalar(**restored, "SELECT COUNT(*) FROM (SELECT batch FROM pairs GROUP BY batch "
                               "HAVING COUNT(*) <> 2)"), 0);
  const int64_t rows = Scalar(**restored, "SELECT COUNT(*) FROM pairs");
  EXPECT_GE(rows, 2 * 2000);
  EXPECT_LE(rows, 2 * after);
  // A backup to a place it cannot be written fails and leaves nothing behind.
  EXPECT_FALSE(BackupSqlite(live, dir.path() + "/no/such/dir/b.db").ok());
  // A mistyped source is refused, not created empty.
  EXPECT_TRUE(absl::IsNotFound(BackupSqlite(dir.path() + "/typo.db", copy).status()));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/typo.db"));
}

}  // namespace
}  // namespace pep::store
