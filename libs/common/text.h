// Small text and encoding helpers shared by the services' validation and comparison code.
#pragma once

#include <string>
#include <string_view>

#include "google/protobuf/message.h"

namespace pep {

// Number of code points, or -1 if `s` is not valid UTF-8 (overlong forms, surrogates and
// values past U+10FFFF are invalid).
int Utf8Length(std::string_view s);

// The message's deterministic encoding (map entries in key order): equal messages give equal
// bytes, so it can be compared and fingerprinted.
std::string DeterministicBytes(const google::protobuf::Message& m);

}  // namespace pep
