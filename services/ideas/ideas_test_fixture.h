// The fixture of pep-ideas' tests over real gRPC (a server on 127.0.0.1 that requires the
// gateway key, on SQLite and on PostgreSQL): ideas_service_test.cc (ideas, juries, supports) and
// ideas_agents_test.cc (comments, blind review, conflicts, announcements, sealed scoring,
// co-authors, drafts).
#pragma once

#include "services/ideas/ideas_service.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "harness/harness.h"
#include "harness/postgres_testing.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "prometheus/registry.h"
#include "sealed/sealed.h"
#include "store/outbox.h"

namespace pep::ideas {

inline constexpr char kKey[] = "test-gateway-key-0123456789";

class IdeasOverGrpc : public ::testing::TestWithParam<pep::testing::Backend> {
 protected:
  IdeasOverGrpc()
      : url_(pep::testing::StoreUrl(GetParam(), dir_, "ideas.db")),
        store_(*IdeasStore::Open(url_, clock_)),
        metrics_(registry_),
        svc_(*store_, metrics_, nullptr, {.auth = {.insecure_dev = false, .gateway_key = kKey}}) {
    EXPECT_TRUE(svc_.Init().ok());
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&svc_);
    server_ = b.BuildAndStart();
    stub_ = v1::IdeaService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }
  ~IdeasOverGrpc() override { server_->Shutdown(); }

  // A client context as pep-gateway would send it.
  std::unique_ptr<grpc::ClientContext> As(const std::string& actor, const std::string& roles,
                                          const std::string& key = kKey) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("x-pep-gateway-key", key);
    c->AddMetadata("x-pep-actor", actor);
    c->AddMetadata("x-pep-roles", roles);
    return c;
  }

  v1::Challenge OpenChallenge(v1::Visibility visibility = v1::VISIBILITY_JURY) {
    v1::CreateChallengeRequest r;
    r.set_visibility(visibility);
    r.set_title("Simplification administrative");
    r.set_theme("simplification");
    auto* crit = r.add_criteria();
    crit->set_name("impact");
    crit->set_weight(1);
    r.set_jury_quorum(1);
    v1::Challenge c;
    EXPECT_TRUE(stub_->CreateChallenge(As("coord", "coordinator").get(), r, &c).ok());
    v1::ChallengeTransitionRequest o;
    o.set_challenge_id(c.id());
    EXPECT_TRUE(stub_->OpenChallenge(As("coord", "coordinator").get(), o, &c).ok());
    return c;
  }

  v1::Idea Submit(const v1::Challenge& c, const std::string& author, const std::string& title) {
    return SubmitVia(*stub_, c, author, title).idea();
  }
  v1::SubmitIdeaResponse SubmitVia(v1::IdeaService::Stub& stub, const v1::Challenge& c,
                                   const std::string& author, const std::string& title) {
    v1::SubmitIdeaRequest r;
    r.set_challenge_id(c.id());
    r.set_title(title);
    r.set_problem("Trop de formulaires papier pour une même démarche");
    r.set_proposal("Un formulaire unique en ligne, prérempli");
    r.set_author_name(author);
    r.set_department("DRH");
    r.set_contact_email(author + "@departement06.fr");
    v1::SubmitIdeaResponse out;
    grpc::Status s = stub.SubmitIdea(As(author, "agent").get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  pep::testing::TempDir dir_;
  FakeClock clock_{absl::Now()};  // comments' 15 minutes and their rate, without waiting
  std::string url_;  // the store's
  std::unique_ptr<IdeasStore> store_;
  prometheus::Registry registry_;
  IdeasMetrics metrics_;
  IdeasService svc_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::IdeaService::Stub> stub_;
};

}  // namespace pep::ideas
