#!/usr/bin/env bash
# Peak memory of `cis-fix pattern test` (release build): on a gzip bomb (about 18 MB of gzip
# that decompresses to 17 GiB of newlines), which cis-fix streams through in bounded memory
# (`0 of 0 events`, exit 0; before it streamed, it refused the bomb once it had decompressed
# 1 GiB), and on an ordinary CloudTrail log file for comparison. Prints one line per case:
# peak resident set size, wall time and exit code. No emulator, no AWS call. Speed and
# memory on large inputs against jq: examples/bench-pattern-test.sh.
# Usage: bash examples/bench-memory.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/cis-fix"

# The bomb: 1 MiB of newlines gzipped (about 1 KB), doubled ten times into a 1 GiB file, and
# that repeated 17 times. gzip readers take concatenated members as one stream, so this is
# what a single 18 MB gzip of newlines decompresses to, without compressing 17 GiB first.
head -c 1048576 /dev/zero | tr '\0' '\n' | gzip -9 >"$work/mib.gz"
cp "$work/mib.gz" "$work/gib.gz"
for _ in $(seq 10); do cat "$work/gib.gz" "$work/gib.gz" >"$work/double.gz"; mv "$work/double.gz" "$work/gib.gz"; done
for _ in $(seq 17); do cat "$work/gib.gz"; done >"$work/bomb.json.gz"

# An ordinary CloudTrail file, at the large end: 50,000 records (CloudTrail delivers a few MB
# of gzip at most).
python3 - "$work/cloudtrail.json.gz" <<'EOF'
import gzip, json, sys
names = ["ConsoleLogin", "GetObject", "DescribeInstances", "PutBucketPolicy", "AssumeRole"]
records = [{
    "eventVersion": "1.09", "eventTime": f"2026-01-01T00:{i // 600 % 60:02d}:{i % 60:02d}Z",
    "eventSource": "signin.amazonaws.com", "eventName": names[i % len(names)],
    "awsRegion": "us-east-1", "sourceIPAddress": f"203.0.113.{i % 250}",
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "userIdentity": {"type": "IAMUser", "principalId": f"AIDA{i:016d}",
                     "arn": f"arn:aws:iam::123456789012:user/user-{i % 40}",
                     "accountId": "123456789012", "userName": f"user-{i % 40}"},
    "requestParameters": {"bucketName": f"bucket-{i % 17}", "key": f"logs/{i}.json"},
    "responseElements": {"ConsoleLogin": "Failure" if i % 7 == 0 else "Success"},
    "errorMessage": "Failed authentication" if i % 7 == 0 else None,
    "eventID": f"{i:08x}-0000-4000-8000-000000000000", "readOnly": True,
    "eventType": "AwsConsoleSignIn", "recipientAccountId": "123456789012",
} for i in range(50000)]
with gzip.open(sys.argv[1], "wt") as f:
    json.dump({"Records": records}, f)
EOF

size() { du -h "$1" | cut -f1; }

# Peak RSS in KiB, from GNU time when there is one, else the kernel's VmHWM of the process.
peak() {
    local out="$work/out" code
    if [ -x /usr/bin/time ]; then
        set +e
        /usr/bin/time -v -o "$work/time" "$@" >"$out" 2>&1
        code=$?
        set -e
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
    else
        "$@" >"$out" 2>&1 &
        local pid=$! hwm=0 now
        while kill -0 "$pid" 2>/dev/null; do
            now=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
            [ "${now:-0}" -gt "$hwm" ] && hwm=$now
            sleep 0.05
        done
        set +e
        wait "$pid"
        code=$?
        set -e
        rss=$hwm
    fi
    echo "$rss $code"
}

bench() {
    local name="$1" file="$2" start end rss code
    start=$(date +%s%N)
    read -r rss code < <(peak "$bin" pattern test --control 5.6 "$file")
    end=$(date +%s%N)
    printf '%-46s peak RSS %5d MiB, %5d ms, exit %s: %s\n' "$name ($(size "$file") gzip)" \
        "$(( rss / 1024 ))" "$(( (end - start) / 1000000 ))" "$code" "$(tail -1 "$work/out" | cut -c1-60)…"
}

bench "gzip bomb, 17 GiB of newlines" "$work/bomb.json.gz"
bench "CloudTrail file, 50,000 records" "$work/cloudtrail.json.gz"
