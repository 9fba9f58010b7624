// A small pix2pix experiment for tests: the in-tree model and losses on random image pairs.
#pragma once

#include <memory>
#include <string>

#include "../support/experiment_file.hpp"
#include "../support/memory_recorder.hpp"
#include "../support/temp_dir.hpp"
#include "config/experiment.hpp"
#include "plugins/plugin_host.hpp"
#include "train/trainer.hpp"

namespace kiln::test {

/// The paper's objective on `size`×`size` pairs: the discriminator's phase minimizes
/// d_real + d_fake; the generator's, declared first but running `after` it, g_gan + 100·l1.
/// `model` goes into the [model] table.
inline std::string pix2pix_experiment(long size = 32, const std::string& model = "ngf = 8\nndf = 8\n",
                                      long max_steps = 2, long batch_size = 2) {
  const std::string s = std::to_string(size);
  return "[experiment]\nname = \"p2p\"\nseed = 5\nthreads = 1\nmax_steps = " + std::to_string(max_steps) + "\n" +
         "[plugins]\npaths = [\"" KILN_PIX2PIX_FIXTURE_DIR "\"]\n"
         "[data]\nplugin = \"random_pairs\"\nlibrary = \"fixture_pairs\"\nworkers = 0\nimage_size = " + s +
         "\nbatch_size = " + std::to_string(batch_size) + "\n" +
         "[model]\nplugin = \"pix2pix\"\nimage_size = " + s + "\n" + model +
         "[[losses]]\nname = \"d_real\"\nplugin = \"gan\"\ninput = \"d_real\"\ntarget = \"real\"\n"
         "[[losses]]\nname = \"d_fake\"\nplugin = \"gan\"\ninput = \"d_fake\"\ntarget = \"fake\"\n"
         "[[losses]]\nname = \"g_gan\"\nplugin = \"gan\"\ninput = \"d_fake\"\ntarget = \"real\"\n"
         "[[losses]]\nplugin = \"l1\"\n"
         "[[optimizers]]\nname = \"generator\"\ntype = \"adam\"\nparams = \"generator\"\nlr = 2e-4\n"
         "betas = [0.5, 0.999]\nlosses = { g_gan = 1.0, l1 = 100.0 }\nafter = [\"discriminator\"]\n"
         "[[optimizers]]\nname = \"discriminator\"\ntype = \"adam\"\nparams = \"discriminator\"\nlr = 2e-4\n"
         "betas = [0.5, 0.999]\nlosses = [\"d_real\", \"d_fake\"]\n";
}

/// A trainer built from an experiment text, as `kiln run` builds one, recording in memory.
struct TrainerFixture {
  explicit TrainerFixture(const std::string& text)
      : spec(runner::load_experiment(write_text(dir, "exp.toml", text))),
        host(spec.plugin_paths, KILN_PLUGIN_DIR),
        trainer(spec, host) {
    trainer.attach(recorder, spec.name, dir.path());
  }

  TempDir dir;
  runner::ExperimentSpec spec;
  runner::PluginHost host;
  runner::Trainer trainer;
  MemoryRecorder recorder;
};

/// Sums the sizes of a parameter group.
inline std::int64_t parameter_count(Model& model, const std::string& group) {
  const auto groups = model.parameter_groups();  // by value: keep it alive for the loop
  std::int64_t count = 0;
  for (const torch::Tensor& p : groups.at(group)) count += p.numel();
  return count;
}

}  // namespace kiln::test
