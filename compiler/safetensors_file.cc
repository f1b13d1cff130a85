#include "compiler/safetensors_file.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "runtime/error.h"

namespace unicorn {
namespace {

using nlohmann::json;

// The reference implementation (the `safetensors` crate) refuses headers above
// 100 MB; a 27B checkpoint's header is ~100 KB, so anything larger is corruption.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::size_t kLengthPrefixBytes = 8;

struct DTypeSpelling {
  const char* name;
  SafetensorsDType dtype;
  std::size_t size;
};
constexpr DTypeSpelling kDTypes[] = {
    {"F32", SafetensorsDType::kF32, 4},         {"F16", SafetensorsDType::kF16, 2},
    {"BF16", SafetensorsDType::kBF16, 2},       {"F64", SafetensorsDType::kF64, 8},
    {"I64", SafetensorsDType::kI64, 8},         {"I32", SafetensorsDType::kI32, 4},
    {"I16", SafetensorsDType::kI16, 2},         {"I8", SafetensorsDType::kI8, 1},
    {"U8", SafetensorsDType::kU8, 1},           {"BOOL", SafetensorsDType::kBool, 1},
    {"F8_E4M3", SafetensorsDType::kF8E4M3, 1},  {"F8_E5M2", SafetensorsDType::kF8E5M2, 1},
};

const DTypeSpelling& spellingOf(SafetensorsDType dtype) {
  for (const DTypeSpelling& s : kDTypes) {
    if (s.dtype == dtype) return s;
  }
  return kDTypes[0];  // unreachable: every enumerator is in the table
}

std::string shortDump(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Parses the header JSON, refusing duplicate keys at any depth: nlohmann keeps the
// last of two equal keys silently, which would hide a second tensor of the same name.
json parseHeaderJson(std::string_view text, const std::string& name) {
  std::vector<std::set<std::string>> keys_per_open_object;
  std::string duplicate;
  auto on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys_per_open_object.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!keys_per_open_object.empty()) keys_per_open_object.pop_back();
    } else if (event == json::parse_event_t::key && !keys_per_open_object.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_per_open_object.back().insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), on_event);
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    failInvalidInput(name + ": header is not valid JSON: " + what);
  }
  if (!duplicate.empty()) failInvalidInput(name + ": header names \"" + duplicate + "\" twice");
  return header;
}

std::uint64_t readLittleEndian64(const std::byte* p) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(p[i]);
  return value;
}

// Reads a JSON unsigned integer; shapes and offsets that are negative, fractional or
// beyond 2^64 (nlohmann turns those into floats) are refused.
std::uint64_t unsignedField(const json& value, const std::string& name, const std::string& what) {
  if (!value.is_number_unsigned()) {
    failInvalidInput(name + ": " + what + ": expected a non-negative integer, got " + shortDump(value));
  }
  return value.get<std::uint64_t>();
}

}  // namespace

std::size_t elementSize(SafetensorsDType dtype) { return spellingOf(dtype).size; }
const char* dtypeName(SafetensorsDType dtype) { return spellingOf(dtype).name; }

