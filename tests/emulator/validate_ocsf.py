"""Validates `cis-fix report --format ocsf` output with py-ocsf-models (Prowler's OCSF models).

Usage: validate_ocsf.py FILE

FILE holds JSON Lines, one OCSF event per line. Each is loaded, in pydantic's strict mode,
into py-ocsf-models' ComplianceFinding (OCSF 1.5.0, class 2003); the `cloud` profile's
object, which that model does not declare, into its Cloud model. A key the models would
drop silently (pydantic ignores unknown keys) is an error unless OCSF 1.5.0 defines it and
py-ocsf-models 0.10 does not model it (UNMODELLED, type-checked here). Prints one JSON
summary: {"events": N, "errors": [...], "results": [{uid, account, control, status_id,
status_code}]}; exits 1 when there is any error.
"""

import json
import sys

from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance_status import StatusID
from pydantic import ValidationError

# OCSF 1.5.0 attributes of the compliance object that py-ocsf-models 0.10 has no field for,
# with the type the schema gives them (objects/compliance.json, dictionary.json).
UNMODELLED = {
    ("compliance", "status"): str,
    ("compliance", "status_code"): str,
    ("compliance", "status_details"): list,
}


def dropped(given, kept, path=()):
    """Paths of the keys in `given` that are not in `kept` (the model's dump of it)."""
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield path + (key,)
            else:
                yield from dropped(value, kept[key], path + (key,))
    elif isinstance(given, list) and isinstance(kept, list):
        for index, (a, b) in enumerate(zip(given, kept)):
            yield from dropped(a, b, path + (index,))


def check_unmodelled(event, path):
    """An error for a dropped key OCSF 1.5.0 does not define as UNMODELLED says, or None."""
    kind = UNMODELLED.get(path)
    if kind is None:
        return f"{'.'.join(map(str, path))}: not an attribute py-ocsf-models knows"
    value = event
    for key in path:
        value = value[key]
    if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
        return f"{'.'.join(path)}: not a {kind.__name__} of strings"
    return None


def semantic_errors(event):
    """Rules of the OCSF 1.5.0 schema the models do not enforce."""
    errors = []
    if event.get("type_uid") != event.get("class_uid", 0) * 100 + event.get("activity_id", 0):
        errors.append("type_uid is not class_uid * 100 + activity_id")
    if event.get("class_uid") != 2003 or event.get("category_uid") != 2:
        errors.append("not a Compliance Finding (class_uid 2003, category_uid 2)")
    if event.get("metadata", {}).get("version") != OCSF_VERSION:
        errors.append(f"metadata.version is not {OCSF_VERSION}")
    if "cloud" not in (event.get("metadata", {}).get("profiles") or []):
        errors.append("metadata.profiles does not name the cloud profile")
    compliance = event.get("compliance", {})
    status_id = compliance.get("status_id")
    if status_id in (1, 2, 3) and compliance.get("status") != StatusID(status_id).name:
        errors.append("compliance.status is not the caption of compliance.status_id")
    return errors


def validate_line(line):
    """(errors, result) for one line."""
    try:
        event = json.loads(line)
        finding = ComplianceFinding.model_validate_json(line, strict=True)
        Cloud.model_validate_json(json.dumps(event.get("cloud")), strict=True)
    except (ValueError, ValidationError) as e:
        return [str(e)], None
    kept = finding.model_dump(mode="json")
    kept["cloud"] = event["cloud"]
    errors = [e for p in dropped(event, kept) if (e := check_unmodelled(event, p))]
    errors += semantic_errors(event)
    compliance = event["compliance"]
    result = {
        "uid": event["finding_info"]["uid"],
        "account": event["cloud"]["account"]["uid"],
        "control": compliance.get("control"),
        "status_id": compliance.get("status_id"),
        "status_code": compliance.get("status_code"),
    }
    return errors, result


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.read().splitlines()
    summary = {"events": 0, "errors": [], "results": []}
    for number, line in enumerate(lines, 1):
        errors, result = validate_line(line)
        summary["events"] += 1
        summary["errors"] += [f"line {number}: {e}" for e in errors]
        if result:
            summary["results"].append(result)
    print(json.dumps(summary))
    sys.exit(1 if summary["errors"] else 0)


if __name__ == "__main__":
    main()
