// Experiment files → ExperimentSpec: the runner's own keys, typed and cross-checked. The
// built-in hooks' tables and the optimizer types' keys are read where they are used.
#include "config/experiment.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "config/cores.hpp"
#include "config/sweep_table.hpp"

namespace kiln::runner {
namespace {

namespace fs = std::filesystem;

/// The most loader threads and batches prepared ahead: far beyond what helps, well below
/// what exhausts threads or memory.
constexpr int kMaxWorkers = 64;
constexpr int kMaxAccumulate = 1024;  // micro-batches per update
constexpr int kMaxPrefetch = 1024;
/// Intra-op threads per usable core: more only oversubscribes (100000 threads hang).
constexpr int kThreadsPerCore = 4;
/// The longest run name, in bytes: it names a directory, well below NAME_MAX (255).
constexpr std::size_t kMaxRunNameBytes = 200;

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

bool is_run_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

/// What is wrong with `name` as a run's name, which names the run's directory, or "".
std::string run_name_problem(const std::string& name) {
  // Qualified: a plain quoted(name) would find std::quoted by argument-dependent lookup.
  const std::string shown = kiln::detail::quoted(name);
  if (name.empty()) return "is empty";
  if (name == "." || name == "..") return fmt::format("cannot be {}", shown);
  if (name.size() > kMaxRunNameBytes) return fmt::format("is {} bytes long", name.size());
  if (name.front() == '-') return fmt::format("{} begins with '-'", shown);
  for (const char c : name)
    if (!is_run_name_char(c)) return fmt::format("{} holds {}", shown, kiln::detail::quoted(std::string_view(&c, 1)));
  return "";
}

void read_experiment(const Config& root, ExperimentSpec& spec) {
  const Config table = root.table("experiment");
  spec.name = table.get<std::string>("name");
  if (const std::string problem = run_name_problem(spec.name); !problem.empty())
    table.fail("name", fmt::format("{}; a run's name is its directory's name: 1 to {} of the ASCII letters, "
                                   "digits, '-', '_' and '.', not beginning with '-', and neither \".\" nor \"..\"",
                                   problem, kMaxRunNameBytes));
  spec.seed = static_cast<std::uint64_t>(table.get_non_negative<std::int64_t>("seed", 0));
  spec.max_steps = table.get_positive<std::int64_t>("max_steps", 1000);
  spec.threads = table.get_non_negative<int>("threads", 0);
  const int cores = usable_cores();
  if (spec.threads > kThreadsPerCore * cores)
    table.fail("threads", fmt::format("must be at most {} ({} per usable core, and this process may use {}), got {}; "
                                      "0 uses one per core",
                                      kThreadsPerCore * cores, kThreadsPerCore, cores, spec.threads));
  // Checked against the machine by the trainer (train/device.hpp): a CUDA device that is not
  // there is an error at this key, from the trainer.
  spec.device = table.get_or<std::string>("device", "auto");
  spec.precision = table.get_choice("precision", "auto", {"auto", "fp32", "tf32", "bf16", "fp16"});
  spec.accumulate = table.get_in_range<int>("accumulate", 1, 1, kMaxAccumulate);
  spec.cuda_graphs = table.get_or<bool>("cuda_graphs", false);
  spec.tags = table.get_or<std::vector<std::string>>("tags", {});
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
    for (const fs::path& path : spec.plugin_paths) quoted.push_back(kiln::detail::quoted(path.string()));
    spec.document->set(fmt::format("plugins.paths=[{}]", fmt::join(quoted, ", ")));
    spec.root.table("plugins").get<std::vector<std::string>>("paths");  // read again: the node is new
  }
}

void read_data(const Config& root, ExperimentSpec& spec) {
  const Config table = root.table("data");
  spec.data.source = read_plugin(table, spec.file);
  spec.data.batch_size = table.get_positive<std::int64_t>("batch_size", 32);
  spec.data.shuffle = table.get_or<bool>("shuffle", true);
  spec.data.drop_last = table.get_or<bool>("drop_last", true);
  // One loader thread beside training, unless this process has a single core to share.
  spec.data.workers = table.get_in_range<int>("workers", usable_cores() > 1 ? 1 : 0, 0, kMaxWorkers);
  spec.data.prefetch = table.get_in_range<int>("prefetch", 2, 1, kMaxPrefetch);
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

void read_optimizer_losses(const Config& table, const std::vector<std::string>& known, OptimizerSpec& opt) {
  if (table.has_table("losses")) {
    const Config weights = table.table("losses");
    for (const std::string& name : weights.keys()) opt.losses.emplace_back(name, weights.get<double>(name));
  } else {
    for (const std::string& name : table.get<std::vector<std::string>>("losses")) opt.losses.emplace_back(name, 1.0);
  }
  if (opt.losses.empty()) table.fail("losses", "names no loss to minimize");
  for (const auto& [name, weight] : opt.losses)
    if (std::find(known.begin(), known.end(), name) == known.end())
      fail_unknown_name(table, "losses", "loss", name, known);
}

void read_optimizers(const Config& root, ExperimentSpec& spec) {
  const std::vector<std::string> losses = spec.loss_names();
  std::vector<OptimizerSpec> optimizers;
  std::set<std::string> seen;
  for (const Config& table : root.tables("optimizers")) {
    OptimizerSpec opt;
    opt.config = table;
    opt.type = table.get<std::string>("type");  // checked, with its keys, by the optimizer table
    opt.name = table.get_or<std::string>("name", opt.type);
    if (!seen.insert(opt.name).second)
      table.fail("name", fmt::format("an optimizer named '{}' is already declared", opt.name));
    opt.params = table.get_or<std::string>("params", "all");
    if (table.contains("lr")) opt.lr = table.get_positive<double>("lr");
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
        fail_unknown_name(opt.config, "after", "optimizer", before, names);
      if (before == opt.name) opt.config.fail("after", fmt::format("'{}' cannot come after itself", opt.name));
    }
  spec.optimizers = order_phases(std::move(optimizers));
}

void read_hooks(const Config& root, ExperimentSpec& spec) {
  // A hook's name keys its state in checkpoints: the built-in hooks' names are taken.
  const std::set<std::string> built_in = {"early_stopping", "ema", "saver", "supervisor", "threads"};
  std::set<std::string> seen;
  for (const Config& table : root.tables("hooks")) {
    HookSpec hook;
    hook.source = read_plugin(table, spec.file);
    hook.name = table.get_or<std::string>("name", hook.source.plugin);
    const std::string_view where = table.contains("name") ? "name" : "plugin";
    if (built_in.count(hook.name))
      table.fail(where, fmt::format("a hook may not be named '{}': kiln's built-in {} hook is; give this one another `name`",
                                    hook.name, hook.name));
    if (!seen.insert(hook.name).second)
      table.fail(where, fmt::format("a hook named '{}' is already declared; give each [[hooks]] a distinct `name`",
                                    hook.name));
    hook.priority = table.find<int>("priority");
    spec.hooks.push_back(std::move(hook));
  }
}

/// The built-in hooks' tables, kept for the hooks to read (run/setup.cpp). Reading them
/// here makes them known keys of the file, present or not.
void keep_built_in_tables(const Config& root, ExperimentSpec& spec) {
  spec.supervisor = root.table_or_empty("supervisor");
  spec.saver = root.table_or_empty("saver");
  if (root.contains("ema")) spec.ema = root.table("ema");
  if (root.contains("early_stopping")) spec.early_stopping = root.table("early_stopping");
  spec.summaries = root.table_or_empty("summaries");
  spec.distributed = root.table_or_empty("distributed");
  // `kiln sweep`'s table: checked here too, so that a run of the file reads it and ignores it.
  if (root.contains("sweep")) read_sweep_table(root.table("sweep"));
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
    init.best = table.get_or<bool>("best", false);
    if (init.best && init.step)
      table.fail("best", "init_from takes a `step` or `best = true`, not both");
  } else {
    init.config = experiment;
    init.source = experiment.get<std::string>("init_from");
  }
  if (init.source.empty()) init.config.fail("", "init_from names no checkpoint or run");
}

}  // namespace

std::vector<std::string> ExperimentSpec::loss_names() const {
  std::vector<std::string> names;
  for (const LossSpec& loss : losses) names.push_back(loss.name);
  return names;
}

void fail_unknown_name(const Config& table, std::string_view key, std::string_view what, const std::string& name,
                       const std::vector<std::string>& known) {
  std::string message = fmt::format("no {} named '{}'", what, name);
  message += kiln::detail::did_you_mean(name, known);
  message += fmt::format(" (declared: {})", fmt::join(known, ", "));
  table.fail(key, message);
}

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
  keep_built_in_tables(spec.root, spec);
  read_init_from(spec.root.table("experiment"), spec);
  return spec;
}

}  // namespace kiln::runner
