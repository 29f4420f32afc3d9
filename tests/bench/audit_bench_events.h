// The event stream both audit benchmarks generate: 2,000 lineages; one event in 50 is a
// start-up's own (milestone, phase…), the rest are users' answers, each its own aggregate with
// a fresh UUIDv7 id, as pep-feedback emits them. Times advance 1 ms per event from 2025-01-01.
#pragma once

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/uuid.h"
#include "events/envelope.h"

namespace pep::bench {

class AuditEventStream {
 public:
  static constexpr int kLineages = 2000;

  events::Envelope Next() {
    const int lineage = static_cast<int>(i_ % kLineages);
    const bool startup_event = (i_ / kLineages) % 50 == 0;
    events::Envelope e;
    e.time = e.effective_time = absl::FromUnixSeconds(1735689600) + absl::Milliseconds(i_);
    e.id = NewUuidV7(e.time);
    e.source = "/pepiniere/feedback";
    e.type = startup_event ? "pepiniere.incubation.v1.MilestonePushed"
                           : "pepiniere.feedback.v1.FeedbackReceived";
    e.subject = startup_event ? absl::StrCat("startup-", lineage) : e.id;
    e.actor = "public";
    e.correlation_id = absl::StrCat("lineage-", lineage);
    e.aggregate_version = startup_event ? ++versions_[lineage] : 1;
    ++i_;
    return e;
  }

 private:
  int64_t i_ = 0;
  std::vector<int64_t> versions_ = std::vector<int64_t>(kLineages, 0);
};

}  // namespace pep::bench
