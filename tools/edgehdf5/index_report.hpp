#pragma once
// How `index info` and `stats` describe a store's IVF-PQ index, so both say the same.

#include <nlohmann/json.hpp>
#include <string>

#include "edgehdf5/memory.hpp"

namespace edgehdf5::cli {

// {"present", "problem", "nlist", "sub_quantizers", "bits", "embedding_dim", "vectors",
//  "trained_vectors", "added_since_training", "training_error", "added_error", "bytes",
//  "bytes_per_vector", "needs_retrain", "auto_strategy", "ivfpq_min_rows"}; only "present",
// "problem" and "auto_strategy" when the store has no usable index.
nlohmann::ordered_json index_json(const HDF5Memory& memory);

// Lines of "key: value" (each ending in a newline) for a human, saying what to do when the
// index is missing, unusable or due for a retrain.
std::string index_report(const HDF5Memory& memory, const std::string& file);

// One line for `stats`: "IVF-PQ, nlist 316, 48 x 8-bit codes, 100000 vectors, 5.6 MiB" or why
// there is none.
std::string index_summary(const HDF5Memory& memory);

}  // namespace edgehdf5::cli
