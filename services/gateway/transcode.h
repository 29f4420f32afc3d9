// JSON <-> protobuf for the REST routes (protobuf's JSON mapping, unknown fields refused), and
// gRPC statuses as HTTP answers with grpc-gateway's status mapping and `{code,message,details}`.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "services/gateway/http_server.h"

namespace pep::gateway {

std::string ToJson(const google::protobuf::Message& m);
HttpResponse JsonResponse(int status, const google::protobuf::Message& m);

// The grpc-gateway mapping of status codes to HTTP.
int HttpStatusOf(grpc::StatusCode code);
HttpResponse ErrorResponse(grpc::StatusCode code, const std::string& message);
HttpResponse ErrorResponse(const absl::Status& s);
// A backend's answer. `backend` names the service in 503/504 messages; `retry_after_seconds`
// (from the service's trailing metadata, else 1) goes into Retry-After on 429 and 503.
HttpResponse BackendErrorResponse(const grpc::Status& s, const std::string& backend,
                                  int retry_after_seconds = 1);

// The request body as `m`: unknown fields refused, errors a person can read.
absl::Status ParseBody(const HttpRequest& req, google::protobuf::Message* m);
// A boolean query parameter: true/1/yes/on or false/0/no/off, any case; else a 400 naming it.
absl::StatusOr<bool> QueryBool(const std::string& name, const std::string& value);
// Query parameters as `m`'s fields (by proto name); booleans as QueryBool reads them, enums by
// name only.
absl::Status ParseQuery(const HttpRequest& req, google::protobuf::Message* m);
// Path parameters into same-named string fields (or renamed ones: {"startup_id": "id"}).
void BindParams(const std::map<std::string, std::string>& params,
                const std::map<std::string, std::string>& rename, google::protobuf::Message* m);
// "Grpc-Timeout: 5S" (grpc-gateway's header) or `fallback`; never above `max`.
absl::Duration DeadlineOf(const HttpRequest& req, absl::Duration fallback, absl::Duration max);

}  // namespace pep::gateway
