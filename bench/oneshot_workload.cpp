// edgehdf5-bench oneshot: what one short-lived `edgehdf5` process costs on a big file, the
// way an agent's tool call runs it (a new process per question), beside the floor and the
// peer measured in the same run:
//   * the file: 100K and 1M memories of real text (the paragraphs of the Debian changelogs
//     on this machine, /usr/share/doc/*/changelog.Debian.gz, cycled with a copy number once
//     used up), made with `edgehdf5 create` (built-in hash:384 embedder) + `edgehdf5 import`;
//   * whole processes, page cache warm, median of --repeat runs: `cat FILE > /dev/null` (the
//     floor: touching every byte once), `edgehdf5 info`, `recall --vector-only`, `recall`
//     (hybrid, the default), `recall --keyword-only`, and the `sqlite3` command answering an
//     FTS5 query for the same words (open + query) on a database of the same texts
//     (tokenize 'porter unicode61', as the file's default tokenizer);
//   * then `edgehdf5 index build` and the recalls again, now served by the IVF-PQ index;
//   * what the keyword index costs the file: its bytes beside the file's, and a checkpoint
//     of the file written with it (the index merged from the file's arrays, then written)
//     and without it, alternated in-process.

#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/bm25.hpp"
#include "store/checkpoint_file.hpp"
#include "store/schema.hpp"
#include "store/sidecar_paths.hpp"
#include "workload.hpp"

extern char** environ;

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;

struct OneshotOptions {
  std::vector<std::size_t> sizes = {100'000, 1'000'000};
  std::size_t repeats = 5;
  std::string question = "fix segfault on startup with the new upstream release";
  std::string dir = fs::temp_directory_path().string();
  bool ivfpq = true;
  bool json = false;
};

// ---- the corpus ------------------------------------------------------------------------------

// The changelog paragraphs of this machine: each "  * " item with its continuation lines,
// prefixed with its package's name, whitespace collapsed.
std::vector<std::string> changelog_paragraphs() {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator("/usr/share/doc")) {
    const fs::path changelog = entry.path() / "changelog.Debian.gz";
    if (fs::is_regular_file(changelog)) files.push_back(changelog);
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> paragraphs;
  for (const fs::path& file : files) {
    const std::string command = "gzip -dc '" + file.string() + "' 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) continue;
    const std::string package = file.parent_path().filename().string();
    std::string paragraph;
    const auto finish = [&] {
      if (paragraph.size() > 20) paragraphs.push_back(package + ": " + paragraph);
      paragraph.clear();
    };
    char line[4096];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
      std::string_view text(line);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
      const std::size_t first = text.find_first_not_of(' ');
      const bool item = text.substr(0, 4) == "  * " || text.substr(0, 4) == "    ";
      if (text.substr(0, 4) == "  * ") finish();
      if (!item || first == std::string_view::npos) {
        finish();
        continue;
      }
      std::string_view words = text.substr(first);
      if (words.substr(0, 2) == "* ") words.remove_prefix(2);
      if (words.substr(0, 2) == "- ") words.remove_prefix(2);
      if (!paragraph.empty()) paragraph += ' ';
      paragraph += words;
    }
    finish();
    ::pclose(pipe);
  }
  return paragraphs;
}

// `count` texts: the paragraphs in order, then again with " (copy 2)", " (copy 3)"...
std::vector<std::string> corpus(const std::vector<std::string>& paragraphs, std::size_t count) {
  if (paragraphs.empty()) throw std::runtime_error("no changelog paragraphs under /usr/share/doc");
  std::vector<std::string> texts;
  texts.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string text = paragraphs[i % paragraphs.size()];
    if (const std::size_t copy = i / paragraphs.size(); copy > 0) {
      text += " (copy " + std::to_string(copy + 1) + ")";
    }
    texts.push_back(std::move(text));
  }
  return texts;
}

// ---- processes -------------------------------------------------------------------------------

// Runs `argv` as a child process, its output to /dev/null (or to `output` when given), and
// waits; seconds from spawn to exit. Throws when it cannot run or does not exit with 0.
double run_process(const std::vector<std::string>& argv, const std::string& output = "/dev/null") {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string errors = (fs::temp_directory_path() / ("oneshot-stderr-" + std::to_string(::getpid()))).string();
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errors.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t child = 0;
  const auto started = std::chrono::steady_clock::now();
  const int spawned = posix_spawnp(&child, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot run " + argv[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed for " + argv[0]);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command;
    for (const std::string& arg : argv) command += arg + " ";
    std::ifstream error_text(errors);
    const std::string said((std::istreambuf_iterator<char>(error_text)), {});
    fs::remove(errors);
    throw std::runtime_error("failed (status " + std::to_string(status) + "): " + command + "\n" +
                             said.substr(0, 2000));
  }
  fs::remove(errors);
  return seconds;
}

// ---- building the files ----------------------------------------------------------------------

