// The logger a probe is given for its -v trace. Each line is formatted whole and handed to spdlog in one
// call (its sinks lock per line), tagged with the probe's id, so lines of concurrent probes never
// interleave within a line. A single probe has an empty tag: its trace reads as it always did.
#pragma once

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <utility>

namespace mtls_probe {

class ProbeLog {
 public:
  ProbeLog() = default;  // silent
  ProbeLog(std::shared_ptr<spdlog::logger> logger, std::string tag)
      : logger_(std::move(logger)), tag_(std::move(tag)) {}

  // Whether trace lines are wanted: callers skip formatting work that only the trace would show.
  bool tracing() const { return logger_ != nullptr && logger_->should_log(spdlog::level::debug); }
  const std::string& tag() const { return tag_; }

  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    if (tracing()) logger_->debug("{}{}", tag_, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::string tag_;  // "" or "[id] "
};

}  // namespace mtls_probe
