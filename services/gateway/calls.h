// Route handlers that call a service: the request decoded into the RPC's message, the call made
// with gRPC's callback API (no thread waits on a backend), the answer or the error encoded back.
// Streams are relayed piece by piece, pulled by the HTTP side so a slow client slows the read.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "services/gateway/backends.h"
#include "services/gateway/http_server.h"
#include "services/gateway/router.h"
#include "services/gateway/transcode.h"

namespace pep::gateway {

struct RouteCall {
  HttpRequest req;
  Caller caller;
  PathParams params;
  const Route* route = nullptr;
  CallMetadata meta;            // deadline, principal, keys
  absl::Duration export_deadline;  // streams get their own, longer one
};
using CallPtr = std::shared_ptr<const RouteCall>;

// Retry-After the service asked for (trailing metadata x-pep-retry-after), else 1.
inline int RetryAfterOf(const grpc::ClientContext& ctx) {
  const auto& t = ctx.GetServerTrailingMetadata();
  auto it = t.find("x-pep-retry-after");
  int s = 1;
  if (it != t.end()) (void)absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &s);
  return s;
}

// A generated stub has both a class `async` and a function `async()` returning it; clang reads a
// dependent `Stub::async` as the function, so the class is named through what `async()` returns.
template <typename Stub>
using AsyncStub = std::remove_pointer_t<decltype(std::declval<Stub&>().async())>;
template <typename Stub, typename Req, typename Resp>
using AsyncUnaryRpc = void (AsyncStub<Stub>::*)(grpc::ClientContext*, const Req*, Resp*,
                                                std::function<void(grpc::Status)>);

// Calls `rpc`; `done(status, response, retry_after)` runs on a gRPC thread.
template <typename Stub, typename Req, typename Resp, typename Done>
void CallUnary(Backend& backend, Stub* stub, AsyncUnaryRpc<Stub, Req, Resp> rpc,
               const CallMetadata& meta, Req req, Done done) {
  struct State {
    grpc::ClientContext ctx;
    Req req;
    Resp resp;
  };
  if (!backend.Acquire()) {
    Resp none;
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "too many calls in flight"), none, 1);
    return;
  }
  auto st = std::make_shared<State>();
  st->req = std::move(req);
  ApplyMetadata(st->ctx, meta);
  (stub->async()->*rpc)(&st->ctx, &st->req, &st->resp,
                        [st, &backend, done = std::move(done)](grpc::Status s) mutable {
                          backend.Release();
                          done(s, st->resp, s.ok() ? 0 : RetryAfterOf(st->ctx));
                        });
}

template <typename Req, typename Resp>
struct UnaryOptions {
  std::map<std::string, std::string> rename;  // path parameter -> request field
  int ok_status = 200;
  // Before the call, e.g. an agent's listing narrowed to their own ideas.
  std::function<absl::Status(const Caller&, const PathParams&, Req&)> before;
  // After it, e.g. an agent may read only their own idea.
  std::function<absl::Status(const Caller&, const Resp&)> after;
};

// The usual route: body (or query) and path parameters -> Req, call, Resp -> JSON.
template <typename Stub, typename Req, typename Resp>
RouteHandler Unary(Backend& backend, Stub* stub, AsyncUnaryRpc<Stub, Req, Resp> rpc,
                   UnaryOptions<Req, Resp> uo = {}) {
  return [&backend, stub, rpc, uo = std::move(uo)](CallPtr call, Respond respond) {
    Req in;
    absl::Status parsed = call->route->body == Body::kJson ? ParseBody(call->req, &in)
                                                            : ParseQuery(call->req, &in);
    if (!parsed.ok()) return respond(ErrorResponse(parsed));
    BindParams(call->params, uo.rename, &in);
    if (uo.before) {
      absl::Status s = uo.before(call->caller, call->params, in);
      if (!s.ok()) return respond(ErrorResponse(s));
    }
    CallUnary(backend, stub, rpc, call->meta, std::move(in),
              [call, respond, after = uo.after, ok_status = uo.ok_status, &backend](
                  const grpc::Status& s, Resp& out, int retry_after) {
                if (!s.ok()) return respond(BackendErrorResponse(s, backend.name(), retry_after));
                if (after) {
                  absl::Status a = after(call->caller, out);
                  if (!a.ok()) return respond(ErrorResponse(a));
                }
                respond(JsonResponse(ok_status, out));
              });
  };
}

// A check that may need a backend call of its own (a juror's challenge), then the handler.
using AsyncCheck = std::function<void(CallPtr, std::function<void(absl::Status)>)>;
inline RouteHandler Guarded(RouteHandler handler, AsyncCheck check) {
  return [handler = std::move(handler), check = std::move(check)](CallPtr call, Respond respond) {
    check(call, [handler, call, respond](absl::Status s) {
      if (!s.ok()) return respond(ErrorResponse(s));
      handler(call, respond);
    });
  };
}

// A server stream relayed as a chunked body. The first message (or the end) is awaited before
// answering, so an error that comes first — not found, refused — is still a proper status; an
// error after that ends the HTTP body without its terminating chunk. A hold keeps gRPC from
// finishing the call before the last read has been seen (or the relay cancelled).
template <typename Req, typename M>
class StreamRelay final : public grpc::ClientReadReactor<M>, public BodyStream {
 public:
  using Render = std::function<std::string(const M&)>;

