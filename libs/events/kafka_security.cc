#include "events/kafka_security.h"

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/status.h"

ABSL_FLAG(std::string, kafka_security_protocol, "plaintext",
          "Kafka security protocol: plaintext, ssl, sasl_plaintext or sasl_ssl");
ABSL_FLAG(std::string, kafka_sasl_mechanism, "SCRAM-SHA-512",
          "SASL mechanism (SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN)");
ABSL_FLAG(std::string, kafka_sasl_username, "", "SASL user this process authenticates as");
ABSL_FLAG(std::string, kafka_sasl_password_file, "",
          "File holding the SASL password (a mounted Secret); its first line");
ABSL_FLAG(std::string, kafka_ssl_ca_file, "",
          "PEM file of the CA the brokers' certificates chain to (empty: the system's)");
ABSL_FLAG(std::string, kafka_ssl_certificate_file, "",
          "PEM client certificate (mutual TLS: its CN is the Kafka user)");
ABSL_FLAG(std::string, kafka_ssl_key_file, "", "PEM private key of the client certificate");

namespace pep::events {

absl::StatusOr<KafkaProperties> ClientSecurity() {
  const std::string protocol = absl::AsciiStrToLower(absl::GetFlag(FLAGS_kafka_security_protocol));
  if (protocol == "plaintext" || protocol.empty()) return KafkaProperties{};
  if (protocol != "ssl" && protocol != "sasl_plaintext" && protocol != "sasl_ssl") {
    return FieldError("kafka_security_protocol",
                      absl::StrCat("must be plaintext, ssl, sasl_plaintext or sasl_ssl (got '", protocol, "')"));
  }
  KafkaProperties p{{"security.protocol", protocol}};
  if (absl::StartsWith(protocol, "sasl_")) {
    const std::string user = absl::GetFlag(FLAGS_kafka_sasl_username);
    if (user.empty()) return FieldError("kafka_sasl_username", absl::StrCat("required with ", protocol));
    const std::string file = absl::GetFlag(FLAGS_kafka_sasl_password_file);
    const std::string password = FirstLine(file);
    if (password.empty()) {
      return FieldError("kafka_sasl_password_file", absl::StrCat("'", file, "' holds no password"));
    }
    p["sasl.mechanisms"] = absl::GetFlag(FLAGS_kafka_sasl_mechanism);
    p["sasl.username"] = user;
    p["sasl.password"] = password;
  }
  if (protocol == "sasl_plaintext") return p;
  if (const std::string ca = absl::GetFlag(FLAGS_kafka_ssl_ca_file); !ca.empty()) p["ssl.ca.location"] = ca;
  const std::string cert = absl::GetFlag(FLAGS_kafka_ssl_certificate_file);
  const std::string key = absl::GetFlag(FLAGS_kafka_ssl_key_file);
  if (cert.empty() != key.empty()) {
    return FieldError(cert.empty() ? "kafka_ssl_certificate_file" : "kafka_ssl_key_file",
                      "a client certificate and its key go together");
  }
  if (!cert.empty()) {
    p["ssl.certificate.location"] = cert;
    p["ssl.key.location"] = key;
  }
  return p;
}

}  // namespace pep::events
