// edgehdf5-migrate: brings an existing SQLite agent memory into a new edgehdf5 memory file.
// This file parses the command line and prints; tools/migrate/migration.hpp does the work.

#include <unistd.h>

#include <cstddef>
#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "edgehdf5/config.hpp"
#include "edgehdf5/version.hpp"
#include "migration.hpp"
#include "progress_bar.hpp"
#include "report_output.hpp"

namespace {

using namespace edgehdf5::migrate;

// As the edgehdf5 tool's.
enum ExitStatus : int { kExitSuccess = 0, kExitFailure = 1, kExitUsageError = 2 };

// Rows listed without --verbose when many cannot be migrated (a wrong --embedding-dim
// makes every row wrong; the first ones say why).
constexpr std::size_t kRowsListed = 20;

constexpr const char* kDescription =
    "Copy an SQLite agent memory (tables memory_chunks, sessions, entities, relations) into\n"
    "a new edgehdf5 memory file, losing nothing.";

constexpr const char* kFooter =
    "Index mapping:\n"
    "  Chunks keep their order (memory_chunks ordered by id) and get memory ids 0, 1, 2...\n"
    "  sessions.start_idx/end_idx and entities.embedding_idx are 0-based positions in that\n"
    "  order; end_idx is exclusive (the session covers [start_idx, end_idx)). Rows left out\n"
    "  (--skip-deleted, --skip-invalid) shift the ids after them, and the references are\n"
    "  mapped so they still point at the same chunks: a session keeps the chunks of its range\n"
    "  that were written, an entity whose chunk was left out gets -1. Deleted rows are kept\n"
    "  as tombstones unless --skip-deleted; the file then records --compact-threshold, so the\n"
    "  first delete after the migration may compact them away.\n"
    "Bad rows (embedding NULL, of the wrong length, NaN or Inf; timestamp NULL or not a\n"
    "number; text not UTF-8; references to missing rows) are reported with their row id and\n"
    "fail the run with nothing written, or with --skip-invalid are left out and listed.\n"
    "The output is written to OUT.migrating-<pid>, fsynced and renamed over OUT.\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  the migration failed (bad rows, missing table or column, I/O error); OUT untouched\n"
    "  2  usage error (unknown option, missing or invalid argument)";

struct CommandLine {
  MigrationOptions options;
  bool verbose = false;
};

void add_options(CLI::App& app, CommandLine& line) {
  MigrationOptions& options = line.options;
  app.add_option("--sqlite", options.sqlite_path, "SQLite database to read")
      ->option_text("DB")
      ->required();
  app.add_option("--hdf5", options.hdf5_path, "Memory file to write")
      ->option_text("OUT")
      ->required();
  // Defaults are spelled out in the descriptions: option_text() hides CLI11's own display.
  app.add_option("--agent-id", options.agent_id,
                 "Agent identifier written to /meta (default: migrated)")
      ->option_text("ID");
  app.add_option("--embedder", options.embedder,
                 "Embedding model name written to /meta (default: unknown)")
      ->option_text("NAME");
  app.add_option("--embedding-dim", options.embedding_dim,
                 "Embedding dimension (default: that of the first embedding)")
      ->option_text("D")
      ->check(CLI::Range(std::size_t{1}, edgehdf5::kMaxEmbeddingDim));
  app.add_flag("--skip-deleted", options.skip_deleted,
               "Leave out rows with deleted=1 (default: keep them as tombstones)");
  app.add_flag("--skip-invalid", options.skip_invalid,
               "Leave out and list rows that cannot be migrated (default: fail)");
  auto* compression =
      app.add_flag("--compression", options.compression, "Deflate the memory datasets");
  app.add_option("--compression-level", options.compression_level,
                 "Deflate level, with --compression (default: 4)")
      ->option_text("1-9")
      ->check(CLI::Range(1, 9))
      ->needs(compression);
  app.add_flag("--float16", options.float16, "Store embeddings as IEEE half floats");
  app.add_option("--compact-threshold", options.compact_threshold,
                 "Tombstoned fraction past which the store compacts itself, written to the file "
                 "(default: 0.3; 0: never)")
      ->option_text("X")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--dry-run", options.dry_run, "Read and check everything, write nothing");
  app.add_flag("--force", options.force, "Replace OUT if it exists");
  app.add_flag("-v,--verbose", line.verbose,
               "Show progress (on a terminal), statistics, and every row left out");
}

int report_error(const std::string& message) {
  std::cerr << "edgehdf5-migrate: error: " << message << '\n';
  return kExitFailure;
}

int run(const CommandLine& line) {
  const MigrationOptions& options = line.options;
  const std::size_t listed = line.verbose ? std::numeric_limits<std::size_t>::max() : kRowsListed;
  std::optional<ProgressBar> bar;
  if (line.verbose && ::isatty(STDERR_FILENO)) bar.emplace(std::cerr);
  try {
    const MigrationReport report =
        migrate(options, bar ? ProgressObserver([&](const Progress& p) { bar->show(p); })
                             : ProgressObserver());
    bar.reset();
    if (!report.invalid_rows.empty()) {
      const std::size_t count = report.invalid_rows.size();
      std::cerr << "edgehdf5-migrate: warning: left out " << count
                << (count == 1 ? " row that cannot" : " rows that cannot") << " be migrated:\n";
      print_row_problems(report.invalid_rows, listed, std::cerr);
    }
    print_summary(report, options, std::cout);
    if (line.verbose) print_statistics(report, options, std::cout);
    if (!std::cout.flush()) return report_error("cannot write to standard output");
    return kExitSuccess;
  } catch (const InvalidRowsError& error) {
    bar.reset();
    std::cerr << "edgehdf5-migrate: rows that cannot be migrated:\n";
    print_row_problems(error.rows(), listed, std::cerr);
    return report_error(error.what());
  } catch (const std::exception& error) {  // edgehdf5::Error and whatever else escaped
    bar.reset();
    return report_error(error.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(kDescription, "edgehdf5-migrate");
  app.set_version_flag("--version", edgehdf5::kVersion);
  app.footer(kFooter);
  CommandLine line;
  add_options(app, line);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version arrive here as "errors" with exit code 0.
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(error);
    std::cerr << "edgehdf5-migrate: error: " << error.what()
              << "\nRun 'edgehdf5-migrate --help' for usage.\n";
    return kExitUsageError;
  }
  return run(line);
}
