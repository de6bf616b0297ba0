"""Tests for validate_json.py, against the committed schemas.

Run from the repo root:  python -m unittest discover -s tests/emulator -p 'test_validate_json.py' -v
"""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "schemas")
SCRIPT = os.path.join(HERE, "validate_json.py")


def plan():
    """A small plan, as `cis-fix plan --format json` prints it."""
    return {
        "format_version": 2,
        "account_id": "111122223333",
        "region": "us-east-1",
        "benchmark": "cis-5.0",
        "trails": [],
        "controls": [],
        "actions": [
            {
                "mode": "create",
                "control": None,
                "region": "us-east-1",
                "reason": "no topic",
                "action": "subscribe",
                "topic_arn": "arn:aws:sns:us-east-1:111122223333:cis-fix-alerts",
                "protocol": "email",
                "endpoint": "s****@example.com",
            }
        ],
        "summary": {
            "compliant": 0,
            "non_compliant": 0,
            "blocked": 0,
            "not_auditable": 0,
            "to_create": 1,
            "to_change": 0,
        },
    }


def validate(document, schema="plan"):
    """validate_json.py SCHEMA_FILE < document."""
    return subprocess.run(
        [sys.executable, SCRIPT, os.path.join(SCHEMAS, f"{schema}.schema.json")],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        check=False,
    )


class ValidateJson(unittest.TestCase):
    def test_a_valid_plan_passes(self):
        out = validate(plan())
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_errors_say_where_and_what(self):
        document = plan()
        del document["summary"]["to_change"]
        document["actions"][0]["action"] = "unsubscribe"
        out = validate(document)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("/summary: 'to_change' is a required property", out.stderr)
        self.assertIn("/actions/0: ", out.stderr)
        self.assertIn("'subscribe' was expected", out.stderr)

    def test_the_wrong_kind_of_document_fails(self):
        out = validate(plan(), "saved-plan")
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("'kind' is a required property", out.stderr)

    def test_every_committed_schema_is_a_2020_12_schema(self):
        import validate_json
        from jsonschema import Draft202012Validator

        names = sorted(f for f in os.listdir(SCHEMAS) if f.endswith(".schema.json"))
        self.assertEqual(len(names), 11, names)
        for name in names:
            with open(os.path.join(SCHEMAS, name), encoding="utf-8") as f:
                schema = json.load(f)
            self.assertEqual(schema["$schema"], validate_json.DIALECT, name)
            Draft202012Validator.check_schema(schema)

    def test_serve_answers_a_line_per_request(self):
        requests = [
            {"schema": os.path.join(SCHEMAS, "plan.schema.json"), "document": plan()},
            {"schema": os.path.join(SCHEMAS, "org-plan.schema.json"), "document": plan()},
            {"schema": os.path.join(SCHEMAS, "missing.schema.json"), "document": {}},
        ]
        out = subprocess.run(
            [sys.executable, SCRIPT, "--serve"],
            input="".join(json.dumps(r) + "\n" for r in requests),
            capture_output=True,
            text=True,
            check=True,
        )
        answers = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertEqual(len(answers), 3, out.stdout)
        self.assertEqual(answers[0], {"errors": []})
        self.assertIn("/: 'caller_account_id' is a required property", answers[1]["errors"])
        self.assertIn("bad request", answers[2]["errors"][0])

    def test_not_json_is_a_usage_error(self):
        out = subprocess.run(
            [sys.executable, SCRIPT, os.path.join(SCHEMAS, "plan.schema.json")],
            input="{",
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(out.returncode, 2)
        self.assertIn("not JSON", out.stderr)


if __name__ == "__main__":
    unittest.main()
