#include "report_output.hpp"

#include <cstdio>
#include <string>
#include <string_view>

namespace edgehdf5::migrate {
namespace {

std::string counted(std::size_t count, std::string_view singular, std::string_view plural) {
  return std::to_string(count) + " " + std::string(count == 1 ? singular : plural);
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string megabytes(std::uintmax_t bytes) {
  return format("%.1f MB", static_cast<double>(bytes) / 1e6);
}

void print_table_line(std::ostream& out, std::string_view table, const TableCounts& counts,
                      const std::string& extra = {}) {
  out << "  " << table << std::string(15 - table.size(), ' ');
  if (!counts.present) {
    out << "absent (nothing to migrate)\n";
    return;
  }
  out << counts.read << " read, " << counts.written << " written";
  if (counts.invalid != 0) out << ", " << counts.invalid << " invalid left out";
  out << extra << '\n';
}

}  // namespace

void print_summary(const MigrationReport& report, const MigrationOptions& options,
                   std::ostream& out) {
  std::string what = counted(report.memory_chunks.written, "memory", "memories");
  if (report.tombstones != 0) what += " (" + std::to_string(report.tombstones) + " as tombstones)";
  what += ", " + counted(report.sessions.written, "session", "sessions") + ", " +
          counted(report.entities.written, "entity", "entities") + ", " +
          counted(report.relations.written, "relation", "relations");
  if (options.dry_run) {
    out << "dry run: " << what << " would be migrated from " << options.sqlite_path.string()
        << "; nothing was written\n";
  } else {
    out << "migrated " << what << " from " << options.sqlite_path.string() << " to "
        << options.hdf5_path.string() << '\n';
  }
}

void print_statistics(const MigrationReport& report, const MigrationOptions& options,
                      std::ostream& out) {
  out << "source           " << options.sqlite_path.string() << " ("
      << megabytes(report.input_bytes) << ")\n";
  out << "embedding_dim    " << report.embedding_dim;
  if (report.dim_detected_from) out << " (detected from " << *report.dim_detected_from << ")";
  out << '\n' << "tables\n";
  std::string chunk_extra;
  if (report.tombstones != 0)
    chunk_extra += ", " + std::to_string(report.tombstones) + " as tombstones";
  if (report.deleted_left_out != 0) {
    chunk_extra += ", " + std::to_string(report.deleted_left_out) + " deleted left out";
  }
  print_table_line(out, "memory_chunks", report.memory_chunks, chunk_extra);
  print_table_line(out, "sessions", report.sessions);
  print_table_line(out, "entities", report.entities,
                   report.entities_unlinked == 0
                       ? std::string()
                       : ", " + std::to_string(report.entities_unlinked) +
                             " without embedding (their chunk was left out)");
  print_table_line(out, "relations", report.relations);
  if (report.written) {
    out << "output           " << options.hdf5_path.string() << " ("
        << megabytes(report.output_bytes) << ", " << (options.float16 ? "float16" : "float32")
        << (options.compression ? ", deflate " + std::to_string(options.compression_level)
                                : std::string(", uncompressed"))
        << ")\n";
  } else {
    out << "output           none (dry run)\n";
  }
  const double rate =
      report.seconds > 0 ? static_cast<double>(report.memory_chunks.read) / report.seconds : 0.0;
  out << "time             " << format("%.3f s", report.seconds) << " (" << format("%.0f", rate)
      << " memory_chunks rows/s)\n";
}

void print_row_problems(std::span<const RowProblem> rows, std::size_t limit, std::ostream& out) {
  const std::size_t shown = std::min(rows.size(), limit);
  for (std::size_t i = 0; i < shown; ++i)
    out << "  " << rows[i].row << ": " << rows[i].reason << '\n';
  if (rows.size() > shown) {
    out << "  ... and " << rows.size() - shown << " more (--verbose lists them all)\n";
  }
}

}  // namespace edgehdf5::migrate
