// edgehdf5._AsyncStore: the blocking half of edgehdf5.AsyncMemory (python/edgehdf5/__init__.py
// runs each call on an executor thread and awaits it). Every call releases the GIL while it
// waits for the C++ AsyncHDF5Memory (its future, or its shared lock for reads).

#include <chrono>
#include <optional>

#include "common.hpp"

namespace edgehdf5::python {

using namespace pybind11::literals;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

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

struct PyAsyncStore {
  std::optional<AsyncHDF5Memory> store;
  AsyncHDF5Memory& get() {
    if (!store) throw Error(ErrorCode::invalid_argument, "edgehdf5.AsyncMemory: the memory is closed");
    return *store;
  }
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
  py::class_<PyAsyncStore>(m, "_AsyncStore", "The C++ AsyncHDF5Memory; use edgehdf5.AsyncMemory.")
      .def_static(
          "create",
          [](const std::string& path, std::size_t dim, std::optional<std::string> embedder, bool float16,
             const std::string& durability, std::size_t max_group, double flush_interval) {
            MemoryConfig config;
            config.path = path;
            config.embedding_dim = dim;
            config.embedder = embedder.value_or("hash:" + std::to_string(dim));
            config.float16 = float16;
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
          "path"_a, "dim"_a, "embedder"_a, "float16"_a, "durability"_a, "max_group"_a, "flush_interval"_a)
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
             Float32Rows rows = checked_rows(embedding, "embedding", 1, store.config().embedding_dim, true);
             MemoryEntry entry;
             entry.chunk = chunk;
             entry.embedding.assign(rows.data, rows.data + rows.dim);
             entry.session_id = session_id;
             entry.source_channel = source_channel;
             entry.tags = tags_argument(tags, "tags");
             entry.timestamp = timestamp.value_or(now_seconds());
             return wait(store.save(std::move(entry)));
           },
           "chunk"_a, "embedding"_a, "session_id"_a, "source_channel"_a, "tags"_a, "timestamp"_a)
      .def("save_batch",
           [](PyAsyncStore& self, std::vector<std::string> chunks, py::handle embeddings,
              const std::string& session_id, const std::string& source_channel, py::handle tags,
              std::optional<double> timestamp) {
             AsyncHDF5Memory& store = self.get();
             Float32Rows rows = checked_rows(embeddings, "embeddings", 2, store.config().embedding_dim, true);
             if (rows.rows != chunks.size()) {
               throw Error(ErrorCode::invalid_argument, "embeddings: " + std::to_string(rows.rows) +
                                                            " rows for " + std::to_string(chunks.size()) + " chunks");
             }
             std::vector<MemoryEntry> entries(rows.rows);
             const std::string tag_text = tags_argument(tags, "tags");
             const double when = timestamp.value_or(now_seconds());
             for (std::size_t i = 0; i < rows.rows; ++i) {
               entries[i].chunk = std::move(chunks[i]);
               entries[i].embedding.assign(rows.data + i * rows.dim, rows.data + (i + 1) * rows.dim);
               entries[i].session_id = session_id;
               entries[i].source_channel = source_channel;
               entries[i].tags = tag_text;
               entries[i].timestamp = when;
             }
             std::vector<MemoryId> ids = wait(store.save_batch(std::move(entries)));
             return py::array_t<MemoryId>(static_cast<py::ssize_t>(ids.size()), ids.data());
           },
           "chunks"_a, "embeddings"_a, "session_id"_a, "source_channel"_a, "tags"_a, "timestamp"_a)
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
      .def("search",
           [](PyAsyncStore& self, py::handle query, std::size_t k, std::optional<std::string> session,
              std::optional<std::string> channel, py::object tags, bool all_tags, std::optional<double> after,
              std::optional<double> before, std::optional<double> half_life, std::optional<std::string> strategy) {
             AsyncHDF5Memory& store = self.get();
             Float32Rows q = checked_rows(query, "query", 1, store.config().embedding_dim, true);
             SearchOptions options;
             options.k = k;
             options.filter = make_filter(session, channel, tags, all_tags, after, before, half_life);
             options.strategy = parse_strategy_argument(strategy);
             py::gil_scoped_release nogil;
             return store.read([&](const HDF5Memory& memory) {
               return with_metadata(memory.search(std::span<const float>(q.data, q.dim), options),
                                    memory.columns());
             });
           })
      .def("get",
           [](PyAsyncStore& self, MemoryId id) {
             AsyncHDF5Memory& store = self.get();
             MemoryEntry entry;
             {
               py::gil_scoped_release nogil;
               entry = store.get(id);
             }
             return py::dict("id"_a = id, "chunk"_a = entry.chunk,
                             "embedding"_a = py::array_t<float>(static_cast<py::ssize_t>(entry.embedding.size()),
                                                                entry.embedding.data()),
                             "session_id"_a = entry.session_id, "source_channel"_a = entry.source_channel,
                             "tags"_a = entry.tags, "timestamp"_a = entry.timestamp);
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
      });
}

}  // namespace edgehdf5::python
