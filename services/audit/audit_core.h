// pep-audit's domain: what a ledger record means to a person. One-line French summaries and
// changed fields for timelines, the bi-temporal fold behind GetStateAsOf (effective time D,
// optionally only what was recorded by K), and the lineage document. Pure: records in,
// messages out; no SQLite, no gRPC, no clock.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pepiniere/audit/v1/audit.pb.h"
#include "services/audit/ledger.h"

namespace pep::audit {

// "pepiniere.incubation.v1.PhaseChanged" -> "PhaseChanged".
std::string ShortType(const std::string& ce_type);
// French label of a phase, e.g. "construction", "abandonnée en investigation".
std::string PhaseLabel(int phase);

// The timeline of a lineage: records ordered by effective time, then recorded time; feedback
// answers folded into one entry per (UTC) day unless `individual_feedback`.
pepiniere::audit::v1::Timeline BuildTimeline(const std::string& subject,
                                             const std::vector<LedgerRecord>& records,
                                             bool individual_feedback);

// The same, fed one record at a time (in any order), so that a lineage's users' answers — a
// popular product has hundreds of thousands — are never all in memory: it keeps the lifecycle
// records and one tally per day of answers. With `individual_feedback` it keeps the answers
// too, at most `max_individual`; Add refuses the next with RESOURCE_EXHAUSTED on that field.
class TimelineBuilder {
 public:
  TimelineBuilder(std::string subject, bool individual_feedback, size_t max_individual = 10000);
  ~TimelineBuilder();
  absl::Status Add(LedgerRecord record);
  pepiniere::audit::v1::Timeline Build();

 private:
  struct Days;  // the daily tallies (audit_core.cc)
  std::string subject_;
  bool individual_;
  size_t max_individual_, individual_count_ = 0;
  std::vector<LedgerRecord> kept_;
  std::unique_ptr<Days> days_;
};

// The lineage's state at effective time `as_of`, folding only records recorded by `known_at`
// when given. Phases come from the phase history as known at K (corrections included), so a
// back-dated phase shows at the dates it covers.
pepiniere::audit::v1::StateAsOf FoldStateAsOf(const std::string& subject,
                                              const std::vector<LedgerRecord>& records,
                                              absl::Time as_of,
                                              std::optional<absl::Time> known_at);

// The same fed one record at a time in chain order, users' answers tallied as they come.
class StateAsOfBuilder {
 public:
  StateAsOfBuilder(std::string subject, absl::Time as_of, std::optional<absl::Time> known_at);
  ~StateAsOfBuilder();
  void Add(LedgerRecord record);
  pepiniere::audit::v1::StateAsOf Build();

 private:
  struct Answers;  // audit_core.cc
  std::string subject_;
  absl::Time as_of_;
  std::optional<absl::Time> known_at_;
  std::vector<LedgerRecord> kept_;
  std::unique_ptr<Answers> answers_;
};

// Idea (with its challenge's title from `challenge_records`, when found) -> start-up -> phases
// -> decisions -> milestones -> feedback scores.
pepiniere::audit::v1::Lineage BuildLineage(const std::string& subject,
                                           const std::vector<LedgerRecord>& records,
                                           const std::vector<LedgerRecord>& challenge_records);

// The same fed one record at a time in chain order, users' answers tallied as they come;
// kept() is the rest, for finding the challenge.
class LineageBuilder {
 public:
  explicit LineageBuilder(std::string subject);
  ~LineageBuilder();
  void Add(LedgerRecord record);
  const std::vector<LedgerRecord>& kept() const { return kept_; }
  pepiniere::audit::v1::Lineage Build(const std::vector<LedgerRecord>& challenge_records);

 private:
  struct Answers;  // audit_core.cc
  std::string subject_;
  int64_t count_ = 0;
  std::string head_leaf_;
  std::vector<LedgerRecord> kept_;
  std::unique_ptr<Answers> answers_;
};

// The challenge id an idea lineage refers to ("" when none).
std::string ChallengeOf(const std::vector<LedgerRecord>& records);

// What a product team reads of its lineage (issue 26): each juror's scorecard (who, what score,
// which comment) stays with the jury and the coordinators, as pep-ideas keeps it. The timeline
// entry stays (its hash still verifies) with a neutral summary; the lineage keeps the mean.
bool JuryOnly(const LedgerRecord& r);
void WithholdJuryDetail(pepiniere::audit::v1::Timeline& timeline);
void WithholdJuryDetail(pepiniere::audit::v1::Lineage& lineage);

}  // namespace pep::audit
