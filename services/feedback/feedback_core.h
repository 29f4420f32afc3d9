// The feedback domain: form validation, PII masking, per-client rate limiting, and the
// Observatoire scores and bands. Pure: no gRPC, no SQLite, no clock (time is passed in).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/rate_limit.h"
#include "pii/pii.h"
#include "pepiniere/feedback/v1/feedback.pb.h"

namespace pep::feedback {

namespace v1 = ::pepiniere::feedback::v1;

inline constexpr int kVerbatimMax = 2000;

absl::Status ValidateSubmit(const v1::SubmitFeedbackRequest& r);

// Feedback opens once a product is in users' hands: construction or later, not abandoned.
// `phase` is pepiniere.incubation.v1.Phase's number.
bool AcceptsFeedback(int phase);

// PII masking is libs/pii's (shared with pep-ideas' comments).
using pii::Masked;
using pii::MaskPii;

// Observatoire scores over answers, one answer at a time: a year of a busy product's answers is
// read row by row into a few counters, never held in memory.
class ScoreTally {
 public:
  void Add(const v1::Feedback& f);
  // Band from the satisfaction score, or INSUFFICIENT_DATA below `threshold` answers.
  v1::Scores Scores(int threshold) const;
  int64_t answers() const { return answers_; }

 private:
  int64_t answers_ = 0, clar_n_ = 0, tried_ = 0, reached_ = 0, help_answered_ = 0;
  int64_t autonomous_ = 0, nps_n_ = 0, promoters_ = 0, detractors_ = 0;
  double sat_ = 0, clar_ = 0;
};
// The same over answers in memory (tests, small sets).
v1::Scores ComputeScores(const std::vector<v1::Feedback>& answers, int threshold);
v1::Band BandFor(double satisfaction_score);

// Bucket boundaries: the start of the day / ISO week (Monday) / month containing `t`, UTC.
absl::Time BucketStart(absl::Time t, v1::Granularity g);
absl::Time NextBucket(absl::Time start, v1::Granularity g);

// One CSV line (RFC 4180 quoting) and one JSON line for an exported answer.
std::string CsvHeader();
std::string CsvLine(const v1::Feedback& f);
std::string JsonLine(const v1::Feedback& f);

}  // namespace pep::feedback
