// Every PII pattern: true positives by kind, false positives left alone, idempotence.
#include "pii/pii.h"

#include "gtest/gtest.h"

namespace pep::pii {
namespace {

struct PiiCase {
  std::string in, out;
  std::vector<std::string> kinds;
};

TEST(Pii, TruePositivesAreMaskedByKind) {
  const std::vector<PiiCase> cases = {
      {"écrivez à jean.dupont@example.fr svp", "écrivez à [email] svp", {"email"}},
      {"mail: a_b+c@sub.mairie-nice.fr.", "mail: [email].", {"email"}},
      {"appelez le 06 12 34 56 78", "appelez le [téléphone]", {"phone"}},
      {"tel 0612345678.", "tel [téléphone].", {"phone"}},
      {"01.23.45.67.89 ou 04-93-00-00-00", "[téléphone] ou [téléphone]", {"phone"}},
      {"+33 6 12 34 56 78", "[téléphone]", {"phone"}},
      {"+33612345678 / 0033 1 23 45 67 89", "[téléphone] / [téléphone]", {"phone"}},
      {"+33 (0)6 12 34 56 78", "[téléphone]", {"phone"}},
      {"mon NIR 1 85 05 78 006 084 91 merci", "mon NIR [NIR] merci", {"nir"}},
      {"185057800608491", "[NIR]", {"nir"}},
      {"sans clé 1850578006084", "sans clé [NIR]", {"nir"}},
      {"IBAN FR76 3000 6000 0112 3456 7890 189 !", "IBAN [IBAN] !", {"iban"}},
      {"de89370400440532013000", "[IBAN]", {"iban"}},
      {"x@y.fr et 0612345678", "[email] et [téléphone]", {"phone", "email"}},
  };
  for (const auto& c : cases) {
    Masked m = MaskPii(c.in);
    EXPECT_EQ(m.text, c.out) << c.in;
    EXPECT_EQ(m.kinds, c.kinds) << c.in;
  }
}

TEST(Pii, LookAlikesAreLeftAlone) {
  for (const std::string text : {
           "rendez-vous le 12/03/2025 à 14h",      // a date is not a phone number
           "le 2025-03-12, ça marche",              // nor an ISO date
           "1 200 usagers en 2024",                  // nor a count
           "dossier n° 0123",                        // nor a short reference
           "06 12 34 56 789",                        // 11 digits: not a French phone number
           "06 12.34 56 78",                         // inconsistent separators
           "contact @mairie ou a@b",                 // no address
           "FR76 3000 6000 0112 3456 7890 188",      // IBAN with a wrong checksum
           "185057800608490",                        // NIR with a wrong key
           "3 85 05 78 006 084",                     // NIR must start with 1 or 2
           "version 2.0.12, build 20240312",
       }) {
    Masked m = MaskPii(text);
    EXPECT_EQ(m.text, text);
    EXPECT_TRUE(m.kinds.empty()) << text << " -> " << m.text;
  }
}

// Found by fuzz_pii: masking must be idempotent, whatever sits around a placeholder.
TEST(Pii, MaskingTwiceChangesNothing) {
  for (const std::string& text : {
           std::string("\xc3" "AN Fz \xc3\xa0 jeanne.dupont@example.gouv.fr ou au 06 12 34 56 "
                       "78FR76 AN FR76 300456 783456 7 090 18056 7 090 18000 0112 3456 7 09z"
                       "\xd3\xc7" "9."),
       }) {
    const Masked once = MaskPii(text);
    const Masked twice = MaskPii(once.text);
    EXPECT_EQ(twice.text, once.text) << text;
    EXPECT_TRUE(twice.kinds.empty()) << once.text << " -> " << twice.text;
  }
}

}  // namespace
}  // namespace pep::pii
