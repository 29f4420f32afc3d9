// Connections for a store's reads. A connection runs one statement at a time, so readers that
// share a store's one connection (behind its mutex) queue up behind each other. On SQLite that
// costs little (a read is microseconds, in process); on PostgreSQL every statement is a network
// round trip and one connection caps a replica at a few thousand reads a second whatever the
// load. The pool gives PostgreSQL stores `size` more connections for reads, each used by one
// reader at a time; on SQLite it is empty and reads stay on the store's connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/db.h"

namespace pep::store {

// Read connections per store on PostgreSQL (per replica): a few readers at once without
// holding many server connections (each replica also holds its writer and relay connections).
inline constexpr int kReadConnections = 4;

class ReadPool {
 public:
  // `size` connections to `database_url` when it is PostgreSQL; none for SQLite.
  static absl::StatusOr<std::unique_ptr<ReadPool>> Open(const std::string& database_url, int size);

  // fn(db) on a free connection of the pool (waiting for one), or, when the pool is empty, on
  // `fallback` with `fallback_mu` held.
  template <typename F>
  auto With(absl::Mutex& fallback_mu, Db& fallback, F&& fn) -> decltype(fn(fallback)) {
    if (conns_.empty()) {
      absl::MutexLock l(&fallback_mu);
      return fn(fallback);
    }
    struct Lease {
      ReadPool* pool;
      Db* db;
      ~Lease() { pool->Give(db); }
    } lease{this, Take()};
    return fn(*lease.db);
  }
  size_t size() const { return conns_.size(); }

 private:
  Db* Take();
  void Give(Db* db);

  std::vector<std::unique_ptr<Db>> conns_;
  absl::Mutex mu_;
  std::vector<Db*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pep::store
