// The PII scanners (see pii.h): hand-written, no regex engine, each a function that finds the
// next span of its kind from a position.
#include "pii/pii.h"

#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"

namespace pep::pii {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// Replaces every span found by `find(text, from) -> {begin, end}` (begin == npos: no more).
template <typename Finder>
bool ReplaceAll(std::string* text, const std::string& placeholder, Finder find) {
  std::string out;
  size_t pos = 0;
  bool any = false;
  while (true) {
    auto [b, e] = find(*text, pos);
    if (b == std::string::npos) break;
    out.append(*text, pos, b - pos);
    out += placeholder;
    pos = e;
    any = true;
  }
  if (!any) return false;
  out.append(*text, pos, std::string::npos);
  *text = std::move(out);
  return true;
}

using Span = std::pair<size_t, size_t>;
constexpr Span kNone{std::string::npos, std::string::npos};

// local@domain.tld
Span FindEmail(const std::string& s, size_t from) {
  auto local_ok = [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; };
  auto domain_ok = [](char c) { return IsAlnum(c) || c == '.' || c == '-'; };
  for (size_t at = s.find('@', from); at != std::string::npos; at = s.find('@', at + 1)) {
    size_t b = at;
    while (b > from && local_ok(s[b - 1])) --b;
    size_t e = at + 1;
    while (e < s.size() && domain_ok(s[e])) ++e;
    while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) --e;  // trailing punctuation
    if (b == at || e == at + 1) continue;
    const std::string domain = s.substr(at + 1, e - at - 1);
    const size_t dot = domain.rfind('.');
    if (dot == std::string::npos || dot == 0) continue;
    const std::string tld = domain.substr(dot + 1);
    if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), [](char c) {
          return absl::ascii_isalpha(static_cast<unsigned char>(c));
        })) {
      continue;
    }
    return {b, e};
  }
  return kNone;
}

// Collects up to `max` digits from `i`, allowing one separator (space . -) between pairs.
// French numbers: 0X XX XX XX XX, +33 X XX XX XX XX, +33 (0)X …, 0033 X …
Span FindPhone(const std::string& s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (i > 0 && (IsDigit(s[i - 1]) || s[i - 1] == '+')) continue;  // inside another number
    size_t p = i;
    bool international = false;
    if (s.compare(p, 3, "+33") == 0) {
      p += 3;
      international = true;
    } else if (s.compare(p, 4, "0033") == 0) {
      p += 4;
      international = true;
    } else if (s[p] != '0') {
      continue;
    }
    if (international) {
      while (p < s.size() && s[p] == ' ') ++p;
      if (s.compare(p, 3, "(0)") == 0) p += 3;
      while (p < s.size() && s[p] == ' ') ++p;
    } else {
      ++p;  // the leading 0
    }
    // Now the 9 significant digits: X then four pairs, one consistent optional separator.
    if (p >= s.size() || s[p] < '1' || s[p] > '9') continue;
    ++p;
    char sep = 0;
    bool ok = true;
    for (int pair = 0; pair < 4 && ok; ++pair) {
      const bool has_sep = p < s.size() && (s[p] == ' ' || s[p] == '.' || s[p] == '-');
      if (pair == 0 && has_sep) sep = s[p];
      if (has_sep != (sep != 0) || (has_sep && s[p] != sep)) {
        ok = false;  // separators must be used consistently between every pair
        break;
      }
      if (has_sep) ++p;
      if (p + 2 <= s.size() && IsDigit(s[p]) && IsDigit(s[p + 1])) {
        p += 2;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (p < s.size() && IsDigit(s[p])) continue;  // a longer number, not a phone
    return {i, p};
  }
  return kNone;
}

int Mod97(const std::string& digits) {
  int r = 0;
  for (char c : digits) r = (r * 10 + (c - '0')) % 97;
  return r;
}

// NIR: sex(1|2) YY MM DD(2A/2B) CCC KKK [key], optional spaces between groups; the key, when
// present, must match 97 - (number mod 97).
Span FindNir(const std::string& s, size_t from) {
  static const int kGroups[] = {1, 2, 2, 2, 3, 3};
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] != '1' && s[i] != '2') continue;
    if (i > 0 && IsAlnum(s[i - 1])) continue;
    size_t p = i;
    std::string number;
    bool ok = true;
    for (int g = 0; g < 6 && ok; ++g) {
      if (g > 0 && p < s.size() && s[p] == ' ') ++p;
      for (int k = 0; k < kGroups[g]; ++k) {
        if (p >= s.size()) {
          ok = false;
          break;
        }
        char c = s[p];
        if (g == 3 && k == 1 && number.size() == 6 && number[5] == '2' && (c == 'A' || c == 'B')) {
          // Corsica: 2A -> 19, 2B -> 18 for the key computation.
          number.resize(5);
          number += (c == 'A') ? "19" : "18";
          ++p;
          continue;
        }
        if (!IsDigit(c)) {
          ok = false;
          break;
        }
        number.push_back(c);
        ++p;
      }
    }
    if (!ok) continue;
    const int month = (number[3] - '0') * 10 + (number[4] - '0');
    if (!((month >= 1 && month <= 12) || month >= 20)) continue;
    size_t end = p;
    size_t q = p;
    if (q < s.size() && s[q] == ' ') ++q;
    if (q + 2 <= s.size() && IsDigit(s[q]) && IsDigit(s[q + 1]) &&
        (q + 2 == s.size() || !IsAlnum(s[q + 2]))) {
      const int key = (s[q] - '0') * 10 + (s[q + 1] - '0');
      if (key != 97 - Mod97(number)) continue;  // 15 digits that are not a NIR
      end = q + 2;
    } else if (end < s.size() && IsAlnum(s[end])) {
      continue;
    }
    return {i, end};
  }
  return kNone;
}

