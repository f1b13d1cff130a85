// The `unicorn` dialect and its attributes (the weight quantisation scheme).
// Ops are declared in ir/UnicornOps.h.
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "ir/UnicornDialect.h.inc"
#include "ir/UnicornEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/UnicornAttrs.h.inc"

namespace unicorn {

// The discardable attributes the passes leave on the IR, by the pass that sets them.
// place: on every op of the graph, a DeviceAttr.
inline constexpr llvm::StringLiteral kDeviceAttrName = "unicorn.device";
// plan-memory: on every op that makes an activation, an ArenaSlotAttr or CacheSlotAttr;
// on the module, the tokens per prefill chunk (i64).
inline constexpr llvm::StringLiteral kStorageAttrName = "unicorn.storage";
// plan-memory: on an op whose lowering needs memory of its own while it runs (split-K
// decode attention's partials), an ArenaSlotAttr.
inline constexpr llvm::StringLiteral kScratchAttrName = "unicorn.scratch";
inline constexpr llvm::StringLiteral kPrefillChunkAttrName = "unicorn.prefill_chunk";
// plan-memory, on the module: the most rows of logits a chunk computes (i64, at most
// the chunk): as many as one binding holds. --dump-logits reads out every row of a
// chunk, so it runs in chunks of at most this many tokens.
inline constexpr llvm::StringLiteral kReadoutRowsAttrName = "unicorn.readout_rows";
// schedule, on the module: the top-k the readout kernel keeps per row (i64), where the
// logits rows lie (a BindingAttr) and the step-input word of the sampling settings (i64).
inline constexpr llvm::StringLiteral kReadoutTopKAttrName = "unicorn.readout_top_k";
inline constexpr llvm::StringLiteral kLogitsAttrName = "unicorn.logits";
inline constexpr llvm::StringLiteral kSamplingParamsWordAttrName = "unicorn.sampling_params_word";

// Symbols the passes create: plan-memory's activation arena, and the entry points
// schedule lowers @forward to (and @setup, what the runtime runs once first).
inline constexpr llvm::StringLiteral kArenaSymbol = "arena";
inline constexpr llvm::StringLiteral kForwardSymbol = "forward";
inline constexpr llvm::StringLiteral kSetupProgramSymbol = "setup";
inline constexpr llvm::StringLiteral kPrefillProgramSymbol = "prefill";
inline constexpr llvm::StringLiteral kDecodeProgramSymbol = "decode";

}  // namespace unicorn
