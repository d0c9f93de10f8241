#include "store/changes.hpp"

#include <algorithm>
#include <cmath>

#include "edgehdf5/error.hpp"
#include "edgehdf5/search.hpp"
#include "store/byte_codec.hpp"

namespace edgehdf5::store {
namespace {

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(ErrorCode::corruption, "log record does not fit the file: " + what);
}

// The bytes of one row of a save_batch record besides its four texts: their lengths, the
// timestamp and the embedding. The encoder sizes its payload by it, replay bounds a count.
std::size_t row_bytes_without_texts(std::size_t dim, bool half) {
  return 4 * sizeof(std::uint32_t) + sizeof(double) +
         dim * (half ? sizeof(half_bits) : sizeof(float));
}

void apply_save_batch(StoreState& state, ByteReader& reader) {
  MemoryColumns& columns = state.columns;
  const auto first_id = reader.get<std::int64_t>();
  const auto count = reader.get<std::uint32_t>();
  const auto half = reader.get<std::uint8_t>() != 0;
  const auto dim = reader.get<std::uint32_t>();
  if (first_id < state.next_id) corrupt("save of id " + std::to_string(first_id) + " again");
  if (dim != columns.embedding_dim || half != (columns.embedding_type == EmbeddingType::float16)) {
    corrupt("embedding layout differs from the file's");
  }
  // The count sizes the reserve below, so it is checked against the bytes that follow before
  // anything is allocated: a record that passed its checksum may still be foreign, and a
  // count of 2^32 would otherwise ask for 64 GiB per column instead of being refused.
  if (count > reader.remaining() / row_bytes_without_texts(dim, half)) {
    corrupt("save of " + std::to_string(count) + " rows in " +
            std::to_string(reader.remaining()) + " bytes");
  }
  // Grow geometrically: an exact reserve per batch would copy the whole matrix every time.
  columns.for_each_column([&](const MemoryColumn& column, auto& values) {
    const std::size_t needed = (columns.rows() + count) * column.values_per_row;
    if (needed > values.capacity()) values.reserve(std::max(needed, values.capacity() * 2));
  });
  std::vector<float> widened(half ? dim : 0);
  for (std::uint32_t i = 0; i < count; ++i) {
    columns.ids.push_back(first_id + i);
    columns.chunks.push_back(reader.get_string());
    columns.source_channels.push_back(reader.get_string());
    columns.timestamps.push_back(reader.get<double>());
    columns.session_ids.push_back(reader.get_string());
    columns.tags.push_back(reader.get_string());
    columns.tombstones.push_back(0);
    if (half) {
      const std::size_t offset = columns.embeddings_f16.size();
      columns.embeddings_f16.resize(offset + dim);
      reader.get_array(std::span<half_bits>(columns.embeddings_f16.data() + offset, dim));
      // The norm of what is stored (the rounded values), so cosine scores stay exact.
      halves_to_floats(std::span<const half_bits>(columns.embeddings_f16.data() + offset, dim), widened);
      columns.norms.push_back(compute_norm(widened));
    } else {
      const std::size_t offset = columns.embeddings_f32.size();
      columns.embeddings_f32.resize(offset + dim);
      const std::span<float> row(columns.embeddings_f32.data() + offset, dim);
      reader.get_array(row);
      columns.norms.push_back(compute_norm(row));
    }
  }
  state.next_id = first_id + count;
}

void apply_remove(StoreState& state, ByteReader& reader) {
  const auto id = reader.get<std::int64_t>();
  const std::ptrdiff_t row = state.columns.row_of(id);
  if (row < 0 || state.columns.tombstones[static_cast<std::size_t>(row)]) {
    corrupt("remove of id " + std::to_string(id) + " that is not active");
  }
  state.columns.tombstones[static_cast<std::size_t>(row)] = 1;
  ++state.tombstoned;
}

void apply_add_session(StoreState& state, ByteReader& reader) {
  Session session;
  session.id = reader.get_string();
  session.start_id = reader.get<std::int64_t>();
  session.end_id = reader.get<std::int64_t>();
  session.channel = reader.get_string();
  session.timestamp = reader.get<double>();
  session.summary = reader.get_string();
  state.sessions.push_back(std::move(session));
}

void apply_add_entity(StoreState& state, ByteReader& reader) {
  Entity entity;
  entity.id = reader.get<std::int64_t>();
  entity.name = reader.get_string();
  entity.type = reader.get_string();
  entity.embedding_id = reader.get<std::int64_t>();
  if (state.graph.contains(entity.id)) corrupt("entity " + std::to_string(entity.id) + " again");
  state.graph.add_entity(std::move(entity));
}

void apply_add_relation(StoreState& state, ByteReader& reader) {
  Relation relation;
  relation.source = reader.get<std::int64_t>();
  relation.target = reader.get<std::int64_t>();
  relation.type = reader.get_string();
  relation.weight = reader.get<float>();
  relation.timestamp = reader.get<double>();
  if (!state.graph.contains(relation.source) || !state.graph.contains(relation.target)) {
    corrupt("relation between unknown entities");
  }
  state.graph.add_relation(std::move(relation));
}

void apply_add_observation(StoreState& state, ByteReader& reader) {
  Observation observation;
  observation.entity = reader.get<std::int64_t>();
  observation.text = reader.get_string();
  observation.memory_id = reader.get<std::int64_t>();
  if (!state.graph.contains(observation.entity)) corrupt("observation of an unknown entity");
  state.graph.add_observation(std::move(observation));
}

void apply_remove_entity(StoreState& state, ByteReader& reader) {
  const auto id = reader.get<std::int64_t>();
  if (!state.graph.remove_entity(id)) corrupt("removal of unknown entity " + std::to_string(id));
}

void apply_remove_relations(StoreState& state, ByteReader& reader) {
  const auto source = reader.get<std::int64_t>();
  const auto target = reader.get<std::int64_t>();
  const std::string type = reader.get_string();
  if (state.graph.remove_relations(source, target, type) == 0) {
    corrupt("removal of a relation that is not there");
  }
}

void apply_remove_observation(StoreState& state, ByteReader& reader) {
  const auto id = reader.get<std::int64_t>();
  const std::string text = reader.get_string();
  if (!state.graph.remove_observation(id, text)) {
    corrupt("removal of an observation that is not there");
  }
}

}  // namespace

