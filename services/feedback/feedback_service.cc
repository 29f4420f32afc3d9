#include "services/feedback/feedback_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "common/text.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::feedback {

namespace {

std::string Lower(std::string s) { return absl::AsciiStrToLower(s); }

// "CONSTRUCTION" for pepiniere.incubation.v1.PHASE_CONSTRUCTION; the number if unknown.
std::string PhaseName(int phase) {
  const std::string& name =
      ::pepiniere::incubation::v1::Phase_Name(static_cast<::pepiniere::incubation::v1::Phase>(phase));
  return name.rfind("PHASE_", 0) == 0 ? name.substr(6) : absl::StrCat("phase ", phase);
}

// What lists and exports show: hidden verbatims are blanked.
v1::Feedback Public(v1::Feedback f) {
  if (f.hidden()) f.clear_verbatim();
  return f;
}

}  // namespace

FeedbackMetrics::FeedbackMetrics(prometheus::Registry& r) {
  auto& received = prometheus::BuildCounter()
                       .Name("pep_feedback_received_total")
                       .Help("Feedback answers stored (durably), by satisfaction.")
                       .Register(r);
  for (auto s : {v1::SATISFACTION_GOOD, v1::SATISFACTION_MEDIUM, v1::SATISFACTION_BAD}) {
    received_[s] = &received.Add({{"satisfaction", Lower(v1::Satisfaction_Name(s).substr(13))}});
  }
  auto& rejected = prometheus::BuildCounter()
                       .Name("pep_feedback_rejected_total")
                       .Help("Feedback submissions refused, by reason.")
                       .Register(r);
  for (const char* reason : {"invalid", "unknown_startup", "not_accepting", "rate_limited",
                             "rate_limit_table_full", "unauthenticated", "unavailable"}) {
    rejected_[reason] = &rejected.Add({{"reason", reason}});
  }
  auto& pii = prometheus::BuildCounter()
                  .Name("pep_feedback_pii_masked_total")
                  .Help("Verbatims in which personal data was masked, by kind.")
                  .Register(r);
  for (const char* kind : {"email", "phone", "nir", "iban"}) pii_[kind] = &pii.Add({{"kind", kind}});
  rate_limit_clients_ = &prometheus::BuildGauge()
                             .Name("pep_feedback_rate_limit_clients")
                             .Help("Clients (network and product) the rate limiter tracks; capped "
                                   "by --rate_limit_max_clients.")
                             .Register(r)
                             .Add({});
  auto& bands = prometheus::BuildGauge()
                    .Name("pep_feedback_startups_by_band")
                    .Help("Products open to feedback, by the satisfaction band of their last 12 months.")
                    .Register(r);
  for (auto [b, name] : {std::pair{v1::BAND_GREEN, "green"}, std::pair{v1::BAND_YELLOW, "yellow"},
                         std::pair{v1::BAND_RED, "red"},
                         std::pair{v1::BAND_INSUFFICIENT_DATA, "insufficient_data"}}) {
    bands_[b] = &bands.Add({{"band", name}});
  }
}

