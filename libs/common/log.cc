#include "common/log.h"

#include "common/text.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace pep {

namespace {
absl::Mutex g_log_mu;
std::string* g_service = new std::string("pep");

void Emit(std::string_view level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line = absl::StrFormat(R"({"ts":"%s","level":"%s","service":"%s","msg":"%s")",
                                     FormatRfc3339(absl::Now()), level, JsonEscape(*g_service),
                                     JsonEscape(msg));
  for (const auto& [k, v] : fields) {
    absl::StrAppendFormat(&line, R"(,"%s":"%s")", JsonEscape(k), JsonEscape(v));
  }
  line += "}\n";
  absl::MutexLock l(&g_log_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}
}  // namespace

void SetLogService(std::string_view service) {
  absl::MutexLock l(&g_log_mu);
  *g_service = std::string(service);
}
void LogInfo(std::string_view msg, std::initializer_list<LogField> f) { Emit("info", msg, f); }
void LogWarn(std::string_view msg, std::initializer_list<LogField> f) { Emit("warn", msg, f); }
void LogError(std::string_view msg, std::initializer_list<LogField> f) { Emit("error", msg, f); }

std::string JsonEscape(std::string_view raw) {
  // JSON is UTF-8: what is not (a client's bytes echoed in an error) becomes U+FFFD first.
  const std::string s = ValidUtf8(raw);
  std::string out;
  out.reserve(s.size() + 8);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

}  // namespace pep
