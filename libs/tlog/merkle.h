// Merkle trees as RFC 9162 §2.1 (Certificate Transparency v2) defines them — the hashing of the
// append-only ledger of issue 14: leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left ||
// right), the tree of n leaves split at the largest power of two below n. Inclusion proofs
// (PATH) and consistency proofs (PROOF/SUBPROOF) are built from any source of subtree hashes
// and verified with the RFC's iterative algorithms (§2.1.3.2, §2.1.4.2).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pep::tlog {

using Hash = std::array<unsigned char, 32>;

Hash Sha256(std::string_view bytes);
// SHA-256 of the concatenation of `parts`, without building it (the ledger's hashes use it too).
Hash Sha256(std::initializer_list<std::string_view> parts);
Hash EmptyRoot();  // the tree of no leaves: SHA-256 of the empty string
Hash LeafHash(std::string_view entry);
Hash NodeHash(const Hash& left, const Hash& right);

std::string ToHex(const Hash& h);
std::optional<Hash> HashFromHex(std::string_view hex);

// The largest power of two strictly below n (n >= 2): where RFC 9162 splits a tree of n leaves.
uint64_t SplitPoint(uint64_t n);

// The root of the leaves [begin, end) of the log (end > begin).
using RangeHash = std::function<Hash(uint64_t begin, uint64_t end)>;

// PATH(index, D[size]): the audit path of leaf `index` in the tree of `size` leaves, deepest
// sibling first. Requires index < size.
std::vector<Hash> InclusionProof(uint64_t index, uint64_t size, const RangeHash& range);
// PROOF(m, D[n]): what shows the tree of `n` leaves extends the tree of `m`. Requires
// 0 < m <= n; empty when m == n.
std::vector<Hash> ConsistencyProof(uint64_t m, uint64_t n, const RangeHash& range);

bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf,
                     const std::vector<Hash>& proof, const Hash& root);
bool VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                       const std::vector<Hash>& proof);

// The O(log n) state of an append-only tree: the roots of the perfect subtrees the size
// decomposes into, largest first. What a sequencer keeps to know the root after each append.
class CompactRange {
 public:
  CompactRange() = default;
  // Resumes from a saved state; nullopt if `nodes` does not fit `size` (one per set bit).
  static std::optional<CompactRange> From(uint64_t size, std::vector<Hash> nodes);
  void Append(const Hash& leaf);
  Hash Root() const;
  uint64_t size() const { return size_; }
  const std::vector<Hash>& nodes() const { return nodes_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash> nodes_;
};

// C2SP tlog-tiles: a tile holds up to 256 consecutive hashes of one tree level, level L of
// tiles being tree level 8·L; full tiles at "tile/<L>/<N>", a partial one (W < 256 hashes, the
// right edge of the tree) at "tile/<L>/<N>.p/<W>"; N in groups of three digits, all but the last
// prefixed "x" ("x001/x234/067"). Entry bundles live at "tile/entries/<N>[.p/<W>]".
inline constexpr int kTileHeight = 8;
inline constexpr uint64_t kTileWidth = 256;
std::string TileIndexPath(uint64_t n);  // "x001/x234/067"
std::string TilePath(int level, uint64_t n, uint64_t width);  // width == 256: a full tile
std::string EntryBundlePath(uint64_t n, uint64_t width);
// How many hashes tile (level, n) holds in a tree of `size` leaves (0: none yet).
uint64_t TileWidth(int level, uint64_t n, uint64_t size);

// Every perfect subtree kept in memory (2n hashes): any range root in O(log n), so proofs for
// any sizes. For tests and for an index that fits in memory.
class MemoryTree {
 public:
  void Append(const Hash& leaf);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Hash Root() const { return Root(size()); }
  Hash Root(uint64_t size) const;  // of the first `size` leaves
  Hash Range(uint64_t begin, uint64_t end) const;
  // The bytes of tile (level, n) at this size: TileWidth hashes of tree level 8·level.
  std::string TileData(int level, uint64_t n, uint64_t width) const;
  RangeHash Source() const {
    return [this](uint64_t b, uint64_t e) { return Range(b, e); };
  }

 private:
  // levels_[l][i]: the root of leaves [i * 2^l, (i + 1) * 2^l).
  std::vector<std::vector<Hash>> levels_;
};

}  // namespace pep::tlog
