// Hands e-mails to the administration's SMTP relay through libcurl's SMTP client (no SMTP of
// our own): one easy handle kept across messages, so the connection is reused; STARTTLS when the
// relay offers it (required with `require_tls`), authentication when a user is set.
#pragma once

#include <memory>
#include <string>

namespace pep::notify {

struct SmtpOptions {
  std::string url = "smtp://127.0.0.1:1025";  // smtp:// (STARTTLS) or smtps:// (TLS at once)
  std::string user, password;                  // empty user: no AUTH
  bool require_tls = false;                    // refuse to send in clear
  std::string ca_file;                         // verify the relay against this CA (else system)
  long timeout_ms = 30000;
  std::string helo_domain = "pepiniere.local";
};

struct SendResult {
  enum class Kind { kSent, kTemporary, kPermanent };
  Kind kind = Kind::kTemporary;
  int smtp_code = 0;  // the relay's last reply code, 0 when none (no connection)
  std::string error;
};

// Not thread-safe: one sender per sending thread.
class SmtpSender {
 public:
  explicit SmtpSender(SmtpOptions options);
  ~SmtpSender();
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  // `message`: the whole RFC 5322 message with CRLF line ends. 2xx after DATA: kSent; a 5xx
  // reply (recipient or message refused for good): kPermanent; anything else — 4xx, no
  // connection, a timeout, TLS trouble — kTemporary.
  SendResult Send(const std::string& from, const std::string& to, const std::string& message);

 private:
  SmtpOptions options_;
  void* curl_ = nullptr;  // CURL*
};

}  // namespace pep::notify
