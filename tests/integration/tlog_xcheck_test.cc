// libs/tlog against an independent implementation of the same specifications: Go's
// golang.org/x/mod/sumdb/tlog (RFC 6962 trees) and sumdb/note (C2SP signed notes, Ed25519),
// built from the Go module proxy at test time (tests/tlog/xcheck). For every tree size 1..64:
// the same root, the same inclusion proof for every leaf and the same consistency proof for
// every older size, each verifying with our verifier; and notes signed by either side open on
// the other, byte for byte the same.
#include <fstream>

#include "absl/strings/str_split.h"
#include "harness/harness.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace pep::testing {
namespace {

using tlog::Hash;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<Hash> Proof(absl::string_view joined) {
  std::vector<Hash> out;
  for (absl::string_view h : absl::StrSplit(joined, ',', absl::SkipEmpty())) {
    out.push_back(tlog::HashFromHex(std::string(h)).value());
  }
  return out;
}

class GoCrossCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bin_ = BinaryDir() + "/xcheck";
    const int rc = RunCommand("cd '" + SourceDir() + "/tests/tlog/xcheck' && GOFLAGS=-mod=mod \"$(command -v go || echo /usr/local/go/bin/go)\" build -o '" + bin_ + "' .");
    ASSERT_EQ(rc, 0) << "go build of tests/tlog/xcheck failed (Go and the module proxy are needed)";
  }
  // Runs xcheck with `args`, `input` on stdin; returns its exit code and stdout.
  static std::pair<int, std::string> Go(const std::string& args, const std::string& input = "") {
    const std::string in = dir_.path() + "/in", out = dir_.path() + "/out";
    std::ofstream(in, std::ios::binary) << input;
    const int rc = RunCommand("'" + bin_ + "' " + args + " < '" + in + "' > '" + out + "'");
    return {rc, ReadFile(out)};
  }
  static inline std::string bin_;
  static inline TempDir dir_;
};

TEST_F(GoCrossCheck, SameRootsAndProofsForEverySizeUpTo64) {
  auto [rc, out] = Go("vectors");
  ASSERT_EQ(rc, 0);
  tlog::MemoryTree tree;
  for (int i = 0; i < 64; ++i) tree.Append(tlog::LeafHash("entrée " + std::to_string(i)));
  int roots = 0, inclusions = 0, consistencies = 0;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    ASSERT_GE(f.size(), 3u) << line;
    if (f[0] == "root") {
      const uint64_t n = std::stoull(std::string(f[1]));
      EXPECT_EQ(tlog::ToHex(tree.Root(n)), f[2]) << "root of " << n;
      ++roots;
    } else if (f[0] == "incl") {
      const uint64_t n = std::stoull(std::string(f[1])), i = std::stoull(std::string(f[2]));
      const std::vector<Hash> go = Proof(f.size() > 3 ? f[3] : "");
      EXPECT_EQ(tlog::InclusionProof(i, n, tree.Source()), go) << "inclusion " << i << "/" << n;
      EXPECT_TRUE(tlog::VerifyInclusion(i, n, tlog::LeafHash("entrée " + std::to_string(i)), go, tree.Root(n)));
      ++inclusions;
    } else if (f[0] == "cons") {
      const uint64_t m = std::stoull(std::string(f[1])), n = std::stoull(std::string(f[2]));
      const std::vector<Hash> go = Proof(f.size() > 3 ? f[3] : "");
      EXPECT_EQ(tlog::ConsistencyProof(m, n, tree.Source()), go) << "consistency " << m << "→" << n;
      EXPECT_TRUE(tlog::VerifyConsistency(m, n, tree.Root(m), tree.Root(n), go));
      ++consistencies;
    }
  }
  EXPECT_EQ(roots, 64);
  EXPECT_EQ(inclusions, 64 * 65 / 2);
  EXPECT_EQ(consistencies, 64 * 63 / 2);
}

// Every C2SP tile of a 70,000-leaf tree (three tile levels, partial tiles at each): the same
// path (Go's sumdb writes the tile height, "tile/8/…", which C2SP leaves out), width and bytes.
TEST_F(GoCrossCheck, SameTilesAsGo) {
  constexpr uint64_t kSize = 70000;
  auto [rc, out] = Go("tiles " + std::to_string(kSize));
  ASSERT_EQ(rc, 0);
  tlog::MemoryTree tree;
  for (uint64_t i = 0; i < kSize; ++i) tree.Append(tlog::LeafHash("entrée " + std::to_string(i)));
  int tiles = 0, partial = 0;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    ASSERT_EQ(f.size(), 6u) << line;
    const int level = std::stoi(f[1]);
    const uint64_t n = std::stoull(f[2]), width = std::stoull(f[3]);
    EXPECT_EQ(tlog::TileWidth(level, n, kSize), width) << line;
    std::string go_path = f[4];
    ASSERT_EQ(go_path.rfind("tile/8/", 0), 0u) << go_path;
    EXPECT_EQ(tlog::TilePath(level, n, width), "tile/" + go_path.substr(7)) << line;
    EXPECT_EQ(tlog::ToHex(tlog::Sha256(tree.TileData(level, n, width))), f[5]) << line;
    ++tiles;
    partial += width < tlog::kTileWidth;
  }
  EXPECT_EQ(tiles, 277);  // 273 full + 1 partial at level 0, 1 + 1 at level 1, 1 at level 2
  EXPECT_EQ(partial, 3);
}

TEST_F(GoCrossCheck, SignedNotesOpenOnBothSides) {
  auto [rc, keys] = Go("keygen pepiniere.test/ledger");
  ASSERT_EQ(rc, 0);
  std::vector<std::string> lines = absl::StrSplit(keys, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << keys;
  auto ours = tlog::NoteSigner::FromSignerKey(lines[0]);
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(ours->VerifierKey(), lines[1]) << "the same key id and encoding";

  const std::string text = tlog::CheckpointText({"pepiniere.test/ledger", 42, tlog::LeafHash("x"), {}});
  auto [sign_rc, go_note] = Go("sign '" + lines[0] + "'", text);
  ASSERT_EQ(sign_rc, 0);
  auto our_note = ours->Sign(text);
  ASSERT_TRUE(our_note.ok());
  EXPECT_EQ(*our_note, go_note) << "Ed25519 is deterministic: the same note, byte for byte";
  EXPECT_EQ(tlog::OpenNote(go_note, lines[1]).value_or(""), text);
  auto [open_rc, opened] = Go("open '" + lines[1] + "'", *our_note);
  EXPECT_EQ(open_rc, 0);
  EXPECT_EQ(opened, text);
  std::string forged = *our_note;
  forged[forged.find("42")] = '9';
  EXPECT_NE(Go("open '" + lines[1] + "'", forged).first, 0) << "Go refuses a changed checkpoint";
  EXPECT_FALSE(tlog::OpenNote(forged, lines[1]).ok());
}

}  // namespace
}  // namespace pep::testing
