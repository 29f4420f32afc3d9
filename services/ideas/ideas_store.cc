#include "services/ideas/ideas_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "store/outbox.h"
#include "store/proto_rows.h"

namespace pep::ideas {

namespace {

const std::vector<store::Migration>& Migrations() {
  static const auto* m = new std::vector<store::Migration>{
      {1, R"sql(
CREATE TABLE challenges (
  id         TEXT PRIMARY KEY,
  status     INTEGER NOT NULL,
  data       BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE ideas (
  id           TEXT PRIMARY KEY,
  challenge_id TEXT NOT NULL REFERENCES challenges(id),
  status       INTEGER NOT NULL,
  author_id    TEXT NOT NULL,
  request_id   TEXT,
  data         BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX ideas_by_challenge ON ideas(challenge_id, id);
CREATE INDEX ideas_by_author ON ideas(author_id, id);
CREATE INDEX ideas_by_status ON ideas(status);
CREATE UNIQUE INDEX ideas_request ON ideas(author_id, request_id) WHERE request_id IS NOT NULL;
CREATE TABLE scorecards (
  idea_id  TEXT NOT NULL REFERENCES ideas(id),
  juror_id TEXT NOT NULL,
  data     BLOB NOT NULL,
  PRIMARY KEY (idea_id, juror_id)
) WITHOUT ROWID;
)sql",
       R"sql(
CREATE TABLE challenges (
  id         TEXT PRIMARY KEY,
  status     BIGINT NOT NULL,
  data       BYTEA NOT NULL
);
CREATE TABLE ideas (
  id           TEXT PRIMARY KEY,
  challenge_id TEXT NOT NULL REFERENCES challenges(id),
  status       BIGINT NOT NULL,
  author_id    TEXT NOT NULL,
  request_id   TEXT,
  data         BYTEA NOT NULL
);
CREATE INDEX ideas_by_challenge ON ideas(challenge_id, id);
CREATE INDEX ideas_by_author ON ideas(author_id, id);
CREATE INDEX ideas_by_status ON ideas(status);
CREATE UNIQUE INDEX ideas_request ON ideas(author_id, request_id) WHERE request_id IS NOT NULL;
CREATE TABLE scorecards (
  idea_id  TEXT NOT NULL REFERENCES ideas(id),
  juror_id TEXT NOT NULL,
  data     BYTEA NOT NULL,
  PRIMARY KEY (idea_id, juror_id)
);
)sql"},
      {2, store::OutboxSchemaSql(), store::PostgresOutboxSql()},
      {3, store::OutboxV2Sql(), store::kNothingOnPostgres},
      {4, R"sql(
CREATE TABLE supports (
  idea_id    TEXT NOT NULL REFERENCES ideas(id),
  account_id TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  PRIMARY KEY (idea_id, account_id)
);
CREATE INDEX supports_by_account ON supports(account_id, idea_id);
)sql"},
      {5, R"sql(
CREATE TABLE comments (
  id         TEXT PRIMARY KEY,
  idea_id    TEXT NOT NULL REFERENCES ideas(id),
  author_id  TEXT NOT NULL,
  request_id TEXT,
  data       BYTEA NOT NULL
);
CREATE INDEX comments_by_idea ON comments(idea_id, id);
CREATE UNIQUE INDEX comments_by_request ON comments(author_id, request_id);
CREATE TABLE comment_reports (
  comment_id TEXT NOT NULL REFERENCES comments(id),
  account_id TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  PRIMARY KEY (comment_id, account_id)
);
)sql"},
      {6, R"sql(
CREATE TABLE seals (
  idea_id    TEXT NOT NULL,
  juror_id   TEXT NOT NULL,
  salt       BYTEA NOT NULL,
  commitment BYTEA NOT NULL,
  PRIMARY KEY (idea_id, juror_id)
);
)sql"},
      {7, R"sql(
CREATE TABLE invitations (
  code_hash  BYTEA PRIMARY KEY,
  idea_id    TEXT NOT NULL REFERENCES ideas(id),
  expires_us BIGINT NOT NULL,
  used_by    TEXT
);
CREATE TABLE coauthors (
  idea_id    TEXT NOT NULL REFERENCES ideas(id),
  account_id TEXT NOT NULL,
  PRIMARY KEY (idea_id, account_id)
);
CREATE INDEX coauthors_by_account ON coauthors(account_id, idea_id);
)sql"},
      {8, R"sql(
CREATE TABLE pending_claims (
  idea_id    TEXT PRIMARY KEY REFERENCES ideas(id),
  email_hash BYTEA NOT NULL
);
CREATE INDEX pending_claims_by_email ON pending_claims(email_hash);
CREATE TABLE merges (
  idea_id         TEXT PRIMARY KEY REFERENCES ideas(id),
  into_id         TEXT NOT NULL REFERENCES ideas(id),
  previous_status BIGINT NOT NULL
);
CREATE TABLE merge_supports (
  idea_id    TEXT NOT NULL,
  account_id TEXT NOT NULL,
  PRIMARY KEY (idea_id, account_id)
);
)sql"},
  };
  return *m;
}

using store::GetProto;
using store::ParseRow;

absl::StatusOr<std::vector<v1::Scorecard>> ScorecardsOf(store::Db& db, const std::string& idea_id) {
  auto q = db.Prepare("SELECT data FROM scorecards WHERE idea_id = ? ORDER BY juror_id");
  if (!q.ok()) return q.status();
  q->Bind(1, idea_id);
  return store::AllProtos<v1::Scorecard>(*q, "scorecard");
}

// A challenge's ideas in submission order (empty id: every challenge's).
absl::StatusOr<std::vector<v1::Idea>> IdeasOf(store::Db& db, const std::string& challenge_id) {
  auto q = db.Prepare("SELECT data FROM ideas WHERE (?1 = '' OR challenge_id = ?1) ORDER BY id");
  if (!q.ok()) return q.status();
  q->Bind(1, challenge_id);
  return store::AllProtos<v1::Idea>(*q, "idea");
}

constexpr char kGetChallenge[] = "SELECT data FROM challenges WHERE id = ?";
constexpr char kGetIdea[] = "SELECT data FROM ideas WHERE id = ?";

}  // namespace

absl::StatusOr<v1::Challenge> IdeasTx::GetChallenge(const std::string& id) {
  return GetProto<v1::Challenge>(db_, kGetChallenge, id, "challenge");
}

absl::Status IdeasTx::PutChallenge(const v1::Challenge& c) {
  auto q = db_.Prepare("INSERT INTO challenges(id, status, data) VALUES (?,?,?) "
                       "ON CONFLICT(id) DO UPDATE SET status = excluded.status, data = excluded.data");
  if (!q.ok()) return q.status();
  return q->Bind(1, c.id()).Bind(2, static_cast<int64_t>(c.status())).BindBlob(3, c.SerializeAsString()).Run();
}

absl::StatusOr<v1::Idea> IdeasTx::GetIdea(const std::string& id) {
  return GetProto<v1::Idea>(db_, kGetIdea, id, "idea");
}

absl::Status IdeasTx::GetIdeaAndChallenge(const std::string& idea_id, v1::Idea* idea, v1::Challenge* c) {
  auto got = GetIdea(idea_id);
  if (!got.ok()) return got.status();
  *idea = std::move(*got);
  auto ch = GetChallenge(idea->challenge_id());
  if (!ch.ok()) return ch.status();
  *c = std::move(*ch);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Idea>> IdeasTx::FindByRequestId(const std::string& author_id,
                                                                 const std::string& request_id) {
  return FindByRequest<v1::Idea>(db_, "SELECT data FROM ideas WHERE author_id = ? AND request_id = ?",
                                 author_id, request_id, "idea");
}

absl::Status IdeasTx::PutIdea(const v1::Idea& idea, const std::string& request_id) {
  auto q = db_.Prepare(
      "INSERT INTO ideas(id, challenge_id, status, author_id, request_id, data) VALUES (?,?,?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET status = excluded.status, author_id = excluded.author_id, "
      "data = excluded.data");
  if (!q.ok()) return q.status();
  q->Bind(1, idea.id()).Bind(2, idea.challenge_id()).Bind(3, static_cast<int64_t>(idea.status()));
  q->Bind(4, idea.author_id());
  if (request_id.empty()) {
    q->BindNull(5);
  } else {
    q->Bind(5, request_id);
  }
  return q->BindBlob(6, idea.SerializeAsString()).Run();
}

absl::Status IdeasTx::DeleteDraft(const std::string& idea_id) {
  for (const char* sql : {"DELETE FROM coauthors WHERE idea_id = ?", "DELETE FROM invitations WHERE idea_id = ?",
                          "DELETE FROM ideas WHERE id = ? AND status = 7"}) {
    auto q = db_.Prepare(sql);
    if (!q.ok()) return q.status();
    PEP_RETURN_IF_ERROR(q->Bind(1, idea_id).Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Idea>> IdeasTx::IdeasOfChallenge(const std::string& challenge_id) {
  return IdeasOf(db_, challenge_id);
}

absl::StatusOr<std::vector<v1::Scorecard>> IdeasTx::Scorecards(const std::string& idea_id) {
  return ScorecardsOf(db_, idea_id);
}

absl::StatusOr<bool> IdeasTx::PutScorecard(const v1::Scorecard& card) {
  auto q = db_.Prepare("SELECT 1 FROM scorecards WHERE idea_id = ? AND juror_id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, card.idea_id()).Bind(2, card.juror_id());
  auto existed = q->Step();
  if (!existed.ok()) return existed.status();
  auto put = db_.Prepare("INSERT INTO scorecards(idea_id, juror_id, data) VALUES (?,?,?) "
                           "ON CONFLICT(idea_id, juror_id) DO UPDATE SET data = excluded.data");
  if (!put.ok()) return put.status();
  absl::Status s = put->Bind(1, card.idea_id()).Bind(2, card.juror_id()).BindBlob(3, card.SerializeAsString()).Run();
  if (!s.ok()) return s;
  return *existed;
}

absl::Status IdeasTx::Emit(const std::string& aggregate_id, const std::string& correlation_id,
                           int64_t aggregate_version, const google::protobuf::Message& payload,
                           const std::string& actor, absl::Time effective_time) {
  return store::EmitEvent(db_,
                          {.topic = kTopic,
                           .source = kSource,
                           .aggregate_id = aggregate_id,
                           .correlation_id = correlation_id,
                           .aggregate_version = aggregate_version,
                           .actor = actor,
                           .effective_time = effective_time,
                           .recorded_time = clock_.Now()},
                          payload);
}

absl::StatusOr<std::unique_ptr<IdeasStore>> IdeasStore::Open(const std::string& database_url,
                                                             const Clock& clock) {
  auto db = store::Db::Connect(database_url);
  if (!db.ok()) return db.status();
  absl::Status s = (*db)->Migrate(Migrations());
  if (!s.ok()) return s;
  auto reads = store::ReadPool::Open(database_url, store::kReadConnections);
  if (!reads.ok()) return reads.status();
  return std::unique_ptr<IdeasStore>(new IdeasStore(std::move(*db), std::move(*reads), clock));
}

absl::Status IdeasStore::Write(const std::function<absl::Status(IdeasTx&)>& fn) {
  absl::MutexLock l(&mu_);
  store::Transaction tx(*db_);
  if (!tx.status().ok()) return tx.status();
  IdeasTx itx(*db_, clock_);
  absl::Status s = fn(itx);
  if (!s.ok()) return s;  // rolled back by ~Transaction
  return tx.Commit();
}

absl::StatusOr<v1::Challenge> IdeasStore::GetChallenge(const std::string& id) {
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<v1::Challenge> {
    return GetProto<v1::Challenge>(db, kGetChallenge, id, "challenge");
  });
}

absl::StatusOr<std::vector<v1::Challenge>> IdeasStore::ListChallenges(v1::ChallengeStatus status) {
  using Challenges = std::vector<v1::Challenge>;
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<Challenges> {
    auto q = db.Prepare("SELECT data FROM challenges WHERE (?1 = 0 OR status = ?1) ORDER BY id");
    if (!q.ok()) return q.status();
    q->Bind(1, static_cast<int64_t>(status));
    return store::AllProtos<v1::Challenge>(*q, "challenge");
  });
}

absl::StatusOr<v1::Idea> IdeasStore::GetIdea(const std::string& id) {
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<v1::Idea> {
    return GetProto<v1::Idea>(db, kGetIdea, id, "idea");
  });
}

absl::StatusOr<v1::ListIdeasResponse> IdeasStore::ListIdeas(const v1::ListIdeasRequest& r) {
  const int64_t page = r.page_size() <= 0 ? 50 : std::min(r.page_size(), 500);
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<v1::ListIdeasResponse> {
    auto q = db.Prepare(
        "SELECT id, data FROM ideas WHERE (?1 = '' OR challenge_id = ?1) AND (?2 = 0 OR status = ?2) "
        "AND (?3 = '' OR author_id = ?3 OR id IN (SELECT idea_id FROM coauthors WHERE account_id = ?3)) "
        "AND id > ?4 ORDER BY id LIMIT ?5");
    if (!q.ok()) return q.status();
    q->Bind(1, r.challenge_id()).Bind(2, static_cast<int64_t>(r.status())).Bind(3, r.author_id());
    q->Bind(4, r.page_token()).Bind(5, page + 1);
    v1::ListIdeasResponse out;
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (out.ideas_size() == page) {
        out.set_next_page_token(out.ideas(out.ideas_size() - 1).id());
        break;
      }
      auto idea = ParseRow<v1::Idea>(q->Text(1), "idea");
      if (!idea.ok()) return idea.status();
      *out.add_ideas() = std::move(*idea);
    }
    return out;
  });
}

absl::StatusOr<std::vector<v1::Idea>> IdeasStore::IdeasOfChallenge(const std::string& challenge_id) {
  return reads_->With(mu_, *db_, [&](store::Db& db) { return IdeasOf(db, challenge_id); });
}

absl::StatusOr<std::vector<v1::Scorecard>> IdeasStore::Scorecards(const std::string& idea_id) {
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<std::vector<v1::Scorecard>> {
    return ScorecardsOf(db, idea_id);
  });
}

absl::StatusOr<absl::flat_hash_map<std::string, std::vector<v1::Scorecard>>>
IdeasStore::ScorecardsOfChallenge(const std::string& challenge_id) {
  using ByIdea = absl::flat_hash_map<std::string, std::vector<v1::Scorecard>>;
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<ByIdea> {
    auto q = db.Prepare(
        "SELECT s.idea_id, s.data FROM scorecards s JOIN ideas i ON i.id = s.idea_id "
        "WHERE i.challenge_id = ? ORDER BY s.idea_id, s.juror_id");
    if (!q.ok()) return q.status();
    q->Bind(1, challenge_id);
    ByIdea out;
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      auto c = ParseRow<v1::Scorecard>(q->Text(1), "scorecard");
      if (!c.ok()) return c.status();
      out[q->Text(0)].push_back(std::move(*c));
    }
  });
}

