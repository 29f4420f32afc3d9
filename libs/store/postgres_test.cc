// The store on both engines: every test here runs once on a SQLite file and once on a fresh
// database of a real PostgreSQL server (tests/harness/postgres_testing.h), through the same
// store::Db interface the services use.
#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/postgres_testing.h"
#include "store/db.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "store/postgres.h"
#include "store/read_pool.h"
#include "store/proto_rows.h"

namespace pep::store {
namespace {

using pep::testing::Backend;

class BothEngines : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    url_ = pep::testing::StoreUrl(GetParam(), dir_, "store.db");
    db_ = Connect();
  }
  std::unique_ptr<Db> Connect() {
    auto db = Db::Connect(url_);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }
  int64_t Scalar(Db& db, const std::string& sql) {
    auto q = db.Prepare(sql);
    EXPECT_TRUE(q.ok()) << q.status();
    EXPECT_TRUE(q->Step().value_or(false)) << sql;
    return q->Int(0);
  }
  bool pg() const { return GetParam() == Backend::kPostgres; }
  std::string Blob() const { return pg() ? "BYTEA" : "BLOB"; }
  std::string Big() const { return pg() ? "BIGINT" : "INTEGER"; }

  pep::testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<Db> db_;
};

TEST_P(BothEngines, ConnectsToTheEngineItsUrlNames) {
  EXPECT_EQ(db_->engine(), pg() ? Engine::kPostgres : Engine::kSqlite);
}

TEST_P(BothEngines, MigrationsApplyOnceInOrderAndAFailingOneLeavesNothing) {
  std::vector<Migration> v = {{1, "CREATE TABLE a(x " + Big() + ")"},
                              {2, "INSERT INTO a VALUES (7)"}};
  ASSERT_TRUE(db_->Migrate(v).ok());
  ASSERT_TRUE(db_->Migrate(v).ok());  // idempotent
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM a"), 1);
  v.push_back({3, "INSERT INTO a VALUES (8)"});
  auto other = Connect();  // another replica, later
  ASSERT_TRUE(other->Migrate(v).ok());
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM a"), 2);
  EXPECT_EQ(Scalar(*db_, "SELECT MAX(version) FROM schema_migrations"), 3);
  v.push_back({4, "INSERT INTO a VALUES (9); INSERT INTO nope VALUES (1)"});
  absl::Status s = db_->Migrate(v);
  EXPECT_NE(s.message().find("migration 4"), absl::string_view::npos) << s;
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM a"), 2);
  EXPECT_EQ(Scalar(*db_, "SELECT MAX(version) FROM schema_migrations"), 3);
}

TEST_P(BothEngines, ReplicasStartingTogetherApplyEachMigrationOnce) {
  std::vector<Migration> v = {{1, "CREATE TABLE a(x " + Big() + ")"}};
  for (int i = 2; i <= 20; ++i) v.push_back({i, "INSERT INTO a VALUES (" + std::to_string(i) + ")"});
  std::vector<std::thread> replicas;
  std::atomic<int> failures{0};
  for (int r = 0; r < 4; ++r) {
    replicas.emplace_back([&] {
      auto db = Connect();
      if (!db || !db->Migrate(v).ok()) ++failures;
    });
  }
  for (auto& t : replicas) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM a"), 19);
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM schema_migrations"), 20);
}

TEST_P(BothEngines, TransactionRollsBackUnlessCommitted) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE a(x " + Big() + ")").ok());
  {
    Transaction tx(*db_);
    ASSERT_TRUE(tx.status().ok()) << tx.status();
    ASSERT_TRUE(db_->Exec("INSERT INTO a VALUES (1)").ok());
  }
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM a"), 0);
  {
    Transaction tx(*db_);
    ASSERT_TRUE(db_->Exec("INSERT INTO a VALUES (1)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM a"), 1);
}

