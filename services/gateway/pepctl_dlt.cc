// pepctl dlt list|show|replay: dead letters, straight from Kafka (an operator's tool).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/proto_time.h"
#include "events/dead_letters.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "pepiniere/audit/v1/audit.pb.h"
#include "pepiniere/gateway/v1/gateway.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "services/gateway/http_client.h"
#include "services/gateway/pepctl_cli.h"

namespace pep::pepctl {

namespace {

std::string Brokers(const Args& a) {
  if (a.options.count("brokers")) return a.options.at("brokers");
  const char* env = std::getenv("PEP_KAFKA_BROKERS");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:9092";
}

// The letters `--offset` (and `--partition`, default any) pick, or all of them.
absl::StatusOr<std::vector<pep::events::DeadLetter>> Pick(const Args& a,
                                                          std::vector<pep::events::DeadLetter> all) {
  if (!a.options.count("offset")) return all;
  int64_t offset = -1;
  int partition = -1;
  if (!absl::SimpleAtoi(a.options.at("offset"), &offset) || offset < 0) {
    return absl::InvalidArgumentError("--offset: a record's offset in the dead-letter topic");
  }
  if (a.options.count("partition") && !absl::SimpleAtoi(a.options.at("partition"), &partition)) {
    return absl::InvalidArgumentError("--partition: a number");
  }
  std::vector<pep::events::DeadLetter> out;
  for (auto& d : all) {
    if (d.record.offset == offset && (partition < 0 || d.record.partition == partition)) out.push_back(std::move(d));
  }
  if (out.empty()) return absl::NotFoundError(absl::StrCat("no dead letter at offset ", offset));
  if (out.size() > 1) return absl::InvalidArgumentError("--partition: several partitions have that offset");
  return out;
}

}  // namespace

int Dlt(const Args& a) {
  const std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  if (sub != "list" && sub != "show" && sub != "replay") return Usage("dlt: list, show or replay");
  if (a.positional.size() < 3) return Usage(absl::StrCat("dlt ", sub, ": TOPIC is required"));
  std::string topic = a.positional[2];
  if (!absl::EndsWith(topic, ".dlt")) topic += ".dlt";
  auto letters = pep::events::ReadDeadLetters(Brokers(a), topic);
  if (!letters.ok()) {
    std::fprintf(stderr, "pepctl: %s\n", std::string(letters.status().message()).c_str());
    return letters.status().code() == absl::StatusCode::kNotFound ? 1 : 3;
  }
  if (sub == "list") {
    std::printf("%zu dead letter(s) in %s\n", letters->size(), topic.c_str());
    for (const auto& d : *letters) {
      const std::string* type = pep::events::FindHeader(d.record.headers, "ce_type");
      const std::string* id = pep::events::FindHeader(d.record.headers, "ce_id");
      std::printf("%d@%lld  from %s/%d@%lld  %s  %s  %s (%s, %d attempt(s))  %s\n", d.record.partition,
                  static_cast<long long>(d.record.offset), d.original_topic.c_str(), d.original_partition,
                  static_cast<long long>(d.original_offset), d.failed_at.c_str(), type ? type->c_str() : "-",
                  d.error.c_str(), d.error_code.c_str(), d.attempts, id ? id->c_str() : "-");
    }
    return 0;
  }
  if (sub == "show" && !a.options.count("offset")) return Usage("dlt show: --offset N is required");
  auto picked = Pick(a, std::move(*letters));
  if (!picked.ok()) {
    std::fprintf(stderr, "pepctl: %s\n", std::string(picked.status().message()).c_str());
    return picked.status().code() == absl::StatusCode::kNotFound ? 1 : 2;
  }
  if (sub == "show") {
    const auto& d = picked->front();
    std::printf("dead letter %s %d@%lld\nkey: %s\n", topic.c_str(), d.record.partition,
                static_cast<long long>(d.record.offset), d.record.key.c_str());
    for (const auto& [name, value] : d.record.headers) std::printf("%s: %s\n", name.c_str(), value.c_str());
    std::printf("payload (%zu bytes, base64): %s\n", d.record.value.size(), absl::Base64Escape(d.record.value).c_str());
    return 0;
  }
  auto sent = pep::events::Replay(Brokers(a), *picked);
  if (!sent.ok()) {
    std::fprintf(stderr, "pepctl: replay: %s\n", std::string(sent.status().message()).c_str());
    return 3;
  }
  std::printf("replayed %d of %zu to %s\n", *sent, picked->size(),
              picked->empty() ? "-" : picked->front().original_topic.c_str());
  return *sent == static_cast<int>(picked->size()) ? 0 : 3;
}

}  // namespace pep::pepctl
