// The public pages of issue 30, written by the gateway from pep-incubation's ListPublicStartups
// (the published start-ups' public parts, nothing else): the portfolio with beta.gouv.fr's
// filters, a page per start-up, the statistics. Server-rendered HTML in the State design system,
// complete without JavaScript, in French. Pure: the bytes are a function of the list, the query
// and the day (the phase picture runs to today).
#pragma once

#include <string>

#include "absl/time/time.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::gateway {

namespace nv1 = ::pepiniere::incubation::v1;

struct PortfolioQuery {
  std::string q;          // words of the name, mission or thematiques (case and accents ignored)
  std::string incubator;  // exact values, as the filters offer them
  std::string phase;      // "PHASE_CONSTRUCTION", …
  std::string thematique;
  std::string sponsor;
  int page = 1;           // 20 a page
};

// `assets`: the console's asset base (/assets/<hash>), for the design system's CSS.
std::string PublicPortfolioPage(const nv1::ListPublicStartupsResponse& list, const PortfolioQuery& q,
                                const std::string& assets);
std::string PublicStartupPage(const nv1::PublicStartup& s, const std::string& assets, absl::Time today);
std::string PublicStatsPage(const nv1::ListPublicStartupsResponse& list, const std::string& assets);
std::string PublicNotFoundPage(const std::string& id, const std::string& assets);
std::string PublicMessagePage(const std::string& title, const std::string& text, const std::string& assets);

// A public fact as its proof file (pep-audit's export of its lineage) says it.
struct FactProofView {
  nv1::PublicFactPublished fact;  // empty when withheld
  bool withheld = false;          // withdrawn since: the public keeps its hash only
  uint64_t index = 0;             // its entry in the log
  std::string recorded;           // when the log recorded it (RFC 3339)
  std::string withdrawn_at, withdrawn_reason;
  uint64_t withdrawn_index = 0;
  std::string checkpoint, verifier_key;
  uint64_t tree_size = 0;
};
std::string PublicFactPage(const FactProofView& v, const std::string& fact_id, const std::string& assets);

// French names of the phases, as the console says them.
std::string PhaseWord(nv1::Phase p);

}  // namespace pep::gateway
