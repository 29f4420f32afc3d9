#include "services/gateway/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/gateway/http_parse.h"

namespace pep::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;

std::string UrlDecode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size() && absl::ascii_isxdigit(s[i + 1]) &&
        absl::ascii_isxdigit(s[i + 2])) {
      auto hex = [](char h) { return absl::ascii_isdigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10; };
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
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
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  return reason.empty() ? "Status" : std::string(reason);
}

void AddSecurityHeaders(std::map<std::string, std::string>& h, bool tls,
                        const std::string& form_action) {
  h.emplace("Content-Security-Policy",
            absl::StrCat("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                         "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                         "form-action 'self'", form_action.empty() ? "" : " ", form_action));
  h.emplace("X-Content-Type-Options", "nosniff");
  // same-origin: the console's own form posts carry their Origin (the CSRF check needs it);
  // other sites learn nothing of our URLs.
  h.emplace("Referrer-Policy", "same-origin");
  h.emplace("X-Frame-Options", "DENY");
  if (tls) h.emplace("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

namespace {

constexpr auto kAwait = asio::use_awaitable;

// Runs `start(callback)` and resumes the awaiting coroutine, on its own executor, with the value
// the callback is given (from any thread). gcc 12 destroys a non-trivial temporary inside a
// co_await expression twice, so callers pass named values (std::move'd) only.
template <typename T, typename Start>
auto AwaitCallback(Start start) {
  return asio::async_initiate<decltype(kAwait), void(T)>(
      [start = std::move(start)](auto completion) mutable {
        using C = decltype(completion);
        auto ex = asio::get_associated_executor(completion);
        auto holder = std::make_shared<std::optional<C>>(std::move(completion));
        start(std::function<void(T)>([ex, holder](T value) {
          asio::post(ex, [holder, value = std::move(value)]() mutable {
            if (!holder->has_value()) return;
            C c = std::move(**holder);
            holder->reset();
            std::move(c)(std::move(value));
          });
        }));
      },
      kAwait);
}

// A request body's share of HttpServerOptions::max_body_bytes_in_flight, given back when the
// request is answered or its connection ends (a coroutine frame's local: every exit releases).
class BodyReservation {
 public:
  BodyReservation(std::atomic<size_t>& total, size_t bytes) : total_(total), bytes_(bytes) {}
  ~BodyReservation() { Release(); }
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  size_t bytes() const { return bytes_; }
  bool Take(size_t budget) {
    size_t now = total_.load();
    do {
      if (now + bytes_ > budget) return false;
    } while (!total_.compare_exchange_weak(now, now + bytes_));
    taken_ = true;
    return true;
  }
  void Release() {
    if (taken_) total_.fetch_sub(bytes_);
    taken_ = false;
  }

 private:
  std::atomic<size_t>& total_;
  size_t bytes_;
  bool taken_ = false;
};

// One connection as the drain sees it; touched only on the connection's executor.
struct Conn {
  bool idle = true;
  std::function<void()> close;  // cancels the socket's pending operation
};

std::string ErrorJson(int code, const std::string& message) {
  return absl::StrCat(R"({"code":)", code, R"(,"message":")", JsonEscape(message),
                      R"(","details":[]})");
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(HttpServerOptions o, Handler h, Admit a)
      : o_(std::move(o)), handler_(std::move(h)), admit_(std::move(a)) {}

  absl::Status Start() {
    const int n = std::max(1, o_.threads);
    for (int i = 0; i < n; ++i) {
      iocs_.push_back(std::make_unique<asio::io_context>(1));
      work_.emplace_back(asio::make_work_guard(*iocs_.back()));
    }
    if (!o_.tls_cert_file.empty() || !o_.tls_key_file.empty()) {
      if (o_.tls_cert_file.empty() || o_.tls_key_file.empty()) {
        return absl::InvalidArgumentError("tls_cert_file and tls_key_file go together");
      }
      ssl_.emplace(asio::ssl::context::tls_server);
      beast::error_code ec;
      ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
      ssl_->use_certificate_chain_file(o_.tls_cert_file, ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("tls_cert_file: ", ec.message()));
      ssl_->use_private_key_file(o_.tls_key_file, asio::ssl::context::pem, ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("tls_key_file: ", ec.message()));
    }
    beast::error_code ec;
    const auto address = asio::ip::make_address(o_.bind_address, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("bind_address: ", ec.message()));
    acceptor_.emplace(*iocs_[0]);
    const tcp::endpoint ep(address, static_cast<unsigned short>(o_.port));
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", o_.bind_address, ":", o_.port, ": ", ec.message()));
    }
    port_ = acceptor_->local_endpoint().port();
    if (o_.registry != nullptr) {
      open_gauge_ = &prometheus::BuildGauge()
                         .Name("pep_http_open_connections")
                         .Help("HTTP connections open now")
                         .Register(*o_.registry)
                         .Add({});
      auto& closes = prometheus::BuildCounter()
                         .Name("pep_http_connections_closed_total")
                         .Help("HTTP connections closed by the server, by reason")
                         .Register(*o_.registry);
      for (const char* r : {"refused_over_cap", "header_timeout", "body_timeout", "write_timeout",
                            "idle_timeout", "bad_request", "too_large", "stream_failed",
                            "answered_from_head", "bodies_over_budget"}) {
        closes_[r] = &closes.Add({{"reason", r}});
      }
    }
    std::shared_ptr<Impl> self = shared_from_this();  // a named value: see AwaitCallback
    asio::co_spawn(*iocs_[0], AcceptLoop(self), asio::detached);
    for (auto& ioc : iocs_) threads_.emplace_back([io = ioc.get()] { io->run(); });
    return absl::OkStatus();
  }

  void Stop() {
    for (auto& w : work_) w.reset();
    for (auto& ioc : iocs_) ioc->stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
    // Suspended coroutines hold this object: destroying them breaks the cycle (the caller
    // keeps its own reference meanwhile).
    acceptor_.reset();
    {
      absl::MutexLock l(&mu_);
      conns_.clear();
    }
    work_.clear();
    auto iocs = std::move(iocs_);
    iocs.clear();
  }

  int Drain(absl::Duration grace) {
    draining_ = true;
    asio::post(*iocs_[0], [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_->close(ec);
    });
    std::vector<std::pair<asio::any_io_executor, std::shared_ptr<Conn>>> conns;
    {
      absl::MutexLock l(&mu_);
      for (const auto& [c, ex] : conns_) conns.emplace_back(ex, c);
    }
    for (auto& [ex, c] : conns) {
      asio::post(ex, [c = c] {
        if (c->idle && c->close) c->close();
      });
    }
    const absl::Time until = absl::Now() + grace;
    while (open_.load() > 0 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
    return open_.load();
  }

  int port() const { return port_; }
  bool tls() const { return ssl_.has_value(); }
  int open() const { return open_.load(); }

 private:
  void Count(const char* reason) {
    if (auto it = closes_.find(reason); it != closes_.end()) it->second->Increment();
  }

  static awaitable<void> AcceptLoop(std::shared_ptr<Impl> self) {
    size_t next = 0;
    asio::steady_timer pause(*self->iocs_[0]);
    while (!self->draining_) {
      asio::io_context& ioc = *self->iocs_[next++ % self->iocs_.size()];
      beast::error_code ec;
      tcp::socket sock = co_await self->acceptor_->async_accept(
          ioc, asio::redirect_error(kAwait, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !self->acceptor_->is_open()) co_return;
        // Out of descriptors or memory: give the open connections a moment to finish.
        pause.expires_after(std::chrono::milliseconds(20));
        co_await pause.async_wait(asio::redirect_error(kAwait, ec));
        continue;
      }
      if (self->open_.load() >= self->o_.max_connections) {
        self->RefuseOverCap(sock);
        continue;
      }
      sock.set_option(tcp::no_delay(true), ec);
      self->open_.fetch_add(1);
      if (self->open_gauge_ != nullptr) self->open_gauge_->Increment();
      asio::co_spawn(ioc, Serve(self, std::move(sock)), asio::detached);
    }
  }

  void RefuseOverCap(tcp::socket& sock) {
    Count("refused_over_cap");
    const std::string body = ErrorJson(14, "too many connections: retry shortly");
    const std::string resp = absl::StrCat(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Content-Length: ", body.size(), "\r\nRetry-After: 1\r\nX-Content-Type-Options: nosniff\r\n"
        "Connection: close\r\n\r\n", body);
    beast::error_code ec;
    sock.non_blocking(true, ec);
    sock.write_some(asio::buffer(resp), ec);
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }

  void Register(const std::shared_ptr<Conn>& c, asio::any_io_executor ex) {
    absl::MutexLock l(&mu_);
    conns_.emplace(c, std::move(ex));
  }
  void Unregister(const std::shared_ptr<Conn>& c) {
    absl::MutexLock l(&mu_);
    conns_.erase(c);
  }

  static awaitable<void> Serve(std::shared_ptr<Impl> self, tcp::socket sock) {
    auto conn = std::make_shared<Conn>();
    self->Register(conn, co_await asio::this_coro::executor);
    beast::error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    std::string peer = ec ? "" : remote.address().to_string();
    if (peer.rfind("::ffff:", 0) == 0) peer = peer.substr(7);  // IPv4-mapped
    if (self->ssl_) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(sock), *self->ssl_);
      conn->close = [&stream] { beast::get_lowest_layer(stream).cancel(); };
      beast::get_lowest_layer(stream).expires_after(ToChrono(self->o_.header_timeout));
      co_await stream.async_handshake(asio::ssl::stream_base::server,
                                      asio::redirect_error(kAwait, ec));
      if (!ec) {
        co_await self->Session(stream, *conn, peer, true);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(asio::redirect_error(kAwait, ec));
      }
      conn->close = nullptr;
    } else {
      beast::tcp_stream stream(std::move(sock));
      conn->close = [&stream] { stream.cancel(); };
      co_await self->Session(stream, *conn, peer, false);
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      conn->close = nullptr;
    }
    self->Unregister(conn);
    self->open_.fetch_sub(1);
    if (self->open_gauge_ != nullptr) self->open_gauge_->Decrement();
  }

  static std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(absl::ToChronoNanoseconds(d));
  }

  // Serves requests on one connection until it closes, times out or the server drains.
  template <typename Stream>
  awaitable<void> Session(Stream& stream, Conn& conn, const std::string& peer, bool tls) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (true) {
      conn.idle = true;
      if (draining_) co_return;
      if (buffer.size() == 0) {  // wait for the next request (idle keep-alive)
        tcp_layer.expires_after(ToChrono(o_.idle_timeout));
        const size_t n = co_await stream.async_read_some(buffer.prepare(4096),
                                                         asio::redirect_error(kAwait, ec));
        if (ec) {
          if (ec == beast::error::timeout) Count("idle_timeout");
          co_return;
        }
        buffer.commit(n);
      }
      conn.idle = false;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(o_.max_header_bytes));
      // The body's limit is the admission's, applied once the head is read (Beast's default, 1 MB,
      // would refuse a larger Content-Length as a malformed head: a 32 MiB import never got in).
      parser.body_limit(boost::none);
      tcp_layer.expires_after(ToChrono(o_.header_timeout));
      co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(kAwait, ec));
      if (ec) {
        if (ec == beast::error::timeout) {
          Count("header_timeout");
        } else if (ec == http::error::header_limit) {
          Count("too_large");
          const std::string why = "request head is larger than the limit";
          co_await WriteError(stream, 431, why, tls);
        } else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                   ec != asio::error::operation_aborted && ec != asio::error::connection_reset) {
          Count("bad_request");
          const std::string why = absl::StrCat("malformed HTTP request: ", ec.message());
          co_await WriteError(stream, 400, why, tls);
        }
        co_return;
      }
      const bool head_only = parser.get().method() == http::verb::head;
      // Decided from the head alone (route, caller, limit), before any byte of body is read.
      auto admit_call = [this, head = HeadOf(parser.get(), peer, tls)](
                            std::function<void(Admission)> done) mutable {
        admit_(std::move(head), std::move(done));
      };
      Admission admitted = co_await AwaitCallback<Admission>(std::move(admit_call));
      if (admitted.answer) {
        // Its body (if any) is not read: the connection can be reused only when there is none.
        const bool keep = parser.is_done() && parser.get().keep_alive() && !draining_;
        const bool ok = co_await WriteResponse(stream, *admitted.answer, parser.get().version(), keep,
                                               head_only, tls);
        if (!parser.is_done()) {
          Count("answered_from_head");
          co_await Linger(stream);
        }
        if (!ok || !keep) co_return;
        continue;
      }
      HttpRequest req = std::move(admitted.request);
      const size_t limit = admitted.body_limit;
      if (parser.content_length() && *parser.content_length() > limit) {
        Count("too_large");
        const std::string why = absl::StrCat("request body is larger than ", limit, " bytes");
        co_await WriteError(stream, 413, why, tls);
        co_await Linger(stream);  // the body is not read: the connection cannot be reused
        co_return;
      }
      // The bytes this body may hold, reserved against every connection's until it is answered.
      BodyReservation reserved(bodies_in_flight_,
                               parser.is_done() ? 0 : parser.content_length().value_or(limit));
      if (reserved.bytes() > 0 && !reserved.Take(o_.max_body_bytes_in_flight)) {
        Count("bodies_over_budget");
        HttpResponse busy;
        busy.status = 503;
        busy.body = ErrorJson(14, "the gateway is receiving too many request bodies at once; retry shortly");
        busy.headers["Retry-After"] = "1";
        co_await WriteResponse(stream, busy, parser.get().version(), false, false, tls);
        co_await Linger(stream);
        co_return;
      }
      parser.body_limit(limit);
      if (!parser.is_done()) {
        if (const std::string* e = req.Header("expect"); e != nullptr && absl::EqualsIgnoreCase(*e, "100-continue")) {
          static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
          tcp_layer.expires_after(ToChrono(o_.write_timeout));
          co_await asio::async_write(stream, asio::buffer(kContinue, sizeof kContinue - 1),
                                     asio::redirect_error(kAwait, ec));
          if (ec) co_return;
        }
        tcp_layer.expires_after(ToChrono(o_.body_timeout));
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(kAwait, ec));
        if (ec) {
          if (ec == http::error::body_limit) {
            Count("too_large");
            const std::string why = absl::StrCat("request body is larger than ", limit, " bytes");
            co_await WriteError(stream, 413, why, tls);
            co_await Linger(stream);
          } else if (ec == beast::error::timeout) {
            Count("body_timeout");
          }
          co_return;
        }
      }
      req.body = std::move(parser.get().body());
      const bool client_keep_alive = parser.get().keep_alive();
      const unsigned version = parser.get().version();
      tcp_layer.expires_never();  // the handler's own deadlines bound the wait
      // Named, not a temporary inside the co_await expression: gcc 12 destroys those twice.
      auto call_handler = [this, req = std::move(req)](std::function<void(HttpResponse)> done) mutable {
        handler_(std::move(req), std::move(done));
      };
      HttpResponse resp = co_await AwaitCallback<HttpResponse>(std::move(call_handler));
      const bool keep = client_keep_alive && !draining_;
      const bool ok = co_await WriteResponse(stream, resp, version, keep, head_only, tls);
      reserved.Release();
      if (!ok || !keep) co_return;
      // A long idle connection should not keep a large buffer.
      if (buffer.size() == 0 && buffer.capacity() > 64 * 1024) buffer = beast::flat_buffer();
    }
  }

  // After answering a request whose body we will not read: stop sending, then swallow what the
  // client is still sending (bounded) so closing does not reset the connection before the client
  // has read the answer.
  template <typename Stream>
  awaitable<void> Linger(Stream& stream) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::error_code ec;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ec);
    tcp_layer.expires_after(std::chrono::seconds(2));
    std::vector<char> sink(16384);
    size_t total = 0;
    while (!ec && total < (8u << 20)) {
      total += co_await tcp_layer.async_read_some(asio::buffer(sink), asio::redirect_error(kAwait, ec));
    }
  }

  template <typename Stream>
  awaitable<void> WriteError(Stream& stream, int status, const std::string& message, bool tls) {
    HttpResponse r;
    r.status = status;
    r.body = ErrorJson(status == 413 || status == 431 ? 8 : 3, message);
    co_await WriteResponse(stream, r, 11, false, false, tls);
  }

  // Writes an answer; false when the connection must close (write failed, stream broke).
  template <typename Stream>
  awaitable<bool> WriteResponse(Stream& stream, HttpResponse& r, unsigned version, bool keep,
                                bool head_only, bool tls) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::error_code ec;
    AddSecurityHeaders(r.headers, tls, o_.form_action);
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep);
    tcp_layer.expires_after(ToChrono(o_.write_timeout));
    if (!r.stream) {
      res.body() = std::move(r.body);
      res.prepare_payload();
      if (head_only) {
        http::response<http::empty_body> h{std::move(res.base())};
        co_await http::async_write(stream, h, asio::redirect_error(kAwait, ec));
      } else {
        co_await http::async_write(stream, res, asio::redirect_error(kAwait, ec));
      }
      if (ec == beast::error::timeout) Count("write_timeout");
      co_return !ec;
    }
    http::response<http::empty_body> h{std::move(res.base())};
    h.chunked(true);
    http::response_serializer<http::empty_body> sr{h};
    co_await http::async_write_header(stream, sr, asio::redirect_error(kAwait, ec));
    if (ec || head_only) {
      r.stream->Cancel();
      co_return !ec && head_only;
    }
    while (true) {
      auto next = [s = r.stream](std::function<void(BodyStream::Piece)> done) { s->Next(std::move(done)); };
      BodyStream::Piece piece = co_await AwaitCallback<BodyStream::Piece>(std::move(next));
      if (!piece.ok()) {  // no terminating chunk: the client sees an incomplete body
        Count("stream_failed");
        LogWarn("stream cut short", {{"error", std::string(piece.status().message())}});
        co_return false;
      }
      tcp_layer.expires_after(ToChrono(o_.write_timeout));
      if (!piece->has_value()) {
        co_await asio::async_write(stream, http::make_chunk_last(), asio::redirect_error(kAwait, ec));
        co_return !ec;
      }
      if ((*piece)->empty()) continue;
      co_await asio::async_write(stream, http::make_chunk(asio::buffer(**piece)),
                                 asio::redirect_error(kAwait, ec));
      if (ec) {
        if (ec == beast::error::timeout) Count("write_timeout");
        r.stream->Cancel();
        co_return false;
      }
    }
  }

  HttpServerOptions o_;
  Handler handler_;
  Admit admit_;
  std::atomic<size_t> bodies_in_flight_{0};  // bytes reserved by bodies being read or handled
  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::ssl::context> ssl_;
  int port_ = 0;
  std::atomic<int> open_{0};
  std::atomic<bool> draining_{false};
  absl::Mutex mu_;
  std::map<std::shared_ptr<Conn>, asio::any_io_executor> conns_ ABSL_GUARDED_BY(mu_);
  prometheus::Gauge* open_gauge_ = nullptr;
  std::map<std::string, prometheus::Counter*> closes_;
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              Handler handler, Admit admit) {
  auto impl = std::make_shared<Impl>(std::move(options), std::move(handler), std::move(admit));
  if (absl::Status s = impl->Start(); !s.ok()) {
    impl->Stop();
    return s;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() {
  std::shared_ptr<Impl> keep = std::move(impl_);
  keep->Stop();
}
int HttpServer::port() const { return impl_->port(); }
bool HttpServer::tls() const { return impl_->tls(); }
int HttpServer::Drain(absl::Duration grace) { return impl_->Drain(grace); }
int HttpServer::open_connections() const { return impl_->open(); }

}  // namespace pep::gateway
