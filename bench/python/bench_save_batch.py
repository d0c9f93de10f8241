"""save_batch from numpy against the time spent inside the C++ call, in one run.

Run: PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_save_batch.py [--rows 20000]
"python" is the wall time of Memory.save_batch (argument checks, list of str, the C++ call);
"c++" is Memory._last_call_seconds: the time inside the binding's locked section, which builds
the MemoryEntry vector (the copy HDF5Memory::save_batch's API needs) and calls
HDF5Memory::save_batch. Both on the same 384-dim rows, best of 3, each into a fresh file.
"""
import argparse
import tempfile
import time

import numpy as np

import edgehdf5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    data = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
    chunks = [f"memory number {i}" for i in range(args.rows)]
    best_py = best_cpp = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(3):
            with edgehdf5.Memory.create(f"{tmp}/s{attempt}.h5", dim=args.dim) as m:
                start = time.perf_counter()
                m.save_batch(chunks, data, session_id="bench", timestamp=0.0)
                best_py = min(best_py, time.perf_counter() - start)
                best_cpp = min(best_cpp, m._last_call_seconds)
    print(f"rows={args.rows} dim={args.dim} save_batch: python {args.rows / best_py:10.0f} rows/s"
          f"  c++ {args.rows / best_cpp:10.0f} rows/s  ratio {best_cpp / best_py:5.3f}")


if __name__ == "__main__":
    main()
