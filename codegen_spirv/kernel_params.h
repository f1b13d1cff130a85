// A kernel specialisation as the schedule states it (unicorn.kernel in the IR):
// the library kernel's name and its model-level parameters by name. specialise()
// turns it into the kernel's defines through the typed front doors of
// kernel_specs.h, which check every constraint the kernel relies on.
//
// This header is plain C++ (no exceptions thrown here, no MLIR) so that the
// compiler's MLIR side can describe kernels in these terms and hand them over.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "codegen_spirv/kernel_specs.h"

namespace unicorn::spirv {

using KernelParam = std::variant<bool, std::int64_t, double>;
using KernelParams = std::map<std::string, KernelParam, std::less<>>;

// The kernel `kernel` specialised by `params`. Throws Error(kInvalidInput)
// naming the kernel for an unknown kernel, a missing, extra or mistyped
// parameter, or values kernel_specs.h refuses.
KernelRequest specialise(std::string_view kernel, const KernelParams& params);

}  // namespace unicorn::spirv
