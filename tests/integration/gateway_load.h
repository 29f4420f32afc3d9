// Writes through the gateway for the whole-platform fault tests (the Kafka cluster failing,
// replicas killed): ideas submitted, start-ups created and users' answers, from four client
// threads, each acknowledged write remembered with the phase of the test it was made in; then
// every one of them looked for in the ledger, exactly once, and the ledger verified.
#pragma once

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "harness/harness.h"
#include "harness/kafka_testing.h"
#include "integration/gateway_fixture.h"

namespace pep::testing {

// A write the platform acknowledged, and the ledger entry it must become.
struct Ack {
  std::string id;       // the aggregate: the entry's ce_subject
  std::string ce_type;  // the event it must become
  int phase;
};

inline std::string Field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return json.substr(from, json.find('"', from) - from);
}

class Load {
 public:
  Load(Platform& p, std::string challenge, std::string startup)
      : p_(p), challenge_(std::move(challenge)), startup_(std::move(startup)) {}
  ~Load() { Stop(); }

  void Start() {
    threads_.emplace_back([this] { Run("ideas"); });
    threads_.emplace_back([this] { Run("startups"); });
    threads_.emplace_back([this] { Run("feedback"); });
    threads_.emplace_back([this] { Run("feedback"); });
  }
  void Stop() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  void set_phase(int phase) { phase_.store(phase); }
  std::vector<Ack> acks() {
    absl::MutexLock l(&mu_);
    return acks_;
  }
  size_t acked_in(int phase) {
    absl::MutexLock l(&mu_);
    size_t n = 0;
    for (const Ack& a : acks_) n += a.phase == phase;
    return n;
  }
  int refused() const { return refused_.load(); }
  // Writes not acknowledged in `phase`, by HTTP status ("no answer": no HTTP response at all).
  std::map<std::string, int> refused_in(int phase) {
    absl::MutexLock l(&mu_);
    std::map<std::string, int> out;
    for (const auto& [k, n] : refused_by_) {
      if (k.first == phase) out[k.second] += n;
    }
    return out;
  }

 private:
  void Run(const std::string& kind) {
    // Each client's requests go to the gateways in turn (as a load balancer without health
    // checks would send them): a dead gateway's share goes unanswered until it is back.
    const std::vector<std::string> gateways = p_.GatewayUrls();
    for (int i = 0; !stop_.load(); ++i) {
      const int phase = phase_.load();
      std::map<std::string, std::string> h = {{"Content-Type", "application/json"}};
      std::string target, body, type;
      if (kind == "ideas") {
        h["Authorization"] = "Bearer " + p_.coordinator();
        target = absl::StrCat("/v1/challenges/", challenge_, "/ideas");
        body = absl::StrCat(R"({"title":"Dossier unique )", i,
                            R"(","problem":"Les usagers remplissent trois formulaires.",)"
                            R"("proposal":"Un formulaire pré-rempli.","author_name":"Camille",)"
                            R"("department":"DAS","contact_email":"camille@exemple.fr"})");
        type = "pepiniere.ideas.v1.IdeaSubmitted";
      } else if (kind == "startups") {
        h["Authorization"] = "Bearer " + p_.coordinator();
        target = "/v1/startups";
        body = absl::StrCat(R"({"name":"Démarche )", i, " ", absl::ToUnixMicros(absl::Now()),
                            R"(","mission":"Tenir quand Kafka tombe","incubator":"lab06"})");
        type = "pepiniere.incubation.v1.StartupCreated";
      } else {
        target = absl::StrCat("/v1/startups/", startup_, "/feedback");
        body = absl::StrCat(R"({"satisfaction":"SATISFACTION_GOOD","verbatim":"réponse )", i, "\"}");
        type = "pepiniere.feedback.v1.FeedbackReceived";
      }
      auto r = gateway::HttpCall(gateways[i % gateways.size()], "POST", target, h, body);
      const std::string id = r.ok() && r->status == 201 ? Field(r->body, "id") : "";
      if (id.empty()) {
        ++refused_;
        {
          absl::MutexLock l(&mu_);
          ++refused_by_[{phase, r.ok() ? absl::StrCat(r->status) : "no answer"}];
        }
        absl::SleepFor(absl::Milliseconds(50));  // back off as a client would
        continue;
      }
      {
        absl::MutexLock l(&mu_);
        acks_.push_back({id, type, phase});
      }
      // ~20 writes a second a thread: steady traffic (the ledger then holds ~20,000 entries to
      // export and check), not a benchmark.
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  Platform& p_;
  const std::string challenge_, startup_;
  std::atomic<bool> stop_{false};
  std::atomic<int> phase_{0};
  std::atomic<int> refused_{0};
  absl::Mutex mu_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<int, std::string>, int> refused_by_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// What the load writes to: an open challenge, and a product in construction (answers are taken
