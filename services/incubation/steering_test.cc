// Steering (issue 31), pure parts: the pre-read folded from a start-up's events (what it says,
// that it is the same bytes however the events reach it), objectives judged on both sides of
// each threshold, the steering rules' refusals, « comité dû »; the team's kinds of role, signals
// and edits.
#include "portfolio/preread.h"

#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "portfolio/budget.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "gtest/gtest.h"
#include "services/incubation/incubation_core.h"
#include "services/incubation/steering_rules.h"
#include "services/incubation/team_rules.h"

namespace pep::incubation {
namespace {

using portfolio::BuildPreRead;
using portfolio::JudgeObjective;
using portfolio::ObjectiveStatus;
using portfolio::SteeringFold;

absl::Time Day(int y, int m, int d) { return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone()); }

// The events of « Équipe voirie »: created 1 March 2026 in construction, a KPI with a target,
// measures, a committee on 1 July granting 120 000 € and two objectives, milestones either side
// of it, one arrival and one departure after it, and its ask for the January meeting.
std::vector<std::pair<std::string, std::string>> Story() {
  std::vector<std::pair<std::string, std::string>> ev;
  auto add = [&ev](const google::protobuf::Message& m) {
    ev.emplace_back(m.GetDescriptor()->full_name(), m.SerializeAsString());
  };
  v1::StartupCreated created;
  auto* s = created.mutable_startup();
  s->set_id("0190a000-0000-7000-8000-000000000001");
  s->set_slug("equipe-voirie");
  s->set_name("Équipe voirie");
  s->set_phase(v1::PHASE_CONSTRUCTION);
  auto* ph = s->add_phases();
  ph->set_phase(v1::PHASE_CONSTRUCTION);
  *ph->mutable_start() = ToTimestamp(Day(2026, 3, 1));
  auto* lea = s->add_team();
  lea->set_id("m-lea");
  lea->set_name("Léa Moreau");
  lea->set_role("intrapreneure");
  lea->set_email("lea@departement06.fr");  // never in a pre-read
  *lea->mutable_start() = ToTimestamp(Day(2026, 3, 1));
  add(created);

  v1::KpiDefined kpi;
  auto* k = kpi.mutable_kpi();
  k->set_id("signalements");
  k->set_name("Signalements traités");
  k->set_unit("signalements");
  k->set_direction(v1::KPI_DIRECTION_UP);
  k->set_north_star(true);
  auto* t = k->add_targets();
  *t->mutable_date() = ToTimestamp(Day(2027, 6, 30));
  t->set_value(2000);
  add(kpi);
  v1::KpiDefined delay;
  delay.mutable_kpi()->set_id("delai");
  delay.mutable_kpi()->set_name("Délai de traitement");
  delay.mutable_kpi()->set_unit("jours");
  delay.mutable_kpi()->set_direction(v1::KPI_DIRECTION_DOWN);
  add(delay);

  auto point = [&](const std::string& kpi_id, absl::Time at, double v) {
    v1::KpiPointRecorded p;
    p.mutable_point()->set_kpi(kpi_id);
    *p.mutable_point()->mutable_date() = ToTimestamp(at);
    p.mutable_point()->set_value(v);
    add(p);
  };
  point("signalements", Day(2026, 6, 1), 300);
  v1::MilestonePushed before;
  before.mutable_milestone()->set_title("Premier prototype");
  before.mutable_milestone()->set_kind(v1::MILESTONE_KIND_OTHER);
  *before.mutable_milestone()->mutable_date() = ToTimestamp(Day(2026, 5, 1));
  add(before);

  v1::CommitteeDecisionRecorded dec;
  auto* d = dec.mutable_decision();
  d->set_id("d1");
  *d->mutable_date() = ToTimestamp(Day(2026, 7, 1));
  d->set_outcome(v1::COMMITTEE_OUTCOME_GO);
  d->set_envelope_eur(120000);
  *d->mutable_next_review() = ToTimestamp(Day(2027, 1, 1));
  auto* o1 = d->add_objectives();
  o1->set_kpi("signalements");
  o1->set_target(1000);
  *o1->mutable_by() = ToTimestamp(Day(2026, 12, 1));
  auto* o2 = d->add_objectives();
  o2->set_kpi("delai");
  o2->set_target(5);
  *o2->mutable_by() = ToTimestamp(Day(2026, 12, 1));
  add(dec);

  point("signalements", Day(2026, 11, 15), 1200);  // objective 1 reached on time
  point("signalements", Day(2026, 12, 20), 900);   // after its date: not the one judged
  point("delai", Day(2026, 11, 30), 7);            // objective 2 missed (less is better)
  v1::MilestonePushed after;
  after.mutable_milestone()->set_title("Ouverture à « tous » les agents");
  after.mutable_milestone()->set_kind(v1::MILESTONE_KIND_PRODUCT_LAUNCH);
  *after.mutable_milestone()->mutable_date() = ToTimestamp(Day(2026, 9, 15));
  add(after);
  v1::TeamMemberAdded arrival;
  arrival.mutable_member()->set_id("m-sam");
  arrival.mutable_member()->set_name("Samir Haddad");
  arrival.mutable_member()->set_role("développement");
  *arrival.mutable_member()->mutable_start() = ToTimestamp(Day(2026, 9, 1));
  add(arrival);
  v1::TeamMemberRemoved departure;
  departure.set_member_id("m-lea");
  *departure.mutable_end() = ToTimestamp(Day(2026, 10, 1));
  add(departure);

  v1::CommitteeAskSubmitted ask;
  auto* a = ask.mutable_ask();
  a->set_meeting_id("meeting-jan");
  a->set_envelope_eur(180000);
  a->set_team("Deux développeurs, une designer");
  a->add_hypotheses("Les agents de terrain signalent depuis leur téléphone");
  auto* c = a->add_criteria();
  c->set_kpi("signalements");
  c->set_target(3000);
  *c->mutable_by() = ToTimestamp(Day(2027, 6, 30));
  *a->mutable_submitted_at() = ToTimestamp(Day(2026, 12, 28));
  add(ask);
  return ev;
}

SteeringFold Fold(const std::vector<std::pair<std::string, std::string>>& events) {
  SteeringFold f;
  for (const auto& [type, payload] : events) EXPECT_TRUE(f.Add(type, payload).ok()) << type;
  return f;
}

const portfolio::PreReadMeeting kJanuary{.id = "meeting-jan", .title = "Comité de janvier", .date = Day(2027, 1, 12)};

TEST(PreReadTest, JudgesLastCommitteesObjectivesAndTellsWhatChangedSince) {
  const std::string doc = BuildPreRead(Fold(Story()).state(), kJanuary, Day(2027, 1, 5));
  EXPECT_TRUE(absl::StrContains(doc, "# Pré-lecture — Équipe voirie")) << doc;
  EXPECT_TRUE(absl::StrContains(doc, "Comité du 01/07/2026 : poursuite (GO).")) << doc;
  EXPECT_TRUE(absl::StrContains(doc, "Enveloppe accordée : 120\u202f000 €.")) << doc;
  // Judged at its date (the later 900 is not the measure judged), and the one to go down missed.
  EXPECT_TRUE(absl::StrContains(doc, "Signalements traités : cible 1\u202f000 signalements au 01/12/2026 — mesuré "
                                     "1\u202f200 signalements le 15/11/2026 — atteint\n")) << doc;
  EXPECT_TRUE(absl::StrContains(doc, "Délai de traitement : cible 5 jours au 01/12/2026 — mesuré 7 jours le "
                                     "30/11/2026 — non atteint (écart 2 jours)")) << doc;
  // Milestones since the committee only; French words; the North Star first.
  EXPECT_TRUE(absl::StrContains(doc, "- 15/09/2026 — mise en production : Ouverture à « tous » les agents")) << doc;
  EXPECT_FALSE(absl::StrContains(doc, "Premier prototype")) << doc;
  EXPECT_LT(doc.find("### Signalements traités (étoile du Nord)"), doc.find("### Délai de traitement")) << doc;
  EXPECT_TRUE(absl::StrContains(doc, "1 arrivée(s) — Samir Haddad (01/09/2026) ; 1 départ(s) — Léa Moreau (01/10/2026)")) << doc;
  EXPECT_TRUE(absl::StrContains(doc, "Enveloppe demandée : 180\u202f000 €.")) << doc;
  EXPECT_TRUE(absl::StrContains(doc, "Prochaine cible : 2\u202f000 signalements au 30/06/2027 — écart 1\u202f100")) << doc;
  EXPECT_FALSE(absl::StrContains(doc, "departement06")) << "an e-mail in the pre-read:\n" << doc;
}

TEST(PreReadTest, SameBytesHoweverTheEventsComeAndOnlyWhatWasKnown) {
  const auto events = Story();
  const std::string a = BuildPreRead(Fold(events).state(), kJanuary, Day(2027, 1, 5));
  EXPECT_EQ(a, BuildPreRead(Fold(events).state(), kJanuary, Day(2027, 1, 5)));
  EXPECT_EQ(portfolio::DocumentSha256(a).size(), 64u);
  // The same events under their short names (as a ledger reader may give them).
  SteeringFold shortnames;
  for (const auto& [type, payload] : events) {
    ASSERT_TRUE(shortnames.Add(type.substr(type.rfind('.') + 1), payload).ok());
  }
  EXPECT_EQ(a, BuildPreRead(shortnames.state(), kJanuary, Day(2027, 1, 5)));
  // Without the ask (events up to before it): the document says so, and differs.
  auto fewer = events;
  fewer.pop_back();
  const std::string b = BuildPreRead(Fold(fewer).state(), kJanuary, Day(2027, 1, 5));
  EXPECT_TRUE(absl::StrContains(b, "L'équipe n'a pas déposé de demande pour ce comité.")) << b;
  EXPECT_NE(portfolio::DocumentSha256(a), portfolio::DocumentSha256(b));
  // A measure dated after the issue is not shown.
  const std::string early = BuildPreRead(Fold(events).state(), kJanuary, Day(2026, 12, 10));
  EXPECT_FALSE(absl::StrContains(early, "20/12/2026 900")) << early;
  EXPECT_TRUE(absl::StrContains(a, "20/12/2026 900")) << a;
  // An unparsable payload is refused, naming its type.
  SteeringFold bad;
  const absl::Status st = bad.Add("pepiniere.incubation.v1.MilestonePushed", "\xff\xff\xff");
  EXPECT_TRUE(absl::IsInvalidArgument(st) && absl::StrContains(st.message(), "MilestonePushed")) << st;
}

TEST(PreReadTest, ABaselineFoldsAsTheEventsThatMadeIt) {
  // A start-up older than the journal: its baseline (the state then) and what follows.
  const auto events = Story();
  SteeringFold upto;
  for (size_t i = 0; i < 9; ++i) ASSERT_TRUE(upto.Add(events[i].first, events[i].second).ok());
  v1::SteeringBaseline base;
  v1::Startup* s = base.mutable_details()->mutable_startup();
  s->set_id(upto.state().startup_id);
  s->set_name(upto.state().name);
  s->set_slug(upto.state().slug);
  s->set_phase(upto.state().phase);
  for (const auto& p : upto.state().phases) *s->add_phases() = p;
  *s->mutable_budget() = upto.state().budget;  // as the start-up keeps it
  for (const auto& [id, m] : upto.state().members) *s->add_team() = m;
  for (const auto& d : upto.state().decisions) *base.mutable_details()->add_decisions() = d;
  for (const auto& m : upto.state().milestones) *base.mutable_details()->add_milestones() = m;
  SteeringFold rebuilt;
  // Indicators defined after the journal began stay through the baseline.
  for (size_t i = 1; i < 9; ++i) {
    if (absl::StrContains(events[i].first, "Kpi")) {
      ASSERT_TRUE(rebuilt.Add(events[i].first, events[i].second).ok());
    }
  }
  ASSERT_TRUE(rebuilt.Add("pepiniere.incubation.v1.SteeringBaseline", base.SerializeAsString()).ok());
  for (size_t i = 9; i < events.size(); ++i) ASSERT_TRUE(rebuilt.Add(events[i].first, events[i].second).ok());
  EXPECT_EQ(BuildPreRead(Fold(events).state(), kJanuary, Day(2027, 1, 5)),
            BuildPreRead(rebuilt.state(), kJanuary, Day(2027, 1, 5)));
}

TEST(PreReadTest, ObjectivesOnEachSideOfTheirThresholds) {
  SteeringFold f = Fold(Story());
  v1::Objective up;
  up.set_kpi("signalements");
  *up.mutable_by() = ToTimestamp(Day(2026, 12, 1));
  up.set_target(1200);  // measured 1 200 on 15/11: exactly reached
  EXPECT_EQ(JudgeObjective(f.state(), up, Day(2027, 1, 5)).status, ObjectiveStatus::kReached);
  up.set_target(1200.5);
  auto j = JudgeObjective(f.state(), up, Day(2027, 1, 5));
  EXPECT_EQ(j.status, ObjectiveStatus::kMissed);
  EXPECT_DOUBLE_EQ(j.gap, 0.5);
  // Before its date, short of it: in progress, judged on the latest measure known then.
  j = JudgeObjective(f.state(), up, Day(2026, 11, 20));
  EXPECT_EQ(j.status, ObjectiveStatus::kInProgress);
  EXPECT_DOUBLE_EQ(j.value, 1200);
  v1::Objective down;
  down.set_kpi("delai");
  *down.mutable_by() = ToTimestamp(Day(2026, 12, 1));
  down.set_target(7);  // measured 7: less is better, exactly reached
  EXPECT_EQ(JudgeObjective(f.state(), down, Day(2027, 1, 5)).status, ObjectiveStatus::kReached);
  down.set_target(6.99);
  EXPECT_EQ(JudgeObjective(f.state(), down, Day(2027, 1, 5)).status, ObjectiveStatus::kMissed);
  // Measured only after its date: no measure judged; an unknown indicator; a sentence.
  down.set_kpi("delai");
  *down.mutable_by() = ToTimestamp(Day(2026, 11, 1));
  EXPECT_EQ(JudgeObjective(f.state(), down, Day(2027, 1, 5)).status, ObjectiveStatus::kNoMeasure);
  down.set_kpi("inconnu");
  EXPECT_EQ(JudgeObjective(f.state(), down, Day(2027, 1, 5)).status, ObjectiveStatus::kNoIndicator);
}

TEST(PreReadTest, FrenchNumbers) {
  EXPECT_EQ(portfolio::FrenchNumber(0), "0");
  EXPECT_EQ(portfolio::FrenchNumber(999), "999");
  EXPECT_EQ(portfolio::FrenchNumber(1000), "1\u202f000");
  EXPECT_EQ(portfolio::FrenchNumber(1234567.5), "1\u202f234\u202f567,5");
  EXPECT_EQ(portfolio::FrenchNumber(-12.5), "-12,5");
  EXPECT_EQ(portfolio::FrenchNumber(0.07), "0,07");
  EXPECT_EQ(portfolio::FrenchNumber(-0.001), "0");
}

TEST(SteeringRulesTest, RefusalsNameTheirField) {
  auto field_of = [](const absl::Status& s) { return std::string(s.message().substr(0, s.message().find(':'))); };
  v1::KpiDefinition k;
  k.set_id("Signalements");
  k.set_name("Signalements");
  k.set_direction(v1::KPI_DIRECTION_UP);
  EXPECT_EQ(field_of(ValidateKpiDefinition(k)), "kpi.id");
  k.set_id("signalements");
  EXPECT_TRUE(ValidateKpiDefinition(k).ok());
  k.set_direction(v1::KPI_DIRECTION_UNSPECIFIED);
  EXPECT_EQ(field_of(ValidateKpiDefinition(k)), "kpi.direction");
  k.set_direction(v1::KPI_DIRECTION_DOWN);
  k.set_unit("jours\n");
  EXPECT_EQ(field_of(ValidateKpiDefinition(k)), "kpi.unit");
  k.set_unit("jours");
  k.add_targets()->set_value(3);
  EXPECT_EQ(field_of(ValidateKpiDefinition(k)), "kpi.targets[0].date");

  const absl::Time now = Day(2027, 1, 5);
  v1::RecordKpiPointRequest p;
  p.set_kpi("signalements");
  p.set_idempotency_key("ci-42");
  *p.mutable_date() = ToTimestamp(now + absl::Hours(24));
  EXPECT_TRUE(ValidateKpiPoint(p, now).ok());
  *p.mutable_date() = ToTimestamp(now + absl::Hours(24) + absl::Seconds(1));
  EXPECT_EQ(field_of(ValidateKpiPoint(p, now)), "date");
  *p.mutable_date() = ToTimestamp(Day(1677, 1, 1));
  EXPECT_EQ(field_of(ValidateKpiPoint(p, now)), "date");
  *p.mutable_date() = ToTimestamp(now);
  p.set_value(std::nan(""));
  EXPECT_EQ(field_of(ValidateKpiPoint(p, now)), "value");

  v1::ScheduleCommitteeRequest c;
  c.set_title("Comité de janvier");
  c.add_startup_ids("equipe-voirie");
  *c.mutable_date() = ToTimestamp(now + absl::Hours(24 * 731));
  EXPECT_TRUE(ValidateCommittee(c, now).ok());
  *c.mutable_date() = ToTimestamp(now + absl::Hours(24 * 731) + absl::Seconds(1));
  EXPECT_EQ(field_of(ValidateCommittee(c, now)), "date");
  *c.mutable_date() = ToTimestamp(now - absl::Hours(24 * 366) - absl::Seconds(1));
  EXPECT_EQ(field_of(ValidateCommittee(c, now)), "date");
  *c.mutable_date() = ToTimestamp(now);
  c.clear_startup_ids();
  EXPECT_EQ(field_of(ValidateCommittee(c, now)), "startup_ids");

  v1::CommitteeAsk a;
  EXPECT_EQ(field_of(ValidateAsk(a)), "ask");
  a.add_criteria();
  EXPECT_EQ(field_of(ValidateAsk(a)), "ask.criteria[0]");
  a.mutable_criteria(0)->set_kpi("Pas-Un-Id");
  EXPECT_EQ(field_of(ValidateAsk(a)), "ask.criteria[0].kpi");
  a.mutable_criteria(0)->set_kpi("signalements");
  EXPECT_TRUE(ValidateAsk(a).ok());
  a.set_envelope_eur(-1);
  EXPECT_EQ(field_of(ValidateAsk(a)), "ask.envelope_eur");
}

TEST(SteeringRulesTest, NextReviewAndComiteDu) {
  v1::RecordCommitteeDecisionRequest r;
  *r.mutable_date() = ToTimestamp(Day(2026, 7, 1));
  r.set_outcome(v1::COMMITTEE_OUTCOME_GO);
  EXPECT_EQ(*NextReview(r), Day(2027, 1, 1));  // six months on by default
  v1::RecordCommitteeDecisionRequest old_one = r;
  *old_one.mutable_date() = ToTimestamp(Day(1677, 7, 1));
  EXPECT_EQ(ValidateDecisionSteering(old_one).message().substr(0, 4), "date");
  *old_one.mutable_date() = ToTimestamp(Day(1990, 1, 1));
  EXPECT_TRUE(ValidateDecisionSteering(old_one).ok());
  *r.mutable_next_review() = ToTimestamp(Day(2026, 7, 1));
  EXPECT_EQ(ValidateDecisionSteering(r).message().substr(0, 11), "next_review");
  *r.mutable_next_review() = ToTimestamp(Day(2026, 10, 1));
  EXPECT_TRUE(ValidateDecisionSteering(r).ok());
  EXPECT_EQ(*NextReview(r), Day(2026, 10, 1));
  r.set_outcome(v1::COMMITTEE_OUTCOME_STOP);
  EXPECT_FALSE(ValidateDecisionSteering(r).ok());
  r.clear_next_review();
  EXPECT_FALSE(NextReview(r).has_value());

  // « comité dû »: the review date passed, not before; a terminal start-up never.
  v1::Startup s;
  s.set_phase(v1::PHASE_CONSTRUCTION);
  auto* ph = s.add_phases();
  ph->set_phase(v1::PHASE_CONSTRUCTION);
  *ph->mutable_start() = ToTimestamp(Day(2026, 3, 1));
  *s.mutable_last_milestone_at() = ToTimestamp(Day(2026, 12, 1));
  *s.mutable_next_review() = ToTimestamp(Day(2027, 1, 1));
  const StalenessPolicy policy;
  auto due = [&](absl::Time now) {
    for (const auto& r : OverdueReasons(s, now, policy)) {
      if (absl::StartsWith(r, "committee due")) return true;
    }
    return false;
  };
  EXPECT_FALSE(due(Day(2027, 1, 1)));
  EXPECT_TRUE(due(Day(2027, 1, 1) + absl::Seconds(1)));
  s.set_phase(v1::PHASE_OPERATED);
  EXPECT_FALSE(due(Day(2027, 6, 1)));
}

v1::BudgetEntry Entry(absl::Time at, v1::BudgetKind kind, int32_t eur, v1::ResourceKind resource = v1::RESOURCE_KIND_SERVICES) {
  v1::BudgetEntry e;
  *e.mutable_date() = ToTimestamp(at);
  e.set_kind(kind);
  e.set_amount_eur(eur);
  e.set_resource(resource);
  return e;
}

TEST(BudgetTest, RunsOutAtThePaceOfPaymentsAndWarnsFortyFiveDaysAhead) {
  const absl::Time since = Day(2026, 7, 1);
  std::vector<v1::BudgetEntry> entries = {Entry(Day(2026, 6, 20), v1::BUDGET_KIND_PAYMENT, 50000),  // the period before
                                          Entry(Day(2026, 7, 10), v1::BUDGET_KIND_COMMITMENT, 100000),
                                          Entry(Day(2026, 8, 1), v1::BUDGET_KIND_PAYMENT, 30000)};
  v1::BudgetState b = portfolio::WithEnvelope(120000, since, entries);
  EXPECT_EQ(b.committed_eur(), 100000);
  EXPECT_EQ(b.paid_eur(), 30000) << "an invoice paid before the envelope is not counted against it";
  // 60 days in: 30 000 paid = 500 € a day; 90 000 left = 180 days.
  auto o = portfolio::Outlook(b, since + absl::Hours(24 * 60));
  EXPECT_EQ(o.remaining_eur, 90000);
  EXPECT_DOUBLE_EQ(o.paid_per_day_eur, 500);
  EXPECT_EQ(o.runs_out, since + absl::Hours(24 * 240));
  EXPECT_FALSE(o.exceeded || o.overcommitted);
  // The pace counts 30 days at least: a first invoice the day after is not a pace.
  v1::BudgetState early = portfolio::WithEnvelope(120000, since, {Entry(since + absl::Hours(24), v1::BUDGET_KIND_PAYMENT, 30000)});
  EXPECT_DOUBLE_EQ(portfolio::Outlook(early, since + absl::Hours(24)).paid_per_day_eur, 1000);
  // No envelope or nothing paid: no run-out date.
  EXPECT_EQ(portfolio::Outlook(portfolio::WithEnvelope(120000, since, {}), since + absl::Hours(24 * 60)).runs_out, absl::InfiniteFuture());

  // « enveloppe épuisée dans 45 jours » in the overdue reasons: both sides of the threshold.
  v1::Startup s;
  s.set_phase(v1::PHASE_CONSTRUCTION);
  auto* ph = s.add_phases();
  ph->set_phase(v1::PHASE_CONSTRUCTION);
  *ph->mutable_start() = ToTimestamp(Day(2026, 6, 1));
  *s.mutable_last_milestone_at() = ToTimestamp(Day(2026, 12, 1));
  const StalenessPolicy policy;
  auto reasons = [&](absl::Time now) {
    std::string all;
    for (const auto& r : OverdueReasons(s, now, policy)) absl::StrAppend(&all, r, ";");
    return all;
  };
  // 90 days in, 81 000 paid (900 € a day): 39 000 left = 43.3 days, within the notice.
  *s.mutable_budget() = portfolio::WithEnvelope(120000, since, {Entry(since + absl::Hours(24), v1::BUDGET_KIND_PAYMENT, 81000)});
  EXPECT_TRUE(absl::StrContains(reasons(since + absl::Hours(24 * 90)), "envelope runs out on 2026-11-11")) << reasons(since + absl::Hours(24 * 90));
  // 78 750 paid (875 € a day): 41 250 left = 47.1 days, beyond it.
  *s.mutable_budget() = portfolio::WithEnvelope(120000, since, {Entry(since + absl::Hours(24), v1::BUDGET_KIND_PAYMENT, 78750)});
  EXPECT_FALSE(absl::StrContains(reasons(since + absl::Hours(24 * 90)), "envelope")) << reasons(since + absl::Hours(24 * 90));
  // Paid beyond it: exceeded (and not « runs out »); exactly the envelope: not exceeded.
  *s.mutable_budget() = portfolio::WithEnvelope(120000, since, {Entry(since + absl::Hours(24), v1::BUDGET_KIND_PAYMENT, 120001)});
  EXPECT_TRUE(absl::StrContains(reasons(since + absl::Hours(24 * 90)), "envelope exceeded: 120001 of 120000 euros paid"));
  EXPECT_FALSE(absl::StrContains(reasons(since + absl::Hours(24 * 90)), "runs out"));
  *s.mutable_budget() = portfolio::WithEnvelope(120000, since, {Entry(since + absl::Hours(24), v1::BUDGET_KIND_PAYMENT, 120000)});
  EXPECT_FALSE(portfolio::Outlook(s.budget(), since + absl::Hours(24 * 90)).exceeded);
  // Committed beyond the envelope.
  EXPECT_TRUE(portfolio::Outlook(portfolio::WithEnvelope(120000, since, {Entry(since, v1::BUDGET_KIND_COMMITMENT, 130000)}), since).overcommitted);
}

TEST(BudgetTest, TheFinanceCsvAddsUp) {
  portfolio::CsvStartup a{"s-a", "Équipe « voirie »", {}, {}};
  a.entries = {Entry(Day(2025, 11, 3), v1::BUDGET_KIND_COMMITMENT, 70000), Entry(Day(2025, 12, 1), v1::BUDGET_KIND_PAYMENT, 12000),
               Entry(Day(2026, 1, 5), v1::BUDGET_KIND_PAYMENT, 15000), Entry(Day(2026, 1, 9), v1::BUDGET_KIND_PAYMENT, 2500, v1::RESOURCE_KIND_HOSTING)};
  v1::CommitteeDecision d;
  *d.mutable_date() = ToTimestamp(Day(2025, 10, 1));
  d.set_envelope_eur(80000);
  a.decisions = {d};
  portfolio::CsvStartup b{"s-b", "Dossier unique", {Entry(Day(2026, 2, 1), v1::BUDGET_KIND_PAYMENT, 4000, v1::RESOURCE_KIND_COACHING)}, {}};
  const std::string csv = portfolio::BudgetCsvText({a, b});
  std::vector<std::string> lines = absl::StrSplit(csv, "\r\n", absl::SkipEmpty());
  ASSERT_GE(lines.size(), 3u) << csv;
  EXPECT_EQ(lines[0], "startup_id,startup,annee,nature,ae_eur,cp_eur,enveloppes_accordees_eur");
  EXPECT_TRUE(absl::StrContains(csv, "s-a,\"Équipe « voirie »\",2026,\"prestations\",0,15000,0")) << csv;
  EXPECT_TRUE(absl::StrContains(csv, "s-a,\"Équipe « voirie »\",2025,\"enveloppe accordée\",0,0,80000")) << csv;
  int64_t sums[3] = {0, 0, 0};
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(f.size(), 7u) << lines[i];
    for (int c = 0; c < 3; ++c) {
      int64_t v = 0;
      ASSERT_TRUE(absl::SimpleAtoi(f[4 + c], &v)) << lines[i];
      sums[c] += v;
    }
  }
  EXPECT_EQ(lines.back(), absl::StrCat("total,\"\",,\"\",", sums[0], ",", sums[1], ",", sums[2]));
  EXPECT_EQ(sums[0], 70000);
  EXPECT_EQ(sums[1], 12000 + 15000 + 2500 + 4000);
  EXPECT_EQ(sums[2], 80000);
}

