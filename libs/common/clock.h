// Injectable time source: production code asks a Clock, tests drive a FakeClock.
#pragma once

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pep {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static const Clock& Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock l(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// The system's time plus an offset read from a file (an absl duration: "4392h" is 183 days;
// missing, empty or unreadable: none), re-read at most once a second. For tests and rehearsals
// only (a service's --clock_offset_file): « six months later » without waiting six months.
class OffsetFileClock final : public Clock {
 public:
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now() const override;

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  mutable absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  mutable absl::Duration offset_ ABSL_GUARDED_BY(mu_);
};

// RFC 3339 UTC with microseconds, e.g. 2026-11-28T12:00:00.123456Z.
std::string FormatRfc3339(absl::Time t);
// Any RFC 3339 time (offsets, any number of fraction digits), but refuses surrounding white
// space, infinities and a time finer than a microsecond: what it accepts, FormatRfc3339 writes
// back as the same instant.
bool ParseRfc3339(std::string_view s, absl::Time* out);

}  // namespace pep
