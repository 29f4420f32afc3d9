// GET /openapi.json: an OpenAPI 3.0 document generated from the route table itself (paths,
// methods, roles, path and query parameters) and the protobuf descriptors (schemas, in the
// JSON mapping the gateway speaks: proto field names, 64-bit integers as strings, enums by name).
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "absl/strings/ascii.h"
#include "pepiniere/api/v1/rules.pb.h"
#include "pepiniere/gateway/v1/gateway.pb.h"
#include "services/gateway/gateway.h"

namespace pep::gateway {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

std::string Str(std::string_view s) { return absl::StrCat("\"", JsonEscape(s), "\""); }

bool IsWellKnown(const Descriptor* d) {
  return d->full_name() == "google.protobuf.Timestamp" || d->full_name() == "google.protobuf.Duration";
}

// A message is documented twice when it is both sent and answered: as a request part with the
// constraints its service enforces (pepiniere.api.v1.rules), and as an answer without them
// (imported data may predate a rule; an answer always carries every scalar field).
struct Use {
  const Descriptor* d;
  bool input;
  auto operator<=>(const Use&) const = default;
};
using Needed = std::set<Use>;

std::string SchemaName(const Descriptor* d, bool input) {
  // A request message keeps its name; a part of one is "<name>Input".
  if (!input || absl::EndsWith(d->name(), "Request")) return d->full_name();
  return absl::StrCat(d->full_name(), "Input");
}

std::string FieldSchema(const FieldDescriptor* f, bool input, Needed* needed);

const pepiniere::api::v1::FieldRules& RulesOf(const FieldDescriptor* f) {
  return f->options().GetExtension(pepiniere::api::v1::rules);
}

// The field's own constraints, as JSON Schema keywords after ','.
std::string Constraints(const FieldDescriptor* f, bool item) {
  const auto& r = RulesOf(f);
  std::string out;
  if (item) {
    if (r.has_item_max_length()) absl::StrAppend(&out, R"(,"minLength":1,"maxLength":)", r.item_max_length());
    if (r.has_item_pattern()) absl::StrAppend(&out, R"(,"pattern":)", Str(r.item_pattern()));
    return out;
  }
  if (r.has_min_length()) absl::StrAppend(&out, R"(,"minLength":)", r.min_length());
  else if (r.required() && f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) absl::StrAppend(&out, R"(,"minLength":1)");
  if (r.has_max_length()) absl::StrAppend(&out, R"(,"maxLength":)", r.max_length());
  if (r.has_pattern()) absl::StrAppend(&out, R"(,"pattern":)", Str(r.pattern()));
  if (r.has_minimum()) absl::StrAppend(&out, R"(,"minimum":)", r.minimum());
  if (r.exclusive_minimum()) absl::StrAppend(&out, R"(,"exclusiveMinimum":true)");
  if (r.has_maximum()) absl::StrAppend(&out, R"(,"maximum":)", r.maximum());
  return out;
}

std::string ScalarSchema(const FieldDescriptor* f, bool input, Needed* needed) {
  const std::string c = input ? Constraints(f, f->is_repeated()) : "";
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32: return absl::StrCat(R"({"type":"integer","format":"int32")", c, "}");
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: {
      // proto3 JSON: a 64-bit integer is a decimal string (the rules may narrow it).
      std::string digits;
      if (input) {
        digits = RulesOf(f).has_pattern() ? Str(RulesOf(f).pattern())
                 : f->cpp_type() == FieldDescriptor::CPPTYPE_UINT64 ? Str("^[0-9]{1,19}$")
                                                                    : Str("^-?[0-9]{1,18}$");
        digits = absl::StrCat(R"(,"pattern":)", digits);
      }
      return absl::StrCat(R"({"type":"string","format":"int64")", digits, "}");
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: return absl::StrCat(R"({"type":"number")", c, "}");
    case FieldDescriptor::CPPTYPE_BOOL: return R"({"type":"boolean"})";
    case FieldDescriptor::CPPTYPE_ENUM: {
      // Accepted: the values the rules list, else all but *_UNSPECIFIED when required.
      const auto& r = RulesOf(f);
      std::vector<std::string> values;
      for (int i = 0; input && i < r.enum_values_size(); ++i) values.push_back(Str(r.enum_values(i)));
      for (int i = 0; (!input || r.enum_values().empty()) && i < f->enum_type()->value_count(); ++i) {
        if (input && r.required() && f->enum_type()->value(i)->number() == 0) continue;
        values.push_back(Str(f->enum_type()->value(i)->name()));
      }
      return absl::StrCat(R"({"type":"string","enum":[)", absl::StrJoin(values, ","), "]}");
    }
    case FieldDescriptor::CPPTYPE_STRING:
      return f->type() == FieldDescriptor::TYPE_BYTES ? R"({"type":"string","format":"byte"})"
                                                      : absl::StrCat(R"({"type":"string")", c, "}");
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Descriptor* m = f->message_type();
      if (m->full_name() == "google.protobuf.Timestamp") {
        return R"({"type":"string","format":"date-time"})";
      }
      if (m->full_name() == "google.protobuf.Duration") return R"({"type":"string"})";
      needed->insert({m, input});
      return absl::StrCat(R"({"$ref":"#/components/schemas/)", SchemaName(m, input), "\"}");
    }
  }
  return "{}";
}

std::string FieldSchema(const FieldDescriptor* f, bool input, Needed* needed) {
  if (f->is_map()) {
    return absl::StrCat(R"({"type":"object","additionalProperties":)",
                        ScalarSchema(f->message_type()->map_value(), input, needed), "}");
  }
  if (f->is_repeated()) {
    const auto& r = RulesOf(f);
    std::string bounds;
    if (input && r.has_min_items()) absl::StrAppend(&bounds, R"(,"minItems":)", r.min_items());
    if (input && r.has_max_items()) absl::StrAppend(&bounds, R"(,"maxItems":)", r.max_items());
    return absl::StrCat(R"({"type":"array","items":)", ScalarSchema(f, input, needed), bounds, "}");
  }
  return ScalarSchema(f, input, needed);
}

std::string MessageSchema(const Descriptor* d, bool input, Needed* needed) {
  std::vector<std::string> props, required;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const bool is_required = input && RulesOf(f).required();
    // proto3 JSON: null stands for "not set", for any field (a required one is then missing).
    std::string schema = FieldSchema(f, input, needed);
    if (!is_required) {
      if (absl::StartsWith(schema, R"({"$ref")")) {
        schema = absl::StrCat(R"({"allOf":[)", schema, R"(],"nullable":true})");
      } else {
        // OpenAPI 3.0.3: a nullable enum lists null among its values, or null is not one.
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM && !f->is_repeated() && absl::EndsWith(schema, "]}")) {
          schema.insert(schema.size() - 2, ",null");
        }
        schema.insert(schema.size() - 1, R"(,"nullable":true)");
      }
    }
    props.push_back(absl::StrCat(Str(f->name()), ":", schema));
    if (is_required) required.push_back(Str(f->name()));
  }
  // A change must change something: one of these present and non-empty.
  std::vector<std::string> any_of;
  const auto& mr = d->options().GetExtension(pepiniere::api::v1::message_rules);
  for (int i = 0; input && i < mr.at_least_one_of_size(); ++i) {
    const FieldDescriptor* f = d->FindFieldByName(mr.at_least_one_of(i));
    if (f == nullptr) continue;
    any_of.push_back(absl::StrCat(R"({"required":[)", Str(f->name()), R"(],"properties":{)", Str(f->name()), ":",
                                  // typed, so that null (not set) does not count
                                  f->is_repeated() ? R"({"type":"array","minItems":1})"
                                                   : R"({"type":"string","minLength":1})",
                                  "}}"));
  }
  // The gateway refuses a field it does not know, naming it.
  return absl::StrCat(R"({"type":"object","additionalProperties":false,"properties":{)", absl::StrJoin(props, ","), "}",
                      required.empty() ? "" : absl::StrCat(R"(,"required":[)", absl::StrJoin(required, ","), "]"),
                      any_of.empty() ? "" : absl::StrCat(R"(,"anyOf":[)", absl::StrJoin(any_of, ","), "]"),
                      "}");
}

