#include "events/kafka.h"

#include <cstring>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "events/kafka_security.h"

namespace pep::events {

absl::StatusOr<KafkaConf> MakeConf(const KafkaProperties& props) {
  // Every client authenticates as this process was told to (explicit properties win).
  auto security = ClientSecurity();
  if (!security.ok()) return security.status();
  KafkaProperties all = *std::move(security);
  for (const auto& [k, v] : props) all[k] = v;
  KafkaConf conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [k, v] : all) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      return FieldError(k, err);
    }
  }
  return conf;
}

absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, KafkaProperties props, const KafkaProperties& extra,
                                      const std::function<void(rd_kafka_conf_t*)>& setup) {
  for (const auto& [k, v] : extra) props[k] = v;
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  if (setup) setup(conf->get());
  char err[512];
  KafkaHandle rk(rd_kafka_new(type, conf->get(), err, sizeof err));
  if (!rk) return absl::InvalidArgumentError(absl::StrCat("kafka client: ", err));
  (void)conf->release();  // rd_kafka_new owns it now
  return rk;
}

absl::Status KafkaError(rd_kafka_resp_err_t err, std::string_view context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(std::string(context), ": ", rd_kafka_err2str(err)));
}

absl::StatusOr<Envelope> EnvelopeOf(const rd_kafka_message_t* msg) {
  // One pass over the headers, keeping views of the first of each name (as FindHeader does):
  // envelopes carry a dozen headers, looked up one by one below.
  struct Seen {
    std::string_view name, value;
  };
  Seen seen[24];
  size_t count = 0;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      if (count == std::size(seen)) return FromHeaders(ReadHeaders(msg));  // unusually many
      seen[count++] = {name, value ? std::string_view(static_cast<const char*>(value), size)
                                   : std::string_view()};
    }
  }
  return FromHeaderLookup([&](std::string_view name) -> std::optional<std::string_view> {
    for (size_t i = 0; i < count; ++i) {
      if (seen[i].name == name) return seen[i].value;
    }
    return std::nullopt;
  });
}

Headers ReadHeaders(const rd_kafka_message_t* msg) {
  Headers out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    out.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : "");
  }
  return out;
}

KafkaHeaders MakeHeaders(const Headers& headers) {
  KafkaHeaders h(rd_kafka_headers_new(headers.size()));
  for (const auto& [k, v] : headers) {
    rd_kafka_header_add(h.get(), k.data(), static_cast<ssize_t>(k.size()), v.data(),
                        static_cast<ssize_t>(v.size()));
  }
  return h;
}

absl::Status EnsureTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                          absl::Duration timeout) {
  auto conf = MakeConf({{"bootstrap.servers", brokers}});
  if (!conf.ok()) return conf.status();
  char err[512];
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err));
  if (!rk) return absl::InternalError(absl::StrCat("rd_kafka_new: ", err));

  std::vector<rd_kafka_NewTopic_t*> newtopics;
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions,
                                                    t.replication_factor, err, sizeof err);
    if (nt == nullptr) return absl::InvalidArgumentError(absl::StrCat(t.name, ": ", err));
    for (const auto& [k, v] : t.config) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    newtopics.push_back(nt);
  }
  KafkaQueue queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_ANY);
  rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(
      absl::ToInt64Milliseconds(timeout)), err, sizeof err);
  rd_kafka_CreateTopics(rk.get(), newtopics.data(), newtopics.size(), options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy_array(newtopics.data(), newtopics.size());

  rd_kafka_event_t* ev =
      rd_kafka_queue_poll(queue.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)) + 5000);
  if (ev == nullptr) return absl::DeadlineExceededError("CreateTopics: no answer from the broker");
  absl::Status result = absl::OkStatus();
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = absl::UnavailableError(
        absl::StrCat("CreateTopics: ", rd_kafka_event_error_string(ev)));
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        result = absl::UnavailableError(absl::StrCat("CreateTopics ",
                                                     rd_kafka_topic_result_name(results[i]), ": ",
                                                     rd_kafka_topic_result_error_string(results[i])));
        break;
      }
    }
  }
  rd_kafka_event_destroy(ev);
  return result;
}

std::vector<TopicSpec> PepiniereTopics(int partitions, int replication_factor) {
  std::vector<TopicSpec> out;
  for (const char* base : kEventTopics) {
    for (const std::string& name : {std::string(base), std::string(base) + ".dlt"}) {
      out.push_back(TopicSpec{name, partitions, replication_factor, {{"retention.ms", "-1"}}});
    }
  }
  // pep-audit's ledger: one partition (one order), kept forever, written in transactions.
  // A bundle holds at least one event, and an event may be as large as a source topic allows
  // (the broker's 1 MiB): the log takes records up to 8 MiB.
  TopicSpec log{"pepiniere.audit.log", 1, replication_factor, {{"retention.ms", "-1"}, {"max.message.bytes", "8388608"}}};
  if (replication_factor > 1) log.config["min.insync.replicas"] = "2";
  out.push_back(std::move(log));
  return out;
}

}  // namespace pep::events
