//! `pattern sql`: the DuckDB query of every built-in control, run over the real CloudTrail
//! records, selects exactly what `pattern test` selects; on generated patterns and records it
//! never selects fewer, and where it selects more a comment of the query says why. The Athena
//! queries are parsed as Trino SQL. DuckDB and sqlglot run in one Python process
//! (tests/emulator/sql_cases.py) for all queries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cis_fix::pattern::sql::{duckdb_columns, query, table_holds, Dialect, TableName};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::harness::{python, stderr, stdout};
use crate::verdicts::offline;

/// One query for sql_cases.py.
struct Case {
    id: String,
    dialect: &'static str,
    sql: String,
}

/// What sql_cases.py says: the event ids each DuckDB query selected, and the queries that failed.
struct Ran {
    selected: BTreeMap<String, BTreeSet<String>>,
    errors: BTreeMap<String, String>,
}

fn run_cases(dir: &Path, records: &Path, cases: &[Case]) -> Ran {
    let spec = json!({
        "columns": duckdb_columns(),
        "records": records,
        "cases": cases.iter().map(|c| json!({"id": c.id, "dialect": c.dialect, "sql": c.sql})).collect::<Vec<_>>(),
    });
    let spec_path = dir.join("cases.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/sql_cases.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(&spec_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "sql_cases.py: {}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap_or_default().to_string())
            .collect()
    };
    Ran {
        selected: answer["selected"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), ids(v)))
            .collect(),
        errors: answer["errors"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
    }
}

/// Every real record the repository holds: Panther's rule tests, the hardened catalog's
/// records and Stratus Red Team's, each given a unique `eventID` (`r0`, `r1`, …; many share
/// `1` or have none) so that both sides name it. No catalog pattern reads `eventID`.
fn real_records() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
    let mut records: Vec<Value> = Vec::new();
    for line in read("plans/techniques/panther-benign.jsonl").lines() {
        records.push(serde_json::from_str(line).unwrap());
    }
    for line in read("src/catalog/testdata/hardened-records.jsonl").lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        records.push(entry["record"].clone());
    }
    let stratus: Value =
        serde_json::from_str(&read("plans/techniques/stratus-red-team.json")).unwrap();
    for technique in stratus["techniques"].as_array().unwrap() {
        for event in technique["events"].as_array().unwrap() {
            records.push(event["record"].clone());
        }
    }
    for (i, record) in records.iter_mut().enumerate() {
        record["eventID"] = json!(format!("r{i}"));
    }
    records
}

fn write_jsonl(path: &Path, records: &[Value]) {
    let text: Vec<String> = records.iter().map(Value::to_string).collect();
    std::fs::write(path, text.join("\n") + "\n").unwrap();
}

