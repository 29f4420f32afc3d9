#include "services/gateway/transcode.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/text.h"
#include "common/status.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "pepiniere/api/v1/rules.pb.h"
#include "pepiniere/gateway/v1/gateway.pb.h"

namespace pep::gateway {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
namespace gv1 = ::pepiniere::gateway::v1;

std::string ToJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

HttpResponse JsonResponse(int status, const Message& m) {
  HttpResponse r;
  r.status = status;
  r.body = ToJson(m);
  return r;
}

namespace {
// The headers an error status calls for: when to retry (429, 503) and, for a 401, the scheme to
// authenticate with (RFC 6750 §3).
HttpResponse WithStatusHeaders(HttpResponse r, int retry_after_seconds) {
  if (r.status == 429 || r.status == 503) r.headers["Retry-After"] = absl::StrCat(std::max(1, retry_after_seconds));
  if (r.status == 401) r.headers["WWW-Authenticate"] = "Bearer realm=\"pepiniere\"";
  return r;
}
}  // namespace

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    // The request is well formed but conflicts with the resource's state (a closed challenge,
    // a quorum not reached): RFC 9110's 409, not a 400 the client could fix by rewriting it.
    case grpc::StatusCode::FAILED_PRECONDITION: return 409;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::CANCELLED: return 499;
    default: return 500;
  }
}

HttpResponse ErrorResponse(grpc::StatusCode code, const std::string& message) {
  gv1::Error e;
  e.set_code(static_cast<int>(code));
  e.set_message(ValidUtf8(message));  // it may echo the client's bytes: the answer stays UTF-8
  return WithStatusHeaders(JsonResponse(HttpStatusOf(code), e), 1);
}

