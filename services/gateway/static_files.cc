#include "services/gateway/static_files.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/gateway/transcode.h"

namespace pep::gateway {

HttpResponse StaticFiles::Serve(const HttpRequest& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no route for ", req.path));
  }
  std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
  if (absl::StrContains(rel, "..") || rel.empty() || absl::StrContains(rel, "//") ||
      rel.find('\0') != std::string::npos) {
    return ErrorResponse(grpc::StatusCode::NOT_FOUND, "no such file");
  }
  // Unknown paths without an extension are console pages (client-side routing).
  if (rel.find('.') == std::string::npos) rel = "index.html";
  std::ifstream f(dir_ + "/" + rel, std::ios::binary);
  if (!f) return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no such file: ", rel));
  HttpResponse r;
  r.body.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  r.content_type = absl::EndsWith(rel, ".html") ? "text/html; charset=utf-8"
                   : absl::EndsWith(rel, ".js") ? "text/javascript; charset=utf-8"
                   : absl::EndsWith(rel, ".css") ? "text/css; charset=utf-8"
                   : absl::EndsWith(rel, ".svg") ? "image/svg+xml"
                                                 : "application/octet-stream";
  r.headers["Cache-Control"] = "no-cache";
  return r;
}

}  // namespace pep::gateway
