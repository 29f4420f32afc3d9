// Dead letters, read and sent back (pepctl dlt): the records a consumer copied to `<topic>.dlt`
// (consumer.cc, with the error and the original place in pep_dlt_* headers) listed from the
// beginning, and replayed to their original topic — key, value and event headers as they were,
// the pep_dlt_* ones dropped — after the cause is fixed. Consumers deduplicate a replayed event
// by its ce_id like any redelivery, so replaying twice changes nothing.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "events/consumer.h"

namespace pep::events {

struct DeadLetter {
  Record record;                 // as it sits in the dead-letter topic
  std::string original_topic;    // pep_dlt_original_topic, else the name without ".dlt"
  int original_partition = -1;
  int64_t original_offset = -1;
  std::string error;
  std::string error_code;
  int attempts = 0;
  std::string failed_at;
  std::string consumer_group;
};

// Every record of `dlt_topic` (all partitions, oldest first per partition), read up to the end
// seen when called. NOT_FOUND if the topic does not exist.
absl::StatusOr<std::vector<DeadLetter>> ReadDeadLetters(const std::string& brokers, const std::string& dlt_topic,
                                                        absl::Duration timeout = absl::Seconds(30));

// The record to send back: its key, value and headers without the pep_dlt_* ones.
Record ReplayRecord(const DeadLetter& d);

// Produces each ReplayRecord to its original topic (idempotent producer, waits for the broker's
// acknowledgement of every one). Returns how many were acknowledged.
absl::StatusOr<int> Replay(const std::string& brokers, const std::vector<DeadLetter>& letters,
                           absl::Duration timeout = absl::Seconds(30));

}  // namespace pep::events
