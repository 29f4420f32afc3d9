// pep-feedback over a real in-process gRPC server and store — a SQLite file, then a PostgreSQL
// database — (no Kafka): acceptance from
// the start-up read model, idempotency, rate limiting with an injected clock, PII masking before
// storage, moderation, summaries with the data threshold, and exports.
#include "services/feedback/feedback_service.h"

#include "common/proto_time.h"
#include "common/uuid.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/postgres_testing.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "prometheus/registry.h"
#include "server/grpc_server.h"
#include "store/outbox.h"

namespace pep::feedback {
namespace {

namespace inc = ::pepiniere::incubation::v1;

class FeedbackServiceTest : public ::testing::TestWithParam<pep::testing::Backend> {
 protected:
  void SetUp() override {
    url_ = pep::testing::StoreUrl(GetParam(), dir_, "feedback.db");
    store_ = std::move(*FeedbackStore::Open(url_, clock_));
    store_->StartWriter(nullptr);
    svc_ = std::make_unique<FeedbackService>(
        *store_, clock_, metrics_,
        FeedbackServiceOptions{.auth = {.insecure_dev = true}, .rate_limit_per_minute = 5,
                               .summary_threshold = 3});
    ASSERT_TRUE(svc_->Init().ok());
    grpc_metrics_ = std::make_unique<telemetry::GrpcServerMetrics>(registry_);
    server_ = std::move(*server::GrpcServer::Start(svc_.get(), {.port = 0}, *grpc_metrics_));
    stub_ = v1::FeedbackService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    startup_ = NewUuidV7(clock_.Now());
  }
  void TearDown() override {
    server_->Shutdown(absl::Seconds(1));
    store_->StopWriter();
  }

  // The start-up's next event (or, with `version`, an event of that version: a replay).
  void Phase(inc::Phase phase, int64_t version = 0) {
    events::Record r;
    r.topic = "pepiniere.incubation.events";
    events::Envelope e;
    e.id = NewUuidV7(clock_.Now());
    e.correlation_id = "idea-root-1";
    e.aggregate_version = version > 0 ? version : events_ + 1;
    if (version == 0 && ++events_ == 1) {
      inc::StartupCreated ev;
      ev.mutable_startup()->set_id(startup_);
      ev.mutable_startup()->set_phase(phase);
      e.type = "pepiniere.incubation.v1.StartupCreated";
      r.value = ev.SerializeAsString();
    } else {
      inc::PhaseChanged ev;
      ev.set_startup_id(startup_);
      ev.set_to(phase);
      e.type = "pepiniere.incubation.v1.PhaseChanged";
      r.value = ev.SerializeAsString();
    }
    ASSERT_TRUE(svc_->HandleIncubationEvent(r, e).ok());
  }

  grpc::Status Submit(v1::SubmitFeedbackRequest r, v1::Feedback* out = nullptr,
                      const std::string& client = "client-a", std::string* retry_after = nullptr) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-pep-actor", "public");
    ctx.AddMetadata("x-pep-client-key", client);
    v1::Feedback f;
    if (r.startup_id().empty()) r.set_startup_id(startup_);
    grpc::Status s = stub_->SubmitFeedback(&ctx, r, out ? out : &f);
    if (retry_after != nullptr) {
      auto it = ctx.GetServerTrailingMetadata().find("x-pep-retry-after");
      *retry_after = it == ctx.GetServerTrailingMetadata().end()
                         ? "" : std::string(it->second.data(), it->second.size());
    }
    return s;
  }
  std::string retry_after_;

  static v1::SubmitFeedbackRequest Answer(v1::Satisfaction s, const std::string& verbatim = "") {
    v1::SubmitFeedbackRequest r;
    r.set_satisfaction(s);
    r.set_verbatim(verbatim);
    return r;
  }

