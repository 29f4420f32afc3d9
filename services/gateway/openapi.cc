// GET /openapi.json: an OpenAPI 3.0 document generated from the route table itself (paths,
// methods, roles, path and query parameters) and the protobuf descriptors (schemas, in the
// JSON mapping the gateway speaks: proto field names, 64-bit integers as strings, enums by name).
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "absl/strings/ascii.h"
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

std::string ScalarSchema(const FieldDescriptor* f, std::set<const Descriptor*>* needed) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32: return R"({"type":"integer","format":"int32"})";
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: return R"({"type":"string","format":"int64"})";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: return R"({"type":"number"})";
    case FieldDescriptor::CPPTYPE_BOOL: return R"({"type":"boolean"})";
    case FieldDescriptor::CPPTYPE_ENUM: {
      std::vector<std::string> values;
      for (int i = 0; i < f->enum_type()->value_count(); ++i) {
        values.push_back(Str(f->enum_type()->value(i)->name()));
      }
      return absl::StrCat(R"({"type":"string","enum":[)", absl::StrJoin(values, ","), "]}");
    }
    case FieldDescriptor::CPPTYPE_STRING:
      return f->type() == FieldDescriptor::TYPE_BYTES ? R"({"type":"string","format":"byte"})"
                                                      : R"({"type":"string"})";
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
    return absl::StrCat(R"({"type":"array","items":)", ScalarSchema(f, needed), "}");
  }
  return ScalarSchema(f, needed);
}

std::string MessageSchema(const Descriptor* d, std::set<const Descriptor*>* needed) {
  std::vector<std::string> props;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    props.push_back(absl::StrCat(Str(f->name()), ":", FieldSchema(f, needed)));
  }
  return absl::StrCat(R"({"type":"object","properties":{)", absl::StrJoin(props, ","), "}}");
}

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
      params.push_back(absl::StrCat(R"({"name":)", Str(n),
                                    R"(,"in":"path","required":true,"schema":{"type":"string"}})"));
    }
    if (r.body != Body::kJson && r.request != nullptr) {  // the request's other fields: query
      for (int i = 0; i < r.request->field_count(); ++i) {
        const FieldDescriptor* f = r.request->field(i);
        bool bound = false;
        for (const std::string& n : names) bound = bound || n == f->name();
        if (bound || f->name() == "jsonl" || (r.pattern.find("{startup_id}") != std::string::npos &&
                                             f->name() == "id")) {
          continue;
        }
        params.push_back(absl::StrCat(R"({"name":)", Str(f->name()), R"(,"in":"query","schema":)",
                                      FieldSchema(f, &needed), "}"));
      }
    }
    std::string op = absl::StrCat(Str(absl::AsciiStrToLower(r.method)), ":{",
                                  R"("summary":)", Str(r.summary),
                                  R"(,"x-pep-roles":)", RoleList(r.roles));
    if ((r.roles & kPublic) == 0) absl::StrAppend(&op, R"(,"security":[{"bearer":[]}])");
    absl::StrAppend(&op, R"(,"parameters":[)", absl::StrJoin(params, ","), "]");
    if (r.body == Body::kJson && r.request != nullptr) {
      needed.insert(r.request);
      absl::StrAppend(&op, R"(,"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/)",
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
      absl::StrAppend(&ok, R"(,"content":{)", Str(r.response_type), R"(:{"schema":{"type":"string"}}})");
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
