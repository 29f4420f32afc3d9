// SQLite floor: pragmas, migrations applied once, rollback on scope exit, outbox row encoding,
// inbox dedupe.
#include "common/uuid.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
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

TEST(Sqlite, MigrationsApplyOnceInOrder) {
  pep::testing::TempDir dir;
  std::vector<Migration> v1 = {{1, "CREATE TABLE a(x INTEGER)"}, {2, "INSERT INTO a VALUES (7)"}};
  {
    auto db = OpenTemp(dir);
    ASSERT_TRUE(db->Migrate(v1).ok());
    ASSERT_TRUE(db->Migrate(v1).ok());  // idempotent
    EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM a"), 1);
  }
  auto db = OpenTemp(dir);  // reopen: a new migration applies, old ones don't re-run
  v1.push_back({3, "INSERT INTO a VALUES (8)"});
  ASSERT_TRUE(db->Migrate(v1).ok());
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM a"), 2);
  EXPECT_EQ(Scalar(*db, "SELECT MAX(version) FROM schema_migrations"), 3);
  // A failing migration is reported with its number and leaves nothing behind.
  v1.push_back({4, "INSERT INTO a VALUES (9); INSERT INTO nope VALUES (1)"});
  absl::Status s = db->Migrate(v1);
  EXPECT_NE(s.message().find("migration 4"), absl::string_view::npos) << s;
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM a"), 2);
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  pep::testing::TempDir dir;
  auto db = OpenTemp(dir);
  ASSERT_TRUE(db->Exec("CREATE TABLE a(x INTEGER)").ok());
  {
    Transaction tx(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO a VALUES (1)").ok());
  }
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM a"), 0);
  {
    Transaction tx(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO a VALUES (1)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM a"), 1);
}

TEST(Outbox, HeadersEncodingRoundTripsAnyBytes) {
  events::Headers h = {{"a", "1"}, {"b:c", std::string("x\0y:12:", 7)}, {"", ""}};
  auto back = DecodeHeaders(EncodeHeaders(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(DecodeHeaders("5:ab").ok());
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

}  // namespace
}  // namespace pep::store
