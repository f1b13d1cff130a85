// Sampling the next token from one row of logits, on the GPU, in transformers'
// order (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, then a
// draw from what is left, renormalised):
//   s_i = logit_i / temperature
//   top-k: keep the k largest s (k = 0 or k >= COUNT: all)
//   top-p: of those, keep the largest until their probability, renormalised
//          over the top-k set, reaches p: a token stays when the mass strictly
//          above it is < p, so the one crossing p stays and at least one token
//          always does (p >= 1: all)
//   draw:  u in [0, 1) from (seed, position); the token where the running sum
//          of exp(s_i - max s), over the kept tokens in vocabulary order,
//          first exceeds u times their total
// The id is written into the step input, where the next decode step's
// embedding reads it, as argmax.comp does for greedy decoding.
//
// How the sets are found without sorting 262144 logits: a radix select on the
// logits' order-preserving 32-bit keys, 8 bits per pass, from the top byte
// down. Each pass histograms the tokens that share the bits chosen so far
// (shared-memory atomics) and walks the bins from the largest down to the one
// where the running count (top-k) or mass (top-p) reaches the target; after 4
// passes the threshold key is exact and the set is {key >= threshold}. Logits
// equal to the threshold are all kept (a tie at the boundary keeps every tied
// token). Top-p mass is counted in 2^-31 fixed point (integer atomics; float
// atomics are an optional Vulkan feature): each token's share is rounded down
// by < 2^-31, so the boundary can move only when the mass above a token lies
// within COUNT * 2^-31 (1.2e-4 for Gemma's vocabulary) of p.
//
// The random number is a counter-based hash of (seed, position): the same
// seed, prompt and bundle give the same tokens on the same device, and
// decoding needs no random state carried between steps. It is a statistical
// mixer (lowbias32 rounds), not a cryptographic generator.
//
// Bindings: 0 logits (float), 1 the step input (uint words: reads the
// SamplingParams block and the position, writes the id).
// Push constants (SamplePush):
//   logits_base    element index in binding 0 of the row to sample
//   params_word    word index in binding 1 of SamplingParams (schemas/schedule.fbs):
//                  temperature (float bits, > 0), top_k (0: off), top_p (float
//                  bits; >= 1: off), seed low word, seed high word
//   position_word  word index in binding 1 of the row's position (the counter
//                  of the random stream)
//   out_word       word index in binding 1 that receives the token id
//
// Defines: COUNT (logits per row), WG_SIZE.
// Dispatch: (1, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "workgroup_reduce.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, set = 0, binding = 1) buffer StepInput { uint step_words[]; };

layout(push_constant) uniform SamplePush {
  uint logits_base;
  uint params_word;
  uint position_word;
  uint out_word;
} pc;

const uint kBins = 256u;
const uint kBlock = (uint(COUNT) + uint(WG_SIZE) - 1u) / uint(WG_SIZE);  // tokens per invocation in the draw
const float kMassOne = 2147483648.0;  // 2^31: top-p's fixed-point unit
#define kNegativeInfinity uintBitsToFloat(0xff800000u)

shared uint bin_weight[kBins];
shared uint select_prefix, select_target;
shared float block_mass[WG_SIZE];

// Monotone map from floats to uints: a < b exactly when key(a) < key(b) (no NaN here).
uint orderedKey(float x) {
  uint bits = floatBitsToUint(x);
  return (bits & 0x80000000u) != 0u ? ~bits : (bits | 0x80000000u);
}

// The tempered logit; NaN counts as -inf so it is never drawn.
float scaled(uint i, float inverse_temperature) {
  float x = logits[pc.logits_base + i] * inverse_temperature;
  return isnan(x) ? kNegativeInfinity : x;
}

