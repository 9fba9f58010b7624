// Experiment files → ExperimentSpec: the runner's own keys, typed and cross-checked.
#include "config/experiment.hpp"

#include <cstdlib>
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

/// A TOML basic string holding `text`.
std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

PluginSpec read_plugin(const Config& table, const fs::path& experiment) {
  PluginSpec spec;
  spec.plugin = table.get<std::string>("plugin");
  spec.library = table.get_or<std::string>("library", "");
  // A library given as a path is relative to the experiment file, like [plugins] paths.
  if (spec.library.find('/') != std::string::npos)
    spec.library = (fs::absolute(experiment).parent_path() / spec.library).lexically_normal().string();
  spec.config = table;
  return spec;
}

template <class T>
T positive(const Config& table, std::string_view key, T fallback) {
  const T value = table.get_or<T>(key, fallback);
  if (value <= 0) table.fail(key, fmt::format("must be greater than 0, got {}", value));
  return value;
}

template <class T>
T non_negative(const Config& table, std::string_view key, T fallback) {
  const T value = table.get_or<T>(key, fallback);
  if (value < 0) table.fail(key, fmt::format("must be 0 or more, got {}", value));
  return value;
}

void read_experiment(const Config& root, ExperimentSpec& spec) {
  const Config table = root.table("experiment");
  spec.name = table.get<std::string>("name");
  if (spec.name.empty() || spec.name.find_first_of("/\\ \t") != std::string::npos)
    table.fail("name", fmt::format("'{}' cannot name a run directory: use letters, digits, '-', '_' or '.'",
                                   spec.name));
  spec.seed = static_cast<std::uint64_t>(non_negative<std::int64_t>(table, "seed", 0));
  spec.max_steps = positive<std::int64_t>(table, "max_steps", 1000);
  spec.threads = non_negative<int>(table, "threads", 0);
  spec.runs_dir = table.get_or<std::string>("runs_dir", "runs");
  // The file's own choice, else $KILN_DB (as every other command reads it), else runs_dir.
  const char* env = std::getenv("KILN_DB");
  const fs::path fallback = env && *env ? fs::path(env) : spec.runs_dir / "kiln.db";
  spec.database = table.get_or<std::string>("database", fallback.string());
}

void read_plugin_paths(const Config& root, ExperimentSpec& spec) {
  const Config table = root.table_or_empty("plugins");
  // Relative plugin folders are relative to the experiment file, like #include paths.
  const fs::path base = fs::absolute(spec.file).parent_path();
  for (const std::string& path : table.get_or<std::vector<std::string>>("paths", {}))
    spec.plugin_paths.push_back((base / path).lexically_normal());
  // The resolved config records them absolute, so a run can be rebuilt from it anywhere
  // (kiln infer reads it back from the run directory).
  if (!spec.plugin_paths.empty()) {
    std::vector<std::string> quoted;
    for (const fs::path& path : spec.plugin_paths) quoted.push_back(toml_string(path.string()));
    spec.document->set(fmt::format("plugins.paths=[{}]", fmt::join(quoted, ", ")));
    spec.root.table("plugins").get<std::vector<std::string>>("paths");  // read again: the node is new
  }
}

void read_data(const Config& root, ExperimentSpec& spec) {
  const Config table = root.table("data");
  spec.data.source = read_plugin(table, spec.file);
  spec.data.batch_size = positive<std::int64_t>(table, "batch_size", 32);
  spec.data.shuffle = table.get_or<bool>("shuffle", true);
  spec.data.drop_last = table.get_or<bool>("drop_last", true);
  spec.data.workers = non_negative<int>(table, "workers", 1);
  spec.data.prefetch = positive<int>(table, "prefetch", 2);
}

void read_losses(const Config& root, ExperimentSpec& spec) {
  std::set<std::string> seen;
  for (const Config& table : root.tables("losses")) {
    LossSpec loss;
    loss.source = read_plugin(table, spec.file);
    loss.name = table.get_or<std::string>("name", loss.source.plugin);
    if (!seen.insert(loss.name).second)
      table.fail("name", fmt::format("a loss named '{}' is already declared; give each [[losses]] a distinct name",
                                     loss.name));
    spec.losses.push_back(std::move(loss));
  }
  if (spec.losses.empty()) root.fail("", "no [[losses]] declared: an experiment needs at least one loss");
}

std::vector<std::string> loss_names(const ExperimentSpec& spec) {
  std::vector<std::string> names;
  for (const LossSpec& loss : spec.losses) names.push_back(loss.name);
  return names;
}

[[noreturn]] void unknown_name(const Config& table, std::string_view key, std::string_view what,
                               const std::string& name, const std::vector<std::string>& known) {
  std::string message = fmt::format("no {} named '{}'", what, name);
  const std::string suggestion = kiln::detail::closest(name, known);
  if (!suggestion.empty()) message += fmt::format("; did you mean '{}'?", suggestion);
  message += fmt::format(" (declared: {})", fmt::join(known, ", "));
  table.fail(key, message);
}

