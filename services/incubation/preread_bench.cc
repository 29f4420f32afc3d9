// pep-incubation-preread-bench: the pre-reads of a whole portfolio in one run (issue 31).
// Imports N generated start-ups (default 660, beta.gouv.fr's size) into a fresh durable SQLite
// store, gives each an indicator with M measures (default 24), a committee decision with an
// envelope and objectives, and puts them on committee meetings (40 a meeting); then, side by side
// in the same process: one GetStartup per start-up (the baseline: a read of one start-up with its
// decisions and milestones), the pre-read made without writing (fold the journal, build the
// document) and IssuePreRead (the same, plus its row and PreReadIssued in one durable
// transaction). Prints medians per start-up, the ratios to GetStartup, and peak memory.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "grpcpp/server_context.h"
#include "portfolio/preread.h"
#include "prometheus/registry.h"
#include "services/incubation/incubation_service.h"

namespace {

namespace v1 = ::pepiniere::incubation::v1;

std::string Generate(int n) {
  std::string jsonl;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&jsonl, R"({"slug":"preread-)", i, R"(","title":"Start-up n° )", i,
                    R"(","mission":"Simplifier une démarche","incubator":"inc-)", i % 9,
                    R"(","sponsors":["cd06"],"phases":[{"name":"investigation","start":"2021-02-01"},)",
                    R"({"name":"construction","start":"2021-06-01"}],)",
                    R"("events":[{"name":"committee","date":"2021-05-20"},)",
                    R"({"name":"product_launch","date":"2022-01-10"}]})", "\n");
  }
  return jsonl;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

long PeakKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

