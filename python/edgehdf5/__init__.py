"""edgehdf5: an AI agent's memory (text chunks, embeddings, metadata, sessions, a knowledge
graph) in one HDF5 file, over the C++ library (the extension edgehdf5._edgehdf5).

Memory is the C++ HDF5Memory; AsyncMemory the C++ AsyncHDF5Memory for asyncio.

Thread safety: a Memory (and an AsyncMemory) may be shared by any number of threads. Reads
(search, search_batch, get, count, graph lookups, views) run concurrently; changes (save,
remove, flush, compact, ...) run one at a time. Every call that scans, writes, fsyncs,
compacts or trains releases the GIL, so other Python threads run meanwhile.

Views: Memory.embeddings / norms / tombstones / ids are read-only numpy views of the store's
own arrays (no copy). A view keeps its Memory alive, and save, save_batch, remove, compact
and close raise ViewsAliveError while any view exists (del it, or take .copy()), so a view
never reads memory that a save moved or a close freed.
"""

import asyncio as _asyncio
import functools as _functools

from ._edgehdf5 import (  # noqa: F401
    CorruptionError, Entity, Error, HDF5Error, Hit, InvalidArgumentError, IoError, LockedError,
    Memory, NotFoundError, Observation, ReadOnlyError, Relation, SchemaError, SearchMetrics,
    SearchResults, Session, UnsupportedError, ViewsAliveError, __version__, embed_text,
    keyword_terms, verify)
from ._edgehdf5 import _AsyncStore

Results = SearchResults
Metrics = SearchMetrics

__all__ = ["Memory", "AsyncMemory", "Hit", "SearchResults", "SearchMetrics", "Session",
           "Entity", "Relation", "Observation", "Error", "InvalidArgumentError",
           "NotFoundError", "IoError", "HDF5Error", "SchemaError", "CorruptionError",
           "LockedError", "ReadOnlyError", "UnsupportedError", "ViewsAliveError", "embed_text",
           "keyword_terms", "verify"]


