// Shared helpers of the MCP tests: start `edgehdf5 mcp` or the reference server
// (@modelcontextprotocol/server-memory) as child processes behind the official SDK client's
// StdioClientTransport, call tools, and compare graphs.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

export const here = dirname(fileURLToPath(import.meta.url));
export const edgehdf5 = process.env.EDGEHDF5_BIN;
if (!edgehdf5) throw new Error("EDGEHDF5_BIN must name the edgehdf5 binary");
export const referenceScript = join(here, "node_modules/@modelcontextprotocol/server-memory/dist/index.js");

export function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `edgehdf5-mcp-${name}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A connected SDK client over a new `edgehdf5 mcp FILE ...args` process.
export async function connectEdge(file, args = []) {
  const transport = new StdioClientTransport({ command: edgehdf5, args: ["mcp", file, ...args], stderr: "pipe" });
  const client = new Client({ name: "edgehdf5-tests", version: "1.0.0" });
  await client.connect(transport);
  let stderr = "";
  transport.stderr?.on("data", (chunk) => { stderr += chunk; });
  return { client, transport, stderr: () => stderr };
}

// The same over the reference server with its JSONL store at `jsonl`.
export async function connectReference(jsonl) {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [referenceScript],
    env: { ...process.env, MEMORY_FILE_PATH: jsonl }, stderr: "ignore",
  });
  const client = new Client({ name: "edgehdf5-tests", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

// Calls a tool; returns {structured, text, isError}. The SDK client validates
// structuredContent against the tool's outputSchema (after listTools).
export async function call(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  return { structured: result.structuredContent, text: result.content?.[0]?.text, isError: !!result.isError };
}

export async function ok(client, name, args = {}) {
  const result = await call(client, name, args);
  assert.equal(result.isError, false, `${name} failed: ${result.text}`);
  return result.structured;
}

// A graph with entities and relations in a canonical order (the reference keeps insertion
// order too, but comparing sorted says what matters: the same set).
export function canonical(graph) {
  const entities = [...graph.entities].map((e) => ({ name: e.name, entityType: e.entityType, observations: [...e.observations].sort() }));
  entities.sort((a, b) => a.name.localeCompare(b.name));
  const relations = [...graph.relations].map((r) => ({ from: r.from, to: r.to, relationType: r.relationType }));
  relations.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { entities, relations };
}

// Runs /usr/bin/python3 (Debian's, with h5py) on `code`, with `args`; returns stdout.
export function python(code, args = []) {
  const result = spawnSync("/usr/bin/python3", ["-c", code, ...args], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

// Waits for a child process to exit; returns {code, signal, ms}.
export function exited(child, start = Date.now()) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode, ms: Date.now() - start });
    child.once("exit", (code, signal) => resolve({ code, signal, ms: Date.now() - start }));
  });
}

// A raw `edgehdf5 mcp` process: write lines, read answers by id (for what the SDK client
// would not send: bad JSON, over-long lines, old protocol versions).
export function rawServer(file, args = []) {
  const child = spawn(edgehdf5, ["mcp", file, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let buffer = "";
  const messages = [];
  const waiters = [];
  child.stdout.on("data", (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const message = JSON.parse(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      messages.push(message);
      for (const waiter of [...waiters]) waiter();
    }
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr += chunk; });
  const next = (predicate, timeoutMs = 5000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer in time; stderr: " + stderr)), timeoutMs);
    const check = () => {
      const index = messages.findIndex(predicate);
      if (index < 0) return;
      clearTimeout(timer);
      waiters.splice(waiters.indexOf(check), 1);
      resolve(messages.splice(index, 1)[0]);
    };
    waiters.push(check);
    check();
  });
  return {
    child,
    send: (text) => child.stdin.write(text + "\n"),
    request: (id, method, params) => child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n"),
    answer: (id, timeoutMs) => next((m) => m.id === id, timeoutMs),
    nextMessage: (timeoutMs) => next(() => true, timeoutMs),
    stderr: () => stderr,
  };
}

// The files in a directory, sorted (a cleanly closed store leaves FILE alone).
export function listDir(dir) { return readdirSync(dir).sort(); }
