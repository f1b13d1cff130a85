#include "runtime/bundle_inspect.h"

#include <cinttypes>
#include <cstdio>
#include <map>

#include "runtime/schedule_check.h"

namespace unicorn {
namespace {

std::string mebibytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", bytes / (1024.0 * 1024.0));
  return text;
}

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

}  // namespace

namespace {

// The execution schedule in numbers: kernels, buffers by kind, dispatches per list.
nlohmann::json inspectSchedule(const fb::Header& h) {
  const fb::Schedule* s = h.schedule();
  if (!s) return {{"present", false}};
  std::uint64_t spirv_bytes = 0;
  for (const fb::KernelModule* k : *s->kernels()) spirv_bytes += std::uint64_t(k->spirv()->size()) * 4;
  std::uint64_t activation_bytes = 0;
  std::uint32_t weights = 0, kv_context = 0, kv_ring = 0;
  for (const fb::ScheduleBuffer* b : *s->buffers()) {
    if (b->kind() == fb::BufferKind::Weight) ++weights;
    if (b->kind() == fb::BufferKind::Activation) activation_bytes += b->bytes();
    if (b->kind() == fb::BufferKind::KeyCache) ++(b->capacity() == fb::KvCapacity::Context ? kv_context : kv_ring);
  }
  return {{"present", true},
          {"kernels", s->kernels()->size()},
          {"spirv_bytes", spirv_bytes},
          {"buffers", s->buffers()->size()},
          {"weight_buffers", weights},
          {"activation_bytes", activation_bytes},
          {"kv_layers_context_sized", kv_context},
          {"kv_layers_ring", kv_ring},
          {"prefill_chunk", s->prefill_chunk()},
          {"readout_rows", readoutRows(*s)},
          {"prefill_dispatches", s->prefill()->size()},
          {"decode_dispatches", s->decode()->size()},
          {"setup_dispatches", s->setup() ? s->setup()->size() : 0u}};
}

}  // namespace

nlohmann::json inspectBundle(const BundleView& bundle) {
  const fb::Header& h = bundle.header();
  const fb::TextModelConfig& m = *h.model();
  nlohmann::json report;
  char schema[16];
  std::snprintf(schema, sizeof(schema), "%08" PRIx32, bundle.preamble().schema_hash);
  report["file"] = {{"path", bundle.path().string()},
                    {"bytes", bundle.fileSize()},
                    {"format_version", bundle.preamble().format_version},
                    {"schema_hash", schema},
                    {"producer", str(h.producer())}};
  std::string pattern;
  for (bool sliding : *m.layer_is_sliding()) pattern += sliding ? 'S' : 'G';
  std::vector<int> eos;
  if (m.eos_token_ids()) eos.assign(m.eos_token_ids()->begin(), m.eos_token_ids()->end());
  report["model"] = {{"source_architecture", str(m.source_architecture())},
                     {"num_hidden_layers", m.num_hidden_layers()},
                     {"layer_pattern", pattern},
                     {"hidden_size", m.hidden_size()},
                     {"intermediate_size", m.intermediate_size()},
                     {"num_attention_heads", m.num_attention_heads()},
                     {"num_key_value_heads", m.num_key_value_heads()},
                     {"head_dim", m.head_dim()},
                     {"vocab_size", m.vocab_size()},
                     {"sliding_window", m.sliding_window()},
                     {"query_pre_attn_scalar", m.query_pre_attn_scalar()},
                     {"rms_norm_eps", m.rms_norm_eps()},
                     {"rope_global_base", m.rope_global_base()},
                     {"rope_global_linear_factor", m.rope_global_linear_factor()},
                     {"rope_local_base", m.rope_local_base()},
                     {"max_position_embeddings", m.max_position_embeddings()},
                     {"final_logit_softcapping", m.final_logit_softcapping()},
                     {"bos_token_id", m.bos_token_id()},
                     {"eos_token_ids", eos}};
  const fb::Tokenizer& tokenizer = *h.tokenizer();
  report["tokenizer"] = {
      {"pieces", tokenizer.piece_offsets() && tokenizer.piece_offsets()->size() ? tokenizer.piece_offsets()->size() - 1 : 0},
      {"merges", tokenizer.merges() ? tokenizer.merges()->size() : 0}};
  report["chat_template"] = {{"present", h.chat_template() && h.chat_template()->size() > 0},
                             {"chars", h.chat_template() ? h.chat_template()->size() : 0}};
  using CountAndBytes = std::pair<std::uint64_t, std::uint64_t>;
  std::map<std::string, CountAndBytes> by_dtype, by_scheme;
  std::uint64_t weight_bytes = 0;
  for (const fb::Tensor* t : *h.tensors()) {
    for (CountAndBytes* tally : {&by_dtype[dtypeName(t->dtype())], &by_scheme[quantSchemeName(t->quant())]}) {
      ++tally->first;
      tally->second += t->size();
    }
    weight_bytes += t->size();
  }
  auto tallies = [](const std::map<std::string, CountAndBytes>& by_name) {
    nlohmann::json json = nlohmann::json::object();
    for (const auto& [name, count_bytes] : by_name) json[name] = {{"tensors", count_bytes.first}, {"bytes", count_bytes.second}};
    return json;
  };
  report["weights"] = {{"tensors", h.tensors()->size()},
                       {"bytes", weight_bytes},
                       {"by_dtype", tallies(by_dtype)},
                       {"by_scheme", tallies(by_scheme)}};
  std::vector<std::string> devices;
  for (const flatbuffers::String* d : *h.required_devices()) devices.push_back(d->str());
  report["required_devices"] = devices;
  report["schedule"] = inspectSchedule(h);
  return report;
}

