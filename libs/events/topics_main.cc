// pep-kafka-topics: creates the Pépinière topics (and their dead-letter topics) if missing:
// 6 partitions, retention.ms=-1; with --acls, the services' ACLs too (events/acls.h). Used by
// deploy/local/up and the test harness. Connects as the --kafka_* flags (PEP_KAFKA_*) say.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "common/config.h"
#include "events/acls.h"
#include "events/kafka.h"

ABSL_FLAG(bool, acls, false, "Also create each service user's ACLs (the chart's KafkaUser table)");
ABSL_FLAG(std::string, acl_user_prefix, "pep-", "Service users are <prefix><service>");

int main(int argc, char** argv) {
  const std::vector<char*> args = pep::ParseFlagsWithEnv(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: pep-kafka-topics [--acls] BOOTSTRAP [PARTITIONS [REPLICATION]]\n");
    return 2;
  }
  const int partitions = args.size() > 2 ? std::atoi(args[2]) : 6;
  const int replication = args.size() > 3 ? std::atoi(args[3]) : 1;
  absl::Status s =
      pep::events::EnsureTopics(args[1], pep::events::PepiniereTopics(partitions, replication));
  if (s.ok() && absl::GetFlag(FLAGS_acls)) {
    s = pep::events::EnsureAcls(args[1], pep::events::PepiniereAcls(absl::GetFlag(FLAGS_acl_user_prefix)));
  }
  if (!s.ok()) {
    std::fprintf(stderr, "pep-kafka-topics: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  for (const auto& t : pep::events::PepiniereTopics(partitions, replication)) {
    std::printf("%s\n", t.name.c_str());
  }
  return 0;
}
