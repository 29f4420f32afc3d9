#include "services/gateway/backends.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/text.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pep::gateway {

namespace {

}  // namespace

std::string GrpcTarget(const std::string& address) {
  // Already a target with its resolver (dns:///name:port, ipv4:a,b, unix:path): as given.
  for (const char* scheme : {"dns:", "ipv4:", "ipv6:", "unix:"}) {
    if (absl::StartsWith(address, scheme)) return address;
  }
  return address.find(',') == std::string::npos ? address : absl::StrCat("ipv4:", address);
}

namespace {

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
  grpc::ChannelArguments args;
  // Every address the target resolves to (replicas: a list, or a headless Service's DNS name)
  // gets calls in turn; a replica that goes away leaves the rotation until it answers again.
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  return grpc::CreateCustomChannel(GrpcTarget(address), grpc::InsecureChannelCredentials(), args);
}

}  // namespace

Backend::Backend(std::string name, const std::string& address, int max_in_flight,
                 prometheus::Registry* registry)
    : name_(std::move(name)),
      channel_(ChannelTo(address)),
      health_(grpc::health::v1::Health::NewStub(channel_)),
      max_in_flight_(max_in_flight) {
  if (registry != nullptr) {
    up_gauge_ = &prometheus::BuildGauge()
                     .Name("pep_gateway_backend_up")
                     .Help("1 when the service's grpc.health.v1 check answers SERVING")
                     .Register(*registry)
                     .Add({{"backend", name_}});
    in_flight_gauge_ = &prometheus::BuildGauge()
                            .Name("pep_gateway_backend_in_flight")
                            .Help("Calls to the service in flight now")
                            .Register(*registry)
                            .Add({{"backend", name_}});
  }
}

void Backend::CheckHealth() {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  grpc::health::v1::HealthCheckRequest rq;
  grpc::health::v1::HealthCheckResponse rs;
  const bool ok = health_->Check(&ctx, rq, &rs).ok() &&
                  rs.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  healthy_ = ok;
  if (up_gauge_ != nullptr) up_gauge_->Set(ok ? 1 : 0);
}

bool Backend::Acquire() {
  if (in_flight_.fetch_add(1) >= max_in_flight_) {
    in_flight_.fetch_sub(1);
    return false;
  }
  if (in_flight_gauge_ != nullptr) in_flight_gauge_->Increment();
  return true;
}

void Backend::Release() {
  in_flight_.fetch_sub(1);
  if (in_flight_gauge_ != nullptr) in_flight_gauge_->Decrement();
}

Backends::Backends(const BackendAddresses& a, int max_in_flight, prometheus::Registry* registry)
    : ideas("pep-ideas", a.ideas, max_in_flight, registry),
      incubation("pep-incubation", a.incubation, max_in_flight, registry),
      feedback("pep-feedback", a.feedback, max_in_flight, registry),
      audit("pep-audit", a.audit, max_in_flight, registry),
      notify("pep-notify", a.notify, max_in_flight, registry),
      ideas_stub(pepiniere::ideas::v1::IdeaService::NewStub(ideas.channel())),
      incubation_stub(pepiniere::incubation::v1::IncubationService::NewStub(incubation.channel())),
      feedback_stub(pepiniere::feedback::v1::FeedbackService::NewStub(feedback.channel())),
      audit_stub(pepiniere::audit::v1::AuditService::NewStub(audit.channel())),
      notify_stub(pepiniere::notify::v1::NotifyService::NewStub(notify.channel())),
      watcher_(absl::Seconds(1), [this] {
        for (Backend* b : all()) b->CheckHealth();
      }) {}

void ApplyMetadata(grpc::ClientContext& ctx, const CallMetadata& m) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + m.deadline));
  // Always an actor: a service in --insecure_dev would take a call without one for "dev".
  // People's text (an actor « équipe-voirie ») is percent-encoded: grpc++ aborts the process on
  // a metadata value that is not printable ASCII. libs/auth decodes it.
  ctx.AddMetadata("x-pep-actor", m.caller.actor.empty() ? "public" : EncodeMetadataValue(m.caller.actor));
  ctx.AddMetadata("x-pep-roles", RoleNames(m.caller.roles));
  if (!m.caller.scopes.empty()) {
    ctx.AddMetadata("x-pep-scope", absl::StrJoin(m.caller.scopes, ",", [](std::string* out, const std::string& s) {
                      out->append(EncodeMetadataValue(s, ","));
                    }));
  }
  if (!m.gateway_key.empty()) ctx.AddMetadata("x-pep-gateway-key", m.gateway_key);
  if (!m.client_key.empty()) ctx.AddMetadata("x-pep-client-key", m.client_key);
}

void SyncContact(Backends& b, const std::string& gateway_key, const Caller& person,
                 const std::string& email, const std::string& display_name) {
  if (email.empty() || person.actor.empty()) return;
  struct Call {
    grpc::ClientContext ctx;
    pepiniere::notify::v1::UpsertContactRequest req;
    pepiniere::notify::v1::Contact resp;
  };
  auto* call = new Call;
  ApplyMetadata(call->ctx, {.deadline = absl::Seconds(10), .caller = person, .gateway_key = gateway_key});
  call->req.set_email(email);
  size_t cut = std::min<size_t>(display_name.size(), 120);  // between UTF-8 characters
  while (cut < display_name.size() && (static_cast<unsigned char>(display_name[cut]) & 0xC0) == 0x80) --cut;
  call->req.set_display_name(display_name.substr(0, cut));
  b.notify_stub->async()->UpsertContact(&call->ctx, &call->req, &call->resp,
                                        [call, actor = person.actor](grpc::Status s) {
                                          if (!s.ok()) {
                                            LogWarn("pep-notify: contact not recorded",
                                                    {{"account", actor}, {"error", s.error_message()}});
                                          }
                                          delete call;
                                        });
}

}  // namespace pep::gateway
