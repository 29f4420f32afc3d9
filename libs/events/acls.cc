#include "events/acls.h"

#include "absl/strings/str_cat.h"
#include "events/kafka.h"

namespace pep::events {

namespace {

rd_kafka_ResourceType_t ResourceType(const std::string& t) {
  if (t == "topic") return RD_KAFKA_RESOURCE_TOPIC;
  if (t == "group") return RD_KAFKA_RESOURCE_GROUP;
  if (t == "cluster") return RD_KAFKA_RESOURCE_BROKER;  // the cluster resource ("kafka-cluster")
  return RD_KAFKA_RESOURCE_UNKNOWN;
}

rd_kafka_AclOperation_t Operation(const std::string& o) {
  if (o == "read") return RD_KAFKA_ACL_OPERATION_READ;
  if (o == "write") return RD_KAFKA_ACL_OPERATION_WRITE;
  if (o == "describe") return RD_KAFKA_ACL_OPERATION_DESCRIBE;
  if (o == "idempotent_write") return RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE;
  return RD_KAFKA_ACL_OPERATION_UNKNOWN;
}

}  // namespace

std::vector<AclRule> PepiniereAcls(const std::string& p) {
  std::vector<AclRule> out;
  auto user = [&](const char* service) { return absl::StrCat("User:", p, service); };
  auto writes = [&](const std::string& who, const std::string& topic) {
    out.push_back({who, "topic", topic, false, "write"});
    out.push_back({who, "topic", topic, false, "describe"});
  };
  auto consumes = [&](const std::string& who, const std::string& topic, const std::string& group) {
    out.push_back({who, "topic", topic, false, "read"});
    out.push_back({who, "group", group, false, "read"});
    writes(who, topic + ".dlt");  // what it cannot handle goes to the topic's dead letters
  };
  writes(user("ideas"), "pepiniere.ideas.events");
  writes(user("incubation"), "pepiniere.incubation.events");
  consumes(user("incubation"), "pepiniere.ideas.events", "pep-incubation");
  writes(user("feedback"), "pepiniere.feedback.events");
  consumes(user("feedback"), "pepiniere.incubation.events", "pep-feedback");
  writes(user("gateway"), "pepiniere.access.events");
  writes(user("notify"), "pepiniere.notify.events");
  for (const char* t : {"pepiniere.ideas.events", "pepiniere.incubation.events", "pepiniere.feedback.events"}) {
    consumes(user("notify"), t, "pep-notify");
  }
  // pep-audit: reads every source, and is the log's only writer (in transactions, fenced by
  // its transactional id); its groups and ids share the sequencer id as a prefix.
  const std::string audit = user("audit");
  for (const char* t : kEventTopics) out.push_back({audit, "topic", t, false, "read"});
  out.push_back({audit, "topic", "pepiniere.audit.log", true, "read"});
  out.push_back({audit, "topic", "pepiniere.audit.log", true, "write"});
  out.push_back({audit, "topic", "pepiniere.audit.log", true, "describe"});
  out.push_back({audit, "group", "pep-audit", true, "read"});
  out.push_back({audit, "transactional_id", "pep-audit-sequencer", true, "write"});
  out.push_back({audit, "transactional_id", "pep-audit-sequencer", true, "describe"});
  return out;
}

absl::Status EnsureAcls(const std::string& brokers, const std::vector<AclRule>& rules,
                        absl::Duration timeout) {
  auto rk = NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", brokers}});
  if (!rk.ok()) return rk.status();
  char err[512];
  std::vector<rd_kafka_AclBinding_t*> bindings;
  auto destroy = [&] { rd_kafka_AclBinding_destroy_array(bindings.data(), bindings.size()); };
  for (const AclRule& r : rules) {
    // librdkafka 2.0 has no transactional-id resource type: those rules are the chart's (Strimzi)
    // and the operator's; the sequencer's id is authorised by its prefix there.
    rd_kafka_ResourceType_t type = ResourceType(r.resource_type);
    if (r.resource_type == "transactional_id") continue;
    if (type == RD_KAFKA_RESOURCE_UNKNOWN || Operation(r.operation) == RD_KAFKA_ACL_OPERATION_UNKNOWN) {
      destroy();
      return absl::InvalidArgumentError(absl::StrCat("acl: unknown ", r.resource_type, "/", r.operation));
    }
    rd_kafka_AclBinding_t* b = rd_kafka_AclBinding_new(
        type, type == RD_KAFKA_RESOURCE_BROKER ? "kafka-cluster" : r.name.c_str(),
        r.prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED : RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        r.principal.c_str(), "*", Operation(r.operation), RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, err,
        sizeof err);
    if (b == nullptr) {
      destroy();
      return absl::InvalidArgumentError(absl::StrCat("acl ", r.principal, " ", r.name, ": ", err));
    }
    bindings.push_back(b);
  }
  KafkaQueue queue(rd_kafka_queue_new(rk->get()));
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk->get(), RD_KAFKA_ADMIN_OP_CREATEACLS);
  rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(absl::ToInt64Milliseconds(timeout)),
                                            err, sizeof err);
  rd_kafka_CreateAcls(rk->get(), bindings.data(), bindings.size(), options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  destroy();
  rd_kafka_event_t* ev =
      rd_kafka_queue_poll(queue.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)) + 5000);
  if (ev == nullptr) return absl::DeadlineExceededError("CreateAcls: no answer from the broker");
  absl::Status result = absl::OkStatus();
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = absl::UnavailableError(absl::StrCat("CreateAcls: ", rd_kafka_event_error_string(ev)));
  } else {
    size_t n = 0;
    const rd_kafka_acl_result_t** results =
        rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
    for (size_t i = 0; i < n && result.ok(); ++i) {
      if (const rd_kafka_error_t* e = rd_kafka_acl_result_error(results[i])) {
        result = absl::PermissionDeniedError(absl::StrCat("CreateAcls: ", rd_kafka_error_string(e)));
      }
    }
  }
  rd_kafka_event_destroy(ev);
  return result;
}

}  // namespace pep::events
