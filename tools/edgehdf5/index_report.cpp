#include "index_report.hpp"

#include "edgehdf5/search.hpp"
#include "query_support.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

// What auto would run for one query over this store now.
std::string auto_strategy(const HDF5Memory& memory) {
  return std::string(strategy_name(memory.auto_strategy()));
}

double bytes_per_vector(const IVFPQInfo& info) {
  return info.vectors == 0 ? 0.0
                           : static_cast<double>(info.bytes) / static_cast<double>(info.vectors);
}

}  // namespace

nlohmann::ordered_json index_json(const HDF5Memory& memory) {
  const IVFPQIndex* index = memory.ivfpq_index();
  const std::string problem = memory.ivfpq_problem();
  nlohmann::ordered_json json = {
      {"present", index != nullptr},
      {"problem", problem.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(problem)}};
  if (index != nullptr) {
    const IVFPQInfo info = index->info();
    json["nlist"] = info.nlist;
    json["sub_quantizers"] = info.sub_quantizers;
    json["bits"] = info.bits;
    json["embedding_dim"] = info.embedding_dim;
    json["vectors"] = info.vectors;
    json["trained_vectors"] = info.trained_vectors;
    json["added_since_training"] = info.added_since_training;
    json["training_error"] = info.training_error;
    json["added_error"] = info.added_error;
    json["bytes"] = info.bytes;
    json["bytes_per_vector"] = bytes_per_vector(info);
    json["needs_retrain"] = info.needs_retrain;
  }
  json["auto_strategy"] = auto_strategy(memory);
  json["ivfpq_min_rows"] = SearchEngine::shared().thresholds().ivfpq_min_rows;
  return json;
}

std::string index_report(const HDF5Memory& memory, const std::string& file) {
  const IVFPQIndex* index = memory.ivfpq_index();
  const std::string problem = memory.ivfpq_problem();
  const std::string strategy = auto_strategy(memory);
  if (index == nullptr) {
    std::string text =
        problem.empty() ? "ivfpq:        none\n" : "ivfpq:        unusable: " + problem + "\n";
    text += "auto search:  " + strategy + " (exact scan)\n";
    text += "build one:    edgehdf5 index build " + file + "\n";
    return text;
  }
  const IVFPQInfo info = index->info();
  std::string text;
  text += "ivfpq:        " + std::to_string(info.nlist) + " lists, " +
          std::to_string(info.sub_quantizers) + " sub-quantisers x " + std::to_string(info.bits) +
          " bits (" + std::to_string(info.sub_quantizers) + " bytes per code), " +
          std::to_string(info.embedding_dim) + "-d\n";
  text += "vectors:      " + std::to_string(info.vectors) + " (" +
          std::to_string(info.trained_vectors) + " at training, " +
          std::to_string(info.added_since_training) + " added since)\n";
  text += "size:         " + human_bytes(info.bytes) + ", " +
          fixed_decimals(bytes_per_vector(info), 1) + " bytes per vector\n";
  text += "fit:          mean squared residual " + fixed_decimals(info.training_error, 4) +
          " at training, " + fixed_decimals(info.added_error, 4) + " for rows added since\n";
  text += "auto search:  " + strategy + " (the index is used from " +
          std::to_string(SearchEngine::shared().thresholds().ivfpq_min_rows) + " rows)\n";
  if (info.needs_retrain) {
    text +=
        "retrain:      advised (the data has drifted from the cells or grown past 4x the "
        "trained rows): edgehdf5 index build " +
        file + "\n";
  } else {
    text += "retrain:      not needed\n";
  }
  return text;
}

std::string index_summary(const HDF5Memory& memory) {
  const IVFPQIndex* index = memory.ivfpq_index();
  if (index == nullptr) {
    const std::string problem = memory.ivfpq_problem();
    return problem.empty() ? "none (edgehdf5 index build FILE makes one)" : "unusable: " + problem;
  }
  const IVFPQInfo info = index->info();
  return "IVF-PQ, " + std::to_string(info.nlist) + " lists, " +
         std::to_string(info.sub_quantizers) + " x 8-bit codes, " +
         counted(info.vectors, "vector", "vectors") + ", " + human_bytes(info.bytes) +
         (info.needs_retrain ? ", retrain advised" : "");
}

}  // namespace edgehdf5::cli
