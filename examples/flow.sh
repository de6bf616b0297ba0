#!/usr/bin/env bash
# The whole cis-fix flow on a local emulator, no AWS account needed:
# plan (saved) -> apply that plan -> plan again (all compliant) -> backout -> plan again.
# On a terminal, apply and backout ask for confirmation; otherwise they run with --auto-approve.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_emulator.sh"

find_cis_fix
start_emulator
account=123456789012
use_account "$account"
"$python" "$root/examples/seed_account.py" "$endpoint" "$account" demo

cis_fix() { printf '\n$ cis-fix %s\n' "$*" >&2; "$cis_fix" "$@"; }
approve=()
[ -t 0 ] || approve=(--auto-approve)
plan_file="$(mktemp -d)/plan.json"
# An SQS subscription is confirmed at once, so the account ends up fully compliant.
notify="sqs:arn:aws:sqs:us-east-1:$account:security-alerts"

cis_fix plan --notify "$notify" --out "$plan_file" | tail -n 3
cis_fix apply "$plan_file" "${approve[@]}" | tail -n 6
cis_fix plan --detailed-exitcode | tail -n 1
cis_fix backout "${approve[@]}" | tail -n 8
status=0
cis_fix plan --notify "$notify" --detailed-exitcode | tail -n 1 || status=$?
echo
echo "plan --detailed-exitcode after backout: $status (2 = not compliant, as before the apply)"
