"""Reads a report `cis-fix report` wrote with a third-party reader of its format, and prints
what the reader saw as one JSON document.

    python validate_report.py FORMAT FILE

FORMAT names one of FORMATS below. Each loads FILE with a reader pinned in requirements.txt,
not written for cis-fix: when the reader refuses FILE, this prints its error on stderr and
exits 1; otherwise it prints the summary on stdout and exits 0, for the integration test to
compare with `cis-fix plan --format json`. A format is added as one function taking the path
and returning the summary, and one entry in FORMATS.
"""

import json
import sys


def sarif(path):
    """SARIF 2.1.0, loaded into sarif-pydantic's model of the spec. Summary:
    {"version", "schema", "unknown": [path of a property the model does not know],
     "runs": [{"tool", "version", "execution_successful",
     "notifications": [text], "rules": [{"id", "name", "short", "help_markdown"}],
     "results": [{"rule_id", "rule_index", "kind", "level", "message", "fingerprints",
                  "uri", "line", "logical": [fullyQualifiedName]}]}]}"""
    import sarif_pydantic

    log = sarif_pydantic.load(path)
    return {
        "version": log.version,
        "schema": log.schema_uri,
        "unknown": sorted(unknown_properties(log, "")),
        "runs": [sarif_run(run) for run in log.runs],
    }


def unknown_properties(value, path):
    """Every property sarif-pydantic's model does not know, as a path (`/runs/0/tool/x`):
    its models accept unknown properties silently, so a misspelt name would otherwise pass."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        found = []
        for name in value.model_extra or {}:
            if (type(value).__name__, name) == ("Invocation", "toolExecutionNotifications"):
                found.extend(unknown_properties(notifications(value), f"{path}/{name}"))
            else:
                found.append(f"{path}/{name}")
        for name in type(value).model_fields:
            found.extend(unknown_properties(getattr(value, name), f"{path}/{name}"))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in unknown_properties(item, f"{path}/{i}")]
    return []


def sarif_run(run):
    driver = run.tool.driver
    invocations = run.invocations or []
    return {
        "tool": driver.name,
        "version": driver.version,
        "execution_successful": all(i.execution_successful for i in invocations),
        "notifications": [n.message.text for i in invocations for n in notifications(i)],
        "rules": [
            {
                "id": rule.id,
                "name": rule.name,
                "short": rule.short_description.text if rule.short_description else None,
                "help_markdown": rule.help.markdown if rule.help else None,
            }
            for rule in driver.rules or []
        ],
        "results": [sarif_result(result) for result in run.results or []],
    }


def notifications(invocation):
    """The invocation's toolExecutionNotifications (SARIF §3.20.21): sarif-pydantic 0.6.2's
    Invocation has no field for them and keeps them as raw extras, so they are read here
    with its Notification model."""
    from sarif_pydantic.sarif import Notification

    raw = (invocation.model_extra or {}).get("toolExecutionNotifications") or []
    return [Notification.model_validate(n) for n in raw]


def sarif_result(result):
    location = (result.locations or [None])[0]
    physical = location.physical_location if location else None
    return {
        "rule_id": result.rule_id,
        "rule_index": result.rule_index,
        "kind": result.kind,
        "level": result.level.value if result.level else None,
        "message": result.message.text,
        "fingerprints": result.partial_fingerprints or {},
        "uri": physical.artifact_location.uri if physical else None,
        "line": physical.region.start_line if physical and physical.region else None,
        "logical": [
            logical.fully_qualified_name
            for logical in (location.logical_locations or [] if location else [])
        ],
    }


def junit(path):
    """JUnit XML, read by junitparser. Summary:
    {"name", "declared": {"tests", "failures", "errors", "skipped"},
     "suites": [{"name", "declared": {...}, "properties": {name: value},
                 "cases": [{"classname", "name", "outcome": passed|failure|error|skipped,
                            "type", "message", "text", "system_out"}]}]}
    `declared` is what the attributes say; the cases are what is there, to be counted."""
    import xml.etree.ElementTree as ElementTree

    from junitparser import JUnitXml

    # junitparser wraps a bare <testsuite> root in a <testsuites> of its own: ask first.
    root = ElementTree.parse(path).getroot().tag
    if root != "testsuites":
        raise ValueError(f"the root element is <{root}>, not <testsuites>")
    xml = JUnitXml.fromfile(path)
    return {
        "name": xml.name,
        "declared": junit_counts(xml),
        "suites": [junit_suite(suite) for suite in xml],
    }


def junit_counts(element):
    return {
        "tests": element.tests,
        "failures": element.failures,
        "errors": element.errors,
        "skipped": element.skipped,
    }


def junit_suite(suite):
    return {
        "name": suite.name,
        "declared": junit_counts(suite),
        "properties": {p.name: p.value for p in suite.properties()},
        "cases": [junit_case(case) for case in suite],
    }


def junit_case(case):
    from junitparser import Error, Failure, Skipped

    outcomes = {Failure: "failure", Error: "error", Skipped: "skipped"}
    results = case.result
    if len(results) > 1:
        raise ValueError(f"test case {case.name!r} has {len(results)} results")
    result = results[0] if results else None
    return {
        "classname": case.classname,
        "name": case.name,
        "outcome": outcomes.get(type(result), "passed") if result is not None else "passed",
        "type": result.type if result is not None else None,
        "message": result.message if result is not None else None,
        "text": result.text if result is not None else None,
        "system_out": case.system_out,
    }


FORMATS = {
    "sarif": sarif,
    "junit": junit,
}


def main(argv):
    if len(argv) != 3 or argv[1] not in FORMATS:
        print(f"usage: {argv[0]} {{{','.join(sorted(FORMATS))}}} FILE", file=sys.stderr)
        return 2
    try:
        summary = FORMATS[argv[1]](argv[2])
    except Exception as error:  # the reader's refusal, whatever its kind, is the answer
        print(f"{argv[1]}: {argv[2]} does not load: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    json.dump(summary, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
