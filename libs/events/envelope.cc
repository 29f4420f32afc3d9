#include "events/envelope.h"

#include "absl/strings/numbers.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/uuid.h"

namespace pep::events {

void VisitHeaders(const Envelope& e, absl::FunctionRef<void(std::string_view, std::string_view)> put) {
  put("ce_specversion", "1.0");
  put("ce_id", e.id);
  put("ce_source", e.source);
  put("ce_type", e.type);
  put("ce_subject", e.subject);
  put("ce_time", FormatRfc3339(e.time));
  put("content-type", e.content_type);
  put("ce_actor", e.actor);
  put("ce_correlationid", e.correlation_id);
  put("ce_aggregateversion", std::to_string(e.aggregate_version));
  put("ce_effectivetime", FormatRfc3339(e.effective_time));
  if (!e.causation_id.empty()) put("ce_causationid", e.causation_id);
}

Headers ToHeaders(const Envelope& e) {
  Headers h;
  h.reserve(12);
  VisitHeaders(e, [&h](std::string_view k, std::string_view v) { h.emplace_back(k, v); });
  return h;
}

const std::string* FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

absl::StatusOr<Envelope> FromHeaderLookup(const HeaderLookup& find) {
  auto required = [&](std::string_view name, std::string* out) -> absl::Status {
    const std::optional<std::string_view> v = find(name);
    if (!v.has_value() || v->empty()) return FieldError(name, "required CloudEvents header missing");
    out->assign(v->data(), v->size());
    return absl::OkStatus();
  };
  auto time = [&](std::string_view name, absl::Time* out) -> absl::Status {
    std::string s;
    PEP_RETURN_IF_ERROR(required(name, &s));
    if (!ParseRfc3339(s, out)) return FieldError(name, "not an RFC 3339 time: '" + s + "'");
    return absl::OkStatus();
  };
  std::string spec;
  PEP_RETURN_IF_ERROR(required("ce_specversion", &spec));
  if (spec != "1.0") return FieldError("ce_specversion", "unsupported version '" + spec + "'");
  Envelope e;
  PEP_RETURN_IF_ERROR(required("ce_id", &e.id));
  if (!IsUuid(e.id)) return FieldError("ce_id", "not a UUID: '" + e.id + "'");
  PEP_RETURN_IF_ERROR(required("ce_source", &e.source));
  PEP_RETURN_IF_ERROR(required("ce_type", &e.type));
  PEP_RETURN_IF_ERROR(required("ce_subject", &e.subject));
  PEP_RETURN_IF_ERROR(time("ce_time", &e.time));
  PEP_RETURN_IF_ERROR(required("content-type", &e.content_type));
  PEP_RETURN_IF_ERROR(required("ce_actor", &e.actor));
  PEP_RETURN_IF_ERROR(required("ce_correlationid", &e.correlation_id));
  std::string version;
  PEP_RETURN_IF_ERROR(required("ce_aggregateversion", &version));
  if (!absl::SimpleAtoi(version, &e.aggregate_version) || e.aggregate_version < 1) {
    return FieldError("ce_aggregateversion", "must be a positive integer (got '" + version + "')");
  }
  PEP_RETURN_IF_ERROR(time("ce_effectivetime", &e.effective_time));
  if (auto c = find("ce_causationid")) e.causation_id.assign(c->data(), c->size());
  return e;
}

absl::StatusOr<Envelope> FromHeaders(const Headers& headers) {
  return FromHeaderLookup([&](std::string_view name) -> std::optional<std::string_view> {
    const std::string* v = FindHeader(headers, name);
    if (v == nullptr) return std::nullopt;
    return std::string_view(*v);
  });
}

}  // namespace pep::events
