#include "store/checkpointer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace pep::store {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Attach(Db& writer,
                                                                        const std::string& path,
                                                                        int pages) {
  if (writer.raw() == nullptr) {
    return absl::FailedPreconditionError("WAL checkpoints are for a SQLite connection");
  }
  auto own = Db::Open(path);
  if (!own.ok()) return own.status();
  auto c = std::unique_ptr<WalCheckpointer>(new WalCheckpointer(writer, std::move(*own), pages));
  // Replaces the automatic checkpoint (itself a WAL hook) on the writer's connection only.
  sqlite3_wal_hook(writer.raw(), &WalCheckpointer::OnCommit, c.get());
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  return c;
}

WalCheckpointer::~WalCheckpointer() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  sqlite3_wal_hook(writer_.raw(), nullptr, nullptr);
  // Back to SQLite's own checkpoints for whatever the connection still writes.
  (void)writer_.Exec(absl::StrCat("PRAGMA wal_autocheckpoint=", kCheckpointPages));
}

int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (wal_pages >= 4 * c->pages_) {
    // The background checkpoints never finish while this writer keeps appending, and only a
    // finished one lets the WAL start over: catch up here, between two of the writer's
    // transactions (what SQLite's own automatic checkpoint does every time). Mostly copied
    // already, so it is short.
    int log = 0, done = 0;
    sqlite3_wal_checkpoint_v2(c->writer_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    wal_pages = 0;
  }
  absl::MutexLock l(&c->mu_);
  if (wal_pages < c->wal_pages_) c->backfilled_ = 0;  // the WAL started over (or will)
  c->wal_pages_ = wal_pages;
  return SQLITE_OK;
}

int64_t WalCheckpointer::checkpoints() const {
  absl::MutexLock l(&mu_);
  return checkpoints_;
}

void WalCheckpointer::Run() {
  while (true) {
    int wal_pages = 0;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](WalCheckpointer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
            return c->stopping_ || c->wal_pages_ - c->backfilled_ >= c->pages_;
          },
          this));
      if (stopping_) return;
      wal_pages = wal_pages_;
    }
    int log = 0, done = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(own_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      LogWarn("WAL checkpoint failed", {{"error", sqlite3_errmsg(own_->raw())}});
    }
    absl::MutexLock l(&mu_);
    ++checkpoints_;
    // Not counted again until `pages_` more frames arrive — unless the WAL started over while
    // this ran (OnCommit saw it shrink and reset the count: the new WAL owes nothing yet).
    if (wal_pages_ >= wal_pages) backfilled_ = rc == SQLITE_OK ? std::max(done, 0) : wal_pages;
  }
}

}  // namespace pep::store
