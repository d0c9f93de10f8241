#pragma once
// Shared pieces of the Python extension: the error classes, argument checks that name the
// argument at fault, and the conversions of search options and results.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgehdf5/edgehdf5.hpp"

namespace edgehdf5::python {

namespace py = pybind11;

// Thrown when a call would move or free the arrays that live numpy views point into
// (save, save_batch, remove, compact, close): Python sees edgehdf5.ViewsAliveError.
class ViewsAlive : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Creates edgehdf5.Error and its subclasses in `module` and translates edgehdf5::Error
// (by code) and ViewsAlive into them.
void register_errors(py::module_& module);

// A query or embedding matrix checked and widened to float32 (float16 input is widened; a
// float32, C-contiguous input is not copied while `owner` lives).
struct Float32Rows {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t dim = 0;
  std::vector<float> widened;  // holds float16 input converted to float32
  py::object owner;            // keeps the caller's array alive
};

// Checks `array` is a numpy array of float32 (or float16 when allow_half), C-contiguous,
// with `ndim` dimensions (1: one vector, 2: rows), `dim` columns and finite values. Throws
// Error(invalid_argument) naming `argument` otherwise.
Float32Rows checked_rows(const py::handle& array, const char* argument, std::size_t ndim,
                         std::size_t dim, bool allow_half);

// The filter arguments every search takes, as keyword arguments.
SearchFilter make_filter(const std::optional<std::string>& session,
                         const std::optional<std::string>& channel, const py::object& tags,
                         bool all_tags, std::optional<double> after,
                         std::optional<double> before, std::optional<double> half_life);

// "auto" (or None) -> empty, else parse_strategy.
std::optional<Strategy> parse_strategy_argument(const std::optional<std::string>& strategy);

// "porter" or "unicode61" (else invalid_argument naming `tokenizer`).
KeywordTokenizer tokenizer_argument(const std::string& name);

// A hybrid search's fusion settings; fusion is "weighted" or "rrf" (else invalid_argument).
HybridOptions hybrid_options(std::size_t k, const std::string& fusion, float vector_weight,
                             float keyword_weight, std::size_t candidates);

// Tags as the file stores them: a str is taken as given ("a,b"), a list of str is joined by
// commas. None: "".
std::string tags_argument(const py::handle& tags, const char* argument);

// Seconds since the epoch: a memory's timestamp when the caller gives none.
double now_seconds();

// The per-row arguments of a save: each is one value for every row or one per row, checked
// against `count` rows and named in the error. strings_argument: a str, or a sequence of
// `count` str (None: "" for every row). tags_per_row: a str or a flat list of str (the same
// tags for every row), or a list of `count` lists. timestamps_argument: a number or `count`
// numbers (None: now).
std::vector<std::string> strings_argument(const py::handle& value, std::size_t count,
                                          const char* argument);
std::vector<std::string> tags_per_row(const py::handle& tags, std::size_t count);
std::vector<double> timestamps_argument(const py::handle& value, std::size_t count);

// What one save or save_batch call saves, converted from Python (with the GIL held); the
// entries are made from it by make_entries, which needs no GIL.
struct RowsToSave {
  std::vector<std::string> chunks;
  Float32Rows rows;
  std::vector<std::string> sessions, channels, tags;
  std::vector<double> timestamps;
};

// Checks and converts save_batch's arguments: `chunks` a list of str (not a str), one per
// row of `embeddings` (a 2-D array of `dim` columns), the metadata as strings_argument and
// friends take it. Throws Error(invalid_argument) naming the argument at fault.
RowsToSave rows_to_save(const py::handle& chunks, const py::handle& embeddings, std::size_t dim,
                        const py::handle& session_id, const py::handle& source_channel,
                        const py::handle& tags, const py::handle& timestamps);

// The MemoryEntry of every row (the strings are moved out of `rows`).
std::vector<MemoryEntry> make_entries(RowsToSave& rows);

// A memory as Python's get() returns it: a dict of id, chunk, embedding (a float32 copy),
// session_id, source_channel, tags, timestamp.
py::dict entry_dict(MemoryId id, const MemoryEntry& entry);

// One search hit with the metadata of its memory, as Python sees it.
struct Hit {
  MemoryId id = 0;
  float score = 0.0f;
  std::string chunk;
  std::string session_id;
  std::string source_channel;
  std::string tags;
  double timestamp = 0.0;
};

// Hits plus how they were found.
struct Results {
  std::vector<Hit> hits;
  SearchMetrics metrics;
};

// Looks the metadata of each hit up in `columns`. REQUIRES: the caller holds the store's lock.
Results with_metadata(const SearchResults& results, const MemoryColumns& columns);

// Registers Hit, Results, SearchMetrics, Session, Entity, Relation, Observation.
void register_records(py::module_& module);

}  // namespace edgehdf5::python
