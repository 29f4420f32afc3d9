#include "common/clock.h"

#include <fstream>
#include <string>

#include "absl/strings/ascii.h"

namespace pep {

const Clock& SystemClock::Get() {
  static const SystemClock* clock = new SystemClock();
  return *clock;
}

absl::Time OffsetFileClock::Now() const {
  const absl::Time now = absl::Now();
  absl::MutexLock l(&mu_);
  if (now - read_at_ >= absl::Seconds(1)) {
    read_at_ = now;
    std::ifstream f(path_);
    std::string text;
    std::getline(f, text);
    absl::Duration d;
    offset_ = absl::ParseDuration(absl::StripAsciiWhitespace(text), &d) ? d : absl::ZeroDuration();
  }
  return now + offset_;
}

namespace {

// Days since 1970-01-01 <-> proleptic Gregorian date (H. Hinnant's civil algorithms): every
// event header carries two timestamps, and cctz's general formatter is the costlier path.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

void Digits(char* at, int64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v /= 10) at[i] = static_cast<char>('0' + v % 10);
}

bool ReadDigits(std::string_view s, size_t at, int n, int64_t* v) {
  *v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[at + i];
    if (c < '0' || c > '9') return false;
    *v = *v * 10 + (c - '0');
  }
  return true;
}

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

}  // namespace

std::string FormatRfc3339(absl::Time t) {
  const int64_t us = absl::ToUnixMicros(t);
  int64_t days = us / kMicrosPerDay, rem = us % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 1000 || y > 9999 || t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
  }
  std::string out = "0000-00-00T00:00:00.000000Z";
  Digits(&out[0], y, 4);
  Digits(&out[5], m, 2);
  Digits(&out[8], d, 2);
  Digits(&out[11], rem / 3600000000, 2);
  Digits(&out[14], rem / 60000000 % 60, 2);
  Digits(&out[17], rem / 1000000 % 60, 2);
  Digits(&out[20], rem % 1000000, 6);
  return out;
}

bool ParseRfc3339(std::string_view s, absl::Time* out) {
  // Fast path: the shape FormatRfc3339 writes (UTC, no or six fraction digits).
  if ((s.size() == 20 || s.size() == 27) && s.back() == 'Z' && s[4] == '-' && s[7] == '-' &&
      s[10] == 'T' && s[13] == ':' && s[16] == ':' && (s.size() == 20 || s[19] == '.')) {
    int64_t y, mo, d, h, mi, sec, frac = 0;
    if (ReadDigits(s, 0, 4, &y) && ReadDigits(s, 5, 2, &mo) && ReadDigits(s, 8, 2, &d) &&
        ReadDigits(s, 11, 2, &h) && ReadDigits(s, 14, 2, &mi) && ReadDigits(s, 17, 2, &sec) &&
        (s.size() == 20 || ReadDigits(s, 20, 6, &frac)) && mo >= 1 && mo <= 12 && d >= 1 &&
        h < 24 && mi < 60 && sec < 60) {
      const int64_t days = DaysFromCivil(y, mo, d);
      int64_t cy, cm, cd;
      CivilFromDays(days, &cy, &cm, &cd);
      if (cy == y && cm == mo && cd == d) {  // rejects 2025-02-30 and the like
        *out = absl::FromUnixMicros(days * kMicrosPerDay + ((h * 60 + mi) * 60 + sec) * 1000000 +
                                    frac);
        return true;
      }
    }
  }
  // Anything else through absl, but only what RFC 3339 itself allows and the platform can keep:
  // absl skips surrounding white space and takes "infinite-future", and a time finer than a
  // microsecond would not survive FormatRfc3339 (an event re-encoded would no longer be equal).
  if (s.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(s.front())) ||
      !absl::ascii_isalnum(static_cast<unsigned char>(s.back()))) {
    return false;
  }
  std::string err;
  absl::Time t;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(s), absl::UTCTimeZone(), &t, &err)) return false;
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast() ||
      t != absl::FromUnixMicros(absl::ToUnixMicros(t))) {
    return false;
  }
  *out = t;
  return true;
}

}  // namespace pep
