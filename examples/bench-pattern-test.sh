#!/usr/bin/env bash
# Speed and peak memory of `cis-fix pattern test` (release build) on a CloudTrail-like
# JSON-lines file of about 200 MB and on a gzipped CloudTrail bucket tree of the same
# records, against `jq` on the same inputs and against the limits any reader stands behind:
# plain reading, gzip decompression (`zcat`, on one core and on every core), and JSON
# parsing (examples/parse-limit.rs: serde_json parses every event and builds nothing, on
# every core; with `--value` it builds each as a serde_json::Value, as cis-fix once did).
# Records: the real ones in plans/techniques/*.jsonl and src/catalog/testdata, repeated
# with fresh event ids. No emulator, no AWS call.
# Usage: bash examples/bench-pattern-test.sh [MB]   (default 200)
# Set CIS_FIX=path/to/cis-fix to measure another binary (e.g. an earlier commit's: it may
# lack --controls and directories, whose lines then say "failed").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
megabytes="${1:-200}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is needed (apt-get install time)" >&2; exit 1; }

if [ -z "${CIS_FIX:-}" ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    CIS_FIX="$root/target/release/cis-fix"
fi
cargo build --release --quiet --example parse-limit --manifest-path "$root/Cargo.toml"
parse_limit="$root/target/release/examples/parse-limit"

python3 - "$root" "$work" "$megabytes" <<'PY'
import glob, gzip, json, os, sys
root, work, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
records = []
for pattern in ("plans/techniques/*.jsonl", "src/catalog/testdata/*.jsonl"):
    for path in sorted(glob.glob(f"{root}/{pattern}")):
        records += [json.loads(l) for l in open(path) if l.strip()]
lines, size, i = open(f"{work}/events.jsonl", "w"), 0, 0
tree, batch, day = f"{work}/bucket/AWSLogs/123456789012/CloudTrail/us-east-1", [], 0
def flush():
    global batch, day
    folder = f"{tree}/2026/11/{day % 28 + 1:02d}"
    os.makedirs(folder, exist_ok=True)
    with gzip.open(f"{folder}/123456789012_CloudTrail_us-east-1_{day:06d}.json.gz", "wt", compresslevel=6) as f:
        json.dump({"Records": batch}, f)
    batch, day = [], day + 1
while size < megabytes * 1_000_000:
    record = dict(records[i % len(records)], eventID=f"{i:08x}-0000-4000-8000-000000000000")
    text = json.dumps(record, separators=(",", ":"))
    lines.write(text + "\n")
    size += len(text) + 1
    batch.append(record)
    if len(batch) == 5000:
        flush()
    i += 1
if batch:
    flush()
print(f"{i} events from {len(records)} real records; {size / 1e6:.0f} MB of JSON lines; {day} gzipped CloudTrail files", file=sys.stderr)
PY

# One line per measure: wall time, peak RSS, what ran.
measure() {
    local label="$1"; shift
    /usr/bin/time -v -o "$work/time" bash -c "$*" >"$work/out" 2>&1 || { echo "$label failed:"; cat "$work/out"; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/time")
    printf '%-58s wall %9s  peak RSS %6s MiB  %s\n' "$label" "$wall" "$rss" "$(tail -c 90 "$work/out" | tr '\n' ' ')"
}

jsonl="$work/events.jsonl"
bucket="$work/bucket"
echo "JSON lines, $(du -h "$jsonl" | cut -f1):"
measure "  cat | wc -l (reading limit)" "cat '$jsonl' | wc -l"
measure "  parse only, nothing built, every core (parsing limit)" "'$parse_limit' '$jsonl'"
measure "  parse to serde_json::Value, every core" "'$parse_limit' --value '$jsonl'"
measure "  jq -c 'select(.errorCode != null)'" "jq -c 'select(.errorCode != null)' '$jsonl' | wc -l"
measure "  cis-fix pattern test --control 5.1" "'$CIS_FIX' pattern test --control 5.1 '$jsonl' | tail -1"
measure "  cis-fix pattern test --controls (every control, counts)" "'$CIS_FIX' pattern test --controls 5.1,5.2,5.3,5.4,5.5,5.6,5.7,5.8,5.9,5.10,5.11,5.12,5.13,5.14,5.15 '$jsonl' | tail -1"
echo "gzipped CloudTrail tree, $(du -sh "$bucket" | cut -f1) in $(find "$bucket" -name '*.gz' | wc -l) files:"
gz_files="find '$bucket' -name '*.gz' | sort"
measure "  zcat > /dev/null (decompression limit, one core)" "$gz_files | xargs zcat > /dev/null"
measure "  zcat > /dev/null, every core" "$gz_files | xargs -P $(nproc) -n 4 zcat > /dev/null"
measure "  gunzip + parse only, every core (the two limits)" "$gz_files | xargs '$parse_limit'"
measure "  zcat | jq -c '.Records[] | select(.errorCode != null)'" "find '$bucket' -name '*.gz' | sort | xargs zcat | jq -c '.Records[] | select(.errorCode != null)' | wc -l"
measure "  cis-fix pattern test --control 5.1 (directory)" "'$CIS_FIX' pattern test --control 5.1 '$bucket' | tail -1"
measure "  cis-fix pattern test --control 5.1 (the files named)" "$gz_files | xargs '$CIS_FIX' pattern test --control 5.1 | tail -1"
echo "($(nproc) cores, $(git -C "$root" rev-parse --short HEAD), $(date -u +%F))"
