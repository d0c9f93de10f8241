#pragma once
// Helpers shared by the command sources (not by main()).

#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

#include "edgehdf5/memory.hpp"

namespace edgehdf5::cli {

// Adds the positional FILE argument every command takes.
void add_memory_file_argument(CLI::App& command, std::filesystem::path& file);

// Accepts whole numbers >= 1 (a dimension, a count). CLI::PositiveNumber would do, but
// its error message prints the largest double in full.
CLI::Validator positive_count();

// Opens without the writer lock or log writes: sees the file as of now, beside any writer.
HDF5Memory open_read_only(const std::filesystem::path& file);

// The current time, as seconds since the Unix epoch (the default timestamp of new memories).
double seconds_since_epoch();

// Opens an input file the user named; throws Error(io) saying why it cannot be read.
std::ifstream open_input_file(const std::filesystem::path& path);

}  // namespace edgehdf5::cli
