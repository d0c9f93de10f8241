// The seam's HDF5 driver (src/h5/seam_driver.hpp) on its own, on the simulated file system:
//   * what HDF5 reads back while it writes is what it wrote, whether the bytes are still in
//     the driver's buffer, on the disk, or partly each (partial, overlapping, out-of-order
//     writes of a dataset through HDF5's sieve buffer, with the buffer tiny or as shipped);
//   * every seam call of one file's write fails in turn (EIO, ENOSPC, a short write, EINTR):
//     an io error naming the file and the operation, no crash, no HDF5 object left open, the
//     file removed; a short write or EINTR is retried and the file is whole;
//   * the same for a checkpoint large enough that its writes reach the seam as several
//     buffered pwrites: the temporary removed and the original intact;
//   * h5py reads a file the driver wrote (the oracle is h5py, not our reader).

#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"
#include "faults/sim_file_system.hpp"
#include "h5/h5.hpp"
#include "h5/seam_driver.hpp"
#include "store/checkpoint_file.hpp"
#include "store/posix_file.hpp"
#include "store/schema.hpp"
#include "test_util.hpp"

namespace edgehdf5::testing {
namespace {

const std::filesystem::path kFile = "/sim/driver.h5";

std::size_t open_hdf5_objects() {
  return static_cast<std::size_t>(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL));
}

std::size_t count_calls(const SimFileSystem& files, IoOperation operation) {
  std::size_t count = 0;
  for (const SimFileSystem::Call& call : files.calls()) count += call.operation == operation;
  return count;
}

// ---- a file written in pieces ----------------------------------------------------------------

// How large a PiecewiseFile is: its dataset's uint32 values, the partial writes made, and
// the sizes of the small and the large ones.
struct Shape {
  hsize_t values;
  int steps;
  hsize_t small_most;
  hsize_t large_least;
  hsize_t large_span;
};
// 1.2 MB of raw data in 60 writes, beside small metadata.
constexpr Shape kLarge{300'000, 60, 5'000, 90'000, 60'000};
// 160 KB in 20 writes: small enough to be written once per injected fault.
constexpr Shape kSmall{40'000, 20, 1'500, 8'000, 4'000};

// Partial writes of one contiguous dataset, in an order HDF5 would never choose itself:
// random slices (small ones go through its 64 KiB sieve buffer, which reads the region
// back before it writes; large ones reach the driver as they are), overwrites of earlier
// slices, groups and attributes in between (metadata interleaved with the raw data), and
// after each step a read of a random slice checked against `mirror` (the bytes the test
// wrote). With `check` off the reads are not compared (a run with a failing seam reads
// what the driver kept, which need not be what was written).
class PiecewiseFile {
 public:
  PiecewiseFile(const Shape& shape, std::uint64_t seed)
      : mirror(shape.values, 0), shape_(shape), seed_(seed) {}

  std::vector<std::uint32_t> mirror;
  std::size_t mismatches = 0;

