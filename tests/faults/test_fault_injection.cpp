// Every I/O operation of a scripted workload fails in turn (LevelDB's fault_injection_test,
// SQLite's I/O error tests). The workload (workload.hpp) runs once on a SimFileSystem to
// count its operations; then once per operation and kind of failure, with that one
// operation failing: EIO for each, ENOSPC for writes and syncs, EINTR and a short write
// where POSIX allows them. Each run checks that
//   * the call that hit the failure throws Error(io) naming the file and the operation (or
//     the store tolerates it: an EINTR, a short write, a best-effort unlink);
//   * nothing crashes or hangs, and no HDF5 object is left open;
//   * the handle then behaves as documented: it either carries on (a save and a flush after
//     the failure work, and survive) or refuses every write with an io error;
//   * after reopening, the store holds exactly what the steps that returned put in it (the
//     failed step's change all there or not at all), nothing twice, and verify_file passes.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/memory.hpp"
#include "faults/sim_file_system.hpp"
#include "faults/workload.hpp"

namespace edgehdf5::testing {
namespace {

struct CleanRun {
  std::vector<Model> after;  // the model after each step
  std::vector<SimFileSystem::Call> calls;
};

CleanRun run_clean(Durability durability) {
  CleanRun run;
  WorkloadState state;
  state.files = std::make_shared<SimFileSystem>();
  state.durability = durability;
  for (const Step& step : workload_steps(durability)) {
    step.run(state);
    run.after.push_back(state.model);
  }
  run.calls = state.files->calls();
  return run;
}

bool retried_on_eintr(IoOperation operation) {
  switch (operation) {
    case IoOperation::open:
    case IoOperation::pread:
    case IoOperation::pwrite:
    case IoOperation::fsync:
    case IoOperation::fdatasync:
    case IoOperation::ftruncate:
    case IoOperation::lock:
    case IoOperation::rename:
    case IoOperation::exists:
      return true;
    default:
      return false;
  }
}

struct FaultCase {
  SimFileSystem::Fault fault;
  IoOperation operation;
  std::string label;
  bool must_be_transparent = false;  // EINTR, short write: the store retries, nothing fails
};

std::vector<FaultCase> fault_cases(const CleanRun& clean) {
  std::vector<FaultCase> cases;
  for (std::size_t at = 0; at < clean.calls.size(); ++at) {
    const IoOperation operation = clean.calls[at].operation;
    const std::string where = "call " + std::to_string(at) + " (" + operation_name(operation) +
                              " " + clean.calls[at].path + ")";
    cases.push_back({{at, EIO, false}, operation, "EIO at " + where});
    if (operation == IoOperation::pwrite || operation == IoOperation::fsync ||
        operation == IoOperation::fdatasync) {
      cases.push_back({{at, ENOSPC, false}, operation, "ENOSPC at " + where});
    }
    if (operation == IoOperation::pwrite) {
      cases.push_back({{at, 0, true}, operation, "short write at " + where, true});
    }
    if (retried_on_eintr(operation)) {
      cases.push_back({{at, EINTR, false}, operation, "EINTR at " + where, true});
    }
  }
  return cases;
}

// Whether `observed` is what the steps up to `last_returned` made, plus perhaps the step
// after it (`failed`, all or nothing), plus the probe memory when it was flushed.
bool acceptable(const Model& observed, const std::vector<Model>& candidates,
                const std::string& probe, bool probe_durable) {
  for (Model candidate : candidates) {
    if (probe_durable) candidate.memories.insert(probe);
    if (observed == candidate) return true;
    if (!probe_durable) {
      candidate.memories.insert(probe);  // a probe whose flush failed may still be there
      if (observed == candidate) return true;
    }
  }
  return false;
}

std::size_t open_hdf5_objects() {
  return static_cast<std::size_t>(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL));
}

// Runs the workload with one fault; returns what went wrong (empty: all as promised).
std::vector<std::string> run_with_fault(Durability durability, const FaultCase& fault_case,
                                        const CleanRun& clean) {
  std::vector<std::string> problems;
  WorkloadState state;
  state.files = std::make_shared<SimFileSystem>();
  state.files->inject(fault_case.fault);
  state.durability = durability;
  const std::vector<Step> steps = workload_steps(durability);
  std::size_t failed_step = steps.size();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    try {
      steps[i].run(state);
    } catch (const Error& error) {
      failed_step = i;
      const std::string message = error.what();
      if (fault_case.must_be_transparent) {
        problems.push_back("step " + steps[i].name + " failed: " + message);
      }
      if (error.code() != ErrorCode::io) {
        problems.push_back("step " + steps[i].name + " threw " +
                           std::string(error_code_name(error.code())) +
                           " instead of io: " + message);
      }
      if (message.find(SimFileSystem::kDirectory) == std::string::npos ||
          message.find("cannot ") == std::string::npos) {
        problems.push_back("error does not name the file and the operation: " + message);
      }
      break;
    }
  }
  if (!state.files->fault_hit()) problems.push_back("the fault was never reached");

