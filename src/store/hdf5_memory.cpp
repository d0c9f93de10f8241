#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>

#include "edgehdf5/error.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/version.hpp"
#include "store/changes.hpp"
#include "store/posix_file.hpp"
#include "store/schema.hpp"
#include "store/wal.hpp"
#include "util/text.hpp"

namespace edgehdf5 {

using store::RecordType;
using store::StoreState;

namespace {

std::filesystem::path log_path_for(const std::filesystem::path& path) {
  return path.string() + ".wal";
}
std::filesystem::path lock_path_for(const std::filesystem::path& path) {
  return path.string() + ".lock";
}

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

constexpr std::size_t kMaxEmbeddingDim = 1 << 16;

void validate_config(const MemoryConfig& config) {
  if (config.path.empty()) throw Error(ErrorCode::invalid_argument, "path is empty");
  if (config.embedding_dim == 0 || config.embedding_dim > kMaxEmbeddingDim) {
    throw Error(ErrorCode::invalid_argument, "embedding_dim must be between 1 and " +
                                                 std::to_string(kMaxEmbeddingDim) + ", got " +
                                                 std::to_string(config.embedding_dim));
  }
  if (config.compression && (config.compression_level < 1 || config.compression_level > 9)) {
    throw Error(ErrorCode::invalid_argument,
                "compression_level must be 1..9, got " + std::to_string(config.compression_level));
  }
  if (!std::isfinite(config.compact_threshold) || config.compact_threshold < 0) {
    throw Error(ErrorCode::invalid_argument, "compact_threshold must be a finite number >= 0");
  }
  util::require_text(config.agent_id, "agent_id");
  util::require_text(config.embedder, "embedder");
  util::require_text(config.created_at, "created_at");
}

// `index` names the entry in a batch (messages say "entry 3: ..."); -1 for a single save.
// The name is built only when there is something to report: this runs for every save.
void validate_entry(const MemoryEntry& entry, const MemoryCache& cache, std::ptrdiff_t index) {
  const auto entry_name = [&] {
    return index < 0 ? std::string("entry") : "entry " + std::to_string(index);
  };
  const auto refuse = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, entry_name() + ": " + why);
  };
  const std::size_t dim = cache.embedding_dim;
  if (entry.embedding.empty()) refuse("embedding is empty");
  if (entry.embedding.size() != dim) {
    refuse("embedding has " + std::to_string(entry.embedding.size()) +
           " values, the store's embedding_dim is " + std::to_string(dim));
  }
  const float limit =
      cache.embedding_type == EmbeddingType::float16 ? kHalfMax : std::numeric_limits<float>::max();
  for (std::size_t i = 0; i < dim; ++i) {
    const float value = entry.embedding[i];
    if (std::fabs(value) <= limit) continue;  // false for NaN too
    if (std::isnan(value)) refuse("embedding value " + std::to_string(i) + " is NaN");
    if (std::isinf(value)) refuse("embedding value " + std::to_string(i) + " is infinite");
    refuse("embedding value " + std::to_string(i) + " (" + std::to_string(value) +
           ") is outside the float16 range");
  }
  if (!std::isfinite(entry.timestamp)) refuse("timestamp is not finite");
  const std::pair<const char*, const std::string*> texts[] = {
      {"chunk", &entry.chunk},
      {"source_channel", &entry.source_channel},
      {"session_id", &entry.session_id},
      {"tags", &entry.tags}};
  for (const auto& [field, text] : texts) {
    if (!util::is_plain_text(*text)) {
      util::require_text(*text, entry_name() + ": " + field);  // throws, saying what is wrong
    }
  }
}

