#!/usr/bin/env bash
# `cis-fix export` on the demo's half-compliant account (see demo.sh), with no AWS account
# needed. Extra arguments go to `cis-fix export`, e.g.:
#   bash examples/export.sh terraform --notify email:security@example.com
#   bash examples/export.sh cloudformation --notify email:security@example.com --out stacks/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_emulator.sh"

find_cis_fix
start_emulator
use_account 123456789012
"$python" "$root/examples/seed_account.py" "$endpoint" 123456789012 demo

echo "cis-fix export $*" >&2
echo >&2
status=0
"$cis_fix" export "$@" || status=$?
exit "$status"
