// kiln's command line: parse, dispatch, and turn every error into one "error:" line.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "kiln/error.hpp"
#include "kiln/version.hpp"

namespace cli = kiln::runner::cli;

namespace {

int fail(int code, const std::string& message) {
  fmt::print(stderr, "error: {}\n", message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln: train LibTorch experiments declared in TOML, with plugins and a SQL run history", "kiln"};
  app.set_version_flag("--version", KILN_VERSION_STRING);
  app.require_subcommand(1);

  cli::RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "train an experiment");
  run->add_option("experiment", run_args.experiment, "the experiment's TOML file")->required();
  run->add_option("--set", run_args.overrides, "override a key, e.g. --set optimizers.adam.lr=1e-4")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);

  cli::RunsArgs runs_args;
  CLI::App* runs = app.add_subcommand("runs", "list the runs in the database");
  runs->add_option("--db", runs_args.database, "run database (default: $KILN_DB or runs/kiln.db)");
  runs->add_option("--status", runs_args.status, "only runs with this status")
      ->check(CLI::IsMember({"running", "completed", "stopped", "failed", "crashed"}));

  cli::QueryArgs query_args;
  bool csv = false;
  bool json = false;
  CLI::App* query = app.add_subcommand("query", "run a read-only SQL query on the run database");
  query->add_option("sql", query_args.sql, "one SQL statement")->required();
  query->add_option("--db", query_args.database, "run database (default: $KILN_DB or runs/kiln.db)");
  auto* csv_flag = query->add_flag("--csv", csv, "print CSV");
  query->add_flag("--json", json, "print JSON")->excludes(csv_flag);

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
    if (*query) {
      if (query_args.database.empty()) query_args.database = cli::default_database();
      query_args.format = csv ? cli::Format::csv : json ? cli::Format::json : cli::Format::table;
      return cli::query(query_args);
    }
  } catch (const kiln::Error& e) {
    return fail(cli::kExitUsage, e.what());
  } catch (const std::exception& e) {
    return fail(cli::kExitFailed, e.what());
  }
  return cli::kExitUsage;
}