/// The event ids `pattern test` (the binary) selects for a control.
fn pattern_test(benchmark: &str, id: &str, records: &Path) -> BTreeSet<String> {
    let file = records.to_str().unwrap();
    let out = offline(
        &[
            "pattern",
            "test",
            "--benchmark",
            benchmark,
            "--control",
            id,
            "--format",
            "json",
            file,
        ],
        None,
    );
    assert!(out.status.success(), "{benchmark} {id}: {}", stderr(&out));
    let answer: Value = serde_json::from_str(&stdout(&out)).unwrap();
    answer["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["event_id"].as_str().unwrap().to_string())
        .collect()
}

fn pattern_sql(benchmark: &str, id: &str, dialect: &str) -> String {
    let out = offline(
        &[
            "pattern",
            "sql",
            "--benchmark",
            benchmark,
            "--control",
            id,
            "--dialect",
            dialect,
        ],
        None,
    );
    assert!(out.status.success(), "{benchmark} {id}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn every_builtin_control_selects_in_duckdb_what_pattern_test_selects() {
    let dir = tempfile::tempdir().unwrap();
    let records_path = dir.path().join("records.jsonl");
    let all = real_records();
    // A record of a shape the table cannot hold (a Panther test's `resources` element that is
    // a string) fails Athena and DuckDB alike; CloudTrail writes none.
    let records: Vec<Value> = all.iter().filter(|r| table_holds(r)).cloned().collect();
    assert!(
        all.len() - records.len() <= 2,
        "{} left out",
        all.len() - records.len()
    );
    write_jsonl(&records_path, &records);
    let mut cases = Vec::new();
    let mut expected = BTreeMap::new();
    for benchmark in cis_fix::catalog::builtin_names() {
        let catalog = cis_fix::catalog::load_builtin(benchmark).unwrap();
        for control in &catalog.controls {
            assert!(!control.pattern_text.contains("eventID"), "{}", control.id);
            let key = format!("{benchmark} {}", control.id);
            for dialect in ["duckdb", "athena"] {
                cases.push(Case {
                    id: format!("{key} {dialect}"),
                    dialect,
                    sql: pattern_sql(benchmark, &control.id, dialect),
                });
            }
            expected.insert(key, pattern_test(benchmark, &control.id, &records_path));
        }
    }
    let ran = run_cases(dir.path(), &records_path, &cases);
    assert!(ran.errors.is_empty(), "{:#?}", ran.errors);
    let mut matched = 0;
    for (key, want) in &expected {
        let got = &ran.selected[&format!("{key} duckdb")];
        assert_eq!(
            got, want,
            "{key}: DuckDB selected {got:?}, pattern test {want:?}"
        );
        matched += want.len();
    }
    // The records exercise the patterns: most controls match some of them.
    let controls_matching = expected.values().filter(|ids| !ids.is_empty()).count();
    assert!(expected.len() > 100, "{}", expected.len());
    assert!(
        controls_matching * 2 > expected.len(),
        "{controls_matching} of {}",
        expected.len()
    );
    assert!(matched > 500, "{matched}");
    eprintln!(
        "{} records; {} controls, {controls_matching} matching some; {matched} matches, equal in DuckDB",
        records.len(),
        expected.len()
    );
}

// ---- generated patterns and records ----

/// Fields of every kind the table has: text columns, struct fields, an array's struct, the
/// JSON-text columns and paths inside them, and containers.
const SELECTORS: &[&str] = &[
    "$.eventName",
    "$.errorCode",
    "$.readOnly",
    "$.userIdentity.type",
    "$.userIdentity.invokedBy",
    "$.userIdentity.sessionContext.attributes.mfaAuthenticated",
    "$.resources[0].ARN",
    "$.resources[1].type",
    "$.requestParameters",
    "$.requestParameters.a",
    "$.requestParameters.b[0]",
    "$.requestParameters.x-y",
    "$.additionalEventData.MFAUsed",
    "$.responseElements.c.d",
];

/// Containers take `IS NULL` and `NOT EXISTS` only (anything else is refused, checked apart).
const CONTAINERS: &[&str] = &["$.userIdentity", "$.resources", "$.resources[0]"];

/// String values in the patterns' and the records' vocabulary, with LIKE's and SQL's special
/// characters, a middle star, a number's and a boolean's text, an empty string.
const WORDS: &[&str] = &[
    "a", "ab", "ba", "Yes", "No", "5", "5.0", "true", "x%_y", "x'y", "A*B", "é", "", "{}", "a\nb",
];

const GLOBS: &[&str] = &[
    "a", "a*", "*b", "*", "**", "Yes", "5", "tru*", "x%_y", "x'y", "A*B", "*%*", "é*", "", "{*",
    "*a*", "a\nb",
];

const REGEXES: &[&str] = &[
    "^a", "b$", "a.b", "[0-9]", "Y|N", "^$", "x'", "^(ab)+$", "[^a]",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(|w| json!(w)),
        2 => proptest::sample::select(&[5.0, 0.5, -1.0, 1000.0, 5.5][..]).prop_map(|n| json!(n)),
        1 => Just(json!(5)),
        1 => any::<bool>().prop_map(|b| json!(b)),
        1 => Just(Value::Null),
    ]
}

/// A value for a leaf: a scalar, sometimes an object or an array.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => scalar(),
        1 => scalar().prop_map(|v| json!({"k": v})),
        1 => scalar().prop_map(|v| json!([v])),
    ]
}

