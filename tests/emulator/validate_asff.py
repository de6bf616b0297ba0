#!/usr/bin/env python3
"""Validates an ASFF document (a JSON array of AWS Security Finding Format findings, as
`cis-fix report --format asff` writes it) against botocore's Security Hub service model:

* each finding, with botocore's own ParamValidator, as the `Findings` member of a
  `BatchImportFindings` request (types, required members, enums, list sizes);
* the enums, patterns, length and count limits the model (and its documentation) gives each
  member and that the ParamValidator does not check ("Maximum length of 256", "Maximum number of 32 items",
  "up to 50 key-value pairs ... up to 128 characters ... up to 2048 characters");
* AWS's 240 KB limit on one finding, and the `namespace/category/classifier` form of Types.

Usage: validate_asff.py FILE  (or - for stdin). Prints {"findings": N, "errors": [...]} and
exits 1 when there are errors.
"""

import json
import re
import sys

import botocore.session
from botocore.validate import ParamValidator

MAX_FINDING_BYTES = 240 * 1024
TYPE_NAMESPACES = ("Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors",
                   "Sensitive Data Identifications")

MODEL = botocore.session.get_session().get_service_model("securityhub")
INPUT = MODEL.operation_model("BatchImportFindings").input_shape
FINDING = MODEL.shape_for("AwsSecurityFinding")


def text(documentation):
    return re.sub(r"<[^>]+>", " ", documentation or "")


def documented_limits(shape):
    """(max characters, max items, (pairs, key chars, value chars)) the documentation states."""
    doc = text(getattr(shape, "documentation", ""))
    length = re.search(r"Maximum length of (\d+)", doc)
    items = re.search(r"Maximum number of (\d+) items", doc)
    pairs = re.search(r"up to (\d+) key-value pairs.*?key can contain up to (\d+) characters.*?"
                      r"value can contain up to (\d+) characters", doc)
    return (int(length.group(1)) if length else None,
            int(items.group(1)) if items else None,
            tuple(int(g) for g in pairs.groups()) if pairs else None)


def check_limits(value, shape, path, errors):
    """Walks `value` along `shape`, checking each member against its documented limits."""
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                check_member(value[name], member, f"{path}.{name}", errors)
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            check_limits(item, shape.member, f"{path}[{i}]", errors)


def check_member(value, member, path, errors):
    length, items, pairs = documented_limits(member)
    if length is not None and isinstance(value, str) and len(value) > length:
        errors.append(f"{path}: {len(value)} characters, over the model's {length}")
    if items is not None and isinstance(value, list) and len(value) > items:
        errors.append(f"{path}: {len(value)} items, over the model's {items}")
    if pairs is not None and isinstance(value, dict):
        count, key_max, value_max = pairs
        if len(value) > count:
            errors.append(f"{path}: {len(value)} pairs, over the model's {count}")
        for k, v in value.items():
            if len(k) > key_max or (isinstance(v, str) and len(v) > value_max):
                errors.append(f"{path}[{k!r}]: over the model's {key_max}/{value_max} characters")
    enum = member.metadata.get("enum")
    if enum and isinstance(value, str) and value not in enum:
        # Nor enums.
        errors.append(f"{path}: {value!r} is not one of {enum}")
    least = re.search(r"Minimum number of (\d+) item", text(getattr(member, "documentation", "")))
    if least and isinstance(value, list) and len(value) < int(least.group(1)):
        errors.append(f"{path}: {len(value)} items, under the model's {least.group(1)}")
    if member.type_name == "string" and isinstance(value, str) and "pattern" in member.metadata:
        # The ParamValidator does not check patterns (`.*\S.*` for NonEmptyString).
        if not re.fullmatch(member.metadata["pattern"], value, re.DOTALL):
            errors.append(f"{path}: {value!r} does not match {member.metadata['pattern']}")
    check_limits(value, member, path, errors)


def validate(findings):
    if not isinstance(findings, list):
        return ["the document is not a JSON array of findings"]
    errors = []
    validator = ParamValidator()
    for i, finding in enumerate(findings):
        path = f"Findings[{i}]"
        report = validator.validate({"Findings": [finding]}, INPUT)
        if report.has_errors():
            errors.append(f"{path}: {report.generate_report()}")
        if not isinstance(finding, dict):
            continue
        check_limits(finding, FINDING, path, errors)
        size = len(json.dumps(finding, separators=(",", ":")).encode())
        if size > MAX_FINDING_BYTES:
            errors.append(f"{path}: {size} bytes, over the 240 KB limit")
        for t in finding.get("Types", []):
            parts = t.split("/")
            if not (1 <= len(parts) <= 3 and parts[0] in TYPE_NAMESPACES):
                errors.append(f"{path}.Types: {t!r} is not namespace/category/classifier")
        if finding.get("SchemaVersion") != "2018-10-08":
            errors.append(f"{path}.SchemaVersion: {finding.get('SchemaVersion')!r}, not 2018-10-08")
    return errors


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source = sys.stdin if argv[1] == "-" else open(argv[1], encoding="utf-8")
    with source:
        findings = json.load(source)
    errors = validate(findings)
    print(json.dumps({"findings": len(findings) if isinstance(findings, list) else 0,
                      "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