TEST_P(BothEngines, WriteTransactionsOfTwoConnectionsTakeTurns) {
  // The property every service's read-then-write logic rests on, across replicas: a second
  // writer waits until the first has committed, then sees its row.
  ASSERT_TRUE(db_->Exec("CREATE TABLE a(x " + Big() + ")").ok());
  auto other = Connect();
  Transaction first(*db_);
  ASSERT_TRUE(first.status().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO a VALUES (1)").ok());
  absl::Notification began;
  int64_t seen = -1;
  std::thread second([&] {
    Transaction tx(*other);
    began.Notify();
    if (!tx.status().ok()) return;
    seen = Scalar(*other, "SELECT COUNT(*) FROM a");
    (void)tx.Commit();
  });
  // The second one must not get in while the first is open.
  EXPECT_FALSE(began.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  ASSERT_TRUE(first.Commit().ok());
  second.join();
  EXPECT_EQ(seen, 1);
}

TEST_P(BothEngines, BlobsTextsIntegersAndNullsRoundTrip) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE r(k TEXT PRIMARY KEY, b " + Blob() + ", n " + Big() +
                        ", t TEXT)").ok());
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));  // NULs, high bytes
  const std::string text = "Évaluation « rapide » ?1 '$1'";  // placeholders inside a value
  auto put = db_->Prepare("INSERT INTO r(k, b, n, t) VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(put->Bind(1, "a").BindBlob(2, bytes).Bind(3, int64_t{-9007199254740993}).Bind(4, text).Run().ok());
  put->Reset();
  ASSERT_TRUE(put->Bind(1, "b").BindBlob(2, "").BindNull(3).BindNull(4).Run().ok());
  auto get = db_->Prepare("SELECT b, n, t FROM r WHERE k = ?1 AND ?1 <> 'x'");
  ASSERT_TRUE(get.ok()) << get.status();
  ASSERT_TRUE(get->Bind(1, "a").Step().value_or(false));
  EXPECT_EQ(get->Text(0), bytes);
  EXPECT_EQ(get->Int(1), -9007199254740993);
  EXPECT_EQ(get->Text(2), text);
  get->Reset();
  ASSERT_TRUE(get->Bind(1, "b").Step().value_or(false));
  EXPECT_EQ(get->Text(0), "");
  EXPECT_TRUE(get->IsNull(1));
  EXPECT_TRUE(get->IsNull(2));
  EXPECT_FALSE(get->Step().value_or(true));
}

TEST_P(BothEngines, ADuplicateKeyIsAlreadyExistsAndChangesCountRows) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE r(k TEXT PRIMARY KEY)").ok());
  auto put = db_->Prepare("INSERT INTO r(k) VALUES (?)");
  ASSERT_TRUE(put->Bind(1, "a").Run().ok());
  EXPECT_EQ(db_->Changes(), 1);
  put->Reset();
  EXPECT_TRUE(absl::IsAlreadyExists(put->Bind(1, "a").Run()));
  auto ignore = db_->Prepare("INSERT INTO r(k) VALUES (?) ON CONFLICT DO NOTHING");
  ASSERT_TRUE(ignore->Bind(1, "a").Run().ok());
  EXPECT_EQ(db_->Changes(), 0);
}

TEST_P(BothEngines, InboxRecordsEachEventOnce) {
  ASSERT_TRUE(db_->Migrate({{1, pg() ? PostgresInboxSql() : InboxSchemaSql()}}).ok());
  Transaction tx(*db_);
  EXPECT_TRUE(RecordInInbox(*db_, "e1", "t", absl::Now()).value_or(false));
  EXPECT_FALSE(RecordInInbox(*db_, "e1", "t", absl::Now()).value_or(true));
  EXPECT_TRUE(RecordInInbox(*db_, "e2", "t", absl::Now()).value_or(false));
  ASSERT_TRUE(tx.Commit().ok());
}

