#include "harness/postgres_testing.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pep::testing {

PostgresServer::PostgresServer() : port_(FreePort()) { Start(); }

PostgresServer::~PostgresServer() { Stop(); }

void PostgresServer::Start() {
  const std::string cmd =
      absl::StrCat("bash ", SourceDir(), "/deploy/local/lib/postgres.sh start --dir ",
                   dir_.path(), " --port ", port_, " --owner-pid ", getpid());
  ASSERT_EQ(RunCommand(cmd), 0) << cmd;
  running_ = true;
}

void PostgresServer::Stop() {
  if (!running_) return;
  RunCommand(absl::StrCat("bash ", SourceDir(), "/deploy/local/lib/postgres.sh stop --dir ",
                          dir_.path()));
  running_ = false;
}

std::string PostgresServer::NewDatabase(const std::string& prefix) {
  const std::string name = absl::StrCat(prefix, "_", getpid(), "_", next_db_++);
  const std::string cmd =
      absl::StrCat("bash ", SourceDir(), "/deploy/local/lib/postgres.sh createdb --dir ",
                   dir_.path(), " --port ", port_, " ", name);
  EXPECT_EQ(RunCommand(cmd), 0) << cmd;
  return absl::StrCat("postgres://pep@127.0.0.1:", port_, "/", name);
}

PostgresServer& PostgresServer::Shared() {
  static PostgresServer* server = [] {
    auto* s = new PostgresServer();
    std::atexit([] { delete &Shared(); });
    return s;
  }();
  return *server;
}

std::string BackendName(Backend b) { return b == Backend::kSqlite ? "sqlite" : "postgres"; }

std::string StoreUrl(Backend b, const TempDir& dir, const std::string& file) {
  if (b == Backend::kSqlite) return dir.path() + "/" + file;
  std::string prefix = file.substr(0, file.find('.'));
  return PostgresServer::Shared().NewDatabase(prefix);
}

}  // namespace pep::testing
