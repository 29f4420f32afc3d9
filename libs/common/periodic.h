// Runs a function on a thread of its own, at once and then every `every`, until destroyed; the
// destructor wakes the thread out of its wait and joins it (a stop never waits out a period).
#pragma once

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace pep {

class PeriodicTask {
 public:
  PeriodicTask(absl::Duration every, std::function<void()> run)
      : thread_([this, every, run = std::move(run)] {
          do {
            run();
          } while (!stop_.WaitForNotificationWithTimeout(every));
        }) {}
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Returns once the function is no longer running (and will not run again).
  void Stop() {
    if (!stop_.HasBeenNotified()) stop_.Notify();
    if (thread_.joinable()) thread_.join();
  }

 private:
  absl::Notification stop_;  // declared before thread_: constructed before the thread reads it
  std::thread thread_;
};

}  // namespace pep
