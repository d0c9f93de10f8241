#include "sqlite_database.hpp"

#include <sqlite3.h>

#include "edgehdf5/error.hpp"

namespace edgehdf5::migrate {

// ---- statements ------------------------------------------------------------------------------

void SqliteStatement::Finalizer::operator()(sqlite3_stmt* statement) const noexcept {
  sqlite3_finalize(statement);
}

SqliteStatement::~SqliteStatement() = default;

void SqliteStatement::fail(int status, std::string_view doing) const {
  // sqlite3_errmsg describes the connection's latest error, which is this statement's.
  const char* message = sqlite3_errmsg(sqlite3_db_handle(statement_.get()));
  throw Error(ErrorCode::io, context_ + ": " + std::string(doing) +
                                 " failed: " + (message ? message : sqlite3_errstr(status)));
}

bool SqliteStatement::step() {
  const int status = sqlite3_step(statement_.get());
  if (status == SQLITE_ROW) return true;
  if (status == SQLITE_DONE) return false;
  fail(status, "reading");
}

void SqliteStatement::reset() {
  const int status = sqlite3_reset(statement_.get());
  if (status != SQLITE_OK) fail(status, "reset");
}

void SqliteStatement::bind(int parameter, std::int64_t value) {
  const int status = sqlite3_bind_int64(statement_.get(), parameter, value);
  if (status != SQLITE_OK) fail(status, "binding an integer");
}

void SqliteStatement::bind(int parameter, double value) {
  const int status = sqlite3_bind_double(statement_.get(), parameter, value);
  if (status != SQLITE_OK) fail(status, "binding a real");
}

void SqliteStatement::bind_text(int parameter, std::string_view value) {
  const int status = sqlite3_bind_text64(statement_.get(), parameter, value.data(), value.size(),
                                         SQLITE_TRANSIENT, SQLITE_UTF8);
  if (status != SQLITE_OK) fail(status, "binding a text");
}

void SqliteStatement::bind_blob(int parameter, std::span<const std::byte> value) {
  const int status = sqlite3_bind_blob64(statement_.get(), parameter, value.data(), value.size(),
                                         SQLITE_TRANSIENT);
  if (status != SQLITE_OK) fail(status, "binding a blob");
}

SqliteType SqliteStatement::type(int column) const {
  switch (sqlite3_column_type(statement_.get(), column)) {
    case SQLITE_INTEGER: return SqliteType::integer;
    case SQLITE_FLOAT: return SqliteType::real;
    case SQLITE_TEXT: return SqliteType::text;
    case SQLITE_BLOB: return SqliteType::blob;
    default: return SqliteType::null;
  }
}

std::int64_t SqliteStatement::integer(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

double SqliteStatement::real(int column) const {
  return sqlite3_column_double(statement_.get(), column);
}

std::string_view SqliteStatement::bytes(int column) const {
  // For text, sqlite3_column_text first (it may convert a UTF-16 database's text to UTF-8),
  // then sqlite3_column_bytes for the length of that form, as SQLite's documentation asks.
  sqlite3_stmt* statement = statement_.get();
  const void* data = sqlite3_column_type(statement, column) == SQLITE_BLOB
                         ? sqlite3_column_blob(statement, column)
                         : static_cast<const void*>(sqlite3_column_text(statement, column));
  const int size = sqlite3_column_bytes(statement, column);
  if (data == nullptr) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

// ---- databases -------------------------------------------------------------------------------

void SqliteDatabase::Closer::operator()(sqlite3* database) const noexcept {
  sqlite3_close_v2(database);
}

SqliteDatabase::~SqliteDatabase() = default;

SqliteDatabase SqliteDatabase::open(const std::filesystem::path& path, int flags) {
  sqlite3* handle = nullptr;
  // NOMUTEX: a connection is used by one thread at a time (see the header), so SQLite's
  // per-call locking would only cost time.
  const int status = sqlite3_open_v2(path.c_str(), &handle,
                                     flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nullptr);
  SqliteDatabase database(handle, path);  // closes the handle even when the open failed
  if (status != SQLITE_OK) {
    const char* message = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(status);
    throw Error(ErrorCode::io, "cannot open SQLite database " + path.string() + ": " + message);
  }
  return database;
}

SqliteDatabase SqliteDatabase::open_read_only(const std::filesystem::path& path) {
  // SQLite says "unable to open database file" for a missing one; say what is wrong.
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw Error(ErrorCode::io, "cannot open SQLite database " + path.string() + ": no such file");
  }
  return open(path, SQLITE_OPEN_READONLY);
}

SqliteDatabase SqliteDatabase::open_read_write(const std::filesystem::path& path) {
  return open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

void SqliteDatabase::execute(const std::string& sql) {
  char* message = nullptr;
  const int status = sqlite3_exec(database_.get(), sql.c_str(), nullptr, nullptr, &message);
  if (status == SQLITE_OK) return;
  const std::string text = message ? message : sqlite3_errstr(status);
  sqlite3_free(message);
  throw Error(ErrorCode::io, path_.string() + ": " + sql + ": " + text);
}

SqliteStatement SqliteDatabase::prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  const int status = sqlite3_prepare_v2(database_.get(), sql.data(), static_cast<int>(sql.size()),
                                        &statement, nullptr);
  std::string context = path_.string() + ": " + std::string(sql);
  if (status != SQLITE_OK) {
    sqlite3_finalize(statement);
    // The first statement of a file that is not a database fails here ("file is not a
    // database"), so this is the message a user sees for a wrong --sqlite path.
    throw Error(ErrorCode::io, context + ": " + sqlite3_errmsg(database_.get()));
  }
  return SqliteStatement(statement, std::move(context));
}

bool SqliteDatabase::has_table(std::string_view table) {
  SqliteStatement query =
      prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1");
  query.bind_text(1, table);
  return query.step();
}

std::vector<std::string> SqliteDatabase::column_names(std::string_view table) {
  SqliteStatement query = prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid");
  query.bind_text(1, table);
  std::vector<std::string> names;
  while (query.step()) names.emplace_back(query.bytes(0));
  return names;
}

std::string quote_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (const char c : name) {
    quoted += c;
    if (c == '"') quoted += '"';
  }
  return quoted + '"';
}

}  // namespace edgehdf5::migrate