HttpResponse ErrorResponse(const absl::Status& s) {
  return ErrorResponse(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

HttpResponse BackendErrorResponse(const grpc::Status& s, const std::string& backend,
                                  int retry_after_seconds) {
  std::string message = s.error_message();
  grpc::StatusCode code = s.error_code();
  // A message over the service's size limit is the caller's to fix, not a retry.
  if (code == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      absl::StrContains(message, "larger than max")) {
    HttpResponse r = ErrorResponse(grpc::StatusCode::INVALID_ARGUMENT,
                                   absl::StrCat("body: larger than ", backend, " accepts"));
    r.status = 413;
    return r;
  }
  if (code == grpc::StatusCode::UNAVAILABLE) {
    message = absl::StrCat(backend, " is unavailable: ", message, " (retry later)");
  } else if (code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    message = absl::StrCat(backend, " did not answer in time: ", message);
  }
  gv1::Error e;
  e.set_code(static_cast<int>(code));
  e.set_message(message);
  // google.rpc.Status bytes from the service, kept as base64
  if (!s.error_details().empty()) e.add_details(absl::Base64Escape(s.error_details()));
  return WithStatusHeaders(JsonResponse(HttpStatusOf(code), e), retry_after_seconds);
}

namespace {

// The member name whose value holds byte `offset` of a JSON text (the last key read before it),
// for an error that names the field without echoing the bytes.
std::string KeyBefore(std::string_view json, size_t offset) {
  std::string key, last;
  bool in_string = false, escaped = false;
  size_t start = 0;
  for (size_t i = 0; i < offset && i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') {
        in_string = false;
        last = std::string(json.substr(start, i - start));
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      start = i + 1;
    } else if (c == ':') {
      key = last;
    }
  }
  return key;
}

// What protobuf's JSON parser lets through and the API document forbids: a single value where
// a list is expected, null inside a list, an enum given by its number.
absl::Status CheckShape(const google::protobuf::Value& v, const FieldDescriptor* f, const std::string& path);

absl::Status CheckObject(const google::protobuf::Struct& o, const google::protobuf::Descriptor* d,
                         const std::string& prefix) {
  for (const auto& [key, value] : o.fields()) {
    const FieldDescriptor* f = d->FindFieldByName(key);
    for (int i = 0; f == nullptr && i < d->field_count(); ++i) {
      if (d->field(i)->json_name() == key) f = d->field(i);
    }
    if (f == nullptr) continue;  // the parser names an unknown field
    PEP_RETURN_IF_ERROR(CheckShape(value, f, prefix.empty() ? key : absl::StrCat(prefix, ".", key)));
  }
  return absl::OkStatus();
}

absl::Status CheckItem(const google::protobuf::Value& v, const FieldDescriptor* f, const std::string& path) {
  using google::protobuf::Value;
  const auto kind = v.kind_case();
  auto wrong = [&](const char* expected) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must be ", expected));
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM:
      if (kind == Value::kNumberValue) return wrong("one of the names the API document lists, not a number");
      if (kind != Value::kStringValue) return wrong("one of the names the API document lists");
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_STRING:
      return kind == Value::kStringValue ? absl::OkStatus() : wrong("a string");
    case FieldDescriptor::CPPTYPE_BOOL:
      return kind == Value::kBoolValue ? absl::OkStatus() : wrong("true or false");
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const std::string& type = f->message_type()->full_name();
      if (type == "google.protobuf.Timestamp" || type == "google.protobuf.Duration" ||
          type == "google.protobuf.FieldMask") {
        // Their JSON form is a string ("2026-12-06T10:00:00Z", "3.5s", "title,theme").
        return kind == Value::kStringValue ? absl::OkStatus() : wrong("a string (RFC 3339 for a date)");
      }
      if (absl::StartsWith(type, "google.protobuf.")) return absl::OkStatus();  // Struct, wrappers…
      if (kind != Value::kStructValue) return wrong("an object");
      return CheckObject(v.struct_value(), f->message_type(), path);
    }
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:  // the document's form is a decimal string; a number too
      return kind == Value::kNumberValue || kind == Value::kStringValue ? absl::OkStatus()
                                                                        : wrong("a number or a decimal string");
    default:  // 32-bit integers and decimals: a JSON number, as the document says ("12" is not one)
      return kind == Value::kNumberValue ? absl::OkStatus() : wrong("a number");
  }
}

