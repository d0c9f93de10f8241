// The memory tools: save, recall (hybrid / vector / keyword, each filter, recency), get,
// forget, sessions, statistics; observations ranked with memories; --read-only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectEdge, call, ok, tempDir } from "./lib.mjs";

const dir = tempDir("memory");
const file = join(dir, "memory.h5");
const day = 86400;
const now = Date.now() / 1000;

test("save, recall with every mode and filter, get, forget", async () => {
  const { client } = await connectEdge(file);
  await client.listTools();
  const saved = [];
  for (const [text, session, channel, tags, age] of [
    ["The user prefers dark mode in every editor", "s1", "chat", ["preference", "ui"], 1],
    ["Deploys happen on Tuesdays after the standup", "s1", "chat", ["process"], 10],
    ["The user's cat is called Miso", "s2", "email", ["personal"], 100],
    ["Dark chocolate is the user's favourite snack", "s2", "chat", ["preference", "food"], 200],
  ]) {
    saved.push((await ok(client, "save_memory", { text, session_id: session, channel, tags, timestamp: now - age * day })).id);
  }
  assert.deepEqual(saved, [...saved].sort((a, b) => a - b));
  const hybrid = await ok(client, "recall", { query: "dark mode editor", k: 2 });
  assert.equal(hybrid.hits[0].id, saved[0]);
  assert.equal(hybrid.hits[0].kind, "memory");
  assert.ok(hybrid.hits[0].score >= hybrid.hits[1].score);
  const keyword = await ok(client, "recall", { query: "Miso", mode: "keyword" });
  assert.deepEqual(keyword.hits.map((h) => h.id), [saved[2]]);
  const vector = await ok(client, "recall", { query: "cat called Miso", mode: "vector", k: 1 });
  assert.equal(vector.hits[0].id, saved[2]);
  const bySession = await ok(client, "recall", { query: "user", session_id: "s2", k: 10 });
  assert.deepEqual(bySession.hits.map((h) => h.id).sort(), [saved[2], saved[3]]);
  const byChannel = await ok(client, "recall", { query: "user", channel: "email", k: 10 });
  assert.deepEqual(byChannel.hits.map((h) => h.id), [saved[2]]);
  const byTags = await ok(client, "recall", { query: "dark", tags: ["preference", "food"], all_tags: true, k: 10 });
  assert.deepEqual(byTags.hits.map((h) => h.id), [saved[3]]);
  const recent = await ok(client, "recall", { query: "user", after: now - 50 * day, k: 10, mode: "keyword" });
  assert.deepEqual(recent.hits.map((h) => h.id), [saved[0]]);
  // Recency: the same words, the newer memory wins once scores decay by age.
  const decayed = await ok(client, "recall", { query: "dark", mode: "keyword", half_life_seconds: 7 * day, k: 2 });
  assert.equal(decayed.hits[0].id, saved[0]);
  const got = await ok(client, "get_memory", { id: saved[2] });
  assert.deepEqual(got, { id: saved[2], text: "The user's cat is called Miso", session_id: "s2", channel: "email",
    tags: ["personal"], timestamp: got.timestamp });
  assert.ok(Math.abs(got.timestamp - (now - 100 * day)) < 1e-3);
  assert.deepEqual(await ok(client, "forget", { id: saved[2] }), { forgotten: saved[2] });
  const gone = await call(client, "get_memory", { id: saved[2] });
  assert.equal(gone.isError, true);
  assert.match(gone.text, /no active memory with id/);
  const again = await call(client, "forget", { id: saved[2] });
  assert.equal(again.isError, true);
  assert.equal((await ok(client, "recall", { query: "Miso", mode: "keyword" })).hits.length, 0);
  const commaTag = await call(client, "save_memory", { text: "x", tags: ["a,b"] });
  assert.match(commaTag.text, /tags: 'a,b' contains a comma/);
  await client.close();
});

test("observations are recalled, ranked with the memories, and forget refuses them", async () => {
  const { client } = await connectEdge(file);
  await client.listTools();
  await ok(client, "create_entities", { entities: [
    { name: "Maya", entityType: "person", observations: ["Maya is allergic to peanuts"] }] });
  const recalled = await ok(client, "recall", { query: "peanuts allergy", k: 3 });
  const hit = recalled.hits[0];
  assert.equal(hit.kind, "observation");
  assert.equal(hit.entity, "Maya");
  assert.equal(hit.text, "Maya is allergic to peanuts");
  const refused = await call(client, "forget", { id: hit.id });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /observation of entity 'Maya': delete it with delete_observations/);
  await ok(client, "delete_observations", { deletions: [{ entityName: "Maya", observations: ["Maya is allergic to peanuts"] }] });
  const after = await ok(client, "recall", { query: "peanuts", mode: "keyword" });
  assert.equal(after.hits.length, 0, "deleting the observation forgot its memory");
  await client.close();
});

test("session summaries and statistics", async () => {
  const { client } = await connectEdge(file);
  await client.listTools();
  const recorded = await ok(client, "record_session", { session_id: "s1", summary: "UI preferences and deploy days" });
  assert.deepEqual([recorded.start_id, recorded.end_id], [0, 2]);  // the memories saved with s1
  await ok(client, "record_session", { session_id: "s1", summary: "later summary" });
  assert.equal((await ok(client, "get_session_summary", { session_id: "s1" })).summary, "later summary");
  const missing = await call(client, "get_session_summary", { session_id: "nope" });
  assert.equal(missing.isError, true);
  assert.match(missing.text, /no session 'nope'/);
  const stats = await ok(client, "memory_stats");
  assert.equal(stats.memories, 3);  // 4 saved, 1 forgotten; the observation's memory went too
  assert.equal(stats.sessions, 2);
  assert.equal(stats.entities, 1);
  assert.equal(stats.observations, 0);
  assert.equal(stats.embedder, "hash:384");
  await client.close();
});

test("--read-only serves reads, refuses writes with isError, and never blocks a writer", async () => {
  const reader = await connectEdge(file, ["--read-only"]);
  await reader.client.listTools();
  assert.equal((await ok(reader.client, "memory_stats")).memories, 3);
  const refused = await call(reader.client, "save_memory", { text: "not allowed" });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /--read-only/);
  const refusedGraph = await call(reader.client, "create_entities", { entities: [] });
  assert.equal(refusedGraph.isError, true);
  // A writer beside it (with no wait for the lock) writes; the reader sees it on its next call.
  const writer = await connectEdge(file, ["--lock-timeout", "0"]);
  await writer.client.listTools();
  await ok(writer.client, "save_memory", { text: "written beside a read-only server" });
  assert.equal((await ok(reader.client, "memory_stats")).memories, 4);
  await writer.client.close();
  await reader.client.close();
});