absl::StatusOr<std::map<v1::IdeaStatus, int64_t>> IdeasStore::CountIdeasByStatus() {
  using Counts = std::map<v1::IdeaStatus, int64_t>;
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<Counts> {
    auto q = db.Prepare("SELECT status, COUNT(*) FROM ideas GROUP BY status");
    if (!q.ok()) return q.status();
    Counts out;
    while (true) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out[static_cast<v1::IdeaStatus>(q->Int(0))] = q->Int(1);
    }
  });
}

absl::StatusOr<bool> IdeasTx::PutSupport(const std::string& idea_id, const std::string& account_id) {
  auto q = db_.Prepare(
      "INSERT INTO supports(idea_id, account_id, created_us) VALUES (?,?,?) ON CONFLICT DO NOTHING");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, idea_id).Bind(2, account_id).Bind(3, absl::ToUnixMicros(Now())).Run());
  return db_.Changes() > 0;
}

absl::StatusOr<bool> IdeasTx::DeleteSupport(const std::string& idea_id, const std::string& account_id) {
  auto q = db_.Prepare("DELETE FROM supports WHERE idea_id = ? AND account_id = ?");
  if (!q.ok()) return q.status();
  PEP_RETURN_IF_ERROR(q->Bind(1, idea_id).Bind(2, account_id).Run());
  return db_.Changes() > 0;
}

absl::StatusOr<absl::flat_hash_set<std::string>> IdeasStore::SupportedBy(
    const std::string& account_id, const std::string& challenge_id) {
  using Ids = absl::flat_hash_set<std::string>;
  return reads_->With(mu_, *db_, [&](store::Db& db) -> absl::StatusOr<Ids> {
    auto q = db.Prepare(
        "SELECT s.idea_id FROM supports s JOIN ideas i ON i.id = s.idea_id "
        "WHERE s.account_id = ? AND (? = '' OR i.challenge_id = ?)");
    if (!q.ok()) return q.status();
    q->Bind(1, account_id).Bind(2, challenge_id).Bind(3, challenge_id);
    return store::FirstColumn<Ids>(*q);
  });
}

}  // namespace pep::ideas
