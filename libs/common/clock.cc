#include "common/clock.h"

#include <string>

namespace pep {

const Clock& SystemClock::Get() {
  static const SystemClock* clock = new SystemClock();
  return *clock;
}

std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

bool ParseRfc3339(std::string_view s, absl::Time* out) {
  std::string err;
  return absl::ParseTime(absl::RFC3339_full, std::string(s), absl::UTCTimeZone(), out, &err);
}

}  // namespace pep
