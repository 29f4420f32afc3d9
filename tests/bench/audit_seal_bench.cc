// pep-audit-seal-bench: the ledger's storage alone, no Kafka: N generated records (the shape
// pep-audit-rebuild-bench produces) sealed in batches into a fresh SQLite file, next to the
// same records only canonicalised and hashed (the pure part of the work), in one run.
// Usage: pep-audit-seal-bench [records=200000] [batch=20000]
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/uuid.h"
#include "bench/audit_bench_events.h"
#include "harness/harness.h"
#include "services/audit/ledger_store.h"

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 200000;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 20000;
  pep::bench::AuditEventStream stream;
  std::vector<pep::audit::LedgerRecord> records(n);
  for (int64_t i = 0; i < n; ++i) {
    auto& r = records[i];
    r.envelope = stream.Next();
    const auto& e = r.envelope;
    r.subject = e.correlation_id;
    r.topic = "bench.audit.events";
    r.payload = std::string(138, 'x');
  }
  // (a) canonical bytes + both hashes only
  absl::Time t0 = absl::Now();
  std::string prev(32, '\0');
  for (auto r : records) {
    r.hash = pep::audit::ChainHash(prev, r);
    prev = pep::audit::GlobalHash(prev, r.hash);
  }
  const double hash_secs = absl::ToDoubleSeconds(absl::Now() - t0);
  // (b) sealed into SQLite
  pep::testing::TempDir dir;
  auto store = pep::audit::LedgerStore::Open(dir.path() + "/audit.db");
  if (!store.ok()) return 1;
  std::vector<std::vector<pep::audit::LedgerRecord>> batches;  // made before the clock starts
  for (int64_t i = 0; i < n; i += batch) {
    batches.emplace_back(std::make_move_iterator(records.begin() + i),
                         std::make_move_iterator(records.begin() + std::min(n, i + batch)));
  }
  t0 = absl::Now();
  for (auto& b : batches) {
    auto s = (*store)->Seal(b, {}, {});
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
      return 1;
    }
  }
  const double seal_secs = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf("hash only: %.0f records/s; sealed in SQLite: %.0f records/s (%.1f us/record)\n",
              n / hash_secs, n / seal_secs, 1e6 * seal_secs / n);
  return 0;
}
