#include "sealed/sealed.h"

#include "absl/strings/str_cat.h"
#include "openssl/rand.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "tlog/merkle.h"

namespace pep::sealed {

namespace iv1 = ::pepiniere::ideas::v1;

std::string Commitment(std::string_view salt, std::string_view card) {
  const tlog::Hash h = tlog::Sha256({salt, card});
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

std::string NewSalt() {
  std::string salt(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), 32) != 1) std::abort();
  return salt;
}

std::optional<std::string> Checker::Add(std::string_view type, const std::string& payload) {
  if (type == "pepiniere.ideas.v1.ScorecardCommitted") {
    iv1::ScorecardCommitted c;
    if (!c.ParseFromString(payload) || c.commitment().size() != 32) {
      return std::string("a scorecard commitment is unreadable");
    }
    commitments_[{c.idea_id(), c.juror_id()}] = c.commitment();
    return std::nullopt;
  }
  if (type != "pepiniere.ideas.v1.ScorecardRevealed") return std::nullopt;
  ++reveals_;
  iv1::ScorecardRevealed r;
  if (!r.ParseFromString(payload)) return std::string("a revealed scorecard is unreadable");
  const std::string who = absl::StrCat("juror ", r.juror_id(), "'s scorecard on idea ", r.idea_id());
  auto it = commitments_.find({r.idea_id(), r.juror_id()});
  if (it == commitments_.end()) return absl::StrCat(who, " is revealed without a commitment");
  if (Commitment(r.salt(), r.card()) != it->second) {
    return absl::StrCat(who, " does not match its commitment: the scores changed after they were sealed");
  }
  iv1::Scorecard card;
  if (!card.ParseFromString(r.card()) || card.idea_id() != r.idea_id() || card.juror_id() != r.juror_id()) {
    return absl::StrCat(who, ": the revealed card is not that juror's on that idea");
  }
  return std::nullopt;
}

}  // namespace pep::sealed
