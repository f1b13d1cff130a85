// Generation over a ScheduleExecutor: the prompt in prefill chunks, then one
// replayed decode step per token, stopping at the model's eos ids or after
// max_tokens. The GPU picks each token (argmax, or the sample kernel after
// ScheduleExecutor::setSampling); only its id comes back.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/executor.h"

namespace unicorn {

struct GenerationOptions {
  std::uint32_t max_tokens = 64;
  bool stop_at_eos = true;
  std::vector<std::int32_t> eos_ids;  // model.eos_token_ids
};

// Error(kInvalidInput) naming --ctx unless a prompt of `prompt` tokens plus
// `generated` tokens fits a context of `context` positions (or the prompt is empty).
void requireContextFits(std::uint32_t context, std::size_t prompt, std::uint64_t generated);

// Throws Error(kInvalidInput) naming --ctx when the prompt plus max_tokens does
// not fit the executor's context. `on_token` sees every generated id as it arrives.
std::vector<std::int32_t> generate(ScheduleExecutor& executor, std::span<const std::int32_t> prompt,
                                         const GenerationOptions& options,
                                         const std::function<void(std::int32_t)>& on_token);

// --dump-logits: the readout (lse and top-k, and all logits when the executor
// captures them) of every prompt position, handed to `on_position` in order as
// each prefill chunk finishes; no generation.
void readPromptLogits(ScheduleExecutor& executor, std::span<const std::int32_t> prompt,
                      const std::function<void(const LogitsReadout&)>& on_position);

}  // namespace unicorn
