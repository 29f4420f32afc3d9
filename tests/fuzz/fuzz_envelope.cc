// The CloudEvents envelope decoder (libs/events/envelope.h) on arbitrary headers. Input: lines
// "name=value". Whatever decodes must encode into headers that decode to an equal envelope.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "events/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::multimap<std::string, std::string, std::less<>> headers;
  size_t pos = 0;
  while (pos <= in.size()) {
    size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    const std::string_view line = in.substr(pos, nl - pos);
    const size_t eq = line.find('=');
    if (eq != std::string_view::npos) headers.emplace(line.substr(0, eq), line.substr(eq + 1));
    pos = nl + 1;
  }
  auto find = [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  auto e = pep::events::FromHeaderLookup(find);
  if (!e.ok()) return 0;
  // What decodes re-encodes into headers that decode to the same envelope: the ledger hashes an
  // event as re-encoded, so an accepted header the encoder cannot reproduce would change it.
  auto again = pep::events::FromHeaders(pep::events::ToHeaders(*e));
  if (!again.ok() || !(*again == *e)) std::abort();
  return 0;
}
