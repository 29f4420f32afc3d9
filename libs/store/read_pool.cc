#include "store/read_pool.h"

namespace pep::store {

absl::StatusOr<std::unique_ptr<ReadPool>> ReadPool::Open(const std::string& database_url, int size) {
  auto pool = std::make_unique<ReadPool>();
  auto parsed = ParseDatabaseUrl(database_url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->engine != Engine::kPostgres) return pool;
  for (int i = 0; i < size; ++i) {
    auto db = Db::Connect(database_url);
    if (!db.ok()) return db.status();
    pool->conns_.push_back(std::move(*db));
  }
  absl::MutexLock l(&pool->mu_);
  for (auto& c : pool->conns_) pool->free_.push_back(c.get());
  return pool;
}

Db* ReadPool::Take() {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](std::vector<Db*>* free) { return !free->empty(); }, &free_));
  Db* db = free_.back();
  free_.pop_back();
  return db;
}

void ReadPool::Give(Db* db) {
  absl::MutexLock l(&mu_);
  free_.push_back(db);
}

}  // namespace pep::store
