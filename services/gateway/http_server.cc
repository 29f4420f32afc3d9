#include "services/gateway/http_server.h"

#include <civetweb.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pep::gateway {

std::string UrlDecode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size() && absl::ascii_isxdigit(s[i + 1]) &&
        absl::ascii_isxdigit(s[i + 2])) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (c == '+' && form) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

namespace {

void Send(mg_connection* conn, const HttpResponse& r) {
  std::string head = absl::StrCat("HTTP/1.1 ", r.status, " ", ReasonPhrase(r.status), "\r\n",
                                  "Content-Type: ", r.content_type, "\r\n",
                                  "X-Content-Type-Options: nosniff\r\n");
  if (r.produce) {
    head += "Transfer-Encoding: chunked\r\n";
  } else {
    absl::StrAppend(&head, "Content-Length: ", r.body.size(), "\r\n");
  }
  for (const auto& [k, v] : r.headers) absl::StrAppend(&head, k, ": ", v, "\r\n");
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  if (r.produce) {
    r.produce([conn](std::string_view data) {
      if (data.empty()) return true;
      const std::string size = absl::StrCat(absl::Hex(data.size()), "\r\n");
      return mg_write(conn, size.data(), size.size()) > 0 &&
             mg_write(conn, data.data(), data.size()) > 0 && mg_write(conn, "\r\n", 2) > 0;
    });
    mg_write(conn, "0\r\n\r\n", 5);
    return;
  }
  if (!r.body.empty()) mg_write(conn, r.body.data(), r.body.size());
}

HttpResponse TooLarge(size_t limit) {
  HttpResponse r;
  r.status = 413;
  r.body = absl::StrCat(R"({"code":3,"message":"request body is larger than )", limit,
                        R"( bytes","details":[]})");
  return r;
}

}  // namespace

int HttpServer::OnRequest(mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "/";
  req.remote_addr = info->remote_addr;
  if (info->query_string != nullptr) {
    for (const std::string& pair : std::vector<std::string>(
             absl::StrSplit(info->query_string, '&', absl::SkipEmpty()))) {
      const std::string_view kv = pair;
      const size_t eq = kv.find('=');
      req.query.emplace(UrlDecode(kv.substr(0, eq), true),
                        eq == std::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1), true));
    }
  }
  for (int i = 0; i < info->num_headers; ++i) {
    req.headers[absl::AsciiStrToLower(info->http_headers[i].name)] = info->http_headers[i].value;
  }
  const size_t limit = self->options_.max_body_bytes;
  if (info->content_length > static_cast<long long>(limit)) {
    Send(conn, TooLarge(limit));
    return 413;
  }
  char buf[16384];
  while (true) {
    const int n = mg_read(conn, buf, sizeof buf);
    if (n <= 0) break;
    req.body.append(buf, static_cast<size_t>(n));
    if (req.body.size() > limit) {  // chunked bodies have no length up front
      Send(conn, TooLarge(limit));
      return 413;
    }
  }
  HttpResponse resp = self->handler_(req);
  Send(conn, resp);
  return resp.status;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              Handler handler) {
  mg_init_library(0);
  std::unique_ptr<HttpServer> s(new HttpServer());
  s->options_ = std::move(options);
  s->handler_ = std::move(handler);
  const std::string ports = absl::StrCat(s->options_.bind_address, ":", s->options_.port);
  const std::string threads = absl::StrCat(s->options_.threads);
  const char* opts[] = {"listening_ports", ports.c_str(), "num_threads", threads.c_str(),
                        "request_timeout_ms", "30000", "enable_keep_alive", "yes", nullptr};
  mg_callbacks callbacks{};
  s->ctx_ = mg_start(&callbacks, nullptr, opts);
  if (s->ctx_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", ports));
  }
  mg_set_request_handler(s->ctx_, "/", &HttpServer::OnRequest, s.get());
  mg_server_port p[4];
  const int n = mg_get_server_ports(s->ctx_, 4, p);
  s->port_ = n > 0 ? p[0].port : s->options_.port;
  return s;
}

HttpServer::~HttpServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

}  // namespace pep::gateway
