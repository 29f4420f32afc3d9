// Personal data in free text, masked before anything is stored: pep-feedback's verbatims and
// pep-ideas' comments go through the same scanners. E-mail addresses, French phone numbers, NIR
// (social-security numbers, with their key checked) and IBANs (mod-97 checked) become [email],
// [téléphone], [NIR], [IBAN]. Names are not detected: no scanner can tell them from words, so
// texts that may hold them are withheld on moderation instead (see the services' notes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pep::pii {

struct Masked {
  std::string text;
  std::vector<std::string> kinds;  // each kind found, once: "iban", "nir", "phone", "email"
};

// Idempotent: a masked text has nothing left to mask (fuzz_pii checks it).
Masked MaskPii(std::string_view text);

}  // namespace pep::pii