std::string encode_add_observation(const Observation& observation) {
  std::string payload;
  ByteWriter writer(payload);
  writer.put<std::int64_t>(observation.entity);
  writer.put_string(observation.text);
  writer.put<std::int64_t>(observation.memory_id);
  return payload;
}

std::string encode_remove_entity(EntityId id) {
  std::string payload;
  ByteWriter(payload).put<std::int64_t>(id);
  return payload;
}

std::string encode_remove_relations(EntityId source, EntityId target, const std::string& type) {
  std::string payload;
  ByteWriter writer(payload);
  writer.put<std::int64_t>(source);
  writer.put<std::int64_t>(target);
  writer.put_string(type);
  return payload;
}

std::string encode_remove_observation(EntityId id, const std::string& text) {
  std::string payload;
  ByteWriter writer(payload);
  writer.put<std::int64_t>(id);
  writer.put_string(text);
  return payload;
}

std::string encode_save_batch(const StoreState& state, std::span<const MemoryEntry> entries) {
  const MemoryColumns& columns = state.columns;
  const bool half = columns.embedding_type == EmbeddingType::float16;
  const std::size_t dim = columns.embedding_dim;
  std::size_t size = 8 + 4 + 1 + 4;
  for (const MemoryEntry& entry : entries) {
    size += row_bytes_without_texts(dim, half) + entry.chunk.size() +
            entry.source_channel.size() + entry.session_id.size() + entry.tags.size();
  }
  std::string payload;
  payload.reserve(size);
  ByteWriter writer(payload);
  writer.put<std::int64_t>(state.next_id);
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(entries.size()));
  writer.put<std::uint8_t>(half ? 1 : 0);
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(dim));
  std::vector<half_bits> narrowed(half ? dim : 0);
  for (const MemoryEntry& entry : entries) {
    writer.put_string(entry.chunk);
    writer.put_string(entry.source_channel);
    writer.put(entry.timestamp);
    writer.put_string(entry.session_id);
    writer.put_string(entry.tags);
    if (half) {
      floats_to_halves(entry.embedding, narrowed);
      writer.put_array(std::span<const half_bits>(narrowed));
    } else {
      writer.put_array(std::span<const float>(entry.embedding));
    }
  }
  return payload;
}

std::string encode_remove(MemoryId id) {
  std::string payload;
  ByteWriter(payload).put<std::int64_t>(id);
  return payload;
}

std::string encode_add_session(const Session& session) {
  std::string payload;
  ByteWriter writer(payload);
  writer.put_string(session.id);
  writer.put<std::int64_t>(session.start_id);
  writer.put<std::int64_t>(session.end_id);
  writer.put_string(session.channel);
  writer.put(session.timestamp);
  writer.put_string(session.summary);
  return payload;
}

std::string encode_add_entity(const Entity& entity) {
  std::string payload;
  ByteWriter writer(payload);
  writer.put<std::int64_t>(entity.id);
  writer.put_string(entity.name);
  writer.put_string(entity.type);
  writer.put<std::int64_t>(entity.embedding_id);
  return payload;
}

std::string encode_add_relation(const Relation& relation) {
  std::string payload;
  ByteWriter writer(payload);
  writer.put<std::int64_t>(relation.source);
  writer.put<std::int64_t>(relation.target);
  writer.put_string(relation.type);
  writer.put(relation.weight);
  writer.put(relation.timestamp);
  return payload;
}

void apply_change(StoreState& state, RecordType type, std::string_view payload) {
  ByteReader reader(payload);
  switch (type) {
    case RecordType::save_batch:
      apply_save_batch(state, reader);
      break;
    case RecordType::remove:
      apply_remove(state, reader);
      break;
    case RecordType::add_session:
      apply_add_session(state, reader);
      break;
    case RecordType::add_entity:
      apply_add_entity(state, reader);
      break;
    case RecordType::add_relation:
      apply_add_relation(state, reader);
      break;
    case RecordType::add_observation:
      apply_add_observation(state, reader);
      break;
    case RecordType::remove_entity:
      apply_remove_entity(state, reader);
      break;
    case RecordType::remove_relations:
      apply_remove_relations(state, reader);
      break;
    case RecordType::remove_observation:
      apply_remove_observation(state, reader);
      break;
    default:
      corrupt("unknown record type " + std::to_string(static_cast<int>(type)));
  }
  if (!reader.done()) corrupt("trailing bytes in a record");
}

}  // namespace edgehdf5::store
