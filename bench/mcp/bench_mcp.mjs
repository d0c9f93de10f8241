// edgehdf5-bench mcp (bench/mcp_workload.cpp runs this): tool-call latency of `edgehdf5 mcp`
// beside the reference knowledge-graph memory server (@modelcontextprotocol/server-memory),
// both driven by the official SDK client over stdio, on the same graphs, in one run.
//
// For each size N, both servers start on a store of N entities with one observation each
// (the reference from its JSONL file, edgehdf5 from the same file through `kg import-jsonl`,
// which also makes each observation a memory: N memories). Then, one call at a time, each
// operation is timed `--calls` times: create_entities (one new entity with one observation),
// search_nodes (a query matching one entity), and, edgehdf5 only (the reference has no such
// tools), save_memory and recall (hybrid, k 5). Every edgehdf5 write is fsynced before its
// answer; the reference's are not (it renames a new file without fsync). Prints one table
// row per (size, server, operation): p50 and p99 in ms.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")));
const edgehdf5 = args.edgehdf5 ?? process.env.EDGEHDF5_BIN;
const sizes = (args.sizes ?? "1000,10000,100000").split(",").map(Number);
const calls = Number(args.calls ?? 200);
const reference = join(here, "node_modules/@modelcontextprotocol/server-memory/dist/index.js");
const words = ["alpha", "bravo", "cedar", "delta", "ember", "fjord", "gamma", "harbor", "indigo", "juniper"];

function observation(i) {
  return `note ${i}: ${words[i % 10]} ${words[(i * 7) % 10]} project ${i % 97} in region ${i % 13}`;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function connect(command, commandArgs, env) {
  const transport = new StdioClientTransport({ command, args: commandArgs, env: { ...process.env, ...env }, stderr: "ignore" });
  const client = new Client({ name: "edgehdf5-bench", version: "1" });
  await client.connect(transport);
  await client.listTools();
  return client;
}

async function time(client, label, makeCall) {
  const samples = [];
  for (let i = 0; i < calls; ++i) {
    const [name, callArgs] = makeCall(i);
    const start = process.hrtime.bigint();
    const result = await client.callTool({ name, arguments: callArgs });
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (result.isError) throw new Error(`${label}: ${result.content[0].text}`);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const rows = [];
for (const size of sizes) {
  const dir = mkdtempSync(join(tmpdir(), "edgehdf5-bench-mcp-"));
  try {
    const jsonl = join(dir, "memory.jsonl");
    const lines = [];
    for (let i = 0; i < size; ++i) {
      lines.push(JSON.stringify({ type: "entity", name: `entity${i}`, entityType: words[i % 10], observations: [observation(i)] }));
    }
    writeFileSync(jsonl, lines.join("\n"));
    const file = join(dir, "memory.h5");
    for (const command of [["create", file], ["kg", file, "import-jsonl", jsonl]]) {
      const run = spawnSync(edgehdf5, command, { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`edgehdf5 ${command.join(" ")}: ${run.stderr}`);
    }
    const servers = [
      ["edgehdf5", await connect(edgehdf5, ["mcp", file], {})],
      ["reference", await connect(process.execPath, [reference], { MEMORY_FILE_PATH: jsonl })],
    ];
    for (const [server, client] of servers) {
      const operations = [
        ["create_entities", (i) => ["create_entities", { entities: [{ name: `new-${server}-${i}`, entityType: "bench", observations: [observation(size + i)] }] }]],
        ["search_nodes", (i) => ["search_nodes", { query: `entity${(i * 7919) % size}` + "x".repeat(0) }]],
      ];
      if (server === "edgehdf5") {
        operations.push(["save_memory", (i) => ["save_memory", { text: observation(2 * size + i) }]]);
        operations.push(["recall", (i) => ["recall", { query: `${words[i % 10]} project ${i % 97}`, k: 5 }]]);
      }
      for (const [operation, makeCall] of operations) {
        const { p50, p99 } = await time(client, `${server} ${operation}`, makeCall);
        rows.push({ size, server, operation, p50, p99 });
        console.log(`${String(size).padStart(7)}  ${server.padEnd(9)}  ${operation.padEnd(15)}  p50 ${p50.toFixed(3).padStart(9)} ms  p99 ${p99.toFixed(3).padStart(9)} ms`);
      }
      await client.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (args.json) writeFileSync(args.json, JSON.stringify(rows, null, 2));
