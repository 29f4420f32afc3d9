// Who the client is, as far as we can trust: the TCP peer, or — when the peer is one of
// --trusted_proxies — the rightmost untrusted hop of the one header those proxies write
// (--forwarded_header: `X-Forwarded-For` by default, or `Forwarded`, RFC 7239). The other header
// is the client's own text and is never read: a client could name its own rate-limit key. pep-feedback's rate limits and idempotency key on a salted hash of that
// address with its host part cut (IPv4 /24, IPv6 /64), never on the address itself.
#pragma once

#include <array>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "services/gateway/http_server.h"

namespace pep::gateway {

class TrustedProxies {
 public:
  // "10.0.0.0/8, 192.168.1.7, ::1/128" (a bare address is a /32 or /128); empty: none.
  // `header`: "x-forwarded-for" or "forwarded", the one the proxies write (any case).
  static absl::StatusOr<TrustedProxies> Parse(absl::string_view list,
                                              absl::string_view header = "x-forwarded-for");
  bool Contains(absl::string_view address) const;
  bool empty() const { return nets_.empty(); }
  const std::string& header() const { return header_; }

 private:
  struct Net {
    std::array<unsigned char, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 0;                         // in bits of the 128
  };
  std::vector<Net> nets_;
  std::string header_ = "x-forwarded-for";
};

// The client's address for `req` (the peer when it is not a trusted proxy).
std::string ClientAddress(const HttpRequest& req, const TrustedProxies& trusted);

// Hex SHA-256 of salt || the address with its last IPv4 octet (or IPv6 low 64 bits) zeroed.
std::string ClientKey(const std::string& salt, absl::string_view address);

// The hops of `header` ("forwarded": its `for=` parameters; "x-forwarded-for": its list),
// leftmost first (ports and brackets removed). Exposed for tests.
std::vector<std::string> ForwardedHops(const HttpRequest& req, const std::string& header);

}  // namespace pep::gateway
