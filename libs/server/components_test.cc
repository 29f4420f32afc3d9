#include "server/components.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pep::server {
namespace {

// A part that records when it drains and when it is destroyed.
class Part {
 public:
  Part(std::string name, std::vector<std::string>* log) : name_(std::move(name)), log_(log) {}
  ~Part() { log_->push_back("destroyed " + name_); }
  void Drain(absl::Duration grace) {
    log_->push_back("drained " + name_ + " " + absl::FormatDuration(grace));
  }

 private:
  std::string name_;
  std::vector<std::string>* log_;
};

TEST(Components, StopInReverseOfStartEachDrainedThenDestroyed) {
  std::vector<std::string> log, stopped;
  Components c;
  c.Own("store", std::make_unique<Part>("store", &log));  // no drain: only destroyed
  c.Own<Part>("relay", std::make_unique<Part>("relay", &log),
              [](Part& p, absl::Duration g) { p.Drain(g); });
  c.Add("consumer", [&](absl::Duration g) { log.push_back("drained consumer"); });
  c.Own<Part>("server", std::make_unique<Part>("server", &log),
              [](Part& p, absl::Duration g) { p.Drain(g); });
  EXPECT_EQ(c.names(), (std::vector<std::string>{"store", "relay", "consumer", "server"}));
  EXPECT_TRUE(log.empty());

  c.StopAll(absl::Seconds(3), [&](const std::string& n) { stopped.push_back(n); });
  EXPECT_EQ(log, (std::vector<std::string>{"drained server 3s", "destroyed server",
                                           "drained consumer", "drained relay 3s",
                                           "destroyed relay", "destroyed store"}));
  EXPECT_EQ(stopped, (std::vector<std::string>{"server", "consumer", "relay", "store"}));
  EXPECT_TRUE(c.names().empty());
  c.StopAll(absl::Seconds(3));  // nothing left: nothing runs twice
  EXPECT_EQ(log.size(), 6u);
}

TEST(Components, AStartThatFailsHalfWayStopsWhatItStartedWhenDestroyed) {
  std::vector<std::string> log;
  {
    Components c;
    c.Own<Part>("store", std::make_unique<Part>("store", &log));
    c.Own<Part>("relay", std::make_unique<Part>("relay", &log),
                [](Part& p, absl::Duration g) { p.Drain(g); });
    // ... the consumer could not be created: main returns, the parts go with it.
  }
  EXPECT_EQ(log, (std::vector<std::string>{"drained relay 0", "destroyed relay",
                                           "destroyed store"}));
}

TEST(Components, OwnHandsBackThePartItTook) {
  std::vector<std::string> log;
  Components c;
  Part& p = c.Own("x", std::make_unique<Part>("x", &log));
  p.Drain(absl::Seconds(1));
  EXPECT_EQ(log, (std::vector<std::string>{"drained x 1s"}));
}

}  // namespace
}  // namespace pep::server
