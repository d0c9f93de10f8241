#include "json_io.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>

#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"

namespace edgehdf5::cli {
namespace {

[[noreturn]] void refuse(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message);
}

// Built by appending: GCC 12 reports a false -Wrestrict for `"\"" + std::string(key)`.
std::string field_name(std::string_view key) {
  std::string name(1, '"');
  name.append(key).push_back('"');
  return name;
}

// Strings end up in HDF5 string datasets, which cannot hold NUL bytes.
std::string checked_string(const nlohmann::json& value, std::string_view key) {
  if (!value.is_string()) refuse(field_name(key) + " must be a string");
  auto text = value.get<std::string>();
  if (text.find('\0') != std::string::npos) refuse(field_name(key) + " contains a NUL character");
  return text;
}

std::string optional_string(const nlohmann::json& object, std::string_view key) {
  const auto field = object.find(key);
  return field == object.end() ? std::string{} : checked_string(*field, key);
}

// Tags are stored comma-separated, so an array element may not contain a comma itself.
std::string tags_from_json(const nlohmann::json& tags) {
  if (tags.is_string()) return checked_string(tags, "tags");
  if (!tags.is_array()) refuse("\"tags\" must be a string or an array of strings");
  std::string joined;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto element_name = "tags[" + std::to_string(i) + "]";
    const auto tag = checked_string(tags[i], element_name);
    if (tag.find(',') != std::string::npos) refuse(field_name(element_name) + " contains a comma");
    if (i > 0) joined += ',';
    joined += tag;
  }
  return joined;
}

double timestamp_from_json(const nlohmann::json& object, double now) {
  const auto field = object.find("timestamp");
  if (field == object.end()) return now;
  if (!field->is_number()) refuse("\"timestamp\" must be a number (seconds since the epoch)");
  const auto seconds = field->get<double>();
  if (!std::isfinite(seconds)) refuse("\"timestamp\" is not finite");
  return seconds;
}

}  // namespace

std::vector<float> embedding_from_json(const nlohmann::json& array, const EmbeddingRules& rules,
                                       std::string_view what) {
  if (!array.is_array()) refuse(std::string(what) + " must be a JSON array of numbers");
  if (array.size() != rules.embedding_dim) {
    refuse(std::string(what) + " has " + std::to_string(array.size()) + " values, expected " +
           std::to_string(rules.embedding_dim) + " (the file's embedding_dim)");
  }
  // Doubles beyond these limits would turn into infinity when narrowed for storage.
  const double largest =
      rules.float16 ? double{kHalfMax} : double{std::numeric_limits<float>::max()};
  const char* storage_type = rules.float16 ? "float16" : "float32";

  std::vector<float> embedding;
  embedding.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const auto element_name = std::string(what) + "[" + std::to_string(i) + "]";
    if (!array[i].is_number()) refuse(element_name + " is not a number: " + array[i].dump());
    const auto value = array[i].get<double>();
    if (!std::isfinite(value)) refuse(element_name + " is not finite");
    if (std::fabs(value) > largest) {
      refuse(element_name + " = " + array[i].dump() + " is outside the " + storage_type + " range");
    }
    embedding.push_back(static_cast<float>(value));
  }
  return embedding;
}

MemoryEntry entry_from_json(const nlohmann::json& object, const EmbeddingRules& rules, double now) {
  if (!object.is_object()) refuse("expected a JSON object, got " + std::string(object.type_name()));
  if (!object.contains("chunk")) refuse("missing required field " + field_name("chunk"));
  const bool has_embedding = object.contains("embedding");
  if (!has_embedding && rules.field == EmbeddingField::required) {
    refuse("missing required field " + field_name("embedding"));
  }
  MemoryEntry entry;
  entry.chunk = checked_string(object.at("chunk"), "chunk");
  if (has_embedding && rules.field != EmbeddingField::ignored) {
    entry.embedding = embedding_from_json(object.at("embedding"), rules, "\"embedding\"");
  }
  entry.source_channel = optional_string(object, "source_channel");
  entry.session_id = optional_string(object, "session_id");
  entry.timestamp = timestamp_from_json(object, now);
  if (const auto tags = object.find("tags"); tags != object.end())
    entry.tags = tags_from_json(*tags);
  return entry;
}

JsonLines entries_from_jsonl(std::istream& input, std::string_view source_name,
                             const EmbeddingRules& rules, double now,
                             const std::function<void(std::size_t)>& progress) {
  JsonLines lines;
  std::string line;
  std::size_t bytes_read = 0;
  for (std::size_t line_number = 1; std::getline(input, line); ++line_number) {
    bytes_read += line.size() + 1;
    if (progress) progress(bytes_read);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      nlohmann::json object;
      try {
        object = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& error) {
        refuse("invalid JSON: " + json_error_message(error));
      }
      lines.entries.push_back(entry_from_json(object, rules, now));
      lines.line_numbers.push_back(line_number);
    } catch (const Error& error) {
      throw Error(error.code(), std::string(source_name) + ":" + std::to_string(line_number) +
                                    ": " + error.what());
    }
  }
  if (input.bad()) {
    throw Error(ErrorCode::io, "cannot read " + std::string(source_name));
  }
  return lines;
}

nlohmann::ordered_json entry_to_json(MemoryId id, const MemoryEntry& entry) {
  auto embedding = nlohmann::ordered_json::array();
  for (const float value : entry.embedding) embedding.push_back(shortest_json_number(value));
  return {{"id", id},
          {"chunk", entry.chunk},
          {"embedding", std::move(embedding)},
          {"source_channel", entry.source_channel},
          {"timestamp", entry.timestamp},
          {"session_id", entry.session_id},
          {"tags", entry.tags}};
}

std::string json_line(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

double shortest_json_number(float value) {
  // to_chars without a precision gives the shortest text that round-trips the float;
  // reading that text as a double gives the double JSON will print as the same short text.
  char text[64];
  const auto written = std::to_chars(std::begin(text), std::end(text), value);
  double widened = 0.0;
  const auto parsed = std::from_chars(std::begin(text), written.ptr, widened);
  return parsed.ec == std::errc{} ? widened : double{value};
}

std::string json_error_message(const nlohmann::json::exception& error) {
  const std::string_view message = error.what();
  const auto prefix_end = message.find("] ");
  return std::string(prefix_end == std::string_view::npos ? message
                                                          : message.substr(prefix_end + 2));
}

}  // namespace edgehdf5::cli
