// libcurl's SMTP client, one handle reused (see smtp_sender.h).
#include "services/notify/smtp_sender.h"

#include <curl/curl.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace pep::notify {

namespace {

struct Upload {
  const std::string* data;
  size_t at = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t len = std::min(size * n, u->data->size() - u->at);
  std::memcpy(buf, u->data->data() + u->at, len);
  u->at += len;
  return len;
}

}  // namespace

SmtpSender::SmtpSender(SmtpOptions options) : options_(std::move(options)) {
  static const bool init = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)init;
  curl_ = curl_easy_init();
}

SmtpSender::~SmtpSender() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

SendResult SmtpSender::Send(const std::string& from, const std::string& to,
                            const std::string& message) {
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) return {SendResult::Kind::kTemporary, 0, "curl_easy_init failed"};
  // Options are set again each time (a reset handle keeps its connection cache).
  curl_easy_reset(c);
  const std::string url = absl::StrCat(options_.url, "/", options_.helo_domain);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_USE_SSL, options_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const std::string mail_from = absl::StrCat("<", from, ">");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  const std::string rcpt = absl::StrCat("<", to, ">");
  curl_slist* rcpts = curl_slist_append(nullptr, rcpt.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
  Upload up{&message};
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(options_.timeout_ms, 10000L));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(rcpts);
  SendResult r;
  r.smtp_code = static_cast<int>(code);
  if (rc == CURLE_OK) {
    r.kind = SendResult::Kind::kSent;
    return r;
  }
  r.error = absl::StrCat(curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
  r.kind = code >= 500 && code < 600 ? SendResult::Kind::kPermanent : SendResult::Kind::kTemporary;
  return r;
}

}  // namespace pep::notify
