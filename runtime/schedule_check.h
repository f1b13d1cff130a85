// Verification of a bundle's execution schedule (schemas/schedule.fbs), run by
// BundleView after the tensor table: every index in range, every kernel a
// SPIR-V module, every binding an aligned range inside its buffer, push
// constants and workgroup counts of the right shape. The executor then trusts it.
#pragma once

#include <cstdint>
#include <string>

#include "schemas/bundle_generated.h"

namespace unicorn {

// Throws Error(kInvalidInput) "NAME: schedule: ..." on the first problem; a header
// without a schedule passes (it cannot be run, which the executor reports).
void checkSchedule(const fb::Header& header, const std::string& name);

// The most readout rows a prefill chunk computes (schedule.fbs: readout_rows;
// a header without it has logits for a whole chunk).
inline std::uint32_t readoutRows(const fb::Schedule& s) {
  return s.readout_rows() == 0 ? s.prefill_chunk() : s.readout_rows();
}

}  // namespace unicorn
