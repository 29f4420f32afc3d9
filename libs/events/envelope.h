// The event envelope and its CloudEvents 1.0 Kafka *binary* binding: attributes travel as
// `ce_*` headers, the protobuf payload is the record value, the aggregate id is the key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pep::events {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr char kContentTypeProtobuf[] = "application/protobuf";

struct Envelope {
  std::string id;              // ce_id, UUIDv7
  std::string source;          // ce_source, "/pepiniere/<service>"
  std::string type;            // ce_type, the payload's full proto name
  std::string subject;         // ce_subject, the aggregate id (also the Kafka key)
  absl::Time time;             // ce_time, when recorded
  std::string actor;           // ce_actor
  std::string correlation_id;  // ce_correlationid, lineage root
  std::string causation_id;    // ce_causationid, may be empty
  int64_t aggregate_version = 0;  // ce_aggregateversion, 1, 2, 3… per aggregate
  absl::Time effective_time;      // ce_effectivetime, when it happened in the world
  std::string content_type = kContentTypeProtobuf;

  bool operator==(const Envelope&) const = default;
};

// Calls `put` with each header of the envelope's binary binding, in their order (ce_causationid
// only when set): the one list ToHeaders and the outbox's encoder share.
void VisitHeaders(const Envelope& e, absl::FunctionRef<void(std::string_view, std::string_view)> put);
Headers ToHeaders(const Envelope& e);
// Fails with INVALID_ARGUMENT naming the missing or malformed header.
absl::StatusOr<Envelope> FromHeaders(const Headers& headers);
// The same decoding and checks over any header store: `find` returns a header's value, or
// nullopt when absent (the value must stay valid during the call).
using HeaderLookup = absl::FunctionRef<std::optional<std::string_view>(std::string_view)>;
absl::StatusOr<Envelope> FromHeaderLookup(const HeaderLookup& find);
// Value of the first header with this name, or nullptr.
const std::string* FindHeader(const Headers& headers, std::string_view name);

}  // namespace pep::events
