#include "services/audit/ledger.h"
#include "tlog/entry_v2.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "tlog/merkle.h"

namespace pep::audit {

namespace {

void Field(std::string* out, std::string_view v) {
  const uint32_t n = static_cast<uint32_t>(v.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(len, 4);
  out->append(v.data(), v.size());
}

}  // namespace

std::string CanonicalBytes(const LedgerRecord& r) {
  const events::Envelope& e = r.envelope;
  std::string out;
  out.reserve(256 + r.payload.size());
  out = "pep-ledger-v1";
  Field(&out, r.subject);
  Field(&out, absl::StrCat(r.subject_seq));
  Field(&out, e.id);
  Field(&out, e.type);
  Field(&out, e.source);
  Field(&out, e.subject);
  Field(&out, FormatRfc3339(e.time));
  Field(&out, e.actor);
  Field(&out, e.correlation_id);
  Field(&out, e.causation_id);
  Field(&out, absl::StrCat(e.aggregate_version));
  Field(&out, FormatRfc3339(e.effective_time));
  Field(&out, r.topic);
  Field(&out, r.payload);
  return out;
}

namespace {

// SHA-256 over the concatenation of `parts` (libs/tlog's, shared with the Merkle log).
std::string Sha256Of(std::initializer_list<std::string_view> parts) {
  const tlog::Hash h = tlog::Sha256(parts);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

std::string Sha256(std::string_view data) { return Sha256Of({data}); }

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string EntryV2Bytes(const LedgerRecord& r) { return EntryV2Bytes(r.envelope, r.topic, r.payload); }

std::string EntryV2Bytes(const events::Envelope& e, std::string_view topic, std::string_view payload) {
  std::string out;
  out.reserve(64 + 12 * 4 + e.id.size() + e.type.size() + e.source.size() + e.subject.size() + e.actor.size() +
              e.correlation_id.size() + e.causation_id.size() + topic.size() + 2 * 27 + 20 + 32);
  out = "pep-ledger-v2";
  Field(&out, e.id);
  Field(&out, e.type);
  Field(&out, e.source);
  Field(&out, e.subject);
  Field(&out, FormatRfc3339(e.time));
  Field(&out, e.actor);
  Field(&out, e.correlation_id);
  Field(&out, e.causation_id);
  char version[24];
  const int n = std::snprintf(version, sizeof version, "%lld", static_cast<long long>(e.aggregate_version));
  Field(&out, std::string_view(version, static_cast<size_t>(n)));
  Field(&out, FormatRfc3339(e.effective_time));
  Field(&out, topic);
  const tlog::Hash h = tlog::Sha256(payload);
  Field(&out, std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
  return out;
}

absl::Status ParseEntryV2(std::string_view entry, LedgerRecord* r, std::string* payload_hash) {
  EntryV2Fields f;
  const int bad = SplitEntryV2(entry, &f);
  if (bad == 0) return absl::InvalidArgumentError("entry: does not begin with pep-ledger-v2");
  if (bad > kEntryV2Fields) return absl::InvalidArgumentError("entry: bytes after the last field");
  if (bad > 0) return absl::InvalidArgumentError(absl::StrCat("entry: field ", bad, " cut"));
  events::Envelope& e = r->envelope;
  e.id = f[0];
  e.type = f[1];
  e.source = f[2];
  e.subject = f[3];
  if (!ParseRfc3339(f[4], &e.time)) return absl::InvalidArgumentError("entry: ce_time is not RFC 3339");
  e.actor = f[5];
  e.correlation_id = f[6];
  e.causation_id = f[7];
  if (!absl::SimpleAtoi(absl::string_view(f[8].data(), f[8].size()), &e.aggregate_version)) {
    return absl::InvalidArgumentError("entry: ce_aggregateversion is not a number");
  }
  if (!ParseRfc3339(f[9], &e.effective_time)) {
    return absl::InvalidArgumentError("entry: ce_effectivetime is not RFC 3339");
  }
  r->topic = f[10];
  if (f[11].size() != 32) return absl::InvalidArgumentError("entry: payload hash is not 32 bytes");
  payload_hash->assign(f[11]);
  return absl::OkStatus();
}

std::string LineageSubject(const events::Envelope& e) {
  return e.correlation_id.empty() ? e.subject : e.correlation_id;
}

}  // namespace pep::audit
