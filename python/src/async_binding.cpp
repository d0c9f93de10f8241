// edgehdf5._AsyncStore: the blocking half of edgehdf5.AsyncMemory (python/edgehdf5/__init__.py
// runs each call on an executor thread and awaits it). Every call releases the GIL while it
// waits for the C++ AsyncHDF5Memory (its future, or its shared lock for reads).

#include <chrono>
#include <optional>
#include <utility>

#include "common.hpp"
#include "read_methods.hpp"

namespace edgehdf5::python {

using namespace pybind11::literals;

namespace {

// Waits for a future without the GIL.
template <typename T>
T wait(std::future<T> future) {
  py::gil_scoped_release nogil;
  return future.get();
}

void wait(std::future<void> future) {
  py::gil_scoped_release nogil;
  future.get();
}

// Thread safety: AsyncHDF5Memory's own (changes queue to its writer thread, reads take its
// shared lock); `store` itself is only replaced by close(), which AsyncMemory awaits.
struct PyAsyncStore {
  std::optional<AsyncHDF5Memory> store;
  std::size_t nprobe = 16;   // IVF-PQ lists scanned per query
  std::size_t rerank = 400;  // IVF-PQ candidates re-scored exactly

  const AsyncHDF5Memory& get() const {
    if (!store) throw Error(ErrorCode::invalid_argument, "edgehdf5.AsyncMemory: the memory is closed");
    return *store;
  }
  AsyncHDF5Memory& get() { return const_cast<AsyncHDF5Memory&>(std::as_const(*this).get()); }

