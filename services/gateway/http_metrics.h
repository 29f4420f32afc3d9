// pep_http_requests_total{route,method,code} and pep_http_request_duration_seconds{route,method}:
// route is the pattern, never the path (no ids in labels).
#pragma once

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace pep::gateway {

class HttpMetrics {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);
  void Observe(const std::string& route, const std::string& method, int code, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  absl::Mutex mu_;
  std::map<std::string, prometheus::Counter*> counters_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Histogram*> histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pep::gateway
