// Error helpers: field-named INVALID_ARGUMENT errors, and the absl <-> grpc conversions.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/support/status.h"

namespace pep {

// "title: must be 1-140 characters (got 212)"; the field name is also kept as a payload so the
// RPC edge can attach it as a google.rpc.BadRequest-like detail.
absl::Status FieldError(std::string_view field, std::string_view message);

// The same failure, its message prefixed with what failed: "outbox relay: …".
inline absl::Status Prefixed(absl::string_view what, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

grpc::Status ToGrpcStatus(const absl::Status& s);
absl::Status FromGrpcStatus(const grpc::Status& s);

// Returns the first failure; keeps code short where validations chain.
#define PEP_RETURN_IF_ERROR(expr)        \
  do {                                   \
    ::absl::Status pep_status_ = (expr); \
    if (!pep_status_.ok()) return pep_status_; \
  } while (0)

// At the RPC edge: returns the grpc::Status of the first failure.
#define PEP_GRPC_RETURN_IF_ERROR(expr)                    \
  do {                                                    \
    ::absl::Status pep_s_ = (expr);                       \
    if (!pep_s_.ok()) return ::pep::ToGrpcStatus(pep_s_); \
  } while (0)

}  // namespace pep
