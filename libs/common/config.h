// Configuration: absl flags, each overridable by a PEP_<FLAG_NAME> environment variable.
// Precedence: command line > environment > default.
#pragma once

#include <string>
#include <vector>

namespace pep {

// Applies PEP_* environment variables to registered flags, then parses argv. Exits with a
// message naming the variable or flag on a bad value. Returns positional arguments.
std::vector<char*> ParseFlagsWithEnv(int argc, char** argv);

// The first line of a secret file (a mounted Kubernetes Secret, a file `up` wrote), trimmed;
// "" when there is none.
std::string FirstLine(const std::string& path);

}  // namespace pep
