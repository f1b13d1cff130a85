//===- UnicornAttrs.td - unicorn dialect attributes --------*- tablegen -*-===//
//
// The attributes the passes attach as they lower the graph: how a weight is
// stored (quantize), where an op runs (place), where a value lives (plan-memory)
// and how a dispatch binds, patches and sizes itself (schedule).
//
//===----------------------------------------------------------------------===//

#ifndef UNICORN_ATTRS_TD
#define UNICORN_ATTRS_TD

include "ir/UnicornDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// quantize
//===----------------------------------------------------------------------===//

// How a weight is stored in the bundle. The quantize pass chooses it per
// weight; the graph builder starts every weight at `none`.
def Unicorn_QuantScheme : I32Enum<"QuantScheme", "weight storage scheme in the bundle", [
    // Stored as the checkpoint has it (bf16/f16/f32), no requantisation.
    I32EnumCase<"None", 0, "none">,
    // Symmetric int8 in blocks along K (the input dimension), one scale per block.
    I32EnumCase<"Q8", 1, "q8">,
    // Symmetric int4 in blocks along K, one scale per block.
    I32EnumCase<"Q4", 2, "q4">
  ]> {
  let cppNamespace = "::unicorn";
}

// Generic form: `#unicorn<quant q8>`; inside unicorn.weight just `q8`.
def Unicorn_QuantSchemeAttr : EnumAttr<Unicorn_Dialect, Unicorn_QuantScheme, "quant">;

//===----------------------------------------------------------------------===//
// place
//===----------------------------------------------------------------------===//

def Unicorn_Device : I32Enum<"Device", "the device an op executes on", [
    I32EnumCase<"Igpu", 0, "igpu">,
    I32EnumCase<"Npu", 1, "npu">
  ]> {
  let cppNamespace = "::unicorn";
}

// `#unicorn<device igpu>`, set by the place pass as the `unicorn.device`
// attribute of every op of the graph.
def Unicorn_DeviceAttr : EnumAttr<Unicorn_Dialect, Unicorn_Device, "device">;

//===----------------------------------------------------------------------===//
// plan-memory
//===----------------------------------------------------------------------===//

def Unicorn_KvPart : I32Enum<"KvPart", "half of a KV cache", [
    I32EnumCase<"Key", 0, "key">,
    I32EnumCase<"Value", 1, "value">
  ]> {
  let cppNamespace = "::unicorn";
}

def Unicorn_KvPartAttr : EnumAttr<Unicorn_Dialect, Unicorn_KvPart, "kv_part">;

// Where plan-memory put a [tokens, features] activation: the region
// [offset, offset + bytes) of the activation arena (offset a multiple of 256,
// room for a whole prefill chunk), holding the value's token t, feature f at
// float index `base + t * stride + f` of the region. A value of its own has
// base 0 and stride = its features; a view (unicorn.columns) shares its
// source's region with base moved to its first column; an in-place result
// (unicorn.rms_norm_add) shares its residual's.
def Unicorn_ArenaSlotAttr : AttrDef<Unicorn_Dialect, "ArenaSlot"> {
  let mnemonic = "arena";
  let summary = "a value's region of the activation arena";
  let parameters = (ins "uint64_t":$offset, "uint64_t":$bytes, "uint32_t":$base, "uint32_t":$stride);
  let assemblyFormat = "`<` struct(params) `>`";
}

// A value that plan-memory stores straight into a KV cache: row t goes to the
// slot of positions[t] in the `part` cache of `layer` (unicorn.kv_cache), so
// the op that makes it (a key's q/k-norm + RoPE) writes the cache itself.
def Unicorn_CacheSlotAttr : AttrDef<Unicorn_Dialect, "CacheSlot"> {
  let mnemonic = "cache";
  let summary = "a value written straight into a layer's KV cache";
  let parameters = (ins "int64_t":$layer, EnumParameter<Unicorn_KvPart>:$part);
  let assemblyFormat = "`<` struct(params) `>`";
}

//===----------------------------------------------------------------------===//
// schedule (mirrors schemas/schedule.fbs, which the bundle writer fills from it)
//===----------------------------------------------------------------------===//

