#include "tlog/note.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace pep::tlog {

namespace {

constexpr char kEd25519 = 0x01;
constexpr absl::string_view kDash = "\xE2\x80\x94 ";  // U+2014 and a space

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

uint32_t KeyId(absl::string_view name, absl::string_view public_key) {
  const Hash h = Sha256(absl::StrCat(name, "\n", absl::string_view(&kEd25519, 1), public_key));
  return uint32_t{h[0]} << 24 | uint32_t{h[1]} << 16 | uint32_t{h[2]} << 8 | h[3];
}

std::string IdBytes(uint32_t id) {
  return {static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
          static_cast<char>(id)};
}

// Names are non-empty UTF-8 without spaces or '+' (C2SP signed-note).
bool ValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == '+' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<NoteSigner> NoteSigner::FromSeed(std::string name, std::string seed) {
  if (!ValidName(name)) return absl::InvalidArgumentError("signer key: bad name");
  NoteSigner s;
  s.name_ = std::move(name);
  s.seed_ = std::move(seed);
  Pkey key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(s.seed_.data()), s.seed_.size()));
  if (!key) return absl::InvalidArgumentError("signer key: OpenSSL refused the seed");
  unsigned char pub[32];
  size_t len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(key.get(), pub, &len) != 1 || len != 32) {
    return absl::InternalError("signer key: no public key");
  }
  s.public_key_.assign(reinterpret_cast<char*>(pub), 32);
  s.key_id_ = KeyId(s.name_, s.public_key_);
  return s;
}

absl::StatusOr<NoteSigner> NoteSigner::Generate(const std::string& name) {
  unsigned char seed[32];
  if (RAND_bytes(seed, sizeof seed) != 1) return absl::InternalError("no randomness for a key");
  return FromSeed(name, std::string(reinterpret_cast<char*>(seed), sizeof seed));
}

absl::StatusOr<NoteSigner> NoteSigner::FromSignerKey(absl::string_view skey) {
  // Base64 may hold '+': the name, id and key are the first fields, the rest is the key.
  std::vector<absl::string_view> parts = absl::StrSplit(skey, absl::MaxSplits('+', 4));
  if (parts.size() != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY") {
    return absl::InvalidArgumentError("signer key: expected PRIVATE+KEY+<name>+<id>+<key>");
  }
  std::string raw;
  if (!absl::Base64Unescape(parts[4], &raw) || raw.size() != 33 || raw[0] != kEd25519) {
    return absl::InvalidArgumentError("signer key: not an Ed25519 key");
  }
  auto s = FromSeed(std::string(parts[2]), raw.substr(1));
  if (!s.ok()) return s.status();
  if (parts[3] != absl::StrFormat("%08x", s->key_id_)) {
    return absl::InvalidArgumentError("signer key: its key id does not match the key");
  }
  return s;
}

std::string NoteSigner::SignerKey() const {
  return absl::StrCat("PRIVATE+KEY+", name_, "+", absl::StrFormat("%08x", key_id_), "+",
                      absl::Base64Escape(absl::StrCat(absl::string_view(&kEd25519, 1), seed_)));
}

std::string NoteSigner::VerifierKey() const {
  return absl::StrCat(name_, "+", absl::StrFormat("%08x", key_id_), "+",
                      absl::Base64Escape(absl::StrCat(absl::string_view(&kEd25519, 1), public_key_)));
}

absl::StatusOr<std::string> NoteSigner::Sign(absl::string_view text) const {
  if (text.empty() || text.back() != '\n' || text.find("\n\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError("note: text must end in a newline and hold no blank line");
  }
  for (unsigned char c : text) {
    if (c < 0x20 && c != '\n') return absl::InvalidArgumentError("note: control character in text");
  }
  Pkey key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed_.data()), 32));
  MdCtx ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) != 1 ||
      len != 64) {
    return absl::InternalError("note: Ed25519 signing failed");
  }
  return absl::StrCat(text, "\n", kDash, name_, " ",
                      absl::Base64Escape(absl::StrCat(IdBytes(key_id_),
                                                      absl::string_view(reinterpret_cast<char*>(sig), 64))),
                      "\n");
}