// --- The team (issue 31): kinds of role, signals on both sides of each threshold, edits. -----

namespace team {

const absl::Time kNow = Day(2027, 3, 1);

v1::TeamMember Member(const std::string& id, v1::TeamRole kind, absl::Time start) {
  v1::TeamMember m;
  m.set_id(id);
  m.set_name(absl::StrCat("Membre ", id));
  m.set_kind(kind);
  *m.mutable_start() = ToTimestamp(start);
  return m;
}

// In construction since 2026, an intrapreneur and a coach on the team: no signal.
v1::Startup Healthy() {
  v1::Startup s;
  s.set_id("0190a000-0000-7000-8000-000000000002");
  s.set_phase(v1::PHASE_CONSTRUCTION);
  auto* ph = s.add_phases();
  ph->set_phase(v1::PHASE_CONSTRUCTION);
  *ph->mutable_start() = ToTimestamp(Day(2026, 1, 5));
  *s.add_team() = Member("lea", v1::TEAM_ROLE_INTRAPRENEUR, Day(2026, 1, 5));
  *s.add_team() = Member("marc", v1::TEAM_ROLE_COACH, Day(2026, 1, 5));
  *s.add_team() = Member("sam", v1::TEAM_ROLE_DEVELOPPEMENT, Day(2026, 2, 1));
  *s.add_team() = Member("ines", v1::TEAM_ROLE_DESIGN, Day(2026, 2, 1));
  return s;
}

std::vector<std::string> Codes(const v1::Startup& s, absl::Time now = kNow) {
  std::vector<std::string> out;
  for (const auto& sig : TeamSignals(s, now)) out.push_back(sig.code());
  return out;
}

using CodeList = std::vector<std::string>;

}  // namespace team