  pep::testing::TempDir dir_;
  std::string url_;  // the store's
  FakeClock clock_{absl::FromUnixSeconds(1795867200)};  // 2026-11-28
  prometheus::Registry registry_;
  FeedbackMetrics metrics_{registry_};
  std::unique_ptr<telemetry::GrpcServerMetrics> grpc_metrics_;
  std::unique_ptr<FeedbackStore> store_;
  std::unique_ptr<FeedbackService> svc_;
  std::unique_ptr<server::GrpcServer> server_;
  std::unique_ptr<v1::FeedbackService::Stub> stub_;
  std::string startup_;
  int events_ = 0;
};

TEST_P(FeedbackServiceTest, AcceptedOnlyFromConstructionAndNotAfterAbandon) {
  EXPECT_EQ(Submit(Answer(v1::SATISFACTION_GOOD)).error_code(), grpc::StatusCode::NOT_FOUND);
  Phase(inc::PHASE_INVESTIGATION);
  grpc::Status early = Submit(Answer(v1::SATISFACTION_GOOD));
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(early.error_message().find("INVESTIGATION"), std::string::npos);
  Phase(inc::PHASE_CONSTRUCTION);
  EXPECT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD)).ok());
  Phase(inc::PHASE_ABANDONED);
  EXPECT_EQ(Submit(Answer(v1::SATISFACTION_GOOD)).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // Issue 26: a dead letter replayed later (version 2, CONSTRUCTION, a new delivery) must not
  // reopen the abandoned product's form; it used to.
  Phase(inc::PHASE_CONSTRUCTION, 2);
  EXPECT_EQ(Submit(Answer(v1::SATISFACTION_GOOD)).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(svc_->RefreshProducts().ok());  // nor does the stored row say otherwise
  EXPECT_EQ(Submit(Answer(v1::SATISFACTION_GOOD)).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(metrics_.Rejected("not_accepting").Value(), 4);
  EXPECT_EQ(metrics_.Rejected("unknown_startup").Value(), 1);
  EXPECT_EQ(metrics_.Received(v1::SATISFACTION_GOOD).Value(), 1);
}

TEST_P(FeedbackServiceTest, IdempotencyKeyMakesADoubleClickOneAnswer) {
  Phase(inc::PHASE_CONSTRUCTION);
  auto r = Answer(v1::SATISFACTION_MEDIUM, "Un peu long");
  r.set_idempotency_key("click-1");
  v1::Feedback a, b;
  ASSERT_TRUE(Submit(r, &a).ok());
  ASSERT_TRUE(Submit(r, &b).ok());
  EXPECT_EQ(a.id(), b.id());
  grpc::ClientContext ctx;
  v1::ListFeedbackRequest lr;
  lr.set_startup_id(startup_);
  v1::ListFeedbackResponse list;
  ASSERT_TRUE(stub_->ListFeedback(&ctx, lr, &list).ok());
  EXPECT_EQ(list.feedback_size(), 1);
  EXPECT_EQ(metrics_.Received(v1::SATISFACTION_MEDIUM).Value(), 1);
}

TEST_P(FeedbackServiceTest, AnIdempotencyKeyBelongsToItsClient) {
  Phase(inc::PHASE_CONSTRUCTION);
  auto first = Answer(v1::SATISFACTION_GOOD, "Mon avis à moi");
  first.set_idempotency_key("form-1764331200000");
  auto second = Answer(v1::SATISFACTION_BAD, "Le mien est différent");
  second.set_idempotency_key("form-1764331200000");  // the same millisecond, another person
  v1::Feedback a, b, replay;
  ASSERT_TRUE(Submit(first, &a, "client-a").ok());
  ASSERT_TRUE(Submit(second, &b, "client-b").ok());
  EXPECT_NE(a.id(), b.id()) << "two clients, two answers";
  EXPECT_EQ(b.verbatim(), "Le mien est différent") << "never the other person's answer";
  ASSERT_TRUE(Submit(first, &replay, "client-a").ok());
  EXPECT_EQ(replay.id(), a.id()) << "a replay answers its own client";
}

TEST(FeedbackStoreQueue, PastItsBoundAnAnswerIsRefusedNotQueued) {
  pep::testing::TempDir dir;
  FakeClock clock{absl::FromUnixSeconds(1764331200)};
  auto store = FeedbackStore::Open(dir.path() + "/feedback.db", clock, 512, /*max_queued=*/2);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<absl::Status> results;
  for (int i = 0; i < 3; ++i) {  // the writer is not started: nothing leaves the queue
    PendingAnswer a;
    a.feedback.set_id(absl::StrCat("f", i));
    a.done = [&results](absl::StatusOr<v1::Feedback> r, bool) { results.push_back(r.status()); };
    (*store)->Enqueue(std::move(a));
  }
  ASSERT_EQ(results.size(), 1u) << "two queued, one refused at once";
  EXPECT_TRUE(absl::IsResourceExhausted(results[0])) << results[0];
  EXPECT_NE(results[0].message().find("retry shortly"), std::string::npos);
  (*store)->StartWriter(nullptr);
  (*store)->StopWriter();  // drains the two queued
  EXPECT_EQ(results.size(), 3u);
}

// Two replicas on one PostgreSQL database: one client's answers to one start-up count against
// one limit wherever they land (each replica limiting in memory would let 5 through each).
TEST(SharedLimits, TwoReplicasOnOneDatabaseShareAClientsLimit) {
  FakeClock clock{absl::FromUnixSeconds(1764331200)};
  const std::string url = pep::testing::PostgresServer::Shared().NewDatabase("limits");
  auto a = FeedbackStore::Open(url, clock);
  auto b = FeedbackStore::Open(url, clock);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->shared());
  FeedbackStore* replica[2] = {a->get(), b->get()};
  for (int i = 0; i < 5; ++i) {
    clock.Advance(absl::Seconds(1));
    auto w = replica[i % 2]->AllowShared("client-a|s1", clock.Now(), 5, absl::Minutes(1));
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_FALSE(w->has_value()) << "answer " << i << " refused";
  }
  auto sixth = replica[1]->AllowShared("client-a|s1", clock.Now(), 5, absl::Minutes(1));
  ASSERT_TRUE(sixth.ok() && sixth->has_value()) << "the sixth answer in a minute went through";
  EXPECT_EQ(**sixth, absl::Seconds(56)) << "until the first of the five leaves the window";
  EXPECT_FALSE(replica[0]->AllowShared("client-b|s1", clock.Now(), 5, absl::Minutes(1))->has_value())
      << "another client has its own limit";
  clock.Advance(absl::Seconds(56));
  EXPECT_FALSE(replica[0]->AllowShared("client-a|s1", clock.Now(), 5, absl::Minutes(1))->has_value());
  // Idle clients' rows go: client-b's last hit is 56 s old.
  auto gone = replica[1]->ForgetIdleLimits(clock.Now() - absl::Seconds(30));
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, 1);
  // SQLite: one process, limits in memory.
  pep::testing::TempDir dir;
  auto local = FeedbackStore::Open(dir.path() + "/feedback.db", clock);
  ASSERT_TRUE(local.ok());
  EXPECT_FALSE((*local)->shared());
}

