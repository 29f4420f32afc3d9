#include "common/status.h"

#include "absl/strings/cord.h"

namespace pep {

namespace {
constexpr char kFieldPayload[] = "type.pepiniere/field";
}

absl::Status FieldError(std::string_view field, std::string_view message) {
  absl::Status s = absl::InvalidArgumentError(std::string(field) + ": " + std::string(message));
  s.SetPayload(kFieldPayload, absl::Cord(std::string(field)));
  return s;
}

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  // Abseil's canonical codes are numerically gRPC's.
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace pep
