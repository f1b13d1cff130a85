#include "compiler/bundle_tensors.h"

#include <algorithm>
#include <map>
#include <set>

#include "runtime/error.h"
#include "schemas/tensor_layout.h"

namespace unicorn {
namespace {

[[noreturn]] void failInternal(const std::string& problem) {
  throw Error(ExitCode::kInvalidInput, "internal error (please report): " + problem);
}

std::uint64_t storedBytes(const std::string& name, const WeightScheme& scheme, const std::vector<std::uint64_t>& shape) {
  const StoredTensorSize size = storedTensorSize(scheme.dtype, scheme.quant, shape);
  if (size.problem) failInternal("tensor '" + name + "': " + size.problem);
  return size.bytes;
}

}  // namespace

std::vector<BundleTensor> planBundleTensors(const Checkpoint& checkpoint, WeightFormat format,
                                            const std::vector<StackedTensor>& stacks) {
  std::map<std::string, const CheckpointTensor*> by_name;
  for (const CheckpointTensor& tensor : checkpoint.tensors()) by_name[tensor.canonical_name] = &tensor;
  std::vector<BundleTensor> table;
  std::set<std::string> stacked_parts;
  for (const StackedTensor& stack : stacks) {
    BundleTensor entry;
    entry.name = stack.name;
    std::uint64_t rows = 0;
    for (const std::string& part : stack.parts) {
      auto found = by_name.find(part);
      if (found == by_name.end() || !stacked_parts.insert(part).second) {
        failInternal("stack '" + stack.name + "' names '" + part + "', not a checkpoint tensor of its own");
      }
      const CheckpointTensor& tensor = *found->second;
      const WeightScheme scheme = chooseWeightScheme(format, tensor.canonical_name, tensor.shape);
      if (tensor.shape.size() != 2 ||
          (!entry.sources.empty() &&
           (tensor.shape[1] != entry.shape[1] || tensor.dtype != entry.sources.front()->dtype ||
            scheme.dtype != entry.scheme.dtype || scheme.quant != entry.scheme.quant))) {
        failInternal("stack '" + stack.name + "': part '" + part + "' is not a matrix of the first part's K, dtype and scheme");
      }
      if (entry.sources.empty()) {
        entry.scheme = scheme;
        entry.shape = tensor.shape;
      }
      entry.sources.push_back(&tensor);
      rows += tensor.shape[0];
    }
    if (entry.sources.size() < 2) failInternal("stack '" + stack.name + "' has fewer than two parts");
    entry.shape[0] = rows;
    entry.stored_bytes = storedBytes(entry.name, entry.scheme, entry.shape);
    table.push_back(std::move(entry));
  }
  for (const CheckpointTensor& tensor : checkpoint.tensors()) {
    if (stacked_parts.contains(tensor.canonical_name)) continue;
    BundleTensor entry{tensor.canonical_name, {&tensor}, tensor.shape,
                       chooseWeightScheme(format, tensor.canonical_name, tensor.shape), 0};
    entry.stored_bytes = storedBytes(entry.name, entry.scheme, entry.shape);
    table.push_back(std::move(entry));
  }
  std::sort(table.begin(), table.end(), [](const BundleTensor& a, const BundleTensor& b) { return a.name < b.name; });
  for (std::size_t i = 1; i < table.size(); ++i) {
    if (table[i].name == table[i - 1].name) failInternal("two tensors are named '" + table[i].name + "'");
  }
  return table;
}

}  // namespace unicorn
