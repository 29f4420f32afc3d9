#include "services/incubation/incubation_core.h"
#include "portfolio/budget.h"

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

std::vector<std::string> OverdueReasons(const v1::Startup& s, absl::Time now,
                                        const StalenessPolicy& policy) {
  std::vector<std::string> out;
  if (IsTerminal(s.phase()) || s.phases_size() == 0) return out;
  const absl::Time phase_start = FromTimestamp(s.phases(s.phases_size() - 1).start());
  if (portfolio::PhaseDueAt(s.phase(), phase_start, policy) < now) {
    out.push_back(absl::StrFormat("phase %s has run past its expected %d months",
                                  PhaseName(s.phase()), portfolio::ExpectedMonths(s.phase(), policy)));
  }
  // With no milestone yet, the clock starts when the start-up began.
  const absl::Time since = s.has_last_milestone_at() ? FromTimestamp(s.last_milestone_at())
                                                     : FromTimestamp(s.phases(0).start());
  if (portfolio::MilestoneDueAt(since, policy) < now) {
    out.push_back(absl::StrFormat("no milestone for %d months", policy.milestone_gap_months));
  }
  // The envelope (issue 31): exceeded, or running out within 45 days at the current pace.
  const portfolio::BudgetOutlook budget = portfolio::Outlook(s.budget(), now);
  if (budget.exceeded) {
    out.push_back(absl::StrCat("envelope exceeded: ", s.budget().paid_eur(), " of ", s.budget().envelope_eur(),
                               " euros paid"));
  } else if (budget.runs_out != absl::InfiniteFuture() && budget.runs_out <= now + portfolio::kRunOutNotice) {
    out.push_back(absl::StrCat("envelope runs out on ",
                               absl::FormatTime("%Y-%m-%d", budget.runs_out, absl::UTCTimeZone())));
  }
  // The review the last committee set (issue 31): « comité dû » once it has passed.
  if (s.has_next_review() && FromTimestamp(s.next_review()) < now) {
    out.push_back(absl::StrCat("committee due since ",
                               absl::FormatTime("%Y-%m-%d", FromTimestamp(s.next_review()), absl::UTCTimeZone())));
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

}  // namespace

absl::Status ValidateKpi(const std::string& field, const v1::Kpi& k) {
  PEP_RETURN_IF_ERROR(Text(field + ".name", k.name(), 1, 80));
  PEP_RETURN_IF_ERROR(Text(field + ".unit", k.unit(), 0, 40));
  for (const auto& [name, text] : {std::pair<const char*, const std::string*>{".name", &k.name()}, {".unit", &k.unit()}}) {
    for (unsigned char c : *text) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return FieldError(field + name, "must not contain control characters");
      }
    }
  }
  if (!std::isfinite(k.value())) return FieldError(field + ".value", "must be a finite number");
  return absl::OkStatus();
}

namespace {

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

bool IsValidImportedId(std::string_view id) {
  if (id.empty() || id.size() > 100) return false;
  for (char c : id) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
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
  for (int i = 0; i < r.kpis_size(); ++i) PEP_RETURN_IF_ERROR(ValidateKpi(absl::StrCat("kpis[", i, "]"), r.kpis(i)));
  if (r.links_size() > 20) return FieldError("links", "at most 20 links");
  for (int i = 0; i < r.links_size(); ++i) {
    PEP_RETURN_IF_ERROR(Url(absl::StrCat("links[", i, "]"), r.links(i)));
  }
  return absl::OkStatus();
}

absl::Status ValidateTeamMember(const v1::AddTeamMemberRequest& r) {
  PEP_RETURN_IF_ERROR(Text("name", r.name(), 1, 120));
  // A title in words, a kind from the list, or both (issue 31).
  if (r.role().empty() && r.kind() == v1::TEAM_ROLE_UNSPECIFIED) {
    return FieldError("role", "a title or a kind of the list (kind) is required");
  }
  PEP_RETURN_IF_ERROR(Text("role", r.role(), 0, 80));
  if (!v1::TeamRole_IsValid(r.kind())) return FieldError("kind", "is not a role of the list");
  if (!v1::MemberStatus_IsValid(r.status())) return FieldError("status", "is not a status of the list");
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
