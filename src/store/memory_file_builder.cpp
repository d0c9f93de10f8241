// MemoryFileBuilder: the store's own rules and writer behind a door that keeps a source's
// ids and timestamps. Each change is checked (store/validation.hpp, plus what only a builder
// can get wrong: a repeated entity id, ids that do not increase), then encoded and applied
// exactly as HDF5Memory commits a live call and recovery replays its log (store/changes.hpp),
// minus the log itself; write() is a snapshot's write (store::install_store_file) under the
// destination's writer lock.

#include "edgehdf5/memory_file_builder.hpp"

#include <limits>
#include <system_error>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/error.hpp"
#include "store/changes.hpp"
#include "store/checkpoint_file.hpp"
#include "store/posix_file.hpp"
#include "store/schema.hpp"
#include "store/sidecar_paths.hpp"
#include "store/validation.hpp"
#include "util/text.hpp"

namespace edgehdf5 {
namespace {

namespace fs = std::filesystem;
using store::RecordType;

}  // namespace

struct MemoryFileBuilder::Impl {
  store::StoreState state;
};

MemoryFileBuilder::MemoryFileBuilder(MemoryConfig config) : impl_(std::make_unique<Impl>()) {
  if (config.created_at.empty()) config.created_at = util::now_iso8601();
  store::validate_config(config);
  impl_->state = store::empty_state(config);
}

MemoryFileBuilder::MemoryFileBuilder(MemoryFileBuilder&&) noexcept = default;
MemoryFileBuilder& MemoryFileBuilder::operator=(MemoryFileBuilder&&) noexcept = default;
MemoryFileBuilder::~MemoryFileBuilder() = default;

MemoryId MemoryFileBuilder::add_memories(std::span<const MemoryEntry> entries) {
  return add_memories(impl_->state.next_id, entries);
}

MemoryId MemoryFileBuilder::add_memories(MemoryId first_id, std::span<const MemoryEntry> entries) {
  store::StoreState& state = impl_->state;
  if (first_id < state.next_id) {
    throw Error(ErrorCode::invalid_argument,
                "memory id " + std::to_string(first_id) + " does not follow the ids added (the " +
                    "next is at least " + std::to_string(state.next_id) + ")");
  }
  if (entries.empty()) return first_id;
  // The log record counts a batch in 32 bits, and ids must stay representable.
  if (entries.size() > std::numeric_limits<std::uint32_t>::max() ||
      first_id > std::numeric_limits<MemoryId>::max() - static_cast<MemoryId>(entries.size())) {
    throw Error(ErrorCode::invalid_argument,
                std::to_string(entries.size()) + " memories from id " + std::to_string(first_id) +
                    " are too many for one batch or run past the largest id");
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    store::validate_entry(entries[i], state.columns,
                          entries.size() == 1 ? -1 : static_cast<std::ptrdiff_t>(i));
  }
  // The record carries its first id as the state's next id (the gap, if any, is kept).
  const MemoryId previous_next = state.next_id;
  state.next_id = first_id;
  try {
    store::apply_change(state, RecordType::save_batch, store::encode_save_batch(state, entries));
  } catch (...) {
    state.next_id = previous_next;  // encoding allocates; nothing was applied
    throw;
  }
  return first_id;
}

void MemoryFileBuilder::tombstone(MemoryId id) {
  const MemoryColumns& columns = impl_->state.columns;
  const std::ptrdiff_t row = columns.row_of(id);
  if (row < 0 || columns.tombstones[static_cast<std::size_t>(row)]) {
    throw Error(ErrorCode::not_found, "no active memory with id " + std::to_string(id));
  }
  store::apply_change(impl_->state, RecordType::remove, store::encode_remove(id));
}

void MemoryFileBuilder::add_session(const Session& session) {
  store::validate_session(session);
  store::apply_change(impl_->state, RecordType::add_session, store::encode_add_session(session));
}

void MemoryFileBuilder::add_entity(const Entity& entity) {
  store::StoreState& state = impl_->state;
  if (state.graph.contains(entity.id)) {
    throw Error(ErrorCode::invalid_argument,
                "entity id " + std::to_string(entity.id) + " is used by an earlier entity");
  }
  store::validate_entity(entity, state.columns);
  store::apply_change(state, RecordType::add_entity, store::encode_add_entity(entity));
}

void MemoryFileBuilder::add_relation(const Relation& relation) {
  store::validate_relation(relation, impl_->state.graph);
  store::apply_change(impl_->state, RecordType::add_relation,
                      store::encode_add_relation(relation));
}

const MemoryConfig& MemoryFileBuilder::config() const noexcept { return impl_->state.config; }
std::size_t MemoryFileBuilder::memories() const noexcept { return impl_->state.columns.rows(); }
MemoryId MemoryFileBuilder::next_id() const noexcept { return impl_->state.next_id; }

void MemoryFileBuilder::write(const fs::path& path, const MemoryFileWriteOptions& options) const {
  const std::string& suffix = options.temporary_suffix;
  if (suffix.empty() || suffix.find('/') != std::string::npos) {
    throw Error(ErrorCode::invalid_argument,
                "temporary_suffix must be a non-empty file name suffix, got '" + suffix + "'");
  }
  // As a checkpoint or a snapshot: no store open for writing on `path` while we replace it.
  FileSystem& files = *posix_file_system();
  const store::FileLock lock = store::FileLock::acquire(store::lock_path_for(path), path);
  if (!options.replace) {
    for (const fs::path& existing : {path, store::log_path_for(path)}) {
      if (store::path_is_taken(files, existing)) {
        throw Error(ErrorCode::io, existing.string() + " already exists");
      }
    }
  }
  // The file is whole with its keyword index, as a store's checkpoint writes it: the first
  // keyword search of whoever opens it does not have to index every chunk.
  const store::StoreState& state = impl_->state;
  const KeywordIndexArrays keywords =
      BM25Index::build(state.columns.chunks.values(), state.columns.tombstones, {},
                       state.config.keyword_tokenizer)
          .to_arrays();
  store::install_store_file(files, path, path.string() + suffix, state, {nullptr, &keywords});
}

void MemoryFileBuilder::check_text(std::string_view text, std::string_view field) {
  if (!util::is_plain_text(text)) util::require_text(text, std::string(field));
}

}  // namespace edgehdf5
