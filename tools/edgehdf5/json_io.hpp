#pragma once
// JSON <-> MemoryEntry for the CLI: the JSON-lines format that `import` reads and `export`
// writes, and the query vectors that `search` takes.
//
// One entry per line:
//   {"chunk": "...", "embedding": [0.1, ...], "source_channel": "chat", "timestamp": 1.7e9,
//    "session_id": "s1", "tags": "a,b"}
// `chunk` is required; `embedding` too unless the rules make it optional (then a line without
// one is embedded later by the file's embedder). The other fields default to "" (and the
// time of the import for `timestamp`). `tags` may also be an array of strings. Unknown fields
// (such as the "id" that `export` writes) are ignored, so an export can be imported again.
//
// Every function here throws edgehdf5::Error(invalid_argument) with a message that names
// the field, the element and, for JSON lines, the line at fault.

#include <cstddef>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgehdf5/entry.hpp"

namespace edgehdf5::cli {

// What a memory file accepts, so that a bad entry is refused with its line number before
// anything is written (the library would refuse it too, but without knowing the line).
enum class EmbeddingField {
  required,  // every entry must carry an "embedding"
  optional,  // an entry without one gets an empty embedding (to be computed by the caller)
  ignored,   // "embedding" is not read at all: every entry gets an empty one
};

struct EmbeddingRules {
  std::size_t embedding_dim = 0;
  bool float16 = false;  // values must also fit a half float
  EmbeddingField field = EmbeddingField::required;
};

// Parses a JSON array of numbers into an embedding that follows `rules`.
// `what` names the array in error messages (e.g. "embedding", "query vector").
std::vector<float> embedding_from_json(const nlohmann::json& array, const EmbeddingRules& rules,
                                       std::string_view what);

// Parses one JSON object into an entry. `now` is the timestamp of an entry without one.
MemoryEntry entry_from_json(const nlohmann::json& object, const EmbeddingRules& rules, double now);

struct JsonLines {
  std::vector<MemoryEntry> entries;
  std::vector<std::size_t> line_numbers;  // the line (from 1) each entry came from
};

// Reads JSON lines (blank lines skipped) into entries, all or nothing: the first bad line
// aborts with "<source_name>:<line>: <why>" (lines counted from 1). `progress`, when set, is
// called after each line with the number of bytes read so far.
JsonLines entries_from_jsonl(std::istream& input, std::string_view source_name,
                             const EmbeddingRules& rules, double now,
                             const std::function<void(std::size_t)>& progress = {});

// The export form of an entry: its "id", then the fields above in that order.
nlohmann::ordered_json entry_to_json(MemoryId id, const MemoryEntry& entry);

// `value` as one line of JSON. Invalid UTF-8 (possible in files written by other tools)
// is replaced rather than failing the whole output.
std::string json_line(const nlohmann::ordered_json& value);

// A float32 as the double with the shortest decimal text that reads back as the same
// float32, so JSON shows 0.1 rather than 0.10000000149011612.
double shortest_json_number(float value);

// The message of a nlohmann exception without its "[json.exception.parse_error.101] "
// prefix, which means nothing to a user.
std::string json_error_message(const nlohmann::json::exception& error);

}  // namespace edgehdf5::cli
