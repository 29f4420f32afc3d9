// What of a start-up anyone may read (issue 30): nothing until a coordinator publishes it, then
// only the parts its policy names. Pure: built from the stored details, tested with random
// policies (publication_test.cc) — the one place the public parts are chosen.
#pragma once

#include <optional>

#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::incubation {

namespace v1 = ::pepiniere::incubation::v1;

// nullopt when the start-up is not published.
std::optional<v1::PublicStartup> PublicView(const v1::StartupDetails& d);

}  // namespace pep::incubation
