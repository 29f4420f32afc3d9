// A small HTTP/1.1 server over civetweb (already on the machine as prometheus-cpp's exposer):
// one handler for every request, bodies size-limited before they are read.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct mg_context;
struct mg_connection;

namespace pep::gateway {

struct HttpRequest {
  std::string method;
  std::string path;                           // URL-decoded, without the query
  std::multimap<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;     // names lower-cased
  std::string body;
  std::string remote_addr;
  const std::string* Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
  std::string Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::map<std::string, std::string> headers;
  // When set, the body is streamed (chunked) instead: `produce` is called once, after the
  // headers went out, with a writer that returns false when the client is gone.
  using Writer = std::function<bool(std::string_view)>;
  std::function<void(const Writer&)> produce;
};

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 8080;  // 0: pick a free one
  size_t max_body_bytes = 1 << 20;
  int threads = 16;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           Handler handler);
  ~HttpServer();
  int port() const { return port_; }

 private:
  HttpServer() = default;
  static int OnRequest(mg_connection* conn, void* self);
  HttpServerOptions options_;
  Handler handler_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

// "%41b" -> "Ab"; '+' -> ' ' when `form` (query strings).
std::string UrlDecode(std::string_view s, bool form);
std::string ReasonPhrase(int status);

}  // namespace pep::gateway
