// HDF5Memory: the public face of a memory file. Every mutating call reads
// validate -> commit -> notify: the change is checked (store/validation.hpp), logged and
// applied from the logged bytes (commit, store/changes.hpp), then the derived indexes are
// told (store/derived_index.hpp). Recovery, compaction and the checkpoint's file writing
// live in their own files beside this one.

#include <algorithm>
#include <array>
#include <optional>

#include "edgehdf5/error.hpp"
#include "edgehdf5/file_system.hpp"
#include "edgehdf5/hybrid.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/search.hpp"
#include "store/changes.hpp"
#include "store/checkpoint_file.hpp"
#include "store/compaction.hpp"
#include "store/derived_ivfpq_index.hpp"
#include "store/derived_keyword_index.hpp"
#include "store/embedding_replacement.hpp"
#include "store/posix_file.hpp"
#include "store/recovery.hpp"
#include "store/schema.hpp"
#include "store/sidecar_paths.hpp"
#include "store/untrusted_file.hpp"
#include "store/validation.hpp"
#include "store/wal.hpp"
#include "util/text.hpp"

namespace edgehdf5 {

using store::RecordType;
using store::StoreState;

namespace {

// A reader takes no lock, so a writer may checkpoint while it opens (store/recovery.hpp).
constexpr int kReaderOpenAttempts = 20;

}  // namespace

struct HDF5Memory::Impl {
  StoreState state;
  OpenOptions options;
  std::shared_ptr<FileSystem> files;  // options.file_system, or the operating system's
  std::optional<store::FileLock> lock;
  std::optional<store::LogWriter> log;
  bool writable =
      false;  // fixed at open; read_only() must not look at `log`, which flush() replaces
  std::size_t replayed = 0;
  bool closed = false;
  // Set when an fsync failed: what reached the disk is then unknown (the kernel may have
  // dropped the dirty pages), so the handle refuses further writes until reopened.
  std::string failure;
  store::DerivedKeywordIndex keyword;
  store::DerivedIvfpqIndex ivfpq;

  const std::filesystem::path& path() const { return state.config.path; }
  const MemoryColumns& columns() const { return state.columns; }

  std::array<store::DerivedIndex*, 2> derived_indexes() { return {&keyword, &ivfpq}; }

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

  void notify_appended(std::size_t first_row) {
    for (store::DerivedIndex* index : derived_indexes()) index->rows_appended(columns(), first_row);
  }
  void notify_removed(std::size_t row) {
    for (store::DerivedIndex* index : derived_indexes()) index->row_removed(columns(), row);
  }
  void notify_compacted() {
    for (store::DerivedIndex* index : derived_indexes()) index->rows_compacted(columns());
  }

  // The one rule for whether the store's IVF-PQ index may serve a search: the strategy is
  // auto (the engine then decides by size) or ivfpq. Only such a search binds the index (a
  // pass over its ids, once). A forced ivfpq over a file whose index cannot be used names
  // the problem instead of the engine's "no index".
  const IVFPQIndex* index_for(const std::optional<Strategy>& strategy) const {
    if (strategy && *strategy != Strategy::ivfpq) return nullptr;
    const IVFPQIndex* index = ivfpq.bound(columns());
    if (index == nullptr && strategy == Strategy::ivfpq) {
      const std::string problem = ivfpq.problem(columns());
      if (!problem.empty()) {
        throw Error(ErrorCode::corruption, "the file's IVF-PQ index cannot be used: " + problem +
                                               " (rebuild it with `edgehdf5 index build FILE`)");
      }
    }
    return index;
  }

  // A search's approximate side, unless the caller named an index: the store's, if it may
  // serve (index_for).
  void use_store_index(ApproximateSearch& approximate,
                       const std::optional<Strategy>& strategy) const {
    if (approximate.index == nullptr) approximate.index = index_for(strategy);
  }

  // The keyword index as the next file keeps it (derived_keyword_index.hpp).
  KeywordIndexArrays keyword_arrays() const {
    return keyword.to_write(columns(), state.config.keyword_tokenizer);
  }

