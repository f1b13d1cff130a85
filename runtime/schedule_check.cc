#include "runtime/schedule_check.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/gpu/spirv_instructions.h"

namespace unicorn {
namespace {

// Vulkan's minStorageBufferOffsetAlignment is at most 256 and maxStorageBufferRange at least 2^27.
constexpr std::uint64_t kBindingAlignment = 256;
constexpr std::uint64_t kMaxBindingRange = std::uint64_t(1) << 27;
constexpr std::uint32_t kMaxPushConstantBytes = 128;  // Vulkan's guaranteed minimum
constexpr std::uint32_t kMaxArraySize = 64;            // descriptors in one array binding (row slices)
constexpr std::uint32_t kMaxPrefillChunk = 4096;
constexpr std::uint32_t kMaxReadoutTopK = 1024;
constexpr std::uint32_t kSamplingParamsWords = 5;  // schedule.fbs, SamplingParams

class ScheduleChecker {
 public:
  ScheduleChecker(const fb::Header& header, std::string name) : header_(header), name_(std::move(name)) {}

  [[noreturn]] void fail(const std::string& message) const {
    failInvalidInput(name_ + ": schedule: " + message);
  }

  void check(const fb::Schedule& s) const {
    if (!s.kernels() || !s.buffers() || !s.prefill() || !s.decode()) fail("kernels, buffers, prefill or decode missing");
    if (s.prefill_chunk() == 0 || s.prefill_chunk() > kMaxPrefillChunk) {
      fail("prefill_chunk " + std::to_string(s.prefill_chunk()) + " outside 1.." + std::to_string(kMaxPrefillChunk));
    }
    if (s.readout_top_k() == 0 || s.readout_top_k() > kMaxReadoutTopK ||
        s.readout_row_words() != 1 + 2 * s.readout_top_k()) {
      fail("readout top-k " + std::to_string(s.readout_top_k()) + " / row words " +
           std::to_string(s.readout_row_words()) + " inconsistent");
    }
    for (std::uint32_t i = 0; i < s.kernels()->size(); ++i) checkKernel(s, i, *s.kernels()->Get(i));
    for (std::uint32_t i = 0; i < s.buffers()->size(); ++i) checkBuffer(i, *s.buffers()->Get(i));
    if (s.sampling_params_word() < 2 * s.prefill_chunk()) {
      fail("sampling_params_word " + std::to_string(s.sampling_params_word()) + " overlaps the ids and positions");
    }
    checkBufferRole(s, s.step_input_buffer(), fb::BufferKind::StepInput, "step_input_buffer",
                    (std::uint64_t(s.sampling_params_word()) + kSamplingParamsWords) * 4);
    if (s.readout_rows() > s.prefill_chunk()) {
      fail("readout_rows " + std::to_string(s.readout_rows()) + " exceed the prefill chunk of " +
           std::to_string(s.prefill_chunk()));
    }
    checkBufferRole(s, s.readout_buffer(), fb::BufferKind::Readout, "readout_buffer",
                    std::uint64_t(readoutRows(s)) * s.readout_row_words() * 4);
    // The logits of the most readout rows lie inside the activation buffer (the
    // offset is bounded first, so the sum cannot overflow).
    if (s.logits_offset() % kBindingAlignment != 0 || s.logits_offset() > (std::uint64_t(1) << 40)) {
      fail("logits_offset " + std::to_string(s.logits_offset()) + " is not an aligned offset");
    }
    checkBufferRole(s, s.logits_buffer(), fb::BufferKind::Activation, "logits_buffer",
                    s.logits_offset() + std::uint64_t(readoutRows(s)) * header_.model()->vocab_size() * 4);
    // At most one PreviousStepInput, the step input's size (the runtime binds
    // its twin there), and only decode binds it: a prefill chunk has no step
    // before.
    std::uint32_t previous_inputs = 0;
    for (const fb::ScheduleBuffer* b : *s.buffers()) {
      if (b->kind() != fb::BufferKind::PreviousStepInput) continue;
      if (++previous_inputs > 1) fail("more than one PreviousStepInput buffer");
      if (b->bytes() != s.buffers()->Get(s.step_input_buffer())->bytes()) {
        fail("the PreviousStepInput buffer is not the step input's size");
      }
    }
    checkList(s, "prefill", *s.prefill());
    checkList(s, "decode", *s.decode());
    if (s.setup()) checkSetup(s, *s.setup());
    for (const fb::Dispatch* d : *s.prefill()) {
      for (const fb::Binding* b : *d->bindings()) {
        if (s.buffers()->Get(b->buffer())->kind() == fb::BufferKind::PreviousStepInput) {
          fail("a prefill dispatch binds the step before's input (PreviousStepInput)");
        }
      }
    }
  }

