#include "harness/mailpit.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace pep::testing {

namespace {

google::protobuf::Struct Json(const std::string& body) {
  google::protobuf::Struct s;
  auto st = google::protobuf::util::JsonStringToMessage(body, &s);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << body.substr(0, 300);
  return s;
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

}  // namespace

std::string Mailpit::Binary() {
  const char* tools = std::getenv("PEP_TOOLS_DIR");
  return absl::StrCat(tools != nullptr ? std::string(tools)
                                       : std::string(std::getenv("HOME")) + "/.cache/pepiniere/bin",
                      "/mailpit");
}

Mailpit::Mailpit(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)), smtp_port_(FreePort()), http_port_(FreePort()) {
  Start();
}

Mailpit::~Mailpit() { Stop(); }

void Mailpit::Start() {
  proc_ = std::make_unique<ChildProcess>();
  std::vector<std::string> argv = {Binary(),
                                   "--smtp", absl::StrCat("127.0.0.1:", smtp_port_),
                                   "--listen", absl::StrCat("127.0.0.1:", http_port_),
                                   "--database", dir_.path() + "/mailpit.db",
                                   "--max", "0",  // keep every message
                                   "--smtp-disable-rdns",
                                   "--disable-version-check"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  proc_->Start(argv, {}, log_path());
  ASSERT_TRUE(WaitFor([&] { return (PortAccepts(smtp_port_) && PortAccepts(http_port_)) ||
                                   !proc_->Running(); },
                      absl::Seconds(30)));
  ASSERT_TRUE(proc_->Running()) << "mailpit exited: " << FileTail(log_path());
}

void Mailpit::Stop() {
  if (proc_ && proc_->Running()) proc_->Terminate(absl::Seconds(10));
  proc_.reset();
}

std::vector<MailpitMessage> Mailpit::Messages() {
  std::vector<MailpitMessage> out;
  for (int start = 0;; start += 500) {
    const std::string body =
        HttpGet(http_port_, absl::StrCat("/api/v1/messages?limit=500&start=", start));
    if (body.empty()) return out;
    const auto page = Json(body);
    auto it = page.fields().find("messages");
    if (it == page.fields().end()) return out;
    const auto& list = it->second.list_value().values();
    for (const auto& v : list) {
      const auto& m = v.struct_value();
      MailpitMessage msg{Str(m, "ID"), Str(m, "MessageID"), "", Str(m, "Subject")};
      auto to = m.fields().find("To");
      if (to != m.fields().end() && to->second.list_value().values_size() > 0) {
        msg.to = Str(to->second.list_value().values(0).struct_value(), "Address");
      }
      out.push_back(std::move(msg));
    }
    if (list.size() < 500) return out;
  }
}

std::map<std::string, std::vector<std::string>> Mailpit::Headers(const std::string& id) {
  std::map<std::string, std::vector<std::string>> out;
  const auto h = Json(HttpGet(http_port_, absl::StrCat("/api/v1/message/", id, "/headers")));
  for (const auto& [name, values] : h.fields()) {
    for (const auto& v : values.list_value().values()) out[name].push_back(v.string_value());
  }
  return out;
}

std::string Mailpit::Text(const std::string& id) {
  return Str(Json(HttpGet(http_port_, absl::StrCat("/api/v1/message/", id))), "Text");
}

std::string Mailpit::Html(const std::string& id) {
  return Str(Json(HttpGet(http_port_, absl::StrCat("/api/v1/message/", id))), "HTML");
}

std::map<std::string, int> Mailpit::CountByRecipient() {
  std::map<std::string, int> out;
  for (const auto& m : Messages()) ++out[m.to];
  return out;
}

}  // namespace pep::testing
