// pep-incubation's team RPCs: who is on a start-up's team (members with their role, start, the
// mission's planned end and, once they left, its end), and the gateway's question at a first
// sign-in — which teams list this e-mail.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/uuid.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/incubation/incubation_service.h"
#include "services/incubation/service_helpers.h"
#include "services/incubation/team_rules.h"

namespace pep::incubation {

using internal::CheckScope;
using internal::RequireCoordinator;

namespace {

// The member of `st` with this id, still on the team: NOT_FOUND, or FAILED_PRECONDITION once left.
absl::StatusOr<v1::TeamMember*> CurrentMember(v1::Startup& st, const std::string& member_id) {
  for (auto& m : *st.mutable_team()) {
    if (m.id() != member_id) continue;
    if (m.has_end()) return absl::FailedPreconditionError("member_id: already left the team");
    return &m;
  }
  return absl::NotFoundError(absl::StrCat("member_id: no team member ", member_id));
}

}  // namespace

grpc::Status IncubationService::FindTeamMemberships(grpc::ServerContext* ctx,
                                                    const v1::FindTeamMembershipsRequest* req,
                                                    v1::FindTeamMembershipsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "finding team memberships"));
  if (req->email().empty()) return ToGrpcStatus(FieldError("email", "is required"));
  const std::string email = absl::AsciiStrToLower(req->email());
  auto all = store_.AllStartups();
  PEP_GRPC_RETURN_IF_ERROR(all.status());
  for (const v1::Startup& st : *all) {
    for (const v1::TeamMember& m : st.team()) {
      if (!m.has_end() && m.email() == email) {
        out->add_startup_ids(st.id());
        break;
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status IncubationService::AddTeamMember(grpc::ServerContext* ctx,
                                              const v1::AddTeamMemberRequest* req,
                                              v1::Startup* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidateTeamMember(*req));
  v1::Startup st;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto got = tx.GetStartup(req->startup_id());
    if (!got.ok()) return got.status();
    st = std::move(*got);
    PEP_RETURN_IF_ERROR(CheckScope(*p, st.id()));  // its own team keeps it (issue 30), or a coordinator
    const absl::Time now = tx.Now();
    v1::TeamMember* mem = st.add_team();
    mem->set_id(NewUuidV7(now));
    mem->set_name(req->name());
    mem->set_role(req->role().empty() ? RoleWord(req->kind()) : req->role());
    mem->set_kind(req->kind());
    mem->set_status(req->status());
    mem->set_email(absl::AsciiStrToLower(req->email()));
    *mem->mutable_start() = req->has_start() ? req->start() : ToTimestamp(now);
    if (req->has_mission_end()) {
      if (FromTimestamp(req->mission_end()) <= FromTimestamp(mem->start())) {
        return FieldError("mission_end", "must be after start");
      }
      *mem->mutable_mission_end() = req->mission_end();
    }
    st.set_version(st.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    v1::TeamMemberAdded ev;
    ev.set_startup_id(st.id());
    *ev.mutable_member() = *mem;
    ev.mutable_member()->clear_email();  // personal data stays here, off the log
    return tx.Emit(st, ev, p->id, FromTimestamp(mem->start()));
  }));
  Committed();
  Decorate(&st);
  *out = std::move(st);
  return grpc::Status::OK;
}

grpc::Status IncubationService::UpdateTeamMember(grpc::ServerContext* ctx,
                                                 const v1::UpdateTeamMemberRequest* req,
                                                 v1::Startup* out) {
  return ChangeMember(ctx, req->startup_id(), req->member_id(), out,
                      [&](IncubationTx& tx, const auth::Principal& p, v1::Startup& st, v1::TeamMember& mem) -> absl::Status {
    PEP_RETURN_IF_ERROR(ValidateMemberUpdate(*req, mem));
    v1::TeamMemberUpdated ev;
    auto change = [&ev](const char* field, const std::string& before, const std::string& after) {
      if (before == after) return false;
      auto* c = ev.add_changes();
      c->set_field(field);
      c->set_old_value(before);
      c->set_new_value(after);
      return true;
    };
    auto day = [](const v1::TeamMember& m) {
      return m.has_mission_end() ? absl::FormatTime("%Y-%m-%d", FromTimestamp(m.mission_end()), absl::UTCTimeZone())
                                 : std::string();
    };
    if (!req->role().empty() && change("role", mem.role(), req->role())) mem.set_role(req->role());
    if (req->kind() != v1::TEAM_ROLE_UNSPECIFIED &&
        change("kind", v1::TeamRole_Name(mem.kind()), v1::TeamRole_Name(req->kind()))) {
      mem.set_kind(req->kind());
    }
    if (req->status() != v1::MEMBER_STATUS_UNSPECIFIED &&
        change("status", v1::MemberStatus_Name(mem.status()), v1::MemberStatus_Name(req->status()))) {
      mem.set_status(req->status());
    }
    const std::string before = day(mem);
    if (req->clear_mission_end()) mem.clear_mission_end();
    if (req->has_mission_end()) *mem.mutable_mission_end() = req->mission_end();
    change("mission_end", before, day(mem));
    if (ev.changes_size() == 0) return absl::OkStatus();  // the same values again: nothing to record
    st.set_version(st.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    ev.set_startup_id(st.id());
    *ev.mutable_member() = mem;
    ev.mutable_member()->clear_email();  // personal data stays here, off the log
    return tx.Emit(st, ev, p.id, tx.Now());
  });
}

grpc::Status IncubationService::RemoveTeamMember(grpc::ServerContext* ctx,
                                                 const v1::RemoveTeamMemberRequest* req,
                                                 v1::Startup* out) {
  return ChangeMember(ctx, req->startup_id(), req->member_id(), out,
                      [&](IncubationTx& tx, const auth::Principal& p, v1::Startup& st, v1::TeamMember& mem) -> absl::Status {
    const absl::Time end = req->has_end() ? FromTimestamp(req->end()) : tx.Now();
    if (end < FromTimestamp(mem.start())) {
      return absl::FailedPreconditionError("end: before the member joined");  // its start decides
    }
    *mem.mutable_end() = ToTimestamp(end);
    st.set_version(st.version() + 1);
    PEP_RETURN_IF_ERROR(tx.PutStartup(st));
    v1::TeamMemberRemoved ev;
    ev.set_startup_id(st.id());
    ev.set_member_id(mem.id());
    *ev.mutable_end() = ToTimestamp(end);
    return tx.Emit(st, ev, p.id, end);
  });
}

// The writes to one member still on the team: the caller is a coordinator or the start-up's
// own team (its scope); `change` edits the start-up and the member in one transaction.
grpc::Status IncubationService::ChangeMember(grpc::ServerContext* ctx, const std::string& startup_id,
                                             const std::string& member_id, v1::Startup* out,
                                             const MemberChange& change) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  v1::Startup st;
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](IncubationTx& tx) -> absl::Status {
    auto got = tx.GetStartup(startup_id);
    if (!got.ok()) return got.status();
    st = std::move(*got);
    PEP_RETURN_IF_ERROR(CheckScope(*p, st.id()));
    auto found = CurrentMember(st, member_id);
    if (!found.ok()) return found.status();
    return change(tx, *p, st, **found);
  }));
  Committed();
  Decorate(&st);
  *out = std::move(st);
  return grpc::Status::OK;
}

}  // namespace pep::incubation