TEST_P(FeedbackServiceTest, ListPagesOldestFirstWithoutLossOrRepeat) {
  Phase(inc::PHASE_CONSTRUCTION);
  // Two answers in the same microsecond (ties ordered by id), then one a minute later each.
  std::vector<std::string> submitted;
  for (int i = 0; i < 5; ++i) {
    if (i >= 2) clock_.Advance(absl::Minutes(1));
    v1::Feedback f;
    ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD), &f, absl::StrCat("client-", i)).ok());
    submitted.push_back(f.id());
  }
  std::sort(submitted.begin(), submitted.begin() + 2);  // the tie: by id
  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext ctx;
    v1::ListFeedbackRequest lr;
    lr.set_startup_id(startup_);
    lr.set_page_size(2);
    lr.set_page_token(token);
    v1::ListFeedbackResponse page;
    ASSERT_TRUE(stub_->ListFeedback(&ctx, lr, &page).ok());
    for (const auto& f : page.feedback()) listed.push_back(f.id());
    token = page.next_page_token();
    ASSERT_LE(++pages, 3);
  } while (!token.empty());
  EXPECT_EQ(listed, submitted);
  grpc::ClientContext ctx;
  v1::ListFeedbackRequest lr;
  lr.set_startup_id(startup_);
  lr.set_page_token("not-an-id");
  v1::ListFeedbackResponse page;
  grpc::Status bad = stub_->ListFeedback(&ctx, lr, &page);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("page_token"), std::string::npos);
}

