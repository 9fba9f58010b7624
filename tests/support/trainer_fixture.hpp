// A trainer built from an experiment text, with the supervisor and an in-memory recorder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/experiment.hpp"
#include "experiment_file.hpp"
#include "hooks/supervisor.hpp"
#include "memory_recorder.hpp"
#include "plugins/plugin_host.hpp"
#include "temp_dir.hpp"
#include "train/trainer.hpp"

namespace kiln::test {

/// The experiment `text` written to `dir` as exp.toml (with `overrides`), its plugins from
/// the build's plugin folder, the trainer with the built-in supervisor, recording into
/// `recorder`. No run store: what a test of the loop itself needs.
struct TrainerFixture {
  TrainerFixture(const std::string& text, const std::vector<std::string>& overrides = {})
      : spec(runner::load_experiment(write_text(dir, "exp.toml", text), overrides)),
        host(spec.plugin_paths, KILN_PLUGIN_DIR),
        trainer(spec, host) {
    trainer.add_hook("supervisor", std::make_shared<runner::Supervisor>(spec.supervisor));
    trainer.attach(recorder, "t", dir.path());
  }
  TempDir dir;
  runner::ExperimentSpec spec;
  runner::PluginHost host;
  runner::Trainer trainer;
  MemoryRecorder recorder;
};

}  // namespace kiln::test
