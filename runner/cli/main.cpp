// kiln's command line: parse, dispatch, and turn every error into one "error:" line.
#include <cstdio>
#include <algorithm>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.hpp"
#include "hooks/status_line.hpp"
#include "kiln/error.hpp"
#include "kiln/version.hpp"
#include "train/error_text.hpp"

namespace cli = kiln::runner::cli;

namespace {

int fail(int code, const std::string& message) {
  kiln::runner::StatusLine::on_stderr().finish();
  fmt::print(stderr, "error: {}\n", message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln: train LibTorch experiments declared in TOML, with plugins and a SQL run history", "kiln"};
  app.set_version_flag("--version", KILN_VERSION_STRING);
  app.require_subcommand(1);

  cli::RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "train an experiment, resuming its run if it has one");
  run->add_option("experiment", run_args.experiment, "the experiment's TOML file")->required();
  run->add_option("--set", run_args.overrides, "override a key, e.g. --set optimizers.adam.lr=1e-4")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  run->add_flag("--fresh", run_args.fresh, "start a new run (name-2, name-3, ...) instead of resuming this one");

  cli::RunsArgs runs_args;
  CLI::App* runs = app.add_subcommand("runs", "list the runs in the database");
  runs->add_option("--db", runs_args.database, "run database (default: $KILN_DB or runs/kiln.db)");
  runs->add_option("--status", runs_args.status, "only runs with this status")
      ->check(CLI::IsMember({"running", "completed", "stopped", "failed", "crashed"}));
  runs->add_option("--name", runs_args.name, "only runs whose name matches (a glob like 'pix2pix*', else a substring)");
  runs->add_option("--limit", runs_args.limit, "at most this many runs, newest first")->check(CLI::PositiveNumber);

  cli::ShowArgs show_args;
  CLI::App* show = app.add_subcommand("show", "one run in full: config, plugins, checkpoints, events, metrics");
  show->add_option("run", show_args.run, "a run's name or id")->required();
  show->add_option("--db", show_args.database, "run database (default: $KILN_DB or runs/kiln.db)");

  cli::CompareArgs compare_args;
  CLI::App* compare = app.add_subcommand("compare", "compare runs: config differences and metrics side by side");
  compare->add_option("runs", compare_args.runs, "two or more runs, by name or id")->required()->expected(2, -1);
  compare->add_option("--db", compare_args.database, "run database (default: $KILN_DB or runs/kiln.db)");

  cli::ValidateArgs validate_args;
  CLI::App* validate = app.add_subcommand("validate", "check an experiment: resolve its config and plugins, train nothing");
  validate->add_option("experiment", validate_args.experiment, "the experiment's TOML file")->required();
  validate->add_option("--set", validate_args.overrides, "override a key, e.g. --set optimizers.adam.lr=1e-4")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);

  cli::ReportArgs report_args;
  CLI::App* report = app.add_subcommand("report", "write one self-contained HTML report about runs");
  report->add_option("runs", report_args.runs, "one or more runs, by name or id")->required()->expected(1, -1);
  report->add_option("-o,--out", report_args.out, "the HTML file to write (default: report.html)");
  report->add_option("--db", report_args.database, "run database (default: $KILN_DB or runs/kiln.db)");

  cli::PluginsArgs plugins_args;
  CLI::App* plugins = app.add_subcommand("plugins", "list the plugin libraries kiln finds, or check one");
  plugins->add_option("--path", plugins_args.paths, "a folder to search first (repeatable)");
  plugins->add_option("--check", plugins_args.check, "check one library's handshake and say what is wrong");