TEST_P(FeedbackServiceTest, RateLimitPerClientAndStartupSaysWhenToRetry) {
  Phase(inc::PHASE_CONSTRUCTION);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD)).ok()) << i;
  clock_.Advance(absl::Seconds(20));
  grpc::Status limited = Submit(Answer(v1::SATISFACTION_GOOD), nullptr, "client-a", &retry_after_);
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(retry_after_, "40") << "Retry-After for the gateway, in trailing metadata";
  EXPECT_NE(limited.error_message().find("retry in 40 s"), std::string::npos) << limited.error_message();
  EXPECT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD), nullptr, "client-b").ok());
  clock_.Advance(absl::Seconds(41));
  EXPECT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD)).ok());
}

TEST_P(FeedbackServiceTest, PiiIsMaskedBeforeStorageAndInTheEvent) {
  Phase(inc::PHASE_CONSTRUCTION);
  v1::Feedback f;
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_BAD, "Rappelez-moi au 06 12 34 56 78 ou a@b.fr"), &f).ok());
  EXPECT_EQ(f.verbatim(), "Rappelez-moi au [téléphone] ou [email]");
  EXPECT_TRUE(f.pii_masked());
  // Nothing of the raw text is in the database file, outbox included.
  store_->StopWriter();
  auto db = store::Db::Connect(url_);
  auto q = (*db)->Prepare("SELECT COUNT(*) FROM feedback WHERE data LIKE '%06 12 34%' OR data LIKE '%a@b.fr%'");
  ASSERT_TRUE(q->Step().value_or(false));
  EXPECT_EQ(q->Int(0), 0);
  auto o = (*db)->Prepare("SELECT payload, headers FROM outbox");
  ASSERT_TRUE(o->Step().value_or(false));
  EXPECT_EQ(o->Text(0).find("06 12 34"), std::string::npos);
  EXPECT_NE(o->Text(0).find("[téléphone]"), std::string::npos);
  v1::FeedbackReceived received;  // the payload is the stored answer, exactly
  ASSERT_TRUE(received.ParseFromString(o->Text(0)));
  EXPECT_EQ(received.feedback().SerializeAsString(), f.SerializeAsString());
  auto h = store::DecodeHeaders(o->Text(1));
  EXPECT_EQ(*events::FindHeader(*h, "ce_type"), "pepiniere.feedback.v1.FeedbackReceived");
  EXPECT_EQ(*events::FindHeader(*h, "ce_correlationid"), "idea-root-1");
  EXPECT_EQ(metrics_.PiiMasked("phone").Value(), 1);
  EXPECT_EQ(metrics_.PiiMasked("email").Value(), 1);
  store_->StartWriter(nullptr);
}

TEST_P(FeedbackServiceTest, ModerationHidesFromListsAndExports) {
  Phase(inc::PHASE_CONSTRUCTION);
  v1::Feedback f;
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_BAD, "texte injurieux"), &f).ok());
  {
    grpc::ClientContext ctx;
    v1::ModerateFeedbackRequest m;
    m.set_feedback_id(f.id());
    v1::Feedback out;
    EXPECT_EQ(stub_->ModerateFeedback(&ctx, m, &out).error_message(), "reason: is required");
  }
  {
    grpc::ClientContext ctx;
    v1::ModerateFeedbackRequest m;
    m.set_feedback_id(f.id());
    m.set_reason("insulte");
    v1::Feedback out;
    ASSERT_TRUE(stub_->ModerateFeedback(&ctx, m, &out).ok());
    EXPECT_TRUE(out.hidden());
    EXPECT_TRUE(out.verbatim().empty());
  }
  grpc::ClientContext ctx;
  v1::ExportFeedbackRequest er;
  er.set_startup_id(startup_);
  er.set_format(v1::EXPORT_FORMAT_JSONL);
  auto reader = stub_->ExportFeedback(&ctx, er);
  v1::ExportChunk chunk;
  std::string all;
  while (reader->Read(&chunk)) all += chunk.data();
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_NE(all.find(f.id()), std::string::npos);
  EXPECT_EQ(all.find("injurieux"), std::string::npos);
}