// from construction on) announced as pep-incubation would, once pep-feedback takes answers for it.
struct LoadTargets {
  std::string challenge, startup;
};
inline LoadTargets PrepareLoad(Platform& p) {
  LoadTargets t;
  const std::string coord = p.coordinator();
  t.challenge =
      p.Post<pepiniere::ideas::v1::Challenge>(
           "/v1/challenges", coord,
           R"({"title":"Simplification","theme":"t","criteria":[{"name":"impact","weight":1}],"jury_quorum":1})")
          .id();
  p.Post<pepiniere::ideas::v1::Challenge>(absl::StrCat("/v1/challenges/", t.challenge, ":open"), coord, "{}");
  t.startup = NewUuidV7(absl::Now());
  EXPECT_TRUE(PublishStartupCreated(p.brokers(), t.startup).ok());
  EXPECT_TRUE(WaitFor([&] {
    auto r = gateway::HttpCall(p.url(), "POST", absl::StrCat("/v1/startups/", t.startup, "/feedback"),
                               {{"Content-Type", "application/json"}},
                               R"({"satisfaction":"SATISFACTION_GOOD","verbatim":"premier"})");
    return r.ok() && r->status == 201;
  }, absl::Seconds(60)));
  return t;
}

// Every write `load` had acknowledged is in the ledger exactly once (per phase: acked / found /
// duplicates printed), with no gap, and the ledger verifies.
inline void ExpectEveryAckInTheLedgerOnce(Platform& p, Load& load,
                                          const std::vector<std::string>& phases) {
  const std::vector<Ack> acks = load.acks();
  std::map<std::pair<std::string, std::string>, int> entries;  // (ce_subject, ce_type) -> count
  size_t found_all = 0;
  auto read_ledger = [&] {
    entries.clear();
    for (const std::string& line : p.audit().Export()) {
      ++entries[{Field(line, "ce_subject"), Field(line, "ce_type")}];
    }
    found_all = 0;
    for (const Ack& a : acks) found_all += entries.count({a.id, a.ce_type}) > 0;
    return found_all == acks.size();
  };
  EXPECT_TRUE(WaitFor(read_ledger, absl::Seconds(240), absl::Seconds(5)))
      << found_all << " of " << acks.size() << " acknowledged writes in the ledger";
  std::printf("%zu writes acknowledged through the gateway, %d refused or failed\n", acks.size(),
              load.refused());
  for (size_t ph = 0; ph < phases.size(); ++ph) {
    size_t acked = 0, found = 0, duplicates = 0;
    for (const Ack& a : acks) {
      if (a.phase != static_cast<int>(ph)) continue;
      ++acked;
      const auto it = entries.find({a.id, a.ce_type});
      if (it == entries.end()) continue;
      ++found;
      duplicates += it->second - 1;
    }
    std::string refused;
    for (const auto& [status, n] : load.refused_in(static_cast<int>(ph))) {
      absl::StrAppend(&refused, refused.empty() ? "" : ", ", n, " × ", status);
    }
    std::printf("phase %zu, %s: acked %zu / found %zu / duplicates %zu; not acknowledged: %s\n", ph,
                phases[ph].c_str(), acked, found, duplicates, refused.empty() ? "none" : refused.c_str());
    EXPECT_EQ(found, acked) << phases[ph];
    EXPECT_EQ(duplicates, 0u) << phases[ph];
  }
  const auto verified = p.audit().Verify();
  EXPECT_TRUE(verified.ok()) << verified.ShortDebugString();
  EXPECT_EQ(verified.gaps_size(), 0) << "an aggregate's version skipped";
  EXPECT_EQ(verified.duplicates_size(), 0) << "an aggregate's version recorded twice";
  std::printf("ledger: %lld entries, verified %s\n", static_cast<long long>(verified.records()),
              verified.ok() ? "yes" : "NO");
}

}  // namespace pep::testing
