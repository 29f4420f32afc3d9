// The PII scanners of pep-feedback (services/feedback/feedback_core.h): any text, valid UTF-8 or
// not. Masking is idempotent: a masked text has nothing left to mask.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/feedback/feedback_core.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const pep::feedback::Masked once = pep::feedback::MaskPii(text);
  const pep::feedback::Masked twice = pep::feedback::MaskPii(once.text);
  if (twice.text != once.text || !twice.kinds.empty()) std::abort();
  return 0;
}
