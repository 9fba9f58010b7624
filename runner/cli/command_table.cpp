// The command table: every sub-command's options and the function it calls, the torch-free
// ones here, the training ones through libkiln_train.so.
#include "cli/command_table.hpp"

#include <cstdlib>
#include <map>
#include <memory>
#include <type_traits>
#include <utility>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/launch.hpp"
#include "cli/train_library.hpp"

namespace kiln::runner::cli {

namespace fs = std::filesystem;

fs::path default_database() {
  if (const char* env = std::getenv("KILN_DB"); env && *env) return env;
  return fs::path("runs") / "kiln.db";
}

namespace {

/// True for the arguments of a command that reads a database: they get `--db`.
template <typename Args, typename = void>
struct ReadsDatabase : std::false_type {};
template <typename Args>
struct ReadsDatabase<Args, std::void_t<decltype(std::declval<Args&>().database)>> : std::true_type {};

template <typename Args>
using Options = void (*)(CLI::App&, Args&);

/// An entry whose arguments are an `Args`, added by `options`, run by `call(args)`.
template <typename Args, typename Call>
Command entry(std::string name, std::string description, bool trains, Options<Args> options, Call call) {
  auto add = [options, call](CLI::App& command) -> Action {
    auto args = std::make_shared<Args>();
    if constexpr (ReadsDatabase<Args>::value)
      command.add_option("--db", args->database, "run database (default: $KILN_DB or runs/kiln.db)");
    options(command, *args);
    return [args, call]() {
      if constexpr (ReadsDatabase<Args>::value) {
        if (args->database.empty()) args->database = default_database();
      }
      return call(*args);
    };
  };
  return Command{std::move(name), std::move(description), trains, std::move(add)};
}

/// A command the front runs itself.
template <typename Args>
Command reads(std::string name, std::string description, Options<Args> options, int (*call)(const Args&)) {
  return entry<Args>(std::move(name), std::move(description), false, options, call);
}

/// A command libkiln_train.so runs: `member` is its function there.
template <typename Args>
Command trains(std::string name, std::string description, Options<Args> options,
               int (*const TrainCommands::*member)(const Args&)) {
  return entry<Args>(std::move(name), std::move(description), true, options,
                     [member](const Args& args) { return (train_commands().*member)(args); });
}

/// `kiln run`: in this process by libkiln_train.so, or with --nproc N > 1 by N workers the
/// front starts (cli/launch.hpp) without loading LibTorch itself.
int run_or_launch(const RunArgs& args) {
  if (args.nproc > 1) return launch_run(args);
  return train_commands().run(args);
}

/// A checkpoint's step: 0 or more (CLI::NonNegativeNumber's message prints DBL_MAX).
const CLI::Validator kStepNumber(
    [](const std::string& text) -> std::string {
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        return "'" + text + "' is not a step: a whole number, 0 or more";
      return "";
    },
    "STEP");

/// --step N or --best: which checkpoint of a run (kiln infer, kiln export weights).
void add_checkpoint_choice(CLI::App& command, std::optional<std::int64_t>& step, bool& best) {
  command
      .add_option_function<std::int64_t>(
          "--step", [&step](const std::int64_t& value) { step = value; },
          "the checkpoint at this step (default: the latest)")
      ->check(kStepNumber);
  command.add_flag("--best", best, "the checkpoint early stopping kept as best (default: the latest)")
      ->excludes("--step");
}

void add_overrides(CLI::App& command, std::vector<std::string>& overrides, const char* help) {
  command.add_option("--set", overrides, help)->type_name("KEY=VALUE")->allow_extra_args(false);
}

void run_options(CLI::App& command, RunArgs& args) {
  command.add_option("experiment", args.experiment, "the experiment's TOML file")->required();
  add_overrides(command, args.overrides, "override a key, e.g. --set optimizers.adam.lr=1e-4");
  command.add_flag("--fresh", args.fresh, "start a new run (name-2, name-3, ...) instead of resuming this one");
  command
      .add_option("--nproc", args.nproc,
                  "start N local processes that train data-parallel (torchrun's RANK, WORLD_SIZE, ... set for each)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
}

void runs_options(CLI::App& command, RunsArgs& args) {
  command.add_option("--status", args.status, "only runs with this status")
      ->check(CLI::IsMember({"running", "completed", "stopped", "failed", "crashed"}));
  command.add_option("--name", args.name, "only runs whose name matches (a glob like 'pix2pix*', else a substring)");
  command.add_option("--limit", args.limit, "at most this many runs, newest first")->check(CLI::PositiveNumber);
}

void show_options(CLI::App& command, ShowArgs& args) {
  command.add_option("run", args.run, "a run's name or id")->required();
}

void compare_options(CLI::App& command, CompareArgs& args) {
  command.add_option("runs", args.runs, "two or more runs, by name or id (any number with --sweep)")->expected(0, -1);
  command.add_option("--sweep", args.sweep, "a sweep's trials, best first (kiln sweep)")->type_name("NAME");
}

void validate_options(CLI::App& command, ValidateArgs& args) {
  command.add_option("experiment", args.experiment, "the experiment's TOML file")->required();
  add_overrides(command, args.overrides, "override a key, e.g. --set optimizers.adam.lr=1e-4");
}

void report_options(CLI::App& command, ReportArgs& args) {
  command.add_option("runs", args.runs, "one or more runs, by name or id (any number with --sweep)")->expected(0, -1);
  command.add_option("--sweep", args.sweep, "a sweep's trials, best first (kiln sweep)")->type_name("NAME");
  command.add_option("-o,--out", args.out, "the HTML file to write (default: report.html)");
}

void plugins_options(CLI::App& command, PluginsArgs& args) {
  command.add_option("--path", args.paths, "a folder to search first (repeatable)");
  command.add_option("--check", args.check, "check one library's handshake and say what is wrong");
}

void query_options(CLI::App& command, QueryArgs& args) {
  command.add_option("sql", args.sql, "one SQL statement")->required();
  auto* csv = command.add_flag_callback("--csv", [&args] { args.format = Format::csv; }, "print CSV");
  command.add_flag_callback("--json", [&args] { args.format = Format::json; }, "print JSON")->excludes(csv);
  command
      .add_option("--limit", args.limit,
                  "print at most N rows; the row count says when there were more (with --csv or --json, a log "
                  "line on stderr)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  command.add_option("--timeout", args.timeout, "stop the query with an error after SECS seconds (default: none)")
      ->type_name("SECS")
      ->check(CLI::PositiveNumber);
  command.footer(
      "Rows are printed as they come (a table's columns are sized by its first 1000 rows).\n"
      "Exit code 0 when the rows were printed, also when --limit cut them short; 2 for every error: bad SQL, a "
      "statement or pragma that would change anything, a database newer than this kiln, or --timeout reached "
      "(the rows printed before the error stand, without the row count).");
}

void infer_options(CLI::App& command, InferArgs& args) {
  command.add_option("run", args.run, "a run's name or id")->required();
  command.add_option("input", args.input, "a PNG or JPEG file, or a folder of them")->required();
  command.add_option("--out", args.out, "where the translated images go (default: translated)");
  add_checkpoint_choice(command, args.step, args.best);
  command.add_flag("--raw", args.raw, "use the trained weights, not the EMA's averages");
  command.add_flag("--paired", args.paired, "inputs are pix2pix-format pairs (input | target): translate the left half");
  command.add_option("--input-key", args.input_key, "the batch entry the model reads (default: input)");
  command.add_option("--output-key", args.output_key, "the model output to write (default: fake)");
  command.add_option("--device", args.device, "auto, cpu, cuda or cuda:N (default: auto, the first GPU if there is one)");
}

void data_options(CLI::App& command, DataArgs& args) {
  command.add_option("dataset", args.dataset, "a dataset plugin, e.g. synthetic_facades")->required();
  command.add_option("--out", args.out, "the folder to write 0000.png, 0001.png, ... to")->required();
  command.add_option("--count", args.count, "how many examples")->required();
  command.add_option("--image-size", args.image_size, "the dataset's image_size");
  command.add_option("--data-seed", args.data_seed, "the dataset's data_seed");
  command.add_option("--split", args.split, "the dataset's split")->check(CLI::IsMember({"train", "test"}));
  add_overrides(command, args.overrides, "another key of the dataset, e.g. --set load_size=286");
}

void serve_options(CLI::App& command, ServeArgs& args) {
  command.add_option("--host", args.host, "the address to listen on (default: 127.0.0.1; any other needs a token)");
  command.add_option("--port", args.port, "the port (default: 6006; 0: any free one, which the printed URL names)")
      ->check(CLI::Range(0, 65535));
  command.add_option("--token", args.token,
                     "a token every request must carry (Authorization: Bearer, or ?token=); generated when --host "
                     "is not a loopback address and none is given");
}

void export_tensorboard_options(CLI::App& command, ExportTensorboardArgs& args) {
  command.add_option("runs", args.runs, "one or more runs, by name or id")->required()->expected(1, -1);
  command.add_option("--out", args.out, "the folder to write to: one subfolder per run")->required();
}

void export_weights_options(CLI::App& command, ExportWeightsArgs& args) {
  command.add_option("run", args.run, "a run's name or id")->required();
  add_checkpoint_choice(command, args.step, args.best);
  command.add_flag("--ema", args.ema, "the EMA's averages, not the trained weights");
  command.add_option("--format", args.format, "safetensors or pt (a dict of tensors for Python's torch.load)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, WeightsFormat>{{"safetensors", WeightsFormat::safetensors}, {"pt", WeightsFormat::pt}}))
      ->required();
  command.add_option("--out", args.out, "the file to write")->required();
}

void sweep_options(CLI::App& command, SweepArgs& args) {
  command.add_option("experiment", args.experiment, "the experiment's TOML file (its [sweep] table, if any, declares the sweep)");
  add_overrides(command, args.overrides, "override a key in every trial, e.g. --set experiment.max_steps=500");
  command.add_option("--grid", args.grid, "a key and its values; several --grid make a Cartesian product")
      ->type_name("KEY=V1,V2,...");
  command.add_option("--random", args.random, "N trials drawn from --uniform, --log-uniform and --choice")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  command.add_option("--uniform", args.uniform, "a key drawn uniformly from [LO, HI]")->type_name("KEY=LO:HI");
  command.add_option("--log-uniform", args.log_uniform, "a key drawn log-uniformly from [LO, HI]")->type_name("KEY=LO:HI");
  command.add_option("--choice", args.choice, "a key drawn from these values")->type_name("KEY=A,B,...");
  command.add_option("--seed", args.seed, "the random search's seed (default: [sweep] seed, else the experiment's)");
  command.add_option("--parallel", args.parallel, "trials at once (CPU: the cores split; CUDA: one GPU each)")
      ->type_name("K")
      ->check(CLI::PositiveNumber);
  command.add_option("--name", args.name, "the sweep's name; its trials are <name>-001, <name>-002, ...");
  command.add_option("--metric", args.metric, "the summary tag that ranks the trials, e.g. eval/l1")->type_name("TAG");
  command.add_option("--mode", args.mode, "min or max (default: the tag's direction)")->check(CLI::IsMember({"min", "max"}));
  command.add_flag("--median-stop", args.median_stop,
                   "stop a trial whose metric is worse than the median of the finished trials' at the same step");
}

void sweep_show_options(CLI::App& command, SweepShowArgs& args) {
  command.add_option("name", args.name, "the sweep's name")->required();
}

/// `kiln sweep EXP.toml ...` (libkiln_train.so) or `kiln sweep show NAME` (the front).
Command sweep_group() {
  auto add = [](CLI::App& command) -> Action {
    auto args = std::make_shared<SweepArgs>();
    sweep_options(command, *args);
    const Command show = reads<SweepShowArgs>("show", "a sweep's trials ranked by its metric, with their overrides",
                                              sweep_show_options, sweep_show);
    CLI::App* show_app = command.add_subcommand(show.name, show.description);
    Action show_action = show.add(*show_app);
    return [args, show_app, show_action]() {
      if (*show_app) return show_action();
      if (args->experiment.empty())
        return fail(kExitUsage, "kiln sweep: an experiment file, or `kiln sweep show NAME` (see kiln sweep --help)");
      return train_commands().sweep(*args);
    };
  };
  return Command{"sweep", "run many trials of an experiment (a grid or a random search), K at a time", true,
                 std::move(add)};
}

/// The commands under `kiln export`.
const std::vector<Command>& export_commands() {
  static const std::vector<Command> table{
      reads<ExportTensorboardArgs>("tensorboard", "write runs' summaries and images as TensorBoard event files",
                                   export_tensorboard_options, export_tensorboard),
      trains<ExportWeightsArgs>("weights", "write a checkpoint's model weights as safetensors or a .pt for Python",
                                export_weights_options, &TrainCommands::export_weights),
  };
  return table;
}

/// `kiln export WHAT ...`: a group whose sub-commands are export_commands().
Command export_group() {
  auto add = [](CLI::App& command) -> Action {
    command.require_subcommand(1);
    std::vector<std::pair<CLI::App*, Action>> parsed;
    for (const Command& sub : export_commands()) {
      CLI::App* app = command.add_subcommand(sub.name, sub.description);
      parsed.emplace_back(app, sub.add(*app));
    }
    return [parsed]() {
      for (const auto& [app, action] : parsed)
        if (*app) return action();
      return kExitUsage;
    };
  };
  return Command{"export", "write runs for other tools: TensorBoard event files, weights for Python", false,
                 std::move(add)};
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table{
      entry<RunArgs>("run", "train an experiment, resuming its run if it has one", /*trains=*/true, run_options,
                     run_or_launch),
      reads<RunsArgs>("runs", "list the runs in the database", runs_options, runs),
      reads<ShowArgs>("show", "one run in full: config, plugins, checkpoints, events, metrics", show_options, show),
      reads<CompareArgs>("compare", "compare runs: config differences and metrics side by side", compare_options,
                         compare),
      trains<ValidateArgs>("validate", "check an experiment: resolve its config and plugins, train nothing",
                           validate_options, &TrainCommands::validate),
      reads<ReportArgs>("report", "write one self-contained HTML report about runs", report_options, report),
      trains<PluginsArgs>("plugins", "list the plugin libraries kiln finds, or check one", plugins_options,
                          &TrainCommands::plugins),
      reads<QueryArgs>("query", "run a read-only SQL query on the run database", query_options, query),
      trains<InferArgs>("infer", "translate images with a run's model (its EMA weights by default)", infer_options,
                        &TrainCommands::infer),
      trains<DataArgs>("data", "write a dataset's examples as pix2pix-format PNG files (input | target)",
                       data_options, &TrainCommands::data),
      reads<ServeArgs>("serve", "serve a live web dashboard over the run database (read-only)", serve_options, serve),
      export_group(),
      sweep_group(),
  };
  return table;
}

}  // namespace kiln::runner::cli
