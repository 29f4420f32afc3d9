// The PII scanners of libs/pii (pep-feedback's verbatims, pep-ideas' comments): any text, valid UTF-8 or
// not. Masking is idempotent: a masked text has nothing left to mask.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pii/pii.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const pep::pii::Masked once = pep::pii::MaskPii(text);
  const pep::pii::Masked twice = pep::pii::MaskPii(once.text);
  if (twice.text != once.text || !twice.kinds.empty()) std::abort();
  return 0;
}