std::string formatInspection(const nlohmann::json& r) {
  const auto& f = r["file"];
  const auto& m = r["model"];
  char line[512];
  std::string out;
  auto add = [&](const char* label, const std::string& text) { out += std::string(label) + text + "\n"; };
  add("bundle     ", f["path"].get<std::string>() + " (" + mebibytes(f["bytes"]) + ", format " +
                        std::to_string(f["format_version"].get<int>()) + ", schema " +
                        f["schema_hash"].get<std::string>() + ", " + f["producer"].get<std::string>() + ")");
  std::snprintf(line, sizeof(line), "%s: %d layers [%s], hidden %d, intermediate %d, heads %d / kv %d x %d, vocab %d",
                m["source_architecture"].get<std::string>().c_str(), m["num_hidden_layers"].get<int>(),
                m["layer_pattern"].get<std::string>().c_str(), m["hidden_size"].get<int>(),
                m["intermediate_size"].get<int>(), m["num_attention_heads"].get<int>(),
                m["num_key_value_heads"].get<int>(), m["head_dim"].get<int>(), m["vocab_size"].get<int>());
  add("model      ", line);
  std::snprintf(line, sizeof(line),
                "sliding window %d, query scale 1/sqrt(%g), RoPE global base %g (linear x%g), local base %g",
                m["sliding_window"].get<int>(), m["query_pre_attn_scalar"].get<double>(),
                m["rope_global_base"].get<double>(), m["rope_global_linear_factor"].get<double>(),
                m["rope_local_base"].get<double>());
  add("attention  ", line);
  std::string eos;
  for (const auto& id : m["eos_token_ids"]) eos += (eos.empty() ? "" : ",") + std::to_string(id.get<int>());
  add("tokenizer  ", std::to_string(r["tokenizer"]["pieces"].get<int>()) + " pieces, " +
                         std::to_string(r["tokenizer"]["merges"].get<int>()) + " merges");
  add("tokens     ", "bos " + std::to_string(m["bos_token_id"].get<int>()) + ", eos " + eos);
  const auto& chat = r["chat_template"];
  add("chat       ", chat["present"].get<bool>() ? "template of " + std::to_string(chat["chars"].get<int>()) + " chars"
                                                 : "no template (--chat unavailable)");
  std::string dtypes;
  for (const auto& [name, d] : r["weights"]["by_dtype"].items()) {
    dtypes += (dtypes.empty() ? "" : ", ") + std::to_string(d["tensors"].get<int>()) + " " + name;
  }
  std::string quantised;
  for (const auto& [name, d] : r["weights"]["by_scheme"].items()) {
    if (name == "none") continue;
    quantised += (quantised.empty() ? "; quantised: " : ", ") + std::to_string(d["tensors"].get<int>()) + " " + name +
                 " (" + mebibytes(d["bytes"]) + ")";
  }
  dtypes += quantised;
  add("weights    ", std::to_string(r["weights"]["tensors"].get<int>()) + " tensors, " +
                         mebibytes(r["weights"]["bytes"]) + " (" + dtypes + ")");
  std::string devices;
  for (const auto& d : r["required_devices"]) devices += (devices.empty() ? "" : ", ") + d.get<std::string>();
  add("needs      ", devices);
  const auto& s = r["schedule"];
  if (s["present"].get<bool>()) {
    std::snprintf(line, sizeof(line),
                  "%d kernels (%s SPIR-V), %d buffers (%d weights, %s activation arena), KV: %d layers by --ctx, "
                  "%d rings; prefill %d dispatches per chunk of <= %d tokens (<= %d with --dump-logits), decode %d, "
                  "setup %d once when opened",
                  s["kernels"].get<int>(), mebibytes(s["spirv_bytes"]).c_str(), s["buffers"].get<int>(),
                  s["weight_buffers"].get<int>(), mebibytes(s["activation_bytes"]).c_str(),
                  s["kv_layers_context_sized"].get<int>(), s["kv_layers_ring"].get<int>(),
                  s["prefill_dispatches"].get<int>(), s["prefill_chunk"].get<int>(), s["readout_rows"].get<int>(),
                  s["decode_dispatches"].get<int>(), s["setup_dispatches"].get<int>());
    add("schedule   ", line);
  } else {
    add("schedule   ", "none: this bundle cannot generate (recompile it with this unicorn-compile)");
  }
  return out;
}

}  // namespace unicorn
