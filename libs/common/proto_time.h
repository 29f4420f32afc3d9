// absl::Time <-> google.protobuf.Timestamp.
#pragma once

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace pep {

inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  ts.set_seconds(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
  ts.set_nanos(static_cast<int32_t>((us - ts.seconds() * 1000000) * 1000));
  return ts;
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace pep
