// Inbox: the ce_ids of events a consumer has applied, written in the same transaction as the
// effect, so a redelivered event (at-least-once Kafka) is applied exactly once.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/db.h"

namespace pep::store {

std::string InboxSchemaSql();
std::string PostgresInboxSql();  // the same table for PostgreSQL

// Records that event `ce_id` was handled; false if it already was (skip the effect). Call inside
// the transaction that applies the effect.
absl::StatusOr<bool> RecordInInbox(Db& db, const std::string& ce_id, const std::string& topic,
                                   absl::Time now);

}  // namespace pep::store