TEST_P(BothEngines, OutboxRowsKeepTheirOrderAndPruneKeepsTheNewest) {
  ASSERT_TRUE(db_->Migrate(pg() ? std::vector<Migration>{{1, PostgresOutboxSql()}}
                                : std::vector<Migration>{{1, OutboxSchemaSql()}, {2, OutboxV2Sql()}})
                  .ok());
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  for (int i = 0; i < 5; ++i) {
    Transaction tx(*db_);
    OutboxEvent e;
    e.topic = "t";
    e.key = "k";
    e.envelope.id = "id-" + std::to_string(i);
    e.envelope.type = "T";
    e.envelope.time = t0 + absl::Seconds(i);
    e.payload = std::string("\0p", 2) + std::to_string(i);
    ASSERT_TRUE(AppendToOutbox(*db_, e).ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto q = db_->Prepare("SELECT ce_id, payload, headers FROM outbox ORDER BY seq");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(q->Step().value_or(false));
    EXPECT_EQ(q->Text(0), "id-" + std::to_string(i));
    EXPECT_EQ(q->Text(1), std::string("\0p", 2) + std::to_string(i));
    EXPECT_TRUE(DecodeHeaders(q->Text(2)).ok());
  }
  q->Reset();
  ASSERT_TRUE(db_->Exec("UPDATE outbox SET sent_us = 1").ok());
  auto pruned = PruneSentOutbox(*db_, t0 + absl::Hours(1), 2);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 4);  // all sent, but the newest row stays
  EXPECT_EQ(Scalar(*db_, "SELECT COUNT(*) FROM outbox"), 1);
}

PEP_ON_BOTH_ENGINES(BothEngines);

TEST(DatabaseUrl, NamesTheEngine) {
  EXPECT_EQ(ParseDatabaseUrl("sqlite:///var/lib/pep/ideas.db")->target, "/var/lib/pep/ideas.db");
  EXPECT_EQ(ParseDatabaseUrl("sqlite://.run/ideas.db")->target, ".run/ideas.db");
  EXPECT_EQ(ParseDatabaseUrl(".run/ideas.db")->engine, Engine::kSqlite);
  EXPECT_EQ(ParseDatabaseUrl("postgres://pep@db:5432/ideas")->engine, Engine::kPostgres);
  EXPECT_EQ(ParseDatabaseUrl("postgresql://db/ideas")->engine, Engine::kPostgres);
  absl::Status bad = ParseDatabaseUrl("mysql://root:secret@db/ideas").status();
  EXPECT_NE(bad.message().find("database_url"), absl::string_view::npos) << bad;
  EXPECT_EQ(bad.message().find("secret"), absl::string_view::npos) << bad;
  EXPECT_EQ(RedactDatabaseUrl("postgres://pep:s3cret@db/ideas"), "postgres://pep:***@db/ideas");
  EXPECT_EQ(RedactDatabaseUrl("postgres://pep@db/ideas"), "postgres://pep@db/ideas");
}

TEST(Postgres, PlaceholdersBecomeNumberedOutsideQuotes) {
  int n = 0;
  EXPECT_EQ(PgDb::TranslatePlaceholders("SELECT ? , '?', \"?\" FROM t WHERE a = ? -- ?\n AND b = ?",
                                        &n),
            "SELECT $1 , '?', \"?\" FROM t WHERE a = $2 -- ?\n AND b = $3");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(PgDb::TranslatePlaceholders("WHERE a < ?2 AND b = ?1 LIMIT ?3", &n),
            "WHERE a < $2 AND b = $1 LIMIT $3");
  EXPECT_EQ(n, 3);
}

TEST(Postgres, ARelayLockHasOneHolderAndPassesOnWhenItsConnectionEnds) {
  const std::string url = pep::testing::PostgresServer::Shared().NewDatabase("lock");
  auto a = Db::Connect(url);
  auto b = Db::Connect(url);
  ASSERT_TRUE(a.ok() && b.ok());
  auto& pa = static_cast<PgDb&>(**a);
  auto& pb = static_cast<PgDb&>(**b);
  EXPECT_TRUE(pa.TryLock("outbox-relay").value_or(false));
  EXPECT_FALSE(pb.TryLock("outbox-relay").value_or(true));
  EXPECT_TRUE(pb.TryLock("something-else").value_or(false));  // names are distinct locks
  a->reset();  // the holder's connection ends (as when its process dies)
  EXPECT_TRUE(pep::testing::WaitFor([&] { return pb.TryLock("outbox-relay").value_or(false); },
                                    absl::Seconds(10)));
}

