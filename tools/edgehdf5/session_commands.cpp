// sessions: list, record and show conversation sessions (their summaries and memories).
//
// A session exists in two places: memories carry a session_id, and /sessions records a
// summary for a range of memory ids. `list` shows both together, so the sessions of an
// imported conversation appear before anyone has written a summary for them.

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "json_io.hpp"
#include "query_support.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

constexpr std::size_t kSummaryPreviewWidth = 60;
constexpr std::size_t kChunkPreviewWidth = 80;

// What the memories themselves say about one session id.
struct SessionMemories {
  std::size_t count = 0;
  MemoryId first_id = 0;
  MemoryId last_id = 0;
  double first_timestamp = 0.0;
  std::string channel;
};

std::map<std::string, SessionMemories> memories_by_session(const MemoryColumns& columns) {
  std::map<std::string, SessionMemories> sessions;
  columns.session_ids.load();  // every row is looked at: one pass over the file
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.tombstones[row] != 0 || columns.session_ids[row].empty()) continue;
    auto [it, added] = sessions.try_emplace(columns.session_ids[row]);
    SessionMemories& session = it->second;
    if (added) {
      session.first_id = columns.ids[row];
      session.first_timestamp = columns.timestamps[row];
      session.channel = columns.source_channels[row];
    }
    session.last_id = columns.ids[row];
    ++session.count;
  }
  return sessions;
}

// The most recently recorded session with this id, or nullptr.
const Session* recorded_session(const HDF5Memory& memory, const std::string& id) {
  const auto& sessions = memory.sessions();
  const auto it = std::find_if(sessions.rbegin(), sessions.rend(),
                               [&](const Session& session) { return session.id == id; });
  return it == sessions.rend() ? nullptr : &*it;
}

// Active memories with ids in [start, end), in id order.
std::vector<std::size_t> rows_in_range(const MemoryColumns& columns, MemoryId start, MemoryId end) {
  std::vector<std::size_t> rows;
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.ids[row] >= start && columns.ids[row] < end && columns.tombstones[row] == 0) {
      rows.push_back(row);
    }
  }
  return rows;
}

struct ListedSession {
  std::string id;
  const Session* record = nullptr;
  std::optional<SessionMemories> memories;
  MemoryId order = 0;
};

std::vector<ListedSession> list_sessions(const HDF5Memory& memory) {
  const auto by_session = memories_by_session(memory.columns());
  std::map<std::string, ListedSession> listed;
  for (const auto& [id, memories] : by_session) {
    listed[id] = {id, nullptr, memories, memories.first_id};
  }
  for (const Session& session : memory.sessions()) {
    ListedSession& entry = listed[session.id];
    entry.id = session.id;
    entry.record = recorded_session(memory, session.id);
    if (!entry.memories) entry.order = entry.record->start_id;
  }
  std::vector<ListedSession> sessions;
  for (auto& [id, session] : listed) sessions.push_back(std::move(session));
  std::stable_sort(
      sessions.begin(), sessions.end(),
      [](const ListedSession& a, const ListedSession& b) { return a.order < b.order; });
  return sessions;
}

nlohmann::ordered_json session_json(const ListedSession& session) {
  const SessionMemories memories = session.memories.value_or(SessionMemories{});
  nlohmann::ordered_json json = {{"id", session.id}, {"memories", memories.count}};
  if (session.record) {
    json["start_id"] = session.record->start_id;
    json["end_id"] = session.record->end_id;
    json["channel"] = session.record->channel;
    json["timestamp"] = session.memories ? memories.first_timestamp : session.record->timestamp;
    json["summary"] = session.record->summary;
  } else {
    json["start_id"] = memories.first_id;
    json["end_id"] = memories.last_id + 1;
    json["channel"] = memories.channel;
    json["timestamp"] = memories.first_timestamp;
    json["summary"] = nullptr;
  }
  return json;
}

