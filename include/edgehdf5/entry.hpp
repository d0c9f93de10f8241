#pragma once
// The records a memory file holds: memories, sessions, entities, relations.

#include <cstdint>
#include <string>
#include <vector>

namespace edgehdf5 {

// Stable identifier of a memory: increases in insertion order, never reused, and stays
// valid across compaction and reopen. Files without /memory/ids use the row number.
using MemoryId = std::int64_t;
using EntityId = std::int64_t;

// One remembered chunk of text and its embedding.
struct MemoryEntry {
  std::string chunk;              // valid UTF-8 without NUL bytes
  std::vector<float> embedding;   // exactly embedding_dim finite values
  std::string source_channel;     // e.g. "chat", "email"
  double timestamp = 0.0;         // seconds since the Unix epoch
  std::string session_id;
  std::string tags;               // comma-separated, e.g. "preference,ui"

  bool operator==(const MemoryEntry&) const = default;
};

// A summary of a conversation that covers the memories with ids in [start_id, end_id).
struct Session {
  std::string id;
  MemoryId start_id = 0;
  MemoryId end_id = 0;
  std::string channel;
  double timestamp = 0.0;
  std::string summary;

  bool operator==(const Session&) const = default;
};

struct Entity {
  EntityId id = 0;
  std::string name;
  std::string type;
  MemoryId embedding_id = -1;  // the memory whose embedding describes it, or -1

  bool operator==(const Entity&) const = default;
};

struct Relation {
  EntityId source = 0;
  EntityId target = 0;
  std::string type;     // e.g. "works_on"
  float weight = 1.0f;
  double timestamp = 0.0;

  bool operator==(const Relation&) const = default;
};

// A fact recorded about an entity (the reference MCP memory server's "observation"): free
// text, unique per entity. memory_id is the memory that holds the same text, so that searches
// over memories find it too, or -1.
struct Observation {
  EntityId entity = 0;
  std::string text;
  MemoryId memory_id = -1;

  bool operator==(const Observation&) const = default;
};

// One result of a search: the memory's id and its cosine similarity to the query.
struct SearchHit {
  MemoryId id = 0;
  float score = 0.0f;
};

}  // namespace edgehdf5
