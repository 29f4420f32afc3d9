#include "services/audit/audit_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/audit/audit_core.h"

namespace pep::audit {

namespace av1 = pepiniere::audit::v1;

namespace {

// Every event type Pépinière emits today; anything else is counted as "other" (bounded labels).
constexpr const char* kKnownTypes[] = {
    "ChallengeCreated", "ChallengeOpened", "ChallengeClosed", "JurorsAssigned", "IdeaSubmitted",
    "IdeaEdited", "IdeaWithdrawn", "IdeaScored", "IdeaShortlisted", "IdeaAwarded", "IdeaRejected",
    "IdeaSelected", "StartupCreated", "StartupUpdated", "CommitteeDecisionRecorded",
    "PhaseChanged", "PhaseHistoryCorrected", "MilestonePushed", "TeamMemberAdded",
    "TeamMemberRemoved", "FeedbackReceived", "FeedbackModerated", "other"};

}  // namespace

AuditMetrics::AuditMetrics(prometheus::Registry& registry)
    : events_(prometheus::BuildCounter()
                  .Name("pep_audit_events_total")
                  .Help("Events added to the ledger, by event type")
                  .Register(registry)) {
  for (const char* t : kKnownTypes) by_type_[t] = &events_.Add({{"type", t}});
  gaps_ = &prometheus::BuildCounter()
               .Name("pep_audit_gaps_total")
               .Help("Aggregate versions found missing when a later version was sealed")
               .Register(registry)
               .Add({});
  verify_failures_ = &prometheus::BuildCounter()
                          .Name("pep_audit_verify_failures_total")
                          .Help("VerifyLedger runs that found a broken record or a gap")
                          .Register(registry)
                          .Add({});
  duplicates_ = &prometheus::BuildCounter()
                     .Name("pep_audit_duplicates_total")
                     .Help("Events repeating an aggregate version under another ce_id (ignored)")
                     .Register(registry)
                     .Add({});
  late_ = &prometheus::BuildCounter()
               .Name("pep_audit_late_records_total")
               .Help("Records inserted before a chain's head, the suffix re-hashed")
               .Register(registry)
               .Add({});
  undecodable_ = &prometheus::BuildCounter()
                      .Name("pep_audit_undecodable_total")
                      .Help("Kafka records without a valid CloudEvents envelope")
                      .Register(registry)
                      .Add({});
  lag_ = &prometheus::BuildGauge()
              .Name("pep_audit_lag_seconds")
              .Help("Now minus the recorded time of the newest event applied to the ledger")
              .Register(registry)
              .Add({});
  buffered_ = &prometheus::BuildGauge()
                   .Name("pep_audit_buffered_records")
                   .Help("Records read but waiting for the watermark before being sealed")
                   .Register(registry)
                   .Add({});
}

void AuditMetrics::Sealed(const SealResult& result, int64_t undecodable) {
  for (const auto& [type, n] : result.appended_by_type) {
    auto it = by_type_.find(ShortType(type));
    (it == by_type_.end() ? by_type_.at("other") : it->second)->Increment(static_cast<double>(n));
  }
  gaps_->Increment(static_cast<double>(result.gaps));
  duplicates_->Increment(static_cast<double>(result.duplicates));
  late_->Increment(static_cast<double>(result.late));
  undecodable_->Increment(static_cast<double>(undecodable));
}

void AuditMetrics::SetLag(absl::Time now, absl::Time newest_recorded) {
  if (newest_recorded == absl::InfinitePast()) return;
  lag_->Set(absl::ToDoubleSeconds(now - newest_recorded));
}

std::string ExportLine(const LedgerRecord& r) {
  const events::Envelope& e = r.envelope;
  std::string out = "{";
  auto field = [&out](std::string_view name, std::string_view value, bool first = false) {
    if (!first) out.push_back(',');
    absl::StrAppend(&out, "\"", JsonEscape(name), "\":\"", JsonEscape(value), "\"");
  };
  field("subject", r.subject, true);
  absl::StrAppend(&out, ",\"subject_seq\":", r.subject_seq);
  field("ce_id", e.id);
  field("ce_type", e.type);
  field("ce_source", e.source);
  field("ce_subject", e.subject);
  field("ce_time", FormatRfc3339(e.time));
  field("ce_actor", e.actor);
  field("ce_correlationid", e.correlation_id);
  field("ce_causationid", e.causation_id);
  absl::StrAppend(&out, ",\"ce_aggregateversion\":", e.aggregate_version);
  field("ce_effectivetime", FormatRfc3339(e.effective_time));
  field("topic", r.topic);
  field("payload_base64", absl::Base64Escape(r.payload));
  field("prev_hash", Hex(r.prev_hash));
  field("hash", Hex(r.hash));
  field("global_prev", Hex(r.global_prev));
  field("global_hash", Hex(r.global_hash));
  out.push_back('}');
  return out;
}

void ExportSummary::Add(const LedgerRecord& r) {
  ++records_;
  Chain& c = chains_[r.subject];
  ++c.records;
  c.head = r.hash;
  last_global_hash_ = r.global_hash;
}

std::string ExportSummary::EndLine() const {
  std::string out = absl::StrCat(R"({"export_end":true,"records":)", records_, R"(,"chains":{)");
  bool first = true;
  for (const auto& [subject, c] : chains_) {
    absl::StrAppend(&out, first ? "" : ",", "\"", JsonEscape(subject), R"(":{"records":)",
                    c.records, R"(,"head":")", Hex(c.head), "\"}");
    first = false;
  }
  absl::StrAppend(&out, R"(},"last_global_hash":")", Hex(last_global_hash_), "\"}");
  return out;
}

absl::StatusOr<std::string> AuditService::Subject(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("id: required (an idea, start-up or challenge id)");
  return store_.Resolve(id);
}

