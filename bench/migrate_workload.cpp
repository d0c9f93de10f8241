// edgehdf5-bench migrate: how fast edgehdf5-migrate brings an SQLite agent memory over, in
// memory_chunks rows per second, at 100K and 1M rows of 384-d by default. Each size gets a
// source database made here (reference schema; one session, entity and relation per 100
// chunks), then, in the same run:
//   * migrate() as the tool runs it (write to a temporary beside the output, fsync, rename);
//   * migrate() with dry_run: reading and checking every row, without building or writing;
//   * the bounds it is made of: a plain SQLite scan of memory_chunks in id order that touches
//     every byte (what reading the source costs at least), and write()+fsync() of as many
//     bytes as the output file holds (what writing it durably costs at least).
// The migration's ratio is its time over the sum of the two bounds.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/version.hpp"
#include "migration.hpp"
#include "sqlite_database.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;
using migrate::SqliteDatabase;
using migrate::SqliteStatement;

struct MigrateOptions {
  std::vector<std::size_t> sizes = {100'000, 1'000'000};
  std::size_t embedding_dim = 384;
  std::size_t repeats = 3;
  std::uint64_t seed = 42;
  std::string dir = fs::temp_directory_path().string();
  bool json = false;
};

// Rows generated and inserted at once (one random stream each, see random_entries).
constexpr std::size_t kRowsPerBatch = kRowsPerStream;
// One session, one entity and one relation per this many chunks.
constexpr std::size_t kChunksPerReference = 100;

void create_schema(SqliteDatabase& database) {
  // A throwaway file: no journal, no fsync, so that making it takes seconds, not minutes.
  database.execute(
      "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
      "CREATE TABLE memory_chunks (id INTEGER PRIMARY KEY, chunk TEXT, embedding BLOB,"
      "  source_channel TEXT, timestamp REAL, session_id TEXT, tags TEXT, deleted INTEGER);"
      "CREATE TABLE sessions (id TEXT, start_idx INTEGER, end_idx INTEGER, channel TEXT,"
      "  timestamp REAL, summary TEXT);"
      "CREATE TABLE entities (id INTEGER, name TEXT, entity_type TEXT, embedding_idx INTEGER);"
      "CREATE TABLE relations (src INTEGER, tgt INTEGER, relation TEXT, weight REAL, ts REAL);");
}

void insert_chunks(SqliteDatabase& database, std::size_t rows, const MigrateOptions& options) {
  SqliteStatement insert =
      database.prepare("INSERT INTO memory_chunks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)");
  for (std::size_t first = 0; first < rows; first += kRowsPerBatch) {
    const std::size_t count = std::min(kRowsPerBatch, rows - first);
    const std::vector<MemoryEntry> entries =
        random_entries(count, options.embedding_dim, options.seed, first / kRowsPerBatch, first);
    for (std::size_t i = 0; i < count; ++i) {
      const MemoryEntry& entry = entries[i];
      insert.bind(1, static_cast<std::int64_t>(first + i + 1));
      insert.bind_text(2, entry.chunk);
      insert.bind_blob(3, std::as_bytes(std::span(entry.embedding)));  // little-endian hosts
      insert.bind_text(4, entry.source_channel);
      insert.bind(5, entry.timestamp);
      insert.bind_text(6, entry.session_id);
      insert.bind_text(7, entry.tags);
      insert.step();
      insert.reset();
    }
  }
}

void insert_references(SqliteDatabase& database, std::size_t rows) {
  SqliteStatement session = database.prepare(
      "INSERT INTO sessions VALUES ('session-' || ?1, ?2, ?3, 'chat', 1.7e9, 'a summary')");
  SqliteStatement entity =
      database.prepare("INSERT INTO entities VALUES (?1, 'entity ' || ?1, 'topic', ?2)");
  SqliteStatement relation =
      database.prepare("INSERT INTO relations VALUES (?1, ?2, 'related_to', 0.5, 1.7e9)");
  const std::size_t references = rows / kChunksPerReference;
  for (std::size_t i = 0; i < references; ++i) {
    const auto start = static_cast<std::int64_t>(i * kChunksPerReference);
    const auto id = static_cast<std::int64_t>(i);
    session.bind(1, id);
    session.bind(2, start);
    session.bind(3, start + static_cast<std::int64_t>(kChunksPerReference));
    entity.bind(1, id);
    entity.bind(2, start);
    relation.bind(1, id);
    relation.bind(2, static_cast<std::int64_t>((i + 1) % references));
    for (SqliteStatement* statement : {&session, &entity, &relation}) {
      statement->step();
      statement->reset();
    }
  }
}

fs::path make_source(const fs::path& dir, std::size_t rows, const MigrateOptions& options) {
  const fs::path path = dir / ("source_" + std::to_string(rows) + ".db");
  SqliteDatabase database = SqliteDatabase::open_read_write(path);
  create_schema(database);
  database.execute("BEGIN");
  insert_chunks(database, rows, options);
  insert_references(database, rows);
  database.execute("COMMIT");
  return path;
}

// Seconds to read memory_chunks in id order as the migration does, touching every byte of
// every value (their sum is checked, so the reads stay).
double seconds_to_scan(const fs::path& source) {
  SqliteDatabase database = SqliteDatabase::open_read_only(source);
  std::uint64_t sum = 0;
  const double seconds = seconds_to_run([&] {
    SqliteStatement rows = database.prepare(
        "SELECT id, chunk, embedding, source_channel, timestamp, session_id, tags, deleted "
        "FROM memory_chunks ORDER BY id");
    while (rows.step()) {
      for (const int column : {1, 2, 3, 5, 6}) {
        for (const char byte : rows.bytes(column)) sum += static_cast<unsigned char>(byte);
      }
      sum += static_cast<std::uint64_t>(rows.integer(0) + rows.integer(7)) +
             static_cast<std::uint64_t>(rows.real(4));
    }
  });
  if (sum == 0) throw std::runtime_error("the SQLite scan read nothing");  // uses the sum
  return seconds;
}

void measure(std::size_t rows, const MigrateOptions& options, const fs::path& dir,
             Reporter& report) {
  const fs::path source = make_source(dir, rows, options);
  const fs::path output = dir / "migrated.h5";
  migrate::MigrationOptions migration;
  migration.sqlite_path = source;
  migration.hdf5_path = output;
  migration.force = true;

  std::vector<double> migrate_seconds, dry_run_seconds, scan_seconds, write_seconds;
  std::uintmax_t output_bytes = 0;
  for (std::size_t repeat = 0; repeat < options.repeats; ++repeat) {
    migration.dry_run = true;
    dry_run_seconds.push_back(seconds_to_run([&] { migrate::migrate(migration); }));
    migration.dry_run = false;
    migrate_seconds.push_back(seconds_to_run([&] { migrate::migrate(migration); }));
    output_bytes = fs::file_size(output);
    scan_seconds.push_back(seconds_to_scan(source));
    write_seconds.push_back(seconds_to_write_and_fsync(dir / "raw_write.bin", output_bytes));
  }
  for (const char* suffix : {"", ".lock"}) fs::remove(output.string() + suffix);
  const std::uintmax_t source_bytes = fs::file_size(source);
  fs::remove(source);

  const auto median = [](const std::vector<double>& samples) { return summarize(samples).median; };
  const auto per_second = [rows](double seconds) { return static_cast<double>(rows) / seconds; };
  const double bound = median(scan_seconds) + median(write_seconds);
  const std::size_t dim = options.embedding_dim;
  char baseline[160];
  std::snprintf(baseline, sizeof baseline,
                "SQLite scan of %.0f MB + write+fsync of %.0f MB (output size)",
                static_cast<double>(source_bytes) / 1e6, static_cast<double>(output_bytes) / 1e6);
  report.add(
      {"sqlite scan (id order)", rows, dim, "f32", per_second(median(scan_seconds)), "rows/s"});
  report.add({"raw write+fsync (output size)", rows, dim, "bytes",
              static_cast<double>(output_bytes) / median(write_seconds) / 1e6, "MB/s"});
  report.add({"migrate --dry-run", rows, dim, "f32", per_second(median(dry_run_seconds)), "rows/s"},
             Comparison{median(dry_run_seconds) / median(scan_seconds), "SQLite scan alone"});
  report.add({"migrate (to file, fsync, rename)", rows, dim, "f32",
              per_second(median(migrate_seconds)), "rows/s"},
             Comparison{median(migrate_seconds) / bound, baseline});
}

}  // namespace

int run_migrate_workload(int argc, char** argv) {
  MigrateOptions options;
  CLI::App app{
      "edgehdf5-migrate's throughput (memory_chunks rows/s), beside an SQLite scan of the "
      "same rows and write+fsync of the same output bytes in the same run.",
      "edgehdf5-bench migrate"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.sizes, "memory_chunks rows of the sources")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--repeats", options.repeats, "Timed repetitions (medians reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  add_scratch_dir_option(app, options.dir);
  CLI11_PARSE(app, argc, argv);

  Reporter report("migrate", command_line(argc, argv), options.json);
  const ScratchDir scratch(options.dir);
  report.note("edgehdf5 " + std::string(kVersion) + ", " +
              std::to_string(std::thread::hardware_concurrency()) + " hardware threads, files in " +
              scratch.path().string());
  report.note(
      "page cache warm: the source is read right after it was made; float32, "
      "uncompressed; one session, entity and relation per " +
      std::to_string(kChunksPerReference) + " chunks");
  for (const std::size_t rows : options.sizes) measure(rows, options, scratch.path(), report);
  return 0;
}

}  // namespace edgehdf5::bench
