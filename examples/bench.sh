#!/usr/bin/env bash
# Benchmark `cis-fix plan` against the test emulator: wall time and AWS API calls for all
# controls of cis-7.0, on an account with one trail and nothing else, on a small account and
# on a large one (hundreds of filters, a thousand alarms, 50 topics with 200 subscriptions).
# Prints one line per account.
# Usage: bash examples/bench.sh [RUNS]   (default 5 runs per account; release build)
#        CIS_FIX=/path/to/cis-fix bash examples/bench.sh [RUNS]   (another build, to compare)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_emulator.sh"
runs="${1:-5}"

if [ -z "${CIS_FIX:-}" ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    CIS_FIX="$root/target/release/cis-fix"
fi
start_emulator

bench() {
    local kind="$1" account="$2"
    use_account "$account"
    "$python" "$root/examples/seed_account.py" "$endpoint" "$account" "$kind"
    local times=() calls=""
    for _ in $(seq "$runs"); do
        local start end stats
        start=$(date +%s%N)
        stats=$("$CIS_FIX" plan --notify email:security@example.com --stats 2>&1 >/dev/null | grep '^stats:')
        end=$(date +%s%N)
        times+=("$(( (end - start) / 1000000 ))")
        calls="${stats#stats: }"
        calls="${calls%% AWS API calls*}"
    done
    local sorted median
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
    printf '%-9s account: %3s API calls per plan, wall time median %s ms (min %s, max %s) over %s runs\n' \
        "$kind" "$calls" "$median" "$(echo "$sorted" | head -1)" "$(echo "$sorted" | tail -1)" "$runs"
}

bench one-trail 100000000003
bench small 100000000001
bench large 100000000002