TEST(TeamTest, KindsOfRoleFromTheListOrFromTheTitle) {
  EXPECT_EQ(RoleKindFromTitle("Intrapreneure"), v1::TEAM_ROLE_INTRAPRENEUR);
  EXPECT_EQ(RoleKindFromTitle("Coach agile"), v1::TEAM_ROLE_COACH);
  EXPECT_EQ(RoleKindFromTitle("Développeuse back-end"), v1::TEAM_ROLE_DEVELOPPEMENT);
  EXPECT_EQ(RoleKindFromTitle("Designer UX"), v1::TEAM_ROLE_DESIGN);
  EXPECT_EQ(RoleKindFromTitle("Chargée de DÉPLOIEMENT"), v1::TEAM_ROLE_DEPLOIEMENT);
  EXPECT_EQ(RoleKindFromTitle("Bizdev"), v1::TEAM_ROLE_DEPLOIEMENT);
  EXPECT_EQ(RoleKindFromTitle("Data scientist"), v1::TEAM_ROLE_DATA);
  EXPECT_EQ(RoleKindFromTitle("Sponsor (DGS)"), v1::TEAM_ROLE_SPONSOR);
  EXPECT_EQ(RoleKindFromTitle("Product owner"), v1::TEAM_ROLE_UNSPECIFIED);
  // The recorded kind wins over the title.
  v1::TeamMember m;
  m.set_role("Coach");
  EXPECT_EQ(RoleKindOf(m), v1::TEAM_ROLE_COACH);
  m.set_kind(v1::TEAM_ROLE_DATA);
  EXPECT_EQ(RoleKindOf(m), v1::TEAM_ROLE_DATA);
  EXPECT_EQ(RoleWord(v1::TEAM_ROLE_DEPLOIEMENT), "déploiement");
  EXPECT_EQ(StatusWord(v1::MEMBER_STATUS_CONTRACTOR), "prestataire");
}