/// An object with some of these keys (a key left out is a missing field).
fn object(keys: &'static [&'static str], value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    proptest::collection::vec(proptest::option::of(value), keys.len())
        .prop_map(move |values| {
            let map: serde_json::Map<String, Value> = keys
                .iter()
                .zip(values)
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
                .collect();
            Value::Object(map)
        })
        .boxed()
}

/// A field that is an object, null or missing (the table's struct and JSON-text columns hold
/// no other value: docs/sql.md).
fn object_or_null(inner: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![4 => inner, 1 => Just(Value::Null)].boxed()
}

fn record() -> impl Strategy<Value = Value> {
    let session = object(
        &["attributes"],
        object_or_null(object(&["mfaAuthenticated"], leaf().boxed())),
    );
    let identity = (
        object(&["type", "invokedBy"], leaf().boxed()),
        proptest::option::of(object_or_null(session)),
    )
        .prop_map(|(mut identity, session)| {
            if let Some(session) = session {
                identity["sessionContext"] = session;
            }
            identity
        })
        .boxed();
    let resource = object(&["ARN", "type"], leaf().boxed());
    let resources = prop_oneof![
        3 => proptest::collection::vec(object_or_null(resource), 0..3).prop_map(Value::Array),
        1 => Just(Value::Null),
    ];
    let json_column = |keys: &'static [&'static str]| {
        object_or_null(object(
            keys,
            prop_oneof![
                4 => leaf(),
                1 => proptest::collection::vec(scalar(), 0..2).prop_map(Value::Array),
                1 => object(&["d"], leaf().boxed()),
            ]
            .boxed(),
        ))
    };
    let top = (
        proptest::option::of(leaf()),
        proptest::option::of(leaf()),
        proptest::option::of(leaf()),
        proptest::option::of(object_or_null(identity)),
        proptest::option::of(resources),
        proptest::option::of(json_column(&["a", "b", "x-y"])),
        proptest::option::of(json_column(&["MFAUsed"])),
        proptest::option::of(json_column(&["c"])),
    );
    top.prop_map(
        |(name, code, read_only, identity, resources, request, additional, response)| {
            let mut map = serde_json::Map::new();
            for (key, value) in [
                ("eventName", name),
                ("errorCode", code),
                ("readOnly", read_only),
                ("userIdentity", identity),
                ("resources", resources),
                ("requestParameters", request),
                ("additionalEventData", additional),
                ("responseElements", response),
            ] {
                if let Some(value) = value {
                    map.insert(key.into(), value);
                }
            }
            Value::Object(map)
        },
    )
}

/// A pattern's quoted string: only `"` and `\\` are escaped in the pattern language.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn atom() -> impl Strategy<Value = String> {
    let on_field = (
        proptest::sample::select(SELECTORS),
        prop_oneof![
            4 => (any::<bool>(), proptest::sample::select(GLOBS))
                .prop_map(|(neg, g)| format!("{} {}", if neg { "!=" } else { "=" }, quoted(g))),
            2 => (
                proptest::sample::select(&["=", "!=", "<", ">", "<=", ">="][..]),
                proptest::sample::select(&["5", "0.5", "-1", "1e3", "5.5"][..])
            )
                .prop_map(|(op, n)| format!("{op} {n}")),
            2 => (any::<bool>(), proptest::sample::select(REGEXES))
                .prop_map(|(neg, r)| format!("{} %{}%", if neg { "!=" } else { "=" }, r)),
            1 => proptest::sample::select(&["IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"][..])
                .prop_map(String::from),
        ],
    )
        .prop_map(|(selector, test)| format!("{selector} {test}"));
    let on_container = (
        proptest::sample::select(CONTAINERS),
        proptest::sample::select(&["IS NULL", "NOT EXISTS"][..]),
    )
        .prop_map(|(selector, test)| format!("{selector} {test}"));
    prop_oneof![8 => on_field, 1 => on_container]
}

fn expr() -> impl Strategy<Value = String> {
    atom()
        .prop_map(|a| format!("({a})"))
        .prop_recursive(3, 12, 3, |inner| {
            (proptest::collection::vec(inner, 2..4), any::<bool>()).prop_map(|(parts, and)| {
                format!("({})", parts.join(if and { " && " } else { " || " }))
            })
        })
}

