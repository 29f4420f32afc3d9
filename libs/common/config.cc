#include "common/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace pep {

std::vector<char*> ParseFlagsWithEnv(int argc, char** argv) {
  for (auto& [name, flag] : absl::GetAllFlags()) {
    const std::string env = "PEP_" + absl::AsciiStrToUpper(std::string(name));
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) continue;
    std::string err;
    if (!flag->ParseFrom(value, &err)) {
      std::fprintf(stderr, "%s: invalid value '%s': %s\n", env.c_str(), value, err.c_str());
      std::exit(2);
    }
  }
  return absl::ParseCommandLine(argc, argv);
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return std::string(absl::StripAsciiWhitespace(line));
}

}  // namespace pep