// Writes `state` to `target` through a temporary beside it: fsync, then rename. A crash at
// any point leaves `target` as it was or complete.
void write_file_atomically(const std::filesystem::path& target, const StoreState& state,
                           const IVFPQData* index) {
  const std::filesystem::path temporary = target.string() + ".tmp";
  try {
    store::write_state_file(temporary, state, index);
    store::sync_file(temporary);
    store::rename_durably(temporary, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

}  // namespace

struct HDF5Memory::Impl {
  StoreState state;
  OpenOptions options;
  std::optional<store::FileLock> lock;
  std::optional<store::LogWriter> log;
  bool writable =
      false;  // fixed at open; read_only() must not look at `log`, which flush() replaces
  std::size_t replayed = 0;
  bool closed = false;
  // Set when an fsync failed: what reached the disk is then unknown (the kernel may have
  // dropped the dirty pages), so the handle refuses further writes until reopened.
  std::string failure;
  // The keyword index, built on first use (keyword_index()) and then kept current.
  mutable std::mutex keyword_mutex;
  mutable std::unique_ptr<BM25Index> keyword;
  // The IVF-PQ index. The file's /ivfpq arrays are read at open (`ann_stored`) and turned
  // into an index bound to the cache at its first use (bound_ann()), so a handle that never
  // searches approximately pays only for reading them. Once bound, every save is encoded
  // into it and compaction refreshes it; each checkpoint writes it back.
  mutable std::mutex ann_mutex;
  mutable std::optional<IVFPQData> ann_stored;
  mutable std::unique_ptr<IVFPQIndex> ann;
  mutable std::string ann_problem;  // why the file's group is unusable; empty when it is fine

  const std::filesystem::path& path() const { return state.config.path; }

  void require_open() const {
    if (closed) throw Error(ErrorCode::invalid_argument, path().string() + " is closed");
  }

  void require_writable() const {
    require_open();
    if (!log) {
      throw Error(ErrorCode::read_only, path().string() + " is open read-only");
    }
    if (!failure.empty()) {
      throw Error(ErrorCode::io, path().string() + " refuses writes after an earlier failure (" +
                                     failure + "); close and reopen it");
    }
  }

  void sync_log() {
    try {
      log->sync();
    } catch (const Error& error) {
      failure = error.what();
      throw;
    }
  }

  // Logs a change, then applies it. Nothing changes if the append throws.
  void commit(RecordType type, const std::string& payload) {
    require_writable();
    const std::uint64_t lsn = log->append(type, payload, /*sync=*/false);
    store::apply_change(state, type, payload);
    state.last_lsn = lsn;
    if (options.durability == Durability::every_write) sync_log();
  }

  // The index bound to the cache, binding the stored arrays first if need be; null when
  // there is none or it is unusable (ann_problem says why). REQUIRES: ann_mutex held.
  IVFPQIndex* bound_ann() const {
    if (ann_stored) {
      IVFPQData data = std::move(*ann_stored);
      ann_stored.reset();
      try {
        ann = std::make_unique<IVFPQIndex>(IVFPQIndex::from_data(std::move(data), state.cache));
      } catch (const Error& error) {
        ann_problem = path().string() + ": /ivfpq: " + error.what();
      }
    }
    return ann.get();
  }

  // After the cache changed: brings a bound index up to date. The change it follows has
  // already been committed, so a failure here must not fail it: the index is set aside
  // (searches fall back to the exact scan) and the reason kept for `index info`.
  void sync_ann() {
    if (!ann) return;
    try {
      ann->sync(state.cache);
    } catch (const Error& error) {
      ann.reset();
      ann_problem = std::string("the IVF-PQ index could not follow a change and was set aside (") +
                    error.what() + "); rebuild it";
    }
  }

  // What a checkpoint writes as /ivfpq: the bound index, else the arrays read at open.
  // A group this build could not read is not carried over (the index is derived data).
  std::optional<IVFPQData> ann_to_write() const {
    std::lock_guard lock(ann_mutex);
    if (ann) return ann->to_data();
    return ann_stored;
  }

  void write_file(const std::filesystem::path& target) const {
    const std::optional<IVFPQData> index = ann_to_write();
    write_file_atomically(target, state, index ? &*index : nullptr);
  }

  void checkpoint() {
    require_writable();
    write_file(path());
    state.checkpoint_lsn = state.last_lsn;
    // The file now holds everything; the old log's records are all <= checkpoint_lsn and
    // are skipped if a crash stops us before the new log is in place.
    log = store::LogWriter::create(log_path_for(path()), state.checkpoint_lsn);
  }

  void maybe_compact() {
    const double threshold = state.config.compact_threshold;
    if (threshold <= 0 || threshold >= 1 || state.cache.rows() == 0) return;
    const double fraction =
        static_cast<double>(state.tombstoned) / static_cast<double>(state.cache.rows());
    if (fraction > threshold) compact();
  }

  std::size_t compact() {
    require_writable();
    if (state.tombstoned == 0) return 0;
    MemoryCache& old_cache = state.cache;
    MemoryCache kept;
    kept.embedding_dim = old_cache.embedding_dim;
    kept.embedding_type = old_cache.embedding_type;
    const std::size_t dim = old_cache.embedding_dim;
    const bool half = old_cache.embedding_type == EmbeddingType::float16;
    for (std::size_t row = 0; row < old_cache.rows(); ++row) {
      if (old_cache.tombstones[row]) continue;
      kept.ids.push_back(old_cache.ids[row]);
      kept.chunks.push_back(std::move(old_cache.chunks[row]));
      kept.source_channels.push_back(std::move(old_cache.source_channels[row]));
      kept.timestamps.push_back(old_cache.timestamps[row]);
      kept.session_ids.push_back(std::move(old_cache.session_ids[row]));
      kept.tags.push_back(std::move(old_cache.tags[row]));
      kept.tombstones.push_back(0);
      kept.norms.push_back(old_cache.norms[row]);
      const auto offset = static_cast<std::ptrdiff_t>(row * dim);
      if (half) {
        kept.embeddings_f16.insert(
            kept.embeddings_f16.end(), old_cache.embeddings_f16.begin() + offset,
            old_cache.embeddings_f16.begin() + offset + static_cast<std::ptrdiff_t>(dim));
      } else {
        kept.embeddings_f32.insert(
            kept.embeddings_f32.end(), old_cache.embeddings_f32.begin() + offset,
            old_cache.embeddings_f32.begin() + offset + static_cast<std::ptrdiff_t>(dim));
      }
    }
    const std::size_t dropped = state.tombstoned;
    state.cache = std::move(kept);
    keyword.reset();  // rows moved; rebuilt at its next use
    {
      // The index drops the removed rows' codes and renumbers its rows, so the file the
      // checkpoint below writes refers only to memories it holds.
      std::lock_guard lock(ann_mutex);
      if (bound_ann() != nullptr) sync_ann();
    }
    state.tombstoned = 0;
    // Entities whose memory was dropped no longer have an embedding.
    KnowledgeGraph graph;
    for (Entity entity : state.graph.entities()) {
      if (entity.embedding_id >= 0 && state.cache.row_of(entity.embedding_id) < 0) {
        entity.embedding_id = -1;
      }
      graph.add_entity(std::move(entity));
    }
    for (const Relation& relation : state.graph.relations()) graph.add_relation(relation);
    state.graph = std::move(graph);
    checkpoint();
    return dropped;
  }

  void close() {
    if (closed) return;
    if (log && failure.empty()) {
      if (!log->empty()) {
        checkpoint();
      } else {
        sync_log();
      }
    }
    closed = true;
    log.reset();
    lock.reset();
  }
};

// ---- open and create -------------------------------------------------------------------------

HDF5Memory::HDF5Memory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HDF5Memory::HDF5Memory(HDF5Memory&&) noexcept = default;
HDF5Memory& HDF5Memory::operator=(HDF5Memory&& other) noexcept {
  if (this != &other) {
    if (impl_) {
      try {
        impl_->close();
      } catch (...) {  // as in the destructor
      }
    }
    impl_ = std::move(other.impl_);
  }
  return *this;
}

HDF5Memory::~HDF5Memory() {
  if (!impl_) return;
  try {
    impl_->close();
  } catch (...) {  // a destructor must not throw; close() reports errors
  }
}

HDF5Memory HDF5Memory::create(const MemoryConfig& requested, const OpenOptions& options) {
  MemoryConfig config = requested;
  if (config.created_at.empty()) config.created_at = util::now_iso8601();
  validate_config(config);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->options.read_only = false;
  impl->writable = true;
  impl->lock = store::FileLock::acquire(lock_path_for(config.path), config.path);
  if (std::filesystem::exists(config.path)) {
    throw Error(ErrorCode::io,
                config.path.string() + " already exists; open it, or remove it to start anew");
  }
  StoreState& state = impl->state;
  state.config = config;
  state.schema_version = kSchemaVersion;
  state.edgehdf5_version = kVersion;
  state.cache.embedding_dim = config.embedding_dim;
  state.cache.embedding_type = config.float16 ? EmbeddingType::float16 : EmbeddingType::float32;
  write_file_atomically(config.path, state, nullptr);
  impl->log = store::LogWriter::create(log_path_for(config.path), 0);
  return HDF5Memory(std::move(impl));
}

HDF5Memory HDF5Memory::open(const std::filesystem::path& path, const OpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const std::filesystem::path log_path = log_path_for(path);

  if (!options.read_only) {
    impl->writable = true;
    impl->lock = store::FileLock::acquire(lock_path_for(path), path);
    store::StoredIndex stored;
    impl->state = store::read_state_file(path, &stored);
    impl->ann_stored = std::move(stored.data);
    if (!stored.problem.empty()) impl->ann_problem = path.string() + ": " + stored.problem;
    // A checkpoint a crash interrupted; the file and the log hold everything it held.
    std::error_code ignored;
    std::filesystem::remove(path.string() + ".tmp", ignored);
    const store::LogContents contents = store::read_log(log_path);
    const std::uint64_t checkpoint = impl->state.checkpoint_lsn;
    if (contents.exists && contents.base_lsn > checkpoint) {
      throw Error(ErrorCode::corruption, log_path.string() + " continues from change " +
                                             std::to_string(contents.base_lsn) + " but " +
                                             path.string() + " holds changes up to " +
                                             std::to_string(checkpoint) +
                                             " only: the two files do not belong together");
    }
    for (const store::LogRecord& record : contents.records) {
      if (record.lsn <= checkpoint) continue;
      store::apply_change(impl->state, record.type, record.payload);
      impl->state.last_lsn = record.lsn;
      ++impl->replayed;
    }
    if (impl->replayed > 0) {
      impl->log = store::LogWriter::resume(log_path, contents);
    } else {
      // No log, or one the file already contains (a crash came between the rename of a
      // checkpoint and the log's reset): start an empty one.
      impl->log = store::LogWriter::create(log_path, checkpoint);
    }
    return HDF5Memory(std::move(impl));
  }

  // A reader takes no lock. A writer may checkpoint between our reading the file and its
  // log; we then see a log that starts after the file, and read both again.
  constexpr int kAttempts = 20;
  for (int attempt = 1;; ++attempt) {
    store::StoredIndex stored;
    StoreState state = store::read_state_file(path, &stored);
    const store::LogContents contents = store::read_log(log_path);
    if (contents.exists && contents.base_lsn > state.checkpoint_lsn) {
      if (attempt == kAttempts) {
        throw Error(ErrorCode::corruption, log_path.string() + " does not continue " +
                                               path.string() + " (read " +
                                               std::to_string(kAttempts) + " times)");
      }
      continue;
    }
    std::size_t replayed = 0;
    for (const store::LogRecord& record : contents.records) {
      if (record.lsn <= state.checkpoint_lsn) continue;
      store::apply_change(state, record.type, record.payload);
      state.last_lsn = record.lsn;
      ++replayed;
    }
    impl->state = std::move(state);
    impl->replayed = replayed;
    impl->ann_stored = std::move(stored.data);
    if (!stored.problem.empty()) impl->ann_problem = path.string() + ": " + stored.problem;
    return HDF5Memory(std::move(impl));
  }
}

// ---- changes ---------------------------------------------------------------------------------

MemoryId HDF5Memory::save(const MemoryEntry& entry) {
  return save_batch(std::span<const MemoryEntry>(&entry, 1)).front();
}

std::vector<MemoryId> HDF5Memory::save_batch(std::span<const MemoryEntry> entries) {
  impl_->require_writable();
  if (entries.empty()) return {};
  const MemoryCache& cache = impl_->state.cache;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    validate_entry(entries[i], cache, entries.size() == 1 ? -1 : static_cast<std::ptrdiff_t>(i));
  }
  const MemoryId first = impl_->state.next_id;
  const std::size_t first_row = cache.rows();
  impl_->commit(RecordType::save_batch, store::encode_save_batch(impl_->state, entries));
  if (impl_->keyword) {
    for (std::size_t row = first_row; row < cache.rows(); ++row)
      impl_->keyword->add(cache.chunks[row]);
  }
  impl_->sync_ann();
  std::vector<MemoryId> ids(entries.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = first + static_cast<MemoryId>(i);
  return ids;
}

void HDF5Memory::remove(MemoryId id) {
  impl_->require_writable();
  const std::ptrdiff_t row = impl_->state.cache.row_of(id);
  if (row < 0 || impl_->state.cache.tombstones[static_cast<std::size_t>(row)]) {
    throw Error(ErrorCode::not_found, "no active memory with id " + std::to_string(id));
  }
  impl_->commit(RecordType::remove, store::encode_remove(id));
  if (impl_->keyword) impl_->keyword->remove(static_cast<std::size_t>(row));
  impl_->maybe_compact();
}

std::size_t HDF5Memory::compact() { return impl_->compact(); }

void HDF5Memory::snapshot(const std::filesystem::path& destination) {
  impl_->require_open();
  std::error_code error;
  if (std::filesystem::equivalent(destination, impl_->path(), error)) {
    throw Error(ErrorCode::invalid_argument,
                "snapshot destination " + destination.string() + " is the store itself");
  }
  // The snapshot is a file without a log, holding every change applied so far. Holding the
  // destination's writer lock keeps us from replacing a store another process is writing,
  // and a log left there by an earlier store must go, or opening would replay it.
  const store::FileLock lock = store::FileLock::acquire(lock_path_for(destination), destination);
  impl_->write_file(destination);
  std::error_code ignored;
  std::filesystem::remove(log_path_for(destination), ignored);
}

void HDF5Memory::flush() {
  impl_->require_writable();
  impl_->sync_log();
  const std::uint64_t log_bytes = impl_->log->size_bytes();
  if (log_bytes > impl_->options.checkpoint_log_bytes &&
      log_bytes > file_size_or_zero(impl_->path())) {
    impl_->checkpoint();
  }
}

void HDF5Memory::checkpoint() { impl_->checkpoint(); }
void HDF5Memory::close() { impl_->close(); }

// ---- reads -----------------------------------------------------------------------------------

std::size_t HDF5Memory::count() const { return impl_->state.cache.rows(); }

std::size_t HDF5Memory::count_active() const {
  return impl_->state.cache.rows() - impl_->state.tombstoned;
}

MemoryEntry HDF5Memory::get(MemoryId id) const {
  impl_->require_open();
  const MemoryCache& cache = impl_->state.cache;
  const std::ptrdiff_t found = cache.row_of(id);
  if (found < 0 || cache.tombstones[static_cast<std::size_t>(found)]) {
    throw Error(ErrorCode::not_found, "no active memory with id " + std::to_string(id));
  }
  const auto row = static_cast<std::size_t>(found);
  MemoryEntry entry;
  entry.chunk = cache.chunks[row];
  entry.embedding = cache.embedding(row);
  entry.source_channel = cache.source_channels[row];
  entry.timestamp = cache.timestamps[row];
  entry.session_id = cache.session_ids[row];
  entry.tags = cache.tags[row];
  return entry;
}

std::vector<SearchHit> HDF5Memory::search(std::span<const float> query, std::size_t k) const {
  SearchOptions options;
  options.k = k;
  return search_with_metrics(query, options).hits;
}

SearchResults HDF5Memory::search_with_metrics(std::span<const float> query,
                                              SearchOptions options) const {
  impl_->require_open();
  // Only a search that may use the index binds it (a pass over its ids, once).
  const bool may_use_index = !options.strategy || options.strategy == Strategy::ivfpq;
  if (options.approximate.index == nullptr && may_use_index) {
    options.approximate.index = ivfpq_index();
  }
  return SearchEngine::shared().search(query, impl_->state.cache, options);
}

// ---- the IVF-PQ index --------------------------------------------------------------------------

IVFPQInfo HDF5Memory::build_ivfpq_index(const IVFPQParams& params) {
  impl_->require_writable();
  auto index = std::make_unique<IVFPQIndex>(IVFPQIndex::train(impl_->state.cache, params));
  {
    std::lock_guard lock(impl_->ann_mutex);
    impl_->ann = std::move(index);
    impl_->ann_stored.reset();
    impl_->ann_problem.clear();
  }
  impl_->checkpoint();
  return impl_->ann->info();
}

bool HDF5Memory::drop_ivfpq_index() {
  impl_->require_writable();
  bool had = false;
  {
    std::lock_guard lock(impl_->ann_mutex);
    had = impl_->ann || impl_->ann_stored || !impl_->ann_problem.empty();
    impl_->ann.reset();
    impl_->ann_stored.reset();
    impl_->ann_problem.clear();
  }
  if (had) impl_->checkpoint();
  return had;
}

const IVFPQIndex* HDF5Memory::ivfpq_index() const {
  impl_->require_open();
  std::lock_guard lock(impl_->ann_mutex);
  return impl_->bound_ann();
}

std::string HDF5Memory::ivfpq_problem() const {
  std::lock_guard lock(impl_->ann_mutex);
  impl_->bound_ann();  // binding is what finds arrays that do not fit the memories
  return impl_->ann_problem;
}

// ---- sessions and knowledge graph ------------------------------------------------------------

void HDF5Memory::add_session(const std::string& session_id, MemoryId start_id, MemoryId end_id,
                             const std::string& channel, const std::string& summary) {
  impl_->require_writable();
  if (session_id.empty()) throw Error(ErrorCode::invalid_argument, "session id is empty");
  util::require_text(session_id, "session id");
  util::require_text(channel, "session channel");
  util::require_text(summary, "session summary");
  if (start_id < 0 || end_id < start_id) {
    throw Error(ErrorCode::invalid_argument, "session range [" + std::to_string(start_id) + ", " +
                                                 std::to_string(end_id) +
                                                 ") is not a range of memory ids");
  }
  const Session session{session_id, start_id, end_id, channel, util::now_seconds(), summary};
  impl_->commit(RecordType::add_session, store::encode_add_session(session));
}

std::string HDF5Memory::get_session_summary(std::string_view session_id) const {
  const auto& sessions = impl_->state.sessions;
  const auto it = std::find_if(sessions.rbegin(), sessions.rend(),
                               [&](const Session& s) { return s.id == session_id; });
  if (it == sessions.rend()) {
    throw Error(ErrorCode::not_found, "no session '" + std::string(session_id) + "'");
  }
  return it->summary;
}

const std::vector<Session>& HDF5Memory::sessions() const { return impl_->state.sessions; }

EntityId HDF5Memory::add_entity(const std::string& name, const std::string& type,
                                MemoryId embedding_id) {
  impl_->require_writable();
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "entity name is empty");
  util::require_text(name, "entity name");
  util::require_text(type, "entity type");
  if (embedding_id != -1) {
    const std::ptrdiff_t row = impl_->state.cache.row_of(embedding_id);
    if (row < 0 || impl_->state.cache.tombstones[static_cast<std::size_t>(row)]) {
      throw Error(ErrorCode::not_found, "entity '" + name + "' refers to memory " +
                                            std::to_string(embedding_id) +
                                            ", which is not an active memory");
    }
  }
  const Entity entity{impl_->state.graph.next_entity_id(), name, type, embedding_id};
  impl_->commit(RecordType::add_entity, store::encode_add_entity(entity));
  return entity.id;
}

void HDF5Memory::add_relation(EntityId source, EntityId target, const std::string& type,
                              float weight) {
  impl_->require_writable();
  const KnowledgeGraph& graph = impl_->state.graph;
  for (EntityId end : {source, target}) {
    if (!graph.contains(end)) {
      throw Error(ErrorCode::not_found, "no entity with id " + std::to_string(end));
    }
  }
  util::require_text(type, "relation type");
  if (!std::isfinite(weight)) {
    throw Error(ErrorCode::invalid_argument, "relation weight is not finite");
  }
  const Relation relation{source, target, type, weight, util::now_seconds()};
  impl_->commit(RecordType::add_relation, store::encode_add_relation(relation));
}

const KnowledgeGraph& HDF5Memory::knowledge() const { return impl_->state.graph; }

// ---- introspection ---------------------------------------------------------------------------

const MemoryConfig& HDF5Memory::config() const { return impl_->state.config; }
const MemoryCache& HDF5Memory::cache() const { return impl_->state.cache; }

const BM25Index& HDF5Memory::keyword_index() const {
  std::lock_guard lock(impl_->keyword_mutex);
  if (!impl_->keyword) {
    const MemoryCache& cache = impl_->state.cache;
    impl_->keyword = std::make_unique<BM25Index>(BM25Index::build(cache.chunks, cache.tombstones));
  }
  return *impl_->keyword;
}
bool HDF5Memory::read_only() const { return !impl_->writable; }

StoreInfo HDF5Memory::info() const {
  const StoreState& state = impl_->state;
  StoreInfo info;
  info.schema_version = state.schema_version;
  info.edgehdf5_version = state.edgehdf5_version;
  info.sessions = state.sessions.size();
  info.entities = state.graph.entities().size();
  info.relations = state.graph.relations().size();
  info.log_records_replayed = impl_->replayed;
  info.log_bytes = file_size_or_zero(log_path_for(impl_->path()));
  return info;
}

}  // namespace edgehdf5
