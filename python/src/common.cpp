// Errors, argument checks and records of the Python extension (common.hpp).

#include "common.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

namespace edgehdf5::python {

using namespace pybind11::literals;

namespace {

// The Python classes, created once by register_errors (module lifetime: never freed).
PyObject* error_base = nullptr;
PyObject* views_alive_error = nullptr;
PyObject* error_classes[9] = {};

// Makes edgehdf5.<name> deriving from `bases` and records its code name as `code`.
PyObject* make_class(py::module_& module, const char* name, py::tuple bases, const char* code,
                     const char* doc) {
  std::string qualified = std::string("edgehdf5.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  py::handle handle(cls);
  handle.attr("code") = code == nullptr ? py::none() : py::object(py::str(code));
  module.attr(name) = py::reinterpret_borrow<py::object>(handle);
  return cls;
}

}  // namespace

void register_errors(py::module_& module) {
  error_base = make_class(module, "Error", py::make_tuple(py::handle(PyExc_Exception)), nullptr,
                          "Base of every error edgehdf5 raises; `code` names the kind.");
  py::handle base(error_base);
  struct Kind {
    ErrorCode code;
    const char* name;
    PyObject* extra;  // a builtin exception it also is, or null
    const char* doc;
  };
  const Kind kinds[] = {
      {ErrorCode::invalid_argument, "InvalidArgumentError", PyExc_ValueError,
       "The caller passed something refused (wrong dim, NaN, k = 0, a closed handle...)."},
      {ErrorCode::not_found, "NotFoundError", PyExc_KeyError,
       "An id, session or entity that does not exist."},
      {ErrorCode::io, "IoError", PyExc_OSError, "The operating system refused a file operation."},
      {ErrorCode::hdf5, "HDF5Error", nullptr, "The HDF5 library reported an error."},
      {ErrorCode::schema, "SchemaError", nullptr, "The file is HDF5 but not an edgehdf5 memory."},
      {ErrorCode::corruption, "CorruptionError", nullptr, "A checksum or structure check failed."},
      {ErrorCode::locked, "LockedError", nullptr, "Another process holds the file for writing."},
      {ErrorCode::read_only, "ReadOnlyError", nullptr, "A write on a handle opened read-only."},
      {ErrorCode::unsupported, "UnsupportedError", PyExc_NotImplementedError,
       "A feature this build or this file does not support."},
  };
  for (const Kind& kind : kinds) {
    py::tuple bases = kind.extra == nullptr ? py::make_tuple(base)
                                            : py::make_tuple(base, py::handle(kind.extra));
    error_classes[static_cast<int>(kind.code)] =
        make_class(module, kind.name, bases, std::string(error_code_name(kind.code)).c_str(),
                   kind.doc);
  }
  views_alive_error = make_class(
      module, "ViewsAliveError", py::make_tuple(base, py::handle(PyExc_RuntimeError)),
      "views_alive",
      "A save, remove, compact or close was refused because numpy views of the store's arrays "
      "(embeddings, norms, tombstones, ids) are alive: del them or take .copy() first.");

  py::register_exception_translator([](std::exception_ptr pending) {
    try {
      if (pending) std::rethrow_exception(pending);
    } catch (const Error& error) {
      PyErr_SetString(error_classes[static_cast<int>(error.code())], error.what());
    } catch (const ViewsAlive& error) {
      PyErr_SetString(views_alive_error, error.what());
    }
  });
}

namespace {

[[noreturn]] void refuse(const char* argument, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, std::string(argument) + ": " + what);
}

}  // namespace

Float32Rows checked_rows(const py::handle& object, const char* argument, std::size_t ndim,
                         std::size_t dim, bool allow_half) {
  if (!py::isinstance<py::array>(object)) {
    refuse(argument, std::string("expected a numpy array, got ") +
                         std::string(py::str(object.get_type().attr("__name__"))));
  }
  auto array = py::reinterpret_borrow<py::array>(object);
  const bool is_f32 = array.dtype().is(py::dtype::of<float>());
  const bool is_f16 = array.dtype().kind() == 'f' && array.dtype().itemsize() == 2;
  if (!is_f32 && !(allow_half && is_f16)) {
    refuse(argument, std::string("dtype must be float32") + (allow_half ? " or float16" : "") +
                         ", got " + std::string(py::str(array.dtype())) +
                         " (convert with .astype(numpy.float32))");
  }
  if (static_cast<std::size_t>(array.ndim()) != ndim) {
    refuse(argument, "expected a " + std::to_string(ndim) + "-D array, got " +
                         std::to_string(array.ndim()) + "-D");
  }
  if (!(array.flags() & py::array::c_style)) {
    refuse(argument, "array must be C-contiguous (use numpy.ascontiguousarray)");
  }
  Float32Rows rows;
  rows.rows = ndim == 1 ? 1 : static_cast<std::size_t>(array.shape(0));
  rows.dim = static_cast<std::size_t>(array.shape(static_cast<py::ssize_t>(ndim) - 1));
  if (rows.dim != dim) {
    refuse(argument, "expected " + std::to_string(dim) + " values per vector (the file's "
                         "embedding_dim), got " + std::to_string(rows.dim));
  }
  const std::size_t values = rows.rows * rows.dim;
  if (is_f16) {
    const auto* bits = static_cast<const half_bits*>(array.data());
    rows.widened.resize(values);
    halves_to_floats(std::span<const half_bits>(bits, values), rows.widened);
    rows.data = rows.widened.data();
  } else {
    rows.data = static_cast<const float*>(array.data());
  }
  const std::size_t i =
      first_value_beyond(std::span<const float>(rows.data, values), std::numeric_limits<float>::max());
  if (i < values) {
    refuse(argument, (ndim == 1 ? std::string("vector") : "row " + std::to_string(i / dim)) +
                         " holds a NaN or infinite value at column " + std::to_string(i % dim));
  }
  rows.owner = array;
  return rows;
}

std::string tags_argument(const py::handle& tags, const char* argument) {
  if (tags.is_none()) return {};
  if (py::isinstance<py::str>(tags)) return tags.cast<std::string>();
  if (!py::isinstance<py::sequence>(tags)) refuse(argument, "expected a str or a list of str");
  std::string joined;
  for (const py::handle& tag : tags) {
    if (!py::isinstance<py::str>(tag)) refuse(argument, "every tag must be a str");
    if (!joined.empty()) joined += ',';
    joined += tag.cast<std::string>();
  }
  return joined;
}

std::vector<std::string> strings_argument(const py::handle& value, std::size_t count,
                                          const char* argument) {
  if (value.is_none()) return std::vector<std::string>(count);
  if (py::isinstance<py::str>(value)) return std::vector<std::string>(count, value.cast<std::string>());
  if (!py::isinstance<py::sequence>(value)) {
    throw Error(ErrorCode::invalid_argument, std::string(argument) + ": expected a str or a list of str");
  }
  auto sequence = py::reinterpret_borrow<py::sequence>(value);
  if (sequence.size() != count) {
    throw Error(ErrorCode::invalid_argument,
                std::string(argument) + ": expected " + std::to_string(count) +
                    " values (one per chunk), got " + std::to_string(sequence.size()));
  }
  std::vector<std::string> out;
  out.reserve(count);
  for (const py::handle& item : sequence) {
    if (!py::isinstance<py::str>(item)) {
      throw Error(ErrorCode::invalid_argument, std::string(argument) + ": every value must be a str");
    }
    out.push_back(item.cast<std::string>());
  }
  return out;
}

std::vector<std::string> tags_per_row(const py::handle& tags, std::size_t count) {
  // A str or a flat list of str: the same tags for every row. A list of lists: one per row.
  if (tags.is_none() || py::isinstance<py::str>(tags)) {
    return std::vector<std::string>(count, tags_argument(tags, "tags"));
  }
  auto sequence = py::reinterpret_borrow<py::sequence>(tags);
  bool nested = sequence.size() > 0 && !py::isinstance<py::str>(sequence[0]);
  if (!nested) return std::vector<std::string>(count, tags_argument(tags, "tags"));
  if (sequence.size() != count) {
    throw Error(ErrorCode::invalid_argument, "tags: expected " + std::to_string(count) +
                                                 " lists (one per chunk), got " +
                                                 std::to_string(sequence.size()));
  }
  std::vector<std::string> out;
  for (const py::handle& row : sequence) out.push_back(tags_argument(row, "tags"));
  return out;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<double> timestamps_argument(const py::handle& value, std::size_t count) {
  if (value.is_none()) return std::vector<double>(count, now_seconds());
  if (py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)) {
    return std::vector<double>(count, value.cast<double>());
  }
  auto values = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(value);
  if (!values || values.ndim() != 1 || static_cast<std::size_t>(values.shape(0)) != count) {
    throw Error(ErrorCode::invalid_argument,
                "timestamps: expected a number or " + std::to_string(count) + " numbers");
  }
  return std::vector<double>(values.data(), values.data() + count);
}

RowsToSave rows_to_save(const py::handle& chunks, const py::handle& embeddings, std::size_t dim,
                        const py::handle& session_id, const py::handle& source_channel,
                        const py::handle& tags, const py::handle& timestamps) {
  RowsToSave out;
  out.rows = checked_rows(embeddings, "embeddings", 2, dim, true);
  if (py::isinstance<py::str>(chunks)) refuse("chunks", "expected a list of str, got a str");
  if (!py::isinstance<py::sequence>(chunks)) refuse("chunks", "expected a list of str");
  out.chunks = strings_argument(chunks, py::len(chunks), "chunks");
  if (out.chunks.size() != out.rows.rows) {
    refuse("embeddings", std::to_string(out.rows.rows) + " rows for " +
                             std::to_string(out.chunks.size()) + " chunks");
  }
  const std::size_t n = out.chunks.size();
  out.sessions = strings_argument(session_id, n, "session_id");
  out.channels = strings_argument(source_channel, n, "source_channel");
  out.tags = tags_per_row(tags, n);
  out.timestamps = timestamps_argument(timestamps, n);
  return out;
}

std::vector<MemoryEntry> make_entries(RowsToSave& rows) {
  const Float32Rows& vectors = rows.rows;
  std::vector<MemoryEntry> entries(vectors.rows);
  for (std::size_t i = 0; i < vectors.rows; ++i) {
    MemoryEntry& entry = entries[i];
    entry.chunk = std::move(rows.chunks[i]);
    entry.embedding.assign(vectors.data + i * vectors.dim, vectors.data + (i + 1) * vectors.dim);
    entry.session_id = std::move(rows.sessions[i]);
    entry.source_channel = std::move(rows.channels[i]);
    entry.tags = std::move(rows.tags[i]);
    entry.timestamp = rows.timestamps[i];
  }
  return entries;
}

py::dict entry_dict(MemoryId id, const MemoryEntry& entry) {
  return py::dict("id"_a = id, "chunk"_a = entry.chunk,
                  "embedding"_a = py::array_t<float>(static_cast<py::ssize_t>(entry.embedding.size()),
                                                     entry.embedding.data()),
                  "session_id"_a = entry.session_id, "source_channel"_a = entry.source_channel,
                  "tags"_a = entry.tags, "timestamp"_a = entry.timestamp);
}

SearchFilter make_filter(const std::optional<std::string>& session,
                         const std::optional<std::string>& channel, const py::object& tags,
                         bool all_tags, std::optional<double> after,
                         std::optional<double> before, std::optional<double> half_life) {
  SearchFilter filter;
  filter.session_id = session;
  filter.source_channel = channel;
  if (!tags.is_none()) {
    if (py::isinstance<py::str>(tags)) {
      filter.tags.push_back(tags.cast<std::string>());
    } else {
      for (const py::handle& tag : tags) {
        if (!py::isinstance<py::str>(tag)) refuse("tags", "every tag must be a str");
        filter.tags.push_back(tag.cast<std::string>());
      }
    }
  }
  filter.all_tags = all_tags;
  filter.after = after;
  filter.before = before;
  if (half_life && !(*half_life > 0.0)) refuse("half_life", "must be > 0 seconds");
  filter.half_life_seconds = half_life;
  return filter;
}

std::optional<Strategy> parse_strategy_argument(const std::optional<std::string>& strategy) {
  if (!strategy || *strategy == "auto") return std::nullopt;
  return parse_strategy(*strategy);
}

KeywordTokenizer tokenizer_argument(const std::string& name) {
  const std::optional<KeywordTokenizer> tokenizer = parse_keyword_tokenizer(name);
  if (!tokenizer) refuse("tokenizer", "expected 'porter' or 'unicode61', got '" + name + "'");
  return *tokenizer;
}

HybridOptions hybrid_options(std::size_t k, const std::string& fusion, float vector_weight,
                             float keyword_weight, std::size_t candidates) {
  HybridOptions options;
  options.k = k;
  if (fusion == "weighted") {
    options.fusion = Fusion::weighted;
  } else if (fusion == "rrf") {
    options.fusion = Fusion::rrf;
  } else {
    refuse("fusion", "expected 'weighted' or 'rrf', got '" + fusion + "'");
  }
  options.vector_weight = vector_weight;
  options.keyword_weight = keyword_weight;
  options.candidates = candidates;
  return options;
}

Results with_metadata(const SearchResults& results, const MemoryColumns& columns) {
  Results out;
  out.metrics = results.metrics;
  out.hits.reserve(results.hits.size());
  for (const SearchHit& hit : results.hits) {
    Hit record;
    record.id = hit.id;
    record.score = hit.score;
    const std::ptrdiff_t row = columns.row_of(hit.id);
    if (row >= 0) {
      const auto r = static_cast<std::size_t>(row);
      record.chunk = columns.chunks[r];
      record.session_id = columns.session_ids[r];
      record.source_channel = columns.source_channels[r];
      record.tags = columns.tags[r];
      record.timestamp = columns.timestamps[r];
    }
    out.hits.push_back(std::move(record));
  }
  return out;
}

namespace {

py::list split_tags(const std::string& tags) {
  py::list out;
  std::size_t start = 0;
  while (start <= tags.size() && !tags.empty()) {
    const std::size_t comma = tags.find(',', start);
    const std::size_t end = comma == std::string::npos ? tags.size() : comma;
    if (end > start) out.append(py::str(tags.substr(start, end - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

void register_records(py::module_& m) {
  py::class_<Hit>(m, "Hit", "One search hit: the memory's id, its score and its metadata.")
      .def_readonly("id", &Hit::id, "The memory's id.")
      .def_readonly("score", &Hit::score, "Cosine similarity, BM25 or fused score.")
      .def_readonly("chunk", &Hit::chunk, "The memory's text.")
      .def_readonly("session_id", &Hit::session_id, "The session it was saved in.")
      .def_readonly("source_channel", &Hit::source_channel, "Where it came from (chat, ...).")
      .def_property_readonly("tags", [](const Hit& h) { return split_tags(h.tags); },
                             "Its tags, as a list of str.")
      .def_readonly("timestamp", &Hit::timestamp, "Seconds since the Unix epoch.")
      .def("__repr__", [](const Hit& h) {
        return "Hit(id=" + std::to_string(h.id) + ", score=" + std::to_string(h.score) +
               ", chunk=" + std::string(py::repr(py::str(h.chunk))) + ")";
      });

  py::class_<SearchMetrics>(m, "SearchMetrics", "How a search ran.")
      .def_readonly("strategy", &SearchMetrics::strategy, "scalar, simd, blas, parallel, ivfpq, gpu, bm25...")
      .def_readonly("isa", &SearchMetrics::isa, "The kernels' instruction set (AVX2, ...).")
      .def_readonly("device", &SearchMetrics::device, "The GPU for strategy gpu, else empty.")
      .def_readonly("threads", &SearchMetrics::threads, "Threads that scanned.")
      .def_readonly("vectors_scanned", &SearchMetrics::vectors_scanned, "Rows scored.")
      .def_readonly("time_us", &SearchMetrics::search_time_us, "Time inside the search, in us.")
      .def("__repr__", [](const SearchMetrics& s) {
        return "SearchMetrics(strategy='" + s.strategy + "', isa='" + s.isa +
               "', time_us=" + std::to_string(s.search_time_us) + ")";
      });

  py::class_<Results>(m, "SearchResults",
                      "The hits of a search, best first (a sequence of Hit), and its metrics.")
      .def_readonly("hits", &Results::hits, "The hits, best first.")
      .def_readonly("metrics", &Results::metrics, "How the search ran.")
      .def("__len__", [](const Results& r) { return r.hits.size(); })
      .def("__getitem__", [](const Results& r, py::ssize_t i) {
        const auto n = static_cast<py::ssize_t>(r.hits.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) throw py::index_error("hit index out of range");
        return r.hits[static_cast<std::size_t>(i)];
      })
      .def("__iter__", [](const Results& r) { return py::make_iterator(r.hits.begin(), r.hits.end()); },
           py::keep_alive<0, 1>())
      .def_property_readonly("ids", [](const Results& r) {
        std::vector<MemoryId> ids;
        for (const Hit& h : r.hits) ids.push_back(h.id);
        return ids;
      }, "The ids of the hits, best first.");

  py::class_<Session>(m, "Session", "A summary of the memories with ids in [start_id, end_id).")
      .def_readonly("id", &Session::id, "The session id.")
      .def_readonly("start_id", &Session::start_id, "The first memory id it covers.")
      .def_readonly("end_id", &Session::end_id, "One past the last memory id it covers.")
      .def_readonly("channel", &Session::channel, "Where it took place (chat, ...).")
      .def_readonly("timestamp", &Session::timestamp, "When it was recorded, seconds since the Unix epoch.")
      .def_readonly("summary", &Session::summary, "What happened in it.");
  py::class_<Entity>(m, "Entity", "A knowledge-graph entity.")
      .def_readonly("id", &Entity::id, "The entity's id.")
      .def_readonly("name", &Entity::name, "Its name.")
      .def_readonly("type", &Entity::type, "Its type (person, project, ...).")
      .def_readonly("embedding_id", &Entity::embedding_id, "The memory describing it, or -1.")
      .def("__repr__", [](const Entity& e) {
        return "Entity(id=" + std::to_string(e.id) + ", name=" + std::string(py::repr(py::str(e.name))) + ")";
      });
  py::class_<Relation>(m, "Relation", "A typed, weighted edge source -[type]-> target.")
      .def_readonly("source", &Relation::source, "The id of the entity it starts from.")
      .def_readonly("target", &Relation::target, "The id of the entity it points to.")
      .def_readonly("type", &Relation::type, "What the relation is (knows, works_on, ...).")
      .def_readonly("weight", &Relation::weight, "Its weight (default 1.0).")
      .def_readonly("timestamp", &Relation::timestamp, "When it was added, seconds since the Unix epoch.");
  py::class_<Observation>(m, "Observation", "A fact recorded about an entity.")
      .def_readonly("entity", &Observation::entity, "The id of the entity it is about.")
      .def_readonly("text", &Observation::text, "The fact, as text.")
      .def_readonly("memory_id", &Observation::memory_id, "The memory holding the text, or -1.");
}

}  // namespace edgehdf5::python
