#!/usr/bin/env bash
# The end-to-end example: create a memory file for the built-in embedder, import the bundled
# sample conversation (data/sample/: 300 memories as text, embedded on import), record the
# sessions' summaries, build a small knowledge graph, ask the sample questions with `recall`,
# build the IVF-PQ index, then show the file's stats and verify it. Assumes build/ holds a
# built tree (scripts/demo.sh builds it first). Safe to run again: it starts afresh each time.
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

# Prints one field of each JSON line of a file, one per line (tabs separate several fields).
json_fields() {
  /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        record = json.loads(line)
        print("\t".join(record[field] for field in sys.argv[2:]))
' "$@"
}

mkdir -p "$(dirname "$memory_file")"
rm -f "$memory_file" "$memory_file.wal" "$memory_file.lock"

step "create $memory_file (built-in embedder hash:384)"
"$cli" create "$memory_file" --agent-id demo

step "import $samples/memories.jsonl (each chunk embedded by the file's embedder)"
"$cli" import "$memory_file" "$samples/memories.jsonl"

step "sessions add: one summary per conversation"
while IFS=$'\t' read -r session summary; do
  "$cli" sessions "$memory_file" add "$session" --summary "$summary"
done < <(json_fields "$samples/sessions.jsonl" id summary)
"$cli" sessions "$memory_file"

step "add: remember something new"
"$cli" add "$memory_file" --text "User: I switched my running shoes to the Hoka Clifton 9." \
  --session s11-notes --channel chat --tags personal,running

step "kg: who works on what"
"$cli" kg "$memory_file" add-entity Maya --type person
"$cli" kg "$memory_file" add-entity Priya --type person
"$cli" kg "$memory_file" add-entity Omar --type person
"$cli" kg "$memory_file" add-entity Atlas --type project
"$cli" kg "$memory_file" add-entity Postgres --type technology
"$cli" kg "$memory_file" add-relation Maya Priya --type reports_to
"$cli" kg "$memory_file" add-relation Maya Atlas --type works_on
"$cli" kg "$memory_file" add-relation Omar Atlas --type works_on
"$cli" kg "$memory_file" add-relation Atlas Postgres --type migrates_to
"$cli" kg "$memory_file" neighbors Atlas
"$cli" kg "$memory_file" path Priya Postgres

while IFS= read -r question; do
  step "recall \"$question\""
  "$cli" recall "$memory_file" "$question" -k 3
done < <(json_fields "$samples/queries.jsonl" text)

step "index build: the IVF-PQ approximate index, kept inside the file"
# (auto search uses it from 20K memories; --strategy ivfpq asks for it on any size)
"$cli" index build "$memory_file"
"$cli" index info "$memory_file"

step "stats"
"$cli" stats "$memory_file"

step "verify"
"$cli" verify "$memory_file"