void print_sessions(const std::vector<ListedSession>& sessions, std::ostream& out) {
  if (sessions.empty()) {
    out << "no sessions: no memory has a session id and no summary is recorded\n";
    return;
  }
  TextTable table(
      {{"session"}, {"memories", Align::right}, {"ids"}, {"first"}, {"channel"}, {"summary"}});
  for (const auto& session : sessions) {
    const auto json = session_json(session);
    table.add_row(
        {session.id, std::to_string(json["memories"].get<std::size_t>()),
         std::to_string(json["start_id"].get<MemoryId>()) + "-" +
             std::to_string(json["end_id"].get<MemoryId>() - 1),
         utc_time(json["timestamp"].get<double>()), json["channel"].get<std::string>(),
         session.record ? one_line_preview(session.record->summary, kSummaryPreviewWidth) : "-"});
  }
  table.print(out);
}

// sessions list (the default).
ExitStatus run_list(const FileOptions& sessions_options) {
  const auto memory = open_read_only(sessions_options.file);
  const auto sessions = list_sessions(memory);
  if (sessions_options.json) {
    auto array = nlohmann::ordered_json::array();
    for (const auto& session : sessions) array.push_back(session_json(session));
    std::cout << json_line({{"sessions", std::move(array)}}) << '\n';
  } else {
    print_sessions(sessions, std::cout);
  }
  return kExitSuccess;
}

Command add_list_subcommand(CLI::App& sessions, const std::shared_ptr<FileOptions>& shared) {
  auto* command = sessions.add_subcommand(
      "list", "Every session: recorded summaries and the session ids memories carry");
  add_json_flag(*command, shared->json, "a table");
  return make_command(command, shared, &run_list);
}

struct AddOptions {
  std::string session_id;
  std::string summary;
  std::optional<std::string> channel;
  std::optional<MemoryId> start_id;
  std::optional<MemoryId> end_id;
};

// The memory ids [start, end) a new session covers, and its channel.
struct SessionSpan {
  MemoryId start_id = 0;
  MemoryId end_id = 0;
  std::string channel;
};

SessionSpan session_span(const MemoryColumns& columns, const AddOptions& options) {
  const auto by_session = memories_by_session(columns);
  const auto memories = by_session.find(options.session_id);
  const bool carried = memories != by_session.end();
  SessionSpan span;
  if (options.start_id) {
    span = {*options.start_id, *options.end_id, {}};
  } else if (carried) {
    span = {memories->second.first_id, memories->second.last_id + 1, {}};
  } else {
    throw Error(ErrorCode::not_found,
                "no memory carries session id '" + options.session_id +
                    "'; give the range of memory ids with --start and --end");
  }
  span.channel = options.channel.value_or(carried ? memories->second.channel : std::string{});
  return span;
}

ExitStatus run_add(const FileOptions& sessions, const AddOptions& options) {
  auto memory = open_for_writing(sessions.file);
  const SessionSpan span = session_span(memory.columns(), options);
  memory.add_session(options.session_id, span.start_id, span.end_id, span.channel,
                     options.summary);
  const auto count = rows_in_range(memory.columns(), span.start_id, span.end_id).size();
  memory.close();
  print_outcome(sessions.json,
                {{"id", options.session_id},
                 {"start_id", span.start_id},
                 {"end_id", span.end_id},
                 {"channel", span.channel},
                 {"memories", count}},
                "recorded session " + options.session_id + " (memories " +
                    std::to_string(span.start_id) + "-" + std::to_string(span.end_id - 1) + ", " +
                    counted(count, "memory", "memories") + ")");
  return kExitSuccess;
}

Command add_add_subcommand(CLI::App& sessions, const std::shared_ptr<FileOptions>& shared) {
  auto options = std::make_shared<AddOptions>();
  auto* command = sessions.add_subcommand(
      "add",
      "Record a session: its summary and the memories it covers. Without --start/--end it\n"
      "covers the memories that carry this session id");
  command->add_option("SESSION", options->session_id, "Session id")->required();
  command->add_option("--summary", options->summary, "What the session was about")->required();
  command->add_option("--channel", options->channel,
                      "Channel of the session (default: that of its first memory)");
  auto* start = command->add_option("--start", options->start_id, "First memory id of the session")
                    ->option_text("ID");
  auto* end = command->add_option("--end", options->end_id, "Memory id just past the session")
                  ->option_text("ID");
  start->needs(end);
  end->needs(start);
  add_json_flag(*command, shared->json, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, shared, options, &run_add);
}

