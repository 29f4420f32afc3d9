// pep-incubation-import-bench: imports N generated start-ups (default 2,000) into a fresh
// SQLite database (durable: WAL, synchronous=FULL, one transaction with every outbox row),
// side by side with a baseline in the same run: the same file imported as a dry run
// (parse, normalise, read what is stored, plan, report; nothing written). Prints medians of R
// rounds and their ratio.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/server_context.h"
#include "prometheus/registry.h"
#include "services/incubation/incubation_service.h"

namespace {

std::string Generate(int n) {
  std::string jsonl;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&jsonl, R"({"slug":"bench-)", i, R"(","title":"Start-up )", i,
                    R"(","mission":"Simplifier une démarche","incubator":"inc-)", i % 9,
                    R"(","sponsors":["cd06"],"phases":[{"name":"investigation","start":"2021-02-01"},)",
                    R"({"name":"construction","start":"2021-06-01"},{"name":"acceleration","start":"2022-09-01"}],)",
                    R"("events":[{"name":"committee","date":"2021-05-20"},)",
                    R"({"name":"product_launch","date":"2022-01-10"}]})", "\n");
  }
  return jsonl;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string jsonl = Generate(n);
  std::vector<double> dry, full;
  int events = 0;
  for (int r = 0; r < rounds; ++r) {
    const std::string dir =
        (std::filesystem::temp_directory_path() / absl::StrCat("pep-import-bench-", getpid(), "-", r)).string();
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
    for (bool dry_run : {true, false}) {
      grpc::ServerContext ctx;  // no metadata: the insecure-dev coordinator
      pepiniere::incubation::v1::ImportPortfolioRequest req;
      req.set_jsonl(jsonl);
      req.set_dry_run(dry_run);
      pepiniere::incubation::v1::ImportReport rep;
      const absl::Time t0 = absl::Now();
      grpc::Status s = svc.ImportPortfolio(&ctx, &req, &rep);
      const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
      if (!s.ok() || rep.created() != n) {  // a rehearsal counts what it would create
        std::fprintf(stderr, "import failed: %s\n", s.error_message().c_str());
        return 1;
      }
      (dry_run ? dry : full).push_back(secs);
      if (!dry_run) events = rep.events_emitted();
    }
    std::filesystem::remove_all(dir);
  }
  const double d = Median(dry), f = Median(full);
  std::printf("start-ups=%d rounds=%d\n", n, rounds);
  std::printf("baseline dry run (parse+normalise+read+plan+report): median %.3f s\n", d);
  std::printf("durable import (%d events via outbox, 1 txn): median %.3f s  (%.0f start-ups/s)\n",
              events, f, n / f);
  std::printf("ratio durable/dry-run: %.2fx\n", f / d);
  return 0;
}