uint mix32(uint x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// u in [0, 1) with 24 random bits, a function of (seed, position) alone.
float uniformDraw(uint seed_low, uint seed_high, uint position) {
  uint h = mix32(position ^ mix32(seed_high ^ mix32(seed_low ^ 0x9e3779b9u)));
  return float(h >> 8) * (1.0 / 16777216.0);
}

// The largest key t with weight(key >= t) >= target, over tokens with key >=
// floor_key; weight is 1 per token (mass_unit == 0) or its fixed-point mass
// floor(exp(s - s_max) * mass_unit). A target above the total weight is
// lowered to it (and raised to 1), so some token is always selected.
uint radixSelect(uint target, float inverse_temperature, float s_max, float mass_unit, uint floor_key) {
  uint prefix = 0u, mask = 0u;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (uint b = gl_LocalInvocationID.x; b < kBins; b += WG_SIZE) bin_weight[b] = 0u;
    barrier();
    for (uint i = gl_LocalInvocationID.x; i < uint(COUNT); i += WG_SIZE) {
      float s = scaled(i, inverse_temperature);
      uint key = orderedKey(s);
      if ((key & mask) != prefix || key < floor_key) continue;
      uint weight = mass_unit == 0.0 ? 1u : uint(exp(s - s_max) * mass_unit);
      if (weight != 0u) atomicAdd(bin_weight[(key >> uint(shift)) & 255u], weight);
    }
    barrier();
    if (gl_LocalInvocationID.x == 0u) {
      uint wanted = target;
      if (shift == 24) {
        uint total = 0u;
        for (uint b = 0u; b < kBins; ++b) total += bin_weight[b];
        wanted = clamp(wanted, 1u, max(total, 1u));
      }
      // From the largest bin down to the one where the running weight reaches
      // the target; `above` is what the bins before it hold.
      uint above = 0u, chosen = 0u;
      for (int b = int(kBins) - 1; b >= 0; --b) {
        uint weight = bin_weight[b];
        if (weight == 0u) continue;
        chosen = uint(b);
        if (above + weight >= wanted) break;
        above += weight;
      }
      select_prefix = prefix | (chosen << uint(shift));
      select_target = wanted - above;
    }
    barrier();
    prefix = select_prefix;
    target = select_target;
    mask |= 255u << uint(shift);
    barrier();  // everyone has read select_* before the next pass may write them
  }
  return prefix;
}

void main() {
  const float temperature = uintBitsToFloat(step_words[pc.params_word]);
  const uint top_k = step_words[pc.params_word + 1u];
  const float top_p = uintBitsToFloat(step_words[pc.params_word + 2u]);
  const uint seed_low = step_words[pc.params_word + 3u];
  const uint seed_high = step_words[pc.params_word + 4u];
  const uint position = step_words[pc.position_word];
  const float inverse_temperature = 1.0 / temperature;

  float local_max = kNegativeInfinity;
  for (uint i = gl_LocalInvocationID.x; i < uint(COUNT); i += WG_SIZE) {
    local_max = max(local_max, scaled(i, inverse_temperature));
  }
  const float s_max = workgroupMax(local_max);

  uint floor_key = 0u;
  if (top_k > 0u && top_k < uint(COUNT)) floor_key = radixSelect(top_k, inverse_temperature, s_max, 0.0, 0u);
  if (top_p < 1.0) {
    float local_mass = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < uint(COUNT); i += WG_SIZE) {
      float s = scaled(i, inverse_temperature);
      if (orderedKey(s) >= floor_key) local_mass += exp(s - s_max);
    }
    const float top_k_mass = workgroupSum(local_mass);  // >= 1: the largest token's exp(0)
    const uint target = uint(max(top_p, 0.0) * kMassOne);
    floor_key = radixSelect(target, inverse_temperature, s_max, kMassOne / top_k_mass, floor_key);
  }

  // The draw: invocation j owns tokens [j * kBlock, (j + 1) * kBlock), so the
  // per-invocation masses, taken in order, are the running sum in vocabulary order.
  const uint begin = min(gl_LocalInvocationID.x * kBlock, uint(COUNT));
  const uint end = min(begin + kBlock, uint(COUNT));
  float mass = 0.0;
  for (uint i = begin; i < end; ++i) {
    float s = scaled(i, inverse_temperature);
    if (orderedKey(s) >= floor_key) mass += exp(s - s_max);
  }
  block_mass[gl_LocalInvocationID.x] = mass;
  barrier();
  if (gl_LocalInvocationID.x != 0u) return;
  float total = 0.0;
  for (uint j = 0u; j < WG_SIZE; ++j) total += block_mass[j];
  const float r = uniformDraw(seed_low, seed_high, position) * total;
  // The block holding r, then the token inside it. Rounding can leave r at or
  // past the last running sum: the last kept token is then drawn.
  float running = 0.0;
  uint chosen = 0u;
  for (uint j = 0u; j < WG_SIZE; ++j) {
    if (block_mass[j] == 0.0) continue;
    chosen = j;
    if (r < running + block_mass[j]) break;
    running += block_mass[j];
  }
  uint token = min(chosen * kBlock, uint(COUNT) - 1u);
  for (uint i = chosen * kBlock; i < min(chosen * kBlock + kBlock, uint(COUNT)); ++i) {
    float s = scaled(i, inverse_temperature);
    if (orderedKey(s) < floor_key) continue;
    token = i;
    running += exp(s - s_max);
    if (r < running) break;
  }
  step_words[pc.out_word] = token;
}