  // The handle after the failure: it carries on, or refuses writes.
  const std::string probe = "probe after the failure";
  bool probe_durable = false;
  if (failed_step < steps.size() && state.memory) {
    try {
      state.store().save(entry_for(probe));
      state.store().flush();
      probe_durable = true;
    } catch (const Error& error) {
      const std::string message = error.what();
      if (error.code() != ErrorCode::io || message.find("refuses writes") == std::string::npos) {
        problems.push_back("after the failure, a save threw something other than a refusal: " +
                           message);
      }
    }
    if (probe_durable) {
      // A flush that returned keeps its promise through a power cut right after it (before
      // close() checkpoints everything anyway): whatever the failure did to the handle's
      // files, the probe and every step that returned are on the disk.
      std::mt19937_64 random(fault_case.fault.at);
      auto crashed = std::make_shared<SimFileSystem>(
          state.files->disk().crash_image(CrashMode::drop_unsynced, random));
      try {
        OpenOptions options;
        options.read_only = true;
        options.file_system = crashed;
        const HDF5Memory memory = HDF5Memory::open(kStorePath, options);
        const Model observed = observe(memory, problems);
        std::vector<Model> candidates = {clean.after[failed_step]};
        if (failed_step > 0) candidates.push_back(clean.after[failed_step - 1]);
        if (!acceptable(observed, candidates, probe, true)) {
          problems.push_back("a power cut after the probe's flush leaves " + observed.describe() +
                             "; expected " + clean.after[failed_step].describe() +
                             " and the probe");
        }
      } catch (const Error& error) {
        problems.push_back(std::string("a power cut after the probe's flush leaves a store "
                                       "that does not open: ") + error.what());
      }
    }
    try {
      state.store().close();
    } catch (const Error& error) {
      if (probe_durable) {
        problems.push_back(std::string("close after recovery threw: ") + error.what());
      }
    }
  }
  state.memory.reset();
  if (open_hdf5_objects() != 0) {
    problems.push_back(std::to_string(open_hdf5_objects()) + " HDF5 objects left open");
  }

  // Reopen, as the next process would, and compare with what the steps that returned made.
  std::vector<Model> candidates;
  if (failed_step == steps.size()) {
    candidates.push_back(clean.after.back());
  } else {
    if (failed_step > 0) candidates.push_back(clean.after[failed_step - 1]);
    candidates.push_back(clean.after[failed_step]);
  }
  try {
    OpenOptions options;
    options.file_system = state.files;
    HDF5Memory reopened = HDF5Memory::open(kStorePath, options);
    const Model observed = observe(reopened, problems);
    if (!acceptable(observed, candidates, probe, probe_durable)) {
      problems.push_back("after reopening the store holds " + observed.describe() +
                         "; expected " + candidates.back().describe() +
                         (probe_durable ? " and the probe" : ""));
    }
    reopened.close();
    for (const std::string& problem : verify_file(kStorePath, state.files)) {
      problems.push_back("verify: " + problem);
    }
  } catch (const Error& error) {
    // Only a store whose create failed may be missing.
    if (failed_step != 0) problems.push_back(std::string("reopening failed: ") + error.what());
  }
  if (open_hdf5_objects() != 0) {
    problems.push_back(std::to_string(open_hdf5_objects()) + " HDF5 objects left open at the end");
  }
  return problems;
}

class FaultInjection : public ::testing::TestWithParam<Durability> {};

TEST_P(FaultInjection, EveryOperationFailsInTurn) {
  const Durability durability = GetParam();
  const CleanRun clean = run_clean(durability);
  ASSERT_GT(clean.calls.size(), 100u);
  const std::vector<FaultCase> cases = fault_cases(clean);
  std::size_t failing = 0;
  std::size_t reported = 0;
  for (const FaultCase& fault_case : cases) {
    const std::vector<std::string> problems = run_with_fault(durability, fault_case, clean);
    if (problems.empty()) continue;
    ++failing;
    if (reported++ < 15) {
      std::string text;
      for (const std::string& problem : problems) text += "\n  " + problem;
      ADD_FAILURE() << fault_case.label << ":" << text;
    }
  }
  EXPECT_EQ(failing, 0u) << "of " << cases.size() << " injected faults";
  std::cout << "[ figures  ] " << clean.calls.size() << " I/O operations in the workload, "
            << cases.size() << " injected faults (every operation failed in turn), "
            << failing << " misbehaved\n";
}

INSTANTIATE_TEST_SUITE_P(Durability, FaultInjection,
                         ::testing::Values(Durability::on_flush, Durability::every_write),
                         durability_test_name);

}  // namespace
}  // namespace edgehdf5::testing
