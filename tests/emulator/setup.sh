#!/usr/bin/env bash
# Create (or reuse) the Python venv the test AWS emulator runs in.
# Usage: tests/emulator/setup.sh [VENV_DIR]   (default: <repo root>/.venv)
# Idempotent: pip runs only when requirements.txt (or the Python version) changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-$root/.venv}"
reqs="$here/requirements.txt"
stamp="$venv/.emulator-requirements.sha256"

# Serialise concurrent runs (e.g. parallel test processes) on a lock inside the venv dir.
mkdir -p "$venv"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv/.emulator-setup.lock"
    flock 9
fi

created=""
if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian without python3-venv has no ensurepip: make a bare venv and
        # bootstrap pip into it with the system pip.
        python3 -m venv --without-pip "$venv"
        python3 -m pip --python "$venv/bin/python" install -q pip
    fi
    created="created "
fi

want="$( (cat "$reqs"; "$venv/bin/python" -V) | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c "import moto.moto_server.werkzeug_app, cbor2, hcl2, cfnlint, jsonschema" >/dev/null 2>&1; then
    echo "emulator venv ${created}up to date: $venv"
    exit 0
fi

"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs"
echo "$want" >"$stamp"
echo "emulator venv ${created}installed requirements: $venv"