// The buffers the schedule allocates besides weights and KV caches.
def Unicorn_BufferKind : I32Enum<"BufferKind", "what a unicorn.buffer holds", [
    // Device-local scratch: the activation arena.
    I32EnumCase<"Activations", 0, "activations">,
    // Host-visible uint32 words: ids [chunk], positions [chunk], sampling settings.
    I32EnumCase<"StepInput", 1, "step_input">,
    // Host-visible: the --dump-logits rows (lse, top-k).
    I32EnumCase<"Readout", 2, "readout">,
    // Decode's token id: the step input of the decode step before, where its
    // argmax or sample wrote it (no storage of its own; schedule.fbs).
    I32EnumCase<"PreviousStepInput", 3, "previous_step_input">
  ]> {
  let cppNamespace = "::unicorn";
}
def Unicorn_BufferKindAttr : EnumAttr<Unicorn_Dialect, Unicorn_BufferKind, "buffer_kind">;

// A quantity known only when a chunk runs (schedule.fbs, ChunkValue).
def Unicorn_ChunkValue : I32Enum<"ChunkValue", "a run-time quantity of a chunk", [
    I32EnumCase<"Tokens", 0, "tokens">,
    I32EnumCase<"LastToken", 1, "last_token">,
    I32EnumCase<"ReadoutRows", 2, "readout_rows">,
    I32EnumCase<"FirstReadoutRow", 3, "first_readout_row">,
    I32EnumCase<"LastReadoutRow", 4, "last_readout_row">,
    I32EnumCase<"Context", 5, "context">
  ]> {
  let cppNamespace = "::unicorn";
}

// When a dispatch runs (schedule.fbs, DispatchCondition).
def Unicorn_DispatchCondition : I32Enum<"DispatchCondition", "when a dispatch runs", [
    I32EnumCase<"Always", 0, "always">,
    I32EnumCase<"LogitsNeeded", 1, "logits_needed">,
    I32EnumCase<"DumpLogits", 2, "dump_logits">,
    I32EnumCase<"OneLogitsRow", 3, "one_logits_row">,
    I32EnumCase<"GreedyToken", 4, "greedy_token">,
    I32EnumCase<"SampledToken", 5, "sampled_token">
  ]> {
  let cppNamespace = "::unicorn";
}
def Unicorn_DispatchConditionAttr : EnumAttr<Unicorn_Dialect, Unicorn_DispatchCondition, "when">;

// `range` bytes of `buffer` from `offset` (a multiple of 256) bound to one
// binding; range 0: to the buffer's end (KV caches, sized by --ctx). `buffer`
// names a unicorn.buffer, unicorn.kv_cache or unicorn.weight.
def Unicorn_BindingAttr : AttrDef<Unicorn_Dialect, "Binding"> {
  let mnemonic = "bind";
  let summary = "a buffer range bound to one kernel binding";
  let parameters = (ins "::mlir::FlatSymbolRefAttr":$buffer, "uint64_t":$offset, "uint64_t":$range);
  let assemblyFormat = "`<` $buffer `,` $offset `,` $range `>`";
}

// Push-constant word `word` gains multiplier * value when the chunk runs:
// `#unicorn.patch<5 += tokens>`, `#unicorn.patch<0 += last_readout_row * 262144>`.
def Unicorn_PushPatchAttr : AttrDef<Unicorn_Dialect, "PushPatch"> {
  let mnemonic = "patch";
  let summary = "a push-constant word that depends on the chunk";
  let parameters = (ins "uint32_t":$word, EnumParameter<Unicorn_ChunkValue>:$value, "uint32_t":$multiplier);
  let hasCustomAssemblyFormat = 1;
}

// Workgroups along one axis: divisor 0 -> fixed; else fixed * ceil(value / divisor).
// `#unicorn.groups<8>`, `#unicorn.groups<tokens>`, `#unicorn.groups<2 * tokens / 64>`.
def Unicorn_WorkgroupCountAttr : AttrDef<Unicorn_Dialect, "WorkgroupCount"> {
  let mnemonic = "groups";
  let summary = "a workgroup count, fixed or scaled by a chunk quantity";
  let parameters = (ins "uint32_t":$fixed, EnumParameter<Unicorn_ChunkValue>:$value, "uint32_t":$divisor);
  let hasCustomAssemblyFormat = 1;
}

#endif // UNICORN_ATTRS_TD
