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

// One client's sliding window: `hits` are its recent hits, oldest first. Drops those that left
// the window, then counts `now` (nullopt) if fewer than `limit` remain, or says how long until
// the next hit would be allowed.
template <typename Hits>
std::optional<absl::Duration> SlideWindow(Hits& hits, absl::Time now, int limit,
                                          absl::Duration window) {
  size_t expired = 0;
  while (expired < hits.size() && hits[expired] <= now - window) ++expired;
  hits.erase(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(expired));
  if (static_cast<int>(hits.size()) >= limit) return hits.front() + window - now;
  hits.push_back(now);
  return std::nullopt;
}

// Sliding-window limit per key (client key + start-up): at most `limit` hits per `window`, in
// this process (with replicas on PostgreSQL: FeedbackStore::AllowShared).
class RateLimiter {
 public:
  // `max_keys`: clients tracked at most. Past it (after forgetting the idle ones) a new client
  // is refused for a window rather than let the table — and the process — grow without end.
  RateLimiter(int limit, absl::Duration window, size_t max_keys = 200000)
      : limit_(limit), window_(window), max_keys_(max_keys) {}
  // nullopt: allowed (and counted); otherwise how long until the next hit would be allowed;
  // `*table_full` says the refusal came from the cap on clients, not the client's own rate.
  std::optional<absl::Duration> Allow(const std::string& key, absl::Time now,
                                      bool* table_full = nullptr);
  size_t tracked_keys() const { return hits_.size(); }

 private:
  void ForgetIdle(absl::Time now);
  int limit_;
  absl::Duration window_;
  size_t max_keys_;
  // A client's hits in the window, oldest first: at most `limit_`, inline for the usual limits.
  absl::flat_hash_map<std::string, absl::InlinedVector<absl::Time, 5>> hits_;
  uint64_t calls_ = 0;
  // When full, idle clients are looked for at most once a second: a flood of new clients must
  // not make every call a scan of the whole table.
  absl::Time last_full_sweep_ = absl::InfinitePast();
};

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