absl::Status AuditService::Authorize(const grpc::ServerContext& ctx, const std::string& subject) {
  auto p = auth::Authenticate(ctx, auth_);
  if (!p.ok()) return p.status();
  if (p->HasRole("coordinator") || p->HasRole("auditor")) return absl::OkStatus();
  constexpr std::string_view kStartup = "startup:";
  if (p->HasRole("product_team") && !subject.empty()) {
    for (const std::string& scope : p->scopes) {
      if (scope.rfind(kStartup, 0) != 0) continue;
      auto own = store_.Resolve(scope.substr(kStartup.size()));
      if (own.ok() && *own == subject) return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      "the ledger is readable by coordinators and auditors, and by a product team for its own "
      "start-up");
}

grpc::Status AuditService::GetTimeline(grpc::ServerContext* ctx, const av1::GetTimelineRequest* req,
                                       av1::Timeline* resp) {
  auto subject = Subject(req->id());
  PEP_GRPC_RETURN_IF_ERROR(subject.status());
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, *subject));
  auto records = store_.Subject(*subject);
  PEP_GRPC_RETURN_IF_ERROR(records.status());
  *resp = BuildTimeline(*subject, *records, req->individual_feedback());
  std::set<std::string> actors;
  for (const auto& e : resp->entries()) actors.insert(e.actor());
  auto names = store_.ActorNames(actors);
  PEP_GRPC_RETURN_IF_ERROR(names.status());
  for (auto& e : *resp->mutable_entries()) {
    if (auto it = names->find(e.actor()); it != names->end()) e.set_actor_name(it->second);
  }
  return grpc::Status::OK;
}

grpc::Status AuditService::GetStateAsOf(grpc::ServerContext* ctx,
                                        const av1::GetStateAsOfRequest* req, av1::StateAsOf* resp) {
  if (!req->has_as_of()) {
    return ToGrpcStatus(absl::InvalidArgumentError("as_of: required (the date D to look at)"));
  }
  auto subject = Subject(req->id());
  PEP_GRPC_RETURN_IF_ERROR(subject.status());
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, *subject));
  auto records = store_.Subject(*subject);
  PEP_GRPC_RETURN_IF_ERROR(records.status());
  std::optional<absl::Time> known_at;
  if (req->has_known_at()) known_at = FromTimestamp(req->known_at());
  *resp = FoldStateAsOf(*subject, *records, FromTimestamp(req->as_of()), known_at);
  return grpc::Status::OK;
}

grpc::Status AuditService::GetLineage(grpc::ServerContext* ctx, const av1::GetLineageRequest* req,
                                      av1::Lineage* resp) {
  auto subject = Subject(req->id());
  PEP_GRPC_RETURN_IF_ERROR(subject.status());
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, *subject));
  auto records = store_.Subject(*subject);
  PEP_GRPC_RETURN_IF_ERROR(records.status());
  std::vector<LedgerRecord> challenge;
  if (const std::string cid = ChallengeOf(*records); !cid.empty()) {
    auto cs = store_.Resolve(cid);
    if (cs.ok()) {
      auto c = store_.Subject(*cs);
      PEP_GRPC_RETURN_IF_ERROR(c.status());
      challenge = std::move(*c);
    }
  }
  *resp = BuildLineage(*subject, *records, challenge);
  return grpc::Status::OK;
}

grpc::Status AuditService::VerifyLedger(grpc::ServerContext* ctx,
                                        const av1::VerifyLedgerRequest* req,
                                        av1::VerifyLedgerResponse* resp) {
  std::string subject;
  if (!req->subject().empty()) {
    auto s = store_.Resolve(req->subject());
    PEP_GRPC_RETURN_IF_ERROR(s.status());
    subject = *s;
  }
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, subject));
  auto report = store_.Verify(subject);
  PEP_GRPC_RETURN_IF_ERROR(report.status());
  if (!report->ok()) metrics_.VerifyFailed();
  resp->set_ok(report->ok());
  resp->set_records(report->records);
  resp->set_subjects(report->subjects);
  for (const auto& b : report->broken) {
    auto* br = resp->add_broken();
    br->set_chain(b.chain);
    br->set_seq(b.seq);
    br->set_ce_id(b.ce_id);
    br->set_reason(b.reason);
  }
  for (const auto& g : report->gaps) resp->add_gaps(g);
  for (const auto& d : report->duplicates) resp->add_duplicates(d);
  for (const auto& u : report->undecodable) resp->add_undecodable(u);
  resp->set_global_head_hash(report->global_head_hash);
  return grpc::Status::OK;
}

grpc::Status AuditService::ExportLedger(grpc::ServerContext* ctx,
                                        const av1::ExportLedgerRequest* req,
                                        grpc::ServerWriter<av1::ExportLedgerLine>* writer) {
  std::string subject;
  if (!req->id().empty()) {
    auto s = store_.Resolve(req->id());
    PEP_GRPC_RETURN_IF_ERROR(s.status());
    subject = *s;
  }
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, subject));
  bool cancelled = false;
  ExportSummary summary;
  absl::Status s = store_.ForEach(subject, [&](const LedgerRecord& r) {
    av1::ExportLedgerLine line;
    line.set_json(ExportLine(r));
    summary.Add(r);
    if (ctx->IsCancelled() || !writer->Write(line)) {
      cancelled = true;
      return false;
    }
    return true;
  });
  if (cancelled) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  if (!s.ok()) return ToGrpcStatus(s);
  // The closing line: a file cut anywhere before it (a prefix of a valid chain is valid) fails
  // offline verification.
  av1::ExportLedgerLine end;
  end.set_json(summary.EndLine());
  if (!writer->Write(end)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  return grpc::Status::OK;
}

}  // namespace pep::audit
