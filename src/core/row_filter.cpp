#include "core/row_filter.hpp"

#include <algorithm>
#include <chrono>

#include "edgehdf5/error.hpp"

namespace edgehdf5::core {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// Calls visit(tag) for each comma-separated tag of a row; stops when it returns true.
template <typename Visit>
bool any_tag(std::string_view tags, Visit visit) {
  while (!tags.empty()) {
    const auto comma = tags.find(',');
    const std::string_view tag = trim(tags.substr(0, comma));
    if (!tag.empty() && visit(tag)) return true;
    if (comma == std::string_view::npos) break;
    tags.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

RowFilter::RowFilter(const SearchFilter& filter, const MemoryColumns& columns)
    : filter_(filter), columns_(columns), metadata_free_(filter.selects_all()) {
  // A filter on a text column reads every row of it: one pass over the file, not one read
  // per row (text_column.hpp).
  if (filter.source_channel) columns.source_channels.load();
  if (filter.session_id) columns.session_ids.load();
  if (!filter.tags.empty()) columns.tags.load();
  if (filter.after && filter.before && *filter.after > *filter.before) {
    throw Error(ErrorCode::invalid_argument, "filter 'after' is later than 'before'");
  }
  if (filter.half_life_seconds) {
    if (!(*filter.half_life_seconds > 0) || !std::isfinite(*filter.half_life_seconds)) {
      throw Error(ErrorCode::invalid_argument, "half-life must be a positive number of seconds");
    }
    half_life_ = *filter.half_life_seconds;
    using namespace std::chrono;
    now_ =
        filter.now ? *filter.now : duration<double>(system_clock::now().time_since_epoch()).count();
  }
}

bool RowFilter::accepts_metadata(std::size_t row) const {
  const double timestamp = columns_.timestamps[row];
  if (filter_.after && timestamp < *filter_.after) return false;
  if (filter_.before && timestamp > *filter_.before) return false;
  if (filter_.source_channel && columns_.source_channels[row] != *filter_.source_channel)
    return false;
  if (filter_.session_id && columns_.session_ids[row] != *filter_.session_id) return false;
  if (!filter_.tags.empty() && !tags_match(columns_.tags[row])) return false;
  return true;
}

bool RowFilter::tags_match(std::string_view row_tags) const {
  if (filter_.all_tags) {
    return std::all_of(filter_.tags.begin(), filter_.tags.end(), [&](const std::string& wanted) {
      return any_tag(row_tags, [&](std::string_view tag) { return tag == wanted; });
    });
  }
  return any_tag(row_tags, [&](std::string_view tag) {
    return std::find(filter_.tags.begin(), filter_.tags.end(), tag) != filter_.tags.end();
  });
}

}  // namespace edgehdf5::core
