#pragma once
// HDF5Memory: an AgentMemory kept in one HDF5 file.
//
// On disk: `FILE` is always a complete, valid HDF5 file (the last checkpoint) that h5py
// reads as it is; `FILE.wal` is an append-only, checksummed log of the changes made since;
// `FILE.lock` is the inter-process writer lock. Both exist only while a writer has the file
// open (or after a crash, for the next open to recover from): a clean close removes them.
// A save appends one record to the log; a checkpoint writes a whole new FILE beside the old
// one and renames it over it, so a crash at any moment leaves the old or the new file, never
// a torn one. Opening replays the log.
//
// Concurrency: one writer per file across processes (a second gets ErrorCode::locked, at once
// or after waiting up to OpenOptions::lock_timeout for the first to close).
// Any number of read-only handles, in any process, may open the file while a writer works;
// each sees the state as of its open. Within a process, see AgentMemory's contract.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/agent_memory.hpp"
#include "edgehdf5/bm25.hpp"
#include "edgehdf5/config.hpp"
#include "edgehdf5/hybrid.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "edgehdf5/search.hpp"

namespace edgehdf5 {

// What a read of the file found, for `edgehdf5 info`.
struct StoreInfo {
  std::string schema_version;
  std::string edgehdf5_version;
  std::size_t sessions = 0;
  std::size_t entities = 0;
  std::size_t relations = 0;
  std::size_t observations = 0;
  std::size_t log_records_replayed = 0;  // changes recovered from FILE.wal at open
  std::size_t log_bytes = 0;             // current size of FILE.wal
};

class HDF5Memory final : public AgentMemory {
 public:
  // Creates a new memory file at config.path. Throws invalid_argument for a bad config
  // (dim 0, level outside 1..9) and io if the file or its log already exists.
  static HDF5Memory create(const MemoryConfig& config, const OpenOptions& options = {});
  // Opens an existing file, validating its schema and replaying its log.
  static HDF5Memory open(const std::filesystem::path& path, const OpenOptions& options = {});

  HDF5Memory(HDF5Memory&&) noexcept;
  HDF5Memory& operator=(HDF5Memory&&) noexcept;
  HDF5Memory(const HDF5Memory&) = delete;
  HDF5Memory& operator=(const HDF5Memory&) = delete;
  // Closes as close() does, swallowing errors: call close() to see them.
  ~HDF5Memory() override;

  MemoryId save(const MemoryEntry& entry) override;
  std::vector<MemoryId> save_batch(std::span<const MemoryEntry> entries) override;
  void remove(MemoryId id) override;
  std::size_t compact() override;
  void snapshot(const std::filesystem::path& destination) override;
  // Replaces every memory's embedding, as when the embedding model changes: `embeddings`
  // holds one row of `embedding_dim` values (any dimension up to kMaxEmbeddingDim) for each
  // memory of `ids`, which must be the active memories in increasing id order, as the caller
  // read them to embed their chunks (so a change in between is refused, not misapplied).
  // The file records `embedder` as its embedder from then on. Ids, chunks, metadata,
  // sessions and the knowledge graph stay as they are; the IVF-PQ index, trained on the old
  // vectors, is dropped (build it again). The change is one checkpoint: a crash leaves the
  // old file or the new one, never a mix. Throws invalid_argument (ids that are not the
  // active memories, a wrong number of values, a NaN, infinite or, for float16 files,
  // out-of-range value, a built-in embedder name "hash:D" whose D is not embedding_dim:
  // nothing changes), read_only, and io/hdf5 from the checkpoint (the
  // store is then as it was, unless only the directory's fsync failed: see checkpoint()).
  void replace_embeddings(std::span<const MemoryId> ids, std::span<const float> embeddings,
                          std::size_t embedding_dim, const std::string& embedder);
  // Also safe while other threads make const calls (search, get, count, columns(), ...): it
  // fsyncs the log and may checkpoint, which reads the in-memory state but does not change it.
  void flush() override;

  std::size_t count() const override;
  std::size_t count_active() const override;
  MemoryEntry get(MemoryId id) const override;

  void add_session(const std::string& session_id, MemoryId start_id, MemoryId end_id,
                   const std::string& channel, const std::string& summary) override;
  std::string get_session_summary(std::string_view session_id) const override;
  const std::vector<Session>& sessions() const;

  EntityId add_entity(const std::string& name, const std::string& type,
                      MemoryId embedding_id) override;
  void add_relation(EntityId source, EntityId target, const std::string& type,
                    float weight) override;
  const KnowledgeGraph& knowledge() const override;
  // Records a fact about an entity (an MCP "observation"); memory_id is -1 or the active
  // memory that holds the same text. Throws not_found (entity, memory) and invalid_argument
  // (empty or non-UTF-8 text, an observation the entity has already).
  void add_observation(EntityId entity, const std::string& text, MemoryId memory_id = -1);
  // Removes an entity with every relation from or to it and its observations (the memories
  // those refer to stay: remove them first if they should go). Throws not_found.
  void remove_entity(EntityId id);
  // Removes every relation source -[type]-> target; returns how many (0 logs nothing).
  std::size_t remove_relations(EntityId source, EntityId target, const std::string& type);
  // Removes one observation; returns false (and logs nothing) when the entity lacks it.
  bool remove_observation(EntityId entity, const std::string& text);

