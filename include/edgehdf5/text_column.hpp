#pragma once
// TextColumn: a text column of a store's memories (MemoryColumns::chunks, source_channels,
// session_ids, tags), read from the file only when asked.
//
// The texts were most of what an open read and decoded (at 1M memories, 209 MB of chunks and
// 3M short strings, about 0.2 s, where the embeddings are mapped and the numeric columns are
// 21 MB), yet a search shows only its hits' texts and `info` none. So an open store leaves
// the file's texts where they are (a TextSource: the file's dataset, kept open) and reads a
// row when one is asked for; a filter on a column, and a caller about to touch every row
// (the keyword index, a checkpoint, export, verify), reads the whole column in one pass
// (load(), values()). Rows saved after the open are held in memory from the start.
//
// It behaves as the std::vector<std::string> it replaces for everything MemoryColumns'
// users do: size, const and non-const operator[], push_back, iteration, comparison,
// assignment from a vector. A const access may read from the file (it throws Error(hdf5)
// if that fails); a non-const one other than push_back loads everything first.
//
// Thread safety: const calls may run concurrently (a mutex guards the reads from the file;
// a reference handed out stays valid until the next non-const call). Non-const calls need
// exclusive access, as for the rest of MemoryColumns.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace edgehdf5 {

// Where the texts of the rows an open found in its file are read from.
class TextSource {
 public:
  virtual ~TextSource() = default;
  // The number of rows the source holds.
  virtual std::size_t rows() const = 0;
  // The texts of rows [first, first + count). REQUIRES: first + count <= rows().
  virtual std::vector<std::string> read(std::size_t first, std::size_t count) const = 0;
};

class TextColumn {
 public:
  using value_type = std::string;
  using const_iterator = std::vector<std::string>::const_iterator;

  TextColumn() = default;
  TextColumn(std::vector<std::string> values)  // NOLINT: converts, as a vector would
      : values_(std::move(values)), size_(values_.size()) {}
  TextColumn(const TextColumn& other);
  TextColumn(TextColumn&& other) noexcept;
  TextColumn& operator=(const TextColumn& other);
  TextColumn& operator=(TextColumn&& other) noexcept;
  TextColumn& operator=(std::vector<std::string> values);
  ~TextColumn() = default;

  // Makes the column the source's rows, none of them read yet. Replaces what it held.
  void defer_to(std::shared_ptr<const TextSource> source);

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // The text of `row`, read from the source if it has not been yet. REQUIRES: row < size().
  const std::string& operator[](std::size_t row) const;
  // Loads everything first (compaction moves the texts between rows).
  std::string& operator[](std::size_t row);

  // Reads every row not read yet, in one pass over the source. Idempotent.
  void load() const;
  // Every text, loaded (load()).
  const std::vector<std::string>& values() const;
  const_iterator begin() const { return values().begin(); }
  const_iterator end() const { return values().end(); }

  void push_back(std::string text);
  void reserve(std::size_t rows) { values_.reserve(rows); }
  std::size_t capacity() const noexcept { return values_.capacity(); }
  void resize(std::size_t rows);
  void shrink_to_fit();

  // Whether rows remain to be read from the source, and how many were read one by one (for
  // tests and statistics).
  bool deferred() const noexcept { return !loaded_.load(std::memory_order_acquire); }
  std::size_t rows_read_singly() const;

  bool operator==(const TextColumn& other) const { return values() == other.values(); }
  bool operator==(const std::vector<std::string>& other) const { return values() == other; }

 private:
  // REQUIRES: mutex_ held.
  void load_locked() const;
  // Loads everything and forgets the source. Only for non-const calls (exclusive access).
  void materialize();

  // While deferred, values_ is empty until a push_back makes room for the source's rows
  // (left empty, unread) and the rows after them; a row of the source read singly lives in
  // singles_ instead, so an open that reads a few rows allocates nothing per row. Once
  // loaded, values_ holds every row.
  mutable std::vector<std::string> values_;
  mutable std::unordered_map<std::size_t, std::string> singles_;  // never erased while shared
  mutable std::shared_ptr<const TextSource> source_;  // null once everything is loaded
  std::size_t source_rows_ = 0;  // rows [0, source_rows_) came from the source
  std::size_t size_ = 0;
  mutable std::atomic<bool> loaded_{true};
  mutable std::mutex mutex_;
};

}  // namespace edgehdf5
