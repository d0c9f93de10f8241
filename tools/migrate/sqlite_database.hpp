#pragma once
// A thin checked wrapper over the SQLite C API: move-only handles whose destructors never
// throw, and every failing call turned into edgehdf5::Error(io) that names the database
// and carries SQLite's own message. Nothing else in the migration calls sqlite3_* directly.
//
// Thread safety: a database and its statements may be used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace edgehdf5::migrate {

// The storage class of one value (SQLite types values, not columns).
enum class SqliteType { integer, real, text, blob, null };

class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&&) noexcept = default;
  SqliteStatement& operator=(SqliteStatement&&) noexcept = default;
  ~SqliteStatement();

  // Advances to the next row: true when one is ready, false when there are no more.
  bool step();
  // Makes the statement ready to run again (bindings are kept).
  void reset();

  // Parameters are numbered from 1, as in SQL ("?1").
  void bind(int parameter, std::int64_t value);
  void bind(int parameter, double value);
  void bind_text(int parameter, std::string_view value);
  void bind_blob(int parameter, std::span<const std::byte> value);

  // Columns of the current row, numbered from 0. The views stay valid until the next
  // step(), reset() or column call on the same column.
  SqliteType type(int column) const;
  std::int64_t integer(int column) const;
  double real(int column) const;  // integers are widened
  // The bytes of a text or blob value as they are stored (no conversion of blobs).
  std::string_view bytes(int column) const;

 private:
  friend class SqliteDatabase;
  struct Finalizer {
    void operator()(sqlite3_stmt* statement) const noexcept;
  };
  SqliteStatement(sqlite3_stmt* statement, std::string context)
      : statement_(statement), context_(std::move(context)) {}
  [[noreturn]] void fail(int status, std::string_view doing) const;

  std::unique_ptr<sqlite3_stmt, Finalizer> statement_;
  std::string context_;  // "<database path>: <sql>", for messages
};

class SqliteDatabase {
 public:
  // Opens an existing database without any right to change it. Throws Error(io) when the
  // file is missing or cannot be opened.
  static SqliteDatabase open_read_only(const std::filesystem::path& path);
  // Creates (or opens) a database for writing: used by tests and benchmarks to make input.
  static SqliteDatabase open_read_write(const std::filesystem::path& path);

  SqliteDatabase(SqliteDatabase&&) noexcept = default;
  SqliteDatabase& operator=(SqliteDatabase&&) noexcept = default;
  ~SqliteDatabase();

  // Runs SQL that returns no rows (several statements allowed).
  void execute(const std::string& sql);
  SqliteStatement prepare(std::string_view sql);

  bool has_table(std::string_view table);
  // The table's column names, in declaration order.
  std::vector<std::string> column_names(std::string_view table);

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  struct Closer {
    void operator()(sqlite3* database) const noexcept;
  };
  SqliteDatabase(sqlite3* database, std::filesystem::path path)
      : database_(database), path_(std::move(path)) {}
  static SqliteDatabase open(const std::filesystem::path& path, int flags);

  std::unique_ptr<sqlite3, Closer> database_;
  std::filesystem::path path_;
};

// `name` as an SQL identifier in double quotes, with embedded quotes doubled.
std::string quote_identifier(std::string_view name);

}  // namespace edgehdf5::migrate
