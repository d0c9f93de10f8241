// stats: where a memory file's bytes go and what state its indexes are in.
//
// Sizes are the raw data each dataset holds (numbers at their stored width, strings as their
// UTF-8 bytes), computed from the open store; "bytes on disk" is the .h5 file plus its log.
// Their ratio shows what compression saves (above 1) or what HDF5's structure and string
// storage cost (below 1). Per-dataset sizes on disk would need HDF5's own storage sizes,
// which the library does not expose.

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "edgehdf5/embedder.hpp"
#include "index_report.hpp"
#include "json_io.hpp"
#include "progress.hpp"
#include "query_support.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

struct DatasetSize {
  std::string name;
  std::size_t rows = 0;
  std::uint64_t bytes = 0;
};

struct GroupSize {
  std::string name;
  std::vector<DatasetSize> datasets;

  std::uint64_t bytes() const {
    std::uint64_t total = 0;
    for (const auto& dataset : datasets) total += dataset.bytes;
    return total;
  }
};

// The raw bytes of one column: its strings' UTF-8 bytes, or its numbers at their width.
template <typename Vector>
std::uint64_t column_bytes(const Vector& values) {
  using Value = typename Vector::value_type;
  if constexpr (std::is_same_v<Value, std::string>) {
    std::uint64_t total = 0;
    for (const auto& text : values) total += text.size();
    return total;
  } else {
    return std::uint64_t{values.size()} * sizeof(Value);
  }
}

template <typename Record, typename Field>
std::uint64_t field_bytes(const std::vector<Record>& records, Field field) {
  std::uint64_t total = 0;
  for (const auto& record : records) total += (record.*field).size();
  return total;
}

std::vector<GroupSize> group_sizes(const HDF5Memory& memory) {
  const MemoryColumns& columns = memory.columns();
  GroupSize memories{"/memory", {}};
  columns.for_each_column([&](const MemoryColumn& column, const auto& values) {
    memories.datasets.push_back({std::string(column.dataset), columns.rows(), column_bytes(values)});
  });

  const auto& sessions = memory.sessions();
  const std::size_t session_count = sessions.size();
  GroupSize session_group{
      "/sessions",
      {{"ids", session_count, field_bytes(sessions, &Session::id)},
       {"start_idxs, end_idxs", session_count, std::uint64_t{session_count} * 16},
       {"channels", session_count, field_bytes(sessions, &Session::channel)},
       {"timestamps", session_count, std::uint64_t{session_count} * 8},
       {"summaries", session_count, field_bytes(sessions, &Session::summary)}}};

  const KnowledgeGraph& graph = memory.knowledge();
  const std::size_t entities = graph.entities().size();
  const std::size_t relations = graph.relations().size();
  GroupSize graph_group{
      "/knowledge_graph",
      {{"entity_ids, entity_emb_idxs", entities, std::uint64_t{entities} * 16},
       {"entity_names", entities, field_bytes(graph.entities(), &Entity::name)},
       {"entity_types", entities, field_bytes(graph.entities(), &Entity::type)},
       {"relation_srcs, relation_tgts", relations, std::uint64_t{relations} * 16},
       {"relation_types", relations, field_bytes(graph.relations(), &Relation::type)},
       {"relation_weights, relation_ts", relations, std::uint64_t{relations} * 12}}};
  std::vector<GroupSize> groups = {memories, session_group, graph_group};
  if (const IVFPQIndex* index = memory.ivfpq_index()) {
    const IVFPQInfo info = index->info();
    const std::uint64_t dim = info.embedding_dim;
    groups.push_back(
        {"/ivfpq",
         {{"centroids", info.nlist, std::uint64_t{info.nlist} * dim * 4},
          {"codebooks", info.sub_quantizers * 256, std::uint64_t{256} * dim * 4},
          {"list_offsets", info.nlist + 1, std::uint64_t{info.nlist + 1} * 8},
          {"codes", info.vectors, std::uint64_t{info.vectors} * info.sub_quantizers},
          {"ids", info.vectors, std::uint64_t{info.vectors} * 8}}});
  }
  return groups;
}

