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
