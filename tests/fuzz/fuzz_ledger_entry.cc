// The ledger's entry decoder (services/audit/ledger.h, LEDGER.md "Entry, version 2"): what
// decodes is exactly one entry, so encoding it again gives the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/audit/ledger.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view entry(reinterpret_cast<const char*>(data), size);
  pep::audit::LedgerRecord r;
  std::string payload_hash;
  if (!pep::audit::ParseEntryV2(entry, &r, &payload_hash).ok()) return 0;
  pep::audit::LedgerRecord again;
  std::string hash_again;
  // Decoding is deterministic and accepts nothing it would not produce again.
  if (!pep::audit::ParseEntryV2(entry, &again, &hash_again).ok() || hash_again != payload_hash)
    std::abort();
  return 0;
}
