#include "tlog/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace pep::tlog {

Hash Sha256(std::initializer_list<std::string_view> parts) {
  // The algorithm fetched once and one context per thread, reused: hashing is the sequencer's
  // inner loop, and OpenSSL 3 otherwise looks the provider up on every digest.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx c;
  EVP_MD_CTX* ctx = c.ctx;
  if (kSha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx, kSha256, nullptr) != 1) {
    std::abort();  // no SHA-256 in libcrypto: no hash of the log could be trusted
  }
  for (std::string_view p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  Hash out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  return out;
}

namespace {

std::string_view View(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

constexpr char kLeafPrefix[] = {0x00};
constexpr char kNodePrefix[] = {0x01};

void Path(uint64_t index, uint64_t begin, uint64_t end, const RangeHash& range, std::vector<Hash>* out) {
  const uint64_t n = end - begin;
  if (n == 1) return;
  const uint64_t k = SplitPoint(n);
  if (index < k) {
    Path(index, begin, begin + k, range, out);
    out->push_back(range(begin + k, end));
  } else {
    Path(index - k, begin + k, end, range, out);
    out->push_back(range(begin, begin + k));
  }
}

// SUBPROOF(m, D[begin:end], whole): `whole` says D[begin:begin+m] is the old tree itself (its
// root is then known to the verifier and left out).
void SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole, const RangeHash& range,
              std::vector<Hash>* out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out->push_back(range(begin, end));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(m, begin, begin + k, whole, range, out);
    out->push_back(range(begin + k, end));
  } else {
    SubProof(m - k, begin + k, end, false, range, out);
    out->push_back(range(begin, begin + k));
  }
}

}  // namespace

Hash Sha256(std::string_view bytes) { return Sha256({bytes}); }
Hash EmptyRoot() { return Sha256(std::initializer_list<std::string_view>{}); }
Hash LeafHash(std::string_view entry) { return Sha256({std::string_view(kLeafPrefix, 1), entry}); }
Hash NodeHash(const Hash& left, const Hash& right) {
  return Sha256({std::string_view(kNodePrefix, 1), View(left), View(right)});
}

std::string ToHex(const Hash& h) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

std::optional<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash h;
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return h;
}

uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

std::vector<Hash> InclusionProof(uint64_t index, uint64_t size, const RangeHash& range) {
  std::vector<Hash> out;
  if (index < size) Path(index, 0, size, range, &out);
  return out;
}

std::vector<Hash> ConsistencyProof(uint64_t m, uint64_t n, const RangeHash& range) {
  std::vector<Hash> out;
  if (m > 0 && m < n) SubProof(m, 0, n, true, range, &out);
  return out;
}

// RFC 9162 §2.1.3.2, step by step.
bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

// RFC 9162 §2.1.4.2, step by step.
bool VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                       const std::vector<Hash>& proof) {
  if (m == 0 || m > n) return false;
  if (m == n) return proof.empty() && root_m == root_n;
  if (proof.empty()) return false;
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(m)) path.push_back(root_m);  // the old root is a node of the new tree
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = m - 1, sn = n - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == root_m && sr == root_n && sn == 0;
}

std::optional<CompactRange> CompactRange::From(uint64_t size, std::vector<Hash> nodes) {
  if (static_cast<size_t>(std::popcount(size)) != nodes.size()) return std::nullopt;
  CompactRange c;
  c.size_ = size;
  c.nodes_ = std::move(nodes);
  return c;
}

void CompactRange::Append(const Hash& leaf) {
  nodes_.push_back(leaf);
  // Each trailing one bit of the old size is a perfect subtree the new leaf completes.
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    const Hash right = nodes_.back();
    nodes_.pop_back();
    nodes_.back() = NodeHash(nodes_.back(), right);
  }
  ++size_;
}

Hash CompactRange::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  Hash r = nodes_.back();
  for (size_t i = nodes_.size() - 1; i-- > 0;) r = NodeHash(nodes_[i], r);
  return r;
}

std::string TileIndexPath(uint64_t n) {
  std::string digits = std::to_string(n);
  while (digits.size() % 3 != 0) digits.insert(digits.begin(), '0');
  std::string out;
  for (size_t i = 0; i < digits.size(); i += 3) {
    if (i > 0) out += '/';
    if (i + 3 < digits.size()) out += 'x';
    out += digits.substr(i, 3);
  }
  return out;
}

std::string TilePath(int level, uint64_t n, uint64_t width) {
  std::string out = "tile/" + std::to_string(level) + "/" + TileIndexPath(n);
  if (width < kTileWidth) out += ".p/" + std::to_string(width);
  return out;
}

std::string EntryBundlePath(uint64_t n, uint64_t width) {
  std::string out = "tile/entries/" + TileIndexPath(n);
  if (width < kTileWidth) out += ".p/" + std::to_string(width);
  return out;
}

uint64_t TileWidth(int level, uint64_t n, uint64_t size) {
  // Complete nodes at tree level 8·level: one per 2^(8·level) leaves.
  const int shift = kTileHeight * level;
  const uint64_t nodes = shift >= 64 ? 0 : size >> shift;
  const uint64_t first = n * kTileWidth;
  if (nodes <= first) return 0;
  return std::min<uint64_t>(kTileWidth, nodes - first);
}

std::string MemoryTree::TileData(int level, uint64_t n, uint64_t width) const {
  std::string out;
  const size_t l = static_cast<size_t>(kTileHeight * level);
  for (uint64_t i = 0; i < width && l < levels_.size(); ++i) {
    const uint64_t at = n * kTileWidth + i;
    if (at >= levels_[l].size()) break;
    out.append(reinterpret_cast<const char*>(levels_[l][at].data()), 32);
  }
  return out;
}

void MemoryTree::Append(const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  for (size_t l = 0; levels_[l].size() % 2 == 0; ++l) {
    if (levels_.size() == l + 1) levels_.emplace_back();
    const auto& below = levels_[l];
    levels_[l + 1].push_back(NodeHash(below[below.size() - 2], below.back()));
  }
}

Hash MemoryTree::Root(uint64_t size) const {
  return size == 0 ? EmptyRoot() : Range(0, size);
}

Hash MemoryTree::Range(uint64_t begin, uint64_t end) const {
  const uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const int level = std::countr_zero(n);
    return levels_[level][begin >> level];
  }
  const uint64_t k = SplitPoint(n);
  return NodeHash(Range(begin, begin + k), Range(begin + k, end));
}

}  // namespace pep::tlog
