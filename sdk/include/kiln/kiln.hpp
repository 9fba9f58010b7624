// Everything a plugin needs, in one include.
#pragma once

#include "kiln/averager.hpp"
#include "kiln/config.hpp"
#include "kiln/dataset.hpp"
#include "kiln/error.hpp"
#include "kiln/hook.hpp"
#include "kiln/loss.hpp"
#include "kiln/lr_schedule.hpp"
#include "kiln/model.hpp"
#include "kiln/plugin.hpp"
#include "kiln/registry.hpp"
#include "kiln/run_context.hpp"
#include "kiln/schedule.hpp"
#include "kiln/step.hpp"
#include "kiln/tensors.hpp"
#include "kiln/version.hpp"
