// A real PostgreSQL server for tests (Debian's postgresql, via deploy/local/lib/postgres.sh):
// initdb in a temp dir, started on a free port of 127.0.0.1, stopped at the end by the pid in
// its own data directory. Each test takes a fresh database of its own from it.
#pragma once

#include <string>

#include "harness/harness.h"

namespace pep::testing {

class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates a new, empty database and returns its libpq URL (postgres://pep@127.0.0.1:P/NAME).
  std::string NewDatabase(const std::string& prefix = "t");
  // Fast shutdown / start again on the same port and data (outage tests).
  void Stop();
  void Start();
  int port() const { return port_; }

  // One server per test binary, started on first use, stopped at exit.
  static PostgresServer& Shared();

 private:
  TempDir dir_;
  int port_;
  int next_db_ = 0;
  bool running_ = false;
};

// The store URLs a backend-parameterized test runs against: "sqlite" then "postgres".
enum class Backend { kSqlite, kPostgres };
std::string BackendName(Backend b);
// A fresh store for a test on `b`: the SQLite file `file` in `dir`, or a new database of the
// shared PostgreSQL server (started on first use).
std::string StoreUrl(Backend b, const TempDir& dir, const std::string& file);
// For INSTANTIATE_TEST_SUITE_P: both backends, named "sqlite" and "postgres".
#define PEP_ON_BOTH_ENGINES(suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(                                                                 \
      Engines, suite,                                                                       \
      ::testing::Values(::pep::testing::Backend::kSqlite, ::pep::testing::Backend::kPostgres), \
      [](const auto& info) { return ::pep::testing::BackendName(info.param); })

}  // namespace pep::testing
