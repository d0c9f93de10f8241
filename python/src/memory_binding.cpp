// edgehdf5.Memory (memory_binding.hpp): the bindings of HDF5Memory.

#include "memory_binding.hpp"

#include "read_methods.hpp"

#include <chrono>
#include <cmath>

namespace edgehdf5::python {

using namespace pybind11::literals;

const HDF5Memory& PyMemory::open_store() const {
  if (closed_ || !store_) {
    throw Error(ErrorCode::invalid_argument, "edgehdf5.Memory: the memory is closed");
  }
  return *store_;
}

HDF5Memory& PyMemory::open_store() {
  return const_cast<HDF5Memory&>(static_cast<const PyMemory&>(*this).open_store());
}

void PyMemory::refuse_while_viewed() const {
  const long alive = views.load();
  if (alive > 0) {
    throw ViewsAlive("edgehdf5.Memory: " + std::to_string(alive) +
                     " numpy view(s) of embeddings/norms/tombstones/ids are alive; this call "
                     "may move the arrays they point into: del the views or take .copy() first");
  }
}

void PyMemory::close() {
  py::gil_scoped_release nogil;
  std::unique_lock lock(mutex_);
  if (closed_ || !store_) return;
  refuse_while_viewed();
  closed_ = true;  // even if close() throws: HDF5Memory refuses further calls after it
  store_->close();
}

bool PyMemory::closed() const {
  std::shared_lock lock(mutex_);
  return closed_;
}

namespace {

// Keeps a Memory (the Python object) alive while a numpy view of its columns exists, and
// counts the view so that calls which would move the columns refuse to run.
struct ViewToken {
  py::object memory;
  PyMemory* target = nullptr;
  ~ViewToken() {
    if (target != nullptr) --target->views;
  }
};

enum class Column { embeddings, norms, tombstones, ids };

// A read-only numpy view of one column, without a copy.
py::array column_view(const py::object& self, Column column) {
  auto& memory = self.cast<PyMemory&>();
  std::shared_lock<std::shared_mutex> lock;
  {
    py::gil_scoped_release nogil;
    lock = std::shared_lock(memory.mutex());
  }
  const MemoryColumns& columns = static_cast<const PyMemory&>(memory).open_store().columns();
  const auto rows = static_cast<py::ssize_t>(columns.rows());
  const auto dim = static_cast<py::ssize_t>(columns.embedding_dim);
  auto* token = new ViewToken{self, &memory};
  ++memory.views;  // under the shared lock: a change checks the count under the exclusive one
  py::object base = py::cast(token, py::return_value_policy::take_ownership);
  // An empty column has no buffer; numpy then owns its (empty) one and no view is needed.
  py::array view;
  switch (column) {
    case Column::embeddings:
      if (columns.embedding_type == EmbeddingType::float16) {
        view = py::array(py::dtype("float16"), {rows, dim},
                         {dim * 2, py::ssize_t{2}}, columns.embeddings_f16.data(), base);
      } else {
        view = py::array_t<float>({rows, dim}, columns.embeddings_f32.data(), base);
      }
      break;
    case Column::norms:
      view = py::array_t<float>({rows}, columns.norms.data(), base);
      break;
    case Column::tombstones:
      view = py::array_t<std::uint8_t>({rows}, columns.tombstones.data(), base);
      break;
    case Column::ids:
      view = py::array_t<MemoryId>({rows}, columns.ids.data(), base);
      break;
  }
  view.attr("setflags")("write"_a = false);
  return view;
}

std::vector<std::string> texts_argument(const py::handle& value, const char* argument) {
  if (py::isinstance<py::str>(value)) return {value.cast<std::string>()};
  return strings_argument(value, py::len(value), argument);
}

// What `callable` (list of str -> 2-D array) returns for texts[first, first + count), checked
// as --embed-cmd's output is: one finite row per text, of `dim` values (0: of whatever
// dimension it returns). Runs with the GIL held (the callable is Python).
std::vector<float> called_embeddings(const py::object& callable, const std::vector<std::string>& texts,
                                     std::size_t first, std::size_t count, std::size_t& dim) {
  py::list batch;
  for (std::size_t i = first; i < first + count; ++i) batch.append(py::str(texts[i]));
  py::object array =
      py::module_::import("numpy").attr("ascontiguousarray")(callable(batch), "dtype"_a = "float32");
  const auto checked = py::cast<py::array>(array);
  if (checked.ndim() != 2 || static_cast<std::size_t>(checked.shape(0)) != count) {
    throw Error(ErrorCode::invalid_argument,
                "embed: the callable must return a 2-D array with one row per text (" +
                    std::to_string(count) + " rows), got shape " +
                    std::string(py::str(array.attr("shape"))));
  }
  if (dim == 0) dim = static_cast<std::size_t>(checked.shape(1));
  Float32Rows rows = checked_rows(array, "embed (the callable's result)", 2, dim, false);
  return std::vector<float>(rows.data, rows.data + rows.rows * rows.dim);
}

// The built-in embedder `name`'s embeddings of `texts` (without the GIL); `dim` is set to its
// dimension. `unsupported` names what to pass instead when `name` is not built in.
std::vector<float> built_in_embeddings(const std::string& name, const std::vector<std::string>& texts,
                                       std::size_t& dim, const std::string& unsupported) {
  if (!is_builtin_embedder(name)) throw Error(ErrorCode::unsupported, unsupported);
  py::gil_scoped_release nogil;
  auto embedder = make_embedder(name);
  dim = embedder->dimension();
  std::vector<float> out;
  out.reserve(texts.size() * dim);
  for (const std::string& text : texts) {
    const std::vector<float> v = embedder->embed(text);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// The embeddings of `texts`: from `embed` (a callable, list of str -> 2-D array), else the
// memory's default callable, else the file's built-in embedder; of the file's dimension.
std::vector<float> embed_texts(PyMemory& memory, const std::vector<std::string>& texts,
                               const py::object& embed) {
  const MemoryConfig config = memory.read([](const HDF5Memory& m) { return m.config(); });
  py::object callable = embed.is_none() ? memory.embed : embed;
  std::size_t dim = config.embedding_dim;
  if (!callable.is_none()) return called_embeddings(callable, texts, 0, texts.size(), dim);
  std::vector<float> out = built_in_embeddings(
      config.embedder, texts, dim,
      "edgehdf5.Memory: the file's embedder '" + config.embedder +
          "' is not built in; pass embed= (a callable: list of str -> 2-D array)");
  if (dim != config.embedding_dim) {
    throw Error(ErrorCode::invalid_argument, "edgehdf5.Memory: the file's embedder '" +
                                                 config.embedder + "' does not match its embedding_dim");
  }
  return out;
}

struct Filters {
  std::optional<std::string> session, channel;
  py::object tags;
  bool all_tags;
  std::optional<double> after, before, half_life;
};

py::dict ivfpq_info_dict(const IVFPQInfo& info) {
  return py::dict("embedding_dim"_a = info.embedding_dim, "nlist"_a = info.nlist,
                  "sub_quantizers"_a = info.sub_quantizers, "bits"_a = info.bits,
                  "vectors"_a = info.vectors, "trained_vectors"_a = info.trained_vectors,
                  "added_since_training"_a = info.added_since_training,
                  "training_error"_a = info.training_error, "added_error"_a = info.added_error,
                  "bytes"_a = info.bytes, "needs_retrain"_a = info.needs_retrain);
}

Durability parse_durability(const std::string& name) {
  if (name == "on_flush") return Durability::on_flush;
  if (name == "every_write") return Durability::every_write;
  throw Error(ErrorCode::invalid_argument,
              "durability: expected 'on_flush' or 'every_write', got '" + name + "'");
}

OpenOptions open_options(bool read_only, const std::string& durability, double lock_timeout) {
  if (!(lock_timeout >= 0.0)) {
    throw Error(ErrorCode::invalid_argument, "lock_timeout: must be >= 0 seconds");
  }
  OpenOptions options;
  options.read_only = read_only;
  options.durability = parse_durability(durability);
  options.lock_timeout = std::chrono::milliseconds(static_cast<long long>(lock_timeout * 1000.0));
  return options;
}

// Saves checked rows with their metadata as one save_batch (one log record). The entries are
// made without the GIL, under the store's lock.
py::list save_rows(PyMemory& memory, RowsToSave& rows) {
  std::vector<MemoryId> ids = memory.write(
      [&](HDF5Memory& store) { return store.save_batch(make_entries(rows)); }, true);
  return py::cast(ids);
}


// ---- replacing the embeddings ----------------------------------------------------------------

// The columns of a 2-D array (what replace_embeddings takes as the new dimension), or 0 for
// anything else, which checked_rows then refuses with its own message.
std::size_t columns_of(const py::handle& object) {
  if (!py::isinstance<py::array>(object)) return 0;
  const auto array = py::reinterpret_borrow<py::array>(object);
  return array.ndim() == 2 ? static_cast<std::size_t>(array.shape(1)) : 0;
}

// The ids and chunks of the active memories, in id order: what reembed embeds.
struct ActiveChunks {
  std::vector<MemoryId> ids;
  std::vector<std::string> chunks;
};

ActiveChunks active_chunks(const PyMemory& memory) {
  return memory.read([](const HDF5Memory& store) {
    ActiveChunks active;
    const MemoryColumns& columns = store.columns();
    columns.chunks.load();  // every text: one pass over the file
    for (std::size_t row = 0; row < columns.rows(); ++row) {
      if (columns.tombstones[row] != 0) continue;
      active.ids.push_back(columns.ids[row]);
      active.chunks.push_back(columns.chunks[row]);
    }
    return active;
  });
}

// The new embeddings of `chunks` for reembed: from `embed` (a callable, list of str -> 2-D
// array, called batch_size texts at a time, every batch of the dimension the first one has),
// else from the built-in embedder `embedder` names. `dim` is set to their dimension (0 when
// a callable had nothing to embed).
std::vector<float> embed_for_replacement(const std::vector<std::string>& chunks, const py::object& embed,
                                         const std::string& embedder, std::size_t batch_size,
                                         std::size_t& dim) {
  dim = 0;
  if (embed.is_none()) {
    return built_in_embeddings(embedder, chunks, dim,
                               "reembed: '" + embedder +
                                   "' is not a built-in embedder; pass embed= (a callable: list "
                                   "of str -> 2-D array)");
  }
  std::vector<float> values;
  for (std::size_t first = 0; first < chunks.size(); first += batch_size) {
    const std::size_t count = std::min(batch_size, chunks.size() - first);
    const std::vector<float> batch = called_embeddings(embed, chunks, first, count, dim);
    if (values.empty()) values.reserve(chunks.size() * dim);
    values.insert(values.end(), batch.begin(), batch.end());
  }
  return values;
}

}  // namespace

void register_memory(py::module_& m) {
  py::class_<ViewToken>(m, "_ViewToken", "Keeps a Memory alive while a numpy view exists.");

  py::class_<PyMemory> cls(m, "Memory", R"doc(
An agent's memory kept in one HDF5 file (the C++ HDF5Memory).

Create with Memory.create(path, dim=...) or open with Memory.open(path). Use as a context
manager: leaving the block closes (checkpoints) the file, and errors surface from close().
Thread safety: a Memory may be shared by any number of threads; searches and reads run
concurrently, changes one at a time, all without the GIL.)doc");

  cls.def_static(
         "create",
         [](const std::filesystem::path& path, std::size_t dim, std::optional<std::string> embedder,
            bool float16, bool compression, int compression_level, const std::string& agent_id,
            std::size_t chunk_size, std::size_t overlap, double compact_threshold,
            const std::string& tokenizer, const std::string& durability, double lock_timeout,
            py::object embed) {
           MemoryConfig config;
           config.path = path;
           config.embedding_dim = dim;
           config.embedder = embedder.value_or("hash:" + std::to_string(dim));
           config.float16 = float16;
           config.compression = compression;
           config.compression_level = compression_level;
           config.agent_id = agent_id;
           config.chunk_size = chunk_size;
           config.overlap = overlap;
           config.compact_threshold = compact_threshold;
           config.keyword_tokenizer = tokenizer_argument(tokenizer);
           OpenOptions options = open_options(false, durability, lock_timeout);
           std::optional<HDF5Memory> store;
           {
             py::gil_scoped_release nogil;
             store.emplace(HDF5Memory::create(config, options));
           }
           return new PyMemory(std::move(*store), std::move(embed));
         },
         "path"_a, py::kw_only(), "dim"_a = 384, "embedder"_a = py::none(), "float16"_a = false,
         "compression"_a = false, "compression_level"_a = 4, "agent_id"_a = "agent",
         "chunk_size"_a = 512, "overlap"_a = 50, "compact_threshold"_a = 0.3,
         "tokenizer"_a = "porter", "durability"_a = "on_flush", "lock_timeout"_a = 0.0,
         "embed"_a = py::none(),
         R"doc(Creates a new memory file. embedder: the name recorded in /meta/embedder
(default "hash:<dim>", the built-in embedder add() and recall() use). tokenizer: how
keyword search splits text, "porter" (Porter stems) or "unicode61" (words as written),
recorded in the file. embed: a default
callable (list of str -> 2-D array) for add()/recall(). durability: "on_flush" or
"every_write". lock_timeout: seconds to wait for another writer. Raises IoError if the file
exists, InvalidArgumentError for a bad setting.)doc")
      .def_static(
          "open",
          [](const std::filesystem::path& path, bool read_only, const std::string& durability,
             double lock_timeout, bool untrusted, bool map_embeddings, bool text_on_demand,
             py::object embed) {
            OpenOptions options = open_options(read_only, durability, lock_timeout);
            options.untrusted = untrusted;
            options.map_embeddings = map_embeddings;
            options.text_on_demand = text_on_demand;
            std::optional<HDF5Memory> store;
            {
              py::gil_scoped_release nogil;
              store.emplace(HDF5Memory::open(path, options));
            }
            return new PyMemory(std::move(*store), std::move(embed));
          },
          "path"_a, "read_only"_a = false, py::kw_only(), "durability"_a = "on_flush",
          "lock_timeout"_a = 0.0, "untrusted"_a = false, "map_embeddings"_a = true,
          "text_on_demand"_a = true, "embed"_a = py::none(),
          "Opens an existing file (replaying its log). Raises LockedError when another process "
          "writes it, SchemaError/CorruptionError for a bad file. untrusted=True for a file "
          "that may be hostile: only HDF5's checksummed format (what edgehdf5 writes since "
          "0.3) is handed to HDF5; others raise SchemaError before HDF5 reads them. "
          "map_embeddings=False reads the embedding matrix instead of mapping it from the file "
          "(README, \"Mapped embeddings\"): for a file another program may truncate or rewrite "
          "in place while it is open. text_on_demand=False reads every text at open "
          "instead of when asked (README, \"Text on demand\"), for the same reason.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](PyMemory& self, py::object, py::object, py::object) {
             self.close();
             return false;
           })
      .def("close", &PyMemory::close,
           "Checkpoints and closes the file; raises what went wrong. Raises ViewsAliveError "
           "while numpy views of the columns exist. Idempotent.")
      .def_property_readonly("closed", &PyMemory::closed, "Whether close() was called.")
      .def("flush", [](PyMemory& self) { self.write([](HDF5Memory& s) { s.flush(); }, false); },
           "Makes every save durable (fsync), checkpointing when the log is large.")
      .def("checkpoint", [](PyMemory& self) { self.write([](HDF5Memory& s) { s.checkpoint(); }, false); },
           "Writes the current state into the .h5 file and empties the log.")
      .def("compact", [](PyMemory& self) { return self.write([](HDF5Memory& s) { return s.compact(); }, true); },
           "Drops removed memories from the arrays; returns how many rows went.")
      .def("snapshot",
           [](PyMemory& self, const std::filesystem::path& destination) {
             self.write([&](HDF5Memory& s) { s.snapshot(destination); }, false);
           },
           "destination"_a, "Writes a consistent copy of the memory to a new file.")
      .def(
          "save",
          [](PyMemory& self, const std::string& chunk, py::handle embedding,
             const std::string& session_id, const std::string& source_channel, py::handle tags,
             std::optional<double> timestamp) {
            RowsToSave rows;
            rows.rows = checked_rows(embedding, "embedding", 1, self.embedding_dim(), true);
            rows.chunks = {chunk};
            rows.sessions = {session_id};
            rows.channels = {source_channel};
            rows.tags = {tags_argument(tags, "tags")};
            rows.timestamps = {timestamp.value_or(now_seconds())};
            return self.write([&](HDF5Memory& store) { return store.save(make_entries(rows)[0]); }, true);
          },
          "chunk"_a, "embedding"_a, py::kw_only(), "session_id"_a = "", "source_channel"_a = "",
          "tags"_a = py::none(), "timestamp"_a = py::none(),
          "Saves one memory; embedding: a 1-D float32/float16 array of dim values. tags: a str "
          "('a,b') or a list of str. timestamp: seconds since the epoch (default now). Returns its id.")
      .def(
          "save_batch",
          [](PyMemory& self, py::handle chunks, py::handle embeddings, py::handle session_id,
             py::handle source_channel, py::handle tags, py::handle timestamps, py::handle timestamp) {
            if (timestamps.is_none()) timestamps = timestamp;  // one number for all rows, by its other name
            RowsToSave rows = rows_to_save(chunks, embeddings, self.embedding_dim(), session_id, source_channel,
                                           tags, timestamps);
            return save_rows(self, rows);
          },
          "chunks"_a, "embeddings"_a, py::kw_only(), "session_id"_a = "", "source_channel"_a = "",
          "tags"_a = py::none(), "timestamps"_a = py::none(), "timestamp"_a = py::none(),
          "Saves many memories at once (one log record): embeddings is a C-contiguous 2-D "
          "float32/float16 array, one row per chunk. Metadata: one value for all rows or one "
          "per row. All or nothing. Returns the ids (a list of int).")
      .def(
          "replace_embeddings",
          [](PyMemory& self, py::handle ids, py::handle embeddings, std::optional<std::string> embedder) {
            const std::vector<MemoryId> list = ids.cast<std::vector<MemoryId>>();
            Float32Rows rows = checked_rows(embeddings, "embeddings", 2, columns_of(embeddings), true);
            self.write(
                [&](HDF5Memory& store) {
                  store.replace_embeddings(list, std::span<const float>(rows.data, rows.rows * rows.dim),
                                           rows.dim, embedder.value_or(store.config().embedder));
                },
                true);
          },
          "ids"_a, "embeddings"_a, py::kw_only(), "embedder"_a = py::none(),
          "Replaces every memory's embedding (a new embedding model): ids are the active memories "
          "in increasing id order (as you read them to embed their chunks), embeddings a "
          "C-contiguous 2-D float32/float16 array with one row per id, of any dimension (it "
          "becomes the file's dim). embedder: the name the file records from then on (default: "
          "unchanged). Ids, chunks, metadata, sessions and the graph stay; the IVF-PQ index is "
          "dropped (build it again). One checkpoint: a crash leaves the old file or the new one. "
          "InvalidArgumentError (nothing changes) when the ids are not the active memories or a "
          "value is NaN/infinite.")
      .def(
          "reembed",
          [](PyMemory& self, py::object embed, std::optional<std::string> embedder, std::size_t batch_size) {
            if (batch_size == 0) throw Error(ErrorCode::invalid_argument, "batch_size: must be at least 1");
            const std::string name =
                embedder.value_or(self.read([](const HDF5Memory& s) { return s.config().embedder; }));
            if (embed.is_none()) embed = self.embed;
            const bool had_index = self.read([](const HDF5Memory& s) { return s.ivfpq_index() != nullptr; });
            const ActiveChunks active = active_chunks(self);
            std::size_t dim = 0;
            const std::vector<float> values = embed_for_replacement(active.chunks, embed, name, batch_size, dim);
            if (dim == 0) dim = self.embedding_dim();  // a callable had nothing to embed: it stays
            self.write([&](HDF5Memory& store) { store.replace_embeddings(active.ids, values, dim, name); }, true);
            return py::dict("memories"_a = active.ids.size(), "dim"_a = dim, "embedder"_a = name,
                            "index_dropped"_a = had_index);
          },
          py::kw_only(), "embed"_a = py::none(), "embedder"_a = py::none(), "batch_size"_a = 256,
          "Re-embeds every active memory's chunk and replaces the embeddings (replace_embeddings). "
          "embed: a callable list of str -> 2-D array, called batch_size chunks at a time (default: "
          "the Memory's embed=, else the built-in embedder named by embedder, such as 'hash:768'). "
          "embedder: the name the file records (default: unchanged). Returns {memories, dim, "
          "embedder, index_dropped}. Raises InvalidArgumentError when a save or remove ran between "
          "reading the chunks and replacing (nothing changes: call it again).")
      .def(
          "remove",
          [](PyMemory& self, py::handle ids) {
            std::vector<MemoryId> list;
            if (py::isinstance<py::int_>(ids)) {
              list.push_back(ids.cast<MemoryId>());
            } else {
              for (const py::handle& id : ids) list.push_back(id.cast<MemoryId>());
            }
            self.write(
                [&](HDF5Memory& store) {
                  // Check every id first, so that a bad one removes nothing.
                  const MemoryColumns& columns = store.columns();
                  for (MemoryId id : list) {
                    const std::ptrdiff_t row = columns.row_of(id);
                    if (row < 0 || columns.tombstones[static_cast<std::size_t>(row)] != 0) {
                      throw Error(ErrorCode::not_found, "ids: no active memory with id " + std::to_string(id));
                    }
                  }
                  for (MemoryId id : list) store.remove(id);
                },
                true);
          },
          "ids"_a, "Removes one id or an iterable of ids (all checked first: a missing id removes nothing).")
      .def_property_readonly("count", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.count_active(); });
      }, "Active memories (removed ones not counted).")
      .def("__len__", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.count_active(); });
      })
      .def_property_readonly("rows", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.count(); });
      }, "Rows in the arrays, removed-but-not-compacted ones included.")
      .def_property_readonly("dim", &PyMemory::embedding_dim, "The file's embedding_dim.")
      .def_property_readonly("embedder", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.config().embedder; });
      }, "The embedder name the file records.")
      .def_property_readonly("agent_id", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.config().agent_id; });
      }, "The agent id the file records (/meta agent_id).")
      .def_property_readonly("keyword_tokenizer", [](const PyMemory& self) {
        return std::string(keyword_tokenizer_name(
            self.read([](const HDF5Memory& s) { return s.config().keyword_tokenizer; })));
      }, "How keyword search splits text, as the file records it: 'porter' or 'unicode61'.")
      .def_property_readonly("float16", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.config().float16; });
      }, "Whether embeddings are stored as IEEE half.")
      .def_property_readonly("path", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.config().path.string(); });
      }, "The file's path.")
      .def_property_readonly("read_only", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.read_only(); });
      }, "Whether this handle was opened read-only.")
      .def_property_readonly("info", [](const PyMemory& self) {
        StoreInfo info = self.read([](const HDF5Memory& s) { return s.info(); });
        return py::dict("schema_version"_a = info.schema_version, "edgehdf5_version"_a = info.edgehdf5_version,
                        "sessions"_a = info.sessions, "entities"_a = info.entities,
                        "relations"_a = info.relations, "observations"_a = info.observations,
                        "log_records_replayed"_a = info.log_records_replayed, "log_bytes"_a = info.log_bytes);
      }, "What the file holds (sessions, entities, log size...).")
      .def_property_readonly("embeddings", [](py::object self) { return column_view(self, Column::embeddings); },
           "The stored embeddings, (rows, dim) float32 or float16: a read-only view, no copy. The view "
           "keeps this Memory alive; save/save_batch/remove/compact/close raise ViewsAliveError while "
           "any view exists, so a view never reads moved or freed memory.")
      .def_property_readonly("norms", [](py::object self) { return column_view(self, Column::norms); },
           "The L2 norm of each stored row: a read-only view (same rule as embeddings).")
      .def_property_readonly("tombstones", [](py::object self) { return column_view(self, Column::tombstones); },
           "1 for a removed row, else 0 (uint8): a read-only view (same rule as embeddings).")
      .def_property_readonly("ids", [](py::object self) { return column_view(self, Column::ids); },
           "The id of each row (int64): a read-only view (same rule as embeddings).")
      .def_property_readonly("_last_call_seconds", [](const PyMemory& self) { return self.last_call_seconds.load(); },
           "Seconds the previous call spent inside the C++ method (for the benchmark).");

  // ---- searches --------------------------------------------------------------------------
  define_search_methods(cls);
  cls.def(
          "build_index",
          [](PyMemory& self, std::size_t nlist, std::size_t sub_quantizers, std::size_t iterations,
             std::uint64_t seed, std::size_t training_sample, std::size_t pq_training_sample,
             std::size_t threads) {
            IVFPQParams params;
            params.nlist = nlist;
            params.sub_quantizers = sub_quantizers;
            params.iterations = iterations;
            params.seed = seed;
            params.training_sample = training_sample;
            params.pq_training_sample = pq_training_sample;
            params.threads = threads;
            return ivfpq_info_dict(self.write([&](HDF5Memory& s) { return s.build_ivfpq_index(params); }, false));
          },
          py::kw_only(), "nlist"_a = 0, "sub_quantizers"_a = 48, "iterations"_a = 10, "seed"_a = 1234,
          "training_sample"_a = 0, "pq_training_sample"_a = 0, "threads"_a = 0,
          "Trains the IVF-PQ index over the active memories (approximate search) and checkpoints; "
          "returns its info. Needs at least max(nlist, 256) active rows.")
      .def("drop_index", [](PyMemory& self) { return self.write([](HDF5Memory& s) { return s.drop_ivfpq_index(); }, false); },
           "Removes the IVF-PQ index; returns whether there was one.")
      .def_property_readonly("index_info", [](const PyMemory& self) -> py::object {
        std::optional<IVFPQInfo> info = self.read([](const HDF5Memory& s) -> std::optional<IVFPQInfo> {
          const IVFPQIndex* index = s.ivfpq_index();
          if (index == nullptr) return std::nullopt;
          return index->info();
        });
        return info ? py::object(ivfpq_info_dict(*info)) : py::object(py::none());
      }, "The IVF-PQ index's info, or None without one.")
      .def_readwrite("nprobe", &PyMemory::nprobe, "IVF-PQ lists scanned per query (default 16).")
      .def_readwrite("rerank", &PyMemory::rerank, "IVF-PQ candidates re-scored exactly (default 400).");

  // ---- text in, memories out ---------------------------------------------------------------
  cls.def(
         "add",
         [](PyMemory& self, py::handle text, py::object embed, py::handle session_id,
            py::handle source_channel, py::handle tags, py::handle timestamp) -> py::object {
           const bool one = py::isinstance<py::str>(text);
           std::vector<std::string> texts = texts_argument(text, "text");
           std::vector<float> vectors = embed_texts(self, texts, embed);
           const std::size_t n = texts.size();
           RowsToSave rows;
           rows.rows.rows = n;
           rows.rows.dim = n == 0 ? 0 : vectors.size() / n;
           rows.rows.widened = std::move(vectors);
           rows.rows.data = rows.rows.widened.data();
           rows.chunks = std::move(texts);
           rows.sessions = strings_argument(session_id, n, "session_id");
           rows.channels = strings_argument(source_channel, n, "source_channel");
           rows.tags = tags_per_row(tags, n);
           rows.timestamps = timestamps_argument(timestamp, n);
           py::list ids = save_rows(self, rows);
           if (one) return ids[0];
           return ids;
         },
         "text"_a, py::kw_only(), "embed"_a = py::none(), "session_id"_a = "", "source_channel"_a = "",
         "tags"_a = py::none(), "timestamp"_a = py::none(),
         "Embeds and saves a str (returns its id) or a list of str (returns the ids). embed: a callable "
         "list of str -> 2-D array (checked for shape and finiteness); default: the Memory's embed=, "
         "else the file's built-in embedder (hash:D).")
      .def(
          "recall",
          [](PyMemory& self, const std::string& question, std::size_t k, py::object embed,
             std::optional<std::string> session, std::optional<std::string> channel, py::object tags,
             bool all_tags, std::optional<double> after, std::optional<double> before,
             std::optional<double> half_life) {
            std::vector<float> vector = embed_texts(self, {question}, embed);
            SearchOptions options = vector_options(
                self, k, make_filter(session, channel, tags, all_tags, after, before, half_life),
                std::nullopt, std::nullopt, std::nullopt);
            return self.read([&](const HDF5Memory& s) {
              return with_metadata(s.search(vector, options), s.columns());
            });
          },
          "question"_a, "k"_a = 5, py::kw_only(), "embed"_a = py::none(), "session"_a = py::none(),
          "channel"_a = py::none(), "tags"_a = py::none(), "all_tags"_a = false, "after"_a = py::none(),
          "before"_a = py::none(), "half_life"_a = py::none(),
          "Embeds the question (as add() does) and returns the k closest memories (SearchResults).");

  // ---- sessions and the knowledge graph ------------------------------------------------------
  cls.def("add_session",
          [](PyMemory& self, const std::string& id, MemoryId start, MemoryId end, const std::string& channel,
             const std::string& summary) {
            self.write([&](HDF5Memory& s) { s.add_session(id, start, end, channel, summary); }, false);
          },
          "session_id"_a, "start_id"_a, "end_id"_a, "channel"_a = "", "summary"_a = "",
          "Records a session summary covering memory ids [start_id, end_id).")
      .def_property_readonly("sessions", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.sessions(); });
      }, "Every session, as a list of Session (a copy).")
      .def("add_entity",
           [](PyMemory& self, const std::string& name, const std::string& type, MemoryId embedding_id) {
             return self.write([&](HDF5Memory& s) { return s.add_entity(name, type, embedding_id); }, false);
           },
           "name"_a, "type"_a = "", "embedding_id"_a = -1, "Adds an entity; returns its id.")
      .def("add_relation",
           [](PyMemory& self, EntityId source, EntityId target, const std::string& type, float weight) {
             self.write([&](HDF5Memory& s) { s.add_relation(source, target, type, weight); }, false);
           },
           "source"_a, "target"_a, "type"_a, "weight"_a = 1.0f, "Adds source -[type]-> target. Raises NotFoundError.")
      .def("add_observation",
           [](PyMemory& self, EntityId entity, const std::string& text, MemoryId memory_id) {
             self.write([&](HDF5Memory& s) { s.add_observation(entity, text, memory_id); }, false);
           },
           "entity"_a, "text"_a, "memory_id"_a = -1, "Records a fact about an entity.")
      .def("remove_entity",
           [](PyMemory& self, EntityId id) { self.write([&](HDF5Memory& s) { s.remove_entity(id); }, false); },
           "id"_a, "Removes an entity with its relations and observations. Raises NotFoundError.")
      .def("remove_relations",
           [](PyMemory& self, EntityId source, EntityId target, const std::string& type) {
             return self.write([&](HDF5Memory& s) { return s.remove_relations(source, target, type); }, false);
           },
           "source"_a, "target"_a, "type"_a, "Removes every source -[type]-> target; returns how many.")
      .def("remove_observation",
           [](PyMemory& self, EntityId entity, const std::string& text) {
             return self.write([&](HDF5Memory& s) { return s.remove_observation(entity, text); }, false);
           },
           "entity"_a, "text"_a, "Removes one observation; returns whether it existed.")
      .def_property_readonly("entities", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.knowledge().entities(); });
      }, "Every entity (a copy).")
      .def_property_readonly("relations", [](const PyMemory& self) {
        return self.read([](const HDF5Memory& s) { return s.knowledge().relations(); });
      }, "Every relation (a copy).");
  define_graph_reads(cls);
}

}  // namespace edgehdf5::python
