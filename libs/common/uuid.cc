#include "common/uuid.h"

#include <array>
#include <cstdint>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace pep {

namespace {

// Within one millisecond, ids continue from the previous one (RFC 9562 §6.2, method 2: the
// 74 random bits act as a counter), so ids made by one process sort in creation order.
struct V7State {
  absl::Mutex mu;
  uint64_t ms ABSL_GUARDED_BY(mu) = 0;
  uint64_t rand_a ABSL_GUARDED_BY(mu) = 0;  // 12 bits
  uint64_t rand_b ABSL_GUARDED_BY(mu) = 0;  // 62 bits
};

V7State& State() {
  static V7State* s = new V7State();
  return *s;
}

}  // namespace

std::string NewUuidV7(absl::Time now) {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()))};
  uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(now));
  uint64_t rand_a, rand_b;
  {
    V7State& st = State();
    absl::MutexLock l(&st.mu);
    if (ms == st.ms) {
      if (++st.rand_b >> 62) {  // carry into rand_a, then into the timestamp
        st.rand_b = 0;
        if (++st.rand_a >> 12) {
          st.rand_a = 0;
          ++st.ms;
        }
      }
    } else {
      // A new millisecond (or a clock that went back: the id keeps the time it was given).
      st.ms = ms;
      st.rand_a = rng() & 0xFFF;
      st.rand_b = rng() & ((uint64_t{1} << 62) - 1) & ~uint64_t{0xFFFFFFFF};  // room to count
    }
    ms = st.ms;
    rand_a = st.rand_a;
    rand_b = st.rand_b;
  }
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  b[6] = static_cast<uint8_t>(0x70 | ((rand_a >> 8) & 0x0F));  // version 7
  b[7] = static_cast<uint8_t>(rand_a & 0xFF);
  b[8] = static_cast<uint8_t>(0x80 | ((rand_b >> 56) & 0x3F));  // variant 10
  for (int i = 9; i < 16; ++i) b[i] = static_cast<uint8_t>(rand_b >> (8 * (15 - i)));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace pep
