#pragma once
// The IVF-PQ index inside the memory file: the /ivfpq group (schema "ivfpq 1"). Readers that
// do not know it ignore it (SPEC section 1), h5py reads it as plain datasets.
//
//   /ivfpq   attributes: format "ivfpq 1", embedding_dim, nlist, sub_quantizers, bits, seed,
//                        trained_vectors, training_error, added_since_training,
//                        added_error_sum
//            centroids f32[nlist, embedding_dim]      coarse quantiser
//            codebooks f32[sub_quantizers * 256, embedding_dim / sub_quantizers]
//            list_offsets i64[nlist + 1]              list l holds entries [o[l], o[l+1])
//            codes u8[vectors * sub_quantizers]       PQ codes, list after list
//            ids i64[vectors]                         the MemoryId of each code
//
// Callers hold an h5::LibraryLock (as schema.cpp does around a whole file).

#include <optional>

#include "edgehdf5/ivfpq.hpp"
#include "h5/h5.hpp"

namespace edgehdf5::ivfpq {

inline constexpr const char* kGroupName = "ivfpq";

// Writes `data` as the /ivfpq group of `file`. Throws hdf5/io errors.
void write_group(const h5::Object& file, const IVFPQData& data);
// The arrays of the /ivfpq group, or nullopt when the file has none; with `map`, the codes
// and ids are mapped from the file where they lie as they would in memory (the caller keeps
// the file's descriptor open while it reads). Throws schema when the group exists but a
// dataset or attribute is missing or of the wrong size; IVFPQIndex::from_data checks the
// arrays against each other.
std::optional<IVFPQData> read_group(const h5::Object& file, bool map = false);

}  // namespace edgehdf5::ivfpq
