// The `image_hooks` plugin library: held-out evaluation and image summaries.
#include "hooks.hpp"

KILN_PLUGIN("image_hooks", "1.0.0") {
  registry.add_hook<kiln::plugins::Evaluate>("evaluate");
  registry.add_hook<kiln::plugins::ImageSummaries>("image_summaries");
}
