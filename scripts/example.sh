#!/usr/bin/env bash
# The end-to-end example: create a memory file, import the bundled sample conversation
# (data/sample/, 300 memories with 64-d embeddings), show its info, run the sample queries,
# verify the file. Assumes build/ holds a built tree (scripts/demo.sh builds it first).
# Safe to run again: it starts from a fresh file every time.
set -euo pipefail
cd "$(dirname "$0")/.."

cli=build/bin/edgehdf5
memory_file=build/example/agent_memory.h5
samples=data/sample

if [[ ! -x $cli ]]; then
  echo "example: $cli not found; run scripts/setup.sh (or scripts/demo.sh) first" >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }

mkdir -p "$(dirname "$memory_file")"
rm -f "$memory_file" "$memory_file.wal" "$memory_file.lock"

step "create $memory_file"
"$cli" create "$memory_file" --dim 64 --agent-id demo --embedder hash64

step "import $samples/memories.jsonl"
"$cli" import "$memory_file" "$samples/memories.jsonl"

step "info"
"$cli" info "$memory_file"

# Each query line holds its text and its embedding (made by data/sample/make_sample.py);
# python prints them as "text<TAB>embedding-json", one query per line.
while IFS=$'\t' read -r text embedding; do
  step "search: \"$text\""
  "$cli" search "$memory_file" --vector "$embedding" --k 5
done < <(/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        query = json.loads(line)
        print(query["text"], json.dumps(query["embedding"]), sep="\t")
' "$samples/queries.jsonl")

step "verify"
"$cli" verify "$memory_file"
