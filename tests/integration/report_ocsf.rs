//! `cis-fix report --format ocsf` (issue 22): every event loads into py-ocsf-models'
//! Compliance Finding (tests/emulator/validate_ocsf.py), one per control and account, and
//! each one's compliance status is the plan's, control by control, on the demo account and
//! across an organization; the finding uids are the same from one run to the next.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{path_in_repo, python, stderr, validate, Account};

const CONTROLS: &str = "5.1,5.3,5.6";

/// validate_ocsf.py's summary of `file`, and whether it passed.
fn validate_ocsf(file: &Path) -> (bool, Value) {
    let out = Command::new(python())
        .arg(path_in_repo("tests/emulator/validate_ocsf.py"))
        .arg(file)
        .output()
        .expect("run validate_ocsf.py");
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validate_ocsf.py did not print JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), summary)
}

/// `cis-fix report --format ocsf --out FILE` plus `args`: its exit code and the validator's
/// results, every event valid.
fn ocsf_report(account: &Account, args: &[&str], file: &Path) -> (Option<i32>, Vec<Value>) {
    let mut all = vec![
        "report",
        "--format",
        "ocsf",
        "--out",
        file.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = account.run(&all);
    assert!(file.is_file(), "no report: {}", stderr(&out));
    let (valid, summary) = validate_ocsf(file);
    assert!(valid, "events py-ocsf-models rejects: {summary:#}");
    assert_eq!(summary["errors"], serde_json::json!([]));
    let results = summary["results"].as_array().unwrap().clone();
    assert_eq!(summary["events"], results.len());
    (out.status.code(), results)
}

/// The OCSF `compliance.status_id` and `status_code` a plan's control maps to.
fn expected(control: &Value) -> (u64, &'static str) {
    let codes: Vec<&str> = control["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    let pending = !codes.is_empty() && codes.iter().all(|c| *c == "subscription_pending");
    match control["status"].as_str().unwrap() {
        "compliant" => (1, "compliant"),
        "non_compliant" if pending => (2, "awaiting_confirmation"),
        "non_compliant" => (3, "non_compliant"),
        "blocked" => (3, "blocked"),
        "not_auditable" => (2, "not_auditable"),
        other => panic!("a status the report does not know: {other}"),
    }
}

/// Asserts that `results` state exactly the plan's (account, control) pairs, in order, each
/// with the status it maps to; returns the status codes seen.
fn assert_agrees(results: &[Value], plan: &[(String, Vec<Value>)]) -> Vec<String> {
    let pairs: Vec<(&str, &Value)> = plan
        .iter()
        .flat_map(|(account, controls)| controls.iter().map(move |c| (account.as_str(), c)))
        .collect();
    assert_eq!(results.len(), pairs.len(), "{results:#?}");
    for (result, (account, control)) in results.iter().zip(pairs) {
        let (status_id, code) = expected(control);
        assert_eq!(result["account"], account, "{result}");
        assert_eq!(result["control"], control["id"], "{result}");
        assert_eq!(result["status_id"], status_id, "{result} vs {control:#}");
        assert_eq!(result["status_code"], code, "{result} vs {control:#}");
    }
    results
        .iter()
        .map(|r| r["status_code"].as_str().unwrap().to_string())
        .collect()
}

fn uids(results: &[Value]) -> Vec<&str> {
    results.iter().map(|r| r["uid"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_demo_accounts_ocsf_report_validates_and_agrees_with_the_plan() {
    let account = Account::demo().await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.ocsf.jsonl");
    let (code, results) = ocsf_report(&account, &[], &first);
    assert_eq!(code, Some(0));
    let plan = account.plan(&[]);
    let controls = plan["controls"].as_array().unwrap().clone();
    let codes = assert_agrees(&results, &[(account.id.clone(), controls)]);
    assert!(codes.iter().any(|c| c == "compliant"), "{codes:?}");
    assert!(codes.iter().any(|c| c == "non_compliant"), "{codes:?}");

    // A second run finds the same findings under the same uids.
    let second = dir.path().join("second.ocsf.jsonl");
    let (_, again) = ocsf_report(&account, &[], &second);
    assert_eq!(uids(&results), uids(&again));

    // The validator is not a rubber stamp: a status_id that is no compliance status fails.
    let text = std::fs::read_to_string(&first).unwrap();
    let mut event: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    event["compliance"]["status_id"] = Value::from(7);
    let bad = dir.path().join("bad.ocsf.jsonl");
    std::fs::write(&bad, format!("{event}\n")).unwrap();
    let (valid, summary) = validate_ocsf(&bad);
    assert!(!valid, "{summary:#}");
    assert!(summary["errors"][0]
        .as_str()
        .unwrap()
        .contains("compliance.status_id"));
}

/// `plan --org --format json`'s controls per account, in the plan's order; an account that
/// could not be read has none there, and the report states each selected control of it.
fn org_plan_controls(management: &Account) -> Vec<(String, Vec<Value>)> {
    let out = management.run(&["plan", "--format", "json", "--org", "--controls", CONTROLS]);
    let plan: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(&out)));
    validate(&plan, "org-plan");
    plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut controls = a["controls"].as_array().cloned().unwrap_or_default();
            if a["status"] == "not_auditable" && controls.is_empty() {
                controls = CONTROLS
                    .split(',')
                    .map(|id| serde_json::json!({"id": id, "status": "not_auditable", "findings": []}))
                    .collect();
            }
            (a["account_id"].as_str().unwrap().to_string(), controls)
        })
        .collect()
}

#[tokio::test]
async fn an_organizations_ocsf_report_validates_and_agrees_with_the_org_plan_per_account() {
    let (management, members) = crate::report::organization_with_every_state().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.ocsf.jsonl");
    let args = ["--org", "--controls", CONTROLS];
    let (code, results) = ocsf_report(&management, &args, &file);
    // One account could not be read: the report is written, and the run says so.
    assert_eq!(code, Some(1));
    let plan = org_plan_controls(&management);
    assert_eq!(plan.len(), 4, "{plan:#?}");
    let codes = assert_agrees(&results, &plan);
    for state in [
        "compliant",
        "non_compliant",
        "awaiting_confirmation",
        "not_auditable",
    ] {
        assert!(codes.iter().any(|c| c == state), "{state}: {codes:?}");
    }
    let denied = &members[2].id;
    assert!(results
        .iter()
        .filter(|r| r["account"] == denied.as_str())
        .all(|r| r["status_code"] == "not_auditable"));

    let again = dir.path().join("again.ocsf.jsonl");
    let (_, later) = ocsf_report(&management, &args, &again);
    assert_eq!(uids(&results), uids(&later));
}
