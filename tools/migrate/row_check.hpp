#pragma once
// Reading a table row by row without stopping at the first bad row: a row whose values do
// not fit (RowError) is counted and recorded under a label that names it, and reading goes
// on, so that one run reports every row that needs fixing.

#include <string>
#include <vector>

#include "cell_values.hpp"
#include "migration.hpp"

namespace edgehdf5::migrate {

// Runs `read` for one row, counting it in `counts`. Returns false, with the row recorded in
// `problems` as {label(), reason}, when `read` throws RowError. The label is made only then.
template <typename Label, typename Read>
bool check_row(TableCounts& counts, std::vector<RowProblem>& problems, Label&& label, Read&& read) {
  ++counts.read;
  try {
    read();
    return true;
  } catch (const RowError& error) {
    ++counts.invalid;
    problems.push_back({label(), error.what()});
    return false;
  }
}

// "<table> <key> <value>" for a label, whatever the key's value is: 17, 's-1' or NULL.
std::string row_label(std::string_view table, std::string_view key, const SqliteStatement& row,
                      int key_column);

}  // namespace edgehdf5::migrate
