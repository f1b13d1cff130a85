// The execution schedule of a bundle (schemas/schedule.fbs) as the compiler
// holds it between the MLIR pipeline and the bundle writer: read out of the
// scheduled module (GemmaGraph::extractSchedule: buffers, kernel
// specialisations, the prefill and decode dispatches), then completed by
// codegen (compileScheduleKernels: SPIR-V for every kernel) and serialised
// into the bundle header (serializeSchedule). Nothing here decides anything;
// the passes did (passes/Passes.td).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "codegen_spirv/kernel_params.h"
#include "schemas/bundle_generated.h"

namespace unicorn {

struct ScheduleKernel {
  std::string kernel;           // library kernel, e.g. "matvec_bf16"
  spirv::KernelParams params;   // as unicorn.kernel states them
  std::int32_t fallback = -1;   // the kernel run where the device cannot run this one
  // Filled by compileScheduleKernels:
  std::string name;             // "matvec_bf16 (K=1152, N=6912, ...)": for messages
  std::vector<std::uint32_t> spirv;
  std::uint32_t binding_count = 0;
  std::vector<std::uint32_t> array_sizes;  // descriptors at each binding; empty: one each
  std::uint32_t push_constant_bytes = 0;
  std::uint32_t subgroup_size = 0;  // the kernel's own (KernelInfo::subgroup_size)
};

struct ScheduleBufferPlan {
  std::string name;
  fb::BufferKind kind = fb::BufferKind::Activation;
  std::uint32_t tensor_index = 0;
  std::uint64_t bytes = 0;
  std::uint32_t layer = 0;
  fb::KvCapacity capacity = fb::KvCapacity::Fixed;
  std::uint32_t fixed_slots = 0;
  std::uint64_t slot_bytes = 0;
};

struct DispatchPlan {
  std::uint32_t kernel = 0;
  std::vector<fb::Binding> bindings;
  std::vector<std::uint32_t> push_constants;
  std::vector<fb::PushPatch> patches;
  std::array<fb::WorkgroupCount, 3> groups;
  bool barrier_before = false;
  bool for_matrix_units = false;  // Dispatch.for_matrix_units
  fb::DispatchCondition condition = fb::DispatchCondition::Always;
};

struct CompiledSchedule {
  std::vector<ScheduleKernel> kernels;
  std::vector<ScheduleBufferPlan> buffers;
  std::uint32_t prefill_chunk = 0;
  std::uint32_t readout_rows = 0;
  std::uint32_t readout_top_k = 0;
  std::uint32_t readout_buffer = 0;
  std::uint32_t step_input_buffer = 0;
  std::uint32_t logits_buffer = 0;
  std::uint64_t logits_offset = 0;
  std::uint32_t sampling_params_word = 0;
  std::vector<DispatchPlan> setup;  // run once, when the bundle is opened
  std::vector<DispatchPlan> prefill;
  std::vector<DispatchPlan> decode;
};

// Codegen: specialises and compiles every kernel of `schedule` to checked
// SPIR-V (codegen_spirv: GLSL kernels validated by SPIRV-Tools, dialect kernels
// verified by MLIR when built), with each kernel's subgroup size. Throws Error(kInvalidInput) naming the kernel when
// its parameters are ones the kernel cannot take.
void compileScheduleKernels(CompiledSchedule& schedule);

// Writes `schedule` (its kernels compiled) into `fbb` for the bundle header.
flatbuffers::Offset<fb::Schedule> serializeSchedule(flatbuffers::FlatBufferBuilder& fbb,
                                                    const CompiledSchedule& schedule);

}  // namespace unicorn
