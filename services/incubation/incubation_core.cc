#include "services/incubation/incubation_core.h"

#include <algorithm>
#include <functional>
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

namespace pep::incubation {

using v1::Phase;

std::string PhaseName(Phase p) {
  std::string n = v1::Phase_Name(p);
  return n.rfind("PHASE_", 0) == 0 ? n.substr(6) : n;
}

bool IsAbandon(Phase p) {
  return p == Phase::PHASE_ABANDONED || p == Phase::PHASE_ABANDONED_IN_INVESTIGATION;
}

bool IsTerminal(Phase p) {
  return IsAbandon(p) || p == Phase::PHASE_TRANSFERRED || p == Phase::PHASE_OPERATED;
}

bool TransitionAllowed(Phase from, Phase to) {
  switch (from) {
    case Phase::PHASE_INVESTIGATION:
      return to == Phase::PHASE_CONSTRUCTION || to == Phase::PHASE_ABANDONED_IN_INVESTIGATION;
    case Phase::PHASE_CONSTRUCTION:
      return to == Phase::PHASE_ACCELERATION || to == Phase::PHASE_ABANDONED;
    case Phase::PHASE_ACCELERATION:
      return to == Phase::PHASE_CONSOLIDATION || to == Phase::PHASE_ABANDONED;
    case Phase::PHASE_CONSOLIDATION:
      return to == Phase::PHASE_TRANSFERRED || to == Phase::PHASE_OPERATED ||
             to == Phase::PHASE_ABANDONED;
    default:
      return false;
  }
}

absl::Status CheckTransition(Phase from, Phase to) {
  if (TransitionAllowed(from, to)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("cannot move from ", PhaseName(from), " to ", PhaseName(to)));
}

bool RequiresCommittee(Phase from) {
  return from == Phase::PHASE_INVESTIGATION || from == Phase::PHASE_CONSTRUCTION ||
         from == Phase::PHASE_ACCELERATION;
}

absl::Status CheckCommitteeGate(const v1::CommitteeDecision* d, const std::string& startup_id,
                                Phase from, Phase to, absl::Time effective) {
  if (!RequiresCommittee(from)) return absl::OkStatus();
  const std::string move = absl::StrCat(PhaseName(from), " to ", PhaseName(to));
  if (d == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "moving from ", move, " requires a committee decision: record it, then pass decision_id"));
  }
  if (d->startup_id() != startup_id) {
    return absl::FailedPreconditionError("decision_id: the decision belongs to another start-up");
  }
  if (d->used()) {
    return absl::FailedPreconditionError("decision_id: already used by another phase change");
  }
  if (FromTimestamp(d->date()) > effective) {
    return absl::FailedPreconditionError(
        "decision_id: the committee met after the phase change's effective date");
  }
  switch (d->outcome()) {
    case v1::COMMITTEE_OUTCOME_GO:
      if (IsAbandon(to)) {
        return absl::FailedPreconditionError(
            absl::StrCat("a GO decision cannot abandon the start-up (", move, ")"));
      }
      return absl::OkStatus();
    case v1::COMMITTEE_OUTCOME_STOP:
      if (!IsAbandon(to)) {
        return absl::FailedPreconditionError(
            absl::StrCat("a STOP decision can only abandon the start-up (not ", move, ")"));
      }
      return absl::OkStatus();
    case v1::COMMITTEE_OUTCOME_PIVOT:
      return absl::OkStatus();
    case v1::COMMITTEE_OUTCOME_EXTEND:
      return absl::FailedPreconditionError(
          "an EXTEND decision keeps the start-up in its phase: no phase change");
    default:
      return absl::FailedPreconditionError(
          "decision_id: the decision has no outcome (imported): record a new decision");
  }
}

absl::Status CheckEffectiveDate(absl::Time effective, absl::Time current_phase_start,
                                absl::Time now) {
  if (effective > now + absl::Hours(24)) {
    return FieldError("effective_date", "more than one day in the future");
  }
  if (effective < current_phase_start) {
    return absl::FailedPreconditionError(absl::StrCat(
        "effective_date: before the current phase began (",
        absl::FormatTime("%Y-%m-%d", current_phase_start, absl::UTCTimeZone()),
        "); phase history cannot overlap"));
  }
  return absl::OkStatus();
}

