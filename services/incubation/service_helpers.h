// Small rules shared by pep-incubation's RPC handlers (incubation_service.cc) and its portfolio
// import (incubation_import.cc): who may do what, and how a start-up's changes are recorded.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "auth/principal.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::incubation::internal {

namespace v1 = ::pepiniere::incubation::v1;

inline std::string Lower(std::string s) { return absl::AsciiStrToLower(s); }

inline absl::Status RequireCoordinator(const auth::Principal& p, const std::string& action) {
  if (p.HasRole("coordinator")) return absl::OkStatus();
  return absl::PermissionDeniedError(action + " requires the coordinator role");
}

// Coordinators reach every start-up, a product team the start-ups of its scopes, nobody else any.
inline absl::Status CheckScope(const auth::Principal& p, const std::string& startup_id) {
  if (p.CoversStartup(startup_id)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "'", p.id, "' (roles ", absl::StrJoin(p.roles, ","), ", scope '", p.ScopeText(),
      "') does not cover start-up ", startup_id));
}

// The whole portfolio is the coordinators' (and auditors') view.
inline absl::Status RequirePortfolioReader(const auth::Principal& p, const std::string& action) {
  if (p.HasRole("coordinator") || p.HasRole("auditor")) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(action, " requires the coordinator or auditor role"));
}

inline std::string LinksText(const v1::Links& l) {
  return absl::StrCat(l.repository(), " ", l.product(), " ", l.stats());
}

// Appends a field change when `next` differs; returns whether it did.
inline bool Change(v1::StartupUpdated* ev, const std::string& field, const std::string& old_value,
            const std::string& new_value) {
  if (old_value == new_value) return false;
  auto* c = ev->add_changes();
  c->set_field(field);
  c->set_old_value(old_value);
  c->set_new_value(new_value);
  return true;
}

// The start-up as it was when its first phase began (what StartupCreated carries).
inline v1::Startup AsOfFirstPhase(const v1::Startup& s) {
  v1::Startup first = s;
  first.clear_phases();
  if (s.phases_size() > 0) {
    auto* p = first.add_phases();
    *p = s.phases(0);
    p->clear_end();
    first.set_phase(p->phase());
  }
  first.clear_last_milestone_at();
  first.set_version(1);
  return first;
}

}  // namespace pep::incubation::internal
