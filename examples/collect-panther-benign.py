#!/usr/bin/env python3
"""Collects the CloudTrail test records Panther's public rules label as not suspicious.

Reads `rules/aws_cloudtrail_rules/*.yml` of a panther-labs/panther-analysis checkout (a bare
git directory is enough) at a commit, keeps every `Tests:` entry with `ExpectedResult: false`,
and writes its `Log` as one JSON line, in file order then test order, each record exactly as
the rule's test gives it. Used by examples/bench-noise.sh; see plans/techniques/panther-benign.md.

    python3 examples/collect-panther-benign.py GIT_DIR [COMMIT] > plans/techniques/panther-benign.jsonl

With `--index`, writes `LINE<TAB>RULE_ID<TAB>TEST NAME` instead, to say where a line came from.
"""

import json
import subprocess
import sys

import yaml

RULES = "rules/aws_cloudtrail_rules/"


def git(git_dir, *args):
    return subprocess.run(
        ["git", "-C", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def records(git_dir, commit):
    names = sorted(
        n for n in git(git_dir, "ls-tree", "--name-only", f"{commit}:{RULES}").split("\n")
        if n.endswith(".yml")
    )
    for name in names:
        rule = yaml.safe_load(git(git_dir, "show", f"{commit}:{RULES}{name}"))
        for test in rule.get("Tests") or []:
            log = test.get("Log")
            # Only CloudTrail records: a test whose log is not an object is skipped.
            if test.get("ExpectedResult") is False and isinstance(log, dict):
                yield rule.get("RuleID", name), test.get("Name", ""), log


def main():
    args = [a for a in sys.argv[1:] if a != "--index"]
    index = "--index" in sys.argv
    git_dir = args[0]
    commit = args[1] if len(args) > 1 else "HEAD"
    for line, (rule, test, log) in enumerate(records(git_dir, commit), start=1):
        if index:
            print(f"{line}\t{rule}\t{test}")
        else:
            # default=str: YAML timestamps left unquoted come back as datetimes.
            print(json.dumps(log, sort_keys=False, separators=(",", ":"), default=str))


if __name__ == "__main__":
    main()
