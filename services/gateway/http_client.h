// A blocking HTTP/1.1 client for plain http:// (pepctl and the tests): one request per
// connection, Content-Length or chunked answers.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pep::gateway {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// `base_url` like "http://127.0.0.1:8080"; `target` like "/v1/startups?phase=…".
absl::StatusOr<HttpResult> HttpCall(const std::string& base_url, const std::string& method,
                                    const std::string& target,
                                    const std::map<std::string, std::string>& headers = {},
                                    const std::string& body = "",
                                    absl::Duration timeout = absl::Seconds(30));

// Percent-encodes everything but RFC 3986's unreserved characters (a path segment or a query
// value).
std::string UrlEncode(std::string_view s);

}  // namespace pep::gateway
