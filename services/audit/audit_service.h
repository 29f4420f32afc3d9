// The pep-audit gRPC edge: resolves an id to its lineage, reads the ledger, calls the core,
// maps Status. Reads use the store's reader connection, never the ingest's.
#pragma once

#include <functional>

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "pepiniere/audit/v1/audit.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/audit/log_index.h"

namespace pep::audit {

class AuditMetrics {
 public:
  explicit AuditMetrics(prometheus::Registry& registry);
  // Counts what the index applied from the log: entries by type (short name; unknown types
  // count as "other"), gaps, undecodable source records, refused log records.
  void Applied(const audit::Applied& applied);
  void SetLag(absl::Time now, absl::Time newest_recorded);
  void VerifyFailed() { verify_failures_->Increment(); }
  void SetLog(double entries, double signed_size, bool leading) {
    entries_->Set(entries);
    signed_->Set(signed_size);
    leading_->Set(leading ? 1 : 0);
  }

 private:
  prometheus::Family<prometheus::Counter>& events_;
  std::map<std::string, prometheus::Counter*> by_type_;  // every known type, made up front
  prometheus::Counter* gaps_;
  prometheus::Counter* verify_failures_;
  prometheus::Counter* undecodable_;
  prometheus::Counter* refused_;
  prometheus::Gauge* lag_;
  prometheus::Gauge* entries_;
  prometheus::Gauge* signed_;
  prometheus::Gauge* leading_;
};

class AuditService final : public pepiniere::audit::v1::AuditService::Service {
 public:
  AuditService(LogIndex& index, AuditMetrics& metrics, auth::AuthOptions auth)
      : index_(index), metrics_(metrics), auth_(std::move(auth)) {}

  grpc::Status GetTimeline(grpc::ServerContext*, const pepiniere::audit::v1::GetTimelineRequest*,
                           pepiniere::audit::v1::Timeline*) override;
  grpc::Status GetStateAsOf(grpc::ServerContext*, const pepiniere::audit::v1::GetStateAsOfRequest*,
                            pepiniere::audit::v1::StateAsOf*) override;
  grpc::Status GetLineage(grpc::ServerContext*, const pepiniere::audit::v1::GetLineageRequest*,
                          pepiniere::audit::v1::Lineage*) override;
  grpc::Status VerifyLedger(grpc::ServerContext*, const pepiniere::audit::v1::VerifyLedgerRequest*,
                            pepiniere::audit::v1::VerifyLedgerResponse*) override;
  grpc::Status ExportLedger(grpc::ServerContext*, const pepiniere::audit::v1::ExportLedgerRequest*,
                            grpc::ServerWriter<pepiniere::audit::v1::ExportLedgerLine>*) override;
  grpc::Status GetCheckpoint(grpc::ServerContext*, const pepiniere::audit::v1::GetCheckpointRequest*,
                             pepiniere::audit::v1::Checkpoint*) override;
  grpc::Status GetInclusionProof(grpc::ServerContext*, const pepiniere::audit::v1::GetInclusionProofRequest*,
                                 pepiniere::audit::v1::InclusionProof*) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext*,
                                   const pepiniere::audit::v1::GetConsistencyProofRequest*,
                                   pepiniere::audit::v1::ConsistencyProof*) override;
  grpc::Status ReadLedgerTile(grpc::ServerContext*, const pepiniere::audit::v1::ReadLedgerTileRequest*,
                              pepiniere::audit::v1::LedgerTile*) override;
  grpc::Status ExportPublicFact(grpc::ServerContext*, const pepiniere::audit::v1::ExportPublicFactRequest*,
                                pepiniere::audit::v1::PublicFactProof*) override;
  // audit_preread.cc
  grpc::Status RegeneratePreRead(grpc::ServerContext*, const pepiniere::audit::v1::RegeneratePreReadRequest*,
                                 pepiniere::audit::v1::RegeneratedPreRead*) override;

  void set_verifier_key(std::string key) { verifier_key_ = std::move(key); }

 private:
  // Who may read the ledger: coordinators and auditors, or a product team for its own start-up.
  // `full` tells whether the caller sees every payload (coordinators and auditors).
  absl::Status Authorize(const grpc::ServerContext& ctx, const std::string& subject, bool* full = nullptr);
  // ExportLedger's lines for `id` (empty: the whole log) given to `send` (false: stop, the
  // reader went away); `facts_only`: only a public fact's lineage, to anyone.
  grpc::Status Export(grpc::ServerContext* ctx, const std::string& id, bool facts_only,
                      const std::function<bool(const std::string&)>& send);
  absl::StatusOr<std::string> Subject(const std::string& id);

  LogIndex& index_;
  AuditMetrics& metrics_;
  auth::AuthOptions auth_;
  std::string verifier_key_;
};

// The ExportLedger format, version 2 (LEDGER.md "Export"): a first line with the signed
// checkpoint, one line per entry with its inclusion proof against it, a closing line with the
// counts, so a cut file fails.
std::string ExportHeadLine(const std::string& note, const std::string& verifier_key, const std::string& subject);
// `withheld`: the payload left out (its hash is in the entry), for a caller who may not read it.
std::string ExportEntryLine(const LedgerRecord& r, bool withheld, const std::vector<tlog::Hash>& proof);
std::string ExportEndLine(int64_t entries, uint64_t tree_size, const std::string& subject);

}  // namespace pep::audit
