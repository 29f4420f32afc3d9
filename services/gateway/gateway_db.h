// The gateway's one database (gateway.db, or --database_url on PostgreSQL, shared by every
// gateway replica): bearer tokens, sign-ins in progress, accounts, role grants, sessions, shared
// settings, and the outbox of pepiniere.access.events — a grant and its event commit in one
// transaction. TokenStore and SignInStore each open their own connection to it; both apply the
// same migration list, so whichever opens first brings the schema up to date.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "store/sqlite.h"

namespace pep::gateway {

inline constexpr char kAccessTopic[] = "pepiniere.access.events";

const std::vector<store::Migration>& GatewayMigrations();

// The setting `name` every replica shares: its stored value, or `first_value()` stored now
// (once, whichever replica comes first).
absl::StatusOr<std::string> SharedSetting(store::Db& db, const std::string& name,
                                          const std::function<std::string()>& first_value);

// Appends an access event to the outbox, inside the caller's transaction. `scope`
// ("startup:<id>", "challenge:<id>" or "") gives ce_correlationid, so pep-audit files a grant on
// a start-up or challenge in that lineage; an unscoped one is its own lineage (aggregate id).
absl::Status EmitAccess(store::Db& db, const std::string& aggregate_id, const std::string& scope,
                        int64_t aggregate_version, const google::protobuf::Message& payload,
                        const std::string& actor, absl::Time now);

}  // namespace pep::gateway