void write_jsonl(const fs::path& path, const std::vector<std::string>& texts) {
  std::ofstream out(path);
  for (const std::string& text : texts) out << nlohmann::json{{"chunk", text}}.dump() << '\n';
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

void check_sqlite(int code, sqlite3* db, const char* what) {
  if (code != SQLITE_OK && code != SQLITE_DONE && code != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

// An FTS5 database of `texts` (rowid = position) in one transaction.
void build_fts5(const fs::path& path, const std::vector<std::string>& texts) {
  sqlite3* db = nullptr;
  check_sqlite(sqlite3_open(path.c_str(), &db), db, "sqlite3_open");
  const auto exec = [&](const char* sql) {
    check_sqlite(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql);
  };
  exec("PRAGMA journal_mode = OFF");
  exec("CREATE VIRTUAL TABLE docs USING fts5(chunk, tokenize = 'porter unicode61 remove_diacritics 0')");
  exec("BEGIN");
  sqlite3_stmt* insert = nullptr;
  check_sqlite(sqlite3_prepare_v2(db, "INSERT INTO docs(rowid, chunk) VALUES (?, ?)", -1, &insert,
                                  nullptr),
               db, "prepare");
  for (std::size_t i = 0; i < texts.size(); ++i) {
    sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(i));
    sqlite3_bind_text(insert, 2, texts[i].data(), static_cast<int>(texts[i].size()), SQLITE_STATIC);
    check_sqlite(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  exec("COMMIT");
  exec("INSERT INTO docs(docs) VALUES ('optimize')");
  sqlite3_close(db);
}

// The question as an FTS5 query: any of its words (BM25's OR, as edgehdf5 ranks them).
std::string fts5_query(const std::string& question) {
  std::string query;
  for (const std::string& term : tokenize(question)) {
    if (!query.empty()) query += " OR ";
    query += "\"" + term + "\"";
  }
  return "SELECT rowid, bm25(docs) FROM docs WHERE docs MATCH '" + query +
         "' ORDER BY bm25(docs) LIMIT 5";
}

// ---- what the keyword index costs the file ---------------------------------------------------

struct IndexCost {
  double index_bytes = 0, file_bytes = 0;
  double with_seconds = 0, without_seconds = 0;  // median checkpoint
};

IndexCost keyword_index_cost(const fs::path& file, std::size_t repeats) {
  store::StoredIndex ivfpq;
  store::StoredKeywords keywords;
  store::StateReading reading;
  reading.map_embeddings = true;
  store::StoreState state =
      store::read_state_file(*posix_file_system(), file, &ivfpq, reading, &keywords);
  if (!keywords.arrays) throw std::runtime_error(file.string() + " has no keyword index");
  // As a checkpoint finds it: the index made from the file's arrays.
  const BM25Index index = BM25Index::from_arrays(std::move(*keywords.arrays));
  IndexCost cost;
  cost.file_bytes = static_cast<double>(fs::file_size(file));
  const fs::path target = file.parent_path() / "checkpoint.h5";
  const fs::path temporary = store::checkpoint_temporary_for(target);
  std::vector<double> with, without;
  for (std::size_t i = 0; i < repeats; ++i) {
    without.push_back(seconds_to_run(
        [&] { store::write_file_atomically(*posix_file_system(), target, temporary, state, {}); }));
    with.push_back(seconds_to_run([&] {
      const KeywordIndexArrays arrays = index.to_arrays();
      cost.index_bytes = static_cast<double>(arrays.bytes());
      store::write_file_atomically(*posix_file_system(), target, temporary, state,
                                   {nullptr, &arrays});
    }));
  }
  fs::remove(target);
  cost.with_seconds = summarize(with).median;
  cost.without_seconds = summarize(without).median;
  return cost;
}

// ---- the run ---------------------------------------------------------------------------------

struct Timed {
  std::string name;
  std::vector<std::string> argv;
};

void measure_size(std::size_t count, const std::vector<std::string>& paragraphs,
                  const OneshotOptions& options, const fs::path& dir, RowReporter& report) {
  const fs::path file = dir / ("memory-" + std::to_string(count) + ".h5");
  const fs::path jsonl = dir / "corpus.jsonl";
  const fs::path database = dir / ("fts5-" + std::to_string(count) + ".db");
  {
    const std::vector<std::string> texts = corpus(paragraphs, count);
    write_jsonl(jsonl, texts);
    build_fts5(database, texts);
  }
  run_process({EDGEHDF5_BENCH_EDGEHDF5, "create", file.string()});
  const double import_seconds = run_process({EDGEHDF5_BENCH_EDGEHDF5, "import", file.string(), jsonl.string()});
  fs::remove(jsonl);
  report.add({count, "edgehdf5 import (hash:384 embeddings)", import_seconds, "s", nullptr,
              nullptr, nullptr});
  report.add({count, "edgehdf5 import rate", static_cast<double>(count) / import_seconds,
              "memories/s", nullptr, nullptr, nullptr});

  const std::string edgehdf5 = EDGEHDF5_BENCH_EDGEHDF5;
  const auto recalls = [&](const std::string& suffix) {
    return std::vector<Timed>{
        {"edgehdf5 recall --vector-only" + suffix,
         {edgehdf5, "recall", file.string(), options.question, "--vector-only"}},
        {"edgehdf5 recall (hybrid)" + suffix, {edgehdf5, "recall", file.string(), options.question}},
    };
  };
  std::vector<Timed> commands = {
      {"cat FILE > /dev/null", {"cat", file.string()}},
      {"edgehdf5 info", {edgehdf5, "info", file.string()}},
  };
  for (Timed& timed : recalls("")) commands.push_back(std::move(timed));
  commands.push_back({"edgehdf5 recall --keyword-only",
                      {edgehdf5, "recall", file.string(), options.question, "--keyword-only"}});
  commands.push_back({"sqlite3 FTS5 (open + query)",
                      {EDGEHDF5_BENCH_SQLITE3, database.string(), fts5_query(options.question)}});

  const auto run_all = [&](const std::vector<Timed>& timed_commands) {
    std::vector<double> medians;
    for (const Timed& timed : timed_commands) run_process(timed.argv);  // page cache warm
    for (const Timed& timed : timed_commands) {
      std::vector<double> samples;
      for (std::size_t i = 0; i < options.repeats; ++i) samples.push_back(run_process(timed.argv));
      medians.push_back(summarize(samples).median);
    }
    return medians;
  };
  const std::vector<double> medians = run_all(commands);
  const auto at = [&](const std::string& name) {
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].name == name) return medians[i];
    }
    throw std::logic_error(name);
  };
  const double vector_only = at("edgehdf5 recall --vector-only");
  const double sqlite = at("sqlite3 FTS5 (open + query)");
  const double cat = at("cat FILE > /dev/null");
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const std::string& name = commands[i].name;
    nlohmann::json versus_vector = nullptr, versus_sqlite = nullptr;
    if (name == "edgehdf5 recall (hybrid)") versus_vector = medians[i] / vector_only;
    if (name == "edgehdf5 recall --keyword-only") versus_sqlite = medians[i] / sqlite;
    report.add({count, name, medians[i], "s", medians[i] / cat, versus_vector, versus_sqlite});
  }

  const IndexCost cost = keyword_index_cost(file, 3);
  report.add({count, "checkpoint without /keyword_index (in-process)", cost.without_seconds, "s",
              nullptr, nullptr, nullptr});
  report.add({count, "checkpoint with /keyword_index (merged + written)", cost.with_seconds, "s",
              nullptr, nullptr, nullptr});
  report.add({count, "  with / without", cost.with_seconds / cost.without_seconds, "ratio",
              nullptr, nullptr, nullptr});
  report.add({count, "/keyword_index bytes", cost.index_bytes, "bytes", nullptr, nullptr, nullptr});
  report.add({count, "  of the file without it", cost.index_bytes / (cost.file_bytes - cost.index_bytes),
              "ratio", nullptr, nullptr, nullptr});

  if (options.ivfpq) {
    const double build = run_process({edgehdf5, "index", "build", file.string()});
    report.add({count, "edgehdf5 index build", build, "s", nullptr, nullptr, nullptr});
    const std::vector<Timed> indexed = recalls(" + IVF-PQ");
    const std::vector<double> indexed_medians = run_all(indexed);
    for (std::size_t i = 0; i < indexed.size(); ++i) {
      report.add({count, indexed[i].name, indexed_medians[i], "s", indexed_medians[i] / cat,
                  indexed_medians[i] / vector_only, nullptr});
    }
  }
  for (const fs::path& path : {file, database}) fs::remove(path);
}

}  // namespace

