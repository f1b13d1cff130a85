#include "runtime/generation.h"

#include <algorithm>
#include <string>

#include "runtime/error.h"

namespace unicorn {
void requireContextFits(std::uint32_t context, std::size_t prompt, std::uint64_t generated) {
  if (prompt == 0) throw Error(ExitCode::kInvalidInput, "the prompt is empty: nothing to generate from");
  if (prompt + generated > context) {
    throw Error(ExitCode::kInvalidInput,
                "--ctx " + std::to_string(context) + " is too small: the prompt of " +
                    std::to_string(prompt) + " tokens plus --max-tokens " + std::to_string(generated) + " needs " +
                    std::to_string(prompt + generated) + " positions");
  }
}

namespace {

// Prefills `prompt` chunk by chunk; logits only from the last chunk unless
// `on_readout`, which then sees every position's readout as its chunk finishes.
void prefillPrompt(ScheduleExecutor& executor, std::span<const std::int32_t> prompt,
                   const std::function<void(const LogitsReadout&)>* on_readout) {
  const std::size_t chunk = on_readout ? executor.readoutChunk() : executor.prefillChunk();
  std::vector<LogitsReadout> readout;
  for (std::size_t begin = 0; begin < prompt.size(); begin += chunk) {
    const std::size_t count = std::min(chunk, prompt.size() - begin);
    const bool last = begin + count == prompt.size();
    readout.clear();
    executor.prefill(prompt.subspan(begin, count), static_cast<std::uint32_t>(begin), last,
                     on_readout ? &readout : nullptr);
    for (const LogitsReadout& row : readout) (*on_readout)(row);
  }
}

}  // namespace

std::vector<std::int32_t> generate(ScheduleExecutor& executor, std::span<const std::int32_t> prompt,
                                         const GenerationOptions& options,
                                         const std::function<void(std::int32_t)>& on_token) {
  requireContextFits(executor.context(), prompt.size(), options.max_tokens);
  std::vector<std::int32_t> generated;
  if (options.max_tokens == 0) return generated;
  prefillPrompt(executor, prompt, nullptr);
  std::int32_t token = executor.sampledToken();
  bool next_in_flight = false;  // the step feeding `token` is already submitted
  for (std::uint32_t position = static_cast<std::uint32_t>(prompt.size());; ++position) {
    generated.push_back(token);
    if (on_token) on_token(token);
    const bool eos = std::find(options.eos_ids.begin(), options.eos_ids.end(), token) != options.eos_ids.end();
    if ((eos && options.stop_at_eos) || generated.size() == options.max_tokens) break;
    if (!next_in_flight) executor.submitDecode(position);  // feeds `token` at `position`, samples the next
    // The step after it is queued before that token is known (the GPU feeds it
    // along), so the GPU never waits for this loop; if generation stops at that
    // token, the step's own is dropped.
    next_in_flight = generated.size() + 1 < options.max_tokens;
    if (next_in_flight) executor.submitDecode(position + 1);
    token = executor.finishDecode();
  }
  if (next_in_flight) executor.finishDecode();  // a token past the end: not wanted
  return generated;
}

void readPromptLogits(ScheduleExecutor& executor, std::span<const std::int32_t> prompt,
                      const std::function<void(const LogitsReadout&)>& on_position) {
  requireContextFits(executor.context(), prompt.size(), 0);
  prefillPrompt(executor, prompt, &on_position);
}

}  // namespace unicorn
