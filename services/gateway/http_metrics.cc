#include "services/gateway/http_metrics.h"

#include "absl/strings/str_cat.h"

namespace pep::gateway {

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("pep_http_requests_total")
                    .Help("HTTP requests by route pattern, method and status code")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("pep_http_request_duration_seconds")
                    .Help("HTTP request latency by route pattern and method")
                    .Register(registry)) {}

void HttpMetrics::Observe(const std::string& route, const std::string& method, int code,
                          double seconds) {
  const std::string key = absl::StrCat(route, " ", method);
  const std::string ckey = absl::StrCat(key, " ", code);
  prometheus::Counter* c;
  prometheus::Histogram* h;
  {
    absl::MutexLock l(&mu_);
    auto& cc = counters_[ckey];
    if (cc == nullptr) {
      cc = &requests_.Add({{"route", route}, {"method", method}, {"code", absl::StrCat(code)}});
    }
    auto& hh = histograms_[key];
    if (hh == nullptr) {
      hh = &duration_.Add({{"route", route}, {"method", method}},
                          prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005,
                                                                  0.01, 0.025, 0.05, 0.1, 0.25,
                                                                  0.5, 1, 2.5, 5, 10});
    }
    c = cc;
    h = hh;
  }
  c->Increment();
  h->Observe(seconds);
}

}  // namespace pep::gateway
