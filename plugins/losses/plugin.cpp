// The `losses` plugin library: every in-tree loss.
#include "losses.hpp"

KILN_PLUGIN("losses", "1.0.0") { registry.add_loss<kiln::plugins::Mse>("mse"); }
