// C2SP signed-note with Ed25519 (OpenSSL EVP), and C2SP tlog-checkpoint bodies: what the ledger
// of issue 14 publishes so anyone holding the verifier key can check a tree head offline.
//
// Key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]; a signature line is
// "— <name> <base64(key ID || signature)>" under a blank line; the signature covers the text
// including its final newline. Verifier key: "<name>+<hex key ID>+<base64(0x01 || public key)>".
// Signer key (kept secret, as Go's golang.org/x/mod/sumdb/note writes it):
// "PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>".
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "tlog/merkle.h"

namespace pep::tlog {

class NoteSigner {
 public:
  static absl::StatusOr<NoteSigner> Generate(const std::string& name);
  static absl::StatusOr<NoteSigner> FromSignerKey(absl::string_view skey);
  // A key from a 32-byte Ed25519 seed (RFC 8032's private key).
  static absl::StatusOr<NoteSigner> FromSeed(std::string name, std::string seed);
  const std::string& name() const { return name_; }
  std::string SignerKey() const;
  std::string VerifierKey() const;
  // `text` (non-empty, ending in a newline, no blank line) with this key's signature line.
  absl::StatusOr<std::string> Sign(absl::string_view text) const;

 private:
  std::string name_, seed_, public_key_;  // raw 32 bytes each
  uint32_t key_id_ = 0;
};

// The text of `note` when one of its signature lines is this verifier's and verifies.
// PERMISSION_DENIED for a bad signature or none from this key; INVALID_ARGUMENT for a malformed
// note or key.
absl::StatusOr<std::string> OpenNote(absl::string_view note, absl::string_view verifier_key);

struct Checkpoint {
  std::string origin;  // the log's name, e.g. "pepiniere.example.gouv.fr/ledger"
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // further lines, kept as they are
};
// "<origin>\n<size>\n<base64 root>\n" then the extension lines.
std::string CheckpointText(const Checkpoint& c);
absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text);

}  // namespace pep::tlog