absl::Status FeedbackService::RefreshBands() {
  std::vector<std::string> open;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, p] : products_) {
      if (AcceptsFeedback(p.phase)) open.push_back(id);
    }
  }
  const absl::Time now = clock_.Now();
  std::map<v1::Band, int> counts;
  absl::flat_hash_map<std::string, v1::StartupBand> bands;
  for (const std::string& id : open) {
    auto band = BandOf(id, now);
    if (!band.ok()) return band.status();
    ++counts[band->band()];
    bands[id] = std::move(*band);
  }
  {
    absl::MutexLock l(&mu_);
    bands_.swap(bands);
  }
  for (auto b : {v1::BAND_GREEN, v1::BAND_YELLOW, v1::BAND_RED, v1::BAND_INSUFFICIENT_DATA}) {
    metrics_.StartupsByBand(b).Set(counts[b]);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::StartupBand> FeedbackService::BandOf(const std::string& startup_id, absl::Time now) {
  ScoreTally tally;
  if (auto s = store_.ForEachInRange(startup_id, now - absl::Hours(24 * 365), now + absl::Seconds(1),
                                     [&tally](const v1::Feedback& f) { tally.Add(f); });
      !s.ok()) {
    return s;
  }
  const v1::Scores scores = tally.Scores(options_.summary_threshold);
  v1::StartupBand b;
  b.set_startup_id(startup_id);
  b.set_band(scores.band());
  if (scores.band() != v1::BAND_INSUFFICIENT_DATA) {  // below the threshold, nothing but that
    if (scores.has_satisfaction()) b.set_satisfaction(scores.satisfaction());
    b.set_answers(scores.answers());
  }
  return b;
}

grpc::Status FeedbackService::ListBands(grpc::ServerContext* ctx, const v1::ListBandsRequest*,
                                        v1::ListBandsResponse* out) {
  PEP_GRPC_RETURN_IF_ERROR(Caller(*ctx).status());  // anyone the gateway sends: it shows only what is published
  std::vector<std::string> open, missing;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, p] : products_) {
      if (!AcceptsFeedback(p.phase)) continue;
      auto it = bands_.find(id);
      if (it == bands_.end()) {
        missing.push_back(id);
      } else {
        *out->add_bands() = it->second;
      }
    }
  }
  // Opened since the last refresh: computed now, kept until the next one.
  for (const std::string& id : missing) {
    auto band = BandOf(id, clock_.Now());
    PEP_GRPC_RETURN_IF_ERROR(band.status());
    *out->add_bands() = *band;
    absl::MutexLock l(&mu_);
    bands_[id] = std::move(*band);
  }
  out->set_threshold(options_.summary_threshold);
  return grpc::Status::OK;
}

FeedbackService::FeedbackService(FeedbackStore& store, const Clock& clock,
                                 FeedbackMetrics& metrics, FeedbackServiceOptions options)
    : store_(store), clock_(clock), metrics_(metrics), options_(std::move(options)),
      limiter_(options_.rate_limit_per_minute, absl::Minutes(1),
               static_cast<size_t>(options_.rate_limit_max_clients)) {}

absl::Status FeedbackService::Init() { return RefreshProducts(); }

absl::Status FeedbackService::RefreshProducts() {
  auto products = store_.Products();
  if (!products.ok()) return products.status();
  auto placements = store_.AllPlacements();
  if (!placements.ok()) return placements.status();
  absl::MutexLock l(&mu_);
  for (auto& p : *products) products_[p.startup_id] = std::move(p);
  for (const auto& p : *placements) placements_[p.id()] = p.startup_id();
  return absl::OkStatus();
}

absl::Status FeedbackService::HandleIncubationEvent(const events::Record& record,
                                                    const events::Envelope& env) {
  namespace inc = ::pepiniere::incubation::v1;
  Product p;
  if (env.type == "pepiniere.incubation.v1.StartupCreated") {
    inc::StartupCreated ev;
    if (!ev.ParseFromString(record.value)) return absl::InvalidArgumentError("StartupCreated: undecodable");
    p = {ev.startup().id(), ev.startup().phase(), env.correlation_id, ev.startup().name()};
  } else if (env.type == "pepiniere.incubation.v1.PhaseChanged") {
    inc::PhaseChanged ev;
    if (!ev.ParseFromString(record.value)) return absl::InvalidArgumentError("PhaseChanged: undecodable");
    p = {ev.startup_id(), ev.to(), env.correlation_id, ""};
  } else if (env.type == "pepiniere.incubation.v1.PhaseHistoryCorrected") {
    inc::PhaseHistoryCorrected ev;
    if (!ev.ParseFromString(record.value) || ev.phases_size() == 0) {
      return absl::InvalidArgumentError("PhaseHistoryCorrected: undecodable");
    }
    p = {ev.startup_id(), ev.phases(ev.phases_size() - 1).phase(), env.correlation_id, ""};
  } else {
    return absl::OkStatus();  // other events don't change who accepts feedback
  }
  p.version = env.aggregate_version;
  auto applied = store_.ApplyProduct(env.id, record.topic, p);
  if (!applied.ok()) return applied.status();
  if (*applied) {
    absl::MutexLock l(&mu_);
    products_[p.startup_id] = std::move(**applied);
  }
  return absl::OkStatus();
}

absl::StatusOr<auth::Principal> FeedbackService::Caller(const grpc::ServerContextBase& ctx) const {
  return auth::Authenticate(ctx, options_.auth);
}

