// The signed checkpoint parser (libs/tlog/note.h, C2SP tlog-checkpoint) that pepctl and
// auditors run on what a log serves.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/strings/string_view.h"
#include "tlog/note.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = pep::tlog::ParseCheckpoint(text);
  if (c.ok() && c->origin.empty()) std::abort();  // a checkpoint always names its log
  return 0;
}
