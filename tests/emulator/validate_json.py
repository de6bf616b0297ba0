"""Validates JSON documents against a JSON Schema (draft 2020-12).

    python validate_json.py SCHEMA_FILE < DOCUMENT.json
    python validate_json.py --serve

The integration tests check every plan, organization plan and saved plan cis-fix writes
against the schemas committed in `schemas/` (`cis-fix schema ...`) with this: a validator
other than the one that wrote the schemas (schemars) checks that what cis-fix writes is what
it publishes.

With SCHEMA_FILE: validates the one document on stdin. Exits 0 when it is valid; otherwise
prints every error (where in the document, and what) on stderr and exits 1; exits 2 when the
schema is not a valid 2020-12 schema, or the input is not JSON.

With --serve (one process for a whole test run, instead of one per document): reads requests
{"schema": SCHEMA_FILE, "document": ...}, one JSON object a line, and answers each with one
line {"errors": [...]}, empty when the document is valid. Exits at the end of its input.
"""

import json
import sys

import jsonschema
from jsonschema import Draft202012Validator

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def where(error):
    """A JSON pointer to the part of the document that failed."""
    return "/" + "/".join(str(p) for p in error.absolute_path)


def describe(error, indent=""):
    """The error, and for oneOf/anyOf the reason each alternative failed."""
    lines = [f"{indent}{where(error)}: {error.message}"]
    for sub in sorted(error.context or [], key=lambda e: list(e.relative_schema_path)):
        lines.extend(describe(sub, indent + "    "))
    return lines


def validator(schema):
    """A validator for `schema`; raises jsonschema.SchemaError when it is not a valid 2020-12
    schema."""
    if schema.get("$schema") != DIALECT:
        raise jsonschema.SchemaError(f"$schema is {schema.get('$schema')!r}, not {DIALECT}")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(checker, document):
    """Every validation error of `document`, as lines."""
    found = sorted(checker.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [line for error in found for line in describe(error)]


def serve(requests, answers):
    """Answers each request line of `requests` on `answers` (see the module's doc)."""
    checkers = {}
    for line in requests:
        try:
            request = json.loads(line)
            path = request["schema"]
            if path not in checkers:
                with open(path, encoding="utf-8") as f:
                    checkers[path] = validator(json.load(f))
            found = errors(checkers[path], request["document"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            found = [f"bad request: {e!r}"]
        except jsonschema.SchemaError as e:
            found = [f"not a valid 2020-12 schema: {e.message}"]
        answers.write(json.dumps({"errors": found}) + "\n")
        answers.flush()
    return 0


def main(argv):
    if argv[1:] == ["--serve"]:
        return serve(sys.stdin, sys.stdout)
    if len(argv) != 2:
        print("usage:\n" + "\n".join(__doc__.splitlines()[2:4]), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read the schema {argv[1]}: {e}", file=sys.stderr)
        return 2
    try:
        document = json.load(sys.stdin)
    except ValueError as e:
        print(f"the document is not JSON: {e}", file=sys.stderr)
        return 2
    try:
        found = errors(validator(schema), document)
    except jsonschema.SchemaError as e:
        print(f"{argv[1]} is not a valid 2020-12 schema: {e.message}", file=sys.stderr)
        return 2
    if found:
        print(f"the document does not match {argv[1]}:", file=sys.stderr)
        for line in found:
            print("  " + line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
