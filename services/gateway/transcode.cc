#include "services/gateway/transcode.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/text.h"
#include "google/protobuf/util/json_util.h"
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
  HttpResponse r = JsonResponse(HttpStatusOf(code), e);
  if (r.status == 429 || r.status == 503) r.headers["Retry-After"] = "1";
  return r;
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
  HttpResponse r = JsonResponse(HttpStatusOf(code), e);
  if (r.status == 429 || r.status == 503) {
    r.headers["Retry-After"] = absl::StrCat(std::max(1, retry_after_seconds));
  }
  return r;
}

absl::Status ParseBody(const HttpRequest& req, Message* m) {
  if (req.body.empty()) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(req.body, m, o);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("body: not a valid ", m->GetDescriptor()->name(),
                                                   " (", std::string(s.message()), ")"));
  }
  return absl::OkStatus();
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
      return absl::InvalidArgumentError(absl::StrCat(k, ": '", v.substr(0, 64), "' is not one of the values the API document lists"));
    }
    const bool numeric = f != nullptr && f->cpp_type() != FieldDescriptor::CPPTYPE_STRING &&
                         f->cpp_type() != FieldDescriptor::CPPTYPE_ENUM &&
                         f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE &&
                         absl::SimpleAtoi(v, &n);
    if (v == "true" || v == "false" || numeric) {
      json += v;
    } else {
      absl::StrAppend(&json, "\"", JsonEscape(v), "\"");
    }
  }
  json += "}";
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(json, m, o);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("query: ", std::string(s.message())));
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