  cli::QueryArgs query_args;
  bool csv = false;
  bool json = false;
  CLI::App* query = app.add_subcommand("query", "run a read-only SQL query on the run database");
  query->add_option("sql", query_args.sql, "one SQL statement")->required();
  query->add_option("--db", query_args.database, "run database (default: $KILN_DB or runs/kiln.db)");
  auto* csv_flag = query->add_flag("--csv", csv, "print CSV");
  query->add_flag("--json", json, "print JSON")->excludes(csv_flag);
  query->add_option("--limit", query_args.limit,
                    "print at most N rows; the row count says when there were more (with --csv or --json, a log "
                    "line on stderr)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  query->add_option("--timeout", query_args.timeout, "stop the query with an error after SECS seconds (default: none)")
      ->type_name("SECS")
      ->check(CLI::PositiveNumber);
  query->footer(
      "Rows are printed as they come (a table's columns are sized by its first 1000 rows).\n"
      "Exit code 0 when the rows were printed, also when --limit cut them short; 2 for every error: bad SQL, a "
      "statement or pragma that would change anything, a database newer than this kiln, or --timeout reached "
      "(the rows printed before the error stand, without the row count).");

  cli::InferArgs infer_args;
  std::int64_t infer_step = -1;
  CLI::App* infer = app.add_subcommand("infer", "translate images with a run's model (its EMA weights by default)");
  infer->add_option("run", infer_args.run, "a run's name or id")->required();
  infer->add_option("input", infer_args.input, "a PNG or JPEG file, or a folder of them")->required();
  infer->add_option("--out", infer_args.out, "where the translated images go (default: translated)");
  infer->add_option("--step", infer_step, "the checkpoint at this step (default: the latest)");
  infer->add_flag("--raw", infer_args.raw, "use the trained weights, not the EMA's averages");
  infer->add_flag("--paired", infer_args.paired,
                  "inputs are pix2pix-format pairs (input | target): translate the left half");
  infer->add_option("--input-key", infer_args.input_key, "the batch entry the model reads (default: input)");
  infer->add_option("--output-key", infer_args.output_key, "the model output to write (default: fake)");
  infer->add_option("--db", infer_args.database, "run database (default: $KILN_DB or runs/kiln.db)");

  cli::DataArgs data_args;
  CLI::App* data = app.add_subcommand("data", "write a dataset's examples as pix2pix-format PNG files (input | target)");
  data->add_option("dataset", data_args.dataset, "a dataset plugin, e.g. synthetic_facades")->required();
  data->add_option("--out", data_args.out, "the folder to write 0000.png, 0001.png, ... to")->required();
  data->add_option("--count", data_args.count, "how many examples")->required();
  data->add_option("--image-size", data_args.image_size, "the dataset's image_size");
  data->add_option("--data-seed", data_args.data_seed, "the dataset's data_seed");
  data->add_option("--split", data_args.split, "the dataset's split")->check(CLI::IsMember({"train", "test"}));
  data->add_option("--set", data_args.overrides, "another key of the dataset, e.g. --set load_size=286")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);

  // Progress and log lines go to stderr; stdout carries results (tables, CSV, JSON). Log
  // lines print above the supervisor's status line, never through it.
  kiln::runner::install_stderr_logger("kiln");
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) commands.push_back(sub->get_name());
    if (std::find(commands.begin(), commands.end(), argv[1]) == commands.end())
      return fail(cli::kExitUsage, fmt::format("unknown command '{}' (commands: {}; see kiln --help)", argv[1],
                                               fmt::join(commands, ", ")));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (!message.empty() && message.back() == '\n') message.pop_back();
    return fail(cli::kExitUsage, fmt::format("{} (see kiln --help)", message));
  }

  try {
    if (*run) return cli::run(run_args);
    if (*runs) {
      if (runs_args.database.empty()) runs_args.database = cli::default_database();
      return cli::runs(runs_args);
    }
    if (*show) {
      if (show_args.database.empty()) show_args.database = cli::default_database();
      return cli::show(show_args);
    }
    if (*compare) {
      if (compare_args.database.empty()) compare_args.database = cli::default_database();
      return cli::compare(compare_args);
    }
    if (*validate) return cli::validate(validate_args);
    if (*report) {
      if (report_args.database.empty()) report_args.database = cli::default_database();
      return cli::report(report_args);
    }
    if (*plugins) return cli::plugins(plugins_args);
    if (*data) return cli::data(data_args);
    if (*infer) {
      if (infer_args.database.empty()) infer_args.database = cli::default_database();
      if (infer_step >= 0) infer_args.step = infer_step;
      return cli::infer(infer_args);
    }
    if (*query) {
      if (query_args.database.empty()) query_args.database = cli::default_database();
      query_args.format = csv ? cli::Format::csv : json ? cli::Format::json : cli::Format::table;
      return cli::query(query_args);
    }
  } catch (const kiln::Error& e) {
    return fail(cli::kExitUsage, e.what());
  } catch (const std::exception& e) {
    return fail(cli::kExitFailed, kiln::runner::error_text(e));
  }
  return cli::kExitUsage;
}
