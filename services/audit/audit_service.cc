#include "services/audit/audit_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "services/audit/audit_core.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"

namespace pep::audit {

namespace av1 = pepiniere::audit::v1;

namespace {

// Every event type Pépinière emits today; anything else is counted as "other" (bounded labels).
constexpr const char* kKnownTypes[] = {
    "ChallengeCreated", "ChallengeOpened", "ChallengeClosed", "JurorsAssigned", "IdeaSubmitted",
    "IdeaEdited", "IdeaWithdrawn", "IdeaScored", "IdeaShortlisted", "IdeaAwarded", "IdeaRejected",
    "IdeaSelected", "StartupCreated", "StartupUpdated", "CommitteeDecisionRecorded",
    "PhaseChanged", "PhaseHistoryCorrected", "MilestonePushed", "TeamMemberAdded",
    "TeamMemberUpdated", "TeamMemberRemoved", "FeedbackReceived", "FeedbackModerated", "JurorsRemoved",
    "ChallengeVisibilityChanged", "IdeaSupported", "IdeaSupportWithdrawn", "NotificationSent",
    "NotificationUndeliverable", "IdeaCommented", "CommentEdited", "CommentReported", "CommentHidden",
    "ConflictDeclared", "ResultsScheduled", "IdeaDecisionRecorded", "ResultsAnnounced",
    "ScorecardCommitted", "ScorecardRevealed", "ScoresRevealed", "CoauthorInvited", "CoauthorJoined",
    "PublicFactPublished", "PublicFactWithdrawn", "other"};

}  // namespace

AuditMetrics::AuditMetrics(prometheus::Registry& registry)
    : events_(prometheus::BuildCounter()
                  .Name("pep_audit_events_total")
                  .Help("Entries added to the ledger's index from the log, by event type")
                  .Register(registry)) {
  for (const char* t : kKnownTypes) by_type_[t] = &events_.Add({{"type", t}});
  auto counter = [&registry](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  };
  auto gauge = [&registry](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  gaps_ = counter("pep_audit_gaps_total", "Aggregate versions found missing when a later version was indexed");
  verify_failures_ = counter("pep_audit_verify_failures_total", "VerifyLedger runs that found a broken entry or a gap");
  undecodable_ = counter("pep_audit_undecodable_total", "Kafka records without a valid CloudEvents envelope");
  refused_ = counter("pep_audit_log_refused_total",
                     "Records of the log topic the index refused (not a continuation, bad signature)");
  lag_ = gauge("pep_audit_lag_seconds", "Now minus the recorded time of the newest event in the index");
  entries_ = gauge("pep_audit_log_entries", "Entries in this replica's index of the log");
  signed_ = gauge("pep_audit_log_signed_size", "Tree size of the newest signed checkpoint this replica holds");
  leading_ = gauge("pep_audit_sequencer_leading", "1 when this replica is the log's sequencer");
}

void AuditMetrics::Applied(const audit::Applied& a) {
  for (const auto& [type, n] : a.by_type) {
    auto it = by_type_.find(ShortType(type));
    (it == by_type_.end() ? by_type_.at("other") : it->second)->Increment(static_cast<double>(n));
  }
  gaps_->Increment(static_cast<double>(a.gaps));
  undecodable_->Increment(static_cast<double>(a.undecodable));
  refused_->Increment(static_cast<double>(a.problems.size()));
}

void AuditMetrics::SetLag(absl::Time now, absl::Time newest_recorded) {
  if (newest_recorded == absl::InfinitePast()) return;
  lag_->Set(absl::ToDoubleSeconds(now - newest_recorded));
}

namespace {

void JsonField(std::string* out, std::string_view name, std::string_view value) {
  absl::StrAppend(out, out->size() > 1 ? "," : "", "\"", JsonEscape(name), "\":\"", JsonEscape(value), "\"");
}

std::string B64(const tlog::Hash& h) {
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

}  // namespace

std::string ExportHeadLine(const std::string& note, const std::string& verifier_key, const std::string& subject) {
  std::string out = "{";
  JsonField(&out, "ledger", "pepiniere-ledger-export-v2");
  JsonField(&out, "subject", subject);
  JsonField(&out, "checkpoint", note);
  JsonField(&out, "verifier_key", verifier_key);
  out.push_back('}');
  return out;
}

std::string ExportEntryLine(const LedgerRecord& r, bool withheld, const std::vector<tlog::Hash>& proof) {
  const events::Envelope& e = r.envelope;
  std::string out = absl::StrCat("{\"index\":", r.log_index);
  JsonField(&out, "entry", absl::Base64Escape(r.entry));
  if (withheld) {
    absl::StrAppend(&out, ",\"payload_withheld\":true");
  } else {
    JsonField(&out, "payload", absl::Base64Escape(r.payload));
  }
  out += ",\"proof\":[";
  for (size_t i = 0; i < proof.size(); ++i) absl::StrAppend(&out, i ? "," : "", "\"", B64(proof[i]), "\"");
  out += "]";
  // For people reading the file; the verifier checks them against the entry.
  JsonField(&out, "subject", r.subject);
  JsonField(&out, "ce_id", e.id);
  JsonField(&out, "ce_type", e.type);
  JsonField(&out, "ce_subject", e.subject);
  absl::StrAppend(&out, ",\"ce_aggregateversion\":", e.aggregate_version);
  JsonField(&out, "ce_time", FormatRfc3339(e.time));
  JsonField(&out, "ce_effectivetime", FormatRfc3339(e.effective_time));
  if (!r.hash.empty()) JsonField(&out, "v1_hash", Hex(r.hash));
  out.push_back('}');
  return out;
}

std::string ExportEndLine(int64_t entries, uint64_t tree_size, const std::string& subject) {
  std::string out = absl::StrCat("{\"export_end\":true,\"entries\":", entries, ",\"tree_size\":", tree_size);
  JsonField(&out, "subject", subject);
  out.push_back('}');
  return out;
}

absl::StatusOr<std::string> AuditService::Subject(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("id: required (an idea, start-up or challenge id)");
  return index_.Resolve(id);
}

absl::Status AuditService::Authorize(const grpc::ServerContext& ctx, const std::string& subject, bool* full) {
  auto p = auth::Authenticate(ctx, auth_);
  if (!p.ok()) return p.status();
  if (full != nullptr) *full = p->HasRole("coordinator") || p->HasRole("auditor");
  if (p->HasRole("coordinator") || p->HasRole("auditor")) return absl::OkStatus();
  constexpr std::string_view kStartup = "startup:";
  if (p->HasRole("product_team") && !subject.empty()) {
    for (const std::string& scope : p->scopes) {
      if (scope.rfind(kStartup, 0) != 0) continue;
      auto own = index_.Resolve(scope.substr(kStartup.size()));
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
  bool full = false;
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, *subject, &full));
  TimelineBuilder timeline(*subject, req->individual_feedback());
  PEP_GRPC_RETURN_IF_ERROR(index_.EachOfSubject(
      *subject, [&timeline](LedgerRecord&& r) { return timeline.Add(std::move(r)); }));
  *resp = timeline.Build();
  if (!full) WithholdJuryDetail(*resp);
  std::set<std::string> actors;
  for (const auto& e : resp->entries()) actors.insert(e.actor());
  auto names = index_.ActorNames(actors);
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
  std::optional<absl::Time> known_at;
  if (req->has_known_at()) known_at = FromTimestamp(req->known_at());
  StateAsOfBuilder state(*subject, FromTimestamp(req->as_of()), known_at);
  PEP_GRPC_RETURN_IF_ERROR(index_.EachOfSubject(*subject, [&state](LedgerRecord&& r) {
    state.Add(std::move(r));
    return absl::OkStatus();
  }));
  *resp = state.Build();
  return grpc::Status::OK;
}

grpc::Status AuditService::GetLineage(grpc::ServerContext* ctx, const av1::GetLineageRequest* req,
                                      av1::Lineage* resp) {
  auto subject = Subject(req->id());
  PEP_GRPC_RETURN_IF_ERROR(subject.status());
  bool full = false;
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, *subject, &full));
  LineageBuilder lineage(*subject);
  PEP_GRPC_RETURN_IF_ERROR(index_.EachOfSubject(*subject, [&lineage](LedgerRecord&& r) {
    lineage.Add(std::move(r));
    return absl::OkStatus();
  }));
  std::vector<LedgerRecord> challenge;  // the challenge's own records: a handful
  if (const std::string cid = ChallengeOf(lineage.kept()); !cid.empty()) {
    auto cs = index_.Resolve(cid);
    if (cs.ok()) {
      auto c = index_.Subject(*cs);
      PEP_GRPC_RETURN_IF_ERROR(c.status());
      challenge = std::move(*c);
    }
  }
  *resp = lineage.Build(challenge);
  if (!full) WithholdJuryDetail(*resp);
  return grpc::Status::OK;
}

grpc::Status AuditService::VerifyLedger(grpc::ServerContext* ctx,
                                        const av1::VerifyLedgerRequest* req,
                                        av1::VerifyLedgerResponse* resp) {
  std::string subject;
  if (!req->subject().empty()) {
    auto s = index_.Resolve(req->subject());
    PEP_GRPC_RETURN_IF_ERROR(s.status());
    subject = *s;
  }
  PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, subject));
  auto report = index_.Verify(subject);
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
  resp->set_global_head_hash(report->root_hex);
  resp->set_tree_size(report->tree_size);
  return grpc::Status::OK;
}

