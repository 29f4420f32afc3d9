#include "services/gateway/opendata.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"

namespace pep::gateway {

namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

std::string Day(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone());
}

Value Str(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

Value Obj(Struct s) {
  Value v;
  *v.mutable_struct_value() = std::move(s);
  return v;
}

Value List(ListValue l) {
  Value v;
  *v.mutable_list_value() = std::move(l);
  return v;
}

// JSON with each object's keys sorted: the same list gives the same bytes, hence the same ETag
// (protobuf's printer walks a Struct's map in no fixed order).
void Write(const Value& v, std::string* out);

void WriteString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          absl::StrAppend(out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out->push_back(static_cast<char>(c));  // UTF-8 as it is
        }
    }
  }
  out->push_back('"');
}

void Write(const Value& v, std::string* out) {
  switch (v.kind_case()) {
    case Value::kStringValue: return WriteString(v.string_value(), out);
    case Value::kBoolValue: out->append(v.bool_value() ? "true" : "false"); return;
    case Value::kNumberValue: absl::StrAppend(out, v.number_value()); return;
    case Value::kListValue: {
      out->push_back('[');
      for (int i = 0; i < v.list_value().values_size(); ++i) {
        if (i > 0) out->push_back(',');
        Write(v.list_value().values(i), out);
      }
      out->push_back(']');
      return;
    }
    case Value::kStructValue: {
      std::map<std::string, const Value*> sorted;
      for (const auto& [k, f] : v.struct_value().fields()) sorted[k] = &f;
      out->push_back('{');
      bool first = true;
      for (const auto& [k, f] : sorted) {
        if (!first) out->push_back(',');
        first = false;
        WriteString(k, out);
        out->push_back(':');
        Write(*f, out);
      }
      out->push_back('}');
      return;
    }
    default: out->append("null"); return;
  }
}

std::string Json(const Struct& s) {
  Value v;
  *v.mutable_struct_value() = s;
  std::string out;
  Write(v, &out);
  return out;
}

Value Phases(const nv1::PublicStartup& s) {
  ListValue l;
  for (const auto& p : s.phases()) {
    Struct o;
    (*o.mutable_fields())["name"] = Str(BetaPhase(p.phase()));
    (*o.mutable_fields())["start"] = Str(Day(p.start()));
    if (p.has_end()) (*o.mutable_fields())["end"] = Str(Day(p.end()));
    *l.add_values() = Obj(std::move(o));
  }
  return List(std::move(l));
}

Value Strings(const google::protobuf::RepeatedPtrField<std::string>& items) {
  ListValue l;
  for (const auto& i : items) *l.add_values() = Str(i);
  return List(std::move(l));
}

bool Abandoned(nv1::Phase p) {
  return p == nv1::PHASE_ABANDONED || p == nv1::PHASE_ABANDONED_IN_INVESTIGATION;
}

}  // namespace

std::string BetaPhase(nv1::Phase p) {
  switch (p) {
    case nv1::PHASE_INVESTIGATION: return "investigation";
    case nv1::PHASE_CONSTRUCTION: return "construction";
    case nv1::PHASE_ACCELERATION: return "acceleration";
    case nv1::PHASE_CONSOLIDATION:  // beta.gouv.fr has no consolidation: pérennisé is « success »
    case nv1::PHASE_OPERATED: return "success";
    case nv1::PHASE_TRANSFERRED: return "transfer";
    default: return "alumni";  // abandoned: « partenariat terminé »
  }
}

std::string StartupsJson(const nv1::ListPublicStartupsResponse& list, const std::string& self_url) {
  Struct doc;
  Struct links;
  (*links.mutable_fields())["self"] = Str(self_url);
  (*doc.mutable_fields())["links"] = Obj(std::move(links));
  ListValue data;
  std::map<std::string, bool> incubators;
  for (const auto& s : list.startups()) {
    Struct a;
    auto& f = *a.mutable_fields();
    f["name"] = Str(s.name());
    if (s.policy().mission()) f["pitch"] = Str(s.mission());
    if (s.policy().links()) {
      if (!s.links().stats().empty()) f["stats_url"] = Str(s.links().stats());
      if (!s.links().product().empty()) f["link"] = Str(s.links().product());
      if (!s.links().repository().empty()) f["repository"] = Str(s.links().repository());
    }
    if (s.policy().phases()) {
      f["phases"] = Phases(s);
      ListValue events;  // v2.7 knows « fast », « national_impact » and « end »: the end is ours to say
      for (const auto& p : s.phases()) {
        if (!Abandoned(p.phase())) continue;
        Struct e;
        (*e.mutable_fields())["name"] = Str("end");
        (*e.mutable_fields())["date"] = Str(Day(p.start()));
        *events.add_values() = Obj(std::move(e));
      }
      f["events"] = List(std::move(events));
    }
    if (s.policy().sponsors()) f["sponsors"] = Strings(s.sponsors());
    if (s.policy().thematiques()) f["thematiques"] = Strings(s.thematiques());
    Struct r;
    (*r.mutable_fields())["id"] = Str(s.id());
    (*r.mutable_fields())["type"] = Str("startup");
    (*r.mutable_fields())["attributes"] = Obj(std::move(a));
    if (!s.incubator().empty()) {
      Struct ref;
      (*ref.mutable_fields())["type"] = Str("incubator");
      (*ref.mutable_fields())["id"] = Str(s.incubator());
      Struct one, many;
      (*one.mutable_fields())["data"] = Obj(ref);
      ListValue refs;
      *refs.add_values() = Obj(ref);
      (*many.mutable_fields())["data"] = List(std::move(refs));
      Struct rel;
      (*rel.mutable_fields())["incubator"] = Obj(std::move(one));
      (*rel.mutable_fields())["incubators"] = Obj(std::move(many));
      (*r.mutable_fields())["relationships"] = Obj(std::move(rel));
      incubators[s.incubator()] = true;
    }
    *data.add_values() = Obj(std::move(r));
  }
  (*doc.mutable_fields())["data"] = List(std::move(data));
  ListValue included;
  for (const auto& [id, _] : incubators) {
    Struct inc;
    (*inc.mutable_fields())["id"] = Str(id);
    (*inc.mutable_fields())["type"] = Str("incubator");
    (*inc.mutable_fields())["attributes"] = Obj(Struct());
    *included.add_values() = Obj(std::move(inc));
  }
  (*doc.mutable_fields())["included"] = List(std::move(included));
  return Json(doc);
}

