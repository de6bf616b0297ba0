"""Tests for validate_asff.py: it accepts a well-formed finding and catches each kind of fault.

Run from the repo root:  python -m unittest discover -s tests/emulator -p 'test_validate_asff.py' -v
"""

import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from validate_asff import validate  # noqa: E402

ACCOUNT = "111122223333"
GOOD = {
    "SchemaVersion": "2018-10-08",
    "Id": f"cis-fix/cis-7.0/{ACCOUNT}/us-east-1/root-usage",
    "ProductArn": f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default",
    "GeneratorId": "cis-fix/cis-7.0/5.3",
    "AwsAccountId": ACCOUNT,
    "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"],
    "CreatedAt": "2026-12-07T12:00:00Z",
    "UpdatedAt": "2026-12-07T12:00:00Z",
    "Severity": {"Label": "LOW"},
    "Title": "5.3 Ensure usage of the root account is monitored",
    "Description": "Not compliant in account 111122223333: no metric filter",
    "ProductFields": {"cis-fix/State": "non_compliant"},
    "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{ACCOUNT}", "Partition": "aws"}],
    "Compliance": {"Status": "FAILED", "RelatedRequirements": ["CIS AWS Foundations Benchmark v7.0.0/5.3"],
                   "StatusReasons": [{"ReasonCode": "no_filter", "Description": "no metric filter"}]},
    "RecordState": "ACTIVE",
}


def broken(**changes):
    finding = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            del finding[key]
        else:
            finding[key] = value
    return finding


class ValidateAsffTest(unittest.TestCase):
    def assertCaught(self, finding, words):
        errors = validate([finding])
        self.assertTrue(any(words in e for e in errors), errors)

    def test_a_well_formed_finding_passes(self):
        self.assertEqual(validate([GOOD, GOOD]), [])

    def test_the_models_types_required_members_and_enums(self):
        self.assertCaught(broken(Title=None), "Title")
        self.assertCaught(broken(Compliance={"Status": "COMPLIANT"}), "COMPLIANT")
        self.assertCaught(broken(Resources=[]), "Resources")
        self.assertCaught(broken(Severity={"Label": 3}), "Label")

    def test_the_documented_limits(self):
        self.assertCaught(broken(Title="t" * 257), "over the model's 256")
        self.assertCaught(broken(Description="d" * 1025), "over the model's 1024")
        self.assertCaught(broken(Id="i" * 513), "over the model's 512")
        self.assertCaught(broken(ProductFields={f"k{i}": "v" for i in range(51)}), "over the model's 50")
        self.assertCaught(broken(ProductFields={"k": "v" * 2049}), "2048")
        self.assertCaught(broken(Resources=GOOD["Resources"] * 33), "over the model's 32")
        self.assertCaught(broken(Title="   "), "does not match")

    def test_size_types_and_schema_version(self):
        reasons = [{"ReasonCode": "x", "Description": "y" * 1000} for _ in range(300)]
        self.assertCaught(broken(Compliance={"Status": "FAILED", "StatusReasons": reasons}), "240 KB")
        self.assertCaught(broken(Types=["Compliance/CIS"]), "namespace/category/classifier")
        self.assertCaught(broken(SchemaVersion="2020-01-01"), "2018-10-08")

    def test_not_an_array(self):
        self.assertEqual(validate(GOOD), ["the document is not a JSON array of findings"])


if __name__ == "__main__":
    unittest.main()
