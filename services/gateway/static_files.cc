#include "services/gateway/static_files.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/gateway/transcode.h"

namespace pep::gateway {

namespace {

std::string ContentType(const std::string& rel) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".woff2", "font/woff2"},              {".woff", "font/woff"},
      {".png", "image/png"},                 {".ico", "image/x-icon"},
      {".webmanifest", "application/manifest+json"}, {".json", "application/json"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (absl::EndsWith(rel, ext)) return type;
  }
  return "application/octet-stream";
}

}  // namespace

HttpResponse StaticFiles::Serve(const HttpRequest& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no route for ", req.path));
  }
  std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
  if (absl::StrContains(rel, "..") || rel.empty() || absl::StrContains(rel, "//") ||
      rel.find('\0') != std::string::npos) {
    return ErrorResponse(grpc::StatusCode::NOT_FOUND, "no such file");
  }
  // Assets are named by the hash of their content (console/build.mjs): a browser may keep them
  // for a year without asking again. Unknown paths without an extension are console pages
  // (client-side routing): the HTML, which names the assets, is revalidated every time.
  const bool asset = absl::StartsWith(rel, "assets/");
  if (!asset && rel.find('.') == std::string::npos) rel = "index.html";
  std::ifstream f(dir_ + "/" + rel, std::ios::binary);
  if (!f) return ErrorResponse(grpc::StatusCode::NOT_FOUND, absl::StrCat("no such file: ", rel));
  HttpResponse r;
  r.body.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  r.content_type = ContentType(rel);
  r.headers["Cache-Control"] = asset ? "public, max-age=31536000, immutable" : "no-cache";
  return r;
}

std::string StaticFiles::AssetsBase() const {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (now - assets_read_ < absl::Seconds(1)) return assets_base_;
  }
  std::string base = ReadAssetsBase();
  std::lock_guard<std::mutex> l(mu_);
  assets_base_ = base;
  assets_read_ = now;
  return base;
}

std::string StaticFiles::ReadAssetsBase() const {
  std::ifstream f(dir_ + "/index.html", std::ios::binary);
  const std::string html((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t link = html.find("href=\"/assets/");  // the first link, not a comment about them
  if (link == std::string::npos) return "/assets";
  const size_t at = link + 6;
  const size_t end = html.find('/', at + 8);
  return end == std::string::npos ? "/assets" : html.substr(at, end - at);
}

}  // namespace pep::gateway