namespace {

// Feedback whose verbatim a moderator hid, and comments a moderator hid: a product team's export
// carries those entries' hashes, not their payloads. (Ids are UUIDs: one set holds both.)
std::set<std::string> Moderated(const std::vector<LedgerRecord>& records) {
  std::set<std::string> out;
  for (const LedgerRecord& r : records) {
    if (r.envelope.type == "pepiniere.feedback.v1.FeedbackModerated") {
      pepiniere::feedback::v1::FeedbackModerated m;
      if (m.ParseFromString(r.payload)) out.insert(m.feedback_id());
    } else if (r.envelope.type == "pepiniere.ideas.v1.CommentHidden") {
      pepiniere::ideas::v1::CommentHidden m;
      if (m.ParseFromString(r.payload)) out.insert(m.comment_id());
    }
  }
  return out;
}

constexpr std::string_view kFactPublished = "pepiniere.incubation.v1.PublicFactPublished";
constexpr std::string_view kFactWithdrawn = "pepiniere.incubation.v1.PublicFactWithdrawn";

// A public fact's lineage (pep-incubation attests each fact it shows as its own lineage of one
// or two entries): everything in it was public when written, so anyone may read it — but a fact
// since withdrawn keeps only its hash (see Withheld).
bool PublicFactLineage(const std::vector<LedgerRecord>& records) {
  if (records.empty()) return false;
  for (const LedgerRecord& r : records) {
    if (r.envelope.type != kFactPublished && r.envelope.type != kFactWithdrawn) return false;
  }
  return true;
}

// Facts withdrawn from the public pages: their statement is withheld from the public.
std::set<std::string> Withdrawn(const std::vector<LedgerRecord>& records) {
  std::set<std::string> out;
  for (const LedgerRecord& r : records) {
    if (r.envelope.type == kFactWithdrawn) out.insert(r.envelope.subject);
  }
  return out;
}

// For a caller who is not a coordinator or an auditor.
bool Withheld(const LedgerRecord& r, const std::set<std::string>& moderated) {
  if (JuryOnly(r)) return true;
  const std::string& t = r.envelope.type;
  if (t == kFactPublished) return moderated.contains(r.envelope.subject);
  if (t == "pepiniere.feedback.v1.FeedbackReceived") {
    pepiniere::feedback::v1::FeedbackReceived f;
    return f.ParseFromString(r.payload) && moderated.contains(f.feedback().id());
  }
  if (t == "pepiniere.ideas.v1.IdeaCommented") {
    pepiniere::ideas::v1::IdeaCommented c;
    return c.ParseFromString(r.payload) && moderated.contains(c.comment().id());
  }
  if (t == "pepiniere.ideas.v1.CommentEdited") {
    pepiniere::ideas::v1::CommentEdited c;
    return c.ParseFromString(r.payload) && moderated.contains(c.comment_id());
  }
  return false;
}

}  // namespace

