// How Pépinière's Kafka clients authenticate (issue 26). Every client made through MakeConf —
// services, outbox relays, consumers and their dead letters, pep-audit's sequencer and index,
// pepctl dlt, pep-kafka-topics — carries these settings, from flags or PEP_KAFKA_* variables.
// Real deployments run TLS with each service as its own user — a client certificate (ssl,
// mutual TLS: the user is the certificate's CN) or SASL/SCRAM (sasl_ssl) — and ACLs (acls.h, the
// chart's KafkaUser resources) let each write its own topic only and pep-audit alone the log.
// SCRAM against Kafka 4.x needs librdkafka >= 2.6.1 (Debian bookworm has 2.0.2, whose SCRAM
// final message Kafka 4 refuses): there, use mutual TLS.
#pragma once

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "events/kafka.h"

ABSL_DECLARE_FLAG(std::string, kafka_security_protocol);
ABSL_DECLARE_FLAG(std::string, kafka_sasl_mechanism);
ABSL_DECLARE_FLAG(std::string, kafka_sasl_username);
ABSL_DECLARE_FLAG(std::string, kafka_sasl_password_file);
ABSL_DECLARE_FLAG(std::string, kafka_ssl_ca_file);
ABSL_DECLARE_FLAG(std::string, kafka_ssl_certificate_file);
ABSL_DECLARE_FLAG(std::string, kafka_ssl_key_file);

namespace pep::events {

// librdkafka properties for the flags: nothing for plaintext; security.protocol, sasl.*,
// ssl.ca.location and the client certificate otherwise. INVALID_ARGUMENT naming the flag for an unknown protocol, a SASL
// protocol without a user, or a password file that cannot be read.
absl::StatusOr<KafkaProperties> ClientSecurity();

}  // namespace pep::events