  template <typename Stub>
  static void Start(Backend& backend, Stub* stub,
                    void (AsyncStub<Stub>::*rpc)(grpc::ClientContext*, const Req*,
                                             grpc::ClientReadReactor<M>*),
                    const CallMetadata& meta, Req req, std::string content_type, Render render,
                    Respond respond) {
    if (!backend.Acquire()) {
      return respond(BackendErrorResponse(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "too many calls in flight"), backend.name()));
    }
    auto relay = std::shared_ptr<StreamRelay>(new StreamRelay(backend, std::move(req), std::move(render)));
    ApplyMetadata(relay->ctx_, meta);
    StreamRelay* raw = relay.get();
    {
      absl::MutexLock l(&raw->mu_);
      raw->self_ = relay;
      raw->reading_ = true;
      // The first piece decides the HTTP status.
      raw->waiting_ = [raw, respond, content_type = std::move(content_type), &backend](Piece p) {
        std::shared_ptr<StreamRelay> keep = raw->shared();
        if (!p.ok()) {
          return respond(BackendErrorResponse(
              grpc::Status(static_cast<grpc::StatusCode>(p.status().code()),
                           std::string(p.status().message())),
              backend.name()));
        }
        HttpResponse r;
        r.content_type = content_type;
        if (p->has_value() && keep != nullptr) {
          raw->PutBack(std::move(p));
          r.stream = std::move(keep);
        }
        respond(std::move(r));
      };
    }
    (stub->async()->*rpc)(&raw->ctx_, &raw->req_, raw);
    raw->AddHold();
    raw->StartRead(&raw->msg_);
    raw->StartCall();
  }

  void Next(std::function<void(Piece)> done) override {
    std::optional<Piece> now;
    bool start = false;
    {
      absl::MutexLock l(&mu_);
      if (ready_) {
        now = std::move(ready_);
        ready_.reset();
      } else if (finished_) {
        now = Final();
      } else {
        waiting_ = std::move(done);
      }
      start = !read_ended_ && !reading_;
      if (start) reading_ = true;
    }
    if (start) this->StartRead(&msg_);
    if (now) done(std::move(*now));
  }

  void Cancel() override {
    bool release = false;
    {
      absl::MutexLock l(&mu_);
      if (!reading_ && !read_ended_) {  // no read will come back to release the hold
        read_ended_ = true;
        release = true;
      }
    }
    ctx_.TryCancel();
    if (release) this->RemoveHold();
  }

  void OnReadDone(bool ok) override {
    std::function<void(Piece)> w;
    Piece p = std::optional<std::string>();
    bool ended = false, release = false;
    {
      absl::MutexLock l(&mu_);
      reading_ = false;
      ended = !ok || read_ended_;  // the end, or cancelled meanwhile
      if (ended) {
        release = !read_ended_;
        read_ended_ = true;  // the status comes with OnDone
      }
    }
    if (ended) {
      if (release) this->RemoveHold();
      return;
    }
    {
      absl::MutexLock l(&mu_);
      p = std::optional<std::string>(render_(msg_));
      if (waiting_) {
        w = std::move(waiting_);
        waiting_ = nullptr;
      } else {
        ready_ = std::move(p);
      }
    }
    if (w) w(std::move(p));
  }

  void OnDone(const grpc::Status& s) override {
    std::function<void(Piece)> w;
    Piece p = std::optional<std::string>();
    std::shared_ptr<StreamRelay> keep;  // gRPC is done with us; the HTTP side may still hold one
    {
      absl::MutexLock l(&mu_);
      finished_ = true;
      final_ = s;
      if (waiting_ && !ready_) {
        w = std::move(waiting_);
        waiting_ = nullptr;
        p = Final();
      }
      keep = std::move(self_);
    }
    backend_.Release();
    if (w) w(std::move(p));
  }

 private:
  StreamRelay(Backend& backend, Req req, Render render)
      : backend_(backend), render_(std::move(render)), req_(std::move(req)) {}
  std::shared_ptr<StreamRelay> shared() {
    absl::MutexLock l(&mu_);
    return self_;
  }
  void PutBack(Piece p) {
    absl::MutexLock l(&mu_);
    ready_ = std::move(p);
  }
  Piece Final() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (final_.ok()) return std::optional<std::string>();
    return absl::Status(static_cast<absl::StatusCode>(final_.error_code()), final_.error_message());
  }

  Backend& backend_;
  Render render_;
  grpc::ClientContext ctx_;
  Req req_;  // must outlive the call
  M msg_;
  absl::Mutex mu_;
  std::shared_ptr<StreamRelay> self_ ABSL_GUARDED_BY(mu_);  // alive until OnDone
  std::function<void(Piece)> waiting_ ABSL_GUARDED_BY(mu_);
  std::optional<Piece> ready_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool read_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
};

// The usual streaming route: query and path parameters -> Req, each message rendered as a piece.
template <typename Stub, typename Req, typename M>
RouteHandler Streaming(Backend& backend, Stub* stub,
                       void (AsyncStub<Stub>::*rpc)(grpc::ClientContext*, const Req*,
                                                grpc::ClientReadReactor<M>*),
                       std::map<std::string, std::string> rename,
                       std::function<std::string(const Req&)> content_type,
                       std::function<std::string(const M&)> render) {
  return [&backend, stub, rpc, rename, content_type, render](CallPtr call, Respond respond) {
    Req in;
    absl::Status parsed = ParseQuery(call->req, &in);
    if (!parsed.ok()) return respond(ErrorResponse(parsed));
    BindParams(call->params, rename, &in);
    CallMetadata meta = call->meta;
    meta.deadline = call->export_deadline;
    const std::string type = content_type(in);
    StreamRelay<Req, M>::Start(backend, stub, rpc, meta, std::move(in), type, render,
                               std::move(respond));
  };
}

}  // namespace pep::gateway