// Issue 26: the relay lock passes on when its holder's session ends, but a holder whose host went
// silent (no FIN, no RST) kept its session — and the lock — until the kernel's keepalive, two
// hours by default. Every session asks the server to give up on a silent peer within ~15 s.
TEST(Postgres, ASilentPeerIsGivenUpWithinSeconds) {
  auto db = Db::Connect(pep::testing::PostgresServer::Shared().NewDatabase("keepalive"));
  ASSERT_TRUE(db.ok()) << db.status();
  auto show = [&](const char* setting) {
    auto q = (*db)->Prepare(absl::StrCat("SHOW ", setting));
    EXPECT_TRUE(q.ok());
    auto row = q->Step();
    return row.ok() && *row ? q->Text(0) : std::string("?");
  };
  EXPECT_EQ(show("tcp_keepalives_idle"), "5");
  EXPECT_EQ(show("tcp_keepalives_interval"), "2");
  EXPECT_EQ(show("tcp_keepalives_count"), "3");
  EXPECT_EQ(show("tcp_user_timeout"), "15000");  // milliseconds
}

TEST(Postgres, ALostConnectionIsUnavailableThenComesBack) {
  auto& server = pep::testing::PostgresServer::Shared();
  const std::string url = server.NewDatabase("outage");
  auto db = Db::Connect(url);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE a(x BIGINT)").ok());
  server.Stop();
  absl::Status down = (*db)->Exec("INSERT INTO a VALUES (1)");
  EXPECT_TRUE(absl::IsUnavailable(down)) << down;
  server.Start();
  EXPECT_TRUE(pep::testing::WaitFor([&] { return (*db)->Exec("INSERT INTO a VALUES (1)").ok(); },
                                    absl::Seconds(20)));
  auto q = (*db)->Prepare("SELECT COUNT(*) FROM a");
  ASSERT_TRUE(q->Step().value_or(false));
  EXPECT_EQ(q->Int(0), 1);
}

