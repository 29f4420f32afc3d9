// pepctl ledger verify|watch: a ledger export checked offline (entries, payload hashes, inclusion
// proofs, the checkpoint's signature, gaps), and a cron's watch of the signed checkpoints
// (signature and consistency with the last one seen).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sealed/sealed.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/proto_time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "pepiniere/audit/v1/audit.pb.h"
#include "pepiniere/gateway/v1/gateway.pb.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "tlog/entry_v2.h"
#include "services/gateway/http_client.h"
#include "services/gateway/pepctl_cli.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace pep::pepctl {

namespace {

namespace nv1 = ::pepiniere::incubation::v1;
namespace av1 = ::pepiniere::audit::v1;
namespace gv1 = ::pepiniere::gateway::v1;

std::string Str(const google::protobuf::Struct& s, const std::string& k) {
  auto it = s.fields().find(k);
  return it == s.fields().end() ? "" : it->second.string_value();
}

bool Unb64(const std::string& in, std::string* out) { return absl::Base64Unescape(in, out); }

int LedgerVerify(const Args& a) {
  if (a.positional.size() < 3) return Usage("ledger verify: FILE is required");
  if (!a.options.count("key")) return Usage("ledger verify: --key (the log's published verifier key) is required");
  std::ifstream in(a.positional[2]);
  if (!in) return Usage(absl::StrCat("cannot read ", a.positional[2]));
  std::vector<google::protobuf::Struct> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    google::protobuf::Struct s;
    if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) {
      std::printf("line %zu: not JSON\n", lines.size() + 1);
      return 1;
    }
    lines.push_back(std::move(s));
  }
  if (lines.empty() || Str(lines[0], "checkpoint").empty()) {
    std::printf("the first line is not an export head with a checkpoint\n");
    return 1;
  }
  auto text = pep::tlog::OpenNote(Str(lines[0], "checkpoint"), a.options.at("key"));
  auto cp = text.ok() ? pep::tlog::ParseCheckpoint(*text) : absl::StatusOr<pep::tlog::Checkpoint>(text.status());
  if (!cp.ok()) {
    std::printf("checkpoint: %s\n", std::string(cp.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> problems;
  std::map<std::string, std::set<int64_t>> versions;
  std::set<uint64_t> seen;
  int64_t entries = 0, withheld = 0;
  pep::sealed::Checker seals;  // sealed scoring: each reveal against its commitment (LEDGER.md)
  const google::protobuf::Struct* end = nullptr;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& f = lines[i].fields();
    if (f.count("export_end")) {
      end = &lines[i];
      continue;
    }
    if (!f.count("index")) continue;
    ++entries;
    const uint64_t index = static_cast<uint64_t>(f.at("index").number_value());
    const std::string where = absl::StrCat("entry ", entries, " (index ", index, ")");
    std::string entry;
    pep::audit::EntryV2Fields fields;
    if (!Unb64(Str(lines[i], "entry"), &entry) || pep::audit::SplitEntryV2(entry, &fields) != -1 ||
        fields[11].size() != 32) {
      problems.push_back(where + ": not a version 2 entry");
      continue;
    }
    if (!seen.insert(index).second) problems.push_back(where + ": index given twice");
    const std::string ce_id(fields[0]);
    if (f.count("payload_withheld") && f.at("payload_withheld").bool_value()) {
      ++withheld;
    } else {
      std::string payload;
      const pep::tlog::Hash h = pep::tlog::Sha256(Unb64(Str(lines[i], "payload"), &payload) ? payload : "");
      if (std::string_view(reinterpret_cast<const char*>(h.data()), 32) != fields[11]) {
        problems.push_back(absl::StrCat(where, " (", ce_id, "): the payload does not hash to the entry"));
      }
      if (auto problem = seals.Add(fields[1], payload)) {
        problems.push_back(absl::StrCat(where, " (", ce_id, "): ", *problem));
      }
    }
    std::vector<pep::tlog::Hash> proof;
    bool proof_ok = f.count("proof") > 0;
    if (proof_ok) {
      for (const auto& v : f.at("proof").list_value().values()) {
        std::string raw;
        if (!Unb64(v.string_value(), &raw) || raw.size() != 32) proof_ok = false;
        pep::tlog::Hash h{};
        std::copy(raw.begin(), raw.end(), h.begin());
        proof.push_back(h);
      }
    }
    if (!proof_ok || !pep::tlog::VerifyInclusion(index, cp->size, pep::tlog::LeafHash(entry), proof, cp->root)) {
      problems.push_back(absl::StrCat(where, " (", ce_id, "): the inclusion proof does not lead to the signed root"));
    }
    int64_t v = 0;
    if (absl::SimpleAtoi(absl::string_view(fields[8].data(), fields[8].size()), &v)) {
      versions[std::string(fields[3])].insert(v);
    }
  }
  for (const auto& [aggregate, vs] : versions) {
    for (int64_t v = 1; v < *vs.rbegin(); ++v) {
      if (!vs.count(v)) problems.push_back(absl::StrCat(aggregate, ": version ", v, " missing"));
    }
  }
  if (end == nullptr) {
    problems.push_back("no closing line: the export is cut short");
  } else {
    const auto& f = end->fields();
    if (!f.count("entries") || static_cast<int64_t>(f.at("entries").number_value()) != entries) {
      problems.push_back(absl::StrCat("the closing line's entry count is not the file's ", entries,
                                      ": cut short or added to"));
    }
    if (!f.count("tree_size") || static_cast<uint64_t>(f.at("tree_size").number_value()) != cp->size) {
      problems.push_back("the closing line's tree size is not the checkpoint's");
    }
  }
  const std::string subject = Str(lines[0], "subject");
  if (subject.empty() && seen.size() != cp->size) {
    problems.push_back(absl::StrCat("an export of the whole log must hold entries 0..", cp->size - 1));
  }
  for (const auto& p : problems) std::printf("%s\n", p.c_str());
  if (!problems.empty()) return 1;
  std::printf("OK: %lld entries of %s, each included in the tree of size %llu signed by %s (root %s)%s\n",
              static_cast<long long>(entries), subject.empty() ? "the whole log" : ("lineage " + subject).c_str(),
              static_cast<unsigned long long>(cp->size), cp->origin.c_str(), pep::tlog::ToHex(cp->root).c_str(),
              withheld ? absl::StrCat("; ", withheld, " payloads withheld, their hashes verified in place").c_str() : "");
  return 0;
}

// The state file: the verifier key on the first line, then the last checkpoint seen (its note).
int LedgerWatch(const Args& a) {
  if (!a.options.count("state")) return Usage("ledger watch: --state FILE is required");
  const std::string state_path = a.options.at("state");
  std::string key = a.options.count("key") ? a.options.at("key") : "";
  std::string saved_note;
  if (std::ifstream st(state_path); st) {
    std::string saved_key;
    std::getline(st, saved_key);
    saved_note.assign(std::istreambuf_iterator<char>(st), std::istreambuf_iterator<char>());
    if (!key.empty() && key != saved_key) return Usage("--key differs from the key saved in the state file");
    key = saved_key;
  }
  if (key.empty()) return Usage("ledger watch: --key is needed the first time (the log's published key)");
  std::string note;
  if (int rc = Call("GET", "/ledger/checkpoint", "", "", &note); rc != 0) return rc;
  auto text = pep::tlog::OpenNote(note, key);
  auto now = text.ok() ? pep::tlog::ParseCheckpoint(*text) : absl::StatusOr<pep::tlog::Checkpoint>(text.status());
  if (!now.ok()) {
    std::printf("INCONSISTENT: the published checkpoint does not verify: %s\n", std::string(now.status().message()).c_str());
    return 1;
  }
  if (!saved_note.empty()) {
    auto old_text = pep::tlog::OpenNote(saved_note, key);
    auto old = old_text.ok() ? pep::tlog::ParseCheckpoint(*old_text) : absl::StatusOr<pep::tlog::Checkpoint>(old_text.status());
    if (!old.ok()) return Usage(absl::StrCat("the state file's checkpoint does not verify: ", old.status().message()));
    if (old->origin != now->origin) {
      std::printf("INCONSISTENT: the log is now '%s', it was '%s'\n", now->origin.c_str(), old->origin.c_str());
      return 1;
    }
    if (now->size < old->size) {
      std::printf("INCONSISTENT: the log shrank from %llu to %llu entries\n",
                  static_cast<unsigned long long>(old->size), static_cast<unsigned long long>(now->size));
      return 1;
    }
    if (now->size == old->size) {
      if (now->root != old->root) {
        std::printf("INCONSISTENT: two roots signed for size %llu\n", static_cast<unsigned long long>(now->size));
        return 1;
      }
    } else {
      std::string out;
      if (int rc = Call("GET", absl::StrCat("/v1/ledger/consistency?first=", old->size, "&second=", now->size), "", "", &out);
          rc != 0) {
        return rc;
      }
      av1::ConsistencyProof proof;
      FromJson(out, &proof);
      std::vector<pep::tlog::Hash> hashes;
      for (const std::string& h : proof.hashes()) {
        pep::tlog::Hash x{};
        if (h.size() == 32) std::copy(h.begin(), h.end(), x.begin());
        hashes.push_back(x);
      }
      if (!pep::tlog::VerifyConsistency(old->size, now->size, old->root, now->root, hashes)) {
        std::printf("INCONSISTENT: the tree of %llu entries does not extend the one of %llu seen before: "
                    "history was rewritten\n",
                    static_cast<unsigned long long>(now->size), static_cast<unsigned long long>(old->size));
        return 1;
      }
    }
    std::printf("OK: %s grew from %llu to %llu entries, consistently (root %s)\n", now->origin.c_str(),
                static_cast<unsigned long long>(old->size), static_cast<unsigned long long>(now->size),
                pep::tlog::ToHex(now->root).c_str());
  } else {
    std::printf("OK: first checkpoint of %s saved: %llu entries (root %s)\n", now->origin.c_str(),
                static_cast<unsigned long long>(now->size), pep::tlog::ToHex(now->root).c_str());
  }
  const std::string tmp = state_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << key << "\n" << note;
    if (!out) return Usage(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), state_path.c_str()) != 0) return Usage(absl::StrCat("cannot write ", state_path));
  return 0;
}

}  // namespace

int Ledger(const Args& a) {
  const std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  if (sub == "verify") return LedgerVerify(a);
  if (sub == "watch") return LedgerWatch(a);
  return Usage("ledger: verify or watch");
}

}  // namespace pep::pepctl
