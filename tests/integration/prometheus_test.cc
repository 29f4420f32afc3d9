// Debian's Prometheus scraping the whole platform (deploy/prometheus/prometheus.yml's jobs, with
// this test's ports, and deploy/prometheus/rules.yml loaded): a scenario through the gateway,
// then Prometheus' HTTP API must report what happened. Also: `promtool check metrics` is clean
// for every service, and the Grafana dashboard's queries are valid PromQL over metric names the
// services actually expose.
#include <fstream>
#include <regex>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "google/protobuf/struct.pb.h"
#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

std::string SourceDir() { return std::getenv("PEP_SOURCE_DIR"); }

class Prometheus {
 public:
  Prometheus(const std::map<std::string, int>& jobs, const std::string& dir) : port_(FreePort()) {
    std::ofstream f(dir + "/prometheus.yml");
    f << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
      << "rule_files: ['" << SourceDir() << "/deploy/prometheus/rules.yml']\n"
      << "scrape_configs:\n";
    for (const auto& [job, port] : jobs) {
      f << "  - job_name: " << job << "\n    static_configs: [{targets: ['127.0.0.1:" << port
        << "']}]\n";
    }
    f.close();
    proc_.Start({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                 "--storage.tsdb.path=" + dir + "/tsdb",
                 absl::StrCat("--web.listen-address=127.0.0.1:", port_)},
                {}, dir + "/prometheus.log");
    EXPECT_TRUE(WaitFor([&] { return HttpGet(port_, "/-/ready").find("Ready") != std::string::npos; },
                        absl::Seconds(60)))
        << "prometheus not ready; see " << dir << "/prometheus.log";
  }
  // The API's answer to an instant query, parsed.
  google::protobuf::Struct Query(const std::string& promql) {
    google::protobuf::Struct s;
    const std::string body = HttpGet(port_, "/api/v1/query?query=" + gateway::UrlEncode(promql));
    (void)google::protobuf::util::JsonStringToMessage(body, &s);
    return s;
  }
  // The single value of `promql` (NaN when there is none).
  double Value(const std::string& promql) {
    auto s = Query(promql);
    const auto& result = s.fields().at("data").struct_value().fields().at("result").list_value();
    if (result.values_size() != 1) return std::nan("");
    return std::stod(result.values(0).struct_value().fields().at("value").list_value().values(1).string_value());
  }
  bool Valid(const std::string& promql, std::string* error) {
    auto s = Query(promql);
    if (s.fields().count("status") && s.fields().at("status").string_value() == "success") return true;
    *error = s.fields().count("error") ? s.fields().at("error").string_value() : "no answer";
    return false;
  }
  std::string Get(const std::string& path) { return HttpGet(port_, path); }

 private:
  int port_;
  ChildProcess proc_;
};

// Metric names with samples in a /metrics body.
std::set<std::string> SampleNames(const std::string& body) {
  std::set<std::string> names;
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(std::string(line.substr(0, line.find_first_of("{ "))));
  }
  return names;
}

