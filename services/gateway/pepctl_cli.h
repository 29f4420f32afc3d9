// What pepctl's commands share: the arguments, the environment (PEP_URL, PEP_TOKEN…), one call to
// the gateway with CI-friendly exit codes, JSON both ways. Each command group has its file:
// pepctl.cc (the gateway's API: milestones, import, timeline, verify, export, tokens),
// pepctl_ledger.cc (offline verification and the checkpoint watch), pepctl_dlt.cc (dead letters).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/gateway/http_client.h"

namespace pep::pepctl {

// Exit codes: 0 done, 1 refused by Pépinière (4xx), 2 usage error, 3 unreachable or failing (5xx).
int Usage(const std::string& why);

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --name value, or "true" for flags
};

Args Parse(int argc, char** argv);
std::string Env(const char* name, const std::string& fallback);
pep::gateway::HttpClientOptions ClientOptions(int default_seconds);
// The gateway's {code, message} as one line, or the body itself.
std::string ErrorMessage(const std::string& body);
// Calls the gateway; on failure prints a line fit for a CI log and returns the exit code.
int Call(const std::string& method, const std::string& target, const std::string& body,
         const std::string& content_type, std::string* out);

template <typename M>
bool FromJson(const std::string& json, M* m) {
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;  // a newer gateway may say more
  return google::protobuf::util::JsonStringToMessage(json, m, o).ok();
}
std::string ToJson(const google::protobuf::Message& m);
std::string Date(const google::protobuf::Timestamp& ts);

// The command groups.
int Ledger(const Args& a);  // pepctl_ledger.cc
int Dlt(const Args& a);     // pepctl_dlt.cc

}  // namespace pep::pepctl
