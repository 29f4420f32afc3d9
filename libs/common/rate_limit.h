// Per-client sliding-window rate limits, in memory: pep-feedback's answers per client and
// start-up, pep-gateway's sign-ins per client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"

namespace pep {

// One client's sliding window: `hits` are its recent hits, oldest first. Drops those that left
// the window, then counts `now` (nullopt) if fewer than `limit` remain, or says how long until
// the next hit would be allowed.
template <typename Hits>
std::optional<absl::Duration> SlideWindow(Hits& hits, absl::Time now, int limit,
                                          absl::Duration window) {
  size_t expired = 0;
  while (expired < hits.size() && hits[expired] <= now - window) ++expired;
  hits.erase(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(expired));
  if (static_cast<int>(hits.size()) >= limit) return hits.front() + window - now;
  hits.push_back(now);
  return std::nullopt;
}

// Sliding-window limit per key (pep-feedback: client key + start-up; pep-gateway: the client
// starting a sign-in): at most `limit` hits per `window`, in this process. Not thread-safe.
class RateLimiter {
 public:
  // `max_keys`: clients tracked at most. Past it (after forgetting the idle ones) a new client
  // is refused for a window rather than let the table — and the process — grow without end.
  RateLimiter(int limit, absl::Duration window, size_t max_keys = 200000)
      : limit_(limit), window_(window), max_keys_(max_keys) {}
  // nullopt: allowed (and counted); otherwise how long until the next hit would be allowed;
  // `*table_full` says the refusal came from the cap on clients, not the client's own rate.
  std::optional<absl::Duration> Allow(const std::string& key, absl::Time now,
                                      bool* table_full = nullptr);
  size_t tracked_keys() const { return hits_.size(); }

 private:
  void ForgetIdle(absl::Time now);
  int limit_;
  absl::Duration window_;
  size_t max_keys_;
  // A client's hits in the window, oldest first: at most `limit_`, inline for the usual limits.
  absl::flat_hash_map<std::string, absl::InlinedVector<absl::Time, 5>> hits_;
  uint64_t calls_ = 0;
  // When full, idle clients are looked for at most once a second: a flood of new clients must
  // not make every call a scan of the whole table.
  absl::Time last_full_sweep_ = absl::InfinitePast();
};

}  // namespace pep
