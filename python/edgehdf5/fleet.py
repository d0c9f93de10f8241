"""edgehdf5.fleet: search and maintain many memory files (one per agent) with Dask.

Every operation is a map over files on a dask.distributed cluster, never a scheduler of our
own: each task opens its files with the store itself (edgehdf5.Memory), so a search runs the
store's own exact, keyword or hybrid search with its filters, and a change takes the file's
writer lock like any other writer. Files are addressed by paths every worker can open (a
shared filesystem). One bad file never stops the fleet: a locked, damaged or missing file is
reported with its error in its FileReport and the others proceed.

client: a dask.distributed.Client for any cluster; None uses the current default client if
there is one, else starts a LocalCluster (one single-threaded worker process per core) for
the call, so a laptop works as it is.

reembed(paths, embed) re-embeds every file when the embedding model changes.

Tasks and retries: files are grouped into tasks of `files_per_task` (default: about four
tasks per worker thread), and Dask reruns the tasks of a worker that dies. A rerun of a
forget finds what the first run removed already gone and removes nothing twice: what a task
removes is decided from the file as the task opens it (under the lock), not handed in.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import glob
import json
import math
import os
import sys
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

import edgehdf5

PathLike = Union[str, os.PathLike]


@dataclasses.dataclass(frozen=True)
class FleetHit:
    """One memory found by search(): its score, the file it is in, and the memory."""
    score: float
    path: str
    agent_id: str
    id: int
    chunk: str
    session_id: str
    source_channel: str
    tags: list
    timestamp: float


@dataclasses.dataclass
class FileReport:
    """What an operation did to one file: ok with its result, or the error that stopped it
    (error_type is the exception's class name: "LockedError", "SchemaError", "IoError"...)."""
    path: str
    ok: bool
    result: dict = dataclasses.field(default_factory=dict)
    error: Optional[str] = None
    error_type: Optional[str] = None


@dataclasses.dataclass
class SearchReport:
    """search(): the global top-k (best first), how many files were searched, and the files
    that could not be (their errors)."""
    hits: list
    files: int
    failures: list


# ---- which files ------------------------------------------------------------------------------

def expand_paths(target: Union[PathLike, Iterable[PathLike]]) -> list:
    """The files an operation covers: a directory's *.h5 files, a glob pattern's matches
    (both sorted), or the paths given as they are (a missing one is reported by the
    operation, not dropped here)."""
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if os.path.isdir(text):
            return sorted(glob.glob(os.path.join(glob.escape(text), "*.h5")))
        if glob.has_magic(text):
            return sorted(glob.glob(text))
        return [text]
    return [os.fspath(p) for p in target]


# ---- running on the cluster ------------------------------------------------------------------

@contextlib.contextmanager
def _cluster(client: Any) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    from dask.distributed import Client, LocalCluster, default_client
    try:
        current = default_client()
    except ValueError:
        current = None
    if current is not None:
        yield current
        return
    with LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as started:
        yield started


def _batches(paths: Sequence[str], client: Any, files_per_task: Optional[int]) -> list:
    if files_per_task is None:
        threads = max(1, sum(client.nthreads().values()))
        files_per_task = max(1, math.ceil(len(paths) / (4 * threads)))
    if files_per_task < 1:
        raise edgehdf5.InvalidArgumentError("files_per_task must be at least 1")
    return [list(paths[i:i + files_per_task]) for i in range(0, len(paths), files_per_task)]


def _run(task: Callable, paths: Sequence[str], client: Any, files_per_task: Optional[int],
         progress: Optional[Callable[[int, int], None]], *args: Any) -> list:
    """Runs task(batch, *args) for every batch of paths on the cluster; the results in batch
    order. progress(files_done, files_total) after each batch."""
    from dask.distributed import as_completed
    with _cluster(client) as c:
        batches = _batches(paths, c, files_per_task)
        futures = [c.submit(task, batch, *args, pure=False) for batch in batches]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(futures)
        done = 0
        for future in as_completed(futures):
            results[index[future.key]] = future.result()
            done += len(batches[index[future.key]])
            if progress is not None:
                progress(done, len(paths))
        return results


def _guarded(path: str, work: Callable[[], dict]) -> FileReport:
    try:
        return FileReport(path, True, result=work())
    except (edgehdf5.Error, OSError) as error:
        return FileReport(path, False, error=str(error), error_type=type(error).__name__)


def _map_files(work: Callable[..., dict], paths: Sequence[str], client: Any,
               files_per_task: Optional[int], progress: Any, *args: Any) -> list:
    batches = _run(_apply_to_batch, paths, client, files_per_task, progress, work, *args)
    return [report for batch in batches for report in batch]


def _apply_to_batch(batch: list, work: Callable[..., dict], *args: Any) -> list:
    return [_guarded(path, lambda path=path: work(path, *args)) for path in batch]


# ---- search -------------------------------------------------------------------------------------

def _rank(hit: FleetHit) -> tuple:
    return (-hit.score, hit.path, hit.id)


def _vector(memory: edgehdf5.Memory, query: Any) -> np.ndarray:
    if not isinstance(query, str):
        return np.ascontiguousarray(query, dtype=np.float32)
    if not memory.embedder.startswith("hash:"):
        raise edgehdf5.UnsupportedError(
            f"{memory.path} is embedded by {memory.embedder!r}: pass the query's embedding, "
            "not its text")
    return edgehdf5.embed_text(query, memory.dim)


def _search_file(path: str, query: Any, text: Optional[str], mode: str, k: int,
                 filters: dict) -> dict:
    with edgehdf5.Memory.open(path, read_only=True) as memory:
        if mode == "keyword":
            results = memory.keyword_search(text if text is not None else query, k, **filters)
        elif mode == "hybrid":
            words = text if text is not None else query
            results = memory.hybrid_search(_vector(memory, query), words, k, **filters)
        else:
            results = memory.search(_vector(memory, query), k, **filters)
        agent = memory.agent_id
        hits = [FleetHit(float(h.score), path, agent, int(h.id), h.chunk, h.session_id,
                         h.source_channel, list(h.tags), float(h.timestamp)) for h in results]
    return {"hits": hits}


def _search_batch(batch: list, query: Any, text: Optional[str], mode: str, k: int,
                  filters: dict) -> tuple:
    reports = _apply_to_batch(batch, _search_file, query, text, mode, k, filters)
    hits = [hit for report in reports if report.ok for hit in report.result["hits"]]
    failures = [report for report in reports if not report.ok]
    return sorted(hits, key=_rank)[:k], failures  # this batch's top-k: small to send back


def search(paths: Union[PathLike, Iterable[PathLike]], query: Any, k: int = 10, *,
           text: Optional[str] = None, mode: Optional[str] = None, client: Any = None,
           files_per_task: Optional[int] = None,
           progress: Optional[Callable[[int, int], None]] = None, **filters: Any) -> SearchReport:
    """The k best memories over every file: each file's own search (read-only, with
    `filters`: session, channel, tags, all_tags, after, before, half_life), merged into one
    top-k by score (ties: path, then id).

    query: an embedding (numpy array of each file's dim), or a question (str), embedded with
    the built-in embedder of files made for it (hash:D). mode: "vector" (cosine), "keyword"
    (BM25 on `text`, else the question), or "hybrid" (both fused, each file's
    hybrid_search); default hybrid for a question or an embedding with `text`, else vector.
    Keyword and hybrid scores are each file's own (BM25 weighs terms by their rarity in that
    file), so across files they rank as each file scores them."""
    if k < 1:
        raise edgehdf5.InvalidArgumentError("k must be at least 1")
    if mode is None:
        mode = "hybrid" if isinstance(query, str) or text is not None else "vector"
    if mode not in ("vector", "keyword", "hybrid"):
        raise edgehdf5.InvalidArgumentError(
            f"mode must be 'vector', 'keyword' or 'hybrid', not {mode!r}")
    if mode == "keyword" and text is None and not isinstance(query, str):
        raise edgehdf5.InvalidArgumentError("keyword search needs text (or a str query)")
    files = expand_paths(paths)
    batches = _run(_search_batch, files, client, files_per_task, progress, query, text, mode, k,
                   filters)
    hits = sorted((h for batch_hits, _ in batches for h in batch_hits), key=_rank)[:k]
    failures = [f for _, batch_failures in batches for f in batch_failures]
    return SearchReport(hits=hits, files=len(files), failures=failures)


# ---- maintenance ---------------------------------------------------------------------------------

def _active_ids(memory: edgehdf5.Memory) -> list:
    ids = np.array(memory.ids)  # copies: no view may stay alive across remove()
    tombstones = np.array(memory.tombstones)
    return [int(i) for i in ids[tombstones == 0]]


def _matching_ids(memory: edgehdf5.Memory, text: Optional[str],
                  where: Optional[Callable[[dict], bool]], filters: dict) -> list:
    active = _active_ids(memory)
    if not active:
        return []
    if text is not None:
        # Every term of the query (as the file's tokenizer makes them) must be in the memory;
        # keyword_search finds the candidates (any term), the file's own filters applied.
        terms = set(edgehdf5.keyword_terms(text, memory.keyword_tokenizer))
        if not terms:
            raise edgehdf5.InvalidArgumentError(f"the text {text!r} has no keyword terms")
        hits = memory.keyword_search(text, len(active), **filters)
        ids = [h.id for h in hits
               if terms <= set(edgehdf5.keyword_terms(h.chunk, memory.keyword_tokenizer))]
    elif filters:
        # The store's own filters, inside an exact scan that keeps every row they pass.
        probe = np.ones(memory.dim, dtype=np.float32)
        ids = [h.id for h in memory.search(probe, len(active), strategy="scalar", **filters)]
    else:
        ids = active
    if where is not None:
        ids = [i for i in ids if where(memory.get(i))]
    return sorted(int(i) for i in ids)


def _forget_file(path: str, text: Optional[str], where: Any, filters: dict,
                 lock_timeout: float) -> dict:
    with edgehdf5.Memory.open(path, lock_timeout=lock_timeout) as memory:
        before = len(memory)  # active memories
        ids = _matching_ids(memory, text, where, filters)
        if ids:
            memory.remove(ids)
            memory.compact()  # the removed rows leave the file (compaction checkpoints)
        return {"removed": ids, "before": before, "after": before - len(ids)}


def forget(paths: Union[PathLike, Iterable[PathLike]], *, text: Optional[str] = None,
           where: Optional[Callable[[dict], bool]] = None, lock_timeout: float = 0.0,
           client: Any = None, files_per_task: Optional[int] = None,
           progress: Optional[Callable[[int, int], None]] = None, **filters: Any) -> list:
    """Removes, in every file, the memories that match, then compacts the file so that they
    are gone from it (a deletion request). A memory matches when it passes the filters
    (session, channel, tags, all_tags, after, before: the store's own), contains every
    keyword term of `text` (if given), and `where(memory.get(id))` is true (if given; it must
    be picklable). At least one of them is required: forgetting everything is refused.

    A file another writer holds is skipped and reported as LockedError; lock_timeout (s)
    waits that long for it first. Returns a FileReport per file, in path order, with
    result {"removed": [ids], "before": active memories, "after": active memories}."""
    if text is None and where is None and not filters:
        raise edgehdf5.InvalidArgumentError(
            "forget needs a filter, text or where: it never removes every memory")
    return _map_files(_forget_file, expand_paths(paths), client, files_per_task, progress, text,
                      where, filters, lock_timeout)


def _reembed_file(path: str, embed: Optional[Callable], embedder: Optional[str],
                  batch_size: int, lock_timeout: float) -> dict:
    with edgehdf5.Memory.open(path, lock_timeout=lock_timeout) as memory:
        dim_before, embedder_before = memory.dim, memory.embedder
        done = memory.reembed(embed=embed, embedder=embedder, batch_size=batch_size)
    return {"memories": done["memories"], "dim_before": dim_before, "dim": done["dim"],
            "embedder_before": embedder_before, "embedder": done["embedder"],
            "index_dropped": done["index_dropped"]}


def reembed(paths: Union[PathLike, Iterable[PathLike]], embed: Optional[Callable] = None, *,
            embedder: Optional[str] = None, batch_size: int = 256, lock_timeout: float = 0.0,
            client: Any = None, files_per_task: Optional[int] = None,
            progress: Optional[Callable[[int, int], None]] = None) -> list:
    """Re-embeds every file with a new embedding model (Memory.reembed): each task opens a
    file for writing (its writer lock held throughout), embeds the chunks of its active
    memories with `embed` (list of str -> 2-D array; it must be picklable, and importable by
    the workers when it is a function) `batch_size` at a time, and replaces the embeddings in
    one checkpoint, so a crash or a killed worker leaves each file wholly old or wholly new,
    and a rerun simply embeds again. Ids, chunks, metadata, sessions and the graph stay; an
    IVF-PQ index is dropped (rebuild it). embed=None uses the built-in embedder `embedder`
    names ("hash:768"). embedder: the name each file records from then on (default:
    unchanged). A locked file is reported, as in forget. result: {"memories", "dim_before",
    "dim", "embedder_before", "embedder", "index_dropped"}."""
    if embed is None and embedder is None:
        raise edgehdf5.InvalidArgumentError(
            "reembed needs embed (a callable) or embedder (a built-in name such as 'hash:768')")
    return _map_files(_reembed_file, expand_paths(paths), client, files_per_task, progress,
                      embed, embedder, batch_size, lock_timeout)


def _compact_file(path: str, lock_timeout: float) -> dict:
    size_before = os.path.getsize(path)
    with edgehdf5.Memory.open(path, lock_timeout=lock_timeout) as memory:
        dropped = memory.compact()
    return {"dropped": dropped, "bytes_before": size_before, "bytes_after": os.path.getsize(path)}


def compact(paths: Union[PathLike, Iterable[PathLike]], *, lock_timeout: float = 0.0,
            client: Any = None, files_per_task: Optional[int] = None,
            progress: Optional[Callable[[int, int], None]] = None) -> list:
    """Compacts every file (drops removed rows); a locked file is reported, as in forget.
    result: {"dropped": rows, "bytes_before", "bytes_after"}."""
    return _map_files(_compact_file, expand_paths(paths), client, files_per_task, progress,
                      lock_timeout)


def _verify_file(path: str) -> dict:
    problems = edgehdf5.verify(path)
    if problems:
        raise edgehdf5.CorruptionError("; ".join(problems))
    return {"problems": []}


def verify(paths: Union[PathLike, Iterable[PathLike]], *, client: Any = None,
           files_per_task: Optional[int] = None,
           progress: Optional[Callable[[int, int], None]] = None) -> list:
    """edgehdf5.verify on every file (read-only, no lock): ok, or not ok with the problems
    found as the error (error_type "CorruptionError"; a file that cannot be opened is one)."""
    return _map_files(_verify_file, expand_paths(paths), client, files_per_task, progress)


def _stats_file(path: str) -> dict:
    with edgehdf5.Memory.open(path, read_only=True) as memory:
        active = len(memory)
        info = memory.info
        return {"agent_id": memory.agent_id, "embedder": memory.embedder, "dim": memory.dim,
                "float16": memory.float16, "memories": active, "removed": memory.count - active,
                "sessions": info["sessions"], "entities": info["entities"],
                "relations": info["relations"], "observations": info["observations"],
                "bytes": os.path.getsize(path)}


def stats(paths: Union[PathLike, Iterable[PathLike]], *, client: Any = None,
          files_per_task: Optional[int] = None,
          progress: Optional[Callable[[int, int], None]] = None) -> list:
    """Per file: agent_id, embedder, dim, float16, memories (active), removed, sessions,
    entities, relations, observations, bytes. totals(reports) sums them."""
    return _map_files(_stats_file, expand_paths(paths), client, files_per_task, progress)


def totals(reports: Sequence[FileReport]) -> dict:
    """The numeric results of the ok reports summed, with files / failed counts."""
    summed: dict = {"files": len(reports), "failed": sum(not r.ok for r in reports)}
    for report in reports:
        if not report.ok:
            continue
        for key, value in report.result.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                summed[key] = summed.get(key, 0) + value
            elif isinstance(value, list):
                summed[key] = summed.get(key, 0) + len(value)
    return summed


# ---- the command line: python3 -m edgehdf5.fleet -----------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m edgehdf5.fleet",
        description="Search and maintain many edgehdf5 memory files on a Dask cluster.")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler "
                        "(default: a local cluster, one worker per core)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    commands = parser.add_subparsers(dest="command", required=True)

    def filters(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--session")
        sub.add_argument("--channel")
        sub.add_argument("--tags", help="comma-separated: memories carrying any of them")
        sub.add_argument("--all-tags", action="store_true", help="...carrying all of them")
        sub.add_argument("--after", type=float, help="timestamp >= AFTER")
        sub.add_argument("--before", type=float, help="timestamp <= BEFORE")

    search_cmd = commands.add_parser("search", help="the global top-k of a question")
    search_cmd.add_argument("target", help="a directory (its *.h5), a glob, or a file")
    search_cmd.add_argument("question")
    search_cmd.add_argument("--k", type=int, default=10)
    search_cmd.add_argument("--mode", choices=["vector", "keyword", "hybrid"], default="hybrid")
    filters(search_cmd)
    forget_cmd = commands.add_parser("forget", help="remove matching memories, then compact")
    forget_cmd.add_argument("target")
    forget_cmd.add_argument("--text", help="memories holding every keyword term of TEXT")
    forget_cmd.add_argument("--lock-timeout", type=float, default=0.0)
    filters(forget_cmd)
    reembed_cmd = commands.add_parser(
        "reembed", help="embed every file's memories again with a new model")
    reembed_cmd.add_argument("target")
    reembed_cmd.add_argument("--embedder", help="the name every file records from then on; "
                             "without --embed, a built-in embedder (hash:D)")
    reembed_cmd.add_argument("--embed", metavar="MODULE:FUNCTION",
                             help="a Python function list of str -> 2-D array, importable by "
                             "every worker")
    reembed_cmd.add_argument("--batch-size", type=int, default=256)
    reembed_cmd.add_argument("--lock-timeout", type=float, default=0.0)
    for name, help_text in (("compact", "drop removed rows from every file"),
                            ("verify", "check every file"), ("stats", "what every file holds")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("target")
        if name == "compact":
            sub.add_argument("--lock-timeout", type=float, default=0.0)
    return parser


def _filters_of(args: argparse.Namespace) -> dict:
    chosen: dict = {}
    for name in ("session", "channel", "after", "before"):
        if getattr(args, name, None) is not None:
            chosen[name] = getattr(args, name)
    if getattr(args, "tags", None):
        chosen["tags"] = args.tags.split(",")
        chosen["all_tags"] = args.all_tags
    return chosen


def _function_named(spec: Optional[str]) -> Optional[Callable]:
    """MODULE:FUNCTION imported, or None."""
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    if not module or not name:
        raise edgehdf5.InvalidArgumentError(f"--embed: expected MODULE:FUNCTION, got {spec!r}")
    import importlib
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise edgehdf5.InvalidArgumentError(f"--embed: cannot import {spec!r}: {error}")


def _progress_printer() -> Optional[Callable[[int, int], None]]:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{done}/{total} files", end=end, file=sys.stderr, flush=True)
    return show


def _print_reports(reports: list, as_json: bool) -> None:
    for report in reports:
        if as_json:
            print(json.dumps(dataclasses.asdict(report)))
        elif report.ok:
            shown = {k: (len(v) if isinstance(v, list) else v) for k, v in report.result.items()}
            print(report.path, " ".join(f"{k}={v}" for k, v in shown.items()))
        else:
            print(f"{report.path} FAILED {report.error_type}: {report.error}")
    if as_json:
        print(json.dumps({"totals": totals(reports)}))
    else:
        print("totals:", " ".join(f"{k}={v}" for k, v in totals(reports).items()))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The CLI. Exit status 0 when every file was handled, 1 when some failed, 2 for bad use."""
    args = _parser().parse_args(argv)
    client = None
    if args.scheduler:
        from dask.distributed import Client
        client = Client(args.scheduler)
    progress = _progress_printer()
    try:
        if args.command == "search":
            report = search(args.target, args.question, args.k, mode=args.mode, client=client,
                            progress=progress, **_filters_of(args))
            for hit in report.hits:
                if args.json:
                    print(json.dumps(dataclasses.asdict(hit)))
                else:
                    print(f"{hit.score:.4f}  {hit.path}  [{hit.agent_id} #{hit.id}]  {hit.chunk}")
            reports = report.failures
            for failure in reports:
                print(f"{failure.path} FAILED {failure.error_type}: {failure.error}",
                      file=sys.stderr)
            if args.json:
                print(json.dumps({"files": report.files, "failed": len(reports)}))
            return 1 if reports else 0
        if args.command == "forget":
            chosen = _filters_of(args)
            if args.text is None and not chosen:
                print("forget: give --text or a filter (it never removes every memory)",
                      file=sys.stderr)
                return 2
            reports = forget(args.target, text=args.text, lock_timeout=args.lock_timeout,
                             client=client, progress=progress, **chosen)
        elif args.command == "reembed":
            if args.embed is None and args.embedder is None:
                print("reembed: give --embedder (a built-in hash:D) or --embed MODULE:FUNCTION",
                      file=sys.stderr)
                return 2
            reports = reembed(args.target, _function_named(args.embed), embedder=args.embedder,
                              batch_size=args.batch_size, lock_timeout=args.lock_timeout,
                              client=client, progress=progress)
        elif args.command == "compact":
            reports = compact(args.target, lock_timeout=args.lock_timeout, client=client,
                              progress=progress)
        elif args.command == "verify":
            reports = verify(args.target, client=client, progress=progress)
        else:
            reports = stats(args.target, client=client, progress=progress)
        _print_reports(reports, args.json)
        return 1 if any(not r.ok for r in reports) else 0
    except edgehdf5.Error as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            client.close()


if __name__ == "__main__":
    # Run as `python3 -m edgehdf5.fleet`: call the functions of the imported module, so that
    # what Dask sends to its workers names edgehdf5.fleet, which they import, not __main__.
    from edgehdf5 import fleet as _fleet
    sys.exit(_fleet.main())