absl::Status FeedbackService::CanRead(const auth::Principal& p,
                                      const std::string& startup_id) const {
  if (p.CoversStartup(startup_id)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "reading feedback requires the coordinator role, or product_team with scope 'startup:",
      startup_id, "' (got '", p.ScopeText(), "')"));
}

absl::Status FeedbackService::CheckSubmission(const grpc::ServerContextBase& ctx,
                                              const v1::SubmitFeedbackRequest& req,
                                              PendingAnswer* answer, int* retry_after_seconds) {
  v1::Feedback* out = &answer->feedback;
  std::string* correlation_id = &answer->correlation_id;
  std::string* actor = &answer->actor;
  auto p = Caller(ctx);
  if (!p.ok()) {
    metrics_.Rejected("unauthenticated").Increment();
    return p.status();
  }
  *actor = p->id;
  if (absl::Status s = ValidateSubmit(req); !s.ok()) {
    metrics_.Rejected("invalid").Increment();
    return s;
  }
  // The gateway passes a salted hash of the client's network; never the IP itself.
  std::string& client_key = answer->client_key;
  client_key = p->id;
  auto it = ctx.client_metadata().find("x-pep-client-key");
  if (it != ctx.client_metadata().end()) client_key.assign(it->second.data(), it->second.size());
  const absl::Time now = clock_.Now();
  if (store_.shared()) {  // another replica's consumer may have read its creation a moment ago
    bool known;
    {
      absl::MutexLock l(&mu_);
      known = products_.contains(req.startup_id());
    }
    if (!known) {
      auto found = store_.FindProduct(req.startup_id());
      if (!found.ok()) return found.status();
      if (*found) {
        absl::MutexLock l(&mu_);
        products_.try_emplace(req.startup_id(), std::move(**found));
      }
    }
  }
  {
    absl::MutexLock l(&mu_);
    auto prod = products_.find(req.startup_id());
    if (prod == products_.end()) {
      metrics_.Rejected("unknown_startup").Increment();
      return absl::NotFoundError(absl::StrCat("startup_id: no start-up ", req.startup_id()));
    }
    if (!AcceptsFeedback(prod->second.phase)) {
      metrics_.Rejected("not_accepting").Increment();
      return absl::FailedPreconditionError(absl::StrCat(
          "start-up ", req.startup_id(), " is in ", PhaseName(prod->second.phase),
          ": feedback is accepted from construction on, and not after abandon"));
    }
    *correlation_id = prod->second.correlation_id;
  }
  const std::string limit_key = absl::StrCat(client_key, "|", req.startup_id());
  bool table_full = false;
  std::optional<absl::Duration> wait;
  if (options_.rate_limit_per_minute <= 0) {
    // no limit
  } else if (store_.shared()) {  // replicas on one database: one limit for all of them
    auto shared = store_.AllowShared(limit_key, now, options_.rate_limit_per_minute, absl::Minutes(1));
    if (!shared.ok()) return shared.status();
    wait = *shared;
  } else {
    absl::MutexLock l(&mu_);
    wait = limiter_.Allow(limit_key, now, &table_full);
    metrics_.RateLimitClients().Set(static_cast<double>(limiter_.tracked_keys()));
  }
  if (wait) {
    metrics_.Rejected(table_full ? "rate_limit_table_full" : "rate_limited").Increment();
    *retry_after_seconds =
        static_cast<int>(absl::ToInt64Seconds(absl::Ceil(*wait, absl::Seconds(1))));
    return absl::ResourceExhaustedError(absl::StrFormat(
        "too many answers for this start-up from this client: retry in %d s",
        *retry_after_seconds));
  }
  Masked masked = MaskPii(req.verbatim());
  for (const auto& k : masked.kinds) metrics_.PiiMasked(k).Increment();
  out->set_id(NewUuidV7(now));
  out->set_startup_id(req.startup_id());
  out->set_satisfaction(req.satisfaction());
  if (req.has_clarity()) out->set_clarity(req.clarity());
  *out->mutable_help() = req.help();
  if (req.has_nps()) out->set_nps(req.nps());
  out->set_verbatim(std::move(masked.text));  // the raw text goes no further than this line
  out->set_pii_masked(!masked.kinds.empty());
  for (auto& k : masked.kinds) out->add_pii_kinds(k);
  *out->mutable_received_at() = ToTimestamp(now);
  if (!req.placement().empty()) out->set_placement(KnownPlacement(req.startup_id(), req.placement()));
  return absl::OkStatus();
}

