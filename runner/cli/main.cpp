// kiln's command line: parse, dispatch through the command table, and turn every error into
// one "error:" line. This executable links no LibTorch: the commands that need it run in
// libkiln_train.so, loaded only for them.
#include <algorithm>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/command_table.hpp"
#include "cli/commands.hpp"
#include "hooks/status_line.hpp"
#include "kiln/error.hpp"
#include "kiln/version.hpp"

namespace cli = kiln::runner::cli;

int main(int argc, char** argv) {
  CLI::App app{"kiln: train LibTorch experiments declared in TOML, with plugins and a SQL run history", "kiln"};
  app.set_version_flag("--version", KILN_VERSION_STRING);
  app.require_subcommand(1);

  std::vector<std::pair<CLI::App*, cli::Action>> parsed;
  for (const cli::Command& command : cli::commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    parsed.emplace_back(sub, command.add(*sub));
  }

  // Progress and log lines go to stderr; stdout carries results (tables, CSV, JSON). Log
  // lines print above the supervisor's status line, never through it.
  kiln::runner::install_stderr_logger("kiln");
  if (argc > 1 && argv[1][0] != '-') {
    const auto& table = cli::commands();
    const bool known = std::any_of(table.begin(), table.end(), [&](const cli::Command& c) { return c.name == argv[1]; });
    if (!known) {
      std::vector<std::string> names;
      for (const cli::Command& command : table) names.push_back(command.name);
      return cli::fail(cli::kExitUsage, fmt::format("unknown command '{}' (commands: {}; see kiln --help)", argv[1],
                                                    fmt::join(names, ", ")));
    }
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
    return cli::fail(cli::kExitUsage, fmt::format("{} (see kiln --help)", message));
  }

  try {
    for (const auto& [sub, action] : parsed)
      if (*sub) return action();
  } catch (const kiln::Error& e) {
    return cli::fail(cli::kExitUsage, e.what());
  } catch (const std::exception& e) {
    return cli::fail(cli::kExitFailed, e.what());
  }
  return cli::kExitUsage;
}