// Path parameters named *_id are UUIDs (the services refuse anything else, as 400).
constexpr char kUuidPattern[] = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

std::string RoleList(unsigned roles) {
  std::vector<std::string> out;
  for (Role r : {kCoordinator, kJuror, kProductTeam, kAgent, kPublic}) {
    if (roles & r) out.push_back(Str(RoleName(r)));
  }
  return absl::StrCat("[", absl::StrJoin(out, ","), "]");
}

// The error statuses a route can answer, and why: what the gateway itself decides (its input,
// the caller, its limits) and, for a route served by a service, what the service's status maps to.
std::vector<std::pair<int, std::string>> ErrorStatuses(const Route& r) {
  std::vector<std::pair<int, std::string>> out = {{400, "Requête invalide (le champ est nommé)"},
                                                  {401, "Jeton absent, inconnu, expiré ou révoqué"}};
  if ((r.roles & kPublic) == 0) out.push_back({403, "Rôle ou périmètre insuffisant"});
  if (!ParamNames(r.pattern).empty() || r.backend != nullptr) out.push_back({404, "Introuvable"});
  // A write, or any call a service answers: FAILED_PRECONDITION, ALREADY_EXISTS and ABORTED are 409.
  if (r.method != "GET" || r.backend != nullptr) out.push_back({409, "En conflit avec l'état de la ressource"});
  if (r.body != Body::kNone) out.push_back({413, "Corps trop volumineux"});
  if (r.body == Body::kJson) out.push_back({415, "Content-Type attendu : application/json"});
  if (r.backend != nullptr) out.push_back({429, "Trop de requêtes (Retry-After)"});
  out.push_back({503, "Indisponible ou surchargé (Retry-After)"});
  if (r.backend != nullptr) out.push_back({504, "Le service n'a pas répondu à temps"});
  return out;
}

}  // namespace

