// pep-notify's gRPC API: the address book, the console's bell and settings, one-click
// unsubscribe, undeliverable e-mails and digests on demand.
#include "services/notify/notify_service.h"

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "common/text.h"
#include "services/notify/notify_mail.h"

namespace pep::notify {

namespace {

absl::Status RequireCoordinator(const auth::Principal& p, const std::string& action) {
  if (p.HasRole("coordinator")) return absl::OkStatus();
  return absl::PermissionDeniedError(action + " requires the coordinator role");
}

// Exactly the documented pattern of UpsertContactRequest.email (what /openapi.json promises):
// 3 to 254 characters, one '@' not first, a '.' in the domain after its first character and not
// last, no control character and no whitespace in ECMAScript's sense (the pattern's \s).
bool LooksLikeEmail(const std::string& e) {
  std::vector<char32_t> cps;
  for (size_t i = 0; i < e.size();) {
    const auto c = static_cast<unsigned char>(e[i]);
    const int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > e.size()) return false;
    char32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(e[i + k]) & 0x3F);
    cps.push_back(cp);
    i += n;
  }
  auto space = [](char32_t c) {
    return c <= 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
  };
  if (cps.size() < 3 || cps.size() > 254) return false;
  size_t at = std::string::npos;
  for (size_t i = 0; i < cps.size(); ++i) {
    if (space(cps[i])) return false;
    if (cps[i] == '@') {
      if (at != std::string::npos) return false;
      at = i;
    }
  }
  if (at == std::string::npos || at == 0 || cps.back() == '.' || cps.back() == '@') return false;
  for (size_t i = at + 2; i + 1 < cps.size(); ++i) {
    if (cps[i] == '.') return true;
  }
  return false;
}

std::string CategoryNames() {
  std::string out;
  for (const Category& c : Categories()) absl::StrAppend(&out, out.empty() ? "" : ", ", c.name);
  return out;
}

// A follow's subject as FollowRequest documents it: a type among three, an id of 1-128
// characters without control characters.
absl::Status ValidSubjectType(const std::string& type) {
  if (type == "idea" || type == "challenge" || type == "startup") return absl::OkStatus();
  return FieldError("subject_type", "must be idea, challenge or startup");
}

absl::Status ValidSubjectId(const std::string& id) {
  const int n = Utf8Length(id);
  if (n < 1 || n > 128) return FieldError("subject_id", "must be 1-128 characters");
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7F) return FieldError("subject_id", "must not contain control characters");
  }
  return absl::OkStatus();
}

absl::Status ValidSubject(const std::string& type, const std::string& id) {
  PEP_RETURN_IF_ERROR(ValidSubjectType(type));
  return ValidSubjectId(id);
}

}  // namespace

absl::StatusOr<auth::Principal> NotifyService::Caller(const grpc::ServerContext* ctx) const {
  return auth::Authenticate(*ctx, options_.auth);
}

grpc::Status NotifyService::UpsertContact(grpc::ServerContext* ctx,
                                          const nv1::UpsertContactRequest* req, nv1::Contact* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (!LooksLikeEmail(req->email())) {
    return ToGrpcStatus(absl::InvalidArgumentError("email: not an e-mail address"));
  }
  if (Utf8Length(req->display_name()) > 120 || HasControlCharacter(req->display_name())) {
    return ToGrpcStatus(absl::InvalidArgumentError("display_name: at most 120 characters, no control character"));
  }
  if (Utf8Length(req->account_id()) > 128 || HasControlCharacter(req->account_id())) {
    return ToGrpcStatus(absl::InvalidArgumentError("account_id: at most 128 characters, no control character"));
  }
  const bool self = req->account_id().empty() || req->account_id() == p->id;
  if (!self) PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "filing another person's address"));
  nv1::Contact c;
  c.set_account_id(self ? p->id : req->account_id());
  c.set_email(req->email());
  c.set_display_name(req->display_name());
  if (self) {  // the gateway at sign-in: who they are now
    for (const auto& r : p->roles) c.add_roles(r);
    for (const auto& s : p->scopes) c.add_scopes(s);
  }
  c.set_source(self ? "sign-in" : "coordinator");
  *c.mutable_updated_at() = ToTimestamp(clock_.Now());
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    if (!self) {
      auto existing = tx.GetContact(c.account_id());
      if (!existing.ok()) return existing.status();
      if (existing->has_value() && (*existing)->source() == "sign-in") {
        return absl::FailedPreconditionError(
            "account_id: this person signs in; their address comes from their identity provider");
      }
    }
    return tx.PutContact(c);
  }));
  *out = std::move(c);
  return grpc::Status::OK;
}

