#!/usr/bin/env bash
# Installs, builds, and runs the end-to-end example: create a memory file, import the
# bundled sample conversation, search it, print the results.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec scripts/example.sh