std::string Gateway::OpenApi() const {
  Needed needed;
  std::map<std::string, std::vector<std::string>> paths;  // path -> operations
  for (const Route& r : routes_) {
    for (const DocumentedPath& doc : DocumentedPaths(r)) {
      std::vector<std::string> params;
      const std::vector<std::string> names = ParamNames(doc.path);
      for (const std::string& n : names) {
        const bool id = n.size() > 3 && n.compare(n.size() - 3, 3, "_id") == 0;
        std::string schema = R"({"type":"string"})";
        if (auto it = doc.patterns.find(n); it != doc.patterns.end()) {
          schema = absl::StrCat(R"({"type":"string","pattern":)", Str(it->second), "}");
        } else if (id && r.slug_ok) {
          schema = absl::StrCat(R"({"type":"string","pattern":)", Str(kSlugPattern), "}");  // a UUID or a slug
        } else if (id) {
          schema = absl::StrCat(R"({"type":"string","format":"uuid","pattern":)", Str(kUuidPattern), "}");
        }
        params.push_back(absl::StrCat(R"({"name":)", Str(n), R"(,"in":"path","required":true,"schema":)", schema, "}"));
      }
      if (r.body != Body::kJson && r.request != nullptr) {  // the request's other fields: query
        for (int i = 0; i < r.request->field_count(); ++i) {
          const FieldDescriptor* f = r.request->field(i);
          bool bound = false;
          for (const std::string& n : names) bound = bound || n == f->name();
          if (bound || RulesOf(f).not_in_query() ||
              (r.pattern.find("{startup_id}") != std::string::npos && f->name() == "id")) {
            continue;
          }
          params.push_back(absl::StrCat(R"({"name":)", Str(f->name()), R"(,"in":"query")",
                                        RulesOf(f).required() ? R"(,"required":true)" : "",
                                        R"(,"schema":)", FieldSchema(f, true, &needed), "}"));
        }
      }
      std::string op = absl::StrCat(Str(absl::AsciiStrToLower(r.method)), ":{",
                                    R"("summary":)", Str(r.summary),
                                    R"(,"x-pep-roles":)", RoleList(r.roles));
      if ((r.roles & kPublic) == 0) absl::StrAppend(&op, R"(,"security":[{"bearer":[]}])");
      absl::StrAppend(&op, R"(,"parameters":[)", absl::StrJoin(params, ","), "]");
      if (r.body == Body::kJson && r.request != nullptr) {
        needed.insert({r.request, true});
        bool body_required = false;  // when it carries a required field, a body must come
        for (int i = 0; i < r.request->field_count(); ++i) body_required |= RulesOf(r.request->field(i)).required();
        body_required |= r.request->options().GetExtension(pepiniere::api::v1::message_rules).at_least_one_of_size() > 0;
        absl::StrAppend(&op, R"(,"requestBody":{)", body_required ? R"("required":true,)" : "",
                        R"("content":{"application/json":{"schema":{"$ref":"#/components/schemas/)",
                        SchemaName(r.request, true), R"("}}}})");
      } else if (r.body == Body::kJsonLines) {
        absl::StrAppend(&op, R"(,"requestBody":{"required":true,"content":{"application/x-ndjson":{"schema":{"type":"string"}}}})");
      }
      std::string ok = R"({"description":"OK")";
      if (r.response != nullptr) {
        needed.insert({r.response, false});
        absl::StrAppend(&ok, R"(,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/)",
                        SchemaName(r.response, false), R"("}}})");
      } else {
        // A stream: its declared type, and JSON Lines where the route offers them (?format=…JSONL).
        std::vector<std::string> types = {absl::StrCat(Str(r.response_type), R"(:{"schema":)",
                                                       r.response_schema.empty() ? R"({"type":"string"})" : r.response_schema, "}")};
        if (r.response_type != "application/x-ndjson" && r.request != nullptr &&
            r.request->FindFieldByName("format") != nullptr) {
          types.push_back(R"("application/x-ndjson":{"schema":{"type":"string"}})");
        }
        absl::StrAppend(&ok, R"(,"content":{)", absl::StrJoin(types, ","), "}");
      }
      ok += "}";
      std::vector<std::string> responses = {absl::StrCat(R"("2XX":)", ok)};
      if (r.revalidates) responses.push_back(R"("304":{"description":"Not Modified: the copy you have is current"})");
      const bool html = absl::StartsWith(r.response_type, "text/html");  // a page for people, errors too
      for (const auto& [status, why] : ErrorStatuses(r)) {
        responses.push_back(absl::StrCat(
            "\"", status, R"(":{"description":)", Str(why),
            // A page's own refusals are pages; the router's (a malformed id) are JSON, as everywhere.
            html ? R"(,"content":{"text/html":{"schema":{"type":"string"}},"application/json":{"schema":{"$ref":"#/components/schemas/pepiniere.gateway.v1.Error"}}}})"
                 : R"(,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/pepiniere.gateway.v1.Error"}}}})"));
      }
      absl::StrAppend(&op, R"(,"responses":{)", absl::StrJoin(responses, ","), "}}");
      paths[doc.path].push_back(op);
    }
  }
  needed.insert({pepiniere::gateway::v1::Error::descriptor(), false});
  std::map<std::string, std::string> schemas;
  while (!needed.empty()) {  // transitively, each message once
    const Use u = *needed.begin();
    needed.erase(needed.begin());
    const std::string name = SchemaName(u.d, u.input);
    if (schemas.count(name) > 0 || IsWellKnown(u.d)) continue;
    schemas[name] = MessageSchema(u.d, u.input, &needed);
  }
  std::vector<std::string> path_items, schema_items;
  for (const auto& [p, ops] : paths) {
    path_items.push_back(absl::StrCat(Str(p), ":{", absl::StrJoin(ops, ","), "}"));
  }
  for (const auto& [n, s] : schemas) schema_items.push_back(absl::StrCat(Str(n), ":", s));
  return absl::StrCat(
      R"({"openapi":"3.0.3","info":{"title":"Pépinière REST API","version":"v1",)",
      R"("description":"Passerelle REST/JSON de Pépinière. Jeton : Authorization: Bearer <jeton>. )",
      R"(Erreurs : {code, message, details}, codes HTTP à la manière de grpc-gateway."},)",
      R"("paths":{)", absl::StrJoin(path_items, ","), "},",
      R"("components":{"securitySchemes":{"bearer":{"type":"http","scheme":"bearer"}},)",
      R"("schemas":{)", absl::StrJoin(schema_items, ","), "}}}");
}

}  // namespace pep::gateway
