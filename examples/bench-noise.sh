#!/usr/bin/env bash
# Noise of the hardened catalog's own controls (H1, H2, ...): how many of the CloudTrail
# records that Panther's public rules label as not suspicious each control's pattern matches,
# with `cis-fix pattern test` (offline; no emulator, no AWS call). The records and where they
# come from: plans/techniques/panther-benign.md. Prints one line per control: id, slug,
# matches, and which records (line: Panther rule, test name).
# Usage: bash examples/bench-noise.sh [RECORDS.jsonl]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
records="${1:-$root/plans/techniques/panther-benign.jsonl}"
index="${records%.jsonl}.index.tsv"

cargo build --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/debug/cis-fix"

ids=$("$bin" controls --benchmark hardened --format json |
    python3 -c 'import json, sys; print(" ".join(c["id"] for c in json.load(sys.stdin)["controls"] if c["id"].startswith("H")))')
total=0
for id in $ids; do
    json=$("$bin" pattern test --benchmark hardened --control "$id" --format json "$records")
    python3 - "$id" "$index" "$json" <<'PY'
import json, sys
control, index_path, doc = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
try:
    index = dict(line.rstrip("\n").split("\t", 1) for line in open(index_path))
except OSError:
    index = {}
lines = [m["position"].removeprefix("line ") for m in doc["matches"]]
print(f"{control}\t{doc['matched']} of {doc['events']}")
for line in lines:
    print(f"    line {line}: {index.get(line, '?').replace(chr(9), ': ')}")
PY
done