grpc::Status FeedbackService::SubmitFeedback(grpc::ServerContext* ctx,
                                             const v1::SubmitFeedbackRequest* req,
                                             v1::Feedback* resp) {
  PendingAnswer answer;
  int retry_after = 0;
  absl::Status s = CheckSubmission(*ctx, *req, &answer, &retry_after);
  if (!s.ok()) {
    if (retry_after > 0) ctx->AddTrailingMetadata("x-pep-retry-after", absl::StrCat(retry_after));
    return ToGrpcStatus(s);
  }
  answer.idempotency_key = req->idempotency_key();
  FeedbackStore::Prepare(answer, clock_.Now());
  // The writer calls `done` exactly once (also when it refuses or stops: Enqueue, StopWriter):
  // this thread waits for the batch holding the answer to be durable.
  absl::Notification stored_n;
  absl::StatusOr<v1::Feedback> stored;
  bool replayed = false;
  answer.done = [&](absl::StatusOr<v1::Feedback> result, bool was_replayed) {
    stored = std::move(result);
    replayed = was_replayed;
    stored_n.Notify();
  };
  store_.Enqueue(std::move(answer));
  stored_n.WaitForNotification();
  if (!stored.ok()) {
    if (absl::IsResourceExhausted(stored.status())) {  // the writer's queue is full
      metrics_.Rejected("overloaded").Increment();
      ctx->AddTrailingMetadata("x-pep-retry-after", "1");
      return ToGrpcStatus(stored.status());
    }
    metrics_.Rejected("unavailable").Increment();
    return ToGrpcStatus(stored.status());
  }
  if (!replayed) metrics_.Received(stored->satisfaction()).Increment();
  *resp = Public(std::move(*stored));
  return grpc::Status::OK;
}