  // Runs reader(const HDF5Memory&) under the store's shared lock without the GIL (the
  // interface read_methods.hpp expects).
  template <typename Reader>
  auto read(Reader&& reader) const {
    const AsyncHDF5Memory& memory = get();
    py::gil_scoped_release nogil;
    return memory.read(std::forward<Reader>(reader));
  }
  std::size_t embedding_dim() const { return get().config().embedding_dim; }
};

AsyncConfig async_config(std::size_t max_group, double flush_interval) {
  AsyncConfig config;
  config.max_group = max_group;
  config.flush_interval = std::chrono::milliseconds(static_cast<long long>(flush_interval * 1000.0));
  return config;
}

OpenOptions options_for(const std::string& durability) {
  OpenOptions options;
  if (durability == "every_write") {
    options.durability = Durability::every_write;
  } else if (durability != "on_flush") {
    throw Error(ErrorCode::invalid_argument,
                "durability: expected 'on_flush' or 'every_write', got '" + durability + "'");
  }
  return options;
}

}  // namespace

void register_async(py::module_& m) {
  py::class_<PyAsyncStore> cls(m, "_AsyncStore", "The C++ AsyncHDF5Memory; use edgehdf5.AsyncMemory.");
  cls.def_static(
          "create",
          [](const std::string& path, std::size_t dim, std::optional<std::string> embedder, bool float16,
             const std::string& tokenizer, const std::string& durability, std::size_t max_group,
             double flush_interval) {
            MemoryConfig config;
            config.path = path;
            config.embedding_dim = dim;
            config.embedder = embedder.value_or("hash:" + std::to_string(dim));
            config.float16 = float16;
            config.keyword_tokenizer = tokenizer_argument(tokenizer);
            auto* out = new PyAsyncStore;
            py::gil_scoped_release nogil;
            try {
              out->store.emplace(AsyncHDF5Memory::create(config, options_for(durability),
                                                         async_config(max_group, flush_interval)));
            } catch (...) {
              delete out;
              throw;
            }
            return out;
          },
          "path"_a, "dim"_a, "embedder"_a, "float16"_a, "tokenizer"_a, "durability"_a, "max_group"_a,
          "flush_interval"_a)
      .def_static(
          "open",
          [](const std::string& path, const std::string& durability, std::size_t max_group,
             double flush_interval) {
            auto* out = new PyAsyncStore;
            py::gil_scoped_release nogil;
            try {
              out->store.emplace(AsyncHDF5Memory::open(path, options_for(durability),
                                                       async_config(max_group, flush_interval)));
            } catch (...) {
              delete out;
              throw;
            }
            return out;
          },
          "path"_a, "durability"_a, "max_group"_a, "flush_interval"_a)
      .def_property_readonly("dim", [](PyAsyncStore& self) { return self.get().config().embedding_dim; })
      .def_property_readonly("embedder", [](PyAsyncStore& self) { return self.get().config().embedder; })
      .def("save",
           [](PyAsyncStore& self, const std::string& chunk, py::handle embedding, const std::string& session_id,
              const std::string& source_channel, py::handle tags, std::optional<double> timestamp) {
             AsyncHDF5Memory& store = self.get();
             RowsToSave rows;
             rows.rows = checked_rows(embedding, "embedding", 1, store.config().embedding_dim, true);
             rows.chunks = {chunk};
             rows.sessions = {session_id};
             rows.channels = {source_channel};
             rows.tags = {tags_argument(tags, "tags")};
             rows.timestamps = {timestamp.value_or(now_seconds())};
             return wait(store.save(std::move(make_entries(rows)[0])));
           },
           "chunk"_a, "embedding"_a, "session_id"_a, "source_channel"_a, "tags"_a, "timestamp"_a)
      .def("save_batch",
           [](PyAsyncStore& self, py::handle chunks, py::handle embeddings, py::handle session_id,
              py::handle source_channel, py::handle tags, py::handle timestamps) {
             AsyncHDF5Memory& store = self.get();
             RowsToSave rows = rows_to_save(chunks, embeddings, store.config().embedding_dim, session_id,
                                            source_channel, tags, timestamps);
             std::future<std::vector<MemoryId>> saved;
             {
               py::gil_scoped_release nogil;
               saved = store.save_batch(make_entries(rows));
             }
             std::vector<MemoryId> ids = wait(std::move(saved));
             return py::array_t<MemoryId>(static_cast<py::ssize_t>(ids.size()), ids.data());
           },
           "chunks"_a, "embeddings"_a, "session_id"_a, "source_channel"_a, "tags"_a, "timestamps"_a)
      .def("remove", [](PyAsyncStore& self, MemoryId id) { wait(self.get().remove(id)); }, "id"_a)
      .def("add_session",
           [](PyAsyncStore& self, std::string id, MemoryId start, MemoryId end, std::string channel,
              std::string summary) {
             wait(self.get().add_session(std::move(id), start, end, std::move(channel), std::move(summary)));
           })
      .def("add_entity",
           [](PyAsyncStore& self, std::string name, std::string type, MemoryId embedding_id) {
             return wait(self.get().add_entity(std::move(name), std::move(type), embedding_id));
           })
      .def("add_relation",
           [](PyAsyncStore& self, EntityId source, EntityId target, std::string type, float weight) {
             wait(self.get().add_relation(source, target, std::move(type), weight));
           })
      .def("flush", [](PyAsyncStore& self) {
        AsyncHDF5Memory& store = self.get();
        py::gil_scoped_release nogil;
        store.flush();
      })
      .def("close", [](PyAsyncStore& self) {
        if (!self.store) return;
        py::gil_scoped_release nogil;
        // The store is dropped even when shutdown throws: AsyncHDF5Memory repeats the error.
        std::optional<AsyncHDF5Memory> store = std::move(self.store);
        self.store.reset();
        store->shutdown();
      })
      .def("count", [](PyAsyncStore& self) {
        AsyncHDF5Memory& store = self.get();
        py::gil_scoped_release nogil;
        return store.count_active();
      })
      .def("stats", [](PyAsyncStore& self) {
        AsyncStats s = self.get().stats();
        return py::dict("requests"_a = s.requests, "failed_requests"_a = s.failed_requests, "groups"_a = s.groups,
                        "syncs"_a = s.syncs, "reopens"_a = s.reopens, "largest_group"_a = s.largest_group,
                        "queued"_a = s.queued);
      })
      .def("sessions", [](const PyAsyncStore& self) {
        return self.read([](const HDF5Memory& s) { return s.sessions(); });
      })
      .def("entities", [](const PyAsyncStore& self) {
        return self.read([](const HDF5Memory& s) { return s.knowledge().entities(); });
      })
      .def("relations", [](const PyAsyncStore& self) {
        return self.read([](const HDF5Memory& s) { return s.knowledge().relations(); });
      })
      .def_readwrite("nprobe", &PyAsyncStore::nprobe)
      .def_readwrite("rerank", &PyAsyncStore::rerank);
  define_search_methods(cls);
  define_graph_reads(cls);
}

}  // namespace edgehdf5::python
