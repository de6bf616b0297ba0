"""Runs the queries `cis-fix pattern sql` writes, for tests/integration/pattern_sql.rs.

Reads one JSON file: {"columns": DuckDB read_json columns, "records": a JSON-lines file,
"cases": [{"id", "dialect", "sql"}]}. Loads the records once as the CloudTrail table
(`cloudtrail_logs`, AWS's Athena DDL read by DuckDB's read_json), runs every DuckDB query and
parses every Athena query as Trino SQL (sqlglot: Athena's engine cannot run here). Prints
{"selected": {id: [eventid, ...]}, "errors": {id: message}}: a query that fails is reported,
not raised, so that the test names it.
"""

import json
import sys

import duckdb
import sqlglot


def main(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    con = duckdb.connect()
    # Read once into a table; DDL takes no parameters, so the path is a quoted literal.
    records = "'" + spec["records"].replace("'", "''") + "'"
    con.execute(
        f"CREATE TABLE cloudtrail_logs AS SELECT * FROM read_json({records}, "
        f"format = 'newline_delimited', columns = {spec['columns']})"
    )
    selected, errors = {}, {}
    for case in spec["cases"]:
        # The query as printed, its final `;` dropped so that it can be a subquery.
        query = case["sql"].rstrip().removesuffix(";")
        try:
            if case["dialect"] == "duckdb":
                rows = con.execute(f"SELECT eventid FROM (\n{query}\n)").fetchall()
                selected[case["id"]] = [row[0] for row in rows]
            else:
                parsed = sqlglot.parse(query, read="trino")
                if len(parsed) != 1 or parsed[0] is None:
                    errors[case["id"]] = f"{len(parsed)} statements"
                selected[case["id"]] = []
        except Exception as e:  # reported per case, not raised
            errors[case["id"]] = f"{type(e).__name__}: {e}"
    json.dump({"selected": selected, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