void read_optimizer_losses(const Config& table, const std::vector<std::string>& known, OptimizerSpec& opt) {
  if (table.has_table("losses")) {
    const Config weights = table.table("losses");
    for (const std::string& name : weights.keys()) opt.losses.emplace_back(name, weights.get<double>(name));
  } else {
    for (const std::string& name : table.get<std::vector<std::string>>("losses")) opt.losses.emplace_back(name, 1.0);
  }
  if (opt.losses.empty()) table.fail("losses", "names no loss to minimize");
  for (const auto& [name, weight] : opt.losses)
    if (std::find(known.begin(), known.end(), name) == known.end()) unknown_name(table, "losses", "loss", name, known);
}

void read_optimizers(const Config& root, ExperimentSpec& spec) {
  static const std::vector<std::string> kTypes = {"adam", "adamw", "sgd"};
  const std::vector<std::string> losses = loss_names(spec);
  std::vector<OptimizerSpec> optimizers;
  std::set<std::string> seen;
  for (const Config& table : root.tables("optimizers")) {
    OptimizerSpec opt;
    opt.config = table;
    opt.type = table.get<std::string>("type");
    if (std::find(kTypes.begin(), kTypes.end(), opt.type) == kTypes.end())
      unknown_name(table, "type", "optimizer type", opt.type, kTypes);
    opt.name = table.get_or<std::string>("name", opt.type);
    if (!seen.insert(opt.name).second)
      table.fail("name", fmt::format("an optimizer named '{}' is already declared", opt.name));
    opt.params = table.get_or<std::string>("params", "all");
    opt.lr = positive<double>(table, "lr", opt.type == "sgd" ? 0.01 : 1e-3);
    opt.weight_decay = non_negative<double>(table, "weight_decay", opt.type == "adamw" ? 1e-2 : 0.0);
    if (opt.type == "sgd") {
      opt.momentum = non_negative<double>(table, "momentum", 0.0);
      opt.nesterov = table.get_or<bool>("nesterov", false);
    } else {
      const auto betas = table.get_or<std::vector<double>>("betas", {0.9, 0.999});
      if (betas.size() != 2 || betas[0] < 0 || betas[0] >= 1 || betas[1] < 0 || betas[1] >= 1)
        table.fail("betas", "expected two numbers in [0, 1), e.g. [0.5, 0.999]");
      opt.beta1 = betas[0];
      opt.beta2 = betas[1];
      opt.eps = positive<double>(table, "eps", 1e-8);
    }
    read_optimizer_losses(table, losses, opt);
    opt.after = table.get_or<std::vector<std::string>>("after", {});
    optimizers.push_back(std::move(opt));
  }
  if (optimizers.empty()) root.fail("", "no [[optimizers]] declared: an experiment needs at least one");
  std::vector<std::string> names;
  for (const OptimizerSpec& opt : optimizers) names.push_back(opt.name);
  for (const OptimizerSpec& opt : optimizers)
    for (const std::string& before : opt.after) {
      if (std::find(names.begin(), names.end(), before) == names.end())
        unknown_name(opt.config, "after", "optimizer", before, names);
      if (before == opt.name) opt.config.fail("after", fmt::format("'{}' cannot come after itself", opt.name));
    }
  spec.optimizers = order_phases(std::move(optimizers));
}

void read_hooks(const Config& root, ExperimentSpec& spec) {
  for (const Config& table : root.tables("hooks")) {
    HookSpec hook;
    hook.source = read_plugin(table, spec.file);
    hook.name = table.get_or<std::string>("name", hook.source.plugin);
    hook.priority = table.find<int>("priority");
    spec.hooks.push_back(std::move(hook));
  }
}

void read_supervisor(const Config& root, ExperimentSpec& spec) {
  const Config table = root.table_or_empty("supervisor");
  spec.supervisor.summary_every_steps = non_negative<std::int64_t>(table, "summary_every_steps", 10);
  spec.supervisor.summary_every_secs = non_negative<double>(table, "summary_every_secs", 0.0);
  spec.supervisor.log_every_steps = non_negative<std::int64_t>(table, "log_every_steps", 100);
  spec.supervisor.max_time = non_negative<double>(table, "max_time", 0.0);
  spec.supervisor.on_nan = table.get_or<std::string>("on_nan", "stop");
  if (spec.supervisor.on_nan != "stop" && spec.supervisor.on_nan != "skip")
    table.fail("on_nan", fmt::format("expected \"stop\" or \"skip\", got \"{}\"", spec.supervisor.on_nan));
  spec.supervisor.progress = table.get_or<std::string>("progress", "auto");
  const std::vector<std::string> progress_modes = {"auto", "line", "log", "off"};
  if (std::find(progress_modes.begin(), progress_modes.end(), spec.supervisor.progress) == progress_modes.end()) {
    const std::string near = kiln::detail::closest(spec.supervisor.progress, progress_modes);
    table.fail("progress", fmt::format("expected \"auto\", \"line\", \"log\" or \"off\", got \"{}\"{}",
                                       spec.supervisor.progress,
                                       near.empty() ? "" : fmt::format("; did you mean \"{}\"?", near)));
  }
}