int run_oneshot_workload(int argc, char** argv) {
  OneshotOptions options;
  CLI::App app{"One `edgehdf5` process per question on 100K and 1M memories of real text, "
               "beside cat and the sqlite3 command with FTS5"};
  app.add_option("--sizes", options.sizes, "Memories per file")->delimiter(',');
  app.add_option("--repeat", options.repeats, "Runs of each command (the median is reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--question", options.question, "What every recall asks");
  app.add_flag("!--no-ivfpq", options.ivfpq, "Skip the IVF-PQ build and its recalls");
  add_scratch_dir_option(app, options.dir);
  app.add_flag("--json", options.json, "One JSON object per row");
  CLI11_PARSE(app, argc, argv);

  const std::vector<std::string> paragraphs = changelog_paragraphs();
  RowReporter report("oneshot", command_line(argc, argv), options.json);
  report.note(std::to_string(paragraphs.size()) +
              " changelog paragraphs from /usr/share/doc/*/changelog.Debian.gz, cycled");
  report.note("question: \"" + options.question + "\"; median of " +
              std::to_string(options.repeats) + " runs per command, page cache warm");
  report.set_columns({{"memories", 9},
                      {"what", 50, true},
                      {"value", 12},
                      {"unit", 10, true},
                      {"x_cat", 8},
                      {"x_vector_only", 13},
                      {"x_sqlite3", 9}});
  const ScratchDir scratch(options.dir);
  try {
    for (std::size_t count : options.sizes) {
      measure_size(count, paragraphs, options, scratch.path(), report);
    }
  } catch (const std::exception& error) {
    std::cerr << "oneshot: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace edgehdf5::bench