 private:
  void checkKernel(const fb::Schedule& s, std::uint32_t index, const fb::KernelModule& k) const {
    const std::string what = "kernel " + std::to_string(index);
    if (!k.name() || !k.entry_point() || !k.spirv()) fail(what + " lacks its name, entry point or SPIR-V");
    // The words are a [uint32] vector, so the module is a 4-byte multiple by construction.
    if (!gpu::hasSpirvHeader(std::span<const std::uint32_t>(k.spirv()->data(), k.spirv()->size()))) {
      fail(what + " (" + k.name()->str() + "): not a SPIR-V module (magic 0x07230203 expected)");
    }
    if (k.push_constant_bytes() % 4 != 0 || k.push_constant_bytes() > kMaxPushConstantBytes) {
      fail(what + ": push constant size " + std::to_string(k.push_constant_bytes()) +
           " is not a multiple of 4 up to 128");
    }
    if (k.binding_count() == 0 || k.binding_count() > 16) fail(what + ": binding count outside 1..16");
    if (k.array_sizes()) {
      if (k.array_sizes()->size() != k.binding_count()) {
        fail(what + ": " + std::to_string(k.array_sizes()->size()) + " array sizes for " +
             std::to_string(k.binding_count()) + " bindings");
      }
      for (std::uint32_t size : *k.array_sizes()) {
        if (size == 0 || size > kMaxArraySize) fail(what + ": an array binding outside 1.." + std::to_string(kMaxArraySize));
      }
    }
    const std::uint32_t size = k.subgroup_size();
    if (size > 128 || (size & (size - 1)) != 0) {
      fail(what + ": subgroup size " + std::to_string(size) + " is not 0 or a power of two up to 128");
    }
    if (k.fallback() != -1) {
      // One level only, and a true stand-in: the dispatches that run this
      // module push what the fallback takes and bind what it binds, first
      // (the executor leaves out the trailing bindings only this module
      // reads: a cooperative-matrix product's tokens' maxima).
      const auto& kernels = *s.kernels();
      if (k.fallback() < 0 || std::uint32_t(k.fallback()) >= kernels.size() || std::uint32_t(k.fallback()) == index) {
        fail(what + ": fallback " + std::to_string(k.fallback()) + " is not another kernel");
      }
      const fb::KernelModule& fallback = *kernels.Get(k.fallback());
      if (fallback.fallback() != -1) fail(what + ": its fallback has a fallback of its own");
      const std::vector<std::uint32_t> fallback_arrays = arraySizes(fallback), arrays = arraySizes(k);
      if (fallback.binding_count() > k.binding_count() || fallback_arrays.size() > arrays.size() ||
          !std::equal(fallback_arrays.begin(), fallback_arrays.end(), arrays.begin()) ||
          fallback.push_constant_bytes() != k.push_constant_bytes()) {
        fail(what + ": its fallback binds or pushes differently");
      }
    }
  }

  void checkBuffer(std::uint32_t index, const fb::ScheduleBuffer& b) const {
    const std::string what = "buffer " + std::to_string(index);
    const auto kind = b.kind();
    if (kind < fb::BufferKind::MIN || kind > fb::BufferKind::MAX) fail(what + ": unknown kind");
    if (kind == fb::BufferKind::Weight) {
      if (b.tensor_index() >= header_.tensors()->size()) {
        fail(what + ": tensor index " + std::to_string(b.tensor_index()) + " outside the tensor table of " +
             std::to_string(header_.tensors()->size()));
      }
      if (b.bytes() != header_.tensors()->Get(b.tensor_index())->size()) {
        fail(what + ": size " + std::to_string(b.bytes()) + " differs from its tensor's");
      }
    } else if (kind == fb::BufferKind::KeyCache || kind == fb::BufferKind::ValueCache) {
      if (b.layer() >= header_.model()->num_hidden_layers()) fail(what + ": layer out of range");
      if (b.slot_bytes() == 0 || b.slot_bytes() > kMaxBindingRange) fail(what + ": slot size out of range");
      if (b.capacity() == fb::KvCapacity::Fixed) {
        if (b.fixed_slots() == 0 || b.slot_bytes() * b.fixed_slots() > kMaxBindingRange) {
          fail(what + ": fixed ring of " + std::to_string(b.fixed_slots()) + " slots out of range");
        }
      } else if (b.capacity() != fb::KvCapacity::Context) {
        fail(what + ": unknown KV capacity rule");
      }
    } else if (b.bytes() == 0 || b.bytes() > (std::uint64_t(1) << 40)) {
      fail(what + ": size " + std::to_string(b.bytes()) + " out of range");
    }
  }

  void checkBufferRole(const fb::Schedule& s, std::uint32_t index, fb::BufferKind kind, const char* field,
                       std::uint64_t min_bytes) const {
    if (index >= s.buffers()->size() || s.buffers()->Get(index)->kind() != kind ||
        s.buffers()->Get(index)->bytes() < min_bytes) {
      fail(std::string(field) + " " + std::to_string(index) + " is not a buffer of its kind and size");
    }
  }

  // Descriptors at each binding of a checked kernel (array_sizes, or one each).
  static std::vector<std::uint32_t> arraySizes(const fb::KernelModule& k) {
    if (!k.array_sizes()) return std::vector<std::uint32_t>(k.binding_count(), 1u);
    return {k.array_sizes()->begin(), k.array_sizes()->end()};
  }

