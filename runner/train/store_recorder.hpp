// StoreRecorder: a run's summaries and events, queued to the run store's writer thread.
#pragma once

#include <chrono>
#include <string>

#include "store/writer.hpp"
#include "train/recorder.hpp"

namespace kiln::runner {

/// Unix time in seconds, as the store records it.
inline double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class StoreRecorder final : public Recorder {
 public:
  StoreRecorder(store::Writer& writer, std::int64_t run_id) : writer_(writer), run_id_(run_id) {}
  void summary(std::string_view tag, std::int64_t step, double value) override {
    writer_.summary(run_id_, std::string(tag), step, value, unix_now());
  }
  void event(std::string_view kind, std::optional<std::int64_t> step, std::string_view message) override {
    writer_.event(run_id_, std::string(kind), step, std::string(message), unix_now());
  }
  void image(std::string_view tag, std::int64_t step, const std::string& path) override {
    writer_.image(run_id_, std::string(tag), step, path, unix_now());
  }
  void check() override { writer_.check(); }
  void summary_direction(std::string_view tag, std::string_view direction) override {
    writer_.summary_direction(run_id_, std::string(tag), std::string(direction));
  }

 private:
  store::Writer& writer_;
  std::int64_t run_id_;
};

}  // namespace kiln::runner
