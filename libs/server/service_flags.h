// The flags every Pépinière service has (each also settable as PEP_<NAME>), with per-service
// defaults set by main() before parsing.
#pragma once

#include <map>
#include <string>

#include "absl/time/time.h"
#include "server/grpc_server.h"

namespace pep::server {

struct ServiceDefaults {
  int grpc_port;
  int metrics_port;
  std::string data_dir;
  int max_receive_bytes = 1 << 20;
};

struct ServiceFlags {
  std::string bind_address;
  int grpc_port;
  int metrics_port;
  std::string data_dir;
  std::string kafka_brokers;
  bool insecure_dev;
  std::string gateway_key;
  int max_receive_bytes;
  absl::Duration shutdown_grace;
  absl::Duration outbox_keep_sent;  // 0: outbox rows are kept forever
  // librdkafka properties over the outbox producer's defaults (tuning: linger.ms, compression).
  std::map<std::string, std::string> producer_overrides;
  std::string backup_to;  // set: back the database up to this file and exit
  std::string database_url;  // empty: the service's SQLite file in data_dir
  absl::Duration max_connection_age;  // 0: client connections are never closed by age
  std::string clock_offset_file;      // tests and rehearsals: the clock runs this far ahead
};

// Call before pep::ParseFlagsWithEnv: the environment and command line still win.
void SetServiceDefaults(const ServiceDefaults& defaults);
ServiceFlags ReadServiceFlags();
// The service's database: --database_url, or the SQLite file `sqlite_file` in --data_dir.
inline std::string ServiceDatabaseUrl(const ServiceFlags& flags, const std::string& sqlite_file) {
  return flags.database_url.empty() ? flags.data_dir + "/" + sqlite_file : flags.database_url;
}
// The gRPC server of a service started with these flags; `service_name` is its full proto name.
GrpcServerOptions GrpcOptions(const ServiceFlags& flags, std::string service_name);

}  // namespace pep::server
