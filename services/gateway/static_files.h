// The web console's files, read from --console_dir on each request (small, and edits show at once); unknown paths
// without an extension are console pages (client-side routing) and get index.html.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"

#include "services/gateway/http_server.h"

namespace pep::gateway {

class StaticFiles {
 public:
  explicit StaticFiles(std::string dir) : dir_(std::move(dir)) {}
  HttpResponse Serve(const HttpRequest& req) const;
  // The assets' base as the console's index.html names it ("/assets/<hash>"), for the public
  // pages the gateway writes itself; "/assets" when there is no console. Read again at most
  // once a second (a rebuilt console shows within it; a page does not read a file each time).
  std::string AssetsBase() const;

 private:
  std::string ReadAssetsBase() const;

  std::string dir_;
  mutable std::mutex mu_;
  mutable std::string assets_base_;
  mutable absl::Time assets_read_ = absl::InfinitePast();
};

}  // namespace pep::gateway