absl::Status CheckShape(const google::protobuf::Value& v, const FieldDescriptor* f, const std::string& path) {
  using google::protobuf::Value;
  if (v.kind_case() == Value::kNullValue) return absl::OkStatus();  // not set
  if (f->is_map()) return absl::OkStatus();
  if (!f->is_repeated()) return CheckItem(v, f, path);
  if (v.kind_case() != Value::kListValue) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": must be a list ([…])"));
  }
  for (int i = 0; i < v.list_value().values_size(); ++i) {
    const std::string at = absl::StrCat(path, "[", i, "]");
    if (v.list_value().values(i).kind_case() == Value::kNullValue) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": null is not allowed in a list"));
    }
    PEP_RETURN_IF_ERROR(CheckItem(v.list_value().values(i), f, at));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseBody(const HttpRequest& req, Message* m) {
  if (req.body.empty()) return absl::OkStatus();
  // Checked before protobuf sees it: its parser would echo the bytes and log a line per request.
  if (const size_t bad = FirstInvalidUtf8(req.body); bad != std::string::npos) {
    const std::string key = KeyBefore(req.body, bad);
    return absl::InvalidArgumentError(absl::StrCat(key.empty() ? "body" : ValidUtf8(key),
                                                   ": not valid UTF-8 (byte ", bad, " of the body)"));
  }
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  google::protobuf::Value shape;
  if (google::protobuf::util::JsonStringToMessage(req.body, &shape, o).ok()) {
    if (shape.kind_case() != google::protobuf::Value::kStructValue) {
      return absl::InvalidArgumentError(absl::StrCat("body: must be a JSON object (a ", m->GetDescriptor()->name(), ")"));
    }
    PEP_RETURN_IF_ERROR(CheckObject(shape.struct_value(), m->GetDescriptor(), ""));
  }
  auto s = google::protobuf::util::JsonStringToMessage(req.body, m, o);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("body: not a valid ", m->GetDescriptor()->name(),
                                                   " (", ValidUtf8(std::string(s.message())), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> QueryBool(const std::string& name, const std::string& value) {
  const std::string v = absl::AsciiStrToLower(value);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return absl::InvalidArgumentError(absl::StrCat(
      name, ": '", ValidUtf8(value.substr(0, 32)), "' is not a boolean (true or false)"));
}

absl::Status ParseQuery(const HttpRequest& req, Message* m) {
  if (req.query.empty()) return absl::OkStatus();
  std::string json = "{";
  bool first = true;
  for (const auto& [k, v] : req.query) {
    if (!first) json += ",";
    first = false;
    absl::StrAppend(&json, "\"", JsonEscape(k), "\":");
    int64_t n;
    const auto* f = m->GetDescriptor()->FindFieldByName(k);
    // An enum is named (as the API document lists it), never given by number.
    if (f != nullptr && f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM && f->enum_type()->FindValueByName(v) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(k, ": '", ValidUtf8(v.substr(0, 64)), "' is not one of the values the API document lists"));
    }
    if (f != nullptr && f->options().GetExtension(pepiniere::api::v1::rules).not_in_query()) {
      return absl::InvalidArgumentError(absl::StrCat(k, ": not a query parameter of this route"));
    }
    // A boolean in its usual spellings; anything else is refused, never read as false.
    if (f != nullptr && f->cpp_type() == FieldDescriptor::CPPTYPE_BOOL && !f->is_repeated()) {
      auto b = QueryBool(k, v);
      if (!b.ok()) return b.status();
      json += *b ? "true" : "false";
      continue;
    }
    const bool numeric = f != nullptr && f->cpp_type() != FieldDescriptor::CPPTYPE_STRING &&
                         f->cpp_type() != FieldDescriptor::CPPTYPE_ENUM &&
                         f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE &&
                         absl::SimpleAtoi(v, &n);
    if (numeric) {
      absl::StrAppend(&json, n);  // "068" is 68, not a JSON syntax error
    } else {
      absl::StrAppend(&json, "\"", JsonEscape(v), "\"");
    }
  }
  json += "}";
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(json, m, o);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("query: ", ValidUtf8(std::string(s.message()))));
  return absl::OkStatus();
}

void BindParams(const std::map<std::string, std::string>& params,
                const std::map<std::string, std::string>& rename, Message* m) {
  for (const auto& [name, value] : params) {
    auto it = rename.find(name);
    const std::string field = it == rename.end() ? name : it->second;
    const auto* f = m->GetDescriptor()->FindFieldByName(field);
    if (f != nullptr && f->cpp_type() == FieldDescriptor::CPPTYPE_STRING && !f->is_repeated()) {
      m->GetReflection()->SetString(m, f, value);
    }
  }
}

absl::Duration DeadlineOf(const HttpRequest& req, absl::Duration fallback, absl::Duration max) {
  const std::string* h = req.Header("grpc-timeout");
  absl::Duration d = fallback;
  if (h != nullptr && h->size() >= 2) {
    int64_t n;
    if (absl::SimpleAtoi(h->substr(0, h->size() - 1), &n) && n > 0) {
      switch (h->back()) {
        case 'H': d = absl::Hours(n); break;
        case 'M': d = absl::Minutes(n); break;
        case 'S': d = absl::Seconds(n); break;
        case 'm': d = absl::Milliseconds(n); break;
        case 'u': d = absl::Microseconds(n); break;
        case 'n': d = absl::Nanoseconds(n); break;
        default: break;
      }
    }
  }
  return std::min(d, max);
}

}  // namespace pep::gateway