void ApplyPhaseChange(v1::Startup* s, Phase to, absl::Time effective,
                      const std::string& decision_id, const std::string& comment) {
  if (s->phases_size() > 0) {
    *s->mutable_phases(s->phases_size() - 1)->mutable_end() = ToTimestamp(effective);
  }
  auto* p = s->add_phases();
  p->set_phase(to);
  *p->mutable_start() = ToTimestamp(effective);
  p->set_decision_id(decision_id);
  p->set_comment(comment);
  s->set_phase(to);
}

absl::Time AddMonths(absl::Time t, int months) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  return absl::FromCivil(absl::CivilSecond(c.year(), c.month() + months, c.day(), c.hour(),
                                           c.minute(), c.second()),
                         absl::UTCTimeZone());
}

std::vector<std::string> OverdueReasons(const v1::Startup& s, absl::Time now,
                                        const StalenessPolicy& policy) {
  std::vector<std::string> out;
  if (IsTerminal(s.phase()) || s.phases_size() == 0) return out;
  const absl::Time phase_start = FromTimestamp(s.phases(s.phases_size() - 1).start());
  int limit = 0;
  switch (s.phase()) {
    case Phase::PHASE_INVESTIGATION: limit = policy.investigation_months; break;
    case Phase::PHASE_CONSTRUCTION: limit = policy.construction_months; break;
    case Phase::PHASE_ACCELERATION: limit = policy.acceleration_months; break;
    default: break;
  }
  if (limit > 0 && AddMonths(phase_start, limit) < now) {
    out.push_back(absl::StrFormat("phase %s has run past its expected %d months",
                                  PhaseName(s.phase()), limit));
  }
  // With no milestone yet, the clock starts when the start-up began.
  const absl::Time since = s.has_last_milestone_at() ? FromTimestamp(s.last_milestone_at())
                                                     : FromTimestamp(s.phases(0).start());
  if (AddMonths(since, policy.milestone_gap_months) < now) {
    out.push_back(absl::StrFormat("no milestone for %d months", policy.milestone_gap_months));
  }
  return out;
}

namespace {

absl::Status Text(const std::string& field, const std::string& v, int min, int max) {
  // Strings reaching here were parsed by protobuf, which guarantees valid UTF-8.
  const int n = Utf8Length(v);
  if (n < min || n > max) {
    if (n == 0) return FieldError(field, absl::StrFormat("is required (1-%d characters)", max));
    return FieldError(field, absl::StrFormat("must be %d-%d characters (got %d)", min, max, n));
  }
  return absl::OkStatus();
}

absl::Status Url(const std::string& field, const std::string& v) {
  if (v.empty()) return absl::OkStatus();
  if (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0) {
    return FieldError(field, absl::StrCat("must be an http(s) URL (got '", v.substr(0, 80), "')"));
  }
  return Text(field, v, 1, 2000);
}

absl::Status ListOf(const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& v,
                    int max_items, int max_len) {
  if (v.size() > max_items) {
    return FieldError(field, absl::StrFormat("at most %d entries (got %d)", max_items, v.size()));
  }
  for (int i = 0; i < v.size(); ++i) {
    PEP_RETURN_IF_ERROR(Text(absl::StrCat(field, "[", i, "]"), v[i], 1, max_len));
  }
  return absl::OkStatus();
}

absl::Status ValidateLinks(const v1::Links& l) {
  PEP_RETURN_IF_ERROR(Url("links.repository", l.repository()));
  PEP_RETURN_IF_ERROR(Url("links.product", l.product()));
  return Url("links.stats", l.stats());
}

}  // namespace

