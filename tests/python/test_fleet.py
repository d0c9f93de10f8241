"""edgehdf5.fleet on a real dask.distributed LocalCluster of 2 worker processes on loopback
(started and stopped here). Oracles: the same searches run file by file in this process and
merged, numpy brute force over the vectors the files were made from, and h5py's read of
every file after a forget."""
import os
import pathlib
import shutil

import h5py
import numpy as np
import pytest

import edgehdf5

distributed = pytest.importorskip("dask.distributed")
from edgehdf5 import fleet  # noqa: E402  (needs dask)

DIM = 32
HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def client():
    # The workers are new processes: let them import this module (for the callables below).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(HERE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def make_fleet(directory, files=8, rows=60, seed=0):
    """files memory files; returns {path: (vectors, chunks, channels)}."""
    rng = np.random.default_rng(seed)
    made = {}
    for f in range(files):
        path = str(directory / f"agent{f:02d}.h5")
        vectors = rng.standard_normal((rows, DIM)).astype(np.float32)
        chunks = [f"agent {f} note {i} about {'alice smith' if i % 5 == 0 else 'the weather'}"
                  for i in range(rows)]
        channels = ["chat" if i % 2 else "email" for i in range(rows)]
        with edgehdf5.Memory.create(path, dim=DIM, agent_id=f"agent-{f}",
                                    compact_threshold=0) as m:
            m.save_batch(chunks, vectors, source_channel=channels)
        made[path] = (vectors, chunks, channels)
    return made


def merged_in_process(paths, k, run):
    hits = []
    for path in paths:
        with edgehdf5.Memory.open(path, read_only=True) as m:
            hits += [(-h.score, path, h.id) for h in run(m)]
    return [(p, i) for _, p, i in sorted(hits)[:k]]


def test_global_top_k_equals_merging_every_file_searched_in_one_process(tmp_path, client):
    made = make_fleet(tmp_path)
    paths = sorted(made)
    query = np.random.default_rng(1).standard_normal(DIM).astype(np.float32)
    report = fleet.search(tmp_path, query, k=15, client=client, files_per_task=3)
    assert report.files == len(paths) and report.failures == []
    got = [(h.path, h.id) for h in report.hits]
    assert got == merged_in_process(paths, 15, lambda m: m.search(query, 15))
    # numpy brute force over what the files were made from
    scored = []
    for path, (vectors, _, _) in made.items():
        cosine = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
        scored += [(-float(s), path, i) for i, s in enumerate(cosine)]
    assert got == [(p, i) for _, p, i in sorted(scored)[:15]]
    assert {h.agent_id for h in report.hits} <= {f"agent-{f}" for f in range(8)}
    # keyword and hybrid with a filter: the same as the files' own searches merged
    report = fleet.search(paths, query, k=12, text="alice", channel="email", client=client)
    assert [(h.path, h.id) for h in report.hits] == merged_in_process(
        paths, 12, lambda m: m.hybrid_search(query, "alice", 12, channel="email"))
    report = fleet.search(paths, "alice", k=12, mode="keyword", client=client)
    assert [(h.path, h.id) for h in report.hits] == merged_in_process(
        paths, 12, lambda m: m.keyword_search("alice", 12))


def test_forget_removes_exactly_the_matching_memories(tmp_path, client):
    made = make_fleet(tmp_path)
    reports = fleet.forget(tmp_path, text="Alice Smith", client=client)
    assert all(r.ok for r in reports)
    for report in reports:
        _, chunks, channels = made[report.path]
        expected_gone = [i for i, c in enumerate(chunks) if "alice smith" in c]
        assert report.result["removed"] == expected_gone
        with h5py.File(report.path, "r") as f:
            kept_chunks = [c.decode() for c in f["memory/chunks"][...]]
            ids = list(f["memory/ids"][...])
            assert not f["memory/tombstones"][...].any()  # compacted: the rows are gone
        assert kept_chunks == [c for c in chunks if "alice smith" not in c]
        assert ids == [i for i in range(len(chunks)) if i not in expected_gone]
    # a filter: every email memory of every file; nothing is removed twice
    reports = fleet.forget(tmp_path, channel="email", client=client)
    for report in reports:
        _, chunks, channels = made[report.path]
        expected = [i for i, (c, ch) in enumerate(zip(chunks, channels))
                    if ch == "email" and "alice smith" not in c]
        assert report.result["removed"] == expected
        with h5py.File(report.path, "r") as f:
            assert {c.decode() for c in f["memory/source_channel"][...]} == {"chat"}
    assert fleet.totals(reports)["removed"] == sum(len(r.result["removed"]) for r in reports)
    with pytest.raises(edgehdf5.InvalidArgumentError):
        fleet.forget(tmp_path, client=client)  # no predicate: refused