// The server ends the connection in the middle of a write transaction: the statements after
// it and the COMMIT fail, none of them runs on a new connection in autocommit, and nothing of
// the transaction is in the table; the next transaction reconnects.
TEST(Postgres, AConnectionLostInsideATransactionCommitsNothingOfIt) {
  auto& server = pep::testing::PostgresServer::Shared();
  const std::string url = server.NewDatabase("midtx");
  auto db = Db::Connect(url);
  auto other = Db::Connect(url);
  ASSERT_TRUE(db.ok() && other.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE a(x BIGINT)").ok());
  auto pid_q = (*db)->Prepare("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid_q->Step().value_or(false));
  const int64_t pid = pid_q->Int(0);
  {
    Transaction tx(**db);
    ASSERT_TRUE(tx.status().ok()) << tx.status();
    ASSERT_TRUE((*db)->Exec("INSERT INTO a VALUES (1)").ok());
    auto kill = (*other)->Prepare("SELECT pg_terminate_backend(?)");
    ASSERT_TRUE(kill->Bind(1, pid).Step().value_or(false));
    ASSERT_TRUE(pep::testing::WaitFor([&] {
      auto q = (*other)->Prepare("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?");
      return q->Bind(1, pid).Step().value_or(false) && q->Int(0) == 0;
    }, absl::Seconds(10)));
    absl::Status second = (*db)->Exec("INSERT INTO a VALUES (2)");
    EXPECT_TRUE(absl::IsUnavailable(second)) << second;
    auto third = (*db)->Prepare("INSERT INTO a VALUES (?)");
    absl::Status s3 = third->Bind(1, int64_t{3}).Run();
    EXPECT_TRUE(absl::IsUnavailable(s3)) << s3;
    absl::Status commit = tx.Commit();
    EXPECT_TRUE(absl::IsUnavailable(commit)) << commit;
  }
  {
    Transaction tx(**db);  // a new connection, a new transaction
    ASSERT_TRUE(tx.status().ok()) << tx.status();
    ASSERT_TRUE((*db)->Exec("INSERT INTO a VALUES (4)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto rows = (*other)->Prepare("SELECT COALESCE(string_agg(x::text, ',' ORDER BY x), '') FROM a");
  ASSERT_TRUE(rows->Step().value_or(false));
  EXPECT_EQ(rows->Text(0), "4");
}

// The chart's CloudNativePG layout: one database, a schema per component, chosen by the URL's
// options (search_path). Each component's tables (its own outbox, schema_migrations) and its
// writer lock are its own.
TEST(Postgres, ComponentsInSchemasOfOneDatabaseKeepApart) {
  const std::string url = pep::testing::PostgresServer::Shared().NewDatabase("schemas");
  auto admin = Db::Connect(url);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->Exec("CREATE SCHEMA ideas; CREATE SCHEMA feedback").ok());
  auto ideas = Db::Connect(url + "?options=-csearch_path%3Dideas");
  auto feedback = Db::Connect(url + "?options=-csearch_path%3Dfeedback");
  ASSERT_TRUE(ideas.ok() && feedback.ok()) << ideas.status() << feedback.status();
  ASSERT_TRUE((*ideas)->Migrate({{1, PostgresOutboxSql()}}).ok());
  ASSERT_TRUE((*feedback)->Migrate({{1, PostgresOutboxSql()}}).ok());
  auto tables = (*admin)->Prepare(
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'outbox' "
      "AND table_schema IN ('ideas', 'feedback')");
  ASSERT_TRUE(tables->Step().value_or(false));
  EXPECT_EQ(tables->Int(0), 2);
  Transaction tx(**ideas);  // holds the ideas schema's writer lock
  ASSERT_TRUE(tx.status().ok());
  auto other = (*feedback)->Prepare(
      "SELECT pg_try_advisory_xact_lock(hashtext(current_database() || '/' || current_schema()))");
  ASSERT_TRUE(other->Step().value_or(false));
  EXPECT_EQ(other->Int(0), 1) << "feedback's writers wait for ideas' lock";
}

// Readers of a PostgreSQL store each get a connection of their own (two at once here: two
// different server backends); on SQLite the pool is empty and reads use the store's connection.
TEST(ReadPool, ReadersRunOnConnectionsOfTheirOwnOnPostgresOnly) {
  const std::string url = pep::testing::PostgresServer::Shared().NewDatabase("pool");
  auto pool = ReadPool::Open(url, 2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ((*pool)->size(), 2u);
  auto fallback = Db::Connect(url);
  ASSERT_TRUE(fallback.ok());
  absl::Mutex mu;
  auto pid = [](Db& db) {
    auto q = db.Prepare("SELECT pg_backend_pid()");
    return q.ok() && q->Step().value_or(false) ? q->Int(0) : -1;
  };
  int64_t outer = -1, inner = -1, own = pid(**fallback);
  (*pool)->With(mu, **fallback, [&](Db& a) {
    outer = pid(a);
    (*pool)->With(mu, **fallback, [&](Db& b) { inner = pid(b); });  // while `a` is held
  });
  EXPECT_GT(outer, 0);
  EXPECT_GT(inner, 0);
  EXPECT_NE(outer, inner);
  EXPECT_NE(outer, own);
  pep::testing::TempDir dir;
  auto local = ReadPool::Open(dir.path() + "/pool.db", 2);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ((*local)->size(), 0u);
}

}  // namespace
}  // namespace pep::store