grpc::Status AuditService::ExportLedger(grpc::ServerContext* ctx,
                                        const av1::ExportLedgerRequest* req,
                                        grpc::ServerWriter<av1::ExportLedgerLine>* writer) {
  return Export(ctx, req->id(), false, [&](const std::string& json) {
    av1::ExportLedgerLine line;
    line.set_json(json);
    return !ctx->IsCancelled() && writer->Write(line);
  });
}

grpc::Status AuditService::ExportPublicFact(grpc::ServerContext* ctx, const av1::ExportPublicFactRequest* req,
                                            av1::PublicFactProof* resp) {
  if (req->fact_id().empty()) return ToGrpcStatus(FieldError("fact_id", "is required"));
  return Export(ctx, req->fact_id(), true, [&](const std::string& json) {
    resp->add_lines(json);
    return true;
  });
}

grpc::Status AuditService::Export(grpc::ServerContext* ctx, const std::string& id, bool facts_only,
                                  const std::function<bool(const std::string&)>& write) {
  const absl::Status not_a_fact =
      absl::NotFoundError(absl::StrCat("fact_id: no public fact '", id, "' in the ledger"));
  std::string subject;
  if (!id.empty()) {
    auto s = index_.Resolve(id);
    if (facts_only && absl::IsNotFound(s.status())) return ToGrpcStatus(not_a_fact);
    PEP_GRPC_RETURN_IF_ERROR(s.status());
    subject = *s;
  }
  if (facts_only && subject.empty()) return ToGrpcStatus(not_a_fact);
  bool full = false;
  // A public fact's lineage is anyone's, and the public's copy is all a fact's export gives
  // whoever asks: read whole below, then checked.
  absl::Status authorized = absl::PermissionDeniedError("not a public fact");
  if (facts_only) {
    PEP_GRPC_RETURN_IF_ERROR(auth::Authenticate(*ctx, auth_).status());
  } else {
    authorized = Authorize(*ctx, subject, &full);
  }
  if (!authorized.ok() && (subject.empty() || authorized.code() != absl::StatusCode::kPermissionDenied)) {
    return ToGrpcStatus(authorized);
  }
  // A lineage is read whole first (what moderation hid must be known before its entries go
  // out); the whole log, only for coordinators and auditors, streams.
  uint64_t size = 0;
  std::vector<LedgerRecord> lineage;
  const bool stream = subject.empty();
  bool cancelled = false;
  int64_t written = 0;
  std::optional<std::string> head;
  std::set<std::string> moderated;
  auto send = [&](const std::string& json) {
    if (!write(json)) {
      cancelled = true;
      return false;
    }
    return true;
  };
  absl::Status proof_error;
  auto emit = [&](const LedgerRecord& r) {
    if (!head) {
      auto note = index_.CheckpointAt(size);
      if (!note.ok()) {
        proof_error = note.status();
        return false;
      }
      head = ExportHeadLine(*note, verifier_key_, subject);
      if (!send(*head)) return false;
    }
    uint64_t tree_size = size;
    tlog::Hash leaf;
    auto proof = index_.InclusionProof(static_cast<uint64_t>(r.log_index), &tree_size, &leaf);
    if (!proof.ok()) {
      proof_error = proof.status();
      return false;
    }
    ++written;
    return send(ExportEntryLine(r, !full && Withheld(r, moderated), *proof));
  };
  bool not_public = false;  // facts_only: a lineage that is not a fact's is not read through
  absl::Status s = index_.ForEach(subject, &size, [&](const LedgerRecord& r) {
    if (stream) return emit(r);
    if (facts_only && r.envelope.type != kFactPublished && r.envelope.type != kFactWithdrawn) {
      not_public = true;
      return false;
    }
    lineage.push_back(r);
    return true;
  });
  if (not_public) return ToGrpcStatus(not_a_fact);
  if (s.ok() && !stream) {
    if (facts_only && lineage.empty()) {  // indexed, not yet under a signed checkpoint
      return ToGrpcStatus(absl::UnavailableError("fact_id: not yet in a signed checkpoint; again in a moment"));
    }
    if (!authorized.ok() && !PublicFactLineage(lineage)) {
      return ToGrpcStatus(facts_only ? not_a_fact : authorized);
    }
    moderated = Moderated(lineage);
    moderated.merge(Withdrawn(lineage));
    for (const LedgerRecord& r : lineage) {
      if (!emit(r)) break;
    }
  }
  if (cancelled) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  if (!s.ok()) return ToGrpcStatus(s);
  if (!proof_error.ok()) return ToGrpcStatus(proof_error);
  if (size == 0) {
    return ToGrpcStatus(absl::UnavailableError("the log has no signed checkpoint yet"));
  }
  if (!head) {  // nothing signed in this lineage yet: the checkpoint still says what was asked of
    auto note = index_.CheckpointAt(size);
    PEP_GRPC_RETURN_IF_ERROR(note.status());
    if (!send(ExportHeadLine(*note, verifier_key_, subject))) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
  }
  if (!send(ExportEndLine(written, size, subject))) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  return grpc::Status::OK;
}

