# Shared by the example scripts: set up the emulator's venv, start it on a free loopback
# port, and point the AWS settings of this shell at a fresh account in it.
# Source it; it defines start_emulator and use_account, and stops the emulator on exit.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

start_emulator() {
    bash "$root/tests/emulator/setup.sh" >&2
    python="${CIS_FIX_PYTHON:-$root/.venv/bin/python}"
    # The emulator exits when its stdin closes: the coprocess pipe is held by this shell.
    coproc EMULATOR { "$python" "$root/tests/emulator/emulator.py" --port 0 --exit-on-stdin-eof; }
    read -r line <&"${EMULATOR[0]}"
    port="${line#PORT }"
    [ -n "$port" ] && [ "$port" != "$line" ] || { echo "emulator did not start: $line" >&2; exit 1; }
    endpoint="http://127.0.0.1:$port"
    trap 'kill "$EMULATOR_PID" 2>/dev/null || true' EXIT
}

# use_account ACCOUNT_ID: the standard AWS variables, and nothing from your own setup.
use_account() {
    unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
    export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
    export AWS_ENDPOINT_URL="$endpoint" AWS_EC2_METADATA_DISABLED=true
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
}

# find_cis_fix: sets $cis_fix to the binary to run. A release build is used when it is newer
# than every source file (`cargo build --release` made it from this tree); otherwise the debug
# build is brought up to date, in view: the first build takes a few minutes.
find_cis_fix() {
    local release="$root/target/release/cis-fix"
    if [ -x "$release" ] && [ -z "$(find "$root/src" "$root/plans" "$root/Cargo.toml" "$root/Cargo.lock" -newer "$release" -print -quit)" ]; then
        echo "using the release build $release" >&2
        cis_fix="$release"
        return
    fi
    echo "building cis-fix (a debug build: the first takes a few minutes; a release build newer than the sources is used instead)" >&2
    cargo build --manifest-path "$root/Cargo.toml" >&2
    cis_fix="$root/target/debug/cis-fix"
}