std::string percent(double fraction) { return fixed_decimals(100.0 * fraction, 1) + "%"; }

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Everything `stats` reports beyond the store's own settings, measured once.
struct Stats {
  std::size_t total = 0;
  std::size_t active = 0;
  double deleted_fraction = 0.0;
  std::vector<GroupSize> groups;
  std::uint64_t data_bytes = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t log_bytes = 0;
  std::uint64_t on_disk = 0;
  double ratio = 0.0;  // raw data / bytes on disk
  const BM25Index* keyword = nullptr;
  double keyword_build_ms = 0.0;
  std::string strategy;  // what auto picks for a vector search
  const char* dtype = "float32";
  std::uint64_t embedding_bytes = 0;
};

// The keyword index is made at the first text query, from the file's /keyword_index arrays
// (queried in place) or from the chunks; make it now to report it (and how long that takes).
const BM25Index& build_keyword_index(const HDF5Memory& memory, double& build_ms) {
  const auto started = std::chrono::steady_clock::now();
  const BM25Index* keyword = nullptr;
  {
    std::optional<Progress> progress;
    if (memory.count() >= 20000) progress.emplace("building keyword index", 0);
    keyword = &memory.keyword_index();
  }
  build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return *keyword;
}

Stats measure(const HDF5Memory& memory, const std::filesystem::path& file) {
  Stats stats;
  stats.total = memory.count();
  stats.active = memory.count_active();
  stats.deleted_fraction = stats.total == 0 ? 0.0
                                            : static_cast<double>(stats.total - stats.active) /
                                                  static_cast<double>(stats.total);
  stats.groups = group_sizes(memory);
  for (const auto& group : stats.groups) stats.data_bytes += group.bytes();
  stats.file_bytes = file_size_or_zero(file);
  stats.log_bytes = memory.info().log_bytes;
  stats.on_disk = stats.file_bytes + stats.log_bytes;
  stats.ratio = stats.on_disk == 0 ? 0.0
                                   : static_cast<double>(stats.data_bytes) /
                                         static_cast<double>(stats.on_disk);
  stats.keyword = &build_keyword_index(memory, stats.keyword_build_ms);
  stats.strategy = strategy_name(memory.auto_strategy());
  stats.dtype = memory.config().float16 ? "float16" : "float32";
  for (const DatasetSize& dataset : stats.groups[0].datasets) {
    if (dataset.name == "embeddings") stats.embedding_bytes = dataset.bytes;
  }
  return stats;
}

nlohmann::ordered_json groups_json(const std::vector<GroupSize>& groups) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const auto& group : groups) {
    nlohmann::ordered_json datasets = nlohmann::ordered_json::object();
    for (const auto& dataset : group.datasets) {
      datasets[dataset.name] = {{"rows", dataset.rows}, {"bytes", dataset.bytes}};
    }
    json[group.name] = {{"bytes", group.bytes()}, {"datasets", std::move(datasets)}};
  }
  return json;
}

nlohmann::ordered_json problem_or_null(const std::string& problem) {
  return problem.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(problem);
}

// Where the keyword index came from: the file's arrays (and the rows saved since), or the
// chunks, and why.
std::string keyword_source(const HDF5Memory& memory, const BM25Index& keyword) {
  const std::size_t from_file = keyword.stored_rows();
  const std::size_t added = keyword.rows() - from_file;
  if (from_file > 0 || added == 0) {
    return "from /keyword_index (" + counted(from_file, "row", "rows") + " in the file, " +
           std::to_string(added) + " added since)";
  }
  const std::string problem = memory.keyword_index_problem();
  return "built from the chunks (" +
         (problem.empty() ? std::string("the file has no /keyword_index") : "unusable: " + problem) +
         "; the next checkpoint writes it)";
}

nlohmann::ordered_json indexes_json(const HDF5Memory& memory, const Stats& stats) {
  return {{"vector", {{"kind", "exact"}, {"auto_strategy", stats.strategy}}},
          {"keyword",
           {{"kind", "bm25"},
            {"rows_from_file", stats.keyword->stored_rows()},
            {"rows_added", stats.keyword->rows() - stats.keyword->stored_rows()},
            {"problem", problem_or_null(memory.keyword_index_problem())},
            {"documents", stats.keyword->active_documents()},
            {"terms", stats.keyword->terms()},
            {"bytes", stats.keyword->memory_bytes()},
            {"build_ms", stats.keyword_build_ms}}},
          {"approximate", index_json(memory)}};
}

