// One line of a portfolio import (services/incubation/incubation_core.h): any bytes either make
// a start-up with a valid slug and a name, or a rejection that says why.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/time/time.h"
#include "services/incubation/incubation_core.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1796000000);  // fixed: runs must repeat
  const pep::incubation::ImportLine r = pep::incubation::ParseImportLine(line, 1, now);
  if (r.rejection.empty()) {
    if (!pep::incubation::IsValidSlug(r.details.startup().slug()) ||
        r.details.startup().name().empty()) std::abort();
  }
  return 0;
}
