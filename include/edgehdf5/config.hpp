#pragma once
// Settings of a memory file. Everything in MemoryConfig is written to /meta and survives
// close and reopen; OpenOptions only govern one open handle.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace edgehdf5 {

class FileSystem;  // file_system.hpp

// How keyword search (BM25) splits text into terms; recorded in the file, so its index is
// always rebuilt the same way. unicode61: lower-cased runs of letters and digits (SQLite
// FTS5's tokenize='unicode61 remove_diacritics 0'); porter: the same terms reduced to their
// Porter stems ("renovating", "renovation" -> "renov"; FTS5's 'porter unicode61'), so a
// question finds memories that use another form of its words. Files made before 0.3, or by
// other writers, have no setting and use unicode61.
enum class KeywordTokenizer { unicode61, porter };

// The largest embedding_dim a memory file may have.
inline constexpr std::size_t kMaxEmbeddingDim = std::size_t{1} << 16;

struct MemoryConfig {
  std::filesystem::path path = "agent_memory.h5";
  std::string agent_id = "agent";
  std::string embedder = "unknown";
  std::size_t embedding_dim = 384;
  std::size_t chunk_size = 512;   // informational: how the agent chunked its text
  std::size_t overlap = 50;       // informational: overlap between chunks
  bool float16 = false;           // store embeddings as IEEE half (h5py shows float16)
  bool compression = false;       // deflate the /memory datasets
  int compression_level = 4;      // 1..9, used when compression is on
  double compact_threshold = 0.3; // compact automatically once this fraction is tombstoned;
                                  // 0 or >= 1 turns automatic compaction off
  std::string created_at;         // ISO-8601 UTC; filled with the current time when empty
  KeywordTokenizer keyword_tokenizer = KeywordTokenizer::porter;  // new files stem
};

// When a save reaches the disk.
enum class Durability {
  on_flush,    // saves are written to the log at once (they survive a kill -9 of the process)
               // and fsynced by flush() (then they survive a power loss too)
  every_write, // every mutating call fsyncs the log before returning
};

struct OpenOptions {
  bool read_only = false;  // no lock, no log writes; sees the file as of open()
  Durability durability = Durability::on_flush;
  // Checkpoint (rewrite the .h5 and empty the log) inside flush() once the log holds more
  // than this many bytes and more than the .h5 itself. Keeps recovery time bounded while
  // each save stays an append.
  std::size_t checkpoint_log_bytes = std::size_t{64} << 20;
  // How long open() and create() wait for another process's writer lock before they throw
  // ErrorCode::locked (SQLite's busy timeout). 0, the default: fail at once.
  std::chrono::milliseconds lock_timeout{0};
  // The I/O seam every file operation of this handle goes through (file_system.hpp): null
  // means the operating system's files (posix_file_system()). Tests pass one that fails
  // operations on purpose or simulates a power loss.
  std::shared_ptr<FileSystem> file_system = nullptr;
  // The file may be hostile (downloaded, sent by a user). libhdf5 is not hardened against
  // crafted files (README, "Fuzzing"), so open() first checks what our code can: the HDF5
  // signature at byte 0 and a superblock of version 2 or 3, the format edgehdf5 writes since
  // 0.3, in which HDF5 verifies a checksum on every metadata block it reads except the
  // global heaps (where variable-length strings live). Files of the unchecksummed 1.0 format
  // (the original tool's, h5py's default) are refused with ErrorCode::schema before HDF5
  // parses a byte. This narrows what reaches HDF5's parser; it does not close it: a damaged
  // global heap can still hang libhdf5 1.10.8, and a crafted file with valid checksums can
  // reach any of its bugs. Open files from an adversary in a separate process.
  bool untrusted = false;
  // Map the file's embedding matrix into memory instead of reading it (README, "Mapped
  // embeddings"): open() reads none of it, its pages come from the page cache as a scan
  // touches them, and processes with the same file open share them. Only for a contiguous,
  // uncompressed matrix of 64 KiB or more in a file on the operating system's files;
  // otherwise, or when false, it is read. A private mapping: the file is never written
  // through it. edgehdf5 never changes a file in place (checkpoints write a new file and
  // rename it), which is what makes the mapping safe; another program that truncates or
  // rewrites the file in place while it is open can make this process fail with SIGBUS
  // (as with SQLite's mmap_size). Set false where that may happen. The file's keyword index
  // (its /keyword_index arrays) is mapped, or read, likewise.
  bool map_embeddings = true;
  // Leave the text columns (chunks, source_channel, session_ids, tags) in the file and read a
  // row's texts when they are asked for (README, "Text on demand"): open() reads none of
  // them, a search reads only its hits' texts, and a filter on a column or what needs every
  // text (keyword search's index, a checkpoint, export, verify) reads a column in one pass. Only for a file on the operating system's files; the file stays open
  // (its old inode, after a checkpoint renamed a new file over it) until every text is
  // read or the store closes. The same caveat as map_embeddings: set false for a file
  // another program may rewrite in place while it is open.
  bool text_on_demand = true;
};

}  // namespace edgehdf5
