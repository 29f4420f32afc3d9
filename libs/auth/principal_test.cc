// Principal extraction: gateway key enforcement, dev mode defaults, roles and scope parsing.
#include "auth/principal.h"
#include "gtest/gtest.h"

namespace pep::auth {
namespace {

TEST(Authenticate, RequiresGatewayKeyUnlessInsecureDev) {
  AuthOptions strict{.insecure_dev = false, .gateway_key = "s3cret"};
  auto no_key = Authenticate({{"x-pep-actor", "a"}}, strict);
  EXPECT_EQ(no_key.status().code(), absl::StatusCode::kUnauthenticated);
  auto wrong = Authenticate({{"x-pep-actor", "a"}, {"x-pep-gateway-key", "s3creT"}}, strict);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  auto ok = Authenticate(
      {{"x-pep-actor", "a"}, {"x-pep-gateway-key", "s3cret"}, {"x-pep-roles", "juror, agent"},
       {"x-pep-scope", "startup:42, startup:43"}},
      strict);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->id, "a");
  EXPECT_EQ(ok->roles, (std::vector<std::string>{"juror", "agent"}));
  EXPECT_TRUE(ok->HasRole("juror"));
  EXPECT_FALSE(ok->HasRole("coordinator"));
  EXPECT_EQ(ok->scopes, (std::vector<std::string>{"startup:42", "startup:43"}));
  // A juror and agent with start-up scopes but no product_team role reaches no start-up.
  EXPECT_FALSE(ok->CoversStartup("42"));
  Principal team{.id = "t", .roles = {"agent", "product_team"}, .scopes = {"startup:42"}};
  EXPECT_TRUE(team.CoversStartup("42"));
  EXPECT_FALSE(team.CoversStartup("4"));
  EXPECT_FALSE(team.CoversStartup("43"));
  Principal coordinator{.id = "c", .roles = {"coordinator"}};
  EXPECT_TRUE(coordinator.CoversStartup("43"));
  // An empty configured key never matches, even an empty header.
  EXPECT_FALSE(Authenticate({{"x-pep-actor", "a"}, {"x-pep-gateway-key", ""}},
                            AuthOptions{.insecure_dev = false, .gateway_key = ""})
                   .ok());
}

TEST(Authenticate, InsecureDevDefaultsToCoordinatorDev) {
  AuthOptions dev{.insecure_dev = true};
  auto p = Authenticate(std::multimap<std::string, std::string>{}, dev);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->id, "dev");
  EXPECT_TRUE(p->HasRole("coordinator"));
  auto agent = Authenticate({{"x-pep-actor", "agent-7"}, {"x-pep-roles", "agent"}}, dev);
  ASSERT_TRUE(agent.ok());
  EXPECT_FALSE(agent->HasRole("coordinator"));
}

TEST(Authenticate, ActorRequiredWhenStrict) {
  auto p = Authenticate({{"x-pep-gateway-key", "k"}}, {.insecure_dev = false, .gateway_key = "k"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(p.status().message().find("x-pep-actor"), absl::string_view::npos);
}

// The gateway percent-encodes people's text (grpc++ aborts on a non-ASCII metadata value); the
// principal holds it decoded, as the person wrote it.
TEST(Authenticate, DecodesPercentEncodedActorAndScopes) {
  AuthOptions dev{.insecure_dev = true};
  auto p = Authenticate({{"x-pep-actor", "%C3%A9quipe-voirie"}, {"x-pep-roles", "product_team"},
                         {"x-pep-scope", "startup:a%2Cb,startup:42"}},
                        dev);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->id, "équipe-voirie");
  EXPECT_EQ(p->scopes, (std::vector<std::string>{"startup:a,b", "startup:42"}));
  EXPECT_EQ(Authenticate({{"x-pep-actor", "bad%zz"}}, dev).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Authenticate({{"x-pep-actor", "%FF%FE"}}, dev).status().code(),
            absl::StatusCode::kInvalidArgument);  // decodes to bytes that are not UTF-8
  // 128 characters of accents (256 bytes) are one actor; 129 are too many.
  std::string long_actor;
  for (int i = 0; i < 128; ++i) long_actor += "%C3%A9";
  EXPECT_TRUE(Authenticate({{"x-pep-actor", long_actor}}, dev).ok());
  EXPECT_FALSE(Authenticate({{"x-pep-actor", long_actor + "a"}}, dev).ok());
}

}  // namespace
}  // namespace pep::auth
