// The gateway's HTTP/1.1 server: Boost.Beast over Asio with C++20 coroutines. A few threads
// (one io_context each) serve thousands of kept-alive connections; TCP_NODELAY and one write
// per response; idle, header, body and write timeouts per connection (a slowloris cannot hold
// anything); a connection cap; per-route body limits read from the head before the body; TLS
// when given a certificate; security headers on every answer; HEAD without a body; graceful
// drain. The handler is asynchronous: it answers through `Respond`, from any thread.
#pragma once

#include <any>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace prometheus {
class Registry;
}

namespace pep::gateway {

struct HttpRequest {
  std::string method;
  std::string path;                               // URL-decoded, without the query
  std::string raw_path;                           // as sent (still percent-encoded)
  std::multimap<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;     // names lower-cased; repeats joined by ", "
  std::string body;
  std::string peer_addr;    // the TCP peer
  std::string client_addr;  // the client as far as trusted proxies say (set by the gateway)
  bool tls = false;
  std::any admitted;        // what the server's Admit decided from the head, for the handler
  const std::string* Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
  std::string Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? "" : it->second;
  }
};

// A streamed (chunked) body, pulled one piece at a time so a slow client slows the source.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // A piece of body, std::nullopt at a clean end, or an error: then the connection is closed
  // without the terminating chunk, so the client knows the body is incomplete. `done` may run
  // on any thread; Next is not called again before it has run.
  using Piece = absl::StatusOr<std::optional<std::string>>;
  virtual void Next(std::function<void(Piece)> done) = 0;
  // The client went away (or the request was HEAD): stop producing. May be called at any time.
  virtual void Cancel() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::map<std::string, std::string> headers;
  std::shared_ptr<BodyStream> stream;  // when set, the body is streamed instead of `body`
};

// Answers a request exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 8080;  // 0: pick a free one
  int threads = 2;  // io threads, one io_context each
  int max_connections = 16384;  // past it, a short 503 and close
  absl::Duration idle_timeout = absl::Seconds(75);    // a kept-alive connection waiting
  absl::Duration header_timeout = absl::Seconds(10);  // first byte to end of the head
  absl::Duration body_timeout = absl::Seconds(60);    // end of head to end of body
  absl::Duration write_timeout = absl::Seconds(60);   // each write of an answer
  size_t max_header_bytes = 16 << 10;
  // Request bodies buffered at once over every connection (each counted from its head's
  // Content-Length, or its limit when chunked); past it, a 503 with Retry-After before any
  // byte of that body is read.
  size_t max_body_bytes_in_flight = 256u << 20;
  // TLS: both set, or neither (plain HTTP, for 127.0.0.1 and behind a TLS proxy).
  std::string tls_cert_file, tls_key_file;
  prometheus::Registry* registry = nullptr;  // connection metrics, when given
  std::string form_action;  // extra CSP form-action sources (the OpenID provider's origin)
};

class HttpServer {
 public:
  using Handler = std::function<void(HttpRequest, Respond)>;
  // What to do with a request whose head has been read, decided before any byte of its body
  // is: read a body of at most `body_limit` bytes and give `request` (the head, with what the
  // decision wants the handler to know in `admitted`) to the handler; or send `answer` at once.
  struct Admission {
    HttpRequest request;
    size_t body_limit = 0;
    std::optional<HttpResponse> answer;
  };
  // `done` may run on any thread (the decision may need a database), exactly once.
  using Admit = std::function<void(HttpRequest head, std::function<void(Admission)> done)>;

  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           Handler handler, Admit admit);
  ~HttpServer();  // stops at once; call Drain first for a graceful stop
  int port() const;
  bool tls() const;
  // Stops accepting, closes idle connections, lets requests in progress finish (their answers
  // say Connection: close), and waits until every connection is gone or `grace` has passed.
  // Returns the connections still open at the end.
  int Drain(absl::Duration grace);
  int open_connections() const;

  class Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// One request read from `bytes` by the server's parser (Beast) with its limits, head and body as
// the handler is given them: for tests and the fuzzer (tests/fuzz). A bad request names why.
absl::StatusOr<HttpRequest> ParseHttpRequest(std::string_view bytes, size_t max_header_bytes,
                                             size_t max_body_bytes);
// "%41b" -> "Ab"; '+' -> ' ' when `form` (query strings).
std::string UrlDecode(std::string_view s, bool form);
std::string ReasonPhrase(int status);
// The headers every answer carries (CSP, nosniff, referrer policy; HSTS over TLS).
// `form_action`: more sources for the CSP's form-action (the OpenID provider, where the logout
// form's redirect ends).
void AddSecurityHeaders(std::map<std::string, std::string>& headers, bool tls,
                        const std::string& form_action = "");

}  // namespace pep::gateway
