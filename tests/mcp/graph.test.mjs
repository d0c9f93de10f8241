// The nine knowledge-graph tools against the reference server (the oracle for their
// semantics): one scenario, every call made on both, every result compared. Then the graph
// survives a restart, h5py reads it from the file, and `kg import-jsonl` loads the
// reference's own JSONL store into an equal graph.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectEdge, connectReference, call, ok, canonical, python, tempDir, edgehdf5 } from "./lib.mjs";

const dir = tempDir("graph");
const file = join(dir, "graph.h5");
const jsonl = join(dir, "reference.jsonl");

// [tool, arguments]: duplicates, existing names, unknown entities, deletions of what is not there.
const scenario = [
  ["create_entities", { entities: [
    { name: "Maya", entityType: "person", observations: ["likes tea", "works late"] },
    { name: "Atlas", entityType: "project", observations: ["due in March"] },
    { name: "Omar", entityType: "person", observations: [] }] }],
  ["create_entities", { entities: [
    { name: "Maya", entityType: "robot", observations: ["ignored: the name exists"] },
    { name: "Oslo", entityType: "city", observations: ["cold"] }] }],
  ["create_relations", { relations: [
    { from: "Maya", to: "Atlas", relationType: "works_on" },
    { from: "Omar", to: "Atlas", relationType: "owns" },
    { from: "Omar", to: "Maya", relationType: "manages" },
    { from: "Maya", to: "Oslo", relationType: "lives_in" }] }],
  ["create_relations", { relations: [
    { from: "Maya", to: "Atlas", relationType: "works_on" },
    { from: "Maya", to: "Atlas", relationType: "reviews" }] }],
  ["add_observations", { observations: [
    { entityName: "Maya", contents: ["likes tea", "speaks Norwegian"] },
    { entityName: "Omar", contents: ["prefers email"] }] }],
  ["add_observations", { observations: [{ entityName: "Nobody", contents: ["x"] }] }],
  ["read_graph", {}],
  ["search_nodes", { query: "TEA" }],
  ["search_nodes", { query: "person" }],
  ["search_nodes", { query: "nothing matches this" }],
  ["open_nodes", { names: ["Atlas", "Nobody"] }],
  ["open_nodes", { names: ["Omar", "Maya"] }],
  ["delete_observations", { deletions: [
    { entityName: "Maya", observations: ["works late", "never said"] },
    { entityName: "Nobody", observations: ["x"] }] }],
  ["delete_relations", { relations: [
    { from: "Maya", to: "Atlas", relationType: "reviews" },
    { from: "Maya", to: "Nobody", relationType: "x" }] }],
  ["delete_entities", { entityNames: ["Omar", "Nobody"] }],
  ["read_graph", {}],
];

const graphResults = new Set(["read_graph", "search_nodes", "open_nodes"]);

test("every graph tool answers as the reference server does", async () => {
  const edge = await connectEdge(file);
  const reference = await connectReference(jsonl);
  await edge.client.listTools();
  await reference.client.listTools();
  for (const [tool, args] of scenario) {
    const ours = await call(edge.client, tool, args);
    const theirs = await call(reference.client, tool, args);
    const what = `${tool} ${JSON.stringify(args)}`;
    assert.equal(ours.isError, theirs.isError, `${what}: ours ${ours.text} / reference ${theirs.text}`);
    if (theirs.isError) {
      assert.match(ours.text, /Entity with name Nobody not found/, what);
      continue;
    }
    if (graphResults.has(tool)) {
      assert.deepEqual(canonical(ours.structured), canonical(theirs.structured), what);
    } else {
      assert.deepEqual(ours.structured, theirs.structured, what);
      if (tool.startsWith("delete_")) assert.equal(ours.text, theirs.text, what);
      else assert.deepEqual(JSON.parse(ours.text), JSON.parse(theirs.text), what);
    }
  }
  await edge.client.close();
  await reference.client.close();
});