std::vector<SafetensorsEntry> SafetensorsFile::parse(std::span<const std::byte> bytes, const std::string& name) {
  const std::uint64_t file_size = bytes.size();
  if (file_size < kLengthPrefixBytes) {
    failInvalidInput(name + ": truncated: " + std::to_string(file_size) +
                     " bytes, too short for the 8-byte header length");
  }
  const std::uint64_t header_size = readLittleEndian64(bytes.data());
  if (header_size > file_size - kLengthPrefixBytes) {
    failInvalidInput(name + ": header length " + std::to_string(header_size) + " exceeds the " +
                     std::to_string(file_size - kLengthPrefixBytes) + " bytes after the length (truncated file?)");
  }
  if (header_size > kMaxHeaderBytes) {
    failInvalidInput(name + ": header length " + std::to_string(header_size) + " is above the 100 MB limit");
  }
  if (header_size < 2 || static_cast<char>(bytes[kLengthPrefixBytes]) != '{') {
    failInvalidInput(name + ": header does not start with '{' (not a safetensors file?)");
  }
  const std::string_view header_text(reinterpret_cast<const char*>(bytes.data() + kLengthPrefixBytes),
                                     static_cast<std::size_t>(header_size));
  const json header = parseHeaderJson(header_text, name);
  if (!header.is_object()) failInvalidInput(name + ": header is not a JSON object");

  const std::span<const std::byte> data = bytes.subspan(kLengthPrefixBytes + header_size);
  const std::uint64_t data_size = data.size();

  std::vector<SafetensorsEntry> entries;
  // (begin, end, index into entries) for the coverage check below.
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::size_t>> ranges;
  for (const auto& [key, info] : header.items()) {
    if (key == "__metadata__") {
      if (!info.is_object()) failInvalidInput(name + ": __metadata__: expected a JSON object");
      continue;
    }
    const std::string where = "tensor \"" + key + "\"";
    if (!info.is_object()) failInvalidInput(name + ": " + where + ": expected a JSON object, got " + shortDump(info));
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!info.contains(field)) failInvalidInput(name + ": " + where + ": missing \"" + field + "\"");
    }

    const json& dtype_json = info["dtype"];
    const DTypeSpelling* spelling = nullptr;
    if (dtype_json.is_string()) {
      for (const DTypeSpelling& s : kDTypes) {
        if (dtype_json.get_ref<const std::string&>() == s.name) spelling = &s;
      }
    }
    if (spelling == nullptr) {
      failInvalidInput(name + ": " + where + ": unsupported dtype " + shortDump(dtype_json));
    }

    const json& shape_json = info["shape"];
    if (!shape_json.is_array()) {
      failInvalidInput(name + ": " + where + ": shape: expected a list, got " + shortDump(shape_json));
    }
    std::vector<std::uint64_t> shape;
    // Element count with overflow checks; the byte length below must fit the file anyway.
    std::uint64_t elements = 1;
    bool overflow = false;
    for (const json& dim_json : shape_json) {
      const std::uint64_t dim = unsignedField(dim_json, name, where + " shape");
      shape.push_back(dim);
      if (dim != 0 && elements > std::numeric_limits<std::uint64_t>::max() / dim) overflow = true;
      elements *= dim;
    }
    std::uint64_t expected_bytes = 0;
    if (overflow || elements > std::numeric_limits<std::uint64_t>::max() / spelling->size) {
      overflow = true;
    } else {
      expected_bytes = elements * spelling->size;
    }

    const json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2) {
      failInvalidInput(name + ": " + where + ": data_offsets: expected [begin, end], got " + shortDump(offsets));
    }
    const std::uint64_t begin = unsignedField(offsets[0], name, where + " data_offsets");
    const std::uint64_t end = unsignedField(offsets[1], name, where + " data_offsets");
    if (begin > end) {
      failInvalidInput(name + ": " + where + ": data_offsets [" + std::to_string(begin) + ", " +
                       std::to_string(end) + "] end before begin");
    }
    if (end > data_size) {
      failInvalidInput(name + ": " + where + ": data_offsets end " + std::to_string(end) + " is past the " +
                       std::to_string(data_size) + " data bytes in the file (truncated file?)");
    }
    if (overflow || end - begin != expected_bytes) {
      failInvalidInput(name + ": " + where + ": " + std::to_string(end - begin) + " bytes, but dtype " +
                       spelling->name + " x shape " + shortDump(shape_json) + " needs " +
                       (overflow ? std::string("more than 2^64") : std::to_string(expected_bytes)));
    }
    ranges.emplace_back(begin, end, entries.size());
    entries.push_back(SafetensorsEntry{key, spelling->dtype, std::move(shape),
                                       data.subspan(static_cast<std::size_t>(begin),
                                                    static_cast<std::size_t>(end - begin)),
                                       kLengthPrefixBytes + header_size + begin});
  }

  // Like the reference implementation, the tensors must tile the data exactly: no
  // overlap (two tensors sharing bytes), no gap and nothing after the last tensor
  // (both signs of a corrupt or mis-written file).
  std::sort(ranges.begin(), ranges.end());
  std::uint64_t covered_to = 0;
  const std::string* previous_key = nullptr;
  for (const auto& [begin, end, index] : ranges) {
    const std::string& key = entries[index].key;
    if (begin < covered_to) {
      failInvalidInput(name + ": tensor \"" + key + "\" overlaps tensor \"" + *previous_key + "\" (bytes " +
                       std::to_string(begin) + " < " + std::to_string(covered_to) + ")");
    }
    if (begin > covered_to) {
      failInvalidInput(name + ": " + std::to_string(begin - covered_to) + " unused data bytes before tensor \"" +
                       key + "\"");
    }
    covered_to = end;
    previous_key = &key;
  }
  if (covered_to != data_size) {
    failInvalidInput(name + ": " + std::to_string(data_size - covered_to) +
                     " data bytes after the last tensor belong to no tensor");
  }
  return entries;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile file;
  file.file_ = MappedFile::open(path);
  file.entries_ = parse(file.file_.bytes(), path.string());
  return file;
}

}  // namespace unicorn