std::string Slugify(std::string_view name) {
  std::string out = FoldForSearch(name);  // accents off, one space between words
  std::replace(out.begin(), out.end(), ' ', '-');
  if (out.size() > 80) out.resize(80);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

bool IsValidSlug(std::string_view slug) {
  if (slug.empty() || slug.size() > 100) return false;
  for (char c : slug) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateCreate(const v1::CreateStartupRequest& r) {
  PEP_RETURN_IF_ERROR(Text("name", r.name(), 1, 120));
  if (!r.slug().empty() && !IsValidSlug(r.slug())) {
    return FieldError("slug", "lower-case letters, digits, '-', '_' or '.', at most 100");
  }
  if (r.slug().empty() && Slugify(r.name()).empty()) {
    return FieldError("slug", "cannot be derived from the name: give one");
  }
  PEP_RETURN_IF_ERROR(Text("mission", r.mission(), 1, 2000));
  PEP_RETURN_IF_ERROR(Text("incubator", r.incubator(), 1, 120));
  PEP_RETURN_IF_ERROR(ListOf("sponsors", r.sponsors(), 20, 120));
  PEP_RETURN_IF_ERROR(ListOf("tags", r.tags(), 30, 60));
  return ValidateLinks(r.links());
}

absl::Status ValidateUpdate(const v1::UpdateStartupRequest& r) {
  if (!r.name().empty()) PEP_RETURN_IF_ERROR(Text("name", r.name(), 1, 120));
  if (!r.mission().empty()) PEP_RETURN_IF_ERROR(Text("mission", r.mission(), 1, 2000));
  if (!r.incubator().empty()) PEP_RETURN_IF_ERROR(Text("incubator", r.incubator(), 1, 120));
  PEP_RETURN_IF_ERROR(ListOf("sponsors", r.sponsors(), 20, 120));
  PEP_RETURN_IF_ERROR(ListOf("tags", r.tags(), 30, 60));
  return ValidateLinks(r.links());
}

absl::Status ValidateDecision(const v1::RecordCommitteeDecisionRequest& r, absl::Time now) {
  if (!r.has_date()) return FieldError("date", "is required");
  if (FromTimestamp(r.date()) > now + absl::Hours(24)) {
    return FieldError("date", "a committee cannot have met more than one day in the future");
  }
  if (r.outcome() == v1::COMMITTEE_OUTCOME_UNSPECIFIED) {
    return FieldError("outcome", "must be GO, STOP, PIVOT or EXTEND");
  }
  PEP_RETURN_IF_ERROR(Text("rationale", r.rationale(), 1, 5000));
  if (r.participants_size() == 0) return FieldError("participants", "at least one participant");
  PEP_RETURN_IF_ERROR(ListOf("participants", r.participants(), 50, 120));
  return ListOf("document_refs", r.document_refs(), 50, 2000);
}

absl::Status ValidateMilestone(const v1::PushMilestoneRequest& r, absl::Time now) {
  PEP_RETURN_IF_ERROR(Text("idempotency_key", r.idempotency_key(), 1, 128));
  PEP_RETURN_IF_ERROR(Text("title", r.title(), 1, 140));
  PEP_RETURN_IF_ERROR(Text("description", r.description(), 0, 5000));
  if (!r.has_date()) return FieldError("date", "is required");
  if (FromTimestamp(r.date()) > now + absl::Hours(24)) {
    return FieldError("date", "more than one day in the future");
  }
  if (r.kind() == v1::MILESTONE_KIND_UNSPECIFIED) {
    return FieldError("kind", "must be PRODUCT_LAUNCH, USERS_REACHED, KPI, FUNDING, TEAM or OTHER");
  }
  if (r.kind() == v1::MILESTONE_KIND_KPI && r.kpis_size() == 0) {
    return FieldError("kpis", "a KPI milestone needs at least one value");
  }
  if (r.kpis_size() > 20) return FieldError("kpis", "at most 20 values");
  for (int i = 0; i < r.kpis_size(); ++i) {
    PEP_RETURN_IF_ERROR(Text(absl::StrCat("kpis[", i, "].name"), r.kpis(i).name(), 1, 80));
    PEP_RETURN_IF_ERROR(Text(absl::StrCat("kpis[", i, "].unit"), r.kpis(i).unit(), 0, 40));
    if (!std::isfinite(r.kpis(i).value())) {
      return FieldError(absl::StrCat("kpis[", i, "].value"), "must be a finite number");
    }
  }
  if (r.links_size() > 20) return FieldError("links", "at most 20 links");
  for (int i = 0; i < r.links_size(); ++i) {
    PEP_RETURN_IF_ERROR(Url(absl::StrCat("links[", i, "]"), r.links(i)));
  }
  return absl::OkStatus();
}

absl::Status ValidateTeamMember(const v1::AddTeamMemberRequest& r) {
  PEP_RETURN_IF_ERROR(Text("name", r.name(), 1, 120));
  PEP_RETURN_IF_ERROR(Text("role", r.role(), 1, 80));
  PEP_RETURN_IF_ERROR(Text("email", r.email(), 0, 254));
  if (!r.email().empty()) {
    const size_t at = r.email().find('@');
    if (at == std::string::npos || at == 0 || at + 1 == r.email().size() ||
        r.email().find(' ') != std::string::npos) {
      return FieldError("email", absl::StrCat("is not an e-mail address: '", r.email(), "'"));
    }
  }
  return absl::OkStatus();
}

std::string MilestoneFingerprint(const v1::PushMilestoneRequest& r) {
  v1::PushMilestoneRequest copy = r;
  copy.clear_idempotency_key();
  return DeterministicBytes(copy);
}

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
  if (!IsValidSlug(slug->second.string_value())) {
    out.rejection = absl::StrCat("slug '", slug->second.string_value().substr(0, 100),
                                 "' is not a slug (lower-case letters, digits, '-', '_', '.')");
    return out;
  }
  out.details.mutable_startup()->set_slug(slug->second.string_value());
  LineParser(&out, now).Parse(obj);
  return out;
}

// Stats ------------------------------------------------------------------------------------

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

v1::PortfolioStats ComputeStats(const std::vector<v1::Startup>& startups, absl::Time now,
                                const StalenessPolicy& policy) {
  v1::PortfolioStats out;
  std::map<Phase, std::vector<double>> days;
  std::map<int, int> per_year;
  for (const auto& s : startups) {
    ++(*out.mutable_startups_by_phase())[PhaseName(s.phase())];
    out.set_total(out.total() + 1);
    if (!OverdueReasons(s, now, policy).empty()) out.set_overdue(out.overdue() + 1);
    for (int i = 0; i < s.phases_size(); ++i) {
      const auto& p = s.phases(i);
      if (p.has_end()) {
        days[p.phase()].push_back(
            absl::ToDoubleHours(FromTimestamp(p.end()) - FromTimestamp(p.start())) / 24.0);
      }
      if (i > 0) {
        ++per_year[absl::ToCivilYear(FromTimestamp(p.start()), absl::UTCTimeZone()).year()];
      }
    }
  }
  for (auto& [phase, d] : days) {
    auto* ds = out.add_durations();
    ds->set_phase(phase);
    ds->set_completed(static_cast<int>(d.size()));
    ds->set_median_days(Percentile(d, 0.5));
    ds->set_p90_days(Percentile(d, 0.9));
  }
  for (const auto& [year, n] : per_year) {
    auto* t = out.add_transitions_per_year();
    t->set_year(year);
    t->set_transitions(n);
  }
  return out;
}

// --- portfolio listing -----------------------------------------------------------------------

namespace {

// The plain letters of U+00C0..U+00FF (Latin-1 Supplement), '\0' where none fits; œ/æ (U+0153,
// U+00E6) are handled apart as two letters.
constexpr char kLatin1FoldChars[] =
    "aaaaaaaceeeeiiii" "dnooooo\0ouuuuyts"  // U+00C0-U+00DF (× is U+00D7)
    "aaaaaaaceeeeiiii" "dnooooo\0ouuuuyty";  // U+00E0-U+00FF (÷ is U+00F7)
constexpr std::string_view kLatin1Fold(kLatin1FoldChars, sizeof kLatin1FoldChars - 1);
static_assert(kLatin1Fold.size() == 64);

}  // namespace

std::string FoldForSearch(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = true;  // no leading space
  auto letter = [&](char c) {
    out.push_back(c);
    space = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (absl::ascii_isalnum(c)) {
      letter(static_cast<char>(absl::ascii_tolower(c)));
      continue;
    }
    if (c >= 0x80 && i + 1 < text.size()) {
      const auto d = static_cast<unsigned char>(text[i + 1]);
      const uint32_t cp = ((c & 0x1Fu) << 6) | (d & 0x3Fu);
      if (c == 0xC3 && (d & 0xC0u) == 0x80 && kLatin1Fold[cp - 0xC0] != '\0') {
        letter(kLatin1Fold[cp - 0xC0]);
        if (cp == 0xC6 || cp == 0xE6) letter('e');  // æ
        ++i;
        continue;
      }
      if (c == 0xC5 && (d == 0x92 || d == 0x93)) {  // Œ œ
        letter('o');
        letter('e');
        ++i;
        continue;
      }
    }
    if (!space) out.push_back(' ');
    space = true;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool MatchesQuery(const v1::Startup& s, const std::vector<std::string>& folded_words) {
  if (folded_words.empty()) return true;
  const std::string hay = absl::StrCat(FoldForSearch(s.name()), " ", FoldForSearch(s.slug()), " ",
                                       FoldForSearch(s.mission()));
  for (const std::string& w : folded_words) {
    if (hay.find(w) == std::string::npos) return false;
  }
  return true;
}

absl::Status SortStartups(std::vector<v1::Startup>* startups, std::string_view order_by) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return v;
  };
  std::string_view key = trim(order_by);
  bool desc = false;
  if (key.size() > 5 && key.substr(key.size() - 5) == " desc") {
    desc = true;
    key = trim(key.substr(0, key.size() - 5));
  } else if (key.size() > 4 && key.substr(key.size() - 4) == " asc") {
    key = trim(key.substr(0, key.size() - 4));
  }
  auto seconds = [](const google::protobuf::Timestamp& t) { return t.seconds(); };
  auto phase_since = [&](const v1::Startup& s) {
    return s.phases().empty() ? int64_t{0} : seconds(s.phases(s.phases_size() - 1).start());
  };
  // Compares on the key only (-1, 0, 1); the name then the id break ties, always ascending.
  std::function<int(const v1::Startup&, const v1::Startup&)> cmp;
  auto three_way = [](const auto& a, const auto& b) { return a < b ? -1 : b < a ? 1 : 0; };
  if (key.empty() || key == "name") {
    cmp = [](const v1::Startup&, const v1::Startup&) { return 0; };
  } else if (key == "phase") {
    cmp = [&](const v1::Startup& a, const v1::Startup& b) { return three_way(int{a.phase()}, int{b.phase()}); };
  } else if (key == "incubator") {
    cmp = [&](const v1::Startup& a, const v1::Startup& b) {
      return three_way(FoldForSearch(a.incubator()), FoldForSearch(b.incubator()));
    };
  } else if (key == "phase_since") {
    cmp = [&](const v1::Startup& a, const v1::Startup& b) { return three_way(phase_since(a), phase_since(b)); };
  } else if (key == "last_milestone_at") {
    cmp = [&](const v1::Startup& a, const v1::Startup& b) {
      return three_way(seconds(a.last_milestone_at()), seconds(b.last_milestone_at()));
    };
  } else if (key == "created_at") {
    cmp = [&](const v1::Startup& a, const v1::Startup& b) {
      return three_way(seconds(a.created_at()), seconds(b.created_at()));
    };
  } else {
    return FieldError("order_by", absl::StrCat("'", std::string(order_by),
                                               "' is not one of name, phase, incubator, phase_since, "
                                               "last_milestone_at, created_at (optionally followed by ' desc')"));
  }
  const bool by_name = key.empty() || key == "name";
  // Fold each name once, not at every comparison.
  std::vector<std::pair<std::string, size_t>> names;
  names.reserve(startups->size());
  for (size_t i = 0; i < startups->size(); ++i) names.emplace_back(FoldForSearch((*startups)[i].name()), i);
  std::vector<size_t> order(startups->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const v1::Startup& a = (*startups)[x];
    const v1::Startup& b = (*startups)[y];
    int c = cmp(a, b);
    if (c == 0 && by_name) c = three_way(names[x].first, names[y].first);
    if (c != 0) return desc ? c > 0 : c < 0;
    c = three_way(names[x].first, names[y].first);
    if (c != 0) return c < 0;
    return a.id() < b.id();
  });
  std::vector<v1::Startup> sorted;
  sorted.reserve(startups->size());
  for (size_t i : order) sorted.push_back(std::move((*startups)[i]));
  *startups = std::move(sorted);
  return absl::OkStatus();
}

}  // namespace pep::incubation
