#include "services/gateway/http_parse.h"

#include <boost/asio/buffer.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pep::gateway {

namespace http = boost::beast::http;

HttpRequest HeadOf(const http::request<http::string_body>& m, const std::string& peer, bool tls) {
  HttpRequest req;
  req.method = std::string(m.method_string());
  const absl::string_view target(m.target().data(), m.target().size());
  const size_t q = target.find('?');
  req.raw_path = std::string(target.substr(0, q));
  req.path = UrlDecode(req.raw_path, false);
  if (q != std::string_view::npos) {
    for (absl::string_view pair : absl::StrSplit(target.substr(q + 1), '&', absl::SkipEmpty())) {
      const size_t eq = pair.find('=');
      const std::string_view kv(pair.data(), pair.size());
      req.query.emplace(UrlDecode(kv.substr(0, eq), true),
                        eq == absl::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1), true));
    }
  }
  for (const auto& f : m) {
    std::string name = absl::AsciiStrToLower(std::string(f.name_string().data(), f.name_string().size()));
    std::string value(f.value().data(), f.value().size());
    auto [it, inserted] = req.headers.emplace(std::move(name), value);
    if (!inserted) absl::StrAppend(&it->second, ", ", value);
  }
  req.peer_addr = peer;
  req.client_addr = peer;
  req.tls = tls;
  return req;
}

absl::StatusOr<HttpRequest> ParseHttpRequest(std::string_view bytes, size_t max_header_bytes,
                                             size_t max_body_bytes) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(max_header_bytes));
  parser.body_limit(max_body_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("bad HTTP request: ", ec.message()));
    if (n == 0) break;
    used += n;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return absl::InvalidArgumentError("bad HTTP request: incomplete");
  }
  HttpRequest req = HeadOf(parser.get(), "", false);
  req.body = std::move(parser.get().body());
  return req;
}

}  // namespace pep::gateway
