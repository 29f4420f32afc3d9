// RFC 9162 hashing and proofs: the RFC 6962 reference tree (8 leaves; the roots, audit paths and
// consistency proofs published with Certificate Transparency), then every tree size 1..64 and
// every pair: each proof verifies, and a changed hash, index, size or root refuses it. The
// compact range agrees with the full tree at every size. (tests/tlog cross-checks the same
// against Go's golang.org/x/mod/sumdb/tlog.)
#include "tlog/merkle.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace pep::tlog {
namespace {

Hash H(const char* hex) { return *HashFromHex(hex); }

std::vector<Hash> Hs(std::initializer_list<const char*> hexes) {
  std::vector<Hash> out;
  for (const char* h : hexes) out.push_back(H(h));
  return out;
}

// The RFC 6962 test inputs.
std::vector<std::string> ReferenceLeaves() {
  std::vector<std::string> out;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    out.push_back(absl::HexStringToBytes(hex));
  }
  return out;
}

MemoryTree Tree(const std::vector<std::string>& entries) {
  MemoryTree t;
  for (const std::string& e : entries) t.Append(LeafHash(e));
  return t;
}

TEST(Merkle, ReferenceRoots) {
  EXPECT_EQ(ToHex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char* roots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  const MemoryTree t = Tree(ReferenceLeaves());
  CompactRange c;
  EXPECT_EQ(c.Root(), EmptyRoot());
  for (uint64_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(ToHex(t.Root(n)), roots[n - 1]) << n;
    c.Append(LeafHash(ReferenceLeaves()[n - 1]));
    EXPECT_EQ(ToHex(c.Root()), roots[n - 1]) << "compact range at " << n;
  }
}

TEST(Merkle, ReferenceProofs) {
  const MemoryTree t = Tree(ReferenceLeaves());
  struct Inclusion {
    uint64_t index, size;
    std::vector<Hash> proof;
  };
  for (const Inclusion& v : std::vector<Inclusion>{
           {0, 8, Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
           {5, 8, Hs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
           {2, 3, Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
           {1, 5, Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})}}) {
    EXPECT_EQ(InclusionProof(v.index, v.size, t.Source()), v.proof) << v.index << "/" << v.size;
    EXPECT_TRUE(VerifyInclusion(v.index, v.size, LeafHash(ReferenceLeaves()[v.index]), v.proof,
                                t.Root(v.size)));
  }
  struct Consistency {
    uint64_t m, n;
    std::vector<Hash> proof;
  };
  for (const Consistency& v : std::vector<Consistency>{
           {1, 1, {}},
           {1, 8, Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
           {6, 8, Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
           {2, 5, Hs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})}}) {
    EXPECT_EQ(ConsistencyProof(v.m, v.n, t.Source()), v.proof) << v.m << "→" << v.n;
    EXPECT_TRUE(VerifyConsistency(v.m, v.n, t.Root(v.m), t.Root(v.n), v.proof));
  }
}

// Every size 1..64, every leaf and every pair of sizes: proofs verify, and break when anything
// they bind changes.
TEST(Merkle, EverySizeAndPairUpTo64) {
  std::vector<std::string> entries;
  for (int i = 0; i < 64; ++i) entries.push_back("entrée " + std::to_string(i));
  const MemoryTree t = Tree(entries);
  CompactRange c;
  int inclusions = 0, consistencies = 0;
  for (uint64_t n = 1; n <= 64; ++n) {
    c.Append(LeafHash(entries[n - 1]));
    const Hash root = t.Root(n);
    ASSERT_EQ(c.Root(), root) << n;
    auto resumed = CompactRange::From(c.size(), c.nodes());
    ASSERT_TRUE(resumed.has_value());
    EXPECT_EQ(resumed->Root(), root);
    for (uint64_t i = 0; i < n; ++i) {
      const Hash leaf = LeafHash(entries[i]);
      const auto proof = InclusionProof(i, n, t.Source());
      ASSERT_TRUE(VerifyInclusion(i, n, leaf, proof, root)) << i << "/" << n;
      ++inclusions;
      EXPECT_FALSE(VerifyInclusion(i, n, LeafHash("autre"), proof, root));
      // The path binds the shape; the (size, root) pair a signed checkpoint gives binds the rest.
      if (n < 64) {
        EXPECT_FALSE(VerifyInclusion(i, n + 1, leaf, proof, t.Root(n + 1))) << i << "/" << n;
      }
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion((i + 1) % n, n, leaf, proof, root)) << i << "/" << n;
      }
      EXPECT_FALSE(VerifyInclusion(n, n, leaf, proof, root));
      if (!proof.empty()) {
        auto bad = proof;
        bad.back()[0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(i, n, leaf, bad, root));
        bad = proof;
        bad.pop_back();
        EXPECT_FALSE(VerifyInclusion(i, n, leaf, bad, root)) << "a short proof";
      }
      auto longer = proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(i, n, leaf, longer, root)) << "a long proof";
    }
    for (uint64_t m = 1; m <= n; ++m) {
      const auto proof = ConsistencyProof(m, n, t.Source());
      ASSERT_TRUE(VerifyConsistency(m, n, t.Root(m), root, proof)) << m << "→" << n;
      ++consistencies;
      if (m == n) continue;
      EXPECT_FALSE(VerifyConsistency(m, n, LeafHash("x"), root, proof)) << m << "→" << n;
      EXPECT_FALSE(VerifyConsistency(m, n, t.Root(m), LeafHash("x"), proof));
      if (m + 1 < n) {
        EXPECT_FALSE(VerifyConsistency(m + 1, n, t.Root(m), root, proof));
      }
      auto bad = proof;
      bad[bad.size() / 2][31] ^= 0x80;
      EXPECT_FALSE(VerifyConsistency(m, n, t.Root(m), root, bad));
      EXPECT_FALSE(VerifyConsistency(m, n, t.Root(m), root, {})) << "no proof";
    }
  }
  EXPECT_EQ(inclusions, 64 * 65 / 2);
  EXPECT_EQ(consistencies, 64 * 65 / 2);
  EXPECT_FALSE(CompactRange::From(5, {EmptyRoot()}).has_value()) << "5 needs two nodes";
}

