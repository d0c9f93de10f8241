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

std::uint64_t text_bytes(const std::vector<std::string>& texts) {
  std::uint64_t total = 0;
  for (const auto& text : texts) total += text.size();
  return total;
}

template <typename Record, typename Field>
std::uint64_t field_bytes(const std::vector<Record>& records, Field field) {
  std::uint64_t total = 0;
  for (const auto& record : records) total += (record.*field).size();
  return total;
}

std::vector<GroupSize> group_sizes(const HDF5Memory& memory) {
  const MemoryCache& cache = memory.cache();
  const std::size_t rows = cache.rows();
  const std::size_t value_bytes = cache.embedding_type == EmbeddingType::float16 ? 2 : 4;
  GroupSize memories{"/memory",
                     {{"embeddings", rows, std::uint64_t{rows} * cache.embedding_dim * value_bytes},
                      {"chunks", rows, text_bytes(cache.chunks)},
                      {"source_channel", rows, text_bytes(cache.source_channels)},
                      {"session_ids", rows, text_bytes(cache.session_ids)},
                      {"tags", rows, text_bytes(cache.tags)},
                      {"timestamps", rows, std::uint64_t{rows} * 8},
                      {"norms", rows, std::uint64_t{rows} * 4},
                      {"ids", rows, std::uint64_t{rows} * 8},
                      {"tombstones", rows, rows}}};

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

}  // namespace

Command add_stats_command(CLI::App& app) {
  struct Options {
    std::filesystem::path file;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "stats",
      "Where the file's bytes go (per group and dataset), its dtype, compression ratio,\n"
      "deleted fraction, embedder and index state");
  add_memory_file_argument(*command, options->file);
  command->add_flag("--json", options->json, "Print one JSON object instead of a report");

  return {
      command, [options] {
        const auto memory = open_read_only(options->file);
        const MemoryConfig& config = memory.config();
        const StoreInfo store = memory.info();
        const std::size_t total = memory.count();
        const std::size_t active = memory.count_active();
        const double deleted_fraction =
            total == 0 ? 0.0 : static_cast<double>(total - active) / static_cast<double>(total);
        const auto groups = group_sizes(memory);
        std::uint64_t data_bytes = 0;
        for (const auto& group : groups) data_bytes += group.bytes();
        const std::uint64_t file_bytes = file_size_or_zero(options->file);
        const std::uint64_t on_disk = file_bytes + store.log_bytes;
        const double ratio =
            on_disk == 0 ? 0.0 : static_cast<double>(data_bytes) / static_cast<double>(on_disk);

        // The keyword index lives in memory and is built at the first text query; build
        // it now to report it (and how long that takes).
        const auto started = std::chrono::steady_clock::now();
        const BM25Index* keyword = nullptr;
        {
          std::optional<Progress> progress;
          if (total >= 20000) progress.emplace("building keyword index", 0);
          keyword = &memory.keyword_index();
        }
        const double build_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        const std::string strategy(strategy_name(
            SearchEngine::shared().choose(total, memory.ivfpq_index() != nullptr)));
        const char* dtype = config.float16 ? "float16" : "float32";
        const std::uint64_t embedding_bytes = groups[0].datasets[0].bytes;

        if (options->json) {
          nlohmann::ordered_json group_json = nlohmann::ordered_json::object();
          for (const auto& group : groups) {
            nlohmann::ordered_json datasets = nlohmann::ordered_json::object();
            for (const auto& dataset : group.datasets) {
              datasets[dataset.name] = {{"rows", dataset.rows}, {"bytes", dataset.bytes}};
            }
            group_json[group.name] = {{"bytes", group.bytes()}, {"datasets", std::move(datasets)}};
          }
          std::cout << json_line({{"path", options->file.string()},
                                  {"file_bytes", file_bytes},
                                  {"log_bytes", store.log_bytes},
                                  {"data_bytes", data_bytes},
                                  {"memories",
                                   {{"total", total},
                                    {"active", active},
                                    {"deleted", total - active},
                                    {"tombstone_fraction", deleted_fraction}}},
                                  {"embeddings",
                                   {{"dim", config.embedding_dim},
                                    {"dtype", dtype},
                                    {"bytes", embedding_bytes}}},
                                  {"embedder",
                                   {{"name", config.embedder},
                                    {"built_in", is_builtin_embedder(config.embedder)}}},
                                  {"compression",
                                   {{"enabled", config.compression},
                                    {"level", config.compression ? config.compression_level : 0},
                                    {"ratio", ratio}}},
                                  {"groups", std::move(group_json)},
                                  {"index",
                                   {{"vector", {{"kind", "exact"}, {"auto_strategy", strategy}}},
                                    {"keyword",
                                     {{"kind", "bm25"},
                                      {"persisted", false},
                                      {"documents", keyword->active_documents()},
                                      {"terms", keyword->terms()},
                                      {"bytes", keyword->memory_bytes()},
                                      {"build_ms", build_ms}}},
                                    {"approximate", index_json(memory)}}}})
                    << '\n';
          return kExitSuccess;
        }

        std::cout << "file:        " << options->file.string() << '\n'
                  << "on disk:     " << human_bytes(on_disk) << " (file " << human_bytes(file_bytes)
                  << ", log " << human_bytes(store.log_bytes) << ")\n"
                  << "memories:    " << total << " total, " << active << " active, "
                  << total - active << " deleted (tombstones " << percent(deleted_fraction) << ")\n"
                  << "embeddings:  " << config.embedding_dim << "-d " << dtype << ", "
                  << human_bytes(embedding_bytes) << '\n'
                  << "embedder:    " << config.embedder
                  << (is_builtin_embedder(config.embedder)
                          ? " (built in)"
                          : " (external: text commands need --embed-cmd)")
                  << '\n'
                  << "compression: "
                  << (config.compression
                          ? "deflate level " + std::to_string(config.compression_level)
                          : std::string("off"))
                  << "; raw data " << human_bytes(data_bytes) << " / on disk "
                  << human_bytes(on_disk) << " = " << fixed_decimals(ratio, 2) << "\n\n";

        TextTable table({{"group / dataset"},
                         {"rows", Align::right},
                         {"raw bytes", Align::right},
                         {"share", Align::right}});
        for (const auto& group : groups) {
          const auto share = [&](std::uint64_t bytes) {
            return data_bytes == 0
                       ? std::string("-")
                       : percent(static_cast<double>(bytes) / static_cast<double>(data_bytes));
          };
          table.add_row({group.name, "", human_bytes(group.bytes()), share(group.bytes())});
          for (const auto& dataset : group.datasets) {
            table.add_row({"  " + dataset.name, std::to_string(dataset.rows),
                           human_bytes(dataset.bytes), share(dataset.bytes)});
          }
        }
        table.print(std::cout);

        std::cout << "\nindexes:\n"
                  << "  vector   auto strategy for " << total << " rows: " << strategy
                  << '\n'
                  << "  keyword  BM25 in memory (built at open, not stored), "
                  << counted(keyword->active_documents(), "document", "documents") << ", "
                  << counted(keyword->terms(), "term", "terms") << ", "
                  << human_bytes(keyword->memory_bytes()) << ", built in "
                  << fixed_decimals(build_ms, 1) << " ms\n"
                  << "  ann      " << index_summary(memory) << '\n';
        return kExitSuccess;
      }};
}

}  // namespace edgehdf5::cli
