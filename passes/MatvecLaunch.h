// How a kind of decode product launches (SchedulePass's DecodeLaunches, the
// schedule pass options bf16-matvec / quant-matvec / dot-matvec and
// unicorn-compile --matvec-launch): rows per workgroup, the workgroup (0: by
// K), and the row groups the workgroup's rows are split over
// (codegen_spirv/kernels/matvec_rows.glsl). Plain C++, so the command line
// checks a value with the same parser the pass reads it with.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace unicorn {

// The kinds of decode product a launch is set for: the pass options
// KIND-matvec and unicorn-compile's --matvec-launch KIND=... alike.
inline constexpr std::array<std::string_view, 5> kMatvecLaunchKinds = {"bf16", "quant", "dot", "dot-q8", "narrow"};

inline bool isMatvecLaunchKind(std::string_view kind) {
  return std::find(kMatvecLaunchKinds.begin(), kMatvecLaunchKinds.end(), kind) != kMatvecLaunchKinds.end();
}

struct MatvecLaunch {
  std::uint32_t rows = 4, workgroup = 0, row_groups = 1;
};

// "ROWSxWORKGROUP" or "ROWSxWORKGROUPxGROUPS" (e.g. "4x64", "16x128x4"):
// decimal numbers of at most 6 digits, ROWS >= 1, GROUPS a power of two
// dividing ROWS. Whether GROUPS also divides the workgroup is the kernel's
// check (a workgroup of 0 is chosen by K later).
inline std::optional<MatvecLaunch> parseMatvecLaunch(std::string_view text) {
  std::uint32_t values[3] = {0, 0, 1};
  int count = 0;
  while (count < 3) {
    const std::size_t end = std::min(text.find('x'), text.size());
    const std::string_view digits = text.substr(0, end);
    if (digits.empty() || digits.size() > 6) return std::nullopt;
    auto [stop, error] = std::from_chars(digits.data(), digits.data() + digits.size(), values[count]);
    if (error != std::errc() || stop != digits.data() + digits.size()) return std::nullopt;
    ++count;
    if (end == text.size()) break;
    text.remove_prefix(end + 1);
    if (count == 3) return std::nullopt;  // a fourth field
  }
  const MatvecLaunch launch{values[0], values[1], values[2]};
  if (count < 2 || launch.rows == 0 || launch.row_groups == 0 || (launch.row_groups & (launch.row_groups - 1)) != 0 ||
      launch.rows % launch.row_groups != 0) {
    return std::nullopt;
  }
  return launch;
}

}  // namespace unicorn
