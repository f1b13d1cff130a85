// Writes a .ubundle (framing: schemas/bundle_format.h, header: schemas/bundle.fbs)
// from an opened checkpoint.
//
// The output is deterministic: the same checkpoint and options give byte-identical
// files (no timestamps, no paths, tensors in name order, zero padding). Its tensors
// are planBundleTensors' (bundle_tensors.h: the checkpoint's, stacks instead of
// their parts), planned once by the caller, whose schedule indexes the same table.
// It is written to a temporary file beside the destination and renamed into place
// only when complete, so a failure never leaves a half-written bundle behind.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "compiler/bundle_tensors.h"
#include "compiler/checkpoint.h"
#include "compiler/compiled_schedule.h"

namespace unicorn {

struct BundleContents {
  const Checkpoint* checkpoint = nullptr;
  std::string chat_template;                 // verbatim Jinja source ("" if the checkpoint has none)
  std::vector<std::string> required_devices; // e.g. {"igpu"}
  std::vector<BundleTensor> tensors;          // planBundleTensors' table, its sources in `checkpoint`
  const CompiledSchedule* schedule = nullptr; // the execution schedule (nullptr: none)
  unsigned threads = 0;                      // quantising threads; 0: one per core. The bytes do not depend on it.
};

// Called after each tensor is written: (tensors done, tensors total, bytes done, bytes total).
using WriteProgress = std::function<void(std::size_t, std::size_t, std::uint64_t, std::uint64_t)>;

// Throws Error(kInvalidInput) when the checkpoint's tokenizer cannot be imported,
// when a weight holds a NaN or infinity to quantise (planBundleTensors refused
// the other formats a weight cannot be stored in), and naming the path when the
// output cannot be written.
void writeBundle(const BundleContents& contents, const std::filesystem::path& out_path,
                 const WriteProgress& progress = {});

}  // namespace unicorn