TEST(TeamTest, NoIntrapreneurNoCoach) {
  using team::Codes;
  v1::Startup s = team::Healthy();
  EXPECT_EQ(Codes(s), team::CodeList{});
  // The intrapreneur left yesterday; the coach's arrival is tomorrow: neither is on the team.
  *s.mutable_team(0)->mutable_end() = ToTimestamp(team::kNow - absl::Hours(24));
  *s.mutable_team(1)->mutable_start() = ToTimestamp(team::kNow + absl::Hours(24));
  EXPECT_EQ(Codes(s), (team::CodeList{"no_intrapreneur", "no_coach"}));
  // An intrapreneur known only by a title written before the list: counted.
  v1::TeamMember old = team::Member("anne", v1::TEAM_ROLE_UNSPECIFIED, Day(2026, 1, 5));
  old.set_role("Intrapreneure");
  *s.add_team() = old;
  EXPECT_EQ(Codes(s), team::CodeList{"no_coach"});
  // A start-up that ended has no signal.
  s.set_phase(v1::PHASE_ABANDONED);
  EXPECT_EQ(Codes(s), team::CodeList{});
}

TEST(TeamTest, MissionEndingWithinFifteenDaysOrEndedWithTheMemberStillListed) {
  using team::Codes;
  v1::Startup s = team::Healthy();
  auto* sam = s.mutable_team(2);
  *sam->mutable_mission_end() = ToTimestamp(team::kNow + kMissionEndingNotice + absl::Seconds(1));
  EXPECT_EQ(Codes(s), team::CodeList{});
  *sam->mutable_mission_end() = ToTimestamp(team::kNow + kMissionEndingNotice);
  auto sigs = TeamSignals(s, team::kNow);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].code(), "mission_ending");
  EXPECT_EQ(sigs[0].member_id(), "sam");
  EXPECT_EQ(FromTimestamp(sigs[0].date()), team::kNow + absl::Hours(24 * 15));
  *sam->mutable_mission_end() = ToTimestamp(team::kNow);
  EXPECT_EQ(Codes(s), team::CodeList{"mission_ended"});
  // Once the member has left, the mission's end says nothing more.
  *sam->mutable_end() = ToTimestamp(team::kNow - absl::Hours(1));
  EXPECT_EQ(Codes(s), team::CodeList{});
}

