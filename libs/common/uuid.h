// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; ids sort by creation time.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace pep {

std::string NewUuidV7(absl::Time now);
bool IsUuid(std::string_view s);

}  // namespace pep