  // Writes the state into FILE through a temporary. A failure before the rename leaves FILE
  // and the log as they were, and the handle carries on. A failure after it (the directory's
  // fsync) leaves what reached the disk unknown, so the handle refuses writes from then on.
  void write_file(const std::filesystem::path& target) {
    const std::optional<IVFPQData> index = ivfpq.to_write();
    const KeywordIndexArrays keywords = keyword_arrays();
    bool renamed = false;
    try {
      store::write_file_atomically(*files, target, store::checkpoint_temporary_for(target),
                                   state, {index ? &*index : nullptr, &keywords}, &renamed);
    } catch (const Error& error) {
      if (renamed) failure = error.what();
      throw;
    }
  }

  void checkpoint() {
    require_writable();
    write_file(path());
    state.checkpoint_lsn = state.last_lsn;
    // The file now holds everything; the old log's records are all <= checkpoint_lsn and
    // are skipped if a crash stops us before the new log is in place.
    try {
      log = store::LogWriter::create(files, store::log_path_for(path()), state.checkpoint_lsn);
    } catch (const Error& error) {
      // The old log's file may have been replaced already (its writer would then append to
      // an unlinked file, and every later save would be lost): no more writes on this handle.
      failure = error.what();
      throw;
    }
  }

  void maybe_compact() {
    const double threshold = state.config.compact_threshold;
    if (threshold <= 0 || threshold >= 1 || columns().rows() == 0) return;
    const double fraction =
        static_cast<double>(state.tombstoned) / static_cast<double>(columns().rows());
    if (fraction > threshold) compact();
  }

  std::size_t compact() {
    require_writable();
    // Made first (from the file's arrays, if not yet), so that it is renumbered with the rows
    // rather than rebuilt from every chunk for the checkpoint that follows.
    if (state.tombstoned > 0) keyword.get(columns(), state.config.keyword_tokenizer);
    const std::size_t dropped = store::drop_tombstoned_rows(state);
    if (dropped == 0) return 0;
    notify_compacted();
    checkpoint();
    return dropped;
  }

  // HDF5Memory::replace_embeddings, once the arguments are checked. The log is emptied
  // first (a checkpoint), so that no record of the old layout is ever replayed onto the new
  // file; then the new matrix is swapped in and written, and swapped back if that fails.
  void replace_embeddings(std::span<const float> embeddings, std::size_t dim,
                          const std::string& embedder) {
    if (!log->empty()) checkpoint();
    store::EmbeddingColumns replacement = store::make_embedding_columns(columns(), embeddings, dim);
    const MemoryConfig previous = state.config;
    store::swap_embeddings(state.columns, replacement);
    state.config.embedding_dim = dim;
    state.config.embedder = embedder;
    const KeywordIndexArrays keywords = keyword_arrays();  // the texts stay as they are
    bool renamed = false;
    try {
      // No /ivfpq group: the index was trained on the old vectors.
      store::write_file_atomically(*files, path(), store::checkpoint_temporary_for(path()), state,
                                   {nullptr, &keywords}, &renamed);
    } catch (const Error& error) {
      if (renamed) {
        failure = error.what();  // the new file is in place; what reached the disk is unknown
        ivfpq.drop();
        throw;
      }
      store::swap_embeddings(state.columns, replacement);
      state.config = previous;
      throw;
    }
    ivfpq.drop();
  }

  // At rest a store is FILE alone: a clean close writes everything into it, then removes the
  // log (every record in it is in the file now: one a crash leaves behind is skipped at
  // replay) and the lock file. After a failure the log stays: it may hold what the file lacks.
  void close() {
    if (closed) return;
    bool at_rest = false;
    if (log && failure.empty()) {
      if (!log->empty()) {
        write_file(path());
        state.checkpoint_lsn = state.last_lsn;
      } else {
        sync_log();
      }
      at_rest = true;
    }
    closed = true;
    log.reset();
    if (at_rest) store::remove_file(*files, store::log_path_for(path()));
    lock.reset();  // removes FILE.lock
    release_state();
  }

