// Codegen and serialisation of the compiled schedule (compiled_schedule.h).
#include "compiler/compiled_schedule.h"

#include "codegen_spirv/kernel_library.h"
#include "codegen_spirv/spirv_kernel_compiler.h"

namespace unicorn {

void compileScheduleKernels(CompiledSchedule& schedule) {
  const spirv::SpirvKernelCompiler compiler;
  for (ScheduleKernel& kernel : schedule.kernels) {
    const spirv::KernelRequest request = spirv::specialise(kernel.kernel, kernel.params);
    const spirv::KernelInfo& info = spirv::KernelLibrary::builtin().get(request.kernel);
    kernel.name = spirv::describeSpecialisation(request.kernel, request.defines);
    kernel.spirv = compiler.compile(request.kernel, request.defines);
    kernel.binding_count = info.bindingCount(request.defines);
    kernel.array_sizes = info.arraySizes(request.defines);
    kernel.push_constant_bytes = info.push_constant_bytes;
    kernel.subgroup_size = info.subgroup_size;
  }
}

flatbuffers::Offset<fb::Schedule> serializeSchedule(flatbuffers::FlatBufferBuilder& fbb,
                                                    const CompiledSchedule& schedule) {
  std::vector<flatbuffers::Offset<fb::KernelModule>> kernels;
  for (const ScheduleKernel& k : schedule.kernels) {
    kernels.push_back(fb::CreateKernelModule(fbb, fbb.CreateString(k.name), fbb.CreateString("main"),
                                             fbb.CreateVector(k.spirv), k.binding_count, k.push_constant_bytes,
                                             k.subgroup_size, k.fallback,
                                             k.array_sizes.empty() ? 0 : fbb.CreateVector(k.array_sizes)));
  }
  std::vector<flatbuffers::Offset<fb::ScheduleBuffer>> buffers;
  for (const ScheduleBufferPlan& b : schedule.buffers) {
    buffers.push_back(fb::CreateScheduleBuffer(fbb, fbb.CreateString(b.name), b.kind, b.tensor_index, b.bytes, b.layer,
                                               b.capacity, b.fixed_slots, b.slot_bytes));
  }
  auto dispatches = [&](const std::vector<DispatchPlan>& list) {
    std::vector<flatbuffers::Offset<fb::Dispatch>> out;
    for (const DispatchPlan& d : list) {
      out.push_back(fb::CreateDispatch(fbb, d.kernel, fbb.CreateVectorOfStructs(d.bindings),
                                       fbb.CreateVector(d.push_constants), fbb.CreateVectorOfStructs(d.patches),
                                       fbb.CreateVectorOfStructs(d.groups.data(), d.groups.size()), d.barrier_before,
                                       d.condition, d.for_matrix_units));
    }
    return fbb.CreateVector(out);
  };
  auto kernel_vector = fbb.CreateVector(kernels);
  auto buffer_vector = fbb.CreateVector(buffers);
  auto setup = dispatches(schedule.setup);
  auto prefill = dispatches(schedule.prefill);
  auto decode = dispatches(schedule.decode);
  return fb::CreateSchedule(fbb, kernel_vector, buffer_vector, schedule.prefill_chunk, schedule.readout_top_k,
                            1 + 2 * schedule.readout_top_k, schedule.readout_buffer, schedule.step_input_buffer,
                            prefill, decode, schedule.logits_buffer, schedule.sampling_params_word,
                            schedule.logits_offset, schedule.readout_rows, setup);
}

}  // namespace unicorn
