// An experiment run in-process against a real run store, with the built-in hooks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/experiment.hpp"
#include "experiment_file.hpp"
#include "hooks/ema.hpp"
#include "hooks/saver.hpp"
#include "hooks/supervisor.hpp"
#include "plugins/plugin_host.hpp"
#include "store/run_store.hpp"
#include "store/writer.hpp"
#include "temp_dir.hpp"
#include "train/store_recorder.hpp"
#include "train/trainer.hpp"

namespace kiln::test {

/// What `kiln run` assembles, for one process's share of a run: the trainer with the
/// supervisor, the EMA (when the experiment has one) and a saver writing to `dir`'s store.
/// A second RunFixture on the same directory and run name resumes the run.
struct RunFixture {
  RunFixture(const TempDir& dir, const std::string& text, const std::vector<std::string>& overrides = {},
             std::function<double()> clock = {})
      : spec(runner::load_experiment(write_text(dir, "exp.toml", text), with_paths(dir, overrides))),
        host(spec.plugin_paths, KILN_PLUGIN_DIR),
        trainer(spec, host),
        store(spec.database) {
    trainer.add_hook("supervisor", std::make_shared<runner::Supervisor>(spec.supervisor), 1000);
    if (spec.ema.enabled) {
      ema = std::make_shared<runner::Ema>(spec.ema);
      trainer.add_hook("ema", ema, 500);
    }
    runner::store::RunRecord record;
    record.name = spec.name;
    record.experiment = "exp.toml";
    record.config = spec.document->to_toml();
    record.config_hash = "-";
    record.host = runner::store::local_host_name();
    record.pid = 0;
    if (auto existing = store.find_run(spec.name)) {
      run_id = existing->id;
    } else {
      run_id = store.create_run(record);
    }
    writer = std::make_unique<runner::store::Writer>(spec.database);
    recorder = std::make_unique<runner::StoreRecorder>(*writer, run_id);
    trainer.attach(*recorder, spec.name, spec.runs_dir / spec.name);
    runner::SaverContext context;
    context.writer = writer.get();
    context.database = spec.database;
    context.run_id = run_id;
    context.dir = spec.runs_dir / spec.name / "checkpoints";
    context.init_from = spec.init_from;
    context.clock = std::move(clock);
    saver = std::make_shared<runner::Saver>(spec.saver, context);
    trainer.add_hook("saver", saver, 900);
  }

  static std::vector<std::string> with_paths(const TempDir& dir, std::vector<std::string> overrides) {
    overrides.insert(overrides.begin(), "experiment.runs_dir=\"" + (dir / "runs").string() + "\"");
    return overrides;
  }

  runner::ExperimentSpec spec;
  runner::PluginHost host;
  runner::Trainer trainer;
  runner::store::RunStore store;
  std::int64_t run_id = 0;
  std::unique_ptr<runner::store::Writer> writer;
  std::unique_ptr<runner::StoreRecorder> recorder;
  std::shared_ptr<runner::Ema> ema;
  std::shared_ptr<runner::Saver> saver;
};

}  // namespace kiln::test