TEST(Tiles, PathsAndWidthsAsC2spWritesThem) {
  EXPECT_EQ(TileIndexPath(0), "000");
  EXPECT_EQ(TileIndexPath(999), "999");
  EXPECT_EQ(TileIndexPath(1000), "x001/000");
  EXPECT_EQ(TileIndexPath(1234067), "x001/x234/067");
  EXPECT_EQ(TilePath(0, 1234067, 256), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath(1, 3, 8), "tile/1/003.p/8");
  EXPECT_EQ(EntryBundlePath(1234067, 256), "tile/entries/x001/x234/067");
  EXPECT_EQ(EntryBundlePath(0, 5), "tile/entries/000.p/5");
  // 70,000 leaves: level 0 has 273 full tiles and one of 112; level 1, one full and one of 17.
  EXPECT_EQ(TileWidth(0, 272, 70000), 256u);
  EXPECT_EQ(TileWidth(0, 273, 70000), 112u);
  EXPECT_EQ(TileWidth(0, 274, 70000), 0u);
  EXPECT_EQ(TileWidth(1, 1, 70000), 17u);
  EXPECT_EQ(TileWidth(2, 0, 70000), 1u);
  EXPECT_EQ(TileWidth(3, 0, 70000), 0u);
  // A level-1 tile's hashes are the roots of level-0 tiles' 256 leaves.
  MemoryTree t;
  for (int i = 0; i < 600; ++i) t.Append(LeafHash(std::to_string(i)));
  const std::string level1 = t.TileData(1, 0, TileWidth(1, 0, 600));
  ASSERT_EQ(level1.size(), 2u * 32);
  EXPECT_EQ(level1.substr(32, 32), std::string(reinterpret_cast<const char*>(t.Range(256, 512).data()), 32));
}

}  // namespace
}  // namespace pep::tlog
