// The parts of a running process, stopped in reverse of the order they were started: what
// was started last (the gRPC server) stops first, so every part still has what it depends on
// while it drains. Written once here instead of in every main.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace pep::server {

class Components {
 public:
  // How a part drains; it is given the grace each part may take.
  using Drain = std::function<void(absl::Duration grace)>;

  Components() = default;
  // Stops what is still running, with no grace (a start that failed half-way).
  ~Components() { StopAll(absl::ZeroDuration()); }
  Components(const Components&) = delete;
  Components& operator=(const Components&) = delete;

  // Records a started part and how to stop it.
  void Add(std::string name, Drain drain) {
    parts_.push_back({std::move(name), std::move(drain)});
  }

  // Takes a started part: on stop, `drain` runs (when given), then the part is destroyed.
  template <typename T>
  T& Own(std::string name, std::unique_ptr<T> part,
         std::function<void(T&, absl::Duration)> drain = nullptr) {
    T& ref = *part;
    auto held = std::make_shared<std::unique_ptr<T>>(std::move(part));
    Add(std::move(name), [held, drain = std::move(drain)](absl::Duration grace) {
      if (drain) drain(**held, grace);
      held->reset();
    });
    return ref;
  }

  // Drains and destroys every part, newest first; `on_stopped(name)` after each.
  void StopAll(absl::Duration grace,
               const std::function<void(const std::string&)>& on_stopped = nullptr) {
    while (!parts_.empty()) {
      Part p = std::move(parts_.back());
      parts_.pop_back();
      if (p.drain) p.drain(grace);
      if (on_stopped) on_stopped(p.name);
    }
  }

  // Names of the running parts, oldest first.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& p : parts_) out.push_back(p.name);
    return out;
  }

 private:
  struct Part {
    std::string name;
    Drain drain;
  };
  std::vector<Part> parts_;
};

}  // namespace pep::server