// The button's placements: the start-up's team names them; an answer through one counts for it;
// an unknown placement, or another start-up's, loses no answer — it is counted unplaced.
TEST_P(FeedbackServiceTest, AnswersAreCountedPerPlacementOfTheButton) {
  Phase(inc::PHASE_CONSTRUCTION);
  auto as = [](grpc::ClientContext& ctx, const std::string& roles, const std::string& scope) {
    ctx.AddMetadata("x-pep-actor", "lea");
    ctx.AddMetadata("x-pep-roles", roles);
    if (!scope.empty()) ctx.AddMetadata("x-pep-scope", scope);
  };
  auto create = [&](const std::string& startup, const std::string& label, v1::ButtonVariant variant,
                    const std::string& scope, v1::Placement* out) {
    grpc::ClientContext ctx;
    as(ctx, "product_team", scope);
    v1::CreatePlacementRequest r;
    r.set_startup_id(startup);
    r.set_label(label);
    r.set_variant(variant);
    return stub_->CreatePlacement(&ctx, r, out);
  };
  v1::Placement confirmation, accueil, other;
  ASSERT_TRUE(create(startup_, "Page de confirmation du dossier", v1::BUTTON_VARIANT_BLUE, "startup:" + startup_,
                     &confirmation).ok());
  ASSERT_TRUE(create(startup_, "Accueil — espace usager", v1::BUTTON_VARIANT_WHITE, "startup:" + startup_, &accueil).ok());
  EXPECT_EQ(create(startup_, "Ailleurs", v1::BUTTON_VARIANT_BLUE, "startup:" + NewUuidV7(clock_.Now()), &other).error_code(),
            grpc::StatusCode::PERMISSION_DENIED) << "another start-up's team";
  EXPECT_EQ(create(startup_, "", v1::BUTTON_VARIANT_BLUE, "startup:" + startup_, &other).error_message(),
            "label: is required, 120 characters at most");
  const std::string stranger = NewUuidV7(clock_.Now());
  EXPECT_EQ(create(stranger, "x", v1::BUTTON_VARIANT_BLUE, "startup:" + stranger, &other).error_code(),
            grpc::StatusCode::NOT_FOUND);

  auto via = [&](const std::string& placement, const std::string& client) {
    v1::SubmitFeedbackRequest r = Answer(v1::SATISFACTION_GOOD);
    r.set_placement(placement);
    v1::Feedback f;
    EXPECT_TRUE(Submit(r, &f, client).ok());
    return f.placement();
  };
  EXPECT_EQ(via(confirmation.id(), "c1"), confirmation.id());
  EXPECT_EQ(via(confirmation.id(), "c2"), confirmation.id());
  EXPECT_EQ(via(accueil.id(), "c3"), accueil.id());
  EXPECT_EQ(via(NewUuidV7(clock_.Now()), "c4"), "") << "an unknown placement: the answer is kept, unplaced";
  EXPECT_EQ(via("", "c5"), "");
  v1::SubmitFeedbackRequest bad = Answer(v1::SATISFACTION_GOOD);
  bad.set_placement("bouton'; DROP TABLE feedback");
  EXPECT_EQ(Submit(bad, nullptr, "c6").error_message(), "placement: is not a placement id (the p= of the button's link)");

  grpc::ClientContext ctx;
  as(ctx, "product_team", "startup:" + startup_);
  v1::ListPlacementsRequest lr;
  lr.set_startup_id(startup_);
  v1::ListPlacementsResponse list;
  ASSERT_TRUE(stub_->ListPlacements(&ctx, lr, &list).ok());
  ASSERT_EQ(list.placements_size(), 2);
  EXPECT_EQ(list.placements(0).label(), "Page de confirmation du dossier");
  EXPECT_EQ(list.placements(0).answers(), 2);
  EXPECT_EQ(list.placements(1).variant(), v1::BUTTON_VARIANT_WHITE);
  EXPECT_EQ(list.placements(1).answers(), 1);
  EXPECT_EQ(list.unplaced(), 2);
}