def test_locked_truncated_and_missing_files_are_reported_and_the_rest_proceed(tmp_path, client):
    made = make_fleet(tmp_path, files=4)
    good = sorted(made)
    truncated = str(tmp_path / "truncated.h5")
    with open(good[0], "rb") as src, open(truncated, "wb") as dst:
        dst.write(src.read()[: os.path.getsize(good[0]) // 2])
    missing = str(tmp_path / "missing.h5")
    with edgehdf5.Memory.open(good[1]):  # this process writes it: the lock is held
        paths = [good[0], good[1], truncated, missing, good[2], good[3]]
        reports = fleet.forget(paths, channel="chat", client=client, files_per_task=2)
        assert [r.path for r in reports] == paths
        by_path = {r.path: r for r in reports}
        assert by_path[good[1]].error_type == "LockedError"
        assert not by_path[truncated].ok and by_path[truncated].error
        assert by_path[missing].error_type == "IoError" and "no such file" in by_path[missing].error
        for path in (good[0], good[2], good[3]):
            assert by_path[path].ok and len(by_path[path].result["removed"]) == 30
        search = fleet.search(paths, np.ones(DIM, np.float32), k=5, client=client)
        assert {f.path for f in search.failures} == {truncated, missing}
        checked = {r.path: r for r in fleet.verify(paths, client=client)}
        assert checked[good[0]].ok and not checked[truncated].ok and not checked[missing].ok
    with edgehdf5.Memory.open(good[1], read_only=True) as m:
        assert m.count == 60  # the locked file was left as it was
    stats = fleet.stats(good, client=client)
    assert [r.result["memories"] for r in stats] == [30, 60, 30, 30]
    assert fleet.totals(stats)["memories"] == 150


class KillOnce:
    """A forget predicate that kills its worker process the first time it runs on `victim`:
    a worker dying in the middle of a task, after it finished the batch's first file."""

    def __init__(self, marker, victim):
        self.marker, self.victim = marker, victim

    def __call__(self, memory):
        if memory["chunk"].startswith(self.victim) and not os.path.exists(self.marker):
            pathlib.Path(self.marker).touch()
            os._exit(1)
        return True


def test_a_worker_killed_mid_run_is_retried_without_removing_anything_twice(tmp_path, client):
    made = make_fleet(tmp_path, files=2)
    first, second = sorted(made)
    kill = KillOnce(str(tmp_path / "killed"), victim="agent 1 ")
    reports = fleet.forget([first, second], channel="email", where=kill, client=client,
                           files_per_task=2)  # one task: first, then second (killed there)
    assert os.path.exists(tmp_path / "killed")
    assert all(r.ok for r in reports), [r.error for r in reports]
    for path in (first, second):
        _, chunks, channels = made[path]
        with h5py.File(path, "r") as f:
            kept = [c.decode() for c in f["memory/chunks"][...]]
        assert kept == [c for c, ch in zip(chunks, channels) if ch == "chat"]
    # The rerun found the first file's emails gone already and removed nothing more there.
    assert reports[0].result["removed"] == []
    assert len(reports[1].result["removed"]) == 30


def test_the_command_line_searches_a_directory(tmp_path):
    import subprocess
    import sys
    make_fleet(tmp_path, files=2)
    directory = tmp_path / "hashed"
    directory.mkdir()
    with edgehdf5.Memory.create(directory / "a.h5") as m:  # the built-in embedder, hash:384
        m.add(["the deploy key rotates on mondays", "lunch is at noon"])
    with edgehdf5.Memory.create(directory / "b.h5") as m:
        m.add(["rotate the deploy key before friday"])
    out = subprocess.run([sys.executable, "-m", "edgehdf5.fleet", "--json", "search",
                          str(directory), "deploy key", "--k", "2"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    import json
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert {line["chunk"] for line in lines[:2]} == {"the deploy key rotates on mondays",
                                                     "rotate the deploy key before friday"}
    assert lines[-1] == {"files": 2, "failed": 0}
    # A new model for every file (the built-in one at 64 dimensions); questions follow it.
    out = subprocess.run([sys.executable, "-m", "edgehdf5.fleet", "--json", "reembed",
                          str(directory), "--embedder", "hash:64"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(line["result"]["dim_before"], line["result"]["dim"]) for line in lines[:2]] == \
        [(384, 64), (384, 64)]
    assert lines[-1]["totals"]["memories"] == 3
    out = subprocess.run([sys.executable, "-m", "edgehdf5.fleet", "--json", "search",
                          str(directory), "deploy key", "--k", "1", "--mode", "vector"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "deploy key" in json.loads(out.stdout.splitlines()[0])["chunk"]
    shutil.rmtree(directory)


def test_a_locked_file_is_waited_for_when_asked(tmp_path, client):
    import threading
    made = make_fleet(tmp_path, files=2)
    first, second = sorted(made)
    holder = edgehdf5.Memory.open(first)  # its agent writes it, for about a second
    threading.Timer(1.0, holder.close).start()
    reports = fleet.forget([first, second], channel="chat", lock_timeout=30, client=client)
    assert [r.ok for r in reports] == [True, True], [r.error for r in reports]
    assert [len(r.result["removed"]) for r in reports] == [30, 30]


NEW_DIM = 24


def new_model(texts):
    """The 'new embedding model' the workers run (imported from this module): the built-in
    embedder at another dimension."""
    return np.stack([edgehdf5.embed_text(t, NEW_DIM) for t in texts])


def test_reembed_replaces_every_files_vectors_and_reports_the_locked_and_missing(tmp_path, client):
    made = make_fleet(tmp_path, files=5)
    paths = sorted(made)
    missing = str(tmp_path / "missing.h5")
    with h5py.File(paths[0], "r") as f:
        ids_before = f["memory/ids"][...]
    with edgehdf5.Memory.open(paths[4]):  # its agent writes it: skipped, left as it was
        reports = fleet.reembed(paths + [missing], new_model, embedder="new-model-24",
                                batch_size=16, client=client, files_per_task=2)
    by_path = {r.path: r for r in reports}
    assert by_path[paths[4]].error_type == "LockedError"
    assert by_path[missing].error_type == "IoError"
    for path in paths[:4]:
        report = by_path[path]
        assert report.ok, report.error
        assert report.result == {"memories": 60, "dim_before": DIM, "dim": NEW_DIM,
                                 "embedder_before": f"hash:{DIM}", "embedder": "new-model-24",
                                 "index_dropped": False}
        _, chunks, _ = made[path]
        with h5py.File(path, "r") as f:  # h5py: the new vectors, the same memories
            np.testing.assert_array_equal(f["memory/embeddings"][...], new_model(chunks))
            assert [c.decode() for c in f["memory/chunks"][...]] == chunks
            np.testing.assert_array_equal(f["memory/ids"][...], ids_before)
    with h5py.File(paths[4], "r") as f:
        assert f["memory/embeddings"].shape == (60, DIM)
    # The fleet searches the re-embedded files with the new model's vectors: numpy brute force.
    query = new_model(["agent 2 note 10 about alice smith"])[0]
    report = fleet.search(paths[:4], query, k=5, client=client)
    scored = []
    for path in paths[:4]:
        vectors = new_model(made[path][1])
        cosine = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
        scored += [(-float(s), path, i) for i, s in enumerate(cosine)]
    assert [(h.path, h.id) for h in report.hits] == [(p, i) for _, p, i in sorted(scored)[:5]]
    with pytest.raises(edgehdf5.InvalidArgumentError):
        fleet.reembed(paths, client=client)  # neither a callable nor a built-in name