TEST(TeamTest, TurnoverOverSixMonths) {
  using team::Codes;
  // The threshold: two departures at least, at least half as many as the members on the team.
  EXPECT_FALSE(HighTurnover(1, 0));
  EXPECT_TRUE(HighTurnover(2, 4));
  EXPECT_FALSE(HighTurnover(2, 5));
  EXPECT_TRUE(HighTurnover(3, 6));
  v1::Startup s = team::Healthy();  // four on the team
  auto leave = [&s](const std::string& id, absl::Time end) {
    v1::TeamMember m = team::Member(id, v1::TEAM_ROLE_DEVELOPPEMENT, Day(2025, 6, 1));
    *m.mutable_end() = ToTimestamp(end);
    *s.add_team() = m;
  };
  const absl::Time six_months_ago = portfolio::AddMonths(team::kNow, -kTurnoverMonths);
  leave("a", team::kNow - absl::Hours(24));
  leave("b", six_months_ago);  // exactly six months ago: outside the window
  EXPECT_EQ(Codes(s), team::CodeList{});
  leave("c", six_months_ago + absl::Seconds(1));
  auto sigs = TeamSignals(s, team::kNow);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].code(), "turnover");
  EXPECT_EQ(sigs[0].count(), 2);
  // A fifth member on the team: two departures are no longer half of it.
  *s.add_team() = team::Member("eve", v1::TEAM_ROLE_DATA, Day(2026, 6, 1));
  EXPECT_EQ(Codes(s), team::CodeList{});
}

