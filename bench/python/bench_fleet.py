"""edgehdf5.fleet on a 2-worker LocalCluster beside a plain Python loop over the same files in
one process, one run, same files.

Run: PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_fleet.py [--files 1000]
     [--min-rows 1000] [--max-rows 10000] [--dim 64] [--reembed-files 200] [--dir /tmp]
Made: --files memory files, each of a random row count in [min-rows, max-rows] (random
vectors, short texts, a session id per 100 rows). Measured (page cache warm, median of
--repeat): a vector search's global top-10 (fleet.search vs opening and searching each file
in a loop, then merging); a forget of one session in every file (fleet.forget vs the same
work in a loop, on two different sessions so each removes as much); a re-embedding with a new
model (the built-in hash embedder at 2 x dim) of --reembed-files files (fleet.reembed on half
of them vs Memory.reembed in a loop on the other half); the per-task cost of the cluster (a
no-op task per file) and the fleet search with one file per task.
"""
import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import edgehdf5
from edgehdf5 import fleet


def make(directory, files, low, high, dim, seed=0):
    rng = np.random.default_rng(seed)
    paths, total = [], 0
    for f in range(files):
        rows = int(rng.integers(low, high + 1))
        path = os.path.join(directory, f"agent{f:05d}.h5")
        with edgehdf5.Memory.create(path, dim=dim, agent_id=f"agent-{f}", compact_threshold=0) as m:
            m.save_batch([f"agent {f} memory {i}" for i in range(rows)],
                         rng.standard_normal((rows, dim)).astype(np.float32),
                         session_id=[f"s-{i // 100}" for i in range(rows)])
        paths.append(path)
        total += rows
    return paths, total


def loop_search(paths, query, k):
    hits = []
    for path in paths:
        with edgehdf5.Memory.open(path, read_only=True) as m:
            hits += [(-h.score, path, h.id) for h in m.search(query, k)]
    return sorted(hits)[:k]


def loop_forget(paths, session):
    removed = 0
    for path in paths:
        with edgehdf5.Memory.open(path) as m:
            probe = np.ones(m.dim, dtype=np.float32)
            ids = [h.id for h in m.search(probe, m.count, strategy="scalar", session=session)]
            if ids:
                m.remove(ids)
                m.compact()
            removed += len(ids)
    return removed


def loop_reembed(paths, model):
    embedded = 0
    for path in paths:
        with edgehdf5.Memory.open(path) as m:
            embedded += m.reembed(embedder=model)["memories"]
    return embedded


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def noop(batch):
    return len(batch)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--min-rows", type=int, default=1000)
    parser.add_argument("--max-rows", type=int, default=10000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reembed-files", type=int, default=200)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        made, (paths, total) = timed(lambda: make(tmp, args.files, args.min_rows, args.max_rows,
                                                  args.dim))
        size = sum(os.path.getsize(p) for p in paths)
        print(f"{args.files} files, {total} memories x {args.dim} float32, "
              f"{size / 2**20:.0f} MiB (made in {made:.1f} s)")
        rng = np.random.default_rng(7)
        queries = rng.standard_normal((args.repeat, args.dim)).astype(np.float32)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            fleet.search(paths, queries[0], 10, client=client)  # warm: workers import edgehdf5
            fleet_times, loop_times = [], []
            for q in queries:
                t, report = timed(lambda: fleet.search(paths, q, 10, client=client))
                fleet_times.append(t)
                t, merged = timed(lambda: loop_search(paths, q, 10))
                loop_times.append(t)
                assert [(h.path, h.id) for h in report.hits] == [(p, i) for _, p, i in merged]
            one_per_task = statistics.median(
                timed(lambda: fleet.search(paths, q, 10, client=client, files_per_task=1))[0]
                for q in queries)
            noop_times = [timed(lambda: client.gather(
                [client.submit(noop, [p], pure=False) for p in paths]))[0]
                for _ in range(args.repeat)]
            fs, ls = statistics.median(fleet_times), statistics.median(loop_times)
            print(f"search top-10: fleet {fs * 1e3:.0f} ms, loop {ls * 1e3:.0f} ms "
                  f"(loop/fleet {ls / fs:.2f}x); fleet with one file per task "
                  f"{one_per_task * 1e3:.0f} ms")
            per_task = statistics.median(noop_times) / len(paths)
            print(f"cluster cost: {per_task * 1e6:.0f} us per no-op task "
                  f"({len(paths)} tasks, 2 workers)")
            model = f"hash:{2 * args.dim}"
            chosen = paths[:args.reembed_files]
            by_fleet, by_loop = chosen[0::2], chosen[1::2]
            t_fleet_re, reports = timed(lambda: fleet.reembed(by_fleet, embedder=model,
                                                              client=client))
            assert all(r.ok for r in reports), [r.error for r in reports if not r.ok]
            embedded_fleet = sum(r.result["memories"] for r in reports)
            t_fleet, reports = timed(lambda: fleet.forget(paths, client=client, session="s-3"))
            removed_fleet = sum(len(r.result.get("removed", [])) for r in reports)
            assert all(r.ok for r in reports)
        t_loop_re, embedded_loop = timed(lambda: loop_reembed(by_loop, model))
        print(f"reembed ({model}): fleet {t_fleet_re:.2f} s ({len(by_fleet)} files, "
              f"{embedded_fleet / t_fleet_re:.0f} memories/s), loop {t_loop_re:.2f} s "
              f"({len(by_loop)} files, {embedded_loop / t_loop_re:.0f} memories/s): "
              f"loop/fleet per memory {(t_loop_re / embedded_loop) / (t_fleet_re / embedded_fleet):.2f}x")
        t_loop, removed_loop = timed(lambda: loop_forget(paths, "s-4"))
        print(f"forget one session: fleet {t_fleet:.2f} s ({removed_fleet} removed, "
              f"{len(paths) / t_fleet:.0f} files/s), loop {t_loop:.2f} s ({removed_loop} "
              f"removed, {len(paths) / t_loop:.0f} files/s): loop/fleet {t_loop / t_fleet:.2f}x")


if __name__ == "__main__":
    main()