absl::StatusOr<std::string> OpenNote(absl::string_view note, absl::string_view verifier_key) {
  std::vector<absl::string_view> v = absl::StrSplit(verifier_key, absl::MaxSplits('+', 2));
  std::string raw;
  uint32_t id = 0;
  if (v.size() != 3 || !ValidName(v[0]) || v[1].size() != 8 ||
      !absl::SimpleHexAtoi(v[1], &id) || !absl::Base64Unescape(v[2], &raw) || raw.size() != 33 ||
      raw[0] != kEd25519) {
    return absl::InvalidArgumentError("verifier key: expected <name>+<hex id>+<base64 Ed25519 key>");
  }
  const std::string public_key = raw.substr(1);
  if (KeyId(v[0], public_key) != id) {
    return absl::InvalidArgumentError("verifier key: its key id does not match the key");
  }
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos || note.empty() || note.back() != '\n') {
    return absl::InvalidArgumentError("note: no blank line before the signatures");
  }
  const absl::string_view text = note.substr(0, split + 1);
  absl::string_view sigs = note.substr(split + 2);
  Pkey key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()), 32));
  if (!key) return absl::InvalidArgumentError("verifier key: OpenSSL refused the key");
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(sigs, '\n', absl::SkipEmpty())) {
    if (++lines > 100) return absl::InvalidArgumentError("note: too many signatures");
    if (line.substr(0, kDash.size()) != kDash) return absl::InvalidArgumentError("note: malformed signature line");
    line.remove_prefix(kDash.size());
    const size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) return absl::InvalidArgumentError("note: malformed signature line");
    const absl::string_view name = line.substr(0, space);
    std::string sig;
    if (!absl::Base64Unescape(line.substr(space + 1), &sig) || sig.size() < 5) {
      return absl::InvalidArgumentError("note: malformed signature");
    }
    if (name != v[0] || sig.substr(0, 4) != IdBytes(id)) continue;  // another key's: ignored
    MdCtx ctx(EVP_MD_CTX_new());
    const bool ok =
        sig.size() == 68 && ctx &&
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data() + 4), 64,
                         reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
    if (!ok) return absl::PermissionDeniedError(absl::StrCat("note: the signature of ", name, " does not verify"));
    return std::string(text);
  }
  return absl::PermissionDeniedError(absl::StrCat("note: not signed by ", v[0]));
}

std::string CheckpointText(const Checkpoint& c) {
  std::string out = absl::StrCat(c.origin, "\n", c.size, "\n",
                                 absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(c.root.data()), 32)),
                                 "\n");
  for (const std::string& e : c.extensions) absl::StrAppend(&out, e, "\n");
  return out;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text) {
  if (text.empty() || text.back() != '\n') return absl::InvalidArgumentError("checkpoint: must end in a newline");
  std::vector<absl::string_view> lines = absl::StrSplit(text.substr(0, text.size() - 1), '\n');
  if (lines.size() < 3) return absl::InvalidArgumentError("checkpoint: origin, size and root hash lines needed");
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return absl::InvalidArgumentError("checkpoint: empty origin");
  if (lines[1].empty() || (lines[1].size() > 1 && lines[1][0] == '0') ||
      lines[1].find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(lines[1], &c.size)) {
    return absl::InvalidArgumentError("checkpoint: tree size is not a decimal number");
  }
  std::string root;
  if (!absl::Base64Unescape(lines[2], &root) || root.size() != 32) {
    return absl::InvalidArgumentError("checkpoint: root hash is not 32 bytes of base64");
  }
  std::copy(root.begin(), root.end(), c.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return absl::InvalidArgumentError("checkpoint: empty extension line");
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

}  // namespace pep::tlog
