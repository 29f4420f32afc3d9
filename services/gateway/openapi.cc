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

std::string SchemaName(const Descriptor* d) { return d->full_name(); }

bool IsWellKnown(const Descriptor* d) {
  return d->full_name() == "google.protobuf.Timestamp" || d->full_name() == "google.protobuf.Duration";
}

std::string FieldSchema(const FieldDescriptor* f, std::set<const Descriptor*>* needed);

const pepiniere::api::v1::FieldRules& RulesOf(const FieldDescriptor* f) {
  return f->options().GetExtension(pepiniere::api::v1::rules);
}

// The field's own constraints (pepiniere.api.v1.rules), as JSON Schema keywords after ','.
std::string Constraints(const FieldDescriptor* f, bool item) {
  const auto& r = RulesOf(f);
  std::string out;
  if (item) {
    if (r.has_item_max_length()) absl::StrAppend(&out, R"(,"minLength":1,"maxLength":)", r.item_max_length());
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

std::string ScalarSchema(const FieldDescriptor* f, std::set<const Descriptor*>* needed) {
  const std::string c = Constraints(f, f->is_repeated());
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32: return absl::StrCat(R"({"type":"integer","format":"int32")", c, "}");
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: return R"({"type":"string","format":"int64"})";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: return absl::StrCat(R"({"type":"number")", c, "}");
    case FieldDescriptor::CPPTYPE_BOOL: return R"({"type":"boolean"})";
    case FieldDescriptor::CPPTYPE_ENUM: {
      // The accepted values: those the rules list, else all but *_UNSPECIFIED when required.
      const auto& r = RulesOf(f);
      std::vector<std::string> values;
      for (const std::string& v : r.enum_values()) values.push_back(Str(v));
      for (int i = 0; r.enum_values().empty() && i < f->enum_type()->value_count(); ++i) {
        if (r.required() && f->enum_type()->value(i)->number() == 0) continue;
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
      needed->insert(m);
      return absl::StrCat(R"({"$ref":"#/components/schemas/)", SchemaName(m), "\"}");
    }
  }
  return "{}";
}

std::string FieldSchema(const FieldDescriptor* f, std::set<const Descriptor*>* needed) {
  if (f->is_map()) {
    return absl::StrCat(R"({"type":"object","additionalProperties":)",
                        ScalarSchema(f->message_type()->map_value(), needed), "}");
  }
  if (f->is_repeated()) {
    const auto& r = RulesOf(f);
    std::string bounds;
    if (r.has_min_items()) absl::StrAppend(&bounds, R"(,"minItems":)", r.min_items());
    if (r.has_max_items()) absl::StrAppend(&bounds, R"(,"maxItems":)", r.max_items());
    return absl::StrCat(R"({"type":"array","items":)", ScalarSchema(f, needed), bounds, "}");
  }
  return ScalarSchema(f, needed);
}

// `skip`: fields bound from the path (not in the body).
std::string MessageSchema(const Descriptor* d, std::set<const Descriptor*>* needed,
                          const std::set<std::string>& skip = {}) {
  std::vector<std::string> props, required;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (skip.contains(f->name())) continue;
    // proto3 JSON: null stands for "not set", for any field (a required one is then missing).
    std::string schema = FieldSchema(f, needed);
    if (!RulesOf(f).required()) {
      if (absl::StartsWith(schema, R"({"$ref")")) {
        schema = absl::StrCat(R"({"allOf":[)", schema, R"(],"nullable":true})");
      } else {
        schema.insert(schema.size() - 1, R"(,"nullable":true)");
      }
    }
    props.push_back(absl::StrCat(Str(f->name()), ":", schema));
    if (RulesOf(f).required()) required.push_back(Str(f->name()));
  }
  // The gateway refuses a field it does not know, naming it.
  return absl::StrCat(R"({"type":"object","additionalProperties":false,"properties":{)", absl::StrJoin(props, ","), "}",
                      required.empty() ? "" : absl::StrCat(R"(,"required":[)", absl::StrJoin(required, ","), "]"),
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

}  // namespace

std::string Gateway::OpenApi() const {
  std::set<const Descriptor*> needed;
  std::map<std::string, std::vector<std::string>> paths;  // path -> operations
  for (const Route& r : routes_) {
    std::vector<std::string> params;
    const std::vector<std::string> names = ParamNames(r.pattern);
    for (const std::string& n : names) {
      const bool id = n.size() > 3 && n.compare(n.size() - 3, 3, "_id") == 0;
      params.push_back(absl::StrCat(R"({"name":)", Str(n), R"(,"in":"path","required":true,"schema":)",
                                    id ? absl::StrCat(R"({"type":"string","format":"uuid","pattern":)", Str(kUuidPattern), "}")
                                       : std::string(R"({"type":"string"})"),
                                    "}"));
    }
    if (r.body != Body::kJson && r.request != nullptr) {  // the request's other fields: query
      for (int i = 0; i < r.request->field_count(); ++i) {
        const FieldDescriptor* f = r.request->field(i);
        bool bound = false;
        for (const std::string& n : names) bound = bound || n == f->name();
        if (bound || f->name() == "jsonl" || RulesOf(f).not_in_query() ||
            (r.pattern.find("{startup_id}") != std::string::npos && f->name() == "id")) {
          continue;
        }
        params.push_back(absl::StrCat(R"({"name":)", Str(f->name()), R"(,"in":"query")",
                                      RulesOf(f).required() ? R"(,"required":true)" : "",
                                      R"(,"schema":)", FieldSchema(f, &needed), "}"));
      }
    }
    std::string op = absl::StrCat(Str(absl::AsciiStrToLower(r.method)), ":{",
                                  R"("summary":)", Str(r.summary),
                                  R"(,"x-pep-roles":)", RoleList(r.roles));
    if ((r.roles & kPublic) == 0) absl::StrAppend(&op, R"(,"security":[{"bearer":[]}])");
    absl::StrAppend(&op, R"(,"parameters":[)", absl::StrJoin(params, ","), "]");
    if (r.body == Body::kJson && r.request != nullptr) {
      needed.insert(r.request);
      bool body_required = false;  // when it carries a required field, a body must come
      for (int i = 0; i < r.request->field_count(); ++i) body_required |= RulesOf(r.request->field(i)).required();
      absl::StrAppend(&op, R"(,"requestBody":{)", body_required ? R"("required":true,)" : "",
                      R"("content":{"application/json":{"schema":{"$ref":"#/components/schemas/)",
                      SchemaName(r.request), R"("}}}})");
    } else if (r.body == Body::kJsonLines) {
      absl::StrAppend(&op, R"(,"requestBody":{"required":true,"content":{"application/x-ndjson":{"schema":{"type":"string"}}}})");
    }
    std::string ok = R"({"description":"OK")";
    if (r.response != nullptr) {
      needed.insert(r.response);
      absl::StrAppend(&ok, R"(,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/)",
                      SchemaName(r.response), R"("}}})");
    } else {
      // A stream: its declared type, and JSON Lines where the route offers them (?format=…JSONL).
      std::vector<std::string> types = {absl::StrCat(Str(r.response_type), R"(:{"schema":{"type":"string"}})")};
      if (r.response_type != "application/x-ndjson" && r.request != nullptr &&
          r.request->FindFieldByName("format") != nullptr) {
        types.push_back(R"("application/x-ndjson":{"schema":{"type":"string"}})");
      }
      absl::StrAppend(&ok, R"(,"content":{)", absl::StrJoin(types, ","), "}");
    }
    ok += "}";
    absl::StrAppend(&op, R"(,"responses":{"2XX":)", ok,
                    R"(,"default":{"description":"Error","content":{"application/json":{"schema":{"$ref":"#/components/schemas/pepiniere.gateway.v1.Error"}}}}}})");
    paths[r.pattern].push_back(op);
  }
  needed.insert(pepiniere::gateway::v1::Error::descriptor());
  std::map<std::string, std::string> schemas;
  while (!needed.empty()) {  // transitively, each message once
    const Descriptor* d = *needed.begin();
    needed.erase(needed.begin());
    if (schemas.count(SchemaName(d)) > 0 || IsWellKnown(d)) continue;
    schemas[SchemaName(d)] = MessageSchema(d, &needed);
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
