// The plugin's one exported entry: its name, its version and the names it registers.
#include "kiln/plugin.hpp"
#include "sine.hpp"

KILN_PLUGIN("sine", "1.0.0") {
  sine::add_dataset(registry);
  sine::add_model(registry);
  sine::add_loss(registry);
  sine::add_hook(registry);
}