  // ---- search ---------------------------------------------------------------------------
  // A store's searches use the store's own derived indexes: the keyword index for text, and
  // the IVF-PQ index for vectors whenever the strategy is auto (SearchEngine then picks it
  // from StrategyThresholds::ivfpq_min_rows rows) or ivfpq, unless options.approximate.index
  // names another. The free functions of search.hpp and hybrid.hpp search a MemoryColumns
  // with only the indexes they are given. Safe to call concurrently with other const calls.

  // Cosine top-k with the automatic strategy (SearchOptions' defaults).
  std::vector<SearchHit> search(std::span<const float> query, std::size_t k) const override;
  // SearchEngine::search over this store: filters, a forced strategy, metrics. Throws as
  // SearchEngine::search does, and corruption for Strategy::ivfpq when the file's index
  // cannot be used (ivfpq_problem() says why).
  SearchResults search(std::span<const float> query, SearchOptions options) const;
  // SearchEngine::search_batch over this store, with the index as in search().
  std::vector<SearchResults> search_batch(std::span<const float> queries, std::size_t query_count,
                                          SearchOptions options) const;
  // BM25 top-k over this store (keyword_search in hybrid.hpp, with keyword_index()).
  SearchResults keyword_search(std::string_view query_text, std::size_t k,
                               const SearchFilter& filter = {}) const;
  // Vector + keyword fusion over this store (hybrid_search in hybrid.hpp), the vector side
  // with the index as in search().
  SearchResults hybrid_search(std::span<const float> query_embedding, std::string_view query_text,
                              HybridOptions options) const;
  // What auto picks for one float32 query over this store (with its index, if usable).
  Strategy auto_strategy() const;
  // The IVF-PQ index that a search with `strategy` (empty: auto) over this store answers
  // from, or null when the exact scan answers it. Binds the index as search() does.
  const IVFPQIndex* ivfpq_index_answering(const std::optional<Strategy>& strategy) const;

  // ---- the IVF-PQ index (approximate search; include/edgehdf5/ivfpq.hpp, README) ----------
  // Trains an index on the active memories (replacing any index there was), then
  // checkpoints, so that the file holds it as its /ivfpq group. From then on every save is
  // encoded into it, a removed memory is never returned (its tombstone hides it at once; its
  // code goes at compaction), compaction keeps it consistent, and every checkpoint writes it.
  // It is not retrained by itself: info().needs_retrain says when that would pay (rule in
  // IVFPQIndex::needs_retrain) and calling this again retrains. Throws invalid_argument (bad
  // params, fewer than max(nlist, 256) active rows), read_only, and io/hdf5 from the
  // checkpoint.
  IVFPQInfo build_ivfpq_index(const IVFPQParams& params = {});
  // Removes the index from memory and, by a checkpoint, from the file. Returns whether there
  // was one (a group this build could not use counts).
  bool drop_ivfpq_index();
  // The index, bound to columns() and current with it, or null when the store has none or the
  // file's cannot be used (ivfpq_problem() says why; searches then use the exact scan). The
  // first call after open turns the stored arrays into the index without retraining (and
  // encodes the memories saved since the file was written). Safe to call concurrently with
  // other const calls; the pointer stays valid until the next non-const call.
  const IVFPQIndex* ivfpq_index() const;
  // Why the file's /ivfpq group cannot be used (a format this build does not read, arrays
  // that do not fit together or do not fit the memories), or empty. Such a group is not
  // written back by the next checkpoint: build the index again.
  std::string ivfpq_problem() const;

  // Writes the current state into FILE (atomically) and empties the log.
  void checkpoint();
  // Checkpoints if anything changed, then removes FILE.wal and FILE.lock (a closed store is
  // FILE alone) and releases the lock. After an earlier write failure the log stays (it may
  // hold what FILE lacks). Further calls throw; what the store held is released (columns(),
  // sessions() and knowledge() are empty after it, and the file is no longer open). Idempotent.
  void close();

  const MemoryConfig& config() const;
  // The memories as columns (no copy); valid until the next non-const call.
  const MemoryColumns& columns() const;
  // The BM25 index over the chunks, made at the first call and from then on kept current by
  // every save, remove and compact: from the file's /keyword_index arrays, queried in place
  // (plus the rows saved and deleted since the checkpoint), or, for a file without a usable
  // group, built from the chunks (one tokenising pass over the store, see the README). Safe
  // to call concurrently with other const calls.
  const BM25Index& keyword_index() const;
  // Why the file's /keyword_index group is not used, or was found damaged (the index is then
  // built from the chunks and the next checkpoint writes it anew), or empty. Complete once
  // keyword_index() has been called.
  std::string keyword_index_problem() const;
  StoreInfo info() const;
  bool read_only() const;

 private:
  struct Impl;
  explicit HDF5Memory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Deep consistency check of a file (and its log) without modifying it: schema, lengths,
// dtypes, ids strictly increasing, norms matching embeddings, finite values, session and
// entity references, and the derived indexes (/ivfpq, /keyword_index) usable and whole.
// Returns the problems found; empty means the file is sound.
std::vector<std::string> verify_file(const std::filesystem::path& path);
// The same, reading through `file_system` (null: the operating system's files).
std::vector<std::string> verify_file(const std::filesystem::path& path,
                                     std::shared_ptr<FileSystem> file_system);

}  // namespace edgehdf5
