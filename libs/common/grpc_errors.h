// A server interceptor that turns the bare INTERNAL status grpc++ returns when a request cannot
// be deserialized (e.g. a proto3 string field with invalid UTF-8, which protobuf's parser
// rejects before any handler runs) into INVALID_ARGUMENT with a message a person understands.
// Handlers never return INTERNAL with an empty message, so nothing else is rewritten.
#pragma once

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace pep {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRequestParseErrorInterceptorFactory();

inline constexpr char kUnparsableRequestMessage[] =
    "request: could not be decoded as the method's protobuf message (a string field is not "
    "valid UTF-8, or the bytes are malformed)";

}  // namespace pep
