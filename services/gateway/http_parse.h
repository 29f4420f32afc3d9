// The head of a request as Beast parsed it, made into the handler's HttpRequest: shared by the
// server's sessions (http_server.cc) and ParseHttpRequest (its own file, without coroutines, so
// the fuzz build can instrument it: clang 14 cannot emit coverage or debug tables for the
// server's coroutine frames).
#pragma once

#include <boost/beast/http.hpp>
#include <string>

#include "services/gateway/http_server.h"

namespace pep::gateway {

HttpRequest HeadOf(const boost::beast::http::request<boost::beast::http::string_body>& m,
                   const std::string& peer, bool tls);

}  // namespace pep::gateway
