//! `cis-fix coverage`: offline, its JSON valid against its schema and in agreement with the
//! text view, and the same count for benchmark versions with the same patterns.

use std::process::Command;

use serde_json::Value;

use crate::harness::{isolate, stdout, validate};

fn cis_fix(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.args(args);
    isolate(&mut cmd);
    cmd.output().expect("run cis-fix")
}

/// `coverage` with these arguments: exit 0, and stdout.
fn coverage(args: &[&str]) -> String {
    let mut all = vec!["coverage"];
    all.extend_from_slice(args);
    let out = cis_fix(&all);
    assert_eq!(out.status.code(), Some(0), "{all:?}: {out:?}");
    stdout(&out)
}

fn json(benchmark: &str) -> Value {
    let text = coverage(&["--benchmark", benchmark, "--format", "json"]);
    serde_json::from_str(&text).expect("coverage JSON")
}

#[test]
fn the_json_is_valid_and_agrees_with_the_text() {
    let document = json("cis-5.0");
    validate(&document, "coverage");
    let techniques = document["techniques"].as_array().expect("techniques");
    assert_eq!(document["total"], 44);
    assert_eq!(techniques.len(), 44);
    let with = |status: &str| techniques.iter().filter(|t| t["status"] == status).count();
    let caught = with("caught") + with("caught_only_denied");
    assert_eq!(document["caught"], caught);
    assert_eq!(document["caught_only_denied"], with("caught_only_denied"));
    assert_eq!((caught, with("caught_only_denied")), (12, 3));

    let text = coverage(&["--benchmark", "cis-5.0", "--color", "never"]);
    let summary = format!(
        "cis-5.0 catches {caught} of 44 Stratus Red Team AWS techniques ({} only as denied calls).",
        with("caught_only_denied")
    );
    assert!(text.trim_end().ends_with(&summary), "{text}");
    // Every technique in the table, and every uncaught one again with why.
    for technique in techniques {
        let id = technique["id"].as_str().expect("id");
        let times =
            text.matches(&format!("{id} ")).count() + text.matches(&format!("{id}\n")).count();
        let listed = text.matches(&format!("  {id}: ")).count();
        assert!(times >= 1, "{id} not in the table:\n{text}");
        let caught = technique["status"] == "caught";
        assert_eq!(listed, usize::from(!caught), "{id}:\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "{text}");
}

#[test]
fn benchmark_versions_with_the_same_patterns_catch_the_same_techniques() {
    let (v5, v7) = (json("cis-5.0"), json("cis-7.0"));
    assert_eq!(v7["benchmark"], "cis-7.0");
    for count in [
        "total",
        "caught",
        "caught_only_denied",
        "ambiguous",
        "not_visible",
    ] {
        assert_eq!(v5[count], v7[count], "{count}");
    }
    let ids = |doc: &Value| -> Vec<(Value, Value)> {
        doc["techniques"]
            .as_array()
            .expect("techniques")
            .iter()
            .map(|t| (t["id"].clone(), t["status"].clone()))
            .collect()
    };
    assert_eq!(ids(&v5), ids(&v7));
    // The default is the newest benchmark.
    let default: Value = serde_json::from_str(&coverage(&["--format", "json"])).expect("JSON");
    assert_eq!(default, v7);
}

#[test]
fn it_takes_no_aws_options_and_reads_a_catalog_file() {
    let out = cis_fix(&["coverage", "--profile", "x"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let file = crate::harness::path_in_repo("plans/cis-5.0.toml");
    let text = coverage(&[
        "--catalog",
        file.to_str().expect("path"),
        "--color",
        "never",
    ]);
    assert!(text.contains("cis-5.0 catches 12 of 44"), "{text}");
}
