#include "services/gateway/client_address.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/gateway/tokens.h"

namespace pep::gateway {

namespace {

// IPv4 (as ::ffff:a.b.c.d) or IPv6 bytes.
std::optional<std::array<unsigned char, 16>> ParseIp(absl::string_view text, bool* v4) {
  const std::string s(text);
  std::array<unsigned char, 16> out{};
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    if (v4 != nullptr) *v4 = true;
    return out;
  }
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    std::memcpy(out.data(), &a6, 16);
    const bool mapped = std::all_of(out.begin(), out.begin() + 10, [](unsigned char c) { return c == 0; }) &&
                        out[10] == 0xff && out[11] == 0xff;
    if (v4 != nullptr) *v4 = mapped;
    return out;
  }
  return std::nullopt;
}

// "[2001:db8::1]:4711" -> "2001:db8::1"; "192.0.2.1:8080" -> "192.0.2.1"; quotes removed.
std::string BareAddress(absl::string_view v) {
  v = absl::StripAsciiWhitespace(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (!v.empty() && v.front() == '[') {
    const size_t close = v.find(']');
    return std::string(v.substr(1, close == absl::string_view::npos ? absl::string_view::npos : close - 1));
  }
  if (std::count(v.begin(), v.end(), ':') == 1) v = v.substr(0, v.find(':'));  // IPv4:port
  return std::string(v);
}

}  // namespace

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(absl::string_view list,
                                                     absl::string_view header) {
  TrustedProxies t;
  t.header_ = absl::AsciiStrToLower(header);
  if (t.header_ != "x-forwarded-for" && t.header_ != "forwarded") {
    return absl::InvalidArgumentError(absl::StrCat(
        "forwarded_header: must be x-forwarded-for or forwarded (got '", header, "')"));
  }
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    absl::string_view addr = item;
    int prefix = -1;
    if (const size_t slash = item.find('/'); slash != absl::string_view::npos) {
      addr = item.substr(0, slash);
      if (!absl::SimpleAtoi(item.substr(slash + 1), &prefix)) prefix = -2;
    }
    bool v4 = false;
    auto bytes = ParseIp(addr, &v4);
    const int max = v4 ? 32 : 128;
    if (!bytes || prefix == -2 || prefix > max || prefix < -1) {
      return absl::InvalidArgumentError(
          absl::StrCat("trusted_proxies: '", item, "' is not an address or CIDR range"));
    }
    Net n;
    n.bytes = *bytes;
    n.prefix = (prefix < 0 ? max : prefix) + (v4 ? 96 : 0);
    t.nets_.push_back(n);
  }
  return t;
}

bool TrustedProxies::Contains(absl::string_view address) const {
  auto bytes = ParseIp(address, nullptr);
  if (!bytes) return false;
  for (const Net& n : nets_) {
    int bits = n.prefix;
    bool match = true;
    for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
      const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
      if (((*bytes)[i] & mask) != (n.bytes[i] & mask)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

std::vector<std::string> ForwardedHops(const HttpRequest& req, const std::string& header) {
  std::vector<std::string> hops;
  const std::string* value = req.Header(header);
  if (value == nullptr) return hops;
  if (header == "forwarded") {
    for (absl::string_view element : absl::StrSplit(*value, ',')) {
      for (absl::string_view pair : absl::StrSplit(element, ';')) {
        pair = absl::StripAsciiWhitespace(pair);
        if (pair.size() > 4 && absl::StartsWithIgnoreCase(pair, "for=")) {
          hops.push_back(BareAddress(pair.substr(4)));
        }
      }
    }
    return hops;
  }
  for (absl::string_view hop : absl::StrSplit(*value, ',', absl::SkipWhitespace())) {
    hops.push_back(BareAddress(hop));
  }
  return hops;
}

std::string ClientAddress(const HttpRequest& req, const TrustedProxies& trusted) {
  if (trusted.empty() || !trusted.Contains(req.peer_addr)) return req.peer_addr;
  const std::vector<std::string> hops = ForwardedHops(req, trusted.header());
  // Right to left: each trusted proxy vouches for the hop before it; the first hop it cannot
  // vouch for (untrusted, or not an address at all) is the client.
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!trusted.Contains(*it)) return *it;
  }
  return hops.empty() ? req.peer_addr : hops.front();
}

std::string ClientKey(const std::string& salt, absl::string_view address) {
  bool v4 = false;
  auto bytes = ParseIp(address, &v4);
  if (!bytes) return Sha256Hex(absl::StrCat(salt, "|", address));  // "unknown", "_hidden"…
  if (v4) {
    (*bytes)[15] = 0;
  } else {
    std::fill(bytes->begin() + 8, bytes->end(), 0);
  }
  return Sha256Hex(absl::StrCat(salt, "|",
                                absl::string_view(reinterpret_cast<const char*>(bytes->data()), 16)));
}

}  // namespace pep::gateway
