// The bundle's tensor table: the checkpoint's tensors, with each stack of
// matrices the fuse pass made (unicorn.stacked_weight: q/k/v, gate/up) stored
// as one tensor instead of its parts. One plan for the bundle writer, which
// streams each tensor's sources into its segment, and for the schedule, whose
// weight buffers index the same table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/checkpoint.h"
#include "compiler/weight_scheme.h"

namespace unicorn {

// A stack: its name and its parts' canonical names, rows in that order.
struct StackedTensor {
  std::string name;
  std::vector<std::string> parts;
};

struct BundleTensor {
  std::string name;
  std::vector<const CheckpointTensor*> sources;  // one tensor, or a stack's parts in row order
  std::vector<std::uint64_t> shape;              // a stack: [sum of the parts' rows, K]
  WeightScheme scheme;                           // a stack: its first part's (the policy is by name)
  std::uint64_t stored_bytes = 0;
};

// Sorted by name (the bundle's table is). Throws Error(kInvalidInput) where a
// tensor cannot be stored in `format` (chooseWeightScheme), and names a stack
// that does not describe checkpoint matrices of one K, dtype and scheme as an
// internal error: the fuse pass stacks only those.
std::vector<BundleTensor> planBundleTensors(const Checkpoint& checkpoint, WeightFormat format,
                                            const std::vector<StackedTensor>& stacks);

}  // namespace unicorn