test("where the reference would store a dangling relation, we refuse and change nothing", async () => {
  const edge = await connectEdge(file);
  const before = await ok(edge.client, "read_graph");
  const refused = await call(edge.client, "create_relations", { relations: [
    { from: "Maya", to: "Oslo", relationType: "visits" },
    { from: "Maya", to: "Ghost", relationType: "haunts" }] });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /Entity with name Ghost not found/);
  assert.deepEqual(await ok(edge.client, "read_graph"), before);
  await edge.client.close();
});

test("the graph survives a restart, and h5py reads it from the file's datasets", async () => {
  const reference = await connectReference(jsonl);
  const expected = canonical(await ok(reference.client, "read_graph"));
  await reference.client.close();
  const edge = await connectEdge(file);
  assert.deepEqual(canonical(await ok(edge.client, "read_graph")), expected);
  await edge.client.close();  // closes stdin: the server checkpoints and exits
  const fromH5py = JSON.parse(python(`
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    g = f["knowledge_graph"]
    text = lambda d: [v.decode() if isinstance(v, bytes) else v for v in d[()]]
    ids = list(g["entity_ids"][()]); names = text(g["entity_names"]); types = text(g["entity_types"])
    name_of = dict(zip(ids, names))
    obs = {}
    for entity, o in zip(g["observation_entity_ids"][()], text(g["observation_texts"])):
        obs.setdefault(name_of[entity], []).append(o)
    chunks = text(f["memory/chunks"]); tomb = f["memory/tombstones"][()]
    for row in g["observation_mem_idxs"][()]:
        assert row >= 0 and tomb[row] == 0
    print(json.dumps({"entities": [{"name": n, "entityType": t, "observations": obs.get(n, [])} for n, t in zip(names, types)],
                      "relations": [{"from": name_of[s], "to": name_of[t], "relationType": r} for s, t, r in
                                    zip(g["relation_srcs"][()], g["relation_tgts"][()], text(g["relation_types"]))],
                      "observation_memories": sorted(chunks[r] for r in g["observation_mem_idxs"][()])}))
`, [file]));
  assert.deepEqual(canonical(fromH5py), expected);
  // Every observation is also an active memory with the same text (recall finds it).
  assert.deepEqual(fromH5py.observation_memories, expected.entities.flatMap((e) => e.observations).sort());
});

test("kg import-jsonl loads the reference's store; a bad line is named and nothing is imported", async () => {
  const imported = join(dir, "imported.h5");
  const create = spawnSync(edgehdf5, ["create", imported], { encoding: "utf8" });
  assert.equal(create.status, 0, create.stderr);
  const run = spawnSync(edgehdf5, ["kg", imported, "import-jsonl", jsonl, "--json"], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const reference = await connectReference(jsonl);
  const expected = canonical(await ok(reference.client, "read_graph"));
  await reference.client.close();
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.entities, expected.entities.length);
  assert.equal(summary.relations, expected.relations.length);
  const edge = await connectEdge(imported);
  assert.deepEqual(canonical(await ok(edge.client, "read_graph")), expected);
  await edge.client.close();

  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, [
    JSON.stringify({ type: "entity", name: "New", entityType: "x", observations: [] }),
    "{ not json",
  ].join("\n"));
  const refused = spawnSync(edgehdf5, ["kg", imported, "import-jsonl", bad], { encoding: "utf8" });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /bad\.jsonl:2: not JSON/);
  assert.match(refused.stderr, /nothing was imported/);
  const dangling = join(dir, "dangling.jsonl");
  writeFileSync(dangling, JSON.stringify({ type: "relation", from: "Maya", to: "Ghost", relationType: "x" }) + "\n");
  const refusedRelation = spawnSync(edgehdf5, ["kg", imported, "import-jsonl", dangling], { encoding: "utf8" });
  assert.equal(refusedRelation.status, 1);
  assert.match(refusedRelation.stderr, /dangling\.jsonl:1: relation to 'Ghost'/);
  const after = await connectEdge(imported);
  assert.deepEqual(canonical(await ok(after.client, "read_graph")), expected);  // unchanged
  await after.client.close();
});