struct ShowOptions {
  std::string session_id;
};

// The rows of a session: its recorded range, else the memories that carry its id.
std::vector<std::size_t> session_rows(const MemoryColumns& columns, const Session* record,
                                      const std::string& id) {
  if (record) return rows_in_range(columns, record->start_id, record->end_id);
  std::vector<std::size_t> rows;
  columns.session_ids.load();  // every row is looked at: one pass over the file
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.tombstones[row] == 0 && columns.session_ids[row] == id) rows.push_back(row);
  }
  if (rows.empty()) {
    throw Error(ErrorCode::not_found,
                "no session '" + id + "': no summary is recorded and no memory carries that id");
  }
  return rows;
}

nlohmann::ordered_json shown_session_json(const MemoryColumns& columns, const Session* record,
                                          const std::string& id,
                                          const std::vector<std::size_t>& rows) {
  auto memories = nlohmann::ordered_json::array();
  for (const std::size_t row : rows) {
    memories.push_back({{"id", columns.ids[row]},
                        {"chunk", columns.chunks[row]},
                        {"source_channel", columns.source_channels[row]},
                        {"timestamp", columns.timestamps[row]},
                        {"tags", columns.tags[row]}});
  }
  nlohmann::ordered_json result = {{"id", id}};
  if (record) {
    result["summary"] = record->summary;
    result["channel"] = record->channel;
    result["start_id"] = record->start_id;
    result["end_id"] = record->end_id;
    result["recorded_at"] = record->timestamp;
  } else {
    result["summary"] = nullptr;
  }
  result["memories"] = std::move(memories);
  return result;
}

void print_shown_session(const MemoryColumns& columns, const Session* record, const std::string& id,
                         const std::vector<std::size_t>& rows, std::ostream& out) {
  out << "session:  " << id << '\n';
  if (record) {
    out << "summary:  " << record->summary << '\n'
        << "channel:  " << record->channel << '\n'
        << "range:    memories " << record->start_id << "-" << record->end_id - 1
        << " (recorded " << utc_time(record->timestamp) << ")\n";
  } else {
    out << "summary:  (none recorded; `edgehdf5 sessions FILE add " << id
        << " --summary ...` records one)\n";
  }
  out << "memories: " << rows.size() << "\n\n";
  TextTable table({{"id", Align::right}, {"time"}, {"chunk"}});
  for (const std::size_t row : rows) {
    table.add_row({std::to_string(columns.ids[row]), utc_time(columns.timestamps[row]),
                   one_line_preview(columns.chunks[row], kChunkPreviewWidth)});
  }
  if (!rows.empty()) table.print(out);
}

ExitStatus run_show(const FileOptions& sessions, const ShowOptions& options) {
  const auto memory = open_read_only(sessions.file);
  const MemoryColumns& columns = memory.columns();
  const Session* record = recorded_session(memory, options.session_id);
  const auto rows = session_rows(columns, record, options.session_id);
  if (sessions.json) {
    std::cout << json_line(shown_session_json(columns, record, options.session_id, rows)) << '\n';
  } else {
    print_shown_session(columns, record, options.session_id, rows, std::cout);
  }
  return kExitSuccess;
}

Command add_show_subcommand(CLI::App& sessions, const std::shared_ptr<FileOptions>& shared) {
  auto options = std::make_shared<ShowOptions>();
  auto* command =
      sessions.add_subcommand("show", "One session: its summary and its memories");
  command->add_option("SESSION", options->session_id, "Session id")->required();
  add_json_flag(*command, shared->json, "a table");
  return make_command(command, shared, options, &run_show);
}

}  // namespace

Command add_sessions_command(CLI::App& app) {
  const auto [command, shared] = add_file_command_group(
      app, "sessions",
      "List the sessions of a memory file (the default), record a session's summary (add),\n"
      "or show one session and its memories (show)",
      "Print JSON instead of a table");
  return with_default_subcommand(command, {add_list_subcommand(*command, shared),
                                           add_add_subcommand(*command, shared),
                                           add_show_subcommand(*command, shared)});
}

}  // namespace edgehdf5::cli
