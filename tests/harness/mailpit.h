// A real SMTP server for tests: Mailpit (built from the Go module proxy by
// deploy/local/lib/install-deps.sh into $PEP_TOOLS_DIR, default ~/.cache/pepiniere/bin) on free
// 127.0.0.1 ports with its own database, and its HTTP API read back: what arrived, to whom,
// with which Message-ID, headers and text.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/harness.h"

namespace pep::testing {

struct MailpitMessage {
  std::string id;          // Mailpit's own id
  std::string message_id;  // the Message-ID header, without <>
  std::string to;          // first recipient's address
  std::string subject;     // decoded
};

class Mailpit {
 public:
  // `extra_args`: more mailpit flags (--smtp-allowed-recipients …).
  explicit Mailpit(std::vector<std::string> extra_args = {});
  ~Mailpit();
  void Start();  // on the same ports and database as before
  void Stop();   // SIGTERM; returns once it exited
  int smtp_port() const { return smtp_port_; }
  int http_port() const { return http_port_; }
  std::string smtp_url() const { return "smtp://127.0.0.1:" + std::to_string(smtp_port_); }
  std::string log_path() const { return dir_.path() + "/mailpit.log"; }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }  // every thread of it: /proc/<pid>/task

  std::vector<MailpitMessage> Messages();  // every message, newest first
  // Headers of a message: name -> values.
  std::map<std::string, std::vector<std::string>> Headers(const std::string& id);
  std::string Text(const std::string& id);  // the text/plain part, decoded
  std::string Html(const std::string& id);
  // Messages per recipient address.
  std::map<std::string, int> CountByRecipient();

  static std::string Binary();

 private:
  TempDir dir_;
  std::vector<std::string> extra_args_;
  int smtp_port_, http_port_;
  std::unique_ptr<ChildProcess> proc_;
};

}  // namespace pep::testing
