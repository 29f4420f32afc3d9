// pep-kafka-topics: creates the Pépinière topics (and their dead-letter topics) if missing:
// 6 partitions, retention.ms=-1. Used by deploy/local/up and the test harness.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "events/kafka.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pep-kafka-topics BOOTSTRAP [PARTITIONS [REPLICATION]]\n");
    return 2;
  }
  const int partitions = argc > 2 ? std::atoi(argv[2]) : 6;
  const int replication = argc > 3 ? std::atoi(argv[3]) : 1;
  absl::Status s =
      pep::events::EnsureTopics(argv[1], pep::events::PepiniereTopics(partitions, replication));
  if (!s.ok()) {
    std::fprintf(stderr, "pep-kafka-topics: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  for (const auto& t : pep::events::PepiniereTopics(partitions, replication)) {
    std::printf("%s\n", t.name.c_str());
  }
  return 0;
}