/// `n` values of a strategy from a fixed seed: the same cases on every run.
fn sample<S: Strategy>(strategy: S, n: usize, runner: &mut TestRunner) -> Vec<S::Value> {
    (0..n)
        .map(|_| strategy.new_tree(runner).unwrap().current())
        .collect()
}

#[test]
fn on_generated_patterns_the_query_never_selects_fewer_and_says_why_it_selects_more() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let mut records = sample(record(), 400, &mut runner);
    assert!(records.iter().all(table_holds));
    for (i, record) in records.iter_mut().enumerate() {
        record["eventID"] = json!(format!("g{i}"));
    }
    let patterns: Vec<String> = sample(expr(), 400, &mut runner)
        .into_iter()
        .map(|e| format!("{{ {e} }}"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let records_path = dir.path().join("records.jsonl");
    write_jsonl(&records_path, &records);
    let mut cases = Vec::new();
    let mut translated = BTreeMap::new();
    let mut unparsed = 0;
    for (i, text) in patterns.iter().enumerate() {
        // A pattern holds at most two regexes; the generator does not count them.
        let Ok(pattern) = cis_fix::pattern::parse(text) else {
            unparsed += 1;
            continue;
        };
        let table = TableName::default();
        let (Ok(duck), Ok(athena)) = (
            query(&pattern, Dialect::DuckDb, &table),
            query(&pattern, Dialect::Athena, &table),
        ) else {
            continue;
        };
        cases.push(Case {
            id: format!("{i} duckdb"),
            dialect: "duckdb",
            sql: duck.text.clone(),
        });
        cases.push(Case {
            id: format!("{i} athena"),
            dialect: "athena",
            sql: athena.text,
        });
        translated.insert(i, (pattern, duck));
    }
    // Only regexes outside the common core are refused here, and none are generated.
    assert_eq!(translated.len() + unparsed, patterns.len());
    assert!(unparsed * 5 < patterns.len(), "{unparsed} did not parse");
    let ran = run_cases(dir.path(), &records_path, &cases);
    assert!(ran.errors.is_empty(), "{:#?}", ran.errors);
    let (mut exact, mut more, mut matched) = (0, 0, 0);
    for (i, (pattern, duck)) in &translated {
        let got = &ran.selected[&format!("{i} duckdb")];
        let want: BTreeSet<String> = records
            .iter()
            .filter(|r| pattern.matches(r))
            .map(|r| r["eventID"].as_str().unwrap().to_string())
            .collect();
        let text = &patterns[*i];
        assert!(
            want.is_subset(got),
            "{text}: SQL missed {:?}\n{}",
            want.difference(got),
            duck.text
        );
        for id in got.difference(&want) {
            let record = &records[id[1..].parse::<usize>().unwrap()];
            assert!(
                duck.caveats.iter().any(|c| c.explains(record)),
                "{text}: SQL selected {record} with no caveat explaining it\n{}",
                duck.text
            );
        }
        matched += want.len();
        if got == &want {
            exact += 1
        } else {
            more += 1
        }
    }
    // The generated cases reach both outcomes and match events.
    assert!(more > 20 && exact > 100, "{exact} exact, {more} more");
    assert!(matched > 2000, "{matched}");
    eprintln!("{} patterns over {} records: {exact} exact, {more} selecting more (each explained); {matched} matches", translated.len(), records.len());
}

#[test]
fn what_cannot_be_translated_is_one_line_and_exit_1() {
    for (args, says) in [
        (
            vec!["--pattern", "{ $.managementEvent IS TRUE }"],
            "has no column",
        ),
        (vec!["--pattern", r"{ $.eventName = %\d+% }"], "`\\d`"),
        (
            vec!["--pattern", "{ $.userIdentity = Root }"],
            "is a struct",
        ),
        (
            vec![
                "--pattern",
                "{ $.eventName = x }",
                "--table",
                "t; DROP TABLE t",
            ],
            "--table",
        ),
        (vec!["--pattern", "{ $.eventName = }"], "does not parse"),
    ] {
        let mut full = vec!["pattern", "sql"];
        full.extend(args.iter().copied());
        let out = offline(&full, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(stdout(&out).is_empty());
    }
}
