#include "services/gateway/http_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pep::gateway {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResult* result;
  std::function<bool(std::string_view)>* sink;
  bool stopped_by_sink = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view piece(data, size * n);
  if (t->sink != nullptr) {
    if (!(*t->sink)(piece)) {
      t->stopped_by_sink = true;
      return 0;
    }
  } else {
    t->result->body.append(piece);
  }
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const absl::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->result->headers.clear();  // a 100 Continue came first
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->result->headers[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  GlobalInit();
  curl_ = curl_easy_init();
  if (options_.ca_file.empty()) {
    if (const char* ca = std::getenv("PEP_CA_FILE"); ca != nullptr) options_.ca_file = ca;
  }
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

absl::StatusOr<HttpResult> HttpClient::Call(const std::string& base_url, const std::string& method,
                                            const std::string& target,
                                            const std::map<std::string, std::string>& headers,
                                            const std::string& body) {
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return Perform(url + target, method, headers, body, nullptr);
}

absl::StatusOr<HttpResult> HttpClient::Download(const std::string& base_url,
                                                const std::string& target,
                                                const std::map<std::string, std::string>& headers,
                                                std::function<bool(std::string_view)> sink) {
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return Perform(url + target, "GET", headers, "", &sink);
}

absl::StatusOr<HttpResult> HttpClient::Perform(const std::string& url, const std::string& method,
                                               const std::map<std::string, std::string>& headers,
                                               const std::string& body,
                                               std::function<bool(std::string_view)>* sink) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("PEP_URL: expected http:// or https:// (got '", url, "')"));
  }
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) return absl::InternalError("libcurl could not start");
  curl_easy_reset(c);  // keeps the connection cache
  HttpResult result;
  Transfer t{&result, sink};
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, absl::StrCat(k, ": ", v).c_str());
  if (!body.empty() && headers.count("Expect") == 0) list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (options_.cookies) curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");  // the in-memory jar
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  long connects = 0;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  result.status = static_cast<int>(status);
  result.reused_connection = connects == 0;
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.stopped_by_sink)) {
    const std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
    if (status != 0 && (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR)) {
      return absl::DataLossError(absl::StrCat("HTTP ", status, " answer cut short: ", why));
    }
    return absl::UnavailableError(why);
  }
  return result;
}

absl::StatusOr<HttpResult> HttpCall(const std::string& base_url, const std::string& method,
                                    const std::string& target,
                                    const std::map<std::string, std::string>& headers,
                                    const std::string& body, HttpClientOptions options) {
  HttpClient client(std::move(options));
  return client.Call(base_url, method, target, headers, body);
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

}  // namespace pep::gateway
