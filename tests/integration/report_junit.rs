//! `cis-fix report --format junit` (issue 22): the file read back by junitparser
//! (`tests/emulator/validate_report.py`) has one test case for every control in every
//! account, whose outcome is the one `cis-fix plan --format json`'s status maps to, on the
//! demo account and across an organization; its counts add up.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::Account;
use crate::report_sarif::{org_plan, org_plan_states, plan_states, read_report, report, States};

/// The JUnit outcome each report state maps to (docs/report.md, "JUnit").
fn outcome(state: &str) -> &'static str {
    match state {
        "compliant" => "passed",
        "non_compliant" | "blocked" => "failure",
        "awaiting_confirmation" => "skipped",
        "not_auditable" => "error",
        other => panic!("unknown state {other}"),
    }
}

/// Every test case's outcome, by (account, control), from junitparser's reading; asserts
/// the declared counts are the cases' own.
fn outcomes(junit: &Value) -> BTreeMap<(String, String), String> {
    assert_eq!(junit["name"], "cis-fix report");
    let mut found = BTreeMap::new();
    let mut total = BTreeMap::<&str, u64>::new();
    for suite in junit["suites"].as_array().unwrap() {
        let cases = suite["cases"].as_array().unwrap();
        let account = suite["properties"]["account_id"].as_str().unwrap();
        assert!(suite["name"].as_str().unwrap().starts_with(account));
        let mut counted = BTreeMap::<&str, u64>::new();
        for case in cases {
            assert_eq!(case["classname"], format!("cis-fix.{account}"));
            let name = case["name"].as_str().unwrap();
            let control = name.split_once(' ').unwrap().0;
            let outcome = case["outcome"].as_str().unwrap();
            *counted.entry(outcome).or_default() += 1;
            if outcome != "passed" {
                assert!(!case["message"].as_str().unwrap().is_empty(), "{case:#}");
            }
            let key = (account.to_string(), control.to_string());
            assert!(
                found.insert(key.clone(), outcome.to_string()).is_none(),
                "two test cases for {key:?}"
            );
        }
        assert_counts(&suite["declared"], cases.len() as u64, &counted);
        for (outcome, n) in counted {
            *total.entry(outcome).or_default() += n;
        }
    }
    assert_counts(&junit["declared"], found.len() as u64, &total);
    found
}

fn assert_counts(declared: &Value, tests: u64, counted: &BTreeMap<&str, u64>) {
    let n = |outcome: &str| counted.get(outcome).copied().unwrap_or(0);
    assert_eq!(declared["tests"], tests, "{declared}");
    assert_eq!(declared["failures"], n("failure"), "{declared}");
    assert_eq!(declared["errors"], n("error"), "{declared}");
    assert_eq!(declared["skipped"], n("skipped"), "{declared}");
}

fn assert_matches_plan(junit: &Value, states: &States) {
    let expected: BTreeMap<_, _> = states
        .iter()
        .map(|(key, state)| (key.clone(), outcome(state).to_string()))
        .collect();
    assert_eq!(outcomes(junit), expected);
}

#[tokio::test]
async fn the_demo_account_s_junit_has_a_test_case_per_control_with_the_plan_s_outcome() {
    let account = Account::demo().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    assert_eq!(report(&account, "junit", &file, &[]), Some(0));
    let junit = read_report("junit", &file);
    let states = plan_states(&account.plan(&[]));
    assert_matches_plan(&junit, &states);
    // A compliant control's test case shows the chain that proves it.
    let passed: Vec<&Value> = junit["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "passed")
        .collect();
    assert!(!passed.is_empty());
    for case in passed {
        let out = case["system_out"].as_str().unwrap_or_default();
        assert!(
            out.starts_with("trail ") && out.contains("-> alarm "),
            "{case:#}"
        );
    }
}

#[tokio::test]
async fn an_organization_s_junit_has_a_suite_per_account_and_a_case_per_control() {
    let (management, [relies, own, denied]) = crate::report::organization_with_every_state().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.xml");
    assert_eq!(report(&management, "junit", &file, &["--org"]), Some(1));
    let junit = read_report("junit", &file);
    let states = org_plan_states(&org_plan(&management, &["--org"]));
    let outcomes: std::collections::BTreeSet<&str> = states.values().map(|s| outcome(s)).collect();
    assert_eq!(
        outcomes.into_iter().collect::<Vec<_>>(),
        ["error", "failure", "passed", "skipped"]
    );
    assert_matches_plan(&junit, &states);
    let suites: Vec<&str> = junit["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["properties"]["account_id"].as_str().unwrap())
        .collect();
    for a in [&management, &relies, &own, &denied] {
        assert!(suites.contains(&a.id.as_str()), "{} missing", a.id);
    }
    let denied_suite = junit["suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["properties"]["account_id"] == denied.id.as_str())
        .unwrap();
    assert_eq!(denied_suite["properties"]["readable"], "false");
    assert!(denied_suite["properties"]["error"]
        .as_str()
        .unwrap()
        .contains("OrganizationAccountAccessRole"));
}
