// A Recorder that keeps a run's summaries and events in memory, for tests.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "train/recorder.hpp"

namespace kiln::test {

class MemoryRecorder final : public runner::Recorder {
 public:
  void summary(std::string_view tag, std::int64_t step, double value) override {
    summaries[std::string(tag)].emplace_back(step, value);
  }
  void event(std::string_view kind, std::optional<std::int64_t> step, std::string_view message) override {
    events.emplace_back(std::string(kind), std::string(message));
  }
  void image(std::string_view tag, std::int64_t step, const std::string& path) override {
    images.emplace_back(std::string(tag), path);
  }
  /// The values of one tag, in the order they were recorded.
  std::vector<double> values(const std::string& tag) const {
    std::vector<double> out;
    if (auto it = summaries.find(tag); it != summaries.end())
      for (const auto& [step, value] : it->second) out.push_back(value);
    return out;
  }

  std::map<std::string, std::vector<std::pair<std::int64_t, double>>> summaries;
  std::vector<std::pair<std::string, std::string>> events;
  std::vector<std::pair<std::string, std::string>> images;  ///< tag, path
};

}  // namespace kiln::test
