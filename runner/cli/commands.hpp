// kiln's sub-commands; main.cpp parses the command line and calls one of these.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kiln::runner::cli {

/// Exit codes: 0 success, 1 a run that failed, 2 a bad command line, config or plugin.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct RunArgs {
  std::filesystem::path experiment;
  std::vector<std::string> overrides;  ///< --set KEY=VALUE, applied in order
  bool fresh = false;                  ///< start a new run instead of resuming this one
  int nproc = 0;                       ///< --nproc N: above 1, N local worker processes (cli/launch.hpp)
};
int run(const RunArgs& args);

struct RunsArgs {
  std::filesystem::path database;
  std::string status;  ///< only runs with this status, when not empty
  std::string name;    ///< only runs whose name matches: a glob with * or ?, else a substring
  std::int64_t limit = 0;  ///< at most this many (newest first), when positive
};
int runs(const RunsArgs& args);

/// `kiln show RUN`: one run in full (config, plugins, checkpoints, events, last metrics).
struct ShowArgs {
  std::filesystem::path database;
  std::string run;  ///< a run's name or id
};
int show(const ShowArgs& args);

/// `kiln compare RUN RUN...`: config differences and metrics side by side.
struct CompareArgs {
  std::filesystem::path database;
  std::vector<std::string> runs;  ///< names or ids, two or more (fewer with --sweep)
  std::string sweep;              ///< --sweep NAME: the sweep's trials too, best first
};
int compare(const CompareArgs& args);

/// `kiln validate EXP.toml`: resolve the config and every plugin, build everything, train nothing.
struct ValidateArgs {
  std::filesystem::path experiment;
  std::vector<std::string> overrides;
};
int validate(const ValidateArgs& args);

/// `kiln report RUN... -o FILE`: one self-contained HTML file about the runs.
struct ReportArgs {
  std::filesystem::path database;
  std::vector<std::string> runs;  ///< names or ids, one or more (none with --sweep)
  std::string sweep;              ///< --sweep NAME: the sweep's trials too, best first
  std::filesystem::path out = "report.html";
};
int report(const ReportArgs& args);

/// `kiln plugins [--check LIB]`: the plugin libraries on the search path, or one library's handshake.
struct PluginsArgs {
  std::vector<std::filesystem::path> paths;  ///< folders searched before the defaults
  std::filesystem::path check;               ///< one library to check, when not empty
};
int plugins(const PluginsArgs& args);

enum class Format { table, csv, json };

/// `kiln query SQL`: one read-only statement, its rows printed as they come. Exit code 2 for
/// every error, the timeout included.
struct QueryArgs {
  std::filesystem::path database;
  std::string sql;
  Format format = Format::table;
  std::int64_t limit = 0;  ///< positive: print at most this many rows
  double timeout = 0;      ///< seconds; positive: stop the query with an error after this long
};
int query(const QueryArgs& args);

/// `kiln data NAME`: the first `count` examples of a dataset plugin whose examples hold
/// "input" and "target" images, written as pix2pix-format PNG files (input | target) named
/// 0000.png, 0001.png, ... in `out`, which paired_images reads back.
struct DataArgs {
  std::string dataset;                      ///< the dataset's plugin name
  std::filesystem::path out;
  std::int64_t count = 0;
  std::optional<std::int64_t> image_size;   ///< the dataset's `image_size` key, when given
  std::optional<std::int64_t> data_seed;    ///< the dataset's `data_seed` key, when given
  std::string split;                        ///< the dataset's `split` key, when not empty
  std::vector<std::string> overrides;       ///< --set KEY=VALUE: any other key of the dataset
};
int data(const DataArgs& args);

