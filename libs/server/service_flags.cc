#include "server/service_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"

ABSL_FLAG(std::string, bind_address, "127.0.0.1", "Address the gRPC and metrics servers bind to");
ABSL_FLAG(int, grpc_port, 0, "gRPC port (0 = pick a free one; the service sets its default)");
ABSL_FLAG(int, metrics_port, 0, "Prometheus /metrics port (0 = pick a free one)");
ABSL_FLAG(std::string, data_dir, "", "Directory of the service's SQLite database");
ABSL_FLAG(std::string, kafka_brokers, "127.0.0.1:9092", "Kafka bootstrap servers");
ABSL_FLAG(bool, insecure_dev, false, "Accept calls without x-pep-gateway-key (local dev, tests)");
ABSL_FLAG(std::string, gateway_key, "", "Shared secret expected in x-pep-gateway-key");
ABSL_FLAG(int, max_receive_bytes, 1 << 20, "Largest request message accepted");
ABSL_FLAG(int, shutdown_grace_seconds, 10, "Time given to in-flight calls and the relay on stop");
ABSL_FLAG(int, outbox_keep_sent_hours, 168,
          "Outbox rows confirmed published are deleted after this many hours (0 = never)");

ABSL_FLAG(std::string, database_url, "",
          "Where the service keeps its state: sqlite:///path/file.db, or "
          "postgres://user@host:5432/db (several replicas share one PostgreSQL database); "
          "empty: the SQLite file in --data_dir");
ABSL_FLAG(std::string, backup_to, "",
          "Write an online backup of the service's SQLite database to this file and exit "
          "(the running service goes on; restore: stop it and put the file in its place)");
ABSL_FLAG(std::string, kafka_producer_overrides, "",
          "Comma-separated librdkafka properties (k=v) over the outbox producer's defaults, for "
          "tuning (linger.ms, compression.type). enable.idempotence=false or acks other than all "
          "give up the delivery guarantee: the Kafka fault test uses them to show it");

ABSL_FLAG(std::string, clock_offset_file, "",
          "Tests and rehearsals only: a file holding how far ahead of the system's the service's clock "
          "runs (an absl duration, e.g. 4392h), re-read each second; empty: the system's clock");
ABSL_FLAG(int, max_connection_age_seconds, 300,
          "Close each client connection after about this long (gRPC GOAWAY, in-flight calls "
          "finish) so that clients such as the gateway resolve the service's name again and "
          "reach replicas added since; 0 = never");

namespace pep::server {

void SetServiceDefaults(const ServiceDefaults& d) {
  absl::SetFlag(&FLAGS_grpc_port, d.grpc_port);
  absl::SetFlag(&FLAGS_metrics_port, d.metrics_port);
  absl::SetFlag(&FLAGS_data_dir, d.data_dir);
  absl::SetFlag(&FLAGS_max_receive_bytes, d.max_receive_bytes);
}

namespace {

// "k=v,k2=v2" -> {k: v, k2: v2}; an item without "=" gets an empty value, which librdkafka
// refuses by name when the relay starts.
std::map<std::string, std::string> ProducerOverrides() {
  std::map<std::string, std::string> out;
  for (absl::string_view item :
       absl::StrSplit(absl::GetFlag(FLAGS_kafka_producer_overrides), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    out[kv.first] = kv.second;
  }
  return out;
}

}  // namespace

ServiceFlags ReadServiceFlags() {
  return {.bind_address = absl::GetFlag(FLAGS_bind_address),
          .grpc_port = absl::GetFlag(FLAGS_grpc_port),
          .metrics_port = absl::GetFlag(FLAGS_metrics_port),
          .data_dir = absl::GetFlag(FLAGS_data_dir),
          .kafka_brokers = absl::GetFlag(FLAGS_kafka_brokers),
          .insecure_dev = absl::GetFlag(FLAGS_insecure_dev),
          .gateway_key = absl::GetFlag(FLAGS_gateway_key),
          .max_receive_bytes = absl::GetFlag(FLAGS_max_receive_bytes),
          .shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)),
          .outbox_keep_sent = absl::Hours(absl::GetFlag(FLAGS_outbox_keep_sent_hours)),
          .producer_overrides = ProducerOverrides(),
          .backup_to = absl::GetFlag(FLAGS_backup_to),
          .database_url = absl::GetFlag(FLAGS_database_url),
          .max_connection_age = absl::Seconds(absl::GetFlag(FLAGS_max_connection_age_seconds)),
          .clock_offset_file = absl::GetFlag(FLAGS_clock_offset_file)};
}

GrpcServerOptions GrpcOptions(const ServiceFlags& flags, std::string service_name) {
  return {.bind_address = flags.bind_address,
          .port = flags.grpc_port,
          .max_receive_bytes = flags.max_receive_bytes,
          .service_name = std::move(service_name),
          .max_connection_age = flags.max_connection_age};
}

}  // namespace pep::server
