// Each pep-audit replica's reader of pepiniere.audit.log: applies what the sequencer committed
// (read_committed) to the replica's own LogIndex, from where the index says it stopped.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "events/kafka.h"
#include "services/audit/log_index.h"

namespace pep::audit {

class LogFollower {
 public:
  using OnApplied = std::function<void(const Applied&)>;
  static absl::StatusOr<std::unique_ptr<LogFollower>> Create(const std::string& brokers,
                                                             const std::string& log_topic,
                                                             const events::KafkaProperties& extra,
                                                             LogIndex* index, OnApplied on_applied);
  ~LogFollower();
  void Start();
  void Stop();
  // The index holds everything committed to the log when it last reached the end.
  bool CaughtUp() const { return caught_up_.load(); }

 private:
  LogFollower(LogIndex* index, OnApplied on_applied) : index_(index), on_applied_(std::move(on_applied)) {}
  absl::Status Seek();
  void Loop();

  LogIndex* index_;
  OnApplied on_applied_;
  std::string topic_;
  events::KafkaHandle rk_;
  std::atomic<bool> stop_{false}, caught_up_{false};
  std::thread thread_;
};

}  // namespace pep::audit
