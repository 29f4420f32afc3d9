// Loads a challenge at the department's scale into a running pep-ideas, over gRPC with the
// gateway key (as the gateway calls it): one challenge open to all agents, 500 ideas by 500 of
// 4,500 agents, 20,000 supports (each agent supports 4 or 5 others' ideas), 5,000 comments in
// French. Eight client threads. Prints "challenge <id>" and "idea <id>" lines (the ideas in
// submission order) for agents_bench.sh.
//   pep-ideas-bench-load HOST:PORT GATEWAY_KEY
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "pepiniere/ideas/v1/ideas.grpc.pb.h"

namespace iv1 = ::pepiniere::ideas::v1;

namespace {

constexpr int kAgents = 4500, kIdeas = 500, kSupports = 20000, kComments = 5000, kThreads = 8;

struct Client {
  std::unique_ptr<iv1::IdeaService::Stub> stub;
  std::string key;
  void As(grpc::ClientContext& ctx, const std::string& actor, const std::string& roles) const {
    ctx.AddMetadata("x-pep-gateway-key", key);
    ctx.AddMetadata("x-pep-actor", actor);
    ctx.AddMetadata("x-pep-roles", roles);
  }
};

std::string Agent(int i) { return absl::StrCat("agent-", i); }

// Runs `n` calls on kThreads threads; returns the failures (printed once each kind).
template <typename F>
int Parallel(int n, F call) {
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        if (!call(i)) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s HOST:PORT GATEWAY_KEY\n", argv[0]);
    return 2;
  }
  Client c{iv1::IdeaService::NewStub(grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials())), argv[2]};
  iv1::Challenge ch;
  {
    grpc::ClientContext ctx;
    c.As(ctx, "coord-bench", "coordinator");
    iv1::CreateChallengeRequest r;
    r.set_title("Simplifions la vie des agents");
    r.set_theme("qualité de vie au travail");
    auto* k = r.add_criteria();
    k->set_name("impact");
    k->set_weight(1);
    r.set_jury_quorum(1);
    r.set_visibility(iv1::VISIBILITY_AGENTS);
    grpc::Status s = c.stub->CreateChallenge(&ctx, r, &ch);
    if (!s.ok()) return std::fprintf(stderr, "CreateChallenge: %s\n", s.error_message().c_str()), 1;
  }
  {
    grpc::ClientContext ctx;
    c.As(ctx, "coord-bench", "coordinator");
    iv1::ChallengeTransitionRequest r;
    r.set_challenge_id(ch.id());
    if (!c.stub->OpenChallenge(&ctx, r, &ch).ok()) return 1;
  }
  std::vector<std::string> ideas(kIdeas);
  const int bad_ideas = Parallel(kIdeas, [&](int i) {
    grpc::ClientContext ctx;
    c.As(ctx, Agent(i * 9), "agent");  // 500 authors spread over the 4,500
    iv1::SubmitIdeaRequest r;
    r.set_challenge_id(ch.id());
    r.set_title(absl::StrCat("Idée n°", i, " : dématérialiser la démarche « équipe-voirie » ", i));
    r.set_problem(absl::StrCat("Les agents des collèges et des routes remplissent à la main le formulaire ", i,
                               " ; il faut le ressaisir ensuite, avec des erreurs."));
    r.set_proposal("Un formulaire en ligne, prérempli avec ce que le département sait déjà, utilisable sur téléphone.");
    r.set_author_name(absl::StrCat("Agent n°", i * 9));
    r.set_department(i % 3 == 0 ? "Direction des routes" : i % 3 == 1 ? "Collèges" : "Solidarités");
    r.set_contact_email(absl::StrCat("agent", i * 9, "@departement06.fr"));
    r.set_hide_author(i % 5 == 0);
    iv1::SubmitIdeaResponse out;
    if (!c.stub->SubmitIdea(&ctx, r, &out).ok()) return false;
    ideas[i] = out.idea().id();
    return true;
  });
  // Agent a supports ideas (a*13 + j*41) mod 500, j = 0.. (41 is prime to 500: all distinct).
  std::atomic<int> own{0};
  const int bad_supports = Parallel(kSupports, [&](int i) {
    const int a = i % kAgents, j = i / kAgents;
    const int idea = (a * 13 + j * 41) % kIdeas;
    grpc::ClientContext ctx;
    c.As(ctx, Agent(a), "agent");
    iv1::SupportIdeaRequest r;
    r.set_idea_id(ideas[idea]);
    iv1::Idea out;
    grpc::Status s = c.stub->SupportIdea(&ctx, r, &out);
    // An author does not support their own idea: those few are skipped, not failures.
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) ++own;
    return s.ok() || s.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
  });
  const int bad_comments = Parallel(kComments, [&](int i) {
    grpc::ClientContext ctx;
    c.As(ctx, Agent((i * 7) % kAgents), "agent");
    iv1::AddCommentRequest r;
    r.set_idea_id(ideas[i % kIdeas]);
    r.set_body(absl::StrCat("Très bonne idée : à la direction des routes, on perd une demi-journée par semaine "
                            "à cause de ce formulaire (remarque ", i, ")."));
    r.set_author_name(absl::StrCat("Agent n°", (i * 7) % kAgents));
    iv1::Comment out;
    return c.stub->AddComment(&ctx, r, &out).ok();
  });
  std::fprintf(stderr, "loaded: %d ideas, %d supports (%d on their own idea skipped), %d comments (failed %d, %d, %d)\n",
               kIdeas - bad_ideas, kSupports - bad_supports - own.load(), own.load(), kComments - bad_comments,
               bad_ideas, bad_supports, bad_comments);
  std::printf("challenge %s\n", ch.id().c_str());
  for (const auto& id : ideas) std::printf("idea %s\n", id.c_str());
  return bad_ideas + bad_supports + bad_comments > 0 ? 1 : 0;
}
