#!/usr/bin/env bash
# cis-fix on a realistic, half-compliant account, with no AWS account needed: starts the
# test emulator, builds the account in it (see seed_account.py) and runs `cis-fix plan`.
# Extra arguments go to `cis-fix plan`, e.g.: bash examples/demo.sh --format json
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_emulator.sh"

find_cis_fix
start_emulator
use_account 123456789012
"$python" "$root/examples/seed_account.py" "$endpoint" 123456789012 demo

echo "cis-fix plan --notify email:security@example.com $*" >&2
echo >&2
status=0
"$cis_fix" plan --notify email:security@example.com "$@" || status=$?
exit "$status"
