// The portfolio import's lines: one JSON object a start-up, in beta.gouv.fr's vocabulary (phases
// by their French or English names, dates as days), parsed and normalised into what
// pep-incubation stores, with a warning or a rejection for what does not fit. Pure: no store.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/incubation/incubation_core.h"

namespace pep::incubation {

using v1::Phase;

// Import -----------------------------------------------------------------------------------

v1::Phase ParseImportPhaseName(std::string_view raw) {
  static const auto* names = new std::map<std::string, Phase>{
      {"investigation", Phase::PHASE_INVESTIGATION},
      {"construction", Phase::PHASE_CONSTRUCTION},
      {"acceleration", Phase::PHASE_ACCELERATION},
      {"consolidation", Phase::PHASE_CONSOLIDATION},
      {"perennisation", Phase::PHASE_CONSOLIDATION},
      {"success", Phase::PHASE_CONSOLIDATION},
      {"transfere", Phase::PHASE_TRANSFERRED},
      {"transfer", Phase::PHASE_TRANSFERRED},
      {"transferred", Phase::PHASE_TRANSFERRED},
      {"opere", Phase::PHASE_OPERATED},
      {"operated", Phase::PHASE_OPERATED},
      {"abandon", Phase::PHASE_ABANDONED},
      {"abandoned", Phase::PHASE_ABANDONED},
      {"abandon-investigation", Phase::PHASE_ABANDONED_IN_INVESTIGATION},
  };
  auto it = names->find(absl::AsciiStrToLower(absl::StripAsciiWhitespace(
      absl::string_view(raw.data(), raw.size()))));
  return it == names->end() ? Phase::PHASE_UNSPECIFIED : it->second;
}

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

bool ParseDay(const std::string& s, absl::Time* out) {
  std::string err;
  if (absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), out, &err)) return true;
  return absl::ParseTime(absl::RFC3339_full, s, absl::UTCTimeZone(), out, &err);
}