grpc::Status FeedbackService::ListFeedback(grpc::ServerContext* ctx,
                                           const v1::ListFeedbackRequest* req,
                                           v1::ListFeedbackResponse* out) {
  auto p = Caller(*ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(CanRead(*p, req->startup_id()));
  if (req->page_size() < 0 || req->page_size() > 1000) {
    return ToGrpcStatus(FieldError("page_size", absl::StrCat("must be 0-1000 (got ", req->page_size(), ")")));
  }
  if (!req->page_token().empty() && !IsUuid(req->page_token())) {
    return ToGrpcStatus(FieldError("page_token", "is not a token returned by ListFeedback"));
  }
  const int page = req->page_size() == 0 ? 100 : req->page_size();
  auto list = store_.List(req->startup_id(), req->page_token(), page + 1);
  PEP_GRPC_RETURN_IF_ERROR(list.status());
  for (size_t i = 0; i < list->size() && static_cast<int>(i) < page; ++i) {
    *out->add_feedback() = Public(std::move((*list)[i]));
  }
  if (static_cast<int>(list->size()) > page) out->set_next_page_token(out->feedback(page - 1).id());
  return grpc::Status::OK;
}

grpc::Status FeedbackService::ModerateFeedback(grpc::ServerContext* ctx,
                                               const v1::ModerateFeedbackRequest* req,
                                               v1::Feedback* out) {
  auto p = Caller(*ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!p->HasRole("coordinator")) {
    return ToGrpcStatus(absl::PermissionDeniedError("moderation requires the coordinator role"));
  }
  if (req->reason().empty()) return ToGrpcStatus(FieldError("reason", "is required"));
  if (Utf8Length(req->reason()) > 2000) return ToGrpcStatus(FieldError("reason", "at most 2000 characters"));
  auto f = store_.Get(req->feedback_id());
  PEP_GRPC_RETURN_IF_ERROR(f.status());
  std::string correlation;
  {
    absl::MutexLock l(&mu_);
    auto it = products_.find(f->startup_id());
    if (it != products_.end()) correlation = it->second.correlation_id;
  }
  auto hidden = store_.Hide(req->feedback_id(), req->reason(), p->id, correlation);
  PEP_GRPC_RETURN_IF_ERROR(hidden.status());
  *out = Public(std::move(*hidden));
  return grpc::Status::OK;
}

grpc::Status FeedbackService::GetSummary(grpc::ServerContext* ctx, const v1::GetSummaryRequest* req,
                                         v1::Summary* out) {
  auto p = Caller(*ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(CanRead(*p, req->startup_id()));
  const absl::Time now = clock_.Now();
  v1::Granularity g = req->granularity() == v1::GRANULARITY_UNSPECIFIED
                          ? v1::GRANULARITY_ROLLING_12_MONTHS
                          : req->granularity();
  out->set_startup_id(req->startup_id());
  out->set_granularity(g);
  out->set_threshold(options_.summary_threshold);
  const absl::CivilSecond c = absl::ToCivilSecond(now, absl::UTCTimeZone());
  const absl::Time year_ago = absl::FromCivil(
      absl::CivilSecond(c.year() - 1, c.month(), c.day(), c.hour(), c.minute(), c.second()),
      absl::UTCTimeZone());
  if (g == v1::GRANULARITY_ROLLING_12_MONTHS) {
    ScoreTally tally;
    PEP_GRPC_RETURN_IF_ERROR(store_.ForEachInRange(req->startup_id(), year_ago, now + absl::Seconds(1),
                                                   [&tally](const v1::Feedback& f) { tally.Add(f); }));
    auto* b = out->add_buckets();
    *b->mutable_start() = ToTimestamp(year_ago);
    *b->mutable_end() = ToTimestamp(now);
    *b->mutable_scores() = tally.Scores(options_.summary_threshold);
    return grpc::Status::OK;
  }
  const absl::Time from = req->has_from() ? FromTimestamp(req->from()) : year_ago;
  const absl::Time to = req->has_to() ? FromTimestamp(req->to()) : now + absl::Seconds(1);
  if (to <= from) return ToGrpcStatus(FieldError("to", "must be after from"));
  // The buckets are laid out first (their number is bounded), then filled by one pass over the
  // answers in time order: one tally per bucket, no answer kept.
  std::vector<std::pair<absl::Time, absl::Time>> spans;
  for (absl::Time start = BucketStart(from, g); start < to; start = NextBucket(start, g)) {
    if (spans.size() >= 1000) return ToGrpcStatus(FieldError("from", "at most 1000 buckets"));
    spans.emplace_back(start, NextBucket(start, g));
  }
  std::vector<ScoreTally> tallies(spans.size());
  size_t i = 0;
  PEP_GRPC_RETURN_IF_ERROR(store_.ForEachInRange(
      req->startup_id(), spans.front().first, to, [&](const v1::Feedback& f) {
        const absl::Time at = FromTimestamp(f.received_at());
        while (i < spans.size() && at >= spans[i].second) ++i;
        if (i < spans.size()) tallies[i].Add(f);
      }));
  for (size_t k = 0; k < spans.size(); ++k) {
    auto* b = out->add_buckets();
    *b->mutable_start() = ToTimestamp(spans[k].first);
    *b->mutable_end() = ToTimestamp(spans[k].second);
    *b->mutable_scores() = tallies[k].Scores(options_.summary_threshold);
  }
  return grpc::Status::OK;
}

grpc::Status FeedbackService::ExportFeedback(grpc::ServerContext* ctx,
                                             const v1::ExportFeedbackRequest* req,
                                             grpc::ServerWriter<v1::ExportChunk>* writer) {
  auto p = Caller(*ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(CanRead(*p, req->startup_id()));
  const bool jsonl = req->format() == v1::EXPORT_FORMAT_JSONL;
  std::string buf = jsonl ? "" : CsvHeader();
  std::string cursor;
  while (true) {
    auto page = store_.List(req->startup_id(), cursor, 1000);
    PEP_GRPC_RETURN_IF_ERROR(page.status());
    for (const auto& f : *page) {
      cursor = f.id();
      buf += jsonl ? JsonLine(f) : CsvLine(f);  // hidden verbatims are left out by both
      if (buf.size() >= 64 * 1024) {
        v1::ExportChunk chunk;
        chunk.set_data(std::move(buf));
        buf.clear();
        if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
      }
    }
    if (page->size() < 1000) break;
  }
  if (!buf.empty()) {
    v1::ExportChunk chunk;
    chunk.set_data(std::move(buf));
    writer->Write(chunk);
  }
  return grpc::Status::OK;
}

}  // namespace pep::feedback
