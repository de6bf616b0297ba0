#!/usr/bin/env bash
# Benchmark `cis-fix plan --org` against the test emulator: organizations of 200 and 1,000
# members behind one organization trail, with 100 ms of latency injected on every call.
# Prints, per organization: API calls (and per member), wall time, effective parallelism
# (calls x latency / wall) and cis-fix's peak memory.
# Usage: bash examples/bench-org.sh [MEMBERS...]   (default: 200 1000; release build)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_emulator.sh"
sizes=("${@:-200 1000}")
latency_ms=100

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
start_emulator

management=200000000000
for members in ${sizes[@]}; do
    management=$((management + 100000))
    use_account "$management"
    "$python" "$root/examples/seed_org.py" "$endpoint" "$management" "$members" "$latency_ms"
    start=$(date +%s%N)
    out=$( { /usr/bin/time -f 'maxrss_kb %M' "$root/target/release/cis-fix" plan --org --stats >/dev/null; } 2>&1 || true)
    end=$(date +%s%N)
    wall_ms=$(( (end - start) / 1000000 ))
    calls=$(echo "$out" | sed -n 's/^stats: \([0-9]*\) AWS API calls.*/\1/p')
    rss=$(echo "$out" | sed -n 's/^maxrss_kb \([0-9]*\)/\1/p')
    awk -v m="$members" -v c="$calls" -v w="$wall_ms" -v l="$latency_ms" -v r="$rss" 'BEGIN {
        printf "%5d members: %5d API calls (%.2f per member), wall %.1f s, effective parallelism %.1f, peak memory %.1f MiB\n",
            m, c, c / m, w / 1000, c * l / w, r / 1024 }'
done