  // A fixed-size buffer's bytes; 0 for a KV cache, whose size follows --ctx or its ring.
  static std::uint64_t fixedBytes(const fb::ScheduleBuffer& b) {
    if (b.kind() == fb::BufferKind::KeyCache || b.kind() == fb::BufferKind::ValueCache) {
      return b.capacity() == fb::KvCapacity::Fixed ? b.slot_bytes() * b.fixed_slots() : 0;
    }
    return b.bytes();
  }

  // The setup program runs once, before any chunk, always, in one submission:
  // from the weights into activation buffers alone, with nothing a chunk sets
  // (conditions, patches, workgroups counted by the chunk). It may be empty.
  void checkSetup(const fb::Schedule& s, const flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>& dispatches) const {
    if (dispatches.size() == 0) return;
    checkList(s, "setup", dispatches);
    for (std::uint32_t i = 0; i < dispatches.size(); ++i) {
      const fb::Dispatch& d = *dispatches.Get(i);
      const std::string what = "setup dispatch " + std::to_string(i);
      if (d.condition() != fb::DispatchCondition::Always || (d.patches() && d.patches()->size() != 0)) {
        fail(what + ": has a condition or push patches, which no run sets before it");
      }
      for (const fb::WorkgroupCount* g : *d.groups()) {
        if (g->divisor() != 0) fail(what + ": counts its workgroups by a chunk, which it has none of");
      }
      for (const fb::Binding* b : *d.bindings()) {
        const fb::BufferKind kind = s.buffers()->Get(b->buffer())->kind();
        if (kind != fb::BufferKind::Weight && kind != fb::BufferKind::Activation) {
          fail(what + ": binds buffer " + std::to_string(b->buffer()) + ", neither a weight nor an activation buffer");
        }
      }
    }
  }

  void checkList(const fb::Schedule& s, const char* list, const flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>& dispatches) const {
    if (dispatches.size() == 0) fail(std::string(list) + " has no dispatches");
    for (std::uint32_t i = 0; i < dispatches.size(); ++i) {
      const fb::Dispatch& d = *dispatches.Get(i);
      const std::string what = std::string(list) + " dispatch " + std::to_string(i);
      if (d.kernel() >= s.kernels()->size()) fail(what + ": kernel index " + std::to_string(d.kernel()) + " out of range");
      const fb::KernelModule& k = *s.kernels()->Get(d.kernel());
      const std::vector<std::uint32_t> sizes = arraySizes(k);
      const std::uint32_t descriptors = std::accumulate(sizes.begin(), sizes.end(), 0u);
      if (!d.bindings() || d.bindings()->size() != descriptors) {
        fail(what + ": " + std::to_string(d.bindings() ? d.bindings()->size() : 0) + " bindings, kernel takes " +
             std::to_string(descriptors));
      }
      for (const fb::Binding* b : *d.bindings()) {
        if (b->buffer() >= s.buffers()->size()) fail(what + ": binding names buffer " + std::to_string(b->buffer()));
        const std::uint64_t size = fixedBytes(*s.buffers()->Get(b->buffer()));
        const bool sized_at_run_time = size == 0;
        if (b->offset() % kBindingAlignment != 0 || b->range() > kMaxBindingRange ||
            (sized_at_run_time && (b->offset() != 0 || b->range() != 0)) ||
            (!sized_at_run_time && (b->offset() > size || b->range() > size - b->offset() ||
                                    (b->range() == 0 && size - b->offset() > kMaxBindingRange)))) {
          fail(what + ": binding [" + std::to_string(b->offset()) + ", +" + std::to_string(b->range()) +
               ") does not lie inside buffer " + std::to_string(b->buffer()) + " as one aligned binding");
        }
      }
      const std::uint32_t words = k.push_constant_bytes() / 4;
      if (!d.push_constants() || d.push_constants()->size() != words) {
        fail(what + ": push constants are not the kernel's " + std::to_string(words) + " words");
      }
      if (d.patches()) {
        for (const fb::PushPatch* p : *d.patches()) {
          if (p->word() >= words || p->value() > fb::ChunkValue::MAX) fail(what + ": push patch out of range");
        }
      }
      if (!d.groups() || d.groups()->size() != 3) fail(what + ": workgroup counts are not 3");
      for (const fb::WorkgroupCount* g : *d.groups()) {
        if (g->fixed() == 0 || g->value() > fb::ChunkValue::MAX || g->value() == fb::ChunkValue::Context) {
          fail(what + ": workgroup count out of range");
        }
      }
      if (d.condition() > fb::DispatchCondition::MAX) fail(what + ": unknown condition");
    }
  }

  const fb::Header& header_;
  std::string name_;
};

}  // namespace

void checkSchedule(const fb::Header& header, const std::string& name) {
  if (header.schedule()) ScheduleChecker(header, name).check(*header.schedule());
}

}  // namespace unicorn