std::string StartupsDetailsJson(const nv1::ListPublicStartupsResponse& list) {
  Struct doc;
  for (const auto& s : list.startups()) {
    Struct d;
    auto& f = *d.mutable_fields();
    f["id"] = Str(s.id());
    f["name"] = Str(s.name());
    if (s.policy().links() && !s.links().repository().empty()) f["repository"] = Str(s.links().repository());
    if (s.policy().phases()) f["phases"] = Phases(s);
    if (s.policy().team()) {  // names as the team gave them: beta.gouv's member ids are theirs
      ListValue active, previous;
      for (const auto& m : s.team()) {
        *(m.has_end() ? previous : active).add_values() = Str(m.name());  // `end`: when they left
      }
      f["active_members"] = List(std::move(active));
      f["previous_members"] = List(std::move(previous));
      f["expired_members"] = List(ListValue());
    }
    (*doc.mutable_fields())[s.id()] = Obj(std::move(d));
  }
  return Json(doc);
}

namespace {

// A CSV cell as beta.gouv.fr writes them: text quoted (quotes doubled), a missing value null.
std::string Cell(const std::string& v, bool quoted = true) {
  if (v.empty()) return "null";
  if (!quoted) return v;
  return absl::StrCat("\"", absl::StrReplaceAll(v, {{"\"", "\"\""}}), "\"");
}

}  // namespace

std::string StartupsCsv(const nv1::ListPublicStartupsResponse& list) {
  std::string out = "id;name;mission;start;status;incubator;stats;link;repository;accessibility;contact\n";
  for (const auto& s : list.startups()) {
    const bool phases = s.policy().phases() && s.phases_size() > 0;
    const bool links = s.policy().links();
    absl::StrAppend(&out, s.id(), ";", Cell(s.name()), ";", Cell(s.policy().mission() ? s.mission() : ""), ";",
                    phases ? Day(s.phases(0).start()) : "null", ";",
                    phases ? BetaPhase(s.phases(s.phases_size() - 1).phase()) : "null", ";",
                    Cell(s.incubator(), false), ";", Cell(links ? s.links().stats() : "", false), ";",
                    Cell(links ? s.links().product() : "", false), ";", Cell(links ? s.links().repository() : "", false),
                    ";\"\";null\n");
  }
  return out;
}

std::string IncubatorsJson(const nv1::ListPublicStartupsResponse& list) {
  std::map<std::string, ListValue> by;
  for (const auto& s : list.startups()) {
    if (s.incubator().empty()) continue;
    Struct o;
    auto& f = *o.mutable_fields();
    f["id"] = Str(s.id());
    f["name"] = Str(s.name());
    if (s.policy().mission()) f["pitch"] = Str(s.mission());
    if (s.policy().links() && !s.links().repository().empty()) f["repository"] = Str(s.links().repository());
    if (s.policy().phases()) f["phases"] = Phases(s);
    *by[s.incubator()].add_values() = Obj(std::move(o));
  }
  Struct doc;
  for (auto& [id, startups] : by) {
    Struct inc;
    (*inc.mutable_fields())["startups"] = List(std::move(startups));
    (*doc.mutable_fields())[id] = Obj(std::move(inc));
  }
  return Json(doc);
}

std::string SponsorsJson(const nv1::ListPublicStartupsResponse& list) {
  Struct doc;
  for (const auto& s : list.startups()) {
    if (!s.policy().sponsors()) continue;
    for (const auto& sp : s.sponsors()) {
      Struct o;
      (*o.mutable_fields())["name"] = Str(sp);  // the portfolio keeps a sponsor's name or acronym only
      (*doc.mutable_fields())[sp] = Obj(std::move(o));
    }
  }
  return Json(doc);
}

std::string ReleaseJson(const nv1::ListPublicStartupsResponse& list, const std::map<std::string, std::string>& files,
                        const std::string& checkpoint, uint64_t tree_size) {
  Struct doc;
  (*doc.mutable_fields())["release"] = Str("pepiniere-opendata-release-v1");
  (*doc.mutable_fields())["checkpoint"] = Str(checkpoint);
  Value size;
  size.set_number_value(static_cast<double>(tree_size));
  (*doc.mutable_fields())["tree_size"] = size;
  Struct sha;
  for (const auto& [path, hex] : files) (*sha.mutable_fields())[path] = Str(hex);
  (*doc.mutable_fields())["files_sha256"] = Obj(std::move(sha));
  Struct facts;
  for (const auto& s : list.startups()) {
    ListValue ids;
    for (const auto& p : s.phases()) {
      if (!p.fact_id().empty()) *ids.add_values() = Str(p.fact_id());
    }
    for (const auto& e : s.events()) {
      if (!e.fact_id().empty()) *ids.add_values() = Str(e.fact_id());
    }
    (*facts.mutable_fields())[s.id()] = List(std::move(ids));
  }
  (*doc.mutable_fields())["facts"] = Obj(std::move(facts));
  return Json(doc);
}

}  // namespace pep::gateway
