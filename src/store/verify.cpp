// verify_file: the deep check behind `edgehdf5 verify`. Opening already validates the
// layout (names, dtypes, lengths) and replays the log; this adds the checks on values that
// opening trusts for speed.

#include <cmath>
#include <unordered_set>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/file_system.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/search.hpp"
#include "store/schema.hpp"
#include "util/text.hpp"

namespace edgehdf5 {
namespace {

constexpr std::size_t kMaxReported = 50;

class Problems {
 public:
  void add(std::string problem) {
    if (list_.size() < kMaxReported) list_.push_back(std::move(problem));
    ++total_;
  }
  std::vector<std::string> finish() && {
    if (total_ > list_.size()) {
      list_.push_back("... and " + std::to_string(total_ - list_.size()) + " more problems");
    }
    return std::move(list_);
  }

 private:
  std::vector<std::string> list_;
  std::size_t total_ = 0;
};

std::string describe_row(const MemoryColumns& columns, std::size_t row) {
  return "/memory row " + std::to_string(row) + " (id " + std::to_string(columns.ids[row]) + ")";
}

void check_memories(const MemoryColumns& columns, Problems& problems) {
  columns.load_texts();  // every text is checked: one pass per column, not a read per row
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    const std::vector<float> embedding = columns.embedding(row);
    bool finite = true;
    for (float value : embedding) finite = finite && std::isfinite(value);
    if (!finite) {
      problems.add(describe_row(columns, row) + ": embedding holds NaN or Inf");
      continue;
    }
    const float norm = compute_norm(embedding);
    if (std::fabs(norm - columns.norms[row]) > 1e-4f * std::max(1.0f, norm)) {
      problems.add(describe_row(columns, row) + ": stored norm " + std::to_string(columns.norms[row]) +
                   " differs from the embedding's norm " + std::to_string(norm));
    }
    if (!std::isfinite(columns.timestamps[row])) {
      problems.add(describe_row(columns, row) + ": timestamp is not finite");
    }
    columns.for_each_column([&](const MemoryColumn& column, const auto& values) {
      if constexpr (std::is_same_v<typename std::decay_t<decltype(values)>::value_type,
                                   std::string>) {
        if (!util::is_valid_utf8(values[row])) {
          problems.add(describe_row(columns, row) + ": " + std::string(column.dataset) +
                       " is not valid UTF-8");
        }
      }
    });
  }
}

void check_references(const HDF5Memory& memory, Problems& problems) {
  const MemoryColumns& columns = memory.columns();
  const auto& sessions = memory.sessions();
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    if (sessions[i].start_id < 0 || sessions[i].end_id < sessions[i].start_id) {
      problems.add("/sessions row " + std::to_string(i) + " ('" + sessions[i].id +
                   "'): start " + std::to_string(sessions[i].start_id) + " and end " +
                   std::to_string(sessions[i].end_id) + " do not form a range");
    }
  }
  const KnowledgeGraph& graph = memory.knowledge();
  for (const Entity& entity : graph.entities()) {
    if (entity.embedding_id != -1 && columns.row_of(entity.embedding_id) < 0) {
      problems.add("entity " + std::to_string(entity.id) + " ('" + entity.name +
                   "') refers to memory " + std::to_string(entity.embedding_id) +
                   ", which is not in the file");
    }
  }
  const auto& relations = graph.relations();
  for (std::size_t i = 0; i < relations.size(); ++i) {
    for (EntityId end : {relations[i].source, relations[i].target}) {
      if (!graph.contains(end)) {
        problems.add("relation " + std::to_string(i) + " refers to entity " +
                     std::to_string(end) + ", which does not exist");
      }
    }
    if (!std::isfinite(relations[i].weight)) {
      problems.add("relation " + std::to_string(i) + " has a weight that is not finite");
    }
  }
}

// The /ivfpq group, if any: readable, its arrays consistent, and every code belonging to a
// memory of the file, once. (Opening tolerates an unusable group, since the index can be
// rebuilt; verify reports it.)
void check_index(FileSystem& file_system, const std::filesystem::path& path,
                 const HDF5Memory& memory, Problems& problems) {
  store::StoredIndex stored = store::read_stored_index(file_system, path);
  if (!stored.problem.empty()) {
    problems.add("/ivfpq: " + stored.problem);
    return;
  }
  if (!stored.data) return;
  const MemoryColumns& columns = memory.columns();
  std::unordered_set<MemoryId> seen;
  seen.reserve(stored.data->ids.size());
  for (MemoryId id : stored.data->ids) {
    if (!seen.insert(id).second) {
      problems.add("/ivfpq/ids holds memory " + std::to_string(id) + " more than once");
    } else if (columns.row_of(id) < 0) {
      problems.add("/ivfpq/ids refers to memory " + std::to_string(id) +
                   ", which is not in the file");
    }
  }
  try {
    (void)IVFPQIndex::from_data(std::move(*stored.data), columns);
  } catch (const Error& error) {
    problems.add(std::string("/ivfpq: ") + error.what());
  }
}

// The /keyword_index group, if any: usable for the file (its tokenizer, its rows) and whole:
// every term and posting is walked (BM25Index::to_arrays checks each offset it follows),
// where a query would only meet the terms it asks for. (Opening tolerates an unusable group,
// since the index is rebuilt from the chunks; verify reports it.)
void check_keyword_index(const HDF5Memory& memory, Problems& problems) {
  std::string problem;
  try {
    (void)memory.keyword_index().to_arrays();
    problem = memory.keyword_index_problem();
  } catch (const Error& error) {
    problem = error.what();
  }
  if (problem.empty()) return;
  problems.add(problem.starts_with("/keyword_index") ? problem : "/keyword_index: " + problem);
}

}  // namespace

std::vector<std::string> verify_file(const std::filesystem::path& path) {
  return verify_file(path, nullptr);
}

std::vector<std::string> verify_file(const std::filesystem::path& path,
                                     std::shared_ptr<FileSystem> file_system) {
  Problems problems;
  try {
    OpenOptions options;
    options.read_only = true;
    options.file_system = file_system ? std::move(file_system) : posix_file_system();
    const HDF5Memory memory = HDF5Memory::open(path, options);
    check_memories(memory.columns(), problems);
    check_references(memory, problems);
    check_index(*options.file_system, path, memory, problems);
    check_keyword_index(memory, problems);
  } catch (const Error& error) {
    problems.add(error.what());
  }
  return std::move(problems).finish();
}

}  // namespace edgehdf5
