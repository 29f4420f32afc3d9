// The web console's files, read from --console_dir on each request (small, and edits show at once); unknown paths
// without an extension are console pages (client-side routing) and get index.html.
#pragma once

#include <map>
#include <string>

#include "services/gateway/http_server.h"

namespace pep::gateway {

class StaticFiles {
 public:
  explicit StaticFiles(std::string dir) : dir_(std::move(dir)) {}
  HttpResponse Serve(const HttpRequest& req) const;
  // The assets' base as the console's index.html names it ("/assets/<hash>"), for the public
  // pages the gateway writes itself; "/assets" when there is no console.
  std::string AssetsBase() const;

 private:
  std::string dir_;
};

}  // namespace pep::gateway
