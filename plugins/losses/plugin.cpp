// The `losses` plugin library: every in-tree loss.
#include "losses.hpp"

KILN_PLUGIN("losses", "1.0.0") {
  registry.add_loss<kiln::plugins::Mse>("mse");
  registry.add_loss<kiln::plugins::Gan>("gan");
  registry.add_loss<kiln::plugins::L1>("l1");
}
