// YamlToJson: a YAML node (an `external` plugin's `options:`) as JSON text, the form the C ABI hands to a
// plugin's create().
//
// Faithful to what YAML means, by the YAML 1.2 core schema: a plain scalar that reads as null (~, null,
// empty), a boolean (true, false, True, FALSE, ...), an integer (42, -7, +3, 0o17, 0x1F) or a float (1.5,
// .5, 1e3, 1.) becomes a JSON null, boolean or number; quoted and block scalars, and `!!str` ones, stay
// strings, so '42' is "42". Numbers are written as JSON spells them (0x1F as 31, .5 as 0.5, +3 as 3) but
// keep their digits, so no precision is lost. Maps become objects (keys are strings), sequences arrays.
// Refused, with an error at the node through ctx: a key that is not a scalar, or null, or given twice; a
// float JSON has no number for (.inf, .nan); a hex or octal integer past 64 bits; another tag; text that
// is not valid UTF-8; output past 1 MiB (aliases can multiply a small file).
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "agent/config/schema.h"

namespace ferry::plugins {

// Appends node as JSON to out; returns false (after ctx.Fail under path) if it has no faithful JSON form.
bool YamlToJson(const YAML::Node& node, const std::string& path, config::ParseContext& ctx, std::string& out);

}  // namespace ferry::plugins