  // A closed store holds nothing of its file: the columns go (with the mapped matrix and the
  // open file the text columns read on demand, which would otherwise keep the file open in
  // HDF5 and refuse, for one, h5py opening it for writing in the same process). The config
  // stays, for messages.
  void release_state() noexcept {
    store::StoreState released;
    released.config = std::move(state.config);
    state = std::move(released);
    keyword.drop();
    ivfpq.drop();
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
  store::validate_config(config);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->options.read_only = false;
  impl->files = options.file_system ? options.file_system : posix_file_system();
  impl->writable = true;
  impl->lock = store::FileLock::acquire(impl->files, store::lock_path_for(config.path),
                                       config.path, options.lock_timeout);
  if (store::path_is_taken(*impl->files, config.path)) {
    throw Error(ErrorCode::io,
                config.path.string() + " already exists; open it, or remove it to start anew");
  }
  impl->state = store::empty_state(config);
  impl->write_file(config.path);
  impl->log = store::LogWriter::create(impl->files, store::log_path_for(config.path), 0);
  return HDF5Memory(std::move(impl));
}

HDF5Memory HDF5Memory::open(const std::filesystem::path& path, const OpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->files = options.file_system ? options.file_system : posix_file_system();
  impl->writable = !options.read_only;
  if (impl->writable) {
    impl->lock = store::FileLock::acquire(impl->files, store::lock_path_for(path), path,
                                         options.lock_timeout);
    // A checkpoint a crash interrupted; the file and the log hold everything it held.
    store::remove_file(*impl->files, store::checkpoint_temporary_for(path));
  }
  if (options.untrusted) store::check_untrusted_file(*impl->files, path);
  store::RecoveredStore recovered =
      store::recover(*impl->files, path, impl->writable ? 1 : kReaderOpenAttempts,
                     {options.map_embeddings, options.text_on_demand});
  impl->state = std::move(recovered.state);
  impl->replayed = recovered.replayed;
  impl->ivfpq.load(std::move(recovered.index), path);
  impl->keyword.load(std::move(recovered.keywords));
  if (impl->writable) {
    const std::filesystem::path log_path = store::log_path_for(path);
    if (impl->replayed > 0) {
      impl->log = store::LogWriter::resume(impl->files, log_path, recovered.log);
    } else {
      // No log, or one the file already contains (a crash came between the rename of a
      // checkpoint and the log's reset): start an empty one.
      impl->log = store::LogWriter::create(impl->files, log_path, impl->state.checkpoint_lsn);
    }
  }
  return HDF5Memory(std::move(impl));
}

// ---- changes ---------------------------------------------------------------------------------

MemoryId HDF5Memory::save(const MemoryEntry& entry) {
  return save_batch(std::span<const MemoryEntry>(&entry, 1)).front();
}

std::vector<MemoryId> HDF5Memory::save_batch(std::span<const MemoryEntry> entries) {
  impl_->require_writable();
  if (entries.empty()) return {};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    store::validate_entry(entries[i], impl_->columns(),
                          entries.size() == 1 ? -1 : static_cast<std::ptrdiff_t>(i));
  }
  const MemoryId first = impl_->state.next_id;
  const std::size_t first_row = impl_->columns().rows();
  impl_->commit(RecordType::save_batch, store::encode_save_batch(impl_->state, entries));
  impl_->notify_appended(first_row);
  std::vector<MemoryId> ids(entries.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = first + static_cast<MemoryId>(i);
  return ids;
}

void HDF5Memory::remove(MemoryId id) {
  impl_->require_writable();
  const std::ptrdiff_t row = impl_->columns().row_of(id);
  if (row < 0 || impl_->columns().tombstones[static_cast<std::size_t>(row)]) {
    throw Error(ErrorCode::not_found, "no active memory with id " + std::to_string(id));
  }
  impl_->commit(RecordType::remove, store::encode_remove(id));
  impl_->notify_removed(static_cast<std::size_t>(row));
  impl_->maybe_compact();
}

std::size_t HDF5Memory::compact() { return impl_->compact(); }

void HDF5Memory::snapshot(const std::filesystem::path& destination) {
  impl_->require_open();
  const auto destination_file = store::file_identity(*impl_->files, destination);
  if (destination_file &&
      destination_file == store::file_identity(*impl_->files, impl_->path())) {
    throw Error(ErrorCode::invalid_argument,
                "snapshot destination " + destination.string() + " is the store itself");
  }
  // The snapshot is a file without a log, holding every change applied so far. Holding the
  // destination's writer lock keeps us from replacing a store another process is writing,
  // and a log left there by an earlier store must go, or opening would replay it.
  const store::FileLock lock =
      store::FileLock::acquire(impl_->files, store::lock_path_for(destination), destination);
  const std::optional<IVFPQData> index = impl_->ivfpq.to_write();
  const KeywordIndexArrays keywords = impl_->keyword_arrays();
  store::install_store_file(*impl_->files, destination,
                            store::checkpoint_temporary_for(destination), impl_->state,
                            {index ? &*index : nullptr, &keywords});
}

void HDF5Memory::replace_embeddings(std::span<const MemoryId> ids,
                                    std::span<const float> embeddings, std::size_t embedding_dim,
                                    const std::string& embedder) {
  impl_->require_writable();
  store::validate_replacement_embeddings(impl_->columns(), ids, embeddings, embedding_dim, embedder);
  impl_->replace_embeddings(embeddings, embedding_dim, embedder);
}

void HDF5Memory::flush() {
  impl_->require_writable();
  impl_->sync_log();
  const std::uint64_t log_bytes = impl_->log->size_bytes();
  if (log_bytes > impl_->options.checkpoint_log_bytes &&
      log_bytes > store::file_size_or_zero(*impl_->files, impl_->path())) {
    impl_->checkpoint();
  }
}

void HDF5Memory::checkpoint() { impl_->checkpoint(); }
void HDF5Memory::close() { impl_->close(); }

// ---- reads -----------------------------------------------------------------------------------

std::size_t HDF5Memory::count() const { return impl_->columns().rows(); }

std::size_t HDF5Memory::count_active() const {
  return impl_->columns().rows() - impl_->state.tombstoned;
}

MemoryEntry HDF5Memory::get(MemoryId id) const {
  impl_->require_open();
  const MemoryColumns& columns = impl_->columns();
  const std::ptrdiff_t found = columns.row_of(id);
  if (found < 0 || columns.tombstones[static_cast<std::size_t>(found)]) {
    throw Error(ErrorCode::not_found, "no active memory with id " + std::to_string(id));
  }
  const auto row = static_cast<std::size_t>(found);
  MemoryEntry entry;
  entry.chunk = columns.chunks[row];
  entry.embedding = columns.embedding(row);
  entry.source_channel = columns.source_channels[row];
  entry.timestamp = columns.timestamps[row];
  entry.session_id = columns.session_ids[row];
  entry.tags = columns.tags[row];
  return entry;
}

// ---- search ----------------------------------------------------------------------------------

std::vector<SearchHit> HDF5Memory::search(std::span<const float> query, std::size_t k) const {
  SearchOptions options;
  options.k = k;
  return search(query, options).hits;
}

SearchResults HDF5Memory::search(std::span<const float> query, SearchOptions options) const {
  impl_->require_open();
  impl_->use_store_index(options.approximate, options.strategy);
  return SearchEngine::shared().search(query, impl_->columns(), options);
}

std::vector<SearchResults> HDF5Memory::search_batch(std::span<const float> queries,
                                                    std::size_t query_count,
                                                    SearchOptions options) const {
  impl_->require_open();
  impl_->use_store_index(options.approximate, options.strategy);
  return SearchEngine::shared().search_batch(queries, query_count, impl_->columns(), options);
}

SearchResults HDF5Memory::keyword_search(std::string_view query_text, std::size_t k,
                                         const SearchFilter& filter) const {
  impl_->require_open();
  return edgehdf5::keyword_search(query_text, impl_->columns(), keyword_index(), k, filter);
}

SearchResults HDF5Memory::hybrid_search(std::span<const float> query_embedding,
                                        std::string_view query_text,
                                        HybridOptions options) const {
  impl_->require_open();
  impl_->use_store_index(options.approximate, options.strategy);
  return edgehdf5::hybrid_search(query_embedding, query_text, impl_->columns(), keyword_index(),
                                 options);
}

Strategy HDF5Memory::auto_strategy() const {
  impl_->require_open();
  const bool have_index = impl_->index_for(std::nullopt) != nullptr;
  return SearchEngine::shared().choose(impl_->columns().rows(), have_index);
}

const IVFPQIndex* HDF5Memory::ivfpq_index_answering(const std::optional<Strategy>& strategy) const {
  impl_->require_open();
  const IVFPQIndex* index = impl_->index_for(strategy);
  if (index == nullptr || strategy == Strategy::ivfpq) return index;
  return auto_strategy() == Strategy::ivfpq ? index : nullptr;
}

// ---- the IVF-PQ index --------------------------------------------------------------------------

IVFPQInfo HDF5Memory::build_ivfpq_index(const IVFPQParams& params) {
  impl_->require_writable();
  impl_->ivfpq.replace(IVFPQIndex::train(impl_->columns(), params));
  impl_->checkpoint();
  return impl_->ivfpq.bound(impl_->columns())->info();
}

bool HDF5Memory::drop_ivfpq_index() {
  impl_->require_writable();
  const bool had = impl_->ivfpq.drop();
  if (had) impl_->checkpoint();
  return had;
}

const IVFPQIndex* HDF5Memory::ivfpq_index() const {
  impl_->require_open();
  return impl_->ivfpq.bound(impl_->columns());
}

std::string HDF5Memory::ivfpq_problem() const { return impl_->ivfpq.problem(impl_->columns()); }

// ---- sessions and knowledge graph ------------------------------------------------------------

void HDF5Memory::add_session(const std::string& session_id, MemoryId start_id, MemoryId end_id,
                             const std::string& channel, const std::string& summary) {
  impl_->require_writable();
  const Session session{session_id, start_id, end_id, channel, util::now_seconds(), summary};
  store::validate_session(session);
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
  const Entity entity{impl_->state.graph.next_entity_id(), name, type, embedding_id};
  store::validate_entity(entity, impl_->columns());
  impl_->commit(RecordType::add_entity, store::encode_add_entity(entity));
  return entity.id;
}

void HDF5Memory::add_relation(EntityId source, EntityId target, const std::string& type,
                              float weight) {
  impl_->require_writable();
  const Relation relation{source, target, type, weight, util::now_seconds()};
  store::validate_relation(relation, impl_->state.graph);
  impl_->commit(RecordType::add_relation, store::encode_add_relation(relation));
}

void HDF5Memory::add_observation(EntityId entity, const std::string& text, MemoryId memory_id) {
  impl_->require_writable();
  const Observation observation{entity, text, memory_id};
  store::validate_observation(observation, impl_->state.graph, impl_->columns());
  impl_->commit(RecordType::add_observation, store::encode_add_observation(observation));
}

void HDF5Memory::remove_entity(EntityId id) {
  impl_->require_writable();
  if (!impl_->state.graph.contains(id)) {
    throw Error(ErrorCode::not_found, "no entity with id " + std::to_string(id));
  }
  impl_->commit(RecordType::remove_entity, store::encode_remove_entity(id));
}

std::size_t HDF5Memory::remove_relations(EntityId source, EntityId target,
                                         const std::string& type) {
  impl_->require_writable();
  std::size_t matching = 0;
  for (const Relation& relation : impl_->state.graph.relations_from(source)) {
    if (relation.target == target && relation.type == type) ++matching;
  }
  if (matching == 0) return 0;  // nothing to log: removing what is not there changes nothing
  impl_->commit(RecordType::remove_relations,
                store::encode_remove_relations(source, target, type));
  return matching;
}

bool HDF5Memory::remove_observation(EntityId entity, const std::string& text) {
  impl_->require_writable();
  if (!impl_->state.graph.has_observation(entity, text)) return false;
  impl_->commit(RecordType::remove_observation, store::encode_remove_observation(entity, text));
  return true;
}

const KnowledgeGraph& HDF5Memory::knowledge() const { return impl_->state.graph; }

// ---- introspection ---------------------------------------------------------------------------

const MemoryConfig& HDF5Memory::config() const { return impl_->state.config; }
const MemoryColumns& HDF5Memory::columns() const { return impl_->columns(); }

const BM25Index& HDF5Memory::keyword_index() const {
  return impl_->keyword.get(impl_->columns(), impl_->state.config.keyword_tokenizer);
}
std::string HDF5Memory::keyword_index_problem() const { return impl_->keyword.problem(); }
bool HDF5Memory::read_only() const { return !impl_->writable; }

StoreInfo HDF5Memory::info() const {
  const StoreState& state = impl_->state;
  StoreInfo info;
  info.schema_version = state.schema_version;
  info.edgehdf5_version = state.edgehdf5_version;
  info.sessions = state.sessions.size();
  info.entities = state.graph.entities().size();
  info.relations = state.graph.relations().size();
  info.observations = state.graph.observation_count();
  info.log_records_replayed = impl_->replayed;
  info.log_bytes = store::file_size_or_zero(*impl_->files, store::log_path_for(impl_->path()));
  return info;
}

}  // namespace edgehdf5
