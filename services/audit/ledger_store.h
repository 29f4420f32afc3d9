// The ledger's SQLite storage: one row per event (ce_id unique = exactly one record per event
// even when Kafka redelivers), chained per lineage subject; a late record is inserted at its
// place and its subject's suffix re-hashed in the same transaction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/audit/ledger.h"
#include "store/sqlite.h"

namespace pep::audit {

class LedgerStore {
 public:
  static absl::StatusOr<std::unique_ptr<LedgerStore>> Open(const std::string& path);

  // False when the event (by ce_id) is already in the ledger.
  absl::StatusOr<bool> Append(const LedgerRecord& record);
  // The subject's records in chain order, as stored.
  absl::StatusOr<std::vector<LedgerRecord>> Subject(const std::string& subject);
  absl::StatusOr<Verification> VerifySubject(const std::string& subject);

 private:
  explicit LedgerStore(std::unique_ptr<store::Db> db) : db_(std::move(db)) {}
  absl::StatusOr<std::vector<LedgerRecord>> Load(const std::string& subject)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pep::audit
