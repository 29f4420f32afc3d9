// What of a start-up is public, as a property: random policies over generated start-ups whose
// every part carries a marker of its own — the markers of a part the policy keeps private never
// appear in the public view's bytes (binary and JSON), those it makes public do, and an
// unpublished start-up has no view at all.
#include "services/incubation/publication.h"

#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace pep::incubation {
namespace {

// A start-up whose every part is marked « <part>-<n> ».
v1::StartupDetails Generated(int n) {
  v1::StartupDetails d;
  v1::Startup& s = *d.mutable_startup();
  const std::string k = absl::StrCat(n);
  s.set_id(absl::StrCat("00000000-0000-7000-8000-", std::string(12 - k.size(), '0'), k));
  s.set_slug("produit-" + k);
  s.set_name("Équipe voirie " + k);
  s.set_incubator("lab06");
  s.set_mission("MISSION-" + k + " : signaler un nid-de-poule");
  s.add_sponsors("SPONSOR-" + k);
  s.mutable_links()->set_product("https://LINK-" + k + ".example.fr");
  s.add_tags("THEME-" + k);
  s.set_origin_idea_id("IDEA-" + k);
  auto* kpi = s.add_public_kpis();
  kpi->set_name("KPI-" + k);
  kpi->set_unit("familles");
  auto* ph = s.add_phases();
  ph->set_phase(v1::PHASE_INVESTIGATION);
  ph->mutable_start()->set_seconds(1700000000 + n);
  ph->set_comment("PHASECOMMENT-" + k);  // a committee's comment: never public
  ph->set_decision_id("DECISIONID-" + k);
  auto* m = s.add_team();
  m->set_id("MEMBERID-" + k);
  m->set_name("TEAMNAME-" + k);
  m->set_role("TEAMROLE-" + k);
  m->set_email("TEAMEMAIL-" + k + "@departement06.fr");  // never public
  auto* c = d.add_decisions();
  *c->mutable_date() = ph->start();
  c->set_outcome(v1::COMMITTEE_OUTCOME_GO);
  c->set_rationale("RATIONALE-" + k);  // a committee's reasons: never public
  c->add_participants("PARTICIPANT-" + k);
  auto* ms = d.add_milestones();
  ms->set_title("MILESTONE-" + k);
  ms->set_description("MSDESCRIPTION-" + k);  // never public
  ms->set_pushed_by("PUSHER-" + k);
  return d;
}

TEST(Publication, APrivatePartNeverAppearsAndAPublicOneDoes) {
  std::mt19937 rng(20261207);
  int published = 0;
  for (int n = 0; n < 2000; ++n) {
    v1::StartupDetails d = Generated(n);
    v1::PublicationPolicy& p = *d.mutable_startup()->mutable_publication();
    auto coin = [&] { return (rng() & 1) == 1; };
    p.set_published(coin());
    p.set_mission(coin());
    p.set_phases(coin());
    p.set_events(coin());
    p.set_team(coin());
    p.set_sponsors(coin());
    p.set_links(coin());
    p.set_thematiques(coin());
    p.set_origin_idea(coin());
    p.set_kpis(coin());
    p.set_changed_by("COORDINATOR-" + std::to_string(n));
    std::vector<PublicFact> facts;  // what goes on the ledger for anyone to read
    auto view = PublicView(d, nullptr, &facts);
    if (!p.published()) {
      EXPECT_FALSE(view.has_value());
      EXPECT_TRUE(facts.empty());
      continue;
    }
    ++published;
    ASSERT_TRUE(view.has_value());
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*view, &json).ok());
    const std::string bytes = view->SerializeAsString() + json;
    const std::string k = absl::StrCat(n);
    auto shown = [&](const std::string& marker) { return absl::StrContains(bytes, marker + "-" + k); };
    EXPECT_EQ(shown("MISSION"), p.mission()) << json;
    EXPECT_EQ(shown("SPONSOR"), p.sponsors()) << json;
    EXPECT_EQ(shown("LINK"), p.links()) << json;
    EXPECT_EQ(shown("THEME"), p.thematiques()) << json;
    EXPECT_EQ(shown("IDEA"), p.origin_idea()) << json;
    EXPECT_EQ(shown("KPI"), p.kpis()) << json;
    EXPECT_EQ(shown("TEAMNAME"), p.team()) << json;
    EXPECT_EQ(shown("TEAMROLE"), p.team()) << json;
    EXPECT_EQ(shown("MILESTONE"), p.events()) << json;
    EXPECT_EQ(view->phases_size() > 0, p.phases());
    for (const char* never : {"PHASECOMMENT", "DECISIONID", "MEMBERID", "TEAMEMAIL", "RATIONALE", "PARTICIPANT",
                              "MSDESCRIPTION", "PUSHER", "COORDINATOR"}) {
      EXPECT_FALSE(shown(never)) << never << " in " << json;
    }
    // The facts attested on the ledger: one per phase and event shown, and nothing but those.
    EXPECT_EQ(static_cast<int>(facts.size()), view->phases_size() + view->events_size());
    std::string fact_bytes;
    for (const PublicFact& f : facts) absl::StrAppend(&fact_bytes, f.key, f.fact.SerializeAsString());
    for (const char* never : {"PHASECOMMENT", "DECISIONID", "MEMBERID", "TEAMEMAIL", "RATIONALE", "PARTICIPANT",
                              "MSDESCRIPTION", "PUSHER", "COORDINATOR", "MISSION", "SPONSOR", "LINK", "THEME",
                              "IDEA", "TEAMNAME", "TEAMROLE", "KPI"}) {
      EXPECT_FALSE(absl::StrContains(fact_bytes, absl::StrCat(never, "-", k))) << never;
    }
    EXPECT_EQ(absl::StrContains(fact_bytes, "MILESTONE-" + k), p.events());
  }
  EXPECT_GT(published, 900);
}

}  // namespace
}  // namespace pep::incubation