  void fill(h5::Object& file, bool check) {
    std::mt19937_64 random(seed_);
    hid_t space = H5Screate_simple(1, &shape_.values, nullptr);
    hid_t dataset = H5Dcreate2(file.id(), "values", H5T_NATIVE_UINT32, space, H5P_DEFAULT,
                               H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(dataset, 0);
    std::fill(mirror.begin(), mirror.end(), 0);
    write_slice(dataset, 0, shape_.values, random);  // the whole dataset once, then pieces
    for (int step = 0; step < shape_.steps; ++step) {
      const bool large = step % 7 == 3;
      const hsize_t count = large ? shape_.large_least + random() % shape_.large_span
                                  : 1 + random() % shape_.small_most;
      const hsize_t start = random() % (shape_.values - count);
      write_slice(dataset, start, count, random);
      if (step % 5 == 0) add_metadata(file, step);
      read_and_compare(dataset, random, check);
    }
    H5Dclose(dataset);
    H5Sclose(space);
  }

 private:
  void write_slice(hid_t dataset, hsize_t start, hsize_t count, std::mt19937_64& random) {
    std::vector<std::uint32_t> values(count);
    for (std::uint32_t& value : values) value = static_cast<std::uint32_t>(random());
    std::copy(values.begin(), values.end(), mirror.begin() + static_cast<std::ptrdiff_t>(start));
    hid_t file_space = H5Dget_space(dataset);
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
    hid_t memory_space = H5Screate_simple(1, &count, nullptr);
    EXPECT_GE(H5Dwrite(dataset, H5T_NATIVE_UINT32, memory_space, file_space, H5P_DEFAULT,
                       values.data()),
              0);
    H5Sclose(memory_space);
    H5Sclose(file_space);
  }

  void read_and_compare(hid_t dataset, std::mt19937_64& random, bool check) {
    const hsize_t count = 1 + random() % (shape_.values / 10);
    const hsize_t start = random() % (shape_.values - count);
    std::vector<std::uint32_t> values(count);
    hid_t file_space = H5Dget_space(dataset);
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
    hid_t memory_space = H5Screate_simple(1, &count, nullptr);
    const herr_t status = H5Dread(dataset, H5T_NATIVE_UINT32, memory_space, file_space,
                                  H5P_DEFAULT, values.data());
    H5Sclose(memory_space);
    H5Sclose(file_space);
    if (!check) return;
    EXPECT_GE(status, 0);
    if (!std::equal(values.begin(), values.end(),
                    mirror.begin() + static_cast<std::ptrdiff_t>(start))) {
      ++mismatches;
    }
  }

  static void add_metadata(h5::Object& file, int step) {
    h5::Object group = h5::create_group(file, ("group" + std::to_string(step)).c_str());
    h5::write_attribute(group, "step", static_cast<std::int64_t>(step));
    h5::write_dataset(group, "small", std::vector<double>(50, step * 0.5), {});
    group.close();
  }

  Shape shape_;
  std::uint64_t seed_;
};

// The values dataset of the file at kFile on `files` (a PiecewiseFile of `shape`), read by
// HDF5 from the bytes; its groups are checked to be there.
std::vector<std::uint32_t> values_on_disk(SimFileSystem& files, const Shape& shape) {
  const std::optional<std::string> bytes = store::read_file(files, kFile, /*missing_ok=*/false);
  h5::Object file = h5::open_file_image(*bytes, kFile.string());
  h5::Object dataset = h5::open_dataset(file, "values");
  std::vector<std::uint32_t> values(shape.values);
  EXPECT_GE(H5Dread(dataset.id(), H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                    values.data()),
            0);
  for (int step = 0; step < shape.steps; step += 5) {
    EXPECT_TRUE(h5::has_link(file, ("group" + std::to_string(step)).c_str())) << step;
  }
  return values;
}

struct Buffering {
  const char* name;
  h5::SeamBuffering sizes;
};
const Buffering kBufferings[] = {
    {"as shipped (4 MiB, direct from 1 MiB)", {}},
    {"tiny (4 KiB, direct from 2 KiB)", {4096, 2048}},
    {"small (64 KiB, direct from 16 KiB)", {64 << 10, 16 << 10}},
};

TEST(SeamDriver, ReadsAfterWritesSeeWhatWasWritten) {
  for (const Buffering& buffering : kBufferings) {
    SCOPED_TRACE(buffering.name);
    SimFileSystem files;
    PiecewiseFile piecewise(kLarge, 7);
    h5::write_file_through_seam(
        files, kFile, [&](h5::Object& file) { piecewise.fill(file, /*check=*/true); },
        buffering.sizes);
    EXPECT_EQ(piecewise.mismatches, 0u) << "reads while writing saw other bytes";
    EXPECT_EQ(values_on_disk(files, kLarge), piecewise.mirror);
    EXPECT_EQ(open_hdf5_objects(), 0u);
    const std::size_t pwrites = count_calls(files, IoOperation::pwrite);
    std::cout << "[ figures  ] " << buffering.name << ": " << pwrites << " pwrites, "
              << count_calls(files, IoOperation::pread) << " preads\n";
    if (buffering.sizes.buffer_bytes == h5::SeamBuffering{}.buffer_bytes) {
      // HDF5 makes hundreds of writes for this file; they reach the seam as a few.
      EXPECT_LE(pwrites, 20u);
    } else {
      EXPECT_GE(pwrites, 30u);  // the buffer is small enough to split the writes up
    }
  }
}

// ---- every seam call of one file failed in turn ----------------------------------------------

struct Fault {
  SimFileSystem::Fault fault;
  IoOperation operation;
  std::string label;
  bool transparent;  // EINTR or a short write: retried, the write succeeds
};

std::vector<Fault> faults_of(const std::vector<SimFileSystem::Call>& calls, std::size_t first) {
  std::vector<Fault> faults;
  for (std::size_t at = first; at < calls.size(); ++at) {
    const IoOperation operation = calls[at].operation;
    const std::string where = "call " + std::to_string(at) + " (" + operation_name(operation) +
                              " " + calls[at].path + ")";
    faults.push_back({{at, EIO, false}, operation, "EIO at " + where, false});
    if (operation == IoOperation::pwrite || operation == IoOperation::fsync) {
      faults.push_back({{at, ENOSPC, false}, operation, "ENOSPC at " + where, false});
    }
    if (operation == IoOperation::pwrite) {
      faults.push_back({{at, 0, true}, operation, "short write at " + where, true});
    }
    if (operation != IoOperation::close && operation != IoOperation::unlink) {
      faults.push_back({{at, EINTR, false}, operation, "EINTR at " + where, true});
    }
  }
  return faults;
}

// What an Error from a failed write must say: io, the file, the operation.
void expect_io_error_naming(const Error& error, const std::filesystem::path& path,
                            const std::string& label) {
  const std::string message = error.what();
  EXPECT_EQ(error.code(), ErrorCode::io) << label << ": " << message;
  EXPECT_NE(message.find(path.string()), std::string::npos) << label << ": " << message;
  EXPECT_NE(message.find("cannot "), std::string::npos) << label << ": " << message;
}

TEST(SeamDriver, EveryCallOfOneFileFailsInTurn) {
  const h5::SeamBuffering tiny{4096, 2048};
  SimFileSystem clean;
  PiecewiseFile expected(kSmall, 11);
  h5::write_file_through_seam(clean, kFile, [&](h5::Object& file) { expected.fill(file, true); },
                              tiny);
  const std::vector<Fault> faults = faults_of(clean.calls(), 0);
  ASSERT_GE(count_calls(clean, IoOperation::pwrite), 20u);
  std::size_t failed_writes = 0;
  for (const Fault& fault : faults) {
    SCOPED_TRACE(fault.label);
    SimFileSystem files;
    files.inject(fault.fault);
    PiecewiseFile piecewise(kSmall, 11);
    try {
      h5::write_file_through_seam(files, kFile,
                                  [&](h5::Object& file) { piecewise.fill(file, false); }, tiny);
      EXPECT_TRUE(fault.transparent) << "no error after " << fault.label;
      EXPECT_EQ(values_on_disk(files, kSmall), expected.mirror);
    } catch (const Error& error) {
      EXPECT_FALSE(fault.transparent) << error.what();
      expect_io_error_naming(error, kFile, fault.label);
      EXPECT_EQ(files.exists(kFile), 0) << "the file was left behind";
      failed_writes += fault.operation == IoOperation::pwrite;
    }
    EXPECT_TRUE(files.fault_hit());
    EXPECT_EQ(open_hdf5_objects(), 0u);
  }
  std::cout << "[ figures  ] " << clean.call_count() << " seam calls in one file's write, "
            << faults.size() << " faults injected, " << failed_writes
            << " of them failing a pwrite of the driver's\n";
}

// ---- a checkpoint --------------------------------------------------------------------------

// A state of `rows` memories with `dim`-d embeddings, built as the store holds one.
store::StoreState make_state(std::size_t rows, std::size_t dim, bool float16,
                             std::uint64_t seed) {
  MemoryConfig config;
  config.embedding_dim = dim;
  config.float16 = float16;
  config.created_at = "2026-12-02T00:00:00Z";
  store::StoreState state = store::empty_state(config);
  MemoryColumns& columns = state.columns;
  std::mt19937_64 random(seed);
  for (const MemoryEntry& entry : make_entries(rows, dim, seed)) {
    std::vector<float> stored = entry.embedding;
    if (float16) {
      for (float& value : stored) {
        columns.embeddings_f16.push_back(float_to_half(value));
        value = half_to_float(columns.embeddings_f16.back());
      }
    } else {
      columns.embeddings_f32.insert(columns.embeddings_f32.end(), stored.begin(), stored.end());
    }
    double squares = 0.0;
    for (float value : stored) squares += static_cast<double>(value) * value;
    columns.norms.push_back(static_cast<float>(std::sqrt(squares)));
    columns.tombstones.push_back(random() % 10 == 0);
    columns.ids.push_back(static_cast<MemoryId>(columns.ids.size() * 2));
    columns.chunks.push_back(entry.chunk);
    columns.source_channels.push_back(entry.source_channel);
    columns.timestamps.push_back(entry.timestamp);
    columns.session_ids.push_back(entry.session_id);
    columns.tags.push_back(entry.tags);
    state.tombstoned += columns.tombstones.back();
  }
  state.next_id = static_cast<MemoryId>(columns.ids.size() * 2);
  return state;
}

bool holds(const store::StoreState& read, const store::StoreState& wanted) {
  const MemoryColumns& got = read.columns;
  const MemoryColumns& want = wanted.columns;
  return got.ids == want.ids && got.chunks == want.chunks &&
         got.embeddings_f32 == want.embeddings_f32 && got.embeddings_f16 == want.embeddings_f16 &&
         got.tombstones == want.tombstones && got.tags == want.tags;
}

TEST(SeamDriver, ACheckpointWhoseWritesFailLeavesTheOriginal) {
  const std::filesystem::path target = "/sim/memory.h5";
  const std::filesystem::path temporary = "/sim/memory.h5.tmp";
  const store::StoreState original = make_state(300, 16, false, 1);
  // 24,000 x 64 f32: 6 MB of embeddings and 1.5 MB of other columns, so the checkpoint's
  // writes reach the seam as several pwrites of the driver's buffer and one direct one.
  const store::StoreState next = make_state(24'000, 64, false, 2);
  SimFileSystem before;
  store::write_file_atomically(before, target, temporary, original, {});
  const SimDisk disk = before.disk();

  SimFileSystem clean(disk);
  store::write_file_atomically(clean, target, temporary, next, {});
  const std::vector<SimFileSystem::Call> calls = clean.calls();
  EXPECT_TRUE(holds(store::read_state_file(clean, target), next));
  std::size_t pwrites = 0;
  for (const SimFileSystem::Call& call : calls) pwrites += call.operation == IoOperation::pwrite;
  ASSERT_GE(pwrites, 3u);

  const std::vector<Fault> faults = faults_of(calls, 0);
  for (const Fault& fault : faults) {
    SCOPED_TRACE(fault.label);
    SimFileSystem files(disk);
    files.inject(fault.fault);
    // Closing the directory after its fsync is best effort in the store (nothing is left to
    // make durable), so a failure there may go unreported.
    const bool tolerated = fault.operation == IoOperation::close && fault.label.find(
                                                                        "close /sim)") !=
                                                                        std::string::npos;
    bool renamed = false;
    try {
      store::write_file_atomically(files, target, temporary, next, {}, &renamed);
      EXPECT_TRUE(fault.transparent || tolerated) << "no error after " << fault.label;
    } catch (const Error& error) {
      EXPECT_FALSE(fault.transparent) << error.what();
      const std::string message = error.what();
      EXPECT_EQ(error.code(), ErrorCode::io) << message;
      EXPECT_NE(message.find("/sim"), std::string::npos) << message;
      EXPECT_NE(message.find("cannot "), std::string::npos) << message;
    }
    EXPECT_TRUE(files.fault_hit());
    EXPECT_EQ(open_hdf5_objects(), 0u);
    files.inject({});  // checked without faults from here on
    EXPECT_EQ(files.exists(temporary), 0) << "the temporary was left behind";
    const store::StoreState on_disk = store::read_state_file(files, target);
    if (renamed) {
      EXPECT_TRUE(holds(on_disk, next)) << "the new file is in place, whole";
    } else {
      EXPECT_TRUE(holds(on_disk, original)) << "the original is not intact";
    }
  }
  std::cout << "[ figures  ] a 24,000-row checkpoint: " << calls.size() << " seam calls ("
            << pwrites << " pwrites), " << faults.size()
            << " faults injected\n";
}

// ---- h5py reads what the driver wrote --------------------------------------------------------

#ifndef EDGEHDF5_TEST_PYTHON
#define EDGEHDF5_TEST_PYTHON "/usr/bin/python3"
#endif

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(SeamDriver, H5pyReadsAFileTheDriverWrote) {
  const std::string python = EDGEHDF5_TEST_PYTHON;
  if (std::system((python + " -c 'import h5py, numpy' 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << python << " with h5py and numpy is not available";
  }
  TempDir dir;
  for (const bool float16 : {false, true}) {
    SCOPED_TRACE(float16 ? "float16" : "float32");
    const store::StoreState state = make_state(5'000, 96, float16, 3);
    const std::filesystem::path file = dir / "written.h5";
    store::write_state_file(*posix_file_system(), file, state);
    // h5py's view of the file: dtype and shape, the embeddings' bytes, the chunks.
    const std::filesystem::path script = dir / "dump.py";
    std::ofstream(script)
        << "import sys, h5py, numpy as np\n"
           "with h5py.File(sys.argv[1], 'r') as f:\n"
           "    e = f['memory/embeddings'][...]\n"
           "    open(sys.argv[2], 'w').write(f'{e.dtype} {e.shape[0]} {e.shape[1]}')\n"
           "    np.ascontiguousarray(e).tofile(sys.argv[3])\n"
           "    chunks = f['memory/chunks'].asstr()[...]\n"
           "    open(sys.argv[4], 'w', encoding='utf-8').write('\\n'.join(chunks))\n";
    const std::string command = python + " " + script.string() + " " + file.string() + " " +
                                (dir / "shape").string() + " " + (dir / "embeddings").string() +
                                " " + (dir / "chunks").string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    EXPECT_EQ(slurp(dir / "shape"), std::string(float16 ? "float16" : "float32") + " 5000 96");
    const std::string embeddings = slurp(dir / "embeddings");
    const std::string expected =
        float16 ? std::string(reinterpret_cast<const char*>(state.columns.embeddings_f16.data()),
                              state.columns.embeddings_f16.size() * sizeof(half_bits))
                : std::string(reinterpret_cast<const char*>(state.columns.embeddings_f32.data()),
                              state.columns.embeddings_f32.size() * sizeof(float));
    EXPECT_TRUE(embeddings == expected) << "h5py reads other embeddings";
    std::string chunks;
    for (std::size_t i = 0; i < state.columns.chunks.size(); ++i) {
      chunks += (i ? "\n" : "") + state.columns.chunks[i];
    }
    EXPECT_EQ(slurp(dir / "chunks"), chunks);
  }
}

}  // namespace
}  // namespace edgehdf5::testing
