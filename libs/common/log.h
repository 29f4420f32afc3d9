// Structured logs: one JSON object per line on stderr ({"ts":…,"level":…,"msg":…,…}).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace pep {

using LogField = std::pair<std::string_view, std::string>;

void SetLogService(std::string_view service);
void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {});
void LogWarn(std::string_view msg, std::initializer_list<LogField> fields = {});
void LogError(std::string_view msg, std::initializer_list<LogField> fields = {});

std::string JsonEscape(std::string_view s);

}  // namespace pep
