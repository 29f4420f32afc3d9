// Each public fact verifiable (issue 30): a phase, a committee decision or a milestone shown on a
// public page links to its attestation on the ledger — pep-incubation's PublicFactPublished,
// a lineage of its own holding nothing private — which pep-audit gives anyone as a ledger
// export (ExportPublicFact): the JSON Lines file `pepctl ledger verify` and verify-ledger.py
// check offline, and a page saying in French what the ledger holds and how to check it.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "pepiniere/audit/v1/audit.grpc.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/gateway/calls.h"
#include "services/gateway/gateway.h"
#include "services/gateway/public_pages.h"

namespace pep::gateway {

namespace {

namespace av1 = ::pepiniere::audit::v1;

// The proof file's lines, read back for the page: the head's checkpoint and key, each entry's
// index and times, the fact (its payload) or that it was withdrawn.
absl::StatusOr<FactProofView> ReadProof(const av1::PublicFactProof& proof) {
  FactProofView v;
  for (const std::string& line : proof.lines()) {
    google::protobuf::Struct o;
    if (!google::protobuf::util::JsonStringToMessage(line, &o).ok()) {
      return absl::InternalError("the ledger's export has a line that is not JSON");
    }
    const auto& f = o.fields();
    auto text = [&f](const char* k) { return f.contains(k) ? f.at(k).string_value() : std::string(); };
    if (f.contains("checkpoint")) {
      v.checkpoint = text("checkpoint");
      v.verifier_key = text("verifier_key");
    } else if (f.contains("export_end")) {
      v.tree_size = static_cast<uint64_t>(f.at("tree_size").number_value());
    } else if (text("ce_type") == "pepiniere.incubation.v1.PublicFactPublished") {
      v.index = static_cast<uint64_t>(f.at("index").number_value());
      v.recorded = text("ce_time");
      std::string payload;
      if (f.contains("payload") && absl::Base64Unescape(text("payload"), &payload)) {
        v.fact.ParseFromString(payload);
      }
      v.withheld = !f.contains("payload");
    } else if (text("ce_type") == "pepiniere.incubation.v1.PublicFactWithdrawn") {
      v.withdrawn_at = text("ce_time");
      v.withdrawn_index = static_cast<uint64_t>(f.at("index").number_value());
      std::string payload;
      pepiniere::incubation::v1::PublicFactWithdrawn w;
      if (f.contains("payload") && absl::Base64Unescape(text("payload"), &payload) && w.ParseFromString(payload)) {
        v.withdrawn_reason = w.reason();
      }
    }
  }
  if (v.checkpoint.empty()) return absl::InternalError("the ledger's export has no checkpoint");
  return v;
}

}  // namespace

void Gateway::BuildFactRoutes() {
  Backends& b = backends_;
  auto* audit = b.audit_stub.get();
  using AS = class av1::AuditService::Stub::async;
  // One call to pep-audit, the proof's lines to `use`.
  auto proof = [&b, audit](std::function<HttpResponse(const av1::PublicFactProof&, const std::string& fact_id)> use,
                           bool html, const StaticFiles* files) -> RouteHandler {
    return [&b, audit, use, html, files](CallPtr call, Respond respond) {
      av1::ExportPublicFactRequest req;
      req.set_fact_id(call->params.at("fact_id"));
      const std::string fact_id = req.fact_id();
      CallUnary(b.audit, audit, &AS::ExportPublicFact, call->meta, std::move(req),
                [respond, use, fact_id, html, files, &b](const grpc::Status& s, av1::PublicFactProof& got, int retry) {
                  if (s.ok()) return respond(use(got, fact_id));
                  if (!html) return respond(BackendErrorResponse(s, b.audit.name(), retry));
                  HttpResponse r;
                  r.status = s.error_code() == grpc::StatusCode::NOT_FOUND ? 404 : 503;
                  r.content_type = "text/html; charset=utf-8";
                  r.headers["Cache-Control"] = "no-store";
                  r.body = PublicMessagePage(
                      r.status == 404 ? "Fait introuvable" : "Registre momentanément indisponible",
                      r.status == 404 ? absl::StrCat("Le registre ne contient aucun fait public « ", fact_id, " ».")
                                      : "Le registre ne répond pas ou n'a pas encore signé ce fait : réessayez dans un instant.",
                      files->AssetsBase());
                  respond(std::move(r));
                });
    };
  };
  const StaticFiles* files = &static_files_;
  Route file{"GET", "/v1/public/facts/{fact_id}/proof", kAnyRole,
             "Preuve d'un fait public (JSON Lines du registre, vérifiable hors ligne : pepctl ledger verify)",
             Body::kNone, av1::ExportPublicFactRequest::descriptor(), nullptr, "application/x-ndjson",
             proof([](const av1::PublicFactProof& p, const std::string& fact_id) {
               HttpResponse r;
               r.content_type = "application/x-ndjson";
               r.body = absl::StrCat(absl::StrJoin(p.lines(), "\n"), "\n");
               r.headers["Cache-Control"] = "no-cache";  // proved against the newest checkpoint
               r.headers["Content-Disposition"] = absl::StrCat("attachment; filename=\"preuve-", fact_id, ".jsonl\"");
               r.headers["Access-Control-Allow-Origin"] = "*";
               return r;
             }, false, files),
             &b.audit, 0};
  routes_.push_back(std::move(file));
  Route page{"GET", "/ledger/faits/{fact_id}", kAnyRole, "Page publique : un fait et sa preuve dans le registre",
             Body::kNone, av1::ExportPublicFactRequest::descriptor(), nullptr, "text/html; charset=utf-8",
             proof([files](const av1::PublicFactProof& p, const std::string& fact_id) {
               HttpResponse r;
               r.content_type = "text/html; charset=utf-8";
               r.headers["Cache-Control"] = "no-cache";
               auto v = ReadProof(p);
               if (!v.ok()) {
                 r.status = 502;
                 r.body = PublicMessagePage("Preuve illisible", std::string(v.status().message()), files->AssetsBase());
                 return r;
               }
               r.body = PublicFactPage(*v, fact_id, files->AssetsBase());
               return r;
             }, true, files),
             &b.audit, 0};
  page.response_schema = R"({"type":"string"})";
  routes_.push_back(std::move(page));
}

}  // namespace pep::gateway