nlohmann::ordered_json stats_json(const HDF5Memory& memory, const std::filesystem::path& file,
                                  const Stats& stats) {
  const MemoryConfig& config = memory.config();
  return {{"path", file.string()},
          {"file_bytes", stats.file_bytes},
          {"log_bytes", stats.log_bytes},
          {"data_bytes", stats.data_bytes},
          {"memories",
           {{"total", stats.total},
            {"active", stats.active},
            {"deleted", stats.total - stats.active},
            {"tombstone_fraction", stats.deleted_fraction}}},
          {"embeddings",
           {{"dim", config.embedding_dim},
            {"dtype", stats.dtype},
            {"bytes", stats.embedding_bytes}}},
          {"embedder",
           {{"name", config.embedder}, {"built_in", is_builtin_embedder(config.embedder)}}},
          {"compression",
           {{"enabled", config.compression},
            {"level", config.compression ? config.compression_level : 0},
            {"ratio", stats.ratio}}},
          {"groups", groups_json(stats.groups)},
          {"index", indexes_json(memory, stats)}};
}

// The lines above the table: file, memories, embeddings, embedder, compression.
void print_summary(const MemoryConfig& config, const std::filesystem::path& file,
                   const Stats& stats, std::ostream& out) {
  out << "file:        " << file.string() << '\n'
      << "on disk:     " << human_bytes(stats.on_disk) << " (file "
      << human_bytes(stats.file_bytes) << ", log " << human_bytes(stats.log_bytes) << ")\n"
      << "memories:    " << stats.total << " total, " << stats.active << " active, "
      << stats.total - stats.active << " deleted (tombstones "
      << percent(stats.deleted_fraction) << ")\n"
      << "embeddings:  " << config.embedding_dim << "-d " << stats.dtype << ", "
      << human_bytes(stats.embedding_bytes) << '\n'
      << "embedder:    " << config.embedder
      << (is_builtin_embedder(config.embedder) ? " (built in)"
                                               : " (external: text commands need --embed-cmd)")
      << '\n'
      << "compression: "
      << (config.compression ? "deflate level " + std::to_string(config.compression_level)
                             : std::string("off"))
      << "; raw data " << human_bytes(stats.data_bytes) << " / on disk "
      << human_bytes(stats.on_disk) << " = " << fixed_decimals(stats.ratio, 2) << "\n\n";
}

void print_group_table(const Stats& stats, std::ostream& out) {
  const auto share = [&](std::uint64_t bytes) {
    return stats.data_bytes == 0
               ? std::string("-")
               : percent(static_cast<double>(bytes) / static_cast<double>(stats.data_bytes));
  };
  TextTable table({{"group / dataset"},
                   {"rows", Align::right},
                   {"raw bytes", Align::right},
                   {"share", Align::right}});
  for (const auto& group : stats.groups) {
    table.add_row({group.name, "", human_bytes(group.bytes()), share(group.bytes())});
    for (const auto& dataset : group.datasets) {
      table.add_row({"  " + dataset.name, std::to_string(dataset.rows),
                     human_bytes(dataset.bytes), share(dataset.bytes)});
    }
  }
  table.print(out);
}

void print_indexes(const HDF5Memory& memory, const Stats& stats, std::ostream& out) {
  out << "\nindexes:\n"
      << "  vector   auto strategy for " << stats.total << " rows: " << stats.strategy << '\n'
      << "  keyword  BM25 " << keyword_source(memory, *stats.keyword) << ", "
      << counted(stats.keyword->active_documents(), "document", "documents") << ", "
      << counted(stats.keyword->terms(), "term", "terms") << ", "
      << human_bytes(stats.keyword->memory_bytes()) << ", ready in "
      << fixed_decimals(stats.keyword_build_ms, 1) << " ms\n"
      << "  ann      " << index_summary(memory) << '\n';
}

ExitStatus run_stats(const FileOptions& options) {
  const auto memory = open_read_only(options.file);
  const Stats stats = measure(memory, options.file);
  if (options.json) {
    std::cout << json_line(stats_json(memory, options.file, stats)) << '\n';
    return kExitSuccess;
  }
  print_summary(memory.config(), options.file, stats, std::cout);
  print_group_table(stats, std::cout);
  print_indexes(memory, stats, std::cout);
  return kExitSuccess;
}

}  // namespace

Command add_stats_command(CLI::App& app) {
  auto options = std::make_shared<FileOptions>();
  auto* command = app.add_subcommand(
      "stats",
      "Where the file's bytes go (per group and dataset), its dtype, compression ratio,\n"
      "deleted fraction, embedder and index state");
  add_file_options(*command, *options, "a report");
  return make_command(command, options, &run_stats);
}

}  // namespace edgehdf5::cli