TEST(TeamTest, EditsAndAdditionsNameTheirField) {
  v1::TeamMember m = team::Member("sam", v1::TEAM_ROLE_DEVELOPPEMENT, Day(2026, 2, 1));
  v1::UpdateTeamMemberRequest r;
  auto field = [&](const v1::UpdateTeamMemberRequest& req) {
    const absl::Status st = ValidateMemberUpdate(req, m);
    return st.ok() ? std::string("ok") : std::string(st.message().substr(0, st.message().find(':')));
  };
  EXPECT_EQ(field(r), "body");  // nothing to change
  r.set_status(v1::MEMBER_STATUS_CONTRACTOR);
  EXPECT_EQ(field(r), "ok");
  r.set_role(std::string(81, 'x'));
  EXPECT_EQ(field(r), "role");
  r.set_role("Développeur");
  r.set_kind(static_cast<v1::TeamRole>(42));
  EXPECT_EQ(field(r), "kind");
  r.set_kind(v1::TEAM_ROLE_DATA);
  *r.mutable_mission_end() = ToTimestamp(Day(2026, 2, 1));  // not after the start
  EXPECT_EQ(field(r), "mission_end");
  *r.mutable_mission_end() = ToTimestamp(Day(2026, 2, 2));
  EXPECT_EQ(field(r), "ok");
  r.set_clear_mission_end(true);
  EXPECT_EQ(field(r), "mission_end");
  // Adding: a title or a kind of the list.
  v1::AddTeamMemberRequest add;
  add.set_name("Inès");
  EXPECT_TRUE(absl::StrContains(ValidateTeamMember(add).message(), "role")) << ValidateTeamMember(add);
  add.set_kind(v1::TEAM_ROLE_DESIGN);
  EXPECT_TRUE(ValidateTeamMember(add).ok()) << ValidateTeamMember(add);
  add.set_status(static_cast<v1::MemberStatus>(9));
  EXPECT_TRUE(absl::StrContains(ValidateTeamMember(add).message(), "status")) << ValidateTeamMember(add);
}

TEST(TeamTest, ThePreReadSaysAStatusOnceRecorded) {
  auto events = Story();
  const std::string before = BuildPreRead(Fold(events).state(), kJanuary, Day(2027, 1, 5));
  EXPECT_TRUE(absl::StrContains(before, "- Samir Haddad — développement, depuis le 01/09/2026")) << before;
  v1::TeamMemberUpdated upd;
  upd.mutable_member()->set_id("m-sam");
  upd.mutable_member()->set_name("Samir Haddad");
  upd.mutable_member()->set_role("développement");
  upd.mutable_member()->set_status(v1::MEMBER_STATUS_INDEPENDENT);
  *upd.mutable_member()->mutable_start() = ToTimestamp(Day(2030, 1, 1));  // the arrival's date stays
  events.emplace_back(upd.GetDescriptor()->full_name(), upd.SerializeAsString());
  const std::string after = BuildPreRead(Fold(events).state(), kJanuary, Day(2027, 1, 5));
  EXPECT_TRUE(absl::StrContains(after, "- Samir Haddad — développement (indépendant), depuis le 01/09/2026")) << after;
}

}  // namespace
}  // namespace pep::incubation