grpc::Status AuditService::GetCheckpoint(grpc::ServerContext* ctx, const av1::GetCheckpointRequest*,
                                         av1::Checkpoint* resp) {
  PEP_GRPC_RETURN_IF_ERROR(auth::Authenticate(*ctx, auth_).status());  // hashes: anyone
  auto latest = index_.Latest();
  if (!latest) return ToGrpcStatus(absl::UnavailableError("the log has no signed checkpoint yet"));
  resp->set_note(latest->note);
  resp->set_origin(latest->checkpoint.origin);
  resp->set_tree_size(latest->checkpoint.size);
  resp->set_root_hash(std::string(reinterpret_cast<const char*>(latest->checkpoint.root.data()), 32));
  resp->set_verifier_key(verifier_key_);
  return grpc::Status::OK;
}

grpc::Status AuditService::GetInclusionProof(grpc::ServerContext* ctx, const av1::GetInclusionProofRequest* req,
                                             av1::InclusionProof* resp) {
  PEP_GRPC_RETURN_IF_ERROR(auth::Authenticate(*ctx, auth_).status());
  uint64_t size = req->tree_size();
  tlog::Hash leaf;
  auto proof = index_.InclusionProof(req->index(), &size, &leaf);
  PEP_GRPC_RETURN_IF_ERROR(proof.status());
  if (req->tree_size() != 0) PEP_GRPC_RETURN_IF_ERROR(index_.CheckpointAt(size).status());  // a signed size
  resp->set_index(req->index());
  resp->set_tree_size(size);
  resp->set_leaf_hash(std::string(reinterpret_cast<const char*>(leaf.data()), 32));
  for (const tlog::Hash& h : *proof) resp->add_hashes(std::string(reinterpret_cast<const char*>(h.data()), 32));
  return grpc::Status::OK;
}

