#include "common/rate_limit.h"

namespace pep {

void RateLimiter::ForgetIdle(absl::Time now) {
  for (auto it = hits_.begin(); it != hits_.end();) {
    if (it->second.empty() || it->second.back() <= now - window_) {
      hits_.erase(it++);
    } else {
      ++it;
    }
  }
}

std::optional<absl::Duration> RateLimiter::Allow(const std::string& key, absl::Time now,
                                                 bool* table_full) {
  if (table_full) *table_full = false;
  if (limit_ <= 0) return std::nullopt;  // disabled
  // Forget keys idle for a whole window so memory follows active clients only.
  if (++calls_ % 4096 == 0) ForgetIdle(now);
  auto it = hits_.find(key);
  if (it == hits_.end()) {
    if (hits_.size() >= max_keys_ && now - last_full_sweep_ >= absl::Seconds(1)) {
      last_full_sweep_ = now;
      ForgetIdle(now);
    }
    if (hits_.size() >= max_keys_) {
      if (table_full) *table_full = true;  // full of active clients
      return window_;
    }
    it = hits_.emplace(key, absl::InlinedVector<absl::Time, 5>()).first;
  }
  return SlideWindow(it->second, now, limit_, window_);
}

}  // namespace pep
