#pragma once
// The read methods edgehdf5.Memory and edgehdf5.AsyncMemory share (searches, get, count,
// sessions, the knowledge graph), defined once for both bindings.
//
// `Store` is the Python object behind either class (PyMemory, PyAsyncStore). It provides:
//   auto read(Reader) const   runs Reader(const HDF5Memory&) under the store's shared lock
//                             without the GIL and returns what it returns;
//   std::size_t embedding_dim() const;
//   std::size_t nprobe, rerank (IVF-PQ defaults for searches that name none).

#include <cmath>
#include <optional>
#include <string>

#include "common.hpp"

namespace edgehdf5::python {

template <typename Store>
SearchOptions vector_options(const Store& store, std::size_t k, const SearchFilter& filter,
                             const std::optional<std::string>& strategy,
                             std::optional<std::size_t> nprobe, std::optional<std::size_t> rerank) {
  SearchOptions options;
  options.k = k;
  options.filter = filter;
  options.strategy = parse_strategy_argument(strategy);
  options.approximate.nprobe = nprobe.value_or(store.nprobe);
  options.approximate.rerank = rerank.value_or(store.rerank);
  return options;
}

template <typename Store>
void define_search_methods(py::class_<Store>& cls) {
  using namespace pybind11::literals;
  cls.def(
         "search",
         [](const Store& self, py::handle query, std::size_t k, std::optional<std::string> session,
            std::optional<std::string> channel, py::object tags, bool all_tags,
            std::optional<double> after, std::optional<double> before, std::optional<double> half_life,
            std::optional<std::string> strategy, std::optional<std::size_t> nprobe,
            std::optional<std::size_t> rerank) {
           Float32Rows q = checked_rows(query, "query", 1, self.embedding_dim(), true);
           SearchOptions options = vector_options(
               self, k, make_filter(session, channel, tags, all_tags, after, before, half_life),
               strategy, nprobe, rerank);
           return self.read([&](const HDF5Memory& s) {
             return with_metadata(s.search(std::span<const float>(q.data, q.dim), options), s.columns());
           });
         },
         "query"_a, "k"_a = 10, py::kw_only(), "session"_a = py::none(), "channel"_a = py::none(),
         "tags"_a = py::none(), "all_tags"_a = false, "after"_a = py::none(), "before"_a = py::none(),
         "half_life"_a = py::none(), "strategy"_a = "auto", "nprobe"_a = py::none(), "rerank"_a = py::none(),
         "Cosine top-k of a 1-D float32 query over the active memories: SearchResults (Hit: id, score, "
         "chunk, metadata; .metrics: strategy, isa, time). Filters: session, channel, tags (any, or "
         "all with all_tags), after/before (timestamps), half_life (recency weighting, seconds). "
         "strategy: auto, scalar, simd, blas, parallel, ivfpq, gpu.")
      .def(
          "search_batch",
          [](const Store& self, py::handle queries, std::size_t k, std::optional<std::string> session,
             std::optional<std::string> channel, py::object tags, bool all_tags,
             std::optional<double> after, std::optional<double> before, std::optional<double> half_life,
             std::optional<std::string> strategy, std::optional<std::size_t> nprobe,
             std::optional<std::size_t> rerank) {
            Float32Rows q = checked_rows(queries, "queries", 2, self.embedding_dim(), true);
            SearchOptions options = vector_options(
                self, k, make_filter(session, channel, tags, all_tags, after, before, half_life),
                strategy, nprobe, rerank);
            py::array_t<MemoryId> ids({static_cast<py::ssize_t>(q.rows), static_cast<py::ssize_t>(k)});
            py::array_t<float> scores({static_cast<py::ssize_t>(q.rows), static_cast<py::ssize_t>(k)});
            MemoryId* id_out = ids.mutable_data();
            float* score_out = scores.mutable_data();
            self.read([&](const HDF5Memory& s) {
              std::vector<SearchResults> results =
                  s.search_batch(std::span<const float>(q.data, q.rows * q.dim), q.rows, options);
              for (std::size_t i = 0; i < q.rows; ++i) {
                for (std::size_t j = 0; j < k; ++j) {
                  const bool have = j < results[i].hits.size();
                  id_out[i * k + j] = have ? results[i].hits[j].id : -1;
                  score_out[i * k + j] = have ? results[i].hits[j].score : std::nanf("");
                }
              }
            });
            return py::make_tuple(ids, scores);
          },
          "queries"_a, "k"_a = 10, py::kw_only(), "session"_a = py::none(), "channel"_a = py::none(),
          "tags"_a = py::none(), "all_tags"_a = false, "after"_a = py::none(), "before"_a = py::none(),
          "half_life"_a = py::none(), "strategy"_a = "auto", "nprobe"_a = py::none(), "rerank"_a = py::none(),
          "Top-k of every row of a 2-D (q, dim) query array in one pass: (ids int64, scores float32), "
          "each of shape (q, k), best first; a query with fewer than k hits is padded with id -1, score NaN.")
      .def(
          "keyword_search",
          [](const Store& self, const std::string& text, std::size_t k, std::optional<std::string> session,
             std::optional<std::string> channel, py::object tags, bool all_tags,
             std::optional<double> after, std::optional<double> before, std::optional<double> half_life) {
            SearchFilter filter = make_filter(session, channel, tags, all_tags, after, before, half_life);
            return self.read([&](const HDF5Memory& s) {
              return with_metadata(s.keyword_search(text, k, filter), s.columns());
            });
          },
          "text"_a, "k"_a = 10, py::kw_only(), "session"_a = py::none(), "channel"_a = py::none(),
          "tags"_a = py::none(), "all_tags"_a = false, "after"_a = py::none(), "before"_a = py::none(),
          "half_life"_a = py::none(), "BM25 top-k over the chunks (the filters of search()).")
      .def(
          "hybrid_search",
          [](const Store& self, py::handle query, const std::string& text, std::size_t k,
             const std::string& fusion, float vector_weight, float keyword_weight, std::size_t candidates,
             std::optional<std::string> session, std::optional<std::string> channel, py::object tags,
             bool all_tags, std::optional<double> after, std::optional<double> before,
             std::optional<double> half_life, std::optional<std::string> strategy) {
            Float32Rows q = checked_rows(query, "query", 1, self.embedding_dim(), true);
            HybridOptions options = hybrid_options(k, fusion, vector_weight, keyword_weight, candidates);
            options.filter = make_filter(session, channel, tags, all_tags, after, before, half_life);
            options.strategy = parse_strategy_argument(strategy);
            options.approximate.nprobe = self.nprobe;
            options.approximate.rerank = self.rerank;
            return self.read([&](const HDF5Memory& s) {
              return with_metadata(s.hybrid_search(std::span<const float>(q.data, q.dim), text, options),
                                   s.columns());
            });
          },
          "query"_a, "text"_a, "k"_a = 10, py::kw_only(), "fusion"_a = "weighted", "vector_weight"_a = 0.7f,
          "keyword_weight"_a = 0.3f, "candidates"_a = 100, "session"_a = py::none(), "channel"_a = py::none(),
          "tags"_a = py::none(), "all_tags"_a = false, "after"_a = py::none(), "before"_a = py::none(),
          "half_life"_a = py::none(), "strategy"_a = "auto",
          "Vector + keyword fusion: fusion='weighted' (min-max normalised, weights) or 'rrf'.")
      .def(
          "get",
          [](const Store& self, MemoryId id) {
            MemoryEntry entry = self.read([&](const HDF5Memory& s) { return s.get(id); });
            return entry_dict(id, entry);
          },
          "id"_a, "The memory with this id as a dict (a copy). Raises NotFoundError (a KeyError).");
}

template <typename Store>
void define_graph_reads(py::class_<Store>& cls) {
  using namespace pybind11::literals;
  cls.def("session_summary",
          [](const Store& self, const std::string& id) {
            return self.read([&](const HDF5Memory& s) { return s.get_session_summary(id); });
          },
          "session_id"_a, "The summary of a session. Raises NotFoundError.")
      .def("entity",
           [](const Store& self, EntityId id) {
             return self.read([&](const HDF5Memory& s) {
               const Entity* entity = s.knowledge().find_entity(id);
               if (entity == nullptr) throw Error(ErrorCode::not_found, "id: no entity " + std::to_string(id));
               return *entity;
             });
           },
           "id"_a, "The entity with this id. Raises NotFoundError (a KeyError).")
      .def("find_entity",
           [](const Store& self, const std::string& name) {
             return self.read([&](const HDF5Memory& s) -> std::optional<Entity> {
               const Entity* entity = s.knowledge().find_entity_by_name(name);
               if (entity == nullptr) return std::nullopt;
               return *entity;
             });
           },
           "name"_a, "The first entity with exactly this name, or None.")
      .def("entity_by_name",
           [](const Store& self, const std::string& name) {
             return self.read([&](const HDF5Memory& s) -> std::optional<EntityId> {
               const Entity* entity = s.knowledge().find_entity_by_name(name);
               if (entity == nullptr) return std::nullopt;
               return entity->id;
             });
           },
           "name"_a, "The id of the first entity with exactly this name, or None.")
      .def("neighbors",
           [](const Store& self, EntityId id) {
             return self.read([&](const HDF5Memory& s) { return s.knowledge().neighbors(id); });
           },
           "id"_a, "Ids of the entities joined to `id` by a relation either way, sorted.")
      .def("k_hop",
           [](const Store& self, EntityId start, std::size_t hops) {
             return self.read([&](const HDF5Memory& s) { return s.knowledge().traverse(start, hops); });
           },
           "start"_a, "hops"_a, "Every entity within `hops` relations of start as (id, distance), nearest "
           "first, start included. Raises NotFoundError.")
      .def("relations_from",
           [](const Store& self, EntityId id) {
             return self.read([&](const HDF5Memory& s) { return s.knowledge().relations_from(id); });
           },
           "id"_a, "Relations whose source is id.")
      .def("relations_to",
           [](const Store& self, EntityId id) {
             return self.read([&](const HDF5Memory& s) { return s.knowledge().relations_to(id); });
           },
           "id"_a, "Relations whose target is id.")
      .def("observations",
           [](const Store& self, EntityId id) {
             return self.read([&](const HDF5Memory& s) { return s.knowledge().observations_of(id); });
           },
           "entity"_a, "The observations of an entity, in the order added.");
}

}  // namespace edgehdf5::python
