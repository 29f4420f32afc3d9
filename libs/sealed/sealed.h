// Sealed scoring's commitments (services/audit/LEDGER.md, "Sealed scoring"): what pep-ideas
// computes when a juror scores and reveals, and what pep-audit's VerifyLedger and `pepctl ledger
// verify` check on the log — one implementation for the three.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pep::sealed {

// SHA-256(salt || card): 32 raw bytes.
std::string Commitment(std::string_view salt, std::string_view card);
// 32 random bytes (OpenSSL's generator).
std::string NewSalt();

// Reads a log's events in order and names what breaks the sealed-scoring rules: a reveal whose
// card and salt do not hash to the juror's last commitment on that idea, a reveal without a
// commitment, a revealed card that is not that juror's on that idea, an unreadable payload.
class Checker {
 public:
  // `type`: the full ce_type ("pepiniere.ideas.v1.ScorecardRevealed"); other types are ignored.
  std::optional<std::string> Add(std::string_view type, const std::string& payload);
  int commitments() const { return static_cast<int>(commitments_.size()); }
  int reveals() const { return reveals_; }

 private:
  std::map<std::pair<std::string, std::string>, std::string> commitments_;  // (idea, juror)
  int reveals_ = 0;
};

}  // namespace pep::sealed
