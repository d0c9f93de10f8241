#include "mcp_argument_check.hpp"

#include <cmath>

namespace edgehdf5::cli::mcp {
namespace {

const char* kind_of(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "an integer";
  }
}

bool is_whole(const nlohmann::json& value) {
  if (value.is_number_integer()) return true;
  if (!value.is_number_float()) return false;
  const double number = value.get<double>();
  return std::isfinite(number) && std::floor(number) == number;
}

bool has_type(const nlohmann::json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "number") return value.is_number();
  if (type == "integer") return is_whole(value);
  return true;
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

}  // namespace

std::string check_arguments(const nlohmann::json& schema, const nlohmann::json& value,
                            const std::string& path) {
  if (const auto type = schema.find("type"); type != schema.end() && type->is_string()) {
    const std::string wanted = *type;
    if (!has_type(value, wanted)) {
      return path + ": expected " + (wanted == "integer" ? "an integer"
                                     : wanted == "array" || wanted == "object"
                                         ? "an " + wanted
                                         : "a " + wanted) +
             ", got " + kind_of(value);
    }
  }
  if (const auto choices = schema.find("enum"); choices != schema.end()) {
    bool found = false;
    for (const auto& choice : *choices) found = found || choice == value;
    if (!found) return path + ": must be one of " + choices->dump();
  }
  if (const auto minimum = schema.find("minimum"); minimum != schema.end() && value.is_number()) {
    if (value.get<double>() < minimum->get<double>()) {
      return path + ": must be at least " + minimum->dump();
    }
  }
  if (value.is_object()) {
    if (const auto required = schema.find("required"); required != schema.end()) {
      for (const auto& name : *required) {
        if (!value.contains(name.get<std::string>())) {
          return join(path, name.get<std::string>()) + ": required";
        }
      }
    }
    if (const auto properties = schema.find("properties"); properties != schema.end()) {
      for (const auto& [name, property] : properties->items()) {
        const auto field = value.find(name);
        if (field == value.end()) continue;
        std::string problem = check_arguments(property, *field, join(path, name));
        if (!problem.empty()) return problem;
      }
    }
  }
  if (value.is_array()) {
    if (const auto items = schema.find("items"); items != schema.end()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        std::string problem =
            check_arguments(*items, value[i], path + "[" + std::to_string(i) + "]");
        if (!problem.empty()) return problem;
      }
    }
  }
  return {};
}

}  // namespace edgehdf5::cli::mcp
