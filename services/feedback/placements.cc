// The « Je donne mon avis » button (issue 30): a team names each place it puts the button in its
// service (a placement, with the variant it uses); the snippet's link carries the placement's id
// to the form, and answers are counted per placement. Stored beside the answers (placements,
// feedback.placement); the placement an answer names is checked against the start-up's own.
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "common/uuid.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "store/proto_rows.h"

namespace pep::feedback {

absl::Status FeedbackStore::PutPlacement(const v1::Placement& p) {
  absl::MutexLock l(&aux_mu_);
  auto q = aux_db_->Prepare("INSERT INTO placements(id, startup_id, created_us, data) VALUES (?,?,?,?)");
  if (!q.ok()) return q.status();
  return q->Bind(1, p.id())
      .Bind(2, p.startup_id())
      .Bind(3, absl::ToUnixMicros(FromTimestamp(p.created_at())))
      .BindBlob(4, p.SerializeAsString())
      .Run();
}

absl::StatusOr<std::optional<v1::Placement>> FeedbackStore::FindPlacement(const std::string& id) {
  absl::MutexLock l(&aux_mu_);
  auto got = store::GetProto<v1::Placement>(*aux_db_, "SELECT data FROM placements WHERE id = ?", id, "placement");
  if (absl::IsNotFound(got.status())) return std::optional<v1::Placement>();
  if (!got.ok()) return got.status();
  return std::optional<v1::Placement>(std::move(*got));
}

absl::StatusOr<std::vector<v1::Placement>> FeedbackStore::AllPlacements() {
  absl::MutexLock l(&aux_mu_);
  auto q = aux_db_->Prepare("SELECT data FROM placements ORDER BY created_us, id");
  if (!q.ok()) return q.status();
  return store::AllProtos<v1::Placement>(*q, "placement");
}

absl::StatusOr<v1::ListPlacementsResponse> FeedbackStore::Placements(const std::string& startup_id) {
  absl::MutexLock l(&aux_mu_);
  v1::ListPlacementsResponse out;
  auto q = aux_db_->Prepare("SELECT data FROM placements WHERE startup_id = ? ORDER BY created_us, id");
  if (!q.ok()) return q.status();
  q->Bind(1, startup_id);
  auto all = store::AllProtos<v1::Placement>(*q, "placement");
  if (!all.ok()) return all.status();
  auto counts = aux_db_->Prepare("SELECT placement, COUNT(*) FROM feedback WHERE startup_id = ? GROUP BY placement");
  if (!counts.ok()) return counts.status();
  counts->Bind(1, startup_id);
  std::map<std::string, int64_t> by;
  while (true) {
    auto row = counts->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    by[counts->Text(0)] = counts->Int(1);
  }
  for (auto& p : *all) {
    p.set_answers(by[p.id()]);
    *out.add_placements() = std::move(p);
  }
  out.set_unplaced(by[""]);
  return out;
}

std::string FeedbackService::KnownPlacement(const std::string& startup_id, const std::string& placement) {
  {
    absl::MutexLock l(&mu_);
    auto it = placements_.find(placement);
    if (it != placements_.end()) return it->second == startup_id ? placement : "";
  }
  if (!store_.shared()) return "";  // this process made every placement: none by that id
  auto found = store_.FindPlacement(placement);  // another replica's, a moment ago
  if (!found.ok() || !*found) return "";
  absl::MutexLock l(&mu_);
  placements_[placement] = (*found)->startup_id();
  return (*found)->startup_id() == startup_id ? placement : "";
}

grpc::Status FeedbackService::CreatePlacement(grpc::ServerContext* ctx, const v1::CreatePlacementRequest* req,
                                              v1::Placement* out) {
  auto p = Caller(*ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->startup_id().empty()) return ToGrpcStatus(FieldError("startup_id", "is required"));
  PEP_GRPC_RETURN_IF_ERROR(CanRead(*p, req->startup_id()));
  const int n = Utf8Length(req->label());
  if (n < 1 || n > 120) return ToGrpcStatus(FieldError("label", "is required, 120 characters at most"));
  if (!v1::ButtonVariant_IsValid(req->variant())) {
    return ToGrpcStatus(FieldError("variant", "must be BUTTON_VARIANT_BLUE or BUTTON_VARIANT_WHITE"));
  }
  {
    absl::MutexLock l(&mu_);
    if (!products_.contains(req->startup_id())) {
      return ToGrpcStatus(absl::NotFoundError(absl::StrCat("startup_id: no start-up ", req->startup_id())));
    }
  }
  const absl::Time now = clock_.Now();
  v1::Placement pl;
  pl.set_id(NewUuidV7(now));
  pl.set_startup_id(req->startup_id());
  pl.set_label(req->label());
  pl.set_variant(req->variant() == v1::BUTTON_VARIANT_UNSPECIFIED ? v1::BUTTON_VARIANT_BLUE : req->variant());
  pl.set_created_by(p->id);
  *pl.mutable_created_at() = ToTimestamp(now);
  PEP_GRPC_RETURN_IF_ERROR(store_.PutPlacement(pl));
  {
    absl::MutexLock l(&mu_);
    placements_[pl.id()] = pl.startup_id();
  }
  *out = std::move(pl);
  return grpc::Status::OK;
}

grpc::Status FeedbackService::ListPlacements(grpc::ServerContext* ctx, const v1::ListPlacementsRequest* req,
                                             v1::ListPlacementsResponse* out) {
  auto p = Caller(*ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->startup_id().empty()) return ToGrpcStatus(FieldError("startup_id", "is required"));
  PEP_GRPC_RETURN_IF_ERROR(CanRead(*p, req->startup_id()));
  auto got = store_.Placements(req->startup_id());
  PEP_GRPC_RETURN_IF_ERROR(got.status());
  *out = std::move(*got);
  return grpc::Status::OK;
}

}  // namespace pep::feedback
