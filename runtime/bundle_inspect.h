// What `unicorn-exec BUNDLE --inspect` reports: what the bundle holds (model
// shape, tokenizer, chat template, weights) and what it needs (devices).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/bundle_view.h"

namespace unicorn {

// The report as JSON (for --json and for tests).
nlohmann::json inspectBundle(const BundleView& bundle);
// The same report as aligned human-readable lines.
std::string formatInspection(const nlohmann::json& report);

}  // namespace unicorn