grpc::Status AuditService::GetConsistencyProof(grpc::ServerContext* ctx,
                                               const av1::GetConsistencyProofRequest* req,
                                               av1::ConsistencyProof* resp) {
  PEP_GRPC_RETURN_IF_ERROR(auth::Authenticate(*ctx, auth_).status());
  uint64_t second = req->second();
  auto proof = index_.ConsistencyProof(req->first(), &second);
  PEP_GRPC_RETURN_IF_ERROR(proof.status());
  auto note = index_.CheckpointAt(second);
  PEP_GRPC_RETURN_IF_ERROR(note.status());
  resp->set_first(req->first());
  resp->set_second(second);
  for (const tlog::Hash& h : *proof) resp->add_hashes(std::string(reinterpret_cast<const char*>(h.data()), 32));
  resp->set_checkpoint(*note);
  return grpc::Status::OK;
}

grpc::Status AuditService::ReadLedgerTile(grpc::ServerContext* ctx, const av1::ReadLedgerTileRequest* req,
                                          av1::LedgerTile* resp) {
  // The checkpoint and hash tiles are public; entry bundles carry envelopes (actors, subjects).
  if (req->path().rfind("tile/entries/", 0) == 0) {
    PEP_GRPC_RETURN_IF_ERROR(Authorize(*ctx, ""));
  } else {
    PEP_GRPC_RETURN_IF_ERROR(auth::Authenticate(*ctx, auth_).status());
  }
  bool immutable = false;
  auto data = index_.Tile(req->path(), &immutable);
  PEP_GRPC_RETURN_IF_ERROR(data.status());
  resp->set_data(std::move(*data));
  resp->set_immutable(immutable);
  return grpc::Status::OK;
}

}  // namespace pep::audit
