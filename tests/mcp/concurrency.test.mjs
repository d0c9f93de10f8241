// Calls in flight on one connection, two server processes on one file, and a writer lock
// held elsewhere. The reference server runs the first scenario too; its count is printed
// (it loses writes: each call rewrites the whole JSONL file from what it read).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { connectEdge, connectReference, call, ok, tempDir, exited } from "./lib.mjs";

const dir = tempDir("concurrency");

const entityCall = (client, name) =>
  call(client, "create_entities", { entities: [{ name, entityType: "test", observations: [`about ${name}`] }] });

test("20 create_entities in flight on one connection: all 20 applied", async () => {
  const edge = await connectEdge(join(dir, "parallel.h5"));
  await edge.client.listTools();
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => entityCall(edge.client, `e${i}`)));
  assert.ok(answers.every((a) => !a.isError && a.structured.entities.length === 1));
  const graph = await ok(edge.client, "read_graph");
  assert.equal(graph.entities.length, 20);
  assert.equal(graph.entities.flatMap((e) => e.observations).length, 20);
  await edge.client.close();

  const reference = await connectReference(join(dir, "parallel.jsonl"));
  await reference.client.listTools();
  await Promise.all(Array.from({ length: 20 }, (_, i) => entityCall(reference.client, `e${i}`)));
  const kept = (await ok(reference.client, "read_graph")).entities.length;
  console.log(`reference server: ${kept} of 20 parallel create_entities kept; edgehdf5: 20 of 20`);
  await reference.client.close();
});

test("two server processes on one file: both write, nothing is lost, each sees the other", async () => {
  const file = join(dir, "shared.h5");
  const a = await connectEdge(file);
  const b = await connectEdge(file);
  await a.client.listTools();
  await b.client.listTools();
  // Each write is seen by the other process's next call.
  for (let round = 0; round < 4; ++round) {
    const [writer, reader] = round % 2 ? [a, b] : [b, a];
    await ok(writer.client, "create_entities", { entities: [{ name: `seen${round}`, entityType: "t", observations: [] }] });
    const opened = await ok(reader.client, "open_nodes", { names: [`seen${round}`] });
    assert.equal(opened.entities.length, 1, `round ${round}: the other process's write is visible at once`);
  }
  // Both at once, many calls in flight on each: contention never reaches the agent.
  const calls = [];
  for (let i = 0; i < 25; ++i) {
    calls.push(entityCall(a.client, `a${i}`), entityCall(b.client, `b${i}`));
    calls.push(call(a.client, "save_memory", { text: `memory a${i}` }), call(b.client, "save_memory", { text: `memory b${i}` }));
  }
  const answers = await Promise.all(calls);
  for (const answer of answers) assert.equal(answer.isError, false, answer.text);
  await a.client.close();
  await b.client.close();
  const fresh = await connectEdge(file);
  await fresh.client.listTools();
  const names = new Set((await ok(fresh.client, "read_graph")).entities.map((e) => e.name));
  for (let i = 0; i < 25; ++i) {
    assert.ok(names.has(`a${i}`) && names.has(`b${i}`), `entity ${i}`);
  }
  const stats = await ok(fresh.client, "memory_stats");
  assert.equal(stats.entities, 54);
  assert.equal(stats.memories, 50 + 50);  // 50 saved memories + 50 observation memories
  await fresh.client.close();
});

// Holds FILE.lock (the store's writer lock is an flock on it) from a Python process.
function holdLock(file, seconds) {
  const holder = spawn("/usr/bin/python3", ["-c", `
import fcntl, sys, time
lock = open(sys.argv[1] + ".lock", "a+")
fcntl.flock(lock, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
`, file, String(seconds)], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve) => holder.stdout.once("data", () => resolve(holder)));
}

test("a writer held elsewhere: waited for up to --lock-timeout, then an isError that says so", async () => {
  const file = join(dir, "held.h5");
  const server = await connectEdge(file, ["--lock-timeout", "0.5"]);
  await server.client.listTools();
  await ok(server.client, "save_memory", { text: "before" });
  await new Promise((r) => setTimeout(r, 400));  // the server hands its lock back when idle
  const holder = await holdLock(file, 2.5);
  const start = Date.now();
  const refused = await call(server.client, "save_memory", { text: "while held" });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /already open for writing by another process/);
  assert.match(refused.text, /waited 500 ms/);
  assert.ok(Date.now() - start >= 450);
  // Reads go on while the lock is held elsewhere.
  assert.equal((await ok(server.client, "memory_stats")).memories, 1);
  await exited(holder);
  assert.equal((await ok(server.client, "save_memory", { text: "after" })).id, 1);
  await server.client.close();

  // With the default timeout (10 s), a hold of about a second is just a wait.
  const patient = await connectEdge(file);
  await patient.client.listTools();
  const briefHolder = await holdLock(file, 1);
  const waited = await call(patient.client, "save_memory", { text: "waited for the lock" });
  assert.equal(waited.isError, false, waited.text);
  await exited(briefHolder);
  await patient.client.close();
});

test("the CLI's write commands wait for the lock too (--lock-timeout, default 10 s)", async () => {
  const { spawnSync } = await import("node:child_process");
  const { edgehdf5 } = await import("./lib.mjs");
  const file = join(dir, "cli.h5");
  assert.equal(spawnSync(edgehdf5, ["create", file]).status, 0);
  const run = (args) => new Promise((resolve) => {
    const child = spawn(edgehdf5, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c) => { stderr += c; });
    child.on("exit", (code) => resolve({ code, stderr }));
  });
  let holder = await holdLock(file, 1);
  const waited = await run(["add", file, "--text", "added while another process held the lock"]);
  assert.equal(waited.code, 0, waited.stderr);
  await exited(holder);
  holder = await holdLock(file, 2);
  const start = Date.now();
  const refused = await run(["add", file, "--text", "not added", "--lock-timeout", "0.2"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already open for writing by another process.*waited 200 ms/);
  assert.ok(Date.now() - start < 1800, "gave up at its timeout");
  await exited(holder);
  const count = spawnSync(edgehdf5, ["info", file, "--json"], { encoding: "utf8" });
  assert.equal(JSON.parse(count.stdout).active, 1, "only the waiting add went in");
});
