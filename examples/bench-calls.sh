#!/usr/bin/env bash
# AWS API calls of a whole round trip against the test emulator, on the small (demo) account
# and the large one (see bench.sh): plan, apply of all 15 controls of cis-7.0, plan again
# (now with cis-fix's own alarms and topic to verify), and backout. Prints one line per step
# and account, with the calls that check ownership counted apart: the tags of the alarms that
# claim to be cis-fix's (cloudwatch:ListTagsForResource), every subscription of cis-fix's own
# topic (sns:ListSubscriptionsByTopic), and the check right before each write (the reads an
# apply or backout makes after the question).
# Usage: bash examples/bench-calls.sh          (debug build of this checkout)
#        CIS_FIX=/path/to/cis-fix bash examples/bench-calls.sh   (another build, to compare)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_emulator.sh"

if [ -z "${CIS_FIX:-}" ]; then
    cargo build --quiet --manifest-path "$root/Cargo.toml"
    CIS_FIX="$root/target/debug/cis-fix"
fi
start_emulator

# The --stats line of a run, as "TOTAL (op N, op N, ...)".
calls() {
    local stats
    stats=$("$CIS_FIX" "$@" --stats 2>&1 >/dev/null | grep -A3 '^stats:' | tr '\n' ' ' | tr -s ' ')
    echo "$stats"
}

# The count of one operation in a --stats line (0 when absent).
count() {
    local n
    n=$(echo "$1" | grep -o "$2 [0-9]*" | awk '{print $2}' || true)
    echo "${n:-0}"
}

step() {
    local kind="$1" name="$2"
    shift 2
    local stats total reads tags by_topic
    stats=$(calls "$@")
    total=$(echo "$stats" | sed -E 's/^stats: ([0-9]+) AWS API calls.*/\1/')
    tags=$(count "$stats" "cloudwatch:ListTagsForResource")
    by_topic=$(count "$stats" "sns:ListSubscriptionsByTopic")
    reads=0
    for op in cloudwatch:DescribeAlarms logs:DescribeMetricFilters sns:ListTagsForResource \
        cloudwatch:ListTagsForResource sns:ListSubscriptionsByTopic; do
        reads=$(( reads + $(count "$stats" "$op") ))
    done
    printf '%-6s %-12s %4s calls   alarm tags %3s   own topic subscriptions %2s   (describe/list/tag reads in all: %s)\n' \
        "$kind" "$name" "$total" "$tags" "$by_topic" "$reads"
}

round_trip() {
    local kind="$1" account="$2"
    use_account "$account"
    "$python" "$root/examples/seed_account.py" "$endpoint" "$account" "$kind"
    local notify="sqs:arn:aws:sqs:us-east-1:$account:security-alerts"
    step "$kind" plan plan --notify "$notify"
    step "$kind" apply apply --notify "$notify" --auto-approve
    step "$kind" "plan again" plan --notify "$notify"
    step "$kind" backout backout --auto-approve
}

round_trip small 100000000011
round_trip large 100000000012
