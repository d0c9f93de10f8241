"""Python binding overhead and peers, one run, same data.

Run: PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_search.py [--sizes 1000,100000]
Compared: Memory.search wall time (Python call) against the C++ engine's own time for the same
call (metrics.time_us, measured inside HDF5Memory::search: so the difference is the binding's
overhead: argument checks, the GIL, building the hits); search_batch of 128 queries;
save_batch rows/s; numpy brute force (X @ q + argpartition, and X @ Q.T for the batch);
hnswlib (ef=64, M=16; its index build is skipped above --hnswlib-max-rows, it takes many
minutes at 1M on 2 cores). --float16 stores the rows as float16 (half the bytes a scan reads);
numpy keeps float32, as a numpy user holds them.
"""
import argparse
import tempfile
import time

import numpy as np

import edgehdf5

DIM = 384


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(rows, tmp, float16, hnswlib_max_rows):
    rng = np.random.default_rng(rows)
    data = rng.standard_normal((rows, DIM)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = data[rng.integers(0, rows, 128)] + 0.01
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    m = edgehdf5.Memory.create(f"{tmp}/b{rows}{'h' if float16 else ''}.h5", dim=DIM, float16=float16)
    chunks = ["c"] * rows
    start = time.perf_counter()
    m.save_batch(chunks, data, timestamp=0.0)
    save_s = time.perf_counter() - start
    repeat = 50 if rows <= 100_000 else 10
    py_times, cpp_times = [], []
    for i in range(repeat):
        q = queries[i % 128]
        start = time.perf_counter()
        res = m.search(q, k=10)
        py_times.append(time.perf_counter() - start)
        cpp_times.append(res.metrics.time_us * 1e-6)
    py_us, cpp_us = np.median(py_times) * 1e6, np.median(cpp_times) * 1e6
    batch_ms = best(lambda: m.search_batch(queries, k=10), 5) * 1e3

    def numpy_one():
        s = data @ queries[0]
        top = np.argpartition(-s, 10)[:10]
        return top[np.argsort(-s[top])]
    numpy_us = best(numpy_one, repeat) * 1e6

    def numpy_batch():
        s = data @ queries.T
        top = np.argpartition(-s, 10, axis=0)[:10]
        return np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, axis=0), axis=0), axis=0)
    numpy_batch_ms = best(numpy_batch, 5) * 1e3
    line = (f"rows={rows:>8}{' f16' if float16 else ''} search: python {py_us:8.1f} us  c++ "
            f"{cpp_us:8.1f} us  overhead {py_us - cpp_us:6.1f} us ({res.metrics.strategy})  "
            f"numpy {numpy_us:8.1f} us  search_batch(128) {batch_ms:7.2f} ms  numpy batch "
            f"{numpy_batch_ms:7.2f} ms  save_batch {rows / save_s:9.0f} rows/s")
    if rows > hnswlib_max_rows:
        line += "  hnswlib: skipped (--hnswlib-max-rows)"
        m.close()
        print(line, flush=True)
        return
    try:
        import hnswlib
        index = hnswlib.Index(space="cosine", dim=DIM)
        index.init_index(max_elements=rows, M=16, ef_construction=100)
        index.add_items(data)
        index.set_ef(64)
        line += f"  hnswlib {best(lambda: index.knn_query(queries[0], k=10), repeat) * 1e6:7.1f} us"
    except ImportError:
        line += "  hnswlib: not installed"
    m.close()
    print(line, flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--float16", action="store_true", help="also measure a float16 store")
    parser.add_argument("--hnswlib-max-rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (int(s) for s in args.sizes.split(",")):
            run(rows, tmp, False, args.hnswlib_max_rows)
            if args.float16:
                run(rows, tmp, True, args.hnswlib_max_rows)


if __name__ == "__main__":
    main()