// The bands the public pages show: below the threshold only « not enough », never a score.
TEST_P(FeedbackServiceTest, ListBandsGivesAScoreOnlyPastTheThreshold) {
  Phase(inc::PHASE_CONSTRUCTION);
  auto bands = [this] {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-pep-actor", "public");
    v1::ListBandsResponse out;
    EXPECT_TRUE(stub_->ListBands(&ctx, v1::ListBandsRequest(), &out).ok());
    return out;
  };
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD), nullptr, "c1").ok());
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_MEDIUM), nullptr, "c2").ok());
  auto b = bands();
  ASSERT_EQ(b.bands_size(), 1);
  EXPECT_EQ(b.threshold(), 3);
  EXPECT_EQ(b.bands(0).band(), v1::BAND_INSUFFICIENT_DATA);
  EXPECT_FALSE(b.bands(0).has_satisfaction()) << "no score below the threshold";
  EXPECT_EQ(b.bands(0).answers(), 0);
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD), nullptr, "c3").ok());
  EXPECT_EQ(bands().bands(0).band(), v1::BAND_INSUFFICIENT_DATA) << "kept until the next refresh";
  ASSERT_TRUE(svc_->RefreshBands().ok());
  b = bands();
  EXPECT_EQ(b.bands(0).band(), v1::BAND_GREEN);  // (10 + 5 + 10) / 3 ≥ 8
  EXPECT_NEAR(b.bands(0).satisfaction(), 25.0 / 3, 1e-9);
  EXPECT_EQ(b.bands(0).answers(), 3);
}

TEST_P(FeedbackServiceTest, SummaryBandNeedsTheThreshold) {
  Phase(inc::PHASE_CONSTRUCTION);
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD), nullptr, "c1").ok());
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_GOOD), nullptr, "c2").ok());
  auto summary = [&](v1::Granularity g) {
    grpc::ClientContext ctx;
    v1::GetSummaryRequest r;
    r.set_startup_id(startup_);
    r.set_granularity(g);
    v1::Summary s;
    EXPECT_TRUE(stub_->GetSummary(&ctx, r, &s).ok());
    return s;
  };
  v1::Summary two = summary(v1::GRANULARITY_ROLLING_12_MONTHS);
  ASSERT_EQ(two.buckets_size(), 1);
  EXPECT_EQ(two.buckets(0).scores().band(), v1::BAND_INSUFFICIENT_DATA);
  EXPECT_EQ(two.threshold(), 3);
  ASSERT_TRUE(Submit(Answer(v1::SATISFACTION_MEDIUM), nullptr, "c3").ok());
  v1::Summary three = summary(v1::GRANULARITY_ROLLING_12_MONTHS);
  EXPECT_EQ(three.buckets(0).scores().answers(), 3);
  EXPECT_NEAR(three.buckets(0).scores().satisfaction(), 25.0 / 3, 1e-9);
  EXPECT_EQ(three.buckets(0).scores().band(), v1::BAND_GREEN);
  v1::Summary monthly = summary(v1::GRANULARITY_MONTH);
  ASSERT_GE(monthly.buckets_size(), 12);
  EXPECT_EQ(monthly.buckets(monthly.buckets_size() - 1).scores().answers(), 3);
  EXPECT_EQ(monthly.buckets(0).scores().answers(), 0);
}

PEP_ON_BOTH_ENGINES(FeedbackServiceTest);

}  // namespace
}  // namespace pep::feedback