std::string Day(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

class LineParser {
 public:
  LineParser(ImportLine* out, absl::Time now) : out_(out), now_(now) {}

  void Warn(const std::string& rule, const std::string& detail) {
    v1::ImportWarning w;
    w.set_slug(out_->details.startup().slug());
    w.set_line(out_->line);
    w.set_rule(rule);
    w.set_detail(detail);
    out_->warnings.push_back(std::move(w));
  }

  // A string field; a present field of another type is a warning, never a silent drop.
  std::string Str(const Struct& obj, const std::string& key, const std::string& where,
                  bool required) {
    auto it = obj.fields().find(key);
    if (it == obj.fields().end() || it->second.kind_case() == Value::kNullValue ||
        (it->second.kind_case() == Value::kStringValue && it->second.string_value().empty())) {
      if (required) Warn("missing_field", absl::StrCat(where, key, " is missing"));
      return "";
    }
    if (it->second.kind_case() != Value::kStringValue) {
      Warn("invalid_field", absl::StrCat(where, key, " is not a string: ignored"));
      return "";
    }
    return it->second.string_value();
  }

  void Parse(const Struct& obj) {
    v1::Startup* s = out_->details.mutable_startup();
    static const std::set<std::string> kKnown = {"slug", "title", "mission", "incubator",
                                                 "sponsors", "phases", "events", "links"};
    for (const auto& [k, _] : obj.fields()) {
      if (!kKnown.count(k)) Warn("unknown_field", absl::StrCat("field '", k, "' is not imported"));
    }
    s->set_name(Str(obj, "title", "", true));
    s->set_mission(Str(obj, "mission", "", true));
    s->set_incubator(Str(obj, "incubator", "", true));
    if (auto it = obj.fields().find("sponsors"); it != obj.fields().end()) {
      if (it->second.kind_case() != Value::kListValue) {
        Warn("invalid_field", "sponsors is not a list: ignored");
      } else {
        for (const auto& v : it->second.list_value().values()) {
          if (v.kind_case() == Value::kStringValue && !v.string_value().empty()) {
            s->add_sponsors(v.string_value());
          } else {
            Warn("invalid_field", "a sponsor is not a non-empty string: ignored");
          }
        }
      }
    }
    if (auto it = obj.fields().find("links"); it != obj.fields().end()) {
      if (it->second.kind_case() != Value::kStructValue) {
        Warn("invalid_field", "links is not an object: ignored");
      } else {
        const Struct& l = it->second.struct_value();
        s->mutable_links()->set_repository(Str(l, "repository", "links.", false));
        s->mutable_links()->set_product(Str(l, "product", "links.", false));
        s->mutable_links()->set_stats(Str(l, "stats", "links.", false));
      }
    }
    ParsePhases(obj);
    if (out_->rejection.empty()) ParseEvents(obj);
  }

 private:
  void ParsePhases(const Struct& obj) {
    auto it = obj.fields().find("phases");
    if (it == obj.fields().end() || it->second.kind_case() != Value::kListValue) {
      out_->rejection = "no phase: 'phases' is missing or not a list";
      return;
    }
    struct P {
      v1::PhasePeriod period;
      bool has_end = false;
      int index = 0;
    };
    std::vector<P> phases;
    int index = 0;
    for (const auto& v : it->second.list_value().values()) {
      ++index;
      const std::string where = absl::StrCat("phases[", index - 1, "].");
      if (v.kind_case() != Value::kStructValue) {
        Warn("invalid_field", absl::StrCat(where, " is not an object: ignored"));
        continue;
      }
      const Struct& p = v.struct_value();
      const std::string name = Str(p, "name", where, true);
      if (name.empty()) continue;
      const Phase phase = ParseImportPhaseName(name);
      if (phase == Phase::PHASE_UNSPECIFIED) {
        Warn("unknown_phase", absl::StrCat(where, "name '", name, "' is not a known phase: ignored"));
        continue;
      }
      const std::string start = Str(p, "start", where, true);
      absl::Time t;
      if (start.empty()) continue;
      if (!ParseDay(start, &t)) {
        Warn("invalid_date", absl::StrCat(where, "start '", start, "' is not a date: phase ignored"));
        continue;
      }
      P entry;
      entry.index = index;
      entry.period.set_phase(phase);
      *entry.period.mutable_start() = ToTimestamp(t);
      entry.period.set_comment(Str(p, "comment", where, false));
      const std::string end = Str(p, "end", where, false);
      if (!end.empty()) {
        absl::Time e;
        if (!ParseDay(end, &e)) {
          Warn("invalid_date", absl::StrCat(where, "end '", end, "' is not a date: treated as missing"));
        } else if (e < t) {
          Warn("invalid_date", absl::StrCat(where, "end ", end, " is before its start ", start,
                                            ": treated as missing"));
        } else {
          *entry.period.mutable_end() = ToTimestamp(e);
          entry.has_end = true;
        }
      }
      if (t > now_ + absl::Hours(24)) {
        Warn("future_start", absl::StrCat(where, "start ", start, " is in the future"));
      }
      phases.push_back(std::move(entry));
    }
    if (phases.empty()) {
      out_->rejection = "no phase: none of the listed phases could be read";
      return;
    }
    auto start_of = [](const P& p) { return p.period.start().seconds(); };
    if (!std::is_sorted(phases.begin(), phases.end(),
                        [&](const P& a, const P& b) { return start_of(a) < start_of(b); })) {
      Warn("unsorted_phases", "phases were not in date order: sorted by start date");
      std::stable_sort(phases.begin(), phases.end(),
                       [&](const P& a, const P& b) { return start_of(a) < start_of(b); });
    }
    v1::Startup* s = out_->details.mutable_startup();
    for (size_t i = 0; i < phases.size(); ++i) {
      P& cur = phases[i];
      const std::string label = PhaseName(cur.period.phase());
      if (i + 1 < phases.size()) {
        const P& next = phases[i + 1];
        const absl::Time next_start = FromTimestamp(next.period.start());
        if (start_of(cur) == start_of(next)) {
          Warn("same_start_date", absl::StrCat(label, " and ", PhaseName(next.period.phase()),
                                               " both start on ", Day(next_start)));
        }
        if (!cur.has_end) {
          *cur.period.mutable_end() = ToTimestamp(next_start);  // the documented normalisation
        } else {
          const absl::Time end = FromTimestamp(cur.period.end());
          if (end > next_start) {
            Warn("overlap", absl::StrCat(label, " ends ", Day(end), " after ",
                                         PhaseName(next.period.phase()), " starts ",
                                         Day(next_start), ": end moved to ", Day(next_start)));
            *cur.period.mutable_end() = ToTimestamp(next_start);
          } else if (next_start - end > absl::Hours(24 * 31)) {
            Warn("gap", absl::StrCat(absl::ToInt64Hours(next_start - end) / 24, " days between ",
                                     label, " (ended ", Day(end), ") and ",
                                     PhaseName(next.period.phase()), " (started ",
                                     Day(next_start), ")"));
          }
        }
        if (!TransitionAllowed(cur.period.phase(), next.period.phase()) &&
            cur.period.phase() != next.period.phase()) {
          Warn("irregular_transition",
               absl::StrCat(label, " -> ", PhaseName(next.period.phase()),
                            " is not a move the lifecycle allows today: kept as history"));
        }
      } else if (cur.has_end && !IsTerminal(cur.period.phase())) {
        Warn("ended_without_successor",
             absl::StrCat("the last phase ", label, " ended ", Day(FromTimestamp(cur.period.end())),
                          " with no phase after it: kept as the current phase"));
      }
      *s->add_phases() = cur.period;
    }
    s->set_phase(s->phases(s->phases_size() - 1).phase());
  }

  void ParseEvents(const Struct& obj) {
    auto it = obj.fields().find("events");
    if (it == obj.fields().end()) return;
    if (it->second.kind_case() != Value::kListValue) {
      Warn("invalid_field", "events is not a list: ignored");
      return;
    }
    static const std::set<std::string> kKnown = {"committee", "product_launch", "fast",
                                                 "national_impact", "eig", "end", "other"};
    int index = 0;
    for (const auto& v : it->second.list_value().values()) {
      const std::string where = absl::StrCat("events[", index++, "].");
      if (v.kind_case() != Value::kStructValue) {
        Warn("invalid_field", absl::StrCat(where, " is not an object: ignored"));
        continue;
      }
      const Struct& e = v.struct_value();
      const std::string name = absl::AsciiStrToLower(Str(e, "name", where, true));
      if (name.empty()) continue;
      if (!kKnown.count(name)) {
        Warn("unknown_event", absl::StrCat(where, "name '", name, "' is not a known event: ignored"));
        continue;
      }
      const std::string date = Str(e, "date", where, true);
      absl::Time t;
      if (date.empty()) continue;
      if (!ParseDay(date, &t)) {
        Warn("invalid_date", absl::StrCat(where, "date '", date, "' is not a date: event ignored"));
        continue;
      }
      const std::string comment = Str(e, "comment", where, false);
      if (name == "committee") {
        auto* d = out_->details.add_decisions();
        *d->mutable_date() = ToTimestamp(t);
        d->set_outcome(v1::COMMITTEE_OUTCOME_UNSPECIFIED);  // the source does not say
        d->set_rationale(comment);
      } else {
        auto* m = out_->details.add_milestones();
        *m->mutable_date() = ToTimestamp(t);
        m->set_kind(name == "product_launch" ? v1::MILESTONE_KIND_PRODUCT_LAUNCH
                                             : v1::MILESTONE_KIND_OTHER);
        m->set_title(name);
        m->set_description(comment);
      }
    }
  }

  ImportLine* out_;
  absl::Time now_;
};

}  // namespace

ImportLine ParseImportLine(std::string_view json, int line_no, absl::Time now) {
  ImportLine out;
  out.line = line_no;
  Struct obj;
  google::protobuf::util::JsonParseOptions opts;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &obj, opts);
  if (!st.ok()) {
    out.rejection = absl::StrCat("not a JSON object: ", std::string(st.message()).substr(0, 200));
    return out;
  }
  auto slug = obj.fields().find("slug");
  if (slug == obj.fields().end() || slug->second.kind_case() != Value::kStringValue ||
      slug->second.string_value().empty()) {
    out.rejection = "no slug";
    return out;
  }
  if (!IsValidImportedId(slug->second.string_value())) {
    out.rejection = absl::StrCat("slug '", slug->second.string_value().substr(0, 100),
                                 "' is not a slug (letters, digits, '-', '_', '.', at most 100)");
    return out;
  }
  out.details.mutable_startup()->set_slug(slug->second.string_value());
  LineParser(&out, now).Parse(obj);
  return out;
}

}  // namespace pep::incubation
