// Small text and encoding helpers shared by the services' validation and comparison code.
#pragma once

#include <string>
#include <string_view>

#include "google/protobuf/message.h"

namespace pep {

// Number of code points, or -1 if `s` is not valid UTF-8 (overlong forms, surrogates and
// values past U+10FFFF are invalid).
int Utf8Length(std::string_view s);
// The offset of the first byte that does not begin a UTF-8 sequence, or npos.
size_t FirstInvalidUtf8(std::string_view s);

// `s` with every byte sequence that is not UTF-8 replaced by U+FFFD: what a client sent, echoed
// in an answer or a log, never makes that document invalid.
std::string ValidUtf8(std::string_view s);

// Whether `s` holds a C0 control character (U+0000-U+001F) or DEL: refused in one-line names.
bool HasControlCharacter(std::string_view s);
// Text for HTML: < > & " ' as entities (element content and quoted attributes).
std::string HtmlEscape(std::string_view s);

// The message's deterministic encoding (map entries in key order): equal messages give equal
// bytes, so it can be compared and fingerprinted.
std::string DeterministicBytes(const google::protobuf::Message& m);

// gRPC metadata values must be printable ASCII (0x20-0x7E): a value outside it makes grpc++
// abort the process. People's text (an actor « équipe-voirie », a scope) crosses as
// percent-encoding of every byte outside 0x21-0x7E, of '%' and of `also` (a list separator);
// plain ASCII identifiers cross unchanged. DecodeMetadataValue is its inverse; it refuses a
// malformed escape, and what it gives back is whatever bytes were encoded.
std::string EncodeMetadataValue(std::string_view text, std::string_view also = "");
bool DecodeMetadataValue(std::string_view value, std::string* out);

}  // namespace pep