class AsyncMemory:
    """A memory for asyncio over the C++ AsyncHDF5Memory: its writer thread applies the
    changes of every coroutine in groups (one fsync per group). Each method is a coroutine
    that runs the blocking C++ call on the event loop's default executor, so the loop never
    waits for the disk or a scan. Create with `await AsyncMemory.create(...)` or
    `await AsyncMemory.open(...)`; `async with` closes (flushes and checkpoints)."""

    def __init__(self, store):
        self._store = store

    @staticmethod
    async def _run(function, *args, **kwargs):
        loop = _asyncio.get_running_loop()
        return await loop.run_in_executor(None, _functools.partial(function, *args, **kwargs))

    @classmethod
    async def create(cls, path, dim=384, embedder=None, float16=False, tokenizer="porter",
                     durability="on_flush", max_group=1024, flush_interval=0.1):
        """Creates a new memory file (as Memory.create) and starts the writer thread."""
        return cls(await cls._run(_AsyncStore.create, str(path), dim, embedder, float16,
                                  tokenizer, durability, max_group, flush_interval))

    @classmethod
    async def open(cls, path, durability="on_flush", max_group=1024, flush_interval=0.1):
        """Opens an existing file for writing and starts the writer thread."""
        return cls(await cls._run(_AsyncStore.open, str(path), durability, max_group,
                                  flush_interval))

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
        return False

    @property
    def dim(self):
        """The file's embedding_dim."""
        return self._store.dim

    async def save(self, chunk, embedding, session_id="", source_channel="", tags=None,
                   timestamp=None):
        """Saves one memory once the writer applied it; returns its id."""
        return await self._run(self._store.save, chunk, embedding, session_id, source_channel,
                               tags, timestamp)

    async def save_batch(self, chunks, embeddings, session_id="", source_channel="", tags=None,
                         timestamps=None, timestamp=None):
        """Saves the rows of a 2-D float32/float16 array, all or none; returns the ids.
        Metadata as Memory.save_batch: one value for every row or one per row."""
        if timestamps is None:
            timestamps = timestamp
        return await self._run(self._store.save_batch, chunks, embeddings, session_id,
                               source_channel, tags, timestamps)

    async def add(self, text, embed=None, **metadata):
        """Embeds a text (the file's built-in embedder, or embed: list of str -> 2-D array)
        and saves it; returns its id."""
        return await self.save(text, self._embed([text], embed)[0], **metadata)

    async def recall(self, question, k=5, embed=None, **filters):
        """Embeds the question as add() does and returns the k closest memories."""
        return await self.search(self._embed([question], embed)[0], k, **filters)

    def _embed(self, texts, embed):
        import numpy
        if embed is None:
            name = self._store.embedder
            if not name.startswith("hash:"):
                raise UnsupportedError(f"the file's embedder '{name}' is not built in; pass embed=")
            return numpy.stack([embed_text(t, int(name[5:])) for t in texts])
        rows = numpy.ascontiguousarray(embed(list(texts)), dtype=numpy.float32)
        if rows.ndim != 2 or rows.shape != (len(texts), self.dim):
            raise InvalidArgumentError(
                f"embed: expected shape ({len(texts)}, {self.dim}), got {rows.shape}")
        if not numpy.isfinite(rows).all():
            raise InvalidArgumentError("embed: the callable returned NaN or infinite values")
        return rows

    async def remove(self, memory_id):
        """Removes one memory."""
        await self._run(self._store.remove, int(memory_id))

    async def add_session(self, session_id, start_id, end_id, channel="", summary=""):
        """Records a session summary covering memory ids [start_id, end_id)."""
        await self._run(self._store.add_session, session_id, start_id, end_id, channel, summary)

    async def add_entity(self, name, type="", embedding_id=-1):
        """Adds a knowledge-graph entity; returns its id."""
        return await self._run(self._store.add_entity, name, type, embedding_id)

    async def add_relation(self, source, target, type, weight=1.0):
        """Adds a relation source -[type]-> target between two entities."""
        await self._run(self._store.add_relation, source, target, type, weight)

    async def flush(self):
        """Returns when every change made before it is applied and fsynced."""
        await self._run(self._store.flush)

    async def close(self):
        """Applies what is queued, fsyncs, checkpoints and closes; raises what failed."""
        await self._run(self._store.close)

    # ---- reads: each runs the C++ read on an executor thread, under the store's shared lock
    # (concurrent with other reads; the writer thread's groups wait for it).

    async def search(self, query, k=10, **filters):
        """Cosine top-k (as Memory.search: session, channel, tags, all_tags, after, before,
        half_life, strategy, nprobe, rerank), off the event loop."""
        return await self._run(self._store.search, query, k, **filters)

    async def search_batch(self, queries, k=10, **filters):
        """(ids, scores) numpy arrays of shape (q, k), as Memory.search_batch."""
        return await self._run(self._store.search_batch, queries, k, **filters)

    async def keyword_search(self, text, k=10, **filters):
        """BM25 top-k over the chunks, as Memory.keyword_search."""
        return await self._run(self._store.keyword_search, text, k, **filters)

    async def hybrid_search(self, query, text, k=10, **options):
        """Vector + keyword fusion, as Memory.hybrid_search (fusion, weights, filters)."""
        return await self._run(self._store.hybrid_search, query, text, k, **options)

    async def get(self, memory_id):
        """The memory as a dict; NotFoundError when absent."""
        return await self._run(self._store.get, int(memory_id))

    async def session_summary(self, session_id):
        """The summary of a session; NotFoundError when absent."""
        return await self._run(self._store.session_summary, session_id)

    async def sessions(self):
        """Every session (a list of Session)."""
        return await self._run(self._store.sessions)

    async def entities(self):
        """Every entity of the knowledge graph."""
        return await self._run(self._store.entities)

    async def relations(self):
        """Every relation of the knowledge graph."""
        return await self._run(self._store.relations)

    async def entity(self, entity_id):
        """The entity with this id; NotFoundError when absent."""
        return await self._run(self._store.entity, int(entity_id))

    async def find_entity(self, name):
        """The first entity with exactly this name, or None."""
        return await self._run(self._store.find_entity, name)

    async def entity_by_name(self, name):
        """The id of the first entity with exactly this name, or None."""
        return await self._run(self._store.entity_by_name, name)

    async def neighbors(self, entity_id):
        """Ids of the entities joined to this one by a relation either way, sorted."""
        return await self._run(self._store.neighbors, int(entity_id))

    async def k_hop(self, start, hops):
        """Every entity within `hops` relations of start as (id, distance), nearest first."""
        return await self._run(self._store.k_hop, int(start), int(hops))

    async def relations_from(self, entity_id):
        """Relations whose source is this entity."""
        return await self._run(self._store.relations_from, int(entity_id))

    async def relations_to(self, entity_id):
        """Relations whose target is this entity."""
        return await self._run(self._store.relations_to, int(entity_id))

    async def observations(self, entity_id):
        """The observations of an entity, in the order added."""
        return await self._run(self._store.observations, int(entity_id))

    @property
    def nprobe(self):
        """IVF-PQ lists scanned per query (default 16)."""
        return self._store.nprobe

    @nprobe.setter
    def nprobe(self, value):
        self._store.nprobe = value

    @property
    def rerank(self):
        """IVF-PQ candidates re-scored exactly (default 400)."""
        return self._store.rerank

    @rerank.setter
    def rerank(self, value):
        self._store.rerank = value

    async def count(self):
        """Active memories."""
        return await self._run(self._store.count)

    def stats(self):
        """What the writer thread has done (requests, groups, syncs...)."""
        return self._store.stats()
