// What of a start-up anyone may read (issue 30): nothing until a coordinator publishes it, then
// only the parts its policy names. Pure: built from the stored details, tested with random
// policies (publication_test.cc) — the one place the public parts are chosen.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::incubation {

namespace v1 = ::pepiniere::incubation::v1;

// A fact the view shows (a phase begun, a committee decision, a milestone), under a key that
// names it whatever else changes: "phase:<phase>:<start>", "committee:<id>", "milestone:<id>".
struct PublicFact {
  std::string key;
  v1::PublicFactPublished fact;  // everything but fact_id, which the store gives
};

// nullopt when the start-up is not published. `fact_ids` (key -> fact id: the attestations on
// the ledger) fills each shown phase's and event's fact_id; `facts`, when given, receives every
// fact the view shows, built from the same parts as the view itself.
std::optional<v1::PublicStartup> PublicView(const v1::StartupDetails& d,
                                            const std::map<std::string, std::string>* fact_ids = nullptr,
                                            std::vector<PublicFact>* facts = nullptr);

}  // namespace pep::incubation
