// The feedback domain: form validation, PII masking, per-client rate limiting, and the
// Observatoire scores and bands. Pure: no gRPC, no SQLite, no clock (time is passed in).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pepiniere/feedback/v1/feedback.pb.h"

namespace pep::feedback {

namespace v1 = ::pepiniere::feedback::v1;

inline constexpr int kVerbatimMax = 2000;

absl::Status ValidateSubmit(const v1::SubmitFeedbackRequest& r);

// Feedback opens once a product is in users' hands: construction or later, not abandoned.
// `phase` is pepiniere.incubation.v1.Phase's number.
bool AcceptsFeedback(int phase);

// PII masking: e-mail addresses, French phone numbers, NIR (social-security numbers) and IBANs
// become [email], [téléphone], [NIR], [IBAN]. `kinds` receives each kind found (once).
struct Masked {
  std::string text;
  std::vector<std::string> kinds;  // "email", "phone", "nir", "iban"
};
Masked MaskPii(std::string_view text);

// Sliding-window limit per key (client key + start-up): at most `limit` hits per `window`.
class RateLimiter {
 public:
  RateLimiter(int limit, absl::Duration window) : limit_(limit), window_(window) {}
  // nullopt: allowed (and counted); otherwise how long until the next hit would be allowed.
  std::optional<absl::Duration> Allow(const std::string& key, absl::Time now);
  size_t tracked_keys() const { return hits_.size(); }

 private:
  int limit_;
  absl::Duration window_;
  absl::flat_hash_map<std::string, std::deque<absl::Time>> hits_;
  uint64_t calls_ = 0;
};

// Observatoire scores over answers; band from the satisfaction score, or INSUFFICIENT_DATA
// below `threshold` answers.
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