bool Ok(const grpc::Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.error_message().c_str());
  return s.ok();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 660;
  const int measures = argc > 2 ? std::atoi(argv[2]) : 24;
  const std::string dir =
      (std::filesystem::temp_directory_path() / absl::StrCat("pep-preread-bench-", getpid())).string();
  std::filesystem::create_directories(dir);
  auto store = pep::incubation::IncubationStore::Open(dir + "/incubation.db", pep::SystemClock::Get());
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  prometheus::Registry registry;
  pep::incubation::IncubationMetrics metrics(registry);
  pep::incubation::IncubationService svc(**store, pep::SystemClock::Get(), metrics, nullptr,
                                         {.auth = {.insecure_dev = true}});
  grpc::ServerContext ctx;  // no metadata: the insecure-dev coordinator
  v1::ImportPortfolioRequest imp;
  imp.set_jsonl(Generate(n));
  v1::ImportReport rep;
  if (!Ok(svc.ImportPortfolio(&ctx, &imp, &rep), "import") || rep.created() != n) return 1;

  const absl::Time now = absl::Now();
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    v1::GetStartupRequest g;
    g.set_startup_id(absl::StrCat("preread-", i));
    v1::StartupDetails d;
    if (!Ok(svc.GetStartup(&ctx, &g, &d), "get")) return 1;
    const std::string id = d.startup().id();
    ids.push_back(id);
    v1::DefineKpiRequest k;
    k.set_startup_id(id);
    auto* def = k.mutable_kpi();
    def->set_id("demarches");
    def->set_name("Démarches complétées");
    def->set_unit("démarches");
    def->set_direction(v1::KPI_DIRECTION_UP);
    def->set_north_star(true);
    auto* t = def->add_targets();
    *t->mutable_date() = pep::ToTimestamp(now + absl::Hours(24 * 180));
    t->set_value(5000);
    v1::KpiDefinition kd;
    if (!Ok(svc.DefineKpi(&ctx, &k, &kd), "kpi")) return 1;
    for (int m = 0; m < measures; ++m) {
      v1::RecordKpiPointRequest p;
      p.set_startup_id(id);
      p.set_kpi("demarches");
      *p.mutable_date() = pep::ToTimestamp(now - absl::Hours(24 * 7 * (measures - m)));
      p.set_value(100 * (m + 1) + i % 50);
      p.set_idempotency_key(absl::StrCat("m", m));
      v1::KpiPoint out;
      if (!Ok(svc.RecordKpiPoint(&ctx, &p, &out), "point")) return 1;
    }
    v1::RecordCommitteeDecisionRequest dec;
    dec.set_startup_id(id);
    *dec.mutable_date() = pep::ToTimestamp(now - absl::Hours(24 * 120));
    dec.set_outcome(v1::COMMITTEE_OUTCOME_GO);
    dec.set_rationale("Poursuite");
    dec.add_participants("DGS");
    dec.set_envelope_eur(120000);
    auto* o = dec.add_objectives();
    o->set_kpi("demarches");
    o->set_target(1500);
    *o->mutable_by() = pep::ToTimestamp(now - absl::Hours(24 * 30));
    v1::CommitteeDecision cd;
    if (!Ok(svc.RecordCommitteeDecision(&ctx, &dec, &cd), "decision")) return 1;
  }
  std::vector<std::string> meeting_of(n);
  for (int first = 0; first < n; first += 40) {
    v1::ScheduleCommitteeRequest m;
    m.set_title(absl::StrCat("Comité ", first / 40 + 1));
    *m.mutable_date() = pep::ToTimestamp(now + absl::Hours(24 * 30));
    for (int i = first; i < std::min(n, first + 40); ++i) m.add_startup_ids(ids[i]);
    v1::CommitteeMeeting out;
    if (!Ok(svc.ScheduleCommittee(&ctx, &m, &out), "schedule")) return 1;
    for (int i = first; i < std::min(n, first + 40); ++i) meeting_of[i] = out.id();
  }

  const long before = PeakKiB();
  std::vector<double> get, build, issue;
  size_t largest = 0;
  for (int i = 0; i < n; ++i) {
    v1::GetStartupRequest g;
    g.set_startup_id(ids[i]);
    v1::StartupDetails d;
    absl::Time t0 = absl::Now();
    if (!Ok(svc.GetStartup(&ctx, &g, &d), "get")) return 1;
    get.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));

    t0 = absl::Now();
    std::string doc;
    absl::Status s = (*store)->Read([&](pep::incubation::IncubationTx& tx) -> absl::Status {
      pep::portfolio::SteeringFold fold;
      if (absl::Status f = tx.FoldJournal(ids[i], &fold); !f.ok()) return f;
      doc = pep::portfolio::BuildPreRead(fold.state(), {.id = meeting_of[i], .title = "Comité", .date = now}, absl::Now());
      return absl::OkStatus();
    });
    build.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
    if (!s.ok()) return 1;

    v1::IssuePreReadRequest r;
    r.set_meeting_id(meeting_of[i]);
    r.set_startup_id(ids[i]);
    v1::PreRead out;
    t0 = absl::Now();
    if (!Ok(svc.IssuePreRead(&ctx, &r, &out), "issue")) return 1;
    issue.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
    largest = std::max(largest, out.document().size());
  }
  const long after = PeakKiB();
  const double g = Median(get), b = Median(build), w = Median(issue);
  std::printf("start-ups=%d measures each=%d (journal %d events each)\n", n, measures, measures + 6);
  std::printf("baseline GetStartup: median %.0f us\n", g);
  std::printf("pre-read made (fold journal + build document, read only): median %.0f us  (%.2fx GetStartup)\n", b, b / g);
  std::printf("IssuePreRead (the same + row + PreReadIssued, durable): median %.0f us  (%.2fx GetStartup)\n", w, w / g);
  std::printf("all %d pre-reads issued in %.2f s; largest document %zu bytes\n", n,
              [&] { double t = 0; for (double x : issue) t += x; return t / 1e6; }(), largest);
  std::printf("peak RSS: %ld KiB before the pre-reads, %ld KiB after (+%ld KiB)\n", before, after, after - before);
  std::filesystem::remove_all(dir);
  return 0;
}
