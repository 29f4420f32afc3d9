#include "events/producer.h"

#include "absl/strings/str_cat.h"

namespace pep::events {

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const KafkaProperties& props,
                                                           DeliveryCallback on_delivery) {
  KafkaProperties all = {{"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "2"}};
  for (const auto& [k, v] : props) all[k] = v;
  auto conf = MakeConf(all);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<Producer> p(new Producer());
  p->on_delivery_ = std::move(on_delivery);
  rd_kafka_conf_set_opaque(conf->get(), p.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Producer::OnDelivery);
  char err[512];
  p->rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err));
  if (!p->rk_) return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
  return p;
}

Producer::~Producer() {
  if (rk_) rd_kafka_flush(rk_.get(), 5000);
}

void Producer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  const uint64_t tag = reinterpret_cast<uintptr_t>(msg->_private);
  if (self->on_delivery_) {
    self->on_delivery_(tag, msg->err == RD_KAFKA_RESP_ERR_NO_ERROR
                                ? absl::OkStatus()
                                : KafkaError(msg->err, "delivery"));
  }
}

absl::Status Producer::Produce(const std::string& topic, std::string_view key,
                               std::string_view value, const Headers& headers, uint64_t tag) {
  KafkaHeaders hdrs = MakeHeaders(headers);
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs.get()),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(tag))), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    (void)hdrs.release();  // owned by librdkafka now
    return absl::OkStatus();
  }
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    return absl::ResourceExhaustedError("kafka producer queue full");
  }
  return KafkaError(err, absl::StrCat("produce to ", topic));
}

void Producer::Poll(int timeout_ms) { rd_kafka_poll(rk_.get(), timeout_ms); }

absl::Status Producer::Flush(absl::Duration timeout) {
  return KafkaError(rd_kafka_flush(rk_.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout))),
                    "flush");
}

int Producer::InFlight() const { return rd_kafka_outq_len(rk_.get()); }

absl::Status Producer::FatalError() const {
  char err[512];
  rd_kafka_resp_err_t e = rd_kafka_fatal_error(rk_.get(), err, sizeof err);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("kafka producer fatal error: ", err));
}

}  // namespace pep::events
