// Open data in beta.gouv.fr's format (its public API v2.7, ../shared/reference/): the published
// start-ups' public parts, as pep-incubation's ListPublicStartups gives them, written as
// startups.json (JSON:API), startups_details.json, startups.csv, incubators.json and
// sponsors.json. Pure: the bytes are a function of the list (tests validate them against the
// OpenAPI document with an independent validator).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pepiniere/incubation/v1/incubation.pb.h"

namespace pep::gateway {

namespace nv1 = ::pepiniere::incubation::v1;

// beta.gouv.fr's phase names: investigation, construction, acceleration, transfer, success, alumni.
std::string BetaPhase(nv1::Phase p);

std::string StartupsJson(const nv1::ListPublicStartupsResponse& list, const std::string& self_url);
std::string StartupsDetailsJson(const nv1::ListPublicStartupsResponse& list);
std::string StartupsCsv(const nv1::ListPublicStartupsResponse& list);
std::string IncubatorsJson(const nv1::ListPublicStartupsResponse& list);
std::string SponsorsJson(const nv1::ListPublicStartupsResponse& list);

// The release (/api/v2.7/release.json): each file's SHA-256 (path -> hex), the ledger checkpoint
// (signed note) it goes with, and per start-up (public id) the ids of the public facts it shows,
// each provable at /v1/public/facts/{id}/proof — withdrawn ones included (OPENDATA.md).
std::string ReleaseJson(const nv1::ListPublicStartupsResponse& list, const std::map<std::string, std::string>& files,
                        const std::string& checkpoint, uint64_t tree_size);

}  // namespace pep::gateway
