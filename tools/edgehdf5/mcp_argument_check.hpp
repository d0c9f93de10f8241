#pragma once
// Checks a tool call's arguments against the tool's inputSchema, for the subset of JSON
// Schema our schemas use: type (object, array, string, integer, number, boolean), properties,
// required, items, enum, minimum. Properties a schema does not list are ignored, as the
// reference server's zod schemas strip them.

#include <string>

#include <nlohmann/json.hpp>

namespace edgehdf5::cli::mcp {

// Empty when `value` fits `schema`; else what is wrong, naming the field by its path
// ("entities[2].name: expected a string, got a number").
std::string check_arguments(const nlohmann::json& schema, const nlohmann::json& value,
                            const std::string& path = "arguments");

}  // namespace edgehdf5::cli::mcp
