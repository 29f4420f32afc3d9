// pep-incubation repository: start-ups, committee decisions, milestones and import snapshots as
// protobuf blobs beside indexed columns; outbox and inbox in the same transactions.
#pragma once

#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "google/protobuf/message.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "portfolio/preread.h"
#include "store/read_pool.h"
#include "store/sqlite.h"

namespace pep::incubation {

namespace v1 = ::pepiniere::incubation::v1;

inline constexpr char kTopic[] = "pepiniere.incubation.events";
inline constexpr char kSource[] = "/pepiniere/incubation";

// Migration 7: the steering tables and the journal (incubation_store_steering.cc).
const char* SteeringMigrationSql();

class IncubationTx {
 public:
  IncubationTx(store::Db& db, const Clock& clock) : db_(db), clock_(clock) {}

  // By id, or by slug when `key` is not an id.
  absl::StatusOr<v1::Startup> GetStartup(const std::string& key);
  absl::StatusOr<bool> SlugTaken(const std::string& slug);
  absl::Status PutStartup(const v1::Startup& s, bool imported = false);
  absl::StatusOr<v1::FicheEdit> GetFicheEdit(const std::string& id);
  absl::Status PutFicheEdit(const v1::FicheEdit& e);
  absl::StatusOr<std::vector<v1::FicheEdit>> FicheEdits(const std::string& startup_id, v1::FicheEditStatus status);
  absl::StatusOr<v1::CommitteeDecision> GetDecision(const std::string& id);
  absl::Status PutDecision(const v1::CommitteeDecision& d);
  absl::StatusOr<std::vector<v1::CommitteeDecision>> Decisions(const std::string& startup_id);
  // The milestone pushed under this key, with its payload fingerprint.
  absl::StatusOr<std::optional<std::pair<v1::Milestone, std::string>>> MilestoneByKey(
      const std::string& startup_id, const std::string& key);
  absl::Status PutMilestone(const v1::Milestone& m, const std::string& fingerprint);
  absl::StatusOr<std::vector<v1::Milestone>> Milestones(const std::string& startup_id);
  absl::StatusOr<std::optional<v1::StartupDetails>> ImportSnapshot(const std::string& slug);
  absl::Status PutImportSnapshot(const std::string& slug, const v1::StartupDetails& d);
  absl::StatusOr<bool> RecordInbox(const std::string& ce_id, const std::string& topic);
  // The public facts attested for a start-up: key (publication.h) -> fact id.
  absl::StatusOr<std::map<std::string, std::string>> FactIds(const std::string& startup_id);

  // Steering (incubation_store_steering.cc, issue 31).
  absl::StatusOr<std::vector<v1::KpiDefinition>> Kpis(const std::string& startup_id);
  absl::Status PutKpi(const v1::KpiDefinition& k);
  absl::StatusOr<std::optional<v1::KpiPoint>> KpiPointByKey(const std::string& startup_id, const std::string& kpi,
                                                            const std::string& key);
  absl::Status PutKpiPoint(const v1::KpiPoint& p);
  absl::StatusOr<std::vector<v1::KpiPoint>> KpiPoints(const std::string& startup_id);  // by indicator, date
  absl::StatusOr<v1::CommitteeMeeting> GetCommittee(const std::string& id);
  absl::Status PutCommittee(const v1::CommitteeMeeting& m);
  absl::StatusOr<std::vector<v1::CommitteeMeeting>> Committees();  // newest date first
  absl::Status PutAsk(const v1::CommitteeAsk& a);
  absl::StatusOr<std::vector<v1::CommitteeAsk>> Asks(const std::string& meeting_id);
  absl::StatusOr<v1::PreRead> GetPreRead(const std::string& id);
  absl::Status PutPreRead(const v1::PreRead& p);
  absl::StatusOr<std::vector<v1::PreRead>> PreReads(const std::string& meeting_id);
  absl::StatusOr<std::optional<v1::BudgetEntry>> BudgetEntryByKey(const std::string& startup_id,
                                                                 const std::string& key);
  absl::Status PutBudgetEntry(const v1::BudgetEntry& e);
  // A start-up's entries, newest date first; every start-up's (grouped by start-up) when empty.
  absl::StatusOr<std::vector<v1::BudgetEntry>> BudgetEntries(const std::string& startup_id);
  absl::StatusOr<std::vector<v1::CommitteeDecision>> AllDecisions();  // by start-up
  // The start-up's journal (every event Emit wrote about it, in order) through `fold`.
  absl::Status FoldJournal(const std::string& startup_id, portfolio::SteeringFold* fold);
  absl::StatusOr<std::vector<std::string>> StartupsWithoutJournal();

  // Emits an event about `s` (version is bumped on `s` by the caller), and journals it.
  absl::Status Emit(const v1::Startup& s, const google::protobuf::Message& payload,
                    const std::string& actor, absl::Time effective,
                    const std::string& causation_id = "");
  absl::Time Now() const { return clock_.Now(); }

  // Before commit (IncubationStore::Write): for each start-up an event was emitted about while
  // published (or whose publication changed), attests on the ledger each fact its public view
  // now shows and was not attested yet (PublicFactPublished), and withdraws each attested fact it
  // no longer shows (PublicFactWithdrawn) — in the same transaction as the change itself.
  absl::Status AttestPublicFacts();

  // An event of an aggregate of its own (a public fact, a committee meeting): its own lineage.
  absl::Status EmitOwn(const std::string& aggregate_id, int64_t version, const std::string& actor,
                       absl::Time effective, const google::protobuf::Message& payload);

 private:
  absl::Status Journal(const std::string& startup_id, const google::protobuf::Message& payload);

  store::Db& db_;
  const Clock& clock_;
  std::set<std::string> touched_;  // start-ups whose public facts may have changed
};

class IncubationStore {
 public:
  // `database_url`: see store::Db::Connect (a SQLite path, sqlite:///…, postgres://…).
  static absl::StatusOr<std::unique_ptr<IncubationStore>> Open(const std::string& database_url,
                                                               const Clock& clock);
  // One BEGIN IMMEDIATE transaction; committed durably only if `fn` returns OK.
  absl::Status Write(const std::function<absl::Status(IncubationTx&)>& fn);
  // Read-only access: on SQLite the store's connection (same lock); on PostgreSQL one of
  // kReadConnections connections of its own, so readers run at once.
  absl::Status Read(const std::function<absl::Status(IncubationTx&)>& fn);

  // Once, at the first start after migration 7: a SteeringBaseline for every start-up recorded
  // before the journal began (its state then), so that its pre-reads fold from there.
  absl::Status BaselineSteering();

  absl::StatusOr<std::vector<v1::Startup>> AllStartups();
  // Rows in id order after `after_id`, filtered in SQL by phase, incubator and sponsor.
  absl::StatusOr<std::vector<v1::Startup>> ScanStartups(v1::Phase phase,
                                                        const std::string& incubator,
                                                        const std::string& sponsor,
                                                        const std::string& after_id, int limit);

 private:
  IncubationStore(std::unique_ptr<store::Db> db, std::unique_ptr<store::ReadPool> reads,
                  const Clock& clock)
      : db_(std::move(db)), reads_(std::move(reads)), clock_(clock) {}
  absl::Mutex mu_;
  std::unique_ptr<store::Db> db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<store::ReadPool> reads_;
  const Clock& clock_;
};

}  // namespace pep::incubation
