// Server-side sign-in state: a pending sign-in is good once (a replayed state is refused) and
// not after 10 minutes; an account is keyed by (iss, sub), not by e-mail; a session's secret is
// stored only hashed and stops at its absolute lifetime, when idle too long, and when revoked.
#include "services/gateway/signin_store.h"

#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/postgres_testing.h"
#include "services/gateway/gateway_db.h"
#include "absl/strings/str_cat.h"
#include "store/sqlite.h"

namespace pep::gateway {
namespace {

class SignInStoreTest : public ::testing::TestWithParam<pep::testing::Backend> {
 protected:
  void SetUp() override {
    url_ = pep::testing::StoreUrl(GetParam(), dir_, "signin.db");
    auto s = SignInStore::Open(url_, clock_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  Account Claims(const std::string& sub, const std::string& email) {
    return {.issuer = "https://auth.agentconnect.gouv.fr/api/v2", .subject = sub, .email = email,
            .display_name = "Camille Roux", .organisation = "22060001900016"};
  }
  pep::testing::TempDir dir_;
  std::string url_;  // the store's
  FakeClock clock_{absl::FromUnixSeconds(1796160000)};
  std::unique_ptr<SignInStore> store_;
};

TEST_P(SignInStoreTest, APendingSignInIsGoodOnceAndNotForLong) {
  ASSERT_TRUE(store_->SavePending("state-1", {"nonce-1", "verifier-1", "/portefeuille"}).ok());
  auto p = store_->TakePending("state-1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->nonce, "nonce-1");
  EXPECT_EQ(p->code_verifier, "verifier-1");
  EXPECT_EQ(p->return_to, "/portefeuille");
  auto replay = store_->TakePending("state-1");
  EXPECT_TRUE(absl::IsNotFound(replay.status())) << "a replayed state is refused";
  EXPECT_NE(replay.status().message().find("state:"), std::string::npos);
  ASSERT_TRUE(store_->SavePending("state-2", {"n", "v", "/"}).ok());
  clock_.Advance(absl::Minutes(11));
  EXPECT_TRUE(absl::IsNotFound(store_->TakePending("state-2").status())) << "too old";
  EXPECT_TRUE(absl::IsNotFound(store_->TakePending("never-issued").status()));
}

// Issue 26: anonymous clients begin sign-ins they never finish. The pending table holds at most
// max_pending rows (the oldest go first, counted every 64 sign-ins) and expired rows go in
// bounded batches; it used to grow with every /auth/login for ten minutes, unbounded.
TEST_P(SignInStoreTest, PendingSignInsAreBounded) {
  auto small = SignInStore::Open(url_, clock_, SessionLimits{.max_pending = 100});
  ASSERT_TRUE(small.ok());
  auto count = [&] {
    auto db = store::Db::Connect(url_);
    auto q = (*db)->Prepare("SELECT COUNT(*) FROM pending_signins");
    auto row = q->Step();
    return row.ok() && *row ? q->Int(0) : -1;
  };
  for (int i = 0; i < 640; ++i) {
    ASSERT_TRUE((*small)->SavePending(absl::StrCat("flood-", i), {"n", "v", "/"}).ok());
    clock_.Advance(absl::Milliseconds(10));
  }
  EXPECT_LE(count(), 100 + 63) << "the table grew past its cap";
  EXPECT_TRUE((*small)->TakePending("flood-639").ok()) << "the newest is kept";
  EXPECT_TRUE(absl::IsNotFound((*small)->TakePending("flood-0").status())) << "the oldest went first";
  clock_.Advance(absl::Minutes(11));  // all expired: each new sign-in clears a batch of them
  for (int i = 0; i < 4; ++i) ASSERT_TRUE((*small)->SavePending(absl::StrCat("late-", i), {"n", "v", "/"}).ok());
  EXPECT_LE(count(), 4) << "expired sign-ins stayed";
}

TEST_P(SignInStoreTest, AccountsAreKeyedByIssuerAndSubjectNotEmail) {
  auto first = store_->UpsertAccount(Claims("sub-1", "camille.roux@departement06.fr"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created_now);
  auto again = store_->UpsertAccount(Claims("sub-1", "c.roux@departement06.fr"));  // e-mail changed
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created_now);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->email, "c.roux@departement06.fr");
  // Another subject with the first e-mail is another person.
  auto other = store_->UpsertAccount(Claims("sub-2", "camille.roux@departement06.fr"));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->created_now);
  EXPECT_NE(other->id, first->id);
  Account no_sub = Claims("", "x@y.fr");
  EXPECT_TRUE(absl::IsInvalidArgument(store_->UpsertAccount(no_sub).status()));
}

TEST_P(SignInStoreTest, SessionsExpireIdleOutAndAreRevokedStoredOnlyHashed) {
  auto account = store_->UpsertAccount(Claims("sub-1", "camille.roux@departement06.fr"));
  ASSERT_TRUE(account.ok());
  auto secret = store_->CreateSession(account->id, "id-token-1");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_GE(secret->size(), 43u);
  auto live = store_->Authenticate(*secret);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->account.id, account->id);
  EXPECT_EQ(live->id_token, "id-token-1");
  {
    auto db = store::Db::Connect(url_);
    ASSERT_TRUE(db.ok());
    auto q = (*db)->Prepare("SELECT COUNT(*) FROM sessions WHERE secret_sha256 = ?");
    ASSERT_TRUE(q.ok());
    q->Bind(1, *secret);
    ASSERT_TRUE(q->Step().value_or(false));
    EXPECT_EQ(q->Int(0), 0) << "the secret itself is never stored";
  }
  // Used every hour: alive until the absolute 12 h.
  for (int h = 0; h < 11; ++h) {
    clock_.Advance(absl::Hours(1));
    ASSERT_TRUE(store_->Authenticate(*secret).ok()) << h;
  }
  clock_.Advance(absl::Hours(1) + absl::Minutes(1));
  auto expired = store_->Authenticate(*secret);
  EXPECT_TRUE(absl::IsUnauthenticated(expired.status()));
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos) << expired.status();
  // Idle for 2 h: gone.
  auto idle_secret = store_->CreateSession(account->id, "t");
  clock_.Advance(absl::Hours(2) + absl::Minutes(1));
  EXPECT_NE(store_->Authenticate(*idle_secret).status().message().find("idle"), std::string::npos);
  // Revoked: gone at once, and only once.
  auto revoked = store_->CreateSession(account->id, "t");
  ASSERT_TRUE(store_->Revoke(*revoked).ok());
  EXPECT_NE(store_->Authenticate(*revoked).status().message().find("signed out"), std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(store_->Revoke(*revoked)));
  EXPECT_TRUE(absl::IsUnauthenticated(store_->Authenticate("forged").status()));
}

// The coordinators' account search: a piece of the name or e-mail, any case; the text's own
// % and _ are characters, not wildcards (it became LIKE with escapes to run on both engines).
TEST_P(SignInStoreTest, AccountSearchFindsAPieceOfNameOrEmailLiterally) {
  auto a = Claims("sub-a", "c.roux@departement06.fr");
  a.display_name = "Camille Roux";
  auto b = Claims("sub-b", "ana@departement06.fr");
  b.display_name = "Ana 100%_sûre";
  ASSERT_TRUE(store_->UpsertAccount(a).ok());
  ASSERT_TRUE(store_->UpsertAccount(b).ok());
  auto names = [&](const std::string& text) {
    std::vector<std::string> out;
    auto r = store_->ListAccounts(text, 10);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) for (const auto& acc : *r) out.push_back(acc.display_name);
    return out;
  };
  EXPECT_EQ(names("ROUX"), std::vector<std::string>{"Camille Roux"});
  EXPECT_EQ(names("06.fr").size(), 2u);
  EXPECT_EQ(names("%"), std::vector<std::string>{"Ana 100%_sûre"});
  EXPECT_EQ(names("0%_s"), std::vector<std::string>{"Ana 100%_sûre"});
  EXPECT_TRUE(names("a_a").empty()) << "_ matched any character";
  EXPECT_EQ(names("").size(), 2u);
}

// Every gateway replica computes the same client keys: the salt is made once, by whichever
// comes first, and read by the others.
TEST_P(SignInStoreTest, ASharedSettingIsMadeOnceAndReadByEveryone) {
  auto one = store::Db::Connect(url_);
  auto two = store::Db::Connect(url_);
  ASSERT_TRUE(one.ok() && two.ok());
  int made = 0;
  auto first = SharedSetting(**one, "client_ip_salt", [&] { ++made; return std::string("salt-1"); });
  auto second = SharedSetting(**two, "client_ip_salt", [&] { ++made; return std::string("salt-2"); });
  ASSERT_TRUE(first.ok() && second.ok()) << first.status() << second.status();
  EXPECT_EQ(*first, "salt-1");
  EXPECT_EQ(*second, "salt-1");
  EXPECT_EQ(made, 1);
}

PEP_ON_BOTH_ENGINES(SignInStoreTest);

}  // namespace
}  // namespace pep::gateway
