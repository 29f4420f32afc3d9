// Moves WAL checkpoints off a hot writer thread. SQLite's automatic checkpoint runs inside the
// COMMIT that crosses the threshold, so one writer's batch (and every request waiting on it)
// pays for copying thousands of pages into the database file. Attached to a writer connection,
// this turns that off and checkpoints from a thread and connection of its own, PASSIVE (never
// blocking the writer) each time `pages` new frames were committed. Those checkpoints cannot
// finish while the writer keeps appending, and only a finished one lets the WAL start over, so
// once the WAL reaches `pages * 4` the writer catches up itself after its commit — short, as most
// frames are copied by then. Readers holding old snapshots delay checkpoints as they always do.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "store/sqlite.h"

namespace pep::store {

class WalCheckpointer {
 public:
  // `writer` must outlive the checkpointer; its connection gets the WAL hook.
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Attach(Db& writer,
                                                                  const std::string& path,
                                                                  int pages = kCheckpointPages);
  ~WalCheckpointer();  // detaches the hook and stops the thread

  int64_t checkpoints() const;

 private:
  WalCheckpointer(Db& writer, std::unique_ptr<Db> own, int pages)
      : writer_(writer), own_(std::move(own)), pages_(pages) {}
  static int OnCommit(void* self, sqlite3*, const char*, int wal_pages);
  void Run();

  Db& writer_;
  std::unique_ptr<Db> own_;
  const int pages_;
  mutable absl::Mutex mu_;
  int wal_pages_ ABSL_GUARDED_BY(mu_) = 0;   // frames in the WAL after the last commit
  int backfilled_ ABSL_GUARDED_BY(mu_) = 0;  // of those, copied by the last checkpoint
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace pep::store
