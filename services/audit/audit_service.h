// The pep-audit gRPC edge: resolves an id to its lineage, reads the ledger, calls the core,
// maps Status. Reads use the store's reader connection, never the ingest's.
#pragma once

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
#include "services/audit/ledger_store.h"

namespace pep::audit {

class AuditMetrics {
 public:
  explicit AuditMetrics(prometheus::Registry& registry);
  // Counts a sealed batch: events by type (short name; unknown types count as "other").
  void Sealed(const SealResult& result, int64_t undecodable);
  void SetLag(absl::Time now, absl::Time newest_recorded);
  void VerifyFailed() { verify_failures_->Increment(); }
  void SetBuffered(double n) { buffered_->Set(n); }

 private:
  prometheus::Family<prometheus::Counter>& events_;
  std::map<std::string, prometheus::Counter*> by_type_;  // every known type, made up front
  prometheus::Counter* gaps_;
  prometheus::Counter* verify_failures_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* late_;
  prometheus::Counter* undecodable_;
  prometheus::Gauge* lag_;
  prometheus::Gauge* buffered_;
};

class AuditService final : public pepiniere::audit::v1::AuditService::Service {
 public:
  AuditService(LedgerStore& store, AuditMetrics& metrics, auth::AuthOptions auth)
      : store_(store), metrics_(metrics), auth_(std::move(auth)) {}

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

 private:
  // Who may read the ledger: coordinators and auditors, or a product team for its own start-up.
  absl::Status Authorize(const grpc::ServerContext& ctx, const std::string& subject);
  absl::StatusOr<std::string> Subject(const std::string& id);

  LedgerStore& store_;
  AuditMetrics& metrics_;
  auth::AuthOptions auth_;
};

// One ledger record as a JSON Lines line (the ExportLedger format; see docs).
std::string ExportLine(const LedgerRecord& r);

// What an export covered, for its closing line: {"export_end":true,"records":N,"chains":
// {subject:{"records":k,"head":hex}},"last_global_hash":hex}. Without that line (or with
// counts or heads that disagree) an export is incomplete.
class ExportSummary {
 public:
  void Add(const LedgerRecord& r);
  std::string EndLine() const;

 private:
  struct Chain {
    int64_t records = 0;
    std::string head;
  };
  int64_t records_ = 0;
  std::map<std::string, Chain> chains_;
  std::string last_global_hash_;
};

}  // namespace pep::audit
