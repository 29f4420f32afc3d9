#include "services/gateway/http_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pep::gateway {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

absl::StatusOr<std::string> Dechunk(std::string_view in) {
  std::string out;
  while (true) {
    const size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return absl::DataLossError("truncated chunked body");
    size_t n = 0;
    if (!absl::SimpleHexAtoi(std::string(in.substr(0, in.find_first_of(";\r"))), &n)) {
      return absl::DataLossError("bad chunk size");
    }
    if (n == 0) return out;
    if (in.size() < eol + 2 + n) return absl::DataLossError("truncated chunk");
    out.append(in.substr(eol + 2, n));
    in.remove_prefix(eol + 2 + n + 2);
  }
}

}  // namespace

absl::StatusOr<HttpResult> HttpCall(const std::string& base_url, const std::string& method,
                                    const std::string& target,
                                    const std::map<std::string, std::string>& headers,
                                    const std::string& body, absl::Duration timeout) {
  absl::string_view url = base_url;
  if (!absl::ConsumePrefix(&url, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat("PEP_URL: only http:// URLs (got '", base_url, "')"));
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  const size_t colon = url.rfind(':');
  const std::string host(colon == std::string_view::npos ? url : url.substr(0, colon));
  const std::string port(colon == std::string_view::npos ? "80" : url.substr(colon + 1));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host));
  }
  Fd s;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    s.fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (s.fd < 0) continue;
    timeval tv{static_cast<time_t>(absl::ToInt64Seconds(timeout)), 0};
    setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(s.fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(s.fd);
    s.fd = -1;
  }
  freeaddrinfo(res);
  if (s.fd < 0) return absl::UnavailableError(absl::StrCat("cannot connect to ", base_url));
  std::string req = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: ", host, ":", port,
                                 "\r\nConnection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&req, k, ": ", v, "\r\n");
  absl::StrAppend(&req, "\r\n", body);
  for (size_t sent = 0; sent < req.size();) {
    const ssize_t n = send(s.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return absl::UnavailableError("connection closed while sending");
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  while (true) {
    const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n < 0) return absl::DeadlineExceededError("no answer in time");
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return absl::DataLossError("malformed HTTP answer");
  HttpResult r;
  const std::vector<std::string> lines = absl::StrSplit(raw.substr(0, head_end), "\r\n");
  const std::vector<std::string> status = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status.size() < 2 || !absl::SimpleAtoi(status[1], &r.status)) {
    return absl::DataLossError("malformed HTTP status line");
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t c = lines[i].find(':');
    if (c == std::string::npos) continue;
    r.headers[absl::AsciiStrToLower(lines[i].substr(0, c))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(c + 1)));
  }
  std::string_view payload = std::string_view(raw).substr(head_end + 4);
  auto te = r.headers.find("transfer-encoding");
  if (te != r.headers.end() && absl::StrContains(absl::AsciiStrToLower(te->second), "chunked")) {
    auto body_or = Dechunk(payload);
    if (!body_or.ok()) return body_or.status();
    r.body = std::move(*body_or);
  } else {
    r.body = std::string(payload);
  }
  return r;
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
