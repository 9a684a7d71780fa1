// The nn library in one include: parameters and initializers, layers, normalization,
// recurrent cells, activations and losses (namespace loom::nn).
#pragma once

#include "frontend/nn/activations.h"
#include "frontend/nn/init.h"
#include "frontend/nn/layers.h"
#include "frontend/nn/losses.h"
#include "frontend/nn/normalization.h"
#include "frontend/nn/parameters.h"
#include "frontend/nn/recurrent.h"
