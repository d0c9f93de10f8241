#pragma once
// A text column of an open store's file, read on demand (TextColumn, "Text on demand" in
// the README): the file's /memory/chunks (or source_channel, session_ids, tags) dataset,
// kept open for as long as the column needs it. A checkpoint renames a new file over the
// path, which leaves the open file (the old inode) as it was, so the rows read later are the
// rows the store opened with.

#include <memory>

#include "edgehdf5/text_column.hpp"
#include "h5/h5.hpp"

namespace edgehdf5::store {

// REQUIRES: `dataset` is a 1-D string dataset of a file HDF5 opened by path (see
// read_state_file: a file opened from its bytes in memory is never deferred, since HDF5
// would take another image of the same name for this one).
std::shared_ptr<const TextSource> file_texts(h5::Object dataset, std::size_t rows);

}  // namespace edgehdf5::store
