// The protocol: the handshake in every supported version, server/discover, ping, tools/list
// (schemas; the nine graph tools' input schemas equal the reference server's), and every
// error path: not JSON, not JSON-RPC, unknown method (before and after initialize, answered
// at once), unknown tool, arguments that do not fit, an over-long line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectEdge, connectReference, rawServer, tempDir, exited, call } from "./lib.mjs";
import { McpError } from "@modelcontextprotocol/sdk/types.js";

const dir = tempDir("protocol");
const graphTools = ["create_entities", "create_relations", "add_observations", "delete_entities",
  "delete_observations", "delete_relations", "read_graph", "search_nodes", "open_nodes"];

test("initialize answers each supported version with itself, others with the newest", async () => {
  const server = rawServer(join(dir, "versions.h5"));
  let id = 0;
  for (const version of ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "1999-01-01", "2026-07-28"]) {
    server.request(++id, "initialize", { protocolVersion: version, capabilities: {}, clientInfo: { name: "t", version: "1" } });
    const answer = await server.answer(id);
    const expected = ["1999-01-01", "2026-07-28"].includes(version) ? "2025-11-25" : version;
    assert.equal(answer.result.protocolVersion, expected, version);
    assert.equal(answer.result.serverInfo.name, "edgehdf5");
    assert.ok(answer.result.capabilities.tools);
  }
  server.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
  server.request(++id, "ping", {});
  const pong = await server.answer(id);
  assert.deepEqual(pong.result, {});  // and no answer was sent to the notification
  server.child.stdin.end();
  assert.equal((await exited(server.child)).code, 0);
});

test("the SDK client connects (2025-11-25) and lists every tool with both schemas", async () => {
  const { client } = await connectEdge(join(dir, "list.h5"));
  assert.equal(client.getServerVersion().name, "edgehdf5");
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const name of [...graphTools, "save_memory", "recall", "forget", "get_memory", "record_session",
    "get_session_summary", "memory_stats"]) assert.ok(names.includes(name), name);
  for (const tool of tools) {
    assert.equal(tool.inputSchema.type, "object", tool.name);
    assert.equal(tool.outputSchema.type, "object", tool.name);
  }
  // The drop-in promise: the reference server's input and output schemas, unchanged.
  const reference = await connectReference(join(dir, "reference.jsonl"));
  const referenceTools = (await reference.client.listTools()).tools;
  for (const name of graphTools) {
    const ours = tools.find((t) => t.name === name);
    const theirs = referenceTools.find((t) => t.name === name);
    assert.deepEqual(ours.inputSchema, theirs.inputSchema, name);
    assert.deepEqual(ours.outputSchema, theirs.outputSchema, name);
    assert.equal(ours.description, theirs.description, name);
  }
  await reference.client.close();
  await client.close();
});

test("server/discover lists the versions served; unknown methods get -32601 at once", async () => {
  const server = rawServer(join(dir, "discover.h5"));
  const start = Date.now();
  server.request("d", "server/discover", { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } });
  const discovered = await server.answer("d");
  assert.deepEqual(discovered.result.supportedVersions, ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]);
  assert.ok(discovered.result.capabilities.tools);
  server.request(2, "resources/list", {});  // before initialize
  assert.equal((await server.answer(2)).error.code, -32601);
  server.request(3, "initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } });
  await server.answer(3);
  server.request(4, "prompts/list", {});  // after
  assert.equal((await server.answer(4)).error.code, -32601);
  assert.ok(Date.now() - start < 3000, "answered at once, not after a timeout");
  server.child.stdin.end();
  await exited(server.child);
});

test("bad lines get JSON-RPC errors and the server keeps serving", async () => {
  const server = rawServer(join(dir, "errors.h5"), ["--max-line-bytes", "4096"]);
  server.send("this is not json");
  const parse = await server.nextMessage();
  assert.equal(parse.error.code, -32700);
  assert.equal(parse.id, null);
  server.send(JSON.stringify({ id: 5, method: "ping" }));  // no "jsonrpc": "2.0"
  assert.equal((await server.answer(5)).error.code, -32600);
  server.send(JSON.stringify({ jsonrpc: "2.0", id: 6 }));  // no method
  assert.equal((await server.answer(6)).error.code, -32600);
  server.send(JSON.stringify([{ jsonrpc: "2.0", id: 7, method: "ping" }]));  // a batch
  assert.equal((await server.nextMessage()).error.code, -32600);
  // Over the limit: refused (the line is skipped as it streams in), then serving goes on.
  server.send(JSON.stringify({ jsonrpc: "2.0", id: 8, method: "ping", params: { pad: "x".repeat(100000) } }));
  const tooLong = await server.nextMessage();
  assert.equal(tooLong.error.code, -32600);
  assert.match(tooLong.error.message, /over this server's limit of 4096 bytes/);
  server.request(9, "ping", {});
  assert.deepEqual((await server.answer(9)).result, {});
  server.child.stdin.end();
  assert.equal((await exited(server.child)).code, 0);
});

test("a 64 MiB line is refused without the server holding it", async () => {
  const server = rawServer(join(dir, "huge.h5"));
  const fs = await import("node:fs");
  const peakKb = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.child.pid}/status`, "utf8"))[1]);
  server.request(0, "ping", {});
  await server.answer(0);
  const before = peakKb();
  const chunk = "y".repeat(1 << 20);
  server.child.stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
  for (let i = 0; i < 64; ++i) {
    if (!server.child.stdin.write(chunk)) await new Promise((r) => server.child.stdin.once("drain", r));
  }
  server.child.stdin.write('"}}\n');
  const refused = await server.nextMessage(20000);
  assert.equal(refused.error.code, -32600);
  assert.match(refused.error.message, /16777216 bytes per line/);
  // The peak resident size (VmHWM) grew by about the limit, far less than the 64 MiB line.
  const grownKb = peakKb() - before;
  assert.ok(grownKb < 24 * 1024, `peak resident size grew by ${grownKb} kB`);
  server.request(2, "ping", {});
  await server.answer(2);
  server.child.stdin.end();
  await exited(server.child);
});

test("unknown tool is -32602; arguments that do not fit are an isError naming the field", async () => {
  const { client } = await connectEdge(join(dir, "tools.h5"));
  await client.listTools();
  await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }),
    (error) => error instanceof McpError && error.code === -32602 && /no_such_tool/.test(error.message));
  const missing = await call(client, "create_entities", {});
  assert.equal(missing.isError, true);
  assert.match(missing.text, /entities: required/);
  const wrongType = await call(client, "create_entities", { entities: [{ name: "a", entityType: 3, observations: [] }] });
  assert.equal(wrongType.isError, true);
  assert.match(wrongType.text, /entities\[0\]\.entityType: expected a string, got an integer/);
  const badK = await call(client, "recall", { query: "x", k: 0 });
  assert.match(badK.text, /k: must be at least 1/);
  const badMode = await call(client, "recall", { query: "x", mode: "fuzzy" });
  assert.match(badMode.text, /mode: must be one of/);
  await client.close();
});