// IBAN: 2 letters, 2 check digits, 11-30 alphanumerics, optional spaces in groups; mod-97 = 1.
Span FindIban(const std::string& s, size_t from) {
  for (size_t i = from; i + 4 <= s.size(); ++i) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(s[i])) ||
        !absl::ascii_isalpha(static_cast<unsigned char>(s[i + 1])) || !IsDigit(s[i + 2]) ||
        !IsDigit(s[i + 3])) {
      continue;
    }
    if (i > 0 && IsAlnum(s[i - 1])) continue;
    std::string compact;
    std::vector<size_t> ends;  // byte end of the candidate after each character
    size_t p = i;
    while (p < s.size() && compact.size() < 34) {
      if (s[p] == ' ' && p + 1 < s.size() && IsAlnum(s[p + 1])) {
        ++p;
        continue;
      }
      if (!IsAlnum(s[p])) break;
      compact.push_back(static_cast<char>(absl::ascii_toupper(static_cast<unsigned char>(s[p]))));
      ++p;
      ends.push_back(p);
    }
    for (size_t len = compact.size(); len >= 15; --len) {
      const size_t end = ends[len - 1];
      if (end < s.size() && IsAlnum(s[end])) continue;
      const std::string cand = compact.substr(0, len);
      const std::string rearranged = cand.substr(4) + cand.substr(0, 4);
      int r = 0;
      for (char c : rearranged) {
        const int v = IsDigit(c) ? c - '0' : c - 'A' + 10;
        r = (v >= 10 ? (r * 100 + v) : (r * 10 + v)) % 97;
      }
      if (r == 1) return {i, end};
    }
  }
  return kNone;
}

}  // namespace

Masked MaskPii(std::string_view text) {
  Masked m;
  m.text = std::string(text);
  // IBAN and NIR first: their digit runs would otherwise be half-read as phone numbers.
  struct Scanner {
    const char* kind;
    const char* placeholder;
    Span (*find)(const std::string&, size_t);
  };
  static const Scanner kScanners[] = {{"iban", "[IBAN]", FindIban},
                                      {"nir", "[NIR]", FindNir},
                                      {"phone", "[téléphone]", FindPhone},
                                      {"email", "[email]", FindEmail}};
  bool found[std::size(kScanners)] = {};
  // A replacement can expose a new match: "…78FR76…" is no IBAN while a phone number is glued
  // to it, and is one once the phone number became "[téléphone]". So the scanners run until a
  // pass changes nothing (fuzz_pii found this). It ends: every replacement removes digits or an
  // '@', and no placeholder has either.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t k = 0; k < std::size(kScanners); ++k) {
      if (ReplaceAll(&m.text, kScanners[k].placeholder, kScanners[k].find)) {
        found[k] = changed = true;
      }
    }
  }
  for (size_t k = 0; k < std::size(kScanners); ++k) {
    if (found[k]) m.kinds.push_back(kScanners[k].kind);
  }
  return m;
}

}  // namespace pep::pii