grpc::Status NotifyService::ListContacts(grpc::ServerContext* ctx,
                                         const nv1::ListContactsRequest* req,
                                         nv1::ListContactsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "reading the address book"));
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) -> absl::Status {
    if (!req->account_id().empty()) {
      auto c = tx.GetContact(req->account_id());
      if (!c.ok()) return c.status();
      if (c->has_value()) *out->add_contacts() = std::move(**c);
      return absl::OkStatus();
    }
    auto all = tx.Contacts();
    if (!all.ok()) return all.status();
    for (auto& c : *all) *out->add_contacts() = std::move(c);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::EraseContact(grpc::ServerContext* ctx,
                                         const nv1::EraseContactRequest* req,
                                         nv1::EraseContactResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  const std::string who = req->account_id().empty() ? p->id : req->account_id();
  if (who != p->id) PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "erasing another person"));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto n = tx.EraseContact(who);
    if (!n.ok()) return n.status();
    out->set_notifications_erased(*n);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::ListNotifications(grpc::ServerContext* ctx,
                                              const nv1::ListNotificationsRequest* req,
                                              nv1::ListNotificationsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->page_size() < 0 || req->page_size() > 200) {
    return ToGrpcStatus(absl::InvalidArgumentError("page_size: between 0 and 200"));
  }
  const int size = req->page_size() == 0 ? 20 : req->page_size();
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) -> absl::Status {
    auto list = tx.ListFor(p->id, req->page_token(), size + 1, req->unread_only());
    if (!list.ok()) return list.status();
    for (int i = 0; i < static_cast<int>(list->size()) && i < size; ++i) {
      *out->add_notifications() = (*list)[i].n;
    }
    if (static_cast<int>(list->size()) > size) out->set_next_page_token((*list)[size - 1].n.id());
    auto unread = tx.UnreadCount(p->id);
    if (!unread.ok()) return unread.status();
    out->set_unread(*unread);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::MarkRead(grpc::ServerContext* ctx, const nv1::MarkReadRequest* req,
                                     nv1::MarkReadResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->notification_ids_size() > 500) {
    return ToGrpcStatus(absl::InvalidArgumentError("notification_ids: at most 500"));
  }
  for (int i = 0; i < req->notification_ids_size(); ++i) {
    const int chars = Utf8Length(req->notification_ids(i));  // what maxLength counts
    if (chars < 1 || chars > 64) {
      return ToGrpcStatus(absl::InvalidArgumentError(
          absl::StrCat("notification_ids[", i, "]: between 1 and 64 characters")));
    }
  }
  const std::vector<std::string> ids(req->notification_ids().begin(), req->notification_ids().end());
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto n = tx.MarkRead(p->id, ids, req->all(), clock_.Now());
    if (!n.ok()) return n.status();
    out->set_marked(*n);
    auto unread = tx.UnreadCount(p->id);
    if (!unread.ok()) return unread.status();
    out->set_unread(*unread);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

absl::Status NotifyService::FillPreferences(NotifyTx& tx, const std::string& account,
                                            nv1::Preferences* out) {
  out->Clear();
  for (const Category& c : Categories()) {
    auto d = tx.DeliveryOf(account, c.name);
    if (!d.ok()) return d.status();
    auto* cp = out->add_categories();
    cp->set_category(c.name);
    cp->set_delivery(static_cast<nv1::Delivery>(*d));
    cp->set_label(c.label);
  }
  return absl::OkStatus();
}

grpc::Status NotifyService::GetPreferences(grpc::ServerContext* ctx,
                                           const nv1::GetPreferencesRequest*,
                                           nv1::Preferences* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) { return FillPreferences(tx, p->id, out); }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::SetPreferences(grpc::ServerContext* ctx,
                                           const nv1::SetPreferencesRequest* req,
                                           nv1::Preferences* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  if (req->categories().empty() || req->categories_size() > 20) {
    return ToGrpcStatus(absl::InvalidArgumentError("categories: between 1 and 20"));
  }
  for (int i = 0; i < req->categories_size(); ++i) {
    const auto& c = req->categories(i);
    if (FindCategory(c.category()) == nullptr) {
      return ToGrpcStatus(absl::InvalidArgumentError(
          absl::StrCat("categories[", i, "].category: '", c.category().substr(0, 40),
                       "' is not a category (", CategoryNames(), ")")));
    }
    if (c.delivery() < nv1::DELIVERY_NONE || c.delivery() > nv1::DELIVERY_WEEKLY) {
      return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
          "categories[", i, "].delivery: one of DELIVERY_NONE, DELIVERY_IMMEDIATE, "
          "DELIVERY_DAILY, DELIVERY_WEEKLY")));
    }
  }
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    for (const auto& c : req->categories()) {
      PEP_RETURN_IF_ERROR(tx.SetDelivery(p->id, c.category(), c.delivery()));
    }
    return FillPreferences(tx, p->id, out);
  }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::Unsubscribe(grpc::ServerContext*, const nv1::UnsubscribeRequest* req,
                                        nv1::UnsubscribeResponse* out) {
  auto u = VerifyUnsubscribe(options_.unsubscribe_key, req->token(), clock_.Now());
  PEP_GRPC_RETURN_IF_ERROR(u.status());
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    for (const Category& c : Categories()) {
      if (u->category == "*" || u->category == c.name) {
        PEP_RETURN_IF_ERROR(tx.SetDelivery(u->account_id, c.name, nv1::DELIVERY_NONE));
      }
    }
    return absl::OkStatus();
  }));
  const Category* c = FindCategory(u->category);
  out->set_category(u->category);
  out->set_label(c ? c->label : "toutes les catégories");
  return grpc::Status::OK;
}

