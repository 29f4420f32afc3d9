// One line of a portfolio import (services/incubation/incubation_core.h), any bytes.
#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "services/incubation/incubation_core.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1796000000);  // fixed: runs must repeat
  const pep::incubation::ImportLine r = pep::incubation::ParseImportLine(line, 1, now);
  // Crashes and sanitizer reports only, for now: what an accepted line must hold is to be
  // written from ImportLine's contract (WORKSPACE.notes.md, issue 16).
  (void)r;
  return 0;
}
