#pragma once
// The keyword index inside the memory file: the /keyword_index group (format "bm25 1"),
// the arrays of KeywordIndexArrays (edgehdf5/bm25.hpp) as plain datasets that h5py reads:
//
//   /keyword_index   attributes: format "bm25 1", tokenizer ("unicode61" | "porter")
//     term_bytes u8[]                  every term's UTF-8, one after another, sorted bytewise
//     term_offsets u64[terms + 1]      term t is term_bytes[term_offsets[t]:term_offsets[t+1]]
//     posting_offsets u64[terms + 1]   term t's postings are [posting_offsets[t], [t + 1])
//     posting_rows u32[postings]       the /memory rows holding the term, ascending per term
//     posting_frequencies u8[postings] min(tf, 255)
//     large_frequency_postings u64[]   the postings whose tf >= 255, ascending ...
//     large_frequencies u32[]          ... and their tf
//     document_lengths u32[rows]       terms per /memory row; 2^32 - 1 for a row that was
//                                      deleted (tombstoned) when the group was written
//
// Derived data, like /ivfpq: written at every checkpoint from the index the store keeps
// current; a group that is missing, of another format or tokenizer, or covering another
// number of rows than /memory is not used, and a writer writes a new one. A program that
// changes /memory/chunks by other means must delete the group.
// Callers hold an h5::LibraryLock (as schema.cpp does around a whole file).

#include <optional>
#include <string>

#include "edgehdf5/bm25.hpp"
#include "h5/h5.hpp"

namespace edgehdf5::store {

inline constexpr const char* kKeywordGroupName = "keyword_index";
inline constexpr const char* kKeywordFormat = "bm25 1";

// Writes `arrays` as the /keyword_index group of `file`. Throws hdf5/io errors.
void write_keyword_group(const h5::Object& file, const KeywordIndexArrays& arrays,
                         const h5::WriteOptions& options);

// The group's arrays, mapped from the file where they lie as in memory and `map` is set
// (store/mapped_dataset.hpp), else read; nullopt when the file has none. Throws schema when
// the group is there but of another format, or a dataset or attribute is missing or not a
// 1-D integer array; BM25Index::from_arrays checks the arrays against each other.
std::optional<KeywordIndexArrays> read_keyword_group(const h5::Object& file, bool map);

}  // namespace edgehdf5::store
