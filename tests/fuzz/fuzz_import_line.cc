// One line of a portfolio import (services/incubation/incubation_core.h), any bytes. Beyond
// "no crash": what ParseImportLine promises of an accepted line (empty rejection), which
// ImportOne then writes without checking again — a valid imported id (IsValidImportedId: the
// portfolio's own ids keep their capitals, « auxAJ »), at least one known phase, the current
// phase the last one, phases in start order, each closed no later than the next opens and never
// before it began.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/time/time.h"
#include "services/incubation/incubation_core.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1796000000);  // fixed: runs must repeat
  const pep::incubation::ImportLine r = pep::incubation::ParseImportLine(line, 1, now);
  Check(r.line == 1);
  if (!r.rejection.empty()) return 0;
  const auto& s = r.details.startup();
  Check(pep::incubation::IsValidImportedId(s.slug()));
  Check(s.phases_size() >= 1);
  Check(s.phase() == s.phases(s.phases_size() - 1).phase());
  for (int i = 0; i < s.phases_size(); ++i) {
    const auto& p = s.phases(i);
    Check(p.phase() != pep::incubation::v1::PHASE_UNSPECIFIED);
    if (p.has_end()) Check(p.end().seconds() >= p.start().seconds());
    if (i + 1 < s.phases_size()) {
      const auto& next = s.phases(i + 1);
      Check(p.start().seconds() <= next.start().seconds());
      Check(p.has_end() && p.end().seconds() <= next.start().seconds());
    }
  }
  for (const auto& w : r.warnings) Check(!w.rule().empty());
  return 0;
}
