// The fields of a version 2 log entry (LEDGER.md "Entry, version 2"): the tag "pep-ledger-v2"
// and twelve 4-byte big-endian length-prefixed fields. Header-only and free of the service's
// types: a contract shared by pep-audit (which writes entries) and pepctl (which verifies them
// offline), so neither includes the other's headers.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace pep::audit {

inline constexpr std::string_view kEntryV2Tag = "pep-ledger-v2";
inline constexpr int kEntryV2Fields = 12;  // ce_id … topic, SHA-256(payload)
using EntryV2Fields = std::array<std::string_view, kEntryV2Fields>;

// Views into `entry`; -1 when it is exactly one entry, else the number (1..12) of the field that
// is cut, 0 for a wrong tag, 13 for bytes after the last field.
inline int SplitEntryV2(std::string_view entry, EntryV2Fields* fields) {
  if (entry.substr(0, kEntryV2Tag.size()) != kEntryV2Tag) return 0;
  entry.remove_prefix(kEntryV2Tag.size());
  for (int i = 0; i < kEntryV2Fields; ++i) {
    if (entry.size() < 4) return i + 1;
    const auto* b = reinterpret_cast<const unsigned char*>(entry.data());
    const uint32_t n = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    if (entry.size() - 4 < n) return i + 1;
    (*fields)[static_cast<size_t>(i)] = entry.substr(4, n);
    entry.remove_prefix(4 + n);
  }
  return entry.empty() ? -1 : kEntryV2Fields + 1;
}

}  // namespace pep::audit
