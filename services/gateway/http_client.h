// An HTTP/1.1 client over libcurl for pepctl and the tests: http:// and https:// (CA bundle
// from the options or PEP_CA_FILE, the system's otherwise), HTTPS_PROXY / NO_PROXY from the
// environment as curl reads them, a total timeout, and an error when a body is cut short
// (e.g. a chunked export whose terminating chunk never came).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pep::gateway {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool reused_connection = false;  // a kept-alive connection carried it
};

struct HttpClientOptions {
  absl::Duration timeout = absl::Seconds(30);  // the whole exchange
  std::string ca_file;                         // empty: PEP_CA_FILE, else the system's bundle
  bool cookies = false;  // keep cookies from one call to the next (a browser-like session)
};

// Keeps its connection alive from one call to the next (one call at a time).
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  // `base_url` like "https://pepiniere.example.gouv.fr"; `target` like "/v1/startups?…".
  // UNAVAILABLE when the server cannot be reached or the answer is incomplete.
  absl::StatusOr<HttpResult> Call(const std::string& base_url, const std::string& method,
                                  const std::string& target,
                                  const std::map<std::string, std::string>& headers = {},
                                  const std::string& body = "");
  // The same, the body handed to `sink` as it arrives instead of kept (exports); `sink`
  // returning false stops the transfer.
  absl::StatusOr<HttpResult> Download(const std::string& base_url, const std::string& target,
                                      const std::map<std::string, std::string>& headers,
                                      std::function<bool(std::string_view)> sink);

 private:
  absl::StatusOr<HttpResult> Perform(const std::string& url, const std::string& method,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& body,
                                     std::function<bool(std::string_view)>* sink);
  HttpClientOptions options_;
  void* curl_;  // CURL*, kept out of this header
};

// One call on a connection of its own.
absl::StatusOr<HttpResult> HttpCall(const std::string& base_url, const std::string& method,
                                    const std::string& target,
                                    const std::map<std::string, std::string>& headers = {},
                                    const std::string& body = "",
                                    HttpClientOptions options = {});

// Percent-encodes everything but RFC 3986's unreserved characters (a path segment or a query
// value).
std::string UrlEncode(std::string_view s);

}  // namespace pep::gateway