void read_saver(const Config& root, ExperimentSpec& spec) {
  const Config table = root.table_or_empty("saver");
  SaverSpec& saver = spec.saver;
  saver.enabled = table.get_or<bool>("enabled", true);
  saver.every_steps = non_negative<std::int64_t>(table, "every_steps", 0);
  saver.every_secs = non_negative<double>(table, "every_secs", saver.every_steps > 0 ? 0.0 : 600.0);
  saver.max_to_keep = non_negative<std::int64_t>(table, "max_to_keep", 5);
  saver.keep_every_hours = non_negative<double>(table, "keep_every_hours", 0.0);
}

void read_ema(const Config& root, ExperimentSpec& spec) {
  if (!root.contains("ema")) return;
  const Config table = root.table("ema");
  EmaSpec& ema = spec.ema;
  ema.enabled = true;
  ema.config = table;
  ema.decay = table.get_or<double>("decay", 0.999);
  if (ema.decay < 0 || ema.decay >= 1) table.fail("decay", fmt::format("must be in [0, 1), got {}", ema.decay));
  ema.num_updates = table.get_or<bool>("num_updates", false);
  ema.zero_debias = table.get_or<bool>("zero_debias", false);
  ema.params = table.get_or<std::vector<std::string>>("params", {});
  ema.losses = table.get_or<std::vector<std::string>>("losses", {});
  const std::vector<std::string> known = loss_names(spec);
  for (const std::string& loss : ema.losses)
    if (std::find(known.begin(), known.end(), loss) == known.end()) unknown_name(table, "losses", "loss", loss, known);
  if (ema.params.empty() && ema.losses.empty())
    table.fail("", "averages nothing: name parameter groups in `params` and/or losses in `losses`");
}

void read_init_from(const Config& experiment, ExperimentSpec& spec) {
  if (!experiment.contains("init_from")) return;
  InitFromSpec& init = spec.init_from;
  if (experiment.has_table("init_from")) {
    const Config table = experiment.table("init_from");
    init.config = table;
    init.source = table.get<std::string>("from");
    init.step = table.find<std::int64_t>("step");
    init.strict = table.get_or<bool>("strict", true);
  } else {
    init.config = experiment;
    init.source = experiment.get<std::string>("init_from");
  }
  if (init.source.empty()) init.config.fail("", "init_from names no checkpoint or run");
}

}  // namespace

std::vector<OptimizerSpec> order_phases(std::vector<OptimizerSpec> optimizers) {
  // Depth-first topological sort in declaration order, so that independent phases keep
  // the order the file gives them; the path on the stack names a cycle when one closes.
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < optimizers.size(); ++i) index[optimizers[i].name] = i;
  enum class Mark { none, visiting, done };
  std::vector<Mark> marks(optimizers.size(), Mark::none);
  std::vector<std::size_t> order, stack;

  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    if (marks[i] == Mark::done) return;
    if (marks[i] == Mark::visiting) {
      std::vector<std::string> cycle;
      auto from = std::find(stack.begin(), stack.end(), i);
      for (auto it = from; it != stack.end(); ++it) cycle.push_back(optimizers[*it].name);
      cycle.push_back(optimizers[i].name);
      optimizers[*from].config.fail("after", fmt::format("optimizers form a cycle: {}", fmt::join(cycle, " after ")));
    }
    marks[i] = Mark::visiting;
    stack.push_back(i);
    for (const std::string& before : optimizers[i].after) visit(index.at(before));
    stack.pop_back();
    marks[i] = Mark::done;
    order.push_back(i);
  };
  for (std::size_t i = 0; i < optimizers.size(); ++i) visit(i);

  std::vector<OptimizerSpec> ordered;
  for (std::size_t i : order) ordered.push_back(std::move(optimizers[i]));
  return ordered;
}

ExperimentSpec load_experiment(const fs::path& file, const std::vector<std::string>& overrides) {
  ExperimentSpec spec;
  spec.file = file;
  spec.document = detail::Document::parse_file(file);
  for (const std::string& assignment : overrides) spec.document->set(assignment);
  spec.root = spec.document->root();
  read_experiment(spec.root, spec);
  read_plugin_paths(spec.root, spec);
  read_data(spec.root, spec);
  if (spec.root.contains("eval_data")) spec.eval_data = read_plugin(spec.root.table("eval_data"), spec.file);
  spec.model = read_plugin(spec.root.table("model"), spec.file);
  read_losses(spec.root, spec);
  read_optimizers(spec.root, spec);
  read_hooks(spec.root, spec);
  read_supervisor(spec.root, spec);
  read_saver(spec.root, spec);
  read_ema(spec.root, spec);
  read_init_from(spec.root.table("experiment"), spec);
  return spec;
}

}  // namespace kiln::runner