struct InferArgs {
  std::filesystem::path database;
  std::string run;                     ///< a run's name or id
  std::filesystem::path input;         ///< a PNG/JPEG file or a folder of them
  std::filesystem::path out = "translated";
  std::optional<std::int64_t> step;    ///< that step's checkpoint, else the latest
  bool best = false;                   ///< the checkpoint kept as best (early stopping), not the latest
  bool raw = false;                    ///< the trained weights, not the EMA's averages
  bool paired = false;                 ///< inputs are pix2pix pairs: translate their left half
  std::string input_key = "input";     ///< the batch entry the model reads
  std::string output_key = "fake";     ///< the output to write
  std::string device;                  ///< "auto", "cpu", "cuda[:N]"; empty: auto
};
int infer(const InferArgs& args);

/// `kiln serve`: a live web dashboard over the run database, read-only (docs/serve.md).
struct ServeArgs {
  std::filesystem::path database;
  std::string host = "127.0.0.1";
  int port = 6006;
  std::string token;  ///< required of every request when set; generated when binding beyond loopback
};
int serve(const ServeArgs& args);

/// `kiln export tensorboard RUN... --out DIR`: TensorBoard event files (scalars and images),
/// one subfolder per run.
struct ExportTensorboardArgs {
  std::filesystem::path database;
  std::vector<std::string> runs;  ///< names or ids, one or more
  std::filesystem::path out;
};
int export_tensorboard(const ExportTensorboardArgs& args);

enum class WeightsFormat { safetensors, pt };

/// `kiln export weights RUN --format safetensors|pt --out FILE`: a checkpoint's model weights,
/// named by the model's parameter names, in a file Python reads without kiln.
struct ExportWeightsArgs {
  std::filesystem::path database;
  std::string run;                   ///< a run's name or id
  std::optional<std::int64_t> step;  ///< that step's checkpoint, else the latest
  bool best = false;                 ///< the checkpoint kept as best (early stopping)
  bool ema = false;                  ///< the EMA's averages instead of the trained weights
  WeightsFormat format = WeightsFormat::safetensors;
  std::filesystem::path out;
};
int export_weights(const ExportWeightsArgs& args);

/// `kiln sweep EXP.toml`: many runs of one experiment, each trial an ordinary run named
/// <sweep>-<nnn> with its overrides; K at a time; the same command again resumes the sweep.
/// Runs in libkiln_train.so (it resolves the experiment and checks every swept key before
/// any trial starts), which starts each trial as a `kiln run` process.
struct SweepArgs {
  std::filesystem::path experiment;
  std::vector<std::string> overrides;    ///< --set KEY=VALUE: every trial's
  std::vector<std::string> grid;         ///< --grid KEY=V1,V2,...: the Cartesian product of all
  std::int64_t random = 0;               ///< --random N: N trials drawn from the distributions
  std::vector<std::string> uniform;      ///< --uniform KEY=LO:HI
  std::vector<std::string> log_uniform;  ///< --log-uniform KEY=LO:HI
  std::vector<std::string> choice;       ///< --choice KEY=A,B,...
  std::optional<std::int64_t> seed;      ///< --seed S: the random search's; else [sweep] seed, else the experiment's
  std::int64_t parallel = 0;             ///< --parallel K: trials at once; 0: [sweep] parallel, else 1
  std::string name;                      ///< --name: the sweep's name; else [sweep] name, else the experiment's
  std::string metric;                    ///< --metric TAG: what orders the trials (e.g. eval/l1)
  std::string mode;                      ///< --mode min|max; empty: the tag's direction
  bool median_stop = false;              ///< --median-stop: cut trials worse than the finished ones' median
};

/// `kiln sweep show NAME`: a sweep's trials ranked by its metric, with their overrides.
struct SweepShowArgs {
  std::filesystem::path database;
  std::string name;
};
int sweep_show(const SweepShowArgs& args);
int sweep(const SweepArgs& args);

/// --db if given, else $KILN_DB, else runs/kiln.db.
std::filesystem::path default_database();

/// Ends the status line and prints "error: <message>" on stderr; returns `code`.
int fail(int code, const std::string& message);

/// The build's own plugin folder, searched after [plugins] paths and $KILN_PLUGIN_PATH.
std::filesystem::path default_plugin_dir();

}  // namespace kiln::runner::cli
