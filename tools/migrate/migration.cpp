#include "migration.hpp"

#include <chrono>
#include <cmath>

#include "chunk_reader.hpp"
#include "edgehdf5/config.hpp"
#include "edgehdf5/memory_file_builder.hpp"
#include "output_file.hpp"
#include "reference_tables.hpp"
#include "source_schema.hpp"

namespace edgehdf5::migrate {
namespace {

namespace fs = std::filesystem;

std::string invalid_rows_message(std::size_t count) {
  return std::to_string(count) + (count == 1 ? " row" : " rows") +
         " cannot be migrated; nothing was written (fix them, or pass --skip-invalid to "
         "leave them out)";
}

// The refusals HDF5Memory::create would make, made before any reading.
void check_options(const MigrationOptions& options) {
  const auto refuse = [](const std::string& why) { throw Error(ErrorCode::invalid_argument, why); };
  if (options.embedding_dim &&
      (*options.embedding_dim == 0 || *options.embedding_dim > kMaxEmbeddingDim)) {
    refuse("embedding dimension must be between 1 and " + std::to_string(kMaxEmbeddingDim));
  }
  if (options.compression && (options.compression_level < 1 || options.compression_level > 9)) {
    refuse("compression level must be 1..9, got " + std::to_string(options.compression_level));
  }
  if (!std::isfinite(options.compact_threshold) || options.compact_threshold < 0) {
    refuse("compact threshold must be a finite number >= 0");
  }
  MemoryFileBuilder::check_text(options.agent_id, "agent id");
  MemoryFileBuilder::check_text(options.embedder, "embedder");
}

std::size_t count_rows(SqliteDatabase& database, const ResolvedTable& table) {
  SqliteStatement count = database.prepare("SELECT count(*) FROM " + quote_identifier(table.name));
  count.step();
  return static_cast<std::size_t>(count.integer(0));
}

// The output's embedding dimension: as given, else detected from the data.
std::size_t choose_embedding_dim(SqliteDatabase& database, const ResolvedTable& chunks,
                                 const MigrationOptions& options, MigrationReport& report) {
  if (options.embedding_dim) return *options.embedding_dim;
  const DetectedDim detected = detect_embedding_dim(database, chunks, options.skip_deleted);
  if (!detected.embedding_dim) {
    throw Error(ErrorCode::invalid_argument,
                detected.table_empty
                    ? "memory_chunks is empty, so the embedding dimension cannot be detected: "
                      "pass --embedding-dim"
                    : "no row of memory_chunks has an embedding to take the dimension from (a "
                      "BLOB of float32 values): pass --embedding-dim");
  }
  if (*detected.embedding_dim > kMaxEmbeddingDim) {
    throw Error(ErrorCode::invalid_argument,
                "the embedding of " + detected.row + " has " +
                    std::to_string(*detected.embedding_dim) + " values; at most " +
                    std::to_string(kMaxEmbeddingDim) + " are supported");
  }
  report.dim_detected_from = detected.row;
  return *detected.embedding_dim;
}

MemoryConfig output_config(const MigrationOptions& options, std::size_t embedding_dim) {
  MemoryConfig config;
  config.path = options.hdf5_path;
  config.agent_id = options.agent_id;
  config.embedder = options.embedder;
  config.embedding_dim = embedding_dim;
  config.float16 = options.float16;
  config.compression = options.compression;
  config.compression_level = options.compression_level;
  config.compact_threshold = options.compact_threshold;
  return config;
}

std::uintmax_t size_or_zero(const fs::path& path) {
  std::error_code ignored;
  const std::uintmax_t size = fs::file_size(path, ignored);
  return ignored ? 0 : size;
}

}  // namespace

InvalidRowsError::InvalidRowsError(std::vector<RowProblem> rows)
    : Error(ErrorCode::invalid_argument, invalid_rows_message(rows.size())),
      rows_(std::move(rows)) {}

MigrationReport migrate(const MigrationOptions& options, const ProgressObserver& observer) {
  const auto start = std::chrono::steady_clock::now();
  check_options(options);
  check_output_path(options.hdf5_path, options.sqlite_path, options.force);

  MigrationReport report;
  report.input_bytes = size_or_zero(options.sqlite_path);
  SqliteDatabase database = SqliteDatabase::open_read_only(options.sqlite_path);
  // One read transaction: all four tables as of one moment, even if the agent that owns the
  // database writes to it meanwhile.
  database.execute("BEGIN");
  const std::optional<ResolvedTable> chunks = resolve_table(database, memory_chunks_table());
  const std::optional<ResolvedTable> sessions = resolve_table(database, sessions_table());
  const std::optional<ResolvedTable> entities = resolve_table(database, entities_table());
  const std::optional<ResolvedTable> relations = resolve_table(database, relations_table());
  report.memory_chunks.present = true;  // required: resolve_table threw otherwise
  report.sessions.present = sessions.has_value();
  report.entities.present = entities.has_value();
  report.relations.present = relations.has_value();

  // count(*) reads every page of the table, as much as the migration itself: only for progress.
  const std::size_t rows = observer ? count_rows(database, *chunks) : 0;
  report.embedding_dim = choose_embedding_dim(database, *chunks, options, report);
  std::optional<MemoryFileBuilder> builder;
  if (!options.dry_run) builder.emplace(output_config(options, report.embedding_dim));

  const ReadContext context{.database = database,
                            .options = options,
                            .embedding_dim = report.embedding_dim,
                            .builder = builder ? &*builder : nullptr,
                            .report = report,
                            .observer = observer};
  const MemoryChunks memories = read_memory_chunks(context, *chunks, rows);
  if (sessions) read_sessions(context, *sessions, memories.positions);
  read_knowledge_graph(context, entities, relations, memories.positions);
  database.execute("COMMIT");
  // Deleted rows are tombstoned last: entities may refer to them, and the builder (like a
  // live store) takes a reference only to a memory that is active when it is added.
  if (MemoryFileBuilder* sink = context.sink()) {
    for (const MemoryId id : memories.deleted_ids) sink->tombstone(id);
  }

  if (!report.invalid_rows.empty() && !options.skip_invalid) {
    throw InvalidRowsError(std::move(report.invalid_rows));
  }
  if (builder) {
    if (observer) observer({"writing " + options.hdf5_path.string(), 0, 0});
    install_memory_file(*builder, options.hdf5_path, options.force);
    report.written = true;
    report.output_bytes = size_or_zero(options.hdf5_path);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace edgehdf5::migrate
