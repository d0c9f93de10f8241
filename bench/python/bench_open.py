"""Opening a store: mapped embeddings and texts on demand against reading them, side by side
in one run.

Run: PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_open.py [--rows 200000]
Each measurement is a fresh process (as every `edgehdf5 recall` is) that opens the file
read-only in one of three modes, then runs one exact search (whose hits carry their texts):
the default (map_embeddings=True, text_on_demand=True), mapped embeddings with every text
read at open (text_on_demand=False), and everything read (both False). The memories' texts
are about 200 bytes each, with a session id and a channel, as an agent's chunks are.
Reported per mode, median of --repeat runs alternating the modes: the open, the first search
(a mapped matrix is paged in by it), both together, and how much the process's resident
memory grew from before the open to after the search: private (RssAnon: what the process
alone holds) and shared with the page cache (RssFile: mapped file pages, which every
process with the file open shares and the kernel can drop). The file is in the page cache
(it was just written, and every run reads it), as for an agent recalling often.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

import edgehdf5

DIM = 384

CHILD = r"""
import json, sys, time
import numpy as np
import edgehdf5

def rss_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])

path, mapped, on_demand = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
query = np.random.default_rng(3).standard_normal(%d).astype(np.float32)
before = {f: rss_kib(f) for f in ("RssAnon", "RssFile")}
start = time.perf_counter()
m = edgehdf5.Memory.open(path, read_only=True, map_embeddings=mapped, text_on_demand=on_demand)
opened = time.perf_counter()
hits = m.search(query, k=10).hits
assert all(hit.chunk for hit in hits)
searched = time.perf_counter()
print(json.dumps({"open": opened - start, "search": searched - opened,
                  "anon_mib": (rss_kib("RssAnon") - before["RssAnon"]) / 1024,
                  "file_mib": (rss_kib("RssFile") - before["RssFile"]) / 1024}))
""" % DIM


WORDS = ("the user asked about the deploy key rotation schedule and we agreed to move it "
         "to mondays after the standup because friday releases kept colliding with it").split()


def text_of(i):
    """About 200 bytes of text, different for every memory."""
    words = [WORDS[(i * 7 + j * 13) % len(WORDS)] for j in range(32)]
    return f"memory {i}: " + " ".join(words)


def make(path, rows):
    rng = np.random.default_rng(1)
    with edgehdf5.Memory.create(path, dim=DIM) as m:
        for start in range(0, rows, 20_000):
            n = min(20_000, rows - start)
            m.save_batch([text_of(start + i) for i in range(n)],
                         rng.standard_normal((n, DIM)).astype(np.float32),
                         session_id=[f"session-{(start + i) // 100}" for i in range(n)],
                         source_channel="chat")


MODES = (("default", True, True), ("texts read", True, False), ("all read", False, False))


def measure(path, mapped, on_demand):
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if mapped else "0",
                          "1" if on_demand else "0"],
                         check=True, capture_output=True, text=True, env=os.environ).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--file", help="an existing store to open (else one is made)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or os.path.join(tmp, "open.h5")
        if not args.file:
            make(path, args.rows)
        runs = {name: [] for name, _, _ in MODES}
        for _ in range(args.repeat):
            for name, mapped, on_demand in MODES:
                runs[name].append(measure(path, mapped, on_demand))
        with edgehdf5.Memory.open(path, read_only=True) as m:
            rows, dim = m.embeddings.shape
        print(f"{rows} rows x {dim} float32 ({os.path.getsize(path) / 2**20:.0f} MiB file), "
              f"median of {args.repeat} fresh processes each")
        print(f"{'mode':>10} {'open ms':>9} {'search ms':>10} {'both ms':>9} "
              f"{'private +MiB':>13} {'shared +MiB':>12}")
        medians = {}
        for name, _, _ in MODES:
            r = runs[name]
            med = {key: statistics.median(x[key] for x in r) for key in ("open", "search", "anon_mib", "file_mib")}
            med["both"] = statistics.median(x["open"] + x["search"] for x in r)
            medians[name] = med
            print(f"{name:>10} {med['open'] * 1e3:9.1f} "
                  f"{med['search'] * 1e3:10.1f} {med['both'] * 1e3:9.1f} "
                  f"{med['anon_mib']:13.0f} {med['file_mib']:12.0f}")
        for name in ("texts read", "all read"):
            print(f"{name} / default: open {medians[name]['open'] / medians['default']['open']:.1f}x, "
                  f"open+search {medians[name]['both'] / medians['default']['both']:.2f}x")


if __name__ == "__main__":
    main()
