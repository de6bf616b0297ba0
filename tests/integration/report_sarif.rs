//! `cis-fix report --format sarif` (issue 22): the file read back by sarif-pydantic (a model
//! of SARIF 2.1.0 we did not write, `tests/emulator/validate_report.py`) holds exactly one
//! result for every control and account that `cis-fix plan --format json` finds not
//! compliant, and none for a compliant one, on the demo account and across an organization.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{path_in_repo, python, stderr, stdout, Account};

/// What the plan says of one control in one account, in the report's terms.
pub(crate) type States = BTreeMap<(String, String), String>;

/// `tests/emulator/validate_report.py FORMAT FILE`: the reader's summary; fails the test when
/// the reader refuses the file.
pub(crate) fn read_report(format: &str, file: &Path) -> Value {
    let out = Command::new(python())
        .arg(path_in_repo("tests/emulator/validate_report.py"))
        .arg(format)
        .arg(file)
        .output()
        .expect("run validate_report.py");
    assert!(
        out.status.success(),
        "{format} reader refused {}: {}\n{}",
        file.display(),
        stderr(&out),
        std::fs::read_to_string(file).unwrap_or_default()
    );
    serde_json::from_slice(&out.stdout).expect("validate_report.py prints JSON")
}

/// `cis-fix report --format FORMAT --out FILE args…`; its exit code.
pub(crate) fn report(account: &Account, format: &str, file: &Path, args: &[&str]) -> Option<i32> {
    let path = file.to_str().unwrap();
    let mut all = vec!["report", "--format", format, "--out", path];
    all.extend_from_slice(args);
    let out = account.run(&all);
    assert!(
        file.is_file(),
        "no report written: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    out.status.code()
}

/// The report state of a plan's control: its status, with a control whose only findings are
/// pending subscriptions told apart (as the report tells them apart).
fn state_of(control: &Value) -> String {
    let status = control["status"].as_str().unwrap().to_string();
    let findings = control["findings"].as_array().unwrap();
    let pending =
        !findings.is_empty() && findings.iter().all(|f| f["code"] == "subscription_pending");
    match (status.as_str(), pending) {
        ("non_compliant", true) => "awaiting_confirmation".to_string(),
        _ => status,
    }
}

/// Every (account, control) of a single-account plan and its state.
pub(crate) fn plan_states(plan: &Value) -> States {
    let account = plan["account_id"].as_str().unwrap();
    plan["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            ((account.to_string(), id), state_of(c))
        })
        .collect()
}

