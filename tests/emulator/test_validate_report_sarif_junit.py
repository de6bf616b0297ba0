"""Tests for validate_report.py's `sarif` and `junit` readers: that they refuse what their
reader refuses and report what the integration tests rely on (unknown SARIF properties,
JUnit outcomes and declared counts).

Run from the repo root:
    python -m unittest discover -s tests/emulator -p 'test_validate_report_sarif_junit.py' -v
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "validate_report.py")


def read(fmt, text):
    """(exit code, summary or None, stderr) of validate_report.py FORMAT on `text`."""
    with tempfile.NamedTemporaryFile("w", suffix="." + fmt, delete=False) as f:
        f.write(text)
    try:
        out = subprocess.run(
            [sys.executable, SCRIPT, fmt, f.name], capture_output=True, text=True, check=False
        )
    finally:
        os.unlink(f.name)
    summary = json.loads(out.stdout) if out.returncode == 0 else None
    return out.returncode, summary, out.stderr


def sarif_log(result_extra=None, notification=None):
    result = {
        "ruleId": "5.3",
        "ruleIndex": 0,
        "kind": "fail",
        "level": "error",
        "message": {"text": "5.3 root-account-usage in account 123456789012 is not compliant."},
        "partialFingerprints": {"cisFixAccountControl/v1": "123456789012/5.3"},
    }
    result.update(result_extra or {})
    invocation = {"executionSuccessful": notification is None}
    if notification is not None:
        invocation["toolExecutionNotifications"] = [notification]
    return json.dumps(
        {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "cis-fix", "rules": [{"id": "5.3"}]}},
                    "invocations": [invocation],
                    "results": [result],
                }
            ],
        }
    )


JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="cis-fix report" tests="3" failures="1" errors="0" skipped="1">
  <testsuite name="123456789012" tests="3" failures="1" errors="0" skipped="1">
    <properties><property name="account_id" value="123456789012"/></properties>
    <testcase classname="cis-fix.123456789012" name="5.1 a: A"><system-out>trail</system-out></testcase>
    <testcase classname="cis-fix.123456789012" name="5.3 b: B &amp; C">
      <failure message="non_compliant: x" type="topic_not_subscribed">topic_not_subscribed: x</failure>
    </testcase>
    <testcase classname="cis-fix.123456789012" name="5.6 c: C"><skipped message="awaiting"/></testcase>
  </testsuite>
</testsuites>
"""


class Sarif(unittest.TestCase):
    def test_a_valid_log_is_summarised_with_no_unknown_property(self):
        code, summary, err = read("sarif", sarif_log())
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["unknown"], [])
        result = summary["runs"][0]["results"][0]
        self.assertEqual((result["rule_id"], result["kind"], result["level"]), ("5.3", "fail", "error"))
        self.assertEqual(result["fingerprints"], {"cisFixAccountControl/v1": "123456789012/5.3"})

    def test_a_misspelt_property_is_listed_even_inside_a_notification(self):
        notification = {"level": "error", "message": {"text": "unread"}, "levle": "x"}
        code, summary, err = read("sarif", sarif_log({"ruleIdx": 0}, notification))
        self.assertEqual(code, 0, err)
        self.assertEqual(
            summary["unknown"],
            [
                "/runs/0/invocations/0/toolExecutionNotifications/0/levle",
                "/runs/0/results/0/ruleIdx",
            ],
        )
        self.assertEqual(summary["runs"][0]["notifications"], ["unread"])

    def test_what_the_model_refuses_exits_1(self):
        for bad in [
            sarif_log({"level": "critical"}),  # not a SARIF level
            json.dumps({"version": "2.1.0", "runs": [{"tool": {}}]}),  # no driver
            "{",
        ]:
            code, _, err = read("sarif", bad)
            self.assertEqual(code, 1, bad)
            self.assertIn("does not load", err)


class Junit(unittest.TestCase):
    def test_outcomes_and_declared_counts(self):
        code, summary, err = read("junit", JUNIT)
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["declared"], {"tests": 3, "failures": 1, "errors": 0, "skipped": 1})
        suite = summary["suites"][0]
        self.assertEqual(suite["properties"], {"account_id": "123456789012"})
        outcomes = [(c["name"], c["outcome"], c["type"]) for c in suite["cases"]]
        self.assertEqual(
            outcomes,
            [
                ("5.1 a: A", "passed", None),
                ("5.3 b: B & C", "failure", "topic_not_subscribed"),
                ("5.6 c: C", "skipped", None),
            ],
        )
        self.assertEqual(suite["cases"][0]["system_out"], "trail")

    def test_malformed_xml_and_a_bare_testsuite_exit_1(self):
        for bad in [JUNIT.replace("</testsuites>", ""), '<testsuite name="x" tests="0"/>']:
            code, _, err = read("junit", bad)
            self.assertEqual(code, 1, bad)
            self.assertIn("does not load", err)


if __name__ == "__main__":
    unittest.main()
