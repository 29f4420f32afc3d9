// Who may do what on Pépinière's Kafka (issue 26): each service writes its own topic only (and
// the dead letters of what it reads), reads what it consumes, and only pep-audit writes the log.
// The same table as the chart's Strimzi KafkaUser resources (charts/pepiniere, kafkaUsers);
// pep-kafka-topics --acls creates it through the admin API (tests, a cluster without Strimzi).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pep::events {

struct AclRule {
  std::string principal;        // "User:pep-ideas"
  std::string resource_type;    // "topic", "group", "transactional_id" or "cluster"
  std::string name;             // the resource's name, or its prefix when `prefixed`
  bool prefixed = false;
  std::string operation;        // "read", "write", "describe", "idempotent_write"
};

// The rules for each service user, named `<prefix><service>` ("pep-ideas", …).
std::vector<AclRule> PepiniereAcls(const std::string& user_prefix = "pep-");

// Creates the rules (ALLOW, any host); rules that exist already are kept.
absl::Status EnsureAcls(const std::string& brokers, const std::vector<AclRule>& rules,
                        absl::Duration timeout = absl::Seconds(30));

}  // namespace pep::events