grpc::Status NotifyService::ListUndeliverable(grpc::ServerContext* ctx,
                                              const nv1::ListUndeliverableRequest*,
                                              nv1::ListUndeliverableResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "listing undeliverable e-mails"));
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) -> absl::Status {
    auto u = tx.Undeliverable(500);
    if (!u.ok()) return u.status();
    for (auto& x : *u) *out->add_undeliverable() = std::move(x);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::SendDigests(grpc::ServerContext* ctx, const nv1::SendDigestsRequest* req,
                                        nv1::SendDigestsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(RequireCoordinator(*p, "sending digests"));
  if (req->cadence() != nv1::DELIVERY_DAILY && req->cadence() != nv1::DELIVERY_WEEKLY) {
    return ToGrpcStatus(absl::InvalidArgumentError("cadence: DELIVERY_DAILY or DELIVERY_WEEKLY"));
  }
  // The weekly digest on demand includes this week's portfolio picture (once per week still).
  if (req->cadence() == nv1::DELIVERY_WEEKLY) PEP_GRPC_RETURN_IF_ERROR(PortfolioWeekly(clock_.Now()));
  auto made = MakeDigests(req->cadence());
  PEP_GRPC_RETURN_IF_ERROR(made.status());
  out->set_digests(made->first);
  out->set_notifications(made->second);
  return grpc::Status::OK;
}

grpc::Status NotifyService::Follow(grpc::ServerContext* ctx, const nv1::FollowRequest* req,
                                   nv1::FollowResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidSubject(req->subject_type(), req->subject_id()));
  const absl::Time now = clock_.Now();
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto created = tx.Follow(p->id, req->subject_type(), req->subject_id(), now);
    if (!created.ok()) return created.status();
    out->set_created(*created);
    auto all = tx.FollowsOf(p->id);
    if (!all.ok()) return all.status();
    for (auto& f : *all) {
      if (f.subject_type() == req->subject_type() && f.subject_id() == req->subject_id()) {
        *out->mutable_follow() = std::move(f);
      }
    }
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::Unfollow(grpc::ServerContext* ctx, const nv1::UnfollowRequest* req,
                                     nv1::UnfollowResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  PEP_GRPC_RETURN_IF_ERROR(ValidSubject(req->subject_type(), req->subject_id()));
  PEP_GRPC_RETURN_IF_ERROR(store_.Write([&](NotifyTx& tx) -> absl::Status {
    auto removed = tx.Unfollow(p->id, req->subject_type(), req->subject_id());
    if (!removed.ok()) return removed.status();
    out->set_removed(*removed);
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

grpc::Status NotifyService::ListFollows(grpc::ServerContext* ctx, const nv1::ListFollowsRequest* req,
                                        nv1::ListFollowsResponse* out) {
  auto p = Caller(ctx);
  PEP_GRPC_RETURN_IF_ERROR(p.status());
  // Two filters, each optional: the type, the id.
  if (!req->subject_type().empty()) PEP_GRPC_RETURN_IF_ERROR(ValidSubjectType(req->subject_type()));
  if (!req->subject_id().empty()) PEP_GRPC_RETURN_IF_ERROR(ValidSubjectId(req->subject_id()));
  PEP_GRPC_RETURN_IF_ERROR(store_.Read([&](NotifyTx& tx) -> absl::Status {
    auto all = tx.FollowsOf(p->id);
    if (!all.ok()) return all.status();
    for (auto& f : *all) {
      if ((!req->subject_type().empty() && f.subject_type() != req->subject_type()) ||
          (!req->subject_id().empty() && f.subject_id() != req->subject_id())) {
        continue;
      }
      *out->add_follows() = std::move(f);
    }
    return absl::OkStatus();
  }));
  return grpc::Status::OK;
}

}  // namespace pep::notify
