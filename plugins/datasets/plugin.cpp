// The `datasets` plugin library: every in-tree dataset.
#include "datasets.hpp"

KILN_PLUGIN("datasets", "1.0.0") {
  registry.add_dataset<kiln::plugins::SyntheticRegression>("synthetic_regression");
  registry.add_dataset<kiln::plugins::SyntheticFacades>("synthetic_facades");
  registry.add_dataset<kiln::plugins::PairedImages>("paired_images");
}