/// Every (account, control) of an organization plan and its state; an account that could
/// not be read has every selected control `not_auditable`.
pub(crate) fn org_plan_states(plan: &Value) -> States {
    let accounts = plan["accounts"].as_array().unwrap();
    let selected: Vec<&str> = accounts
        .iter()
        .flat_map(|a| a["controls"].as_array().unwrap())
        .filter_map(|c| c["id"].as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut states = States::new();
    for account in accounts {
        let id = account["account_id"].as_str().unwrap();
        for control in &selected {
            let found = account["controls"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == *control);
            let state = found.map_or("not_auditable".to_string(), state_of);
            states.insert((id.to_string(), control.to_string()), state);
        }
    }
    states
}

/// `cis-fix plan --format json args…` across accounts, whatever its exit code.
pub(crate) fn org_plan(account: &Account, args: &[&str]) -> Value {
    crate::org::org_plan(account, args).1
}

/// Each result's (account, control) and its (kind, level); asserts there is one at most.
fn results_by_control(run: &Value) -> BTreeMap<(String, String), (String, String)> {
    let mut found = BTreeMap::new();
    for result in run["results"].as_array().unwrap() {
        let fingerprint = result["fingerprints"]["cisFixAccountControl/v1"]
            .as_str()
            .unwrap();
        let (account, control) = fingerprint.split_once('/').unwrap();
        assert_eq!(result["rule_id"], control, "{result:#}");
        assert!(
            result["logical"][0] == format!("aws/{account}"),
            "{result:#}"
        );
        let key = (account.to_string(), control.to_string());
        let kind_level = (
            result["kind"].as_str().unwrap().to_string(),
            result["level"].as_str().unwrap().to_string(),
        );
        assert!(
            found.insert(key.clone(), kind_level).is_none(),
            "two results for {key:?}"
        );
    }
    found
}

/// The SARIF summary holds one result for each control not compliant in `states`, with the
/// kind and level of its state, and none for a compliant one.
fn assert_matches_plan(sarif: &Value, states: &States) {
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    // Every property is one SARIF defines (sarif-pydantic would let a misspelt one pass).
    assert_eq!(sarif["unknown"], serde_json::json!([]), "{sarif:#}");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["tool"], "cis-fix");
    let rules: Vec<&str> = run["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut selected: Vec<&str> = states.keys().map(|(_, c)| c.as_str()).collect();
    selected.sort_unstable();
    selected.dedup();
    let mut sorted_rules = rules.clone();
    sorted_rules.sort_unstable();
    assert_eq!(sorted_rules, selected, "one rule per selected control");
    for result in run["results"].as_array().unwrap() {
        let index = result["rule_index"].as_u64().unwrap() as usize;
        assert_eq!(rules[index], result["rule_id"], "{result:#}");
        assert!(result["uri"].as_str().unwrap().starts_with("plans/cis-"));
        assert!(result["line"].as_u64().unwrap() > 0);
    }
    let found = results_by_control(run);
    let expected: BTreeMap<_, _> = states
        .iter()
        .filter(|(_, state)| *state != "compliant")
        .map(|(key, state)| {
            let kind_level = match state.as_str() {
                "non_compliant" | "blocked" => ("fail", "error"),
                "awaiting_confirmation" => ("fail", "warning"),
                "not_auditable" => ("open", "none"),
                other => panic!("unknown state {other}"),
            };
            (
                key.clone(),
                (kind_level.0.to_string(), kind_level.1.to_string()),
            )
        })
        .collect();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn the_demo_account_s_sarif_has_one_result_per_control_the_plan_finds_not_compliant() {
    let account = Account::demo().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.sarif");
    assert_eq!(report(&account, "sarif", &file, &[]), Some(0));
    let sarif = read_report("sarif", &file);
    let states = plan_states(&account.plan(&[]));
    assert!(states.values().any(|s| s == "compliant"), "{states:?}");
    assert!(states.values().any(|s| s != "compliant"), "{states:?}");
    assert_matches_plan(&sarif, &states);
    assert_eq!(sarif["runs"][0]["execution_successful"], true);

    // The same alerts in a later run: fingerprints are the account and the control.
    let again = dir.path().join("again.sarif");
    report(&account, "sarif", &again, &[]);
    let fingerprints = |log: &Value| -> Vec<Value> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["fingerprints"].clone())
            .collect()
    };
    assert_eq!(
        fingerprints(&read_report("sarif", &again)),
        fingerprints(&sarif)
    );
}

#[tokio::test]
async fn an_organization_s_sarif_has_one_result_per_account_and_control_not_compliant() {
    let (management, [relies, own, denied]) = crate::report::organization_with_every_state().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.sarif");
    // One account could not be read: the report is written, and the run exits 1.
    assert_eq!(report(&management, "sarif", &file, &["--org"]), Some(1));
    let sarif = read_report("sarif", &file);
    let states = org_plan_states(&org_plan(&management, &["--org"]));
    let accounts: std::collections::BTreeSet<&str> =
        states.keys().map(|(a, _)| a.as_str()).collect();
    for a in [&management, &relies, &own, &denied] {
        assert!(accounts.contains(a.id.as_str()), "{} missing", a.id);
    }
    for state in [
        "compliant",
        "non_compliant",
        "awaiting_confirmation",
        "not_auditable",
    ] {
        assert!(states.values().any(|s| s == state), "{state}: {states:?}");
    }
    assert_matches_plan(&sarif, &states);
    let run = &sarif["runs"][0];
    assert_eq!(run["execution_successful"], false);
    let notes = run["notifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].as_str().unwrap().contains(&denied.id), "{notes:?}");
}