TEST(Prometheus, ScrapesTheScenarioRulesLoadMetricsLintCleanDashboardResolves) {
  Platform p({"--band_refresh_seconds", "1"});
  TempDir dir;
  const std::string& coord = p.coordinator();
  namespace iv1 = ::pepiniere::ideas::v1;
  namespace nv1 = ::pepiniere::incubation::v1;

  // --- every service's /metrics is lint-clean for promtool ---
  std::set<std::string> exposed = {"up"};  // made by Prometheus itself
  for (const auto& [job, port] : p.MetricsPorts()) {
    const std::string file = dir.path() + "/" + job + ".metrics";
    const std::string body = HttpGet(port, "/metrics");
    std::ofstream(file) << body;
    const int rc = RunCommand(absl::StrCat("promtool check metrics < ", file, " > ", file,
                                           ".lint 2>&1"));
    std::ifstream lint(file + ".lint");
    const std::string problems((std::istreambuf_iterator<char>(lint)), std::istreambuf_iterator<char>());
    EXPECT_EQ(rc, 0) << job << ": " << problems;
    EXPECT_TRUE(problems.empty()) << job << ": " << problems;
  }

  Prometheus prom(p.MetricsPorts(), dir.path());

  // --- a scenario through the gateway ---
  auto ch = p.Post<iv1::Challenge>("/v1/challenges", coord,
                                   R"({"title":"Défi métriques","theme":"mesure","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})");
  p.Post<iv1::Challenge>(absl::StrCat("/v1/challenges/", ch.id(), ":open"), coord, "");
  const std::string agent = p.Token("agent", "agent-1");
  constexpr int kIdeas = 3;
  for (int i = 0; i < kIdeas; ++i) {
    p.Post<iv1::SubmitIdeaResponse>(
        absl::StrCat("/v1/challenges/", ch.id(), "/ideas"), agent,
        absl::StrCat(R"({"title":"Idée numéro )", i, R"(","problem":"Un problème réel )", i,
                     R"(.","proposal":"Une solution )", i, R"(.","author_name":"A","department":"D",)"
                     R"("contact_email":"a@exemple.fr"})"));
  }
  auto built = p.Post<nv1::Startup>("/v1/startups", coord, R"({"name":"Produit A","mission":"M","incubator":"lab06"})");
  p.Post<nv1::Startup>("/v1/startups", coord, R"({"name":"Produit B","mission":"M","incubator":"lab06"})");
  auto dec = p.Post<nv1::CommitteeDecision>(
      absl::StrCat("/v1/startups/", built.id(), "/committee-decisions"), coord,
      absl::StrCat(R"({"date":")", FormatRfc3339(absl::Now()),
                   R"(","outcome":"COMMITTEE_OUTCOME_GO","rationale":"ok","participants":["DGS"]})"));
  p.Post<nv1::Startup>(absl::StrCat("/v1/startups/", built.id(), ":change-phase"), coord,
                       absl::StrCat(R"({"to":"PHASE_CONSTRUCTION","decision_id":")", dec.id(), "\"}"));
  int answers = 0;
  ASSERT_TRUE(WaitFor([&] {
    if (p.Call("POST", absl::StrCat("/v1/startups/", built.id(), "/feedback"), "",
               R"({"satisfaction":"SATISFACTION_GOOD"})").status == 201) {
      ++answers;
    }
    return answers == 2;
  }, absl::Seconds(60)));
  constexpr int kNotFound = 4;  // errors, for the error-rate query
  for (int i = 0; i < kNotFound; ++i) EXPECT_EQ(p.Get("/v1/ideas/01a22222-0000-7000-8000-000000000000", coord).status, 404);

  // --- what Prometheus saw ---
  auto eventually = [&](const std::string& promql, double want) {
    double got = std::nan("");
    const bool ok = WaitFor([&] { got = prom.Value(promql); return got == want; }, absl::Seconds(60));
    EXPECT_TRUE(ok) << promql << " = " << got << ", want " << want;
  };
  // Every job up, pep-notify's included (each by name when one is not).
  eventually(R"(count(up{job=~"pep-.*"} == 1))", static_cast<double>(p.MetricsPorts().size()));
  for (const auto& [job, port] : p.MetricsPorts()) {
    EXPECT_EQ(prom.Value(absl::StrCat(R"(up{job=")", job, R"("})")), 1) << job << " is not scraped";
  }
  eventually("sum(pep_ideas_submitted_total)", kIdeas);
  eventually(R"(sum(pep_ideas{status="submitted"}))", kIdeas);
  eventually(R"(sum(pep_startups{phase="construction"}))", 1);
  eventually(R"(sum(pep_startups{phase="investigation"}))", 1);
  eventually(R"(sum(pep_feedback_received_total{satisfaction="good"}))", answers);
  eventually(R"(sum(pep_feedback_startups_by_band{band="insufficient_data"}))", 1);
  eventually(R"(sum(grpc_server_handled_total{job="pep-ideas",grpc_method="GetIdea",grpc_code="NotFound"}))",
             kNotFound);
  eventually(R"(sum(pep_http_requests_total{route="/v1/ideas/{idea_id}",code="404"}))", kNotFound);
  eventually(R"(sum(pep_audit_events_total{type="IdeaSubmitted"}))", kIdeas);
  eventually(R"(count(pep_consumer_lag_messages{job="pep-feedback",topic="pepiniere.incubation.events"}) > bool 0)", 1);
  eventually(R"(sum(pep_outbox_backlog_events))", 0);
  // A gRPC error rate over the scenario: the share of pep-ideas' calls that did not succeed.
  const double rate = prom.Value(
      R"(sum(grpc_server_handled_total{job="pep-ideas",grpc_code!="OK"}) / sum(grpc_server_handled_total{job="pep-ideas"}))");
  EXPECT_GT(rate, 0) << "error ratio";
  EXPECT_LT(rate, 1) << "error ratio";

  // --- the alert rules are loaded and evaluated ---
  const std::string rules = prom.Get("/api/v1/rules");
  for (const char* alert : {"PepServiceDown", "PepOutboxBacklogGrowing", "PepConsumerLagHigh",
                            "PepDeadLetters", "PepStartupOverdue", "PepFeedbackBandRed",
                            "PepAuditLedgerBroken", "PepGrpcErrorRate", "PepOutboxStale",
                            "PepGatewayBackendDown", "PepAuditLogRefused", "PepAuditNoSequencer", "PepConsumerBlocked"}) {
    EXPECT_NE(rules.find(absl::StrCat("\"name\":\"", alert, "\"")), std::string::npos) << alert;
  }
  EXPECT_EQ(rules.find("\"health\":\"err\""), std::string::npos) << rules.substr(0, 500);

  // --- the Grafana dashboard: valid JSON, valid PromQL, only metrics that exist ---
  for (const auto& [job, port] : p.MetricsPorts()) {
    for (const std::string& n : SampleNames(HttpGet(port, "/metrics"))) exposed.insert(n);
  }
  std::ifstream df(SourceDir() + "/deploy/grafana/pepiniere.json");
  const std::string dashboard((std::istreambuf_iterator<char>(df)), std::istreambuf_iterator<char>());
  google::protobuf::Struct dash;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(dashboard, &dash).ok()) << "not JSON";
  int queries = 0;
  const std::regex metric(R"(\b((?:pep|grpc)_[a-z_]+|up)\b)");
  for (const auto& panel : dash.fields().at("panels").list_value().values()) {
    const auto& pf = panel.struct_value().fields();
    if (pf.count("targets") == 0) continue;
    for (const auto& t : pf.at("targets").list_value().values()) {
      const std::string expr = t.struct_value().fields().at("expr").string_value();
      ++queries;
      std::string error;
      EXPECT_TRUE(prom.Valid(expr, &error)) << pf.at("title").string_value() << ": " << expr << ": " << error;
      for (std::sregex_iterator m(expr.begin(), expr.end(), metric), end; m != end; ++m) {
        static const std::set<std::string> kLabels = {"grpc_code", "grpc_method", "grpc_service",
                                                      "grpc_type"};
        if (kLabels.count((*m)[1].str())) continue;
        EXPECT_TRUE(exposed.count((*m)[1].str())) << pf.at("title").string_value() << " queries "
                                                  << (*m)[1].str() << ", which no service exposes";
      }
    }
  }
  EXPECT_GE(queries, 20);
}

}  // namespace
}  // namespace pep::testing
