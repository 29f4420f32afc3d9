// pep-tlog-vectors [N]: N leaves (default 40), every root, inclusion and consistency proof, and
// a checkpoint of the whole tree signed with a fresh key — for the offline verifier's selftest
// (services/audit/tools/tlog.py), which checks them with its own code and the openssl command.
#include <cstdio>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

int main(int argc, char** argv) {
  using namespace pep::tlog;
  const int n = argc > 1 ? std::stoi(argv[1]) : 40;
  MemoryTree tree;
  for (int i = 0; i < n; ++i) {
    const std::string entry = "entry " + std::to_string(i);
    tree.Append(LeafHash(entry));
    std::printf("leaf %s\n", absl::BytesToHexString(entry).c_str());
  }
  auto join = [](const std::vector<Hash>& proof) {
    std::vector<std::string> hexes;
    for (const Hash& h : proof) hexes.push_back(ToHex(h));
    return absl::StrJoin(hexes, ",");
  };
  for (int size = 1; size <= n; ++size) {
    std::printf("root %d %s\n", size, ToHex(tree.Root(size)).c_str());
    for (int i = 0; i < size; ++i) {
      std::printf("incl %d %d %s\n", size, i, join(InclusionProof(i, size, tree.Source())).c_str());
    }
    for (int m = 1; m <= size; ++m) {
      std::printf("cons %d %d %s\n", m, size, join(ConsistencyProof(m, size, tree.Source())).c_str());
    }
  }
  auto signer = NoteSigner::Generate("pepiniere.test/ledger");
  if (!signer.ok()) return 1;
  auto note = signer->Sign(CheckpointText({signer->name(), static_cast<uint64_t>(n), tree.Root(), {}}));
  if (!note.ok()) return 1;
  std::printf("vkey %s\nnote %s\n", signer->VerifierKey().c_str(), absl::Base64Escape(*note).c_str());
  return 0;
}
