// Open data at the portfolio's real size (660 start-ups, random publication policies, every
// part marked): the five files never hold a byte of what a policy keeps private (searched in the
// bytes), and they validate against beta.gouv.fr's OpenAPI document (tests/data, v2.7) with an
// independent validator — jsonschema 4.26.0 from PyPI, in the venv install-deps makes.
#include "services/gateway/opendata.h"
#include "services/gateway/public_pages.h"
#include "services/gateway/static_files.h"

#include <cstdlib>
#include <fstream>
#include <random>

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "services/incubation/publication.h"

namespace pep::gateway {
namespace {

struct Generated {
  nv1::ListPublicStartupsResponse list;
  std::vector<std::string> private_markers;  // what no file may hold
  int published = 0;
};

Generated Portfolio(int n) {
  std::mt19937 rng(660);
  auto coin = [&] { return (rng() & 1) == 1; };
  const nv1::Phase phases[] = {nv1::PHASE_INVESTIGATION, nv1::PHASE_CONSTRUCTION, nv1::PHASE_ACCELERATION,
                               nv1::PHASE_CONSOLIDATION, nv1::PHASE_TRANSFERRED, nv1::PHASE_OPERATED,
                               nv1::PHASE_ABANDONED};
  Generated g;
  for (int i = 0; i < n; ++i) {
    const std::string k = absl::StrCat(i);
    nv1::StartupDetails d;
    nv1::Startup& s = *d.mutable_startup();
    s.set_slug(i == 0 ? "auxAJ" : "produit-" + k);  // an imported id keeps its capitals
    s.set_name(absl::StrCat("Équipe « voirie » n°", k, " ; \"guillemets\""));
    s.set_incubator(i % 3 == 0 ? "lab06" : "dinum");
    s.set_mission("MISSION" + k + " — signaler un nid-de-poule");
    s.add_sponsors("SPONSOR" + k);
    s.mutable_links()->set_product("https://produit" + k + ".example.fr");
    s.mutable_links()->set_repository("https://depot" + k + ".example.fr");
    s.add_tags("THEME" + k);
    s.set_origin_idea_id("IDEA" + k);
    const int count = 1 + i % 4;
    for (int p = 0; p < count; ++p) {
      auto* ph = s.add_phases();
      ph->set_phase(phases[(i + p) % 7]);
      ph->mutable_start()->set_seconds(1600000000 + 86400 * (30 * p + i % 30));
      if (p + 1 < count) ph->mutable_end()->set_seconds(1600000000 + 86400 * (30 * (p + 1) + i % 30));
      ph->set_comment("PHASECOMMENT" + k);
    }
    s.set_phase(s.phases(count - 1).phase());
    auto* m = s.add_team();
    m->set_name("TEAMNAME" + k);
    m->set_role("TEAMROLE" + k);
    m->set_email("teamemail" + k + "@departement06.fr");
    auto* c = d.add_decisions();
    c->set_rationale("RATIONALE" + k);
    auto* ms = d.add_milestones();
    ms->set_description("MSDESCRIPTION" + k);
    nv1::PublicationPolicy& pol = *s.mutable_publication();
    pol.set_published(i < 3 || coin());
    pol.set_mission(coin());
    pol.set_phases(i < 3 || coin());
    pol.set_events(coin());
    pol.set_team(i < 3 || coin());
    pol.set_sponsors(i < 3 || coin());
    pol.set_links(coin());
    pol.set_thematiques(coin());
    pol.set_origin_idea(coin());
    pol.set_changed_by("COORDINATOR" + k);
    for (const char* never : {"PHASECOMMENT", "RATIONALE", "MSDESCRIPTION", "COORDINATOR", "teamemail"}) {
      g.private_markers.push_back(absl::StrCat(never, k, never[0] == 't' ? "@" : ""));
    }
    auto add_if = [&](bool shown, const std::string& marker) {
      if (!pol.published() || !shown) g.private_markers.push_back(marker);
    };
    add_if(pol.mission(), "MISSION" + k + " ");
    add_if(pol.sponsors(), "\"SPONSOR" + k + "\"");
    add_if(pol.links(), "produit" + k + ".example");
    add_if(pol.links(), "depot" + k + ".example");
    add_if(pol.thematiques(), "\"THEME" + k + "\"");
    add_if(pol.team(), "\"TEAMNAME" + k + "\"");
    add_if(false, "IDEA" + k);  // the open data never names the idea (the public page may)
    if (auto view = incubation::PublicView(d)) {
      *g.list.add_startups() = std::move(*view);
      ++g.published;
    }
  }
  return g;
}

std::string Python() {
  const char* cache = std::getenv("PEP_CACHE_DIR");
  const std::string dir = cache != nullptr ? cache : std::string(std::getenv("HOME")) + "/.cache/pepiniere";
  return dir + "/jsonschema-4.26.0/bin/python";  // jsonschema from PyPI (install-deps.sh)
}

TEST(OpenData, NothingPrivateAndValidAgainstBetaGouvsDocument) {
  const Generated g = Portfolio(660);
  ASSERT_GT(g.published, 300);
  const std::map<std::string, std::string> files = {
      {"startups.json", StartupsJson(g.list, "/api/v2.7/startups.json")},
      {"startups_details.json", StartupsDetailsJson(g.list)},
      {"startups.csv", StartupsCsv(g.list)},
      {"incubators.json", IncubatorsJson(g.list)},
      {"sponsors.json", SponsorsJson(g.list)},
  };
  for (const auto& [name, bytes] : files) {
    for (const auto& marker : g.private_markers) {
      ASSERT_FALSE(absl::StrContains(bytes, marker)) << name << " holds « " << marker << " »";
    }
  }
  // The public pages, from the same list: every page of the portfolio, each start-up's, the statistics.
  std::string pages = PublicStatsPage(g.list, "/assets/x");
  for (int page = 1; page <= (g.published + 19) / 20; ++page) {
    pages += PublicPortfolioPage(g.list, {.page = page}, "/assets/x");
  }
  for (const auto& s : g.list.startups()) pages += PublicStartupPage(s, "/assets/x", absl::FromUnixSeconds(1800000000));
  for (const auto& marker : g.private_markers) {
    ASSERT_FALSE(absl::StrContains(pages, marker)) << "a public page holds « " << marker << " »";
  }
  EXPECT_TRUE(absl::StrContains(pages, "TEAMNAME0")) << "a public team is on its page";
  // The search folds case and accents: « equipe VOIRIE » finds « Équipe « voirie » ».
  const std::string found = PublicPortfolioPage(g.list, {.q = "equipe VOIRIE n°0"}, "/assets/x");
  EXPECT_TRUE(absl::StrContains(found, "href=\"/startups/auxAJ\"")) << "the search folds case and accents";
  EXPECT_FALSE(absl::StrContains(PublicPortfolioPage(g.list, {.q = "introuvable"}, "/assets/x"), "href=\"/startups/auxAJ\""));
  EXPECT_TRUE(absl::StrContains(pages, "href=\"/startups/auxAJ\"")) << "linked by its own id";
  // What is public is there: the first three publish their phases, sponsors and team.
  EXPECT_TRUE(absl::StrContains(files.at("startups.json"), R"("id":"auxAJ")")) << "the imported id as it is";
  EXPECT_TRUE(absl::StrContains(files.at("startups.json"), R"("SPONSOR0")"));
  EXPECT_TRUE(absl::StrContains(files.at("startups_details.json"), R"("TEAMNAME0")"));
  EXPECT_TRUE(absl::StrContains(files.at("startups.csv"), "\nauxAJ;\"Équipe « voirie » n°0 ; \"\"guillemets\"\"\";"));
  // The same list, read afresh, gives the same bytes: the ETag is stable.
  nv1::ListPublicStartupsResponse copy;
  ASSERT_TRUE(copy.ParseFromString(g.list.SerializeAsString()));
  EXPECT_EQ(StartupsJson(copy, "/api/v2.7/startups.json"), files.at("startups.json"));
  EXPECT_EQ(IncubatorsJson(copy), files.at("incubators.json"));
  pep::testing::TempDir dir;
  for (const auto& [name, bytes] : files) std::ofstream(dir.path() + "/" + name, std::ios::binary) << bytes;
  ASSERT_EQ(access(Python().c_str(), X_OK), 0) << Python() << ": run deploy/local/lib/install-deps.sh";
  const std::string src = std::getenv("PEP_SOURCE_DIR") ? std::getenv("PEP_SOURCE_DIR") : ".";
  const std::string cmd = absl::StrCat(Python(), " ", src, "/tests/opendata/validate.py ", src,
                                       "/tests/data/betagouv-api-v2.7.swagger.json ", dir.path());
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Users' satisfaction on a public page: only when the policy says so, a score only past the
// threshold, and « non disponible » where the service takes no answers yet.
TEST(PublicPages, SatisfactionAndOriginOnlyWhenPublishedAndPastTheThreshold) {
  nv1::PublicStartup s;
  s.set_id("equipe-voirie");
  s.set_name("Équipe voirie");
  s.set_satisfaction_band("BAND_GREEN");
  s.set_satisfaction(25.0 / 3);
  s.set_answers(312);
  s.set_band_threshold(100);
  const absl::Time today = absl::FromUnixSeconds(1800000000);
  EXPECT_EQ(PublicStartupPage(s, "/assets", today).find("8,3/10"), std::string::npos) << "not in the policy";
  s.mutable_policy()->set_satisfaction(true);
  const std::string page = PublicStartupPage(s, "/assets", today);
  EXPECT_NE(page.find("Bonne</span> 8,3/10 sur les 12 derniers mois (312 avis)"), std::string::npos) << page;
  s.set_satisfaction_band("BAND_INSUFFICIENT_DATA");
  EXPECT_NE(PublicStartupPage(s, "/assets", today).find("il en faut 100 sur 12 mois"), std::string::npos);
  s.clear_satisfaction_band();
  EXPECT_NE(PublicStartupPage(s, "/assets", today).find("ne recueille pas encore d'avis"), std::string::npos);
  // The idea it came from: only with the policy, named only who agreed.
  s.set_origin_title("Cantine sans papier");
  s.set_origin_challenge("Défi LAB06 2026");
  EXPECT_EQ(PublicStartupPage(s, "/assets", today).find("Cantine sans papier"), std::string::npos);
  s.mutable_policy()->set_origin_idea(true);
  std::string with = PublicStartupPage(s, "/assets", today);
  EXPECT_NE(with.find("Issue de l'idée « Cantine sans papier », déposée le"), std::string::npos) << with;
  const size_t at = with.find("<p id=\"origin\">");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(with.substr(at, with.find("</p>", at) - at).find(" par "), std::string::npos) << "nobody agreed: nobody named";
  s.add_origin_credited("Camille Roux");
  EXPECT_NE(PublicStartupPage(s, "/assets", today).find("au défi « Défi LAB06 2026 » par Camille Roux."), std::string::npos);
  nv1::ListPublicStartupsResponse list;
  s.set_satisfaction_band("BAND_RED");
  *list.add_startups() = s;
  EXPECT_NE(PublicStatsPage(list, "/assets").find("<td>Mauvaise</td><td>1</td>"), std::string::npos);
}

// The public pages take the design system from the console's hashed assets: the base is read
// from the first link of the built index.html (its comment about asset paths once fooled it).
TEST(PublicPages, TheAssetsBaseIsTheConsolesHashedOne) {
  pep::testing::TempDir dir;
  std::ofstream(dir.path() + "/index.html")
      << "<!-- asset paths are /assets/<content hash>/… -->\n<link rel=\"stylesheet\" href=\"/assets/f1bc0ee9/dsfr/dsfr.min.css\">";
  EXPECT_EQ(StaticFiles(dir.path()).AssetsBase(), "/assets/f1bc0ee9");
  EXPECT_EQ(StaticFiles(dir.path() + "/none").AssetsBase(), "/assets");
}

}  // namespace
}  // namespace pep::gateway
