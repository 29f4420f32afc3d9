#include "services/feedback/feedback_core.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "pepiniere/incubation/v1/incubation.pb.h"
#include "common/uuid.h"

namespace pep::feedback {


absl::Status ValidateSubmit(const v1::SubmitFeedbackRequest& r) {
  if (r.startup_id().empty()) return FieldError("startup_id", "is required");
  if (!IsUuid(r.startup_id())) return FieldError("startup_id", "is not a valid id");
  if (r.satisfaction() == v1::SATISFACTION_UNSPECIFIED) {
    return FieldError("satisfaction", "is required: GOOD, MEDIUM or BAD");
  }
  if (!v1::Satisfaction_IsValid(r.satisfaction())) {
    return FieldError("satisfaction", absl::StrCat("unknown value ", r.satisfaction()));
  }
  if (r.has_clarity() && (r.clarity() < 1 || r.clarity() > 5)) {
    return FieldError("clarity", absl::StrFormat("must be 1-5 (got %d)", r.clarity()));
  }
  if (r.has_nps() && (r.nps() < 0 || r.nps() > 10)) {
    return FieldError("nps", absl::StrFormat("must be 0-10 (got %d)", r.nps()));
  }
  if (!r.placement().empty() && !IsUuid(r.placement())) {
    return FieldError("placement", "is not a placement id (the p= of the button's link)");
  }
  if (r.help_size() > 9) return FieldError("help", "at most one entry per channel");
  std::set<int> seen;
  bool no_help = false;
  for (int i = 0; i < r.help_size(); ++i) {
    const auto& h = r.help(i);
    const std::string field = absl::StrCat("help[", i, "].channel");
    if (h.channel() == v1::HELP_CHANNEL_UNSPECIFIED || !v1::HelpChannel_IsValid(h.channel())) {
      return FieldError(field, "must be a help channel");
    }
    if (!seen.insert(h.channel()).second) return FieldError(field, "listed twice");
    no_help |= h.channel() == v1::HELP_CHANNEL_NO_HELP_NEEDED;
  }
  if (no_help && r.help_size() > 1) {
    return FieldError("help", "\"no help needed\" cannot be combined with a channel");
  }
  const int n = Utf8Length(r.verbatim());
  if (n > kVerbatimMax) {
    return FieldError("verbatim", absl::StrFormat("at most %d characters (got %d)", kVerbatimMax, n));
  }
  if (Utf8Length(r.idempotency_key()) > 128) return FieldError("idempotency_key", "at most 128 characters");
  return absl::OkStatus();
}

bool AcceptsFeedback(int phase) {
  using P = ::pepiniere::incubation::v1::Phase;
  switch (phase) {
    case P::PHASE_CONSTRUCTION:
    case P::PHASE_ACCELERATION:
    case P::PHASE_CONSOLIDATION:
    case P::PHASE_TRANSFERRED:
    case P::PHASE_OPERATED:
      return true;
    default:
      return false;
  }
}


v1::Band BandFor(double score) {
  if (score >= 8) return v1::BAND_GREEN;
  if (score >= 5) return v1::BAND_YELLOW;
  return v1::BAND_RED;
}

void ScoreTally::Add(const v1::Feedback& f) {
  ++answers_;
  sat_ += f.satisfaction() == v1::SATISFACTION_GOOD ? 10 : f.satisfaction() == v1::SATISFACTION_MEDIUM ? 5 : 0;
  if (f.has_clarity()) {
    clar_ += (f.clarity() - 1) * 2.5;
    ++clar_n_;
  }
  if (f.help_size() > 0) {
    ++help_answered_;
    bool any_channel = false, any_reached = false;
    for (const auto& h : f.help()) {
      if (h.channel() == v1::HELP_CHANNEL_NO_HELP_NEEDED) {
        ++autonomous_;
      } else {
        any_channel = true;
        any_reached |= h.reached();
      }
    }
    if (any_channel) {
      ++tried_;
      reached_ += any_reached;
    }
  }
  if (f.has_nps()) {
    ++nps_n_;
    promoters_ += f.nps() >= 9;
    detractors_ += f.nps() <= 6;
  }
}

v1::Scores ScoreTally::Scores(int threshold) const {
  v1::Scores s;
  s.set_answers(static_cast<int>(answers_));
  if (answers_ > 0) s.set_satisfaction(sat_ / static_cast<double>(answers_));
  if (clar_n_ > 0) s.set_clarity(clar_ / static_cast<double>(clar_n_));
  if (tried_ > 0) s.set_help_reached(static_cast<double>(reached_) / static_cast<double>(tried_));
  if (help_answered_ > 0) {
    s.set_autonomy(static_cast<double>(autonomous_) / static_cast<double>(help_answered_));
  }
  if (nps_n_ > 0) {
    s.set_nps(100.0 * static_cast<double>(promoters_ - detractors_) / static_cast<double>(nps_n_));
  }
  s.set_band(answers_ < threshold || answers_ == 0 ? v1::BAND_INSUFFICIENT_DATA
                                                   : BandFor(s.satisfaction()));
  return s;
}

v1::Scores ComputeScores(const std::vector<v1::Feedback>& answers, int threshold) {
  ScoreTally t;
  for (const auto& f : answers) t.Add(f);
  return t.Scores(threshold);
}

absl::Time BucketStart(absl::Time t, v1::Granularity g) {
  const absl::CivilDay day = absl::ToCivilDay(t, absl::UTCTimeZone());
  switch (g) {
    case v1::GRANULARITY_WEEK: {
      absl::CivilDay d = day;
      while (absl::GetWeekday(d) != absl::Weekday::monday) --d;
      return absl::FromCivil(d, absl::UTCTimeZone());
    }
    case v1::GRANULARITY_MONTH:
      return absl::FromCivil(absl::CivilMonth(day), absl::UTCTimeZone());
    default:
      return absl::FromCivil(day, absl::UTCTimeZone());
  }
}

absl::Time NextBucket(absl::Time start, v1::Granularity g) {
  const absl::CivilDay day = absl::ToCivilDay(start, absl::UTCTimeZone());
  switch (g) {
    case v1::GRANULARITY_WEEK:
      return absl::FromCivil(day + 7, absl::UTCTimeZone());
    case v1::GRANULARITY_MONTH:
      return absl::FromCivil(absl::CivilMonth(day) + 1, absl::UTCTimeZone());
    default:
      return absl::FromCivil(day + 1, absl::UTCTimeZone());
  }
}

namespace {
std::string SatisfactionName(v1::Satisfaction s) {
  return absl::AsciiStrToLower(v1::Satisfaction_Name(s).substr(strlen("SATISFACTION_")));
}
std::string HelpText(const v1::Feedback& f) {
  std::vector<std::string> parts;
  for (const auto& h : f.help()) {
    std::string name = absl::AsciiStrToLower(v1::HelpChannel_Name(h.channel()).substr(strlen("HELP_CHANNEL_")));
    if (h.channel() != v1::HELP_CHANNEL_NO_HELP_NEEDED) name += h.reached() ? ":reached" : ":not_reached";
    parts.push_back(name);
  }
  return absl::StrJoin(parts, ";");
}
// RFC 4180 quoting, and a cell that a spreadsheet would read as a formula (= + - @, or a
// leading tab or CR) gets a leading apostrophe (OWASP's CSV-injection advice): verbatims are
// typed by the public. French Excel splits lines at ';' and ignores quotes that do not open a
// field, so each piece after a ';' is neutralised the same way (issue 26).
std::string CsvField(const std::string& raw) {
  auto formula = [](char c) { return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r'; };
  std::string v;
  v.reserve(raw.size() + 2);
  bool piece_start = true;  // at the start of the cell or just after a ';'
  for (const char c : raw) {
    if (piece_start && formula(c)) v += '\'';
    v += c;
    if (c == ';') {
      piece_start = true;
    } else if (c != ' ' || !piece_start) {
      piece_start = false;  // spaces after ';' do not end the piece's start (" =1+1")
    }
  }
  if (v.find_first_of(",\"\n\r;") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string CsvHeader() { return "id,received_at,satisfaction,clarity,nps,help,verbatim,pii_masked\n"; }

std::string CsvLine(const v1::Feedback& f) {
  return absl::StrCat(f.id(), ",", FormatRfc3339(FromTimestamp(f.received_at())), ",",
                      SatisfactionName(f.satisfaction()), ",",
                      f.has_clarity() ? absl::StrCat(f.clarity()) : "", ",",
                      f.has_nps() ? absl::StrCat(f.nps()) : "", ",", CsvField(HelpText(f)), ",",
                      CsvField(f.hidden() ? "" : f.verbatim()), ",", f.pii_masked() ? "1" : "0",
                      "\n");
}

std::string JsonLine(const v1::Feedback& f) {
  std::string line = absl::StrCat(R"({"id":")", f.id(), R"(","received_at":")",
                                  FormatRfc3339(FromTimestamp(f.received_at())),
                                  R"(","satisfaction":")", SatisfactionName(f.satisfaction()), "\"");
  if (f.has_clarity()) absl::StrAppend(&line, R"(,"clarity":)", f.clarity());
  if (f.has_nps()) absl::StrAppend(&line, R"(,"nps":)", f.nps());
  absl::StrAppend(&line, R"(,"help":")", JsonEscape(HelpText(f)), R"(","verbatim":")",
                  JsonEscape(f.hidden() ? "" : f.verbatim()), R"(","pii_masked":)",
                  f.pii_masked() ? "true" : "false", "}\n");
  return line;
}

}  // namespace pep::feedback
