//! `cis-fix report` (issue 22): the evidence document and its text and CSV views, on the demo
//! account and on an organization of four, agreeing with `plan --format json` control by
//! control. The other formats have a file each (`report_*.rs`), read back by their validators.

use serde_json::Value;

use crate::harness::{assert_ok, stderr, stdout, validate, writes, Account};

/// A management account with an organization trail and three members relying on it.
pub(crate) async fn organization_of_four() -> (Account, Vec<Account>) {
    let management = Account::new().await;
    let members = vec![
        Account::new().await,
        Account::new().await,
        Account::new().await,
    ];
    management.organization(&members.iter().collect::<Vec<_>>());
    management
        .organization_trail("org", crate::org::ORG_GROUP)
        .await;
    (management, members)
}

/// `report --format json` (with `args`), validated against `cis-fix schema report`.
pub(crate) fn report_json(account: &Account, args: &[&str]) -> Value {
    let mut all = vec!["report", "--format", "json"];
    all.extend_from_slice(args);
    let out = account.run(&all);
    assert_ok(&out);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&out), stderr(&out)));
    validate(&doc, "report");
    doc
}

/// (account, control) → the plan's status, from `plan --format json` (with `args`): one
/// account's plan or an organization's.
pub(crate) fn plan_statuses(account: &Account, args: &[&str]) -> Vec<(String, String, String)> {
    let plan = match args.contains(&"--org") || args.contains(&"--accounts") {
        false => account.plan(args),
        true => {
            let mut all = vec!["plan", "--format", "json"];
            all.extend_from_slice(args);
            let out = account.run(&all);
            let plan: Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(&out)));
            validate(&plan, "org-plan");
            plan
        }
    };
    let accounts: Vec<Value> = match plan["accounts"].as_array() {
        Some(accounts) => accounts.clone(),
        None => vec![plan.clone()],
    };
    accounts
        .iter()
        .flat_map(|a| {
            let id = a["account_id"].as_str().unwrap().to_string();
            a["controls"].as_array().unwrap().iter().map(move |c| {
                (
                    id.clone(),
                    c["id"].as_str().unwrap().to_string(),
                    c["status"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

/// The state a report gives each plan status: the plan's own, but a non-compliant control
/// whose only findings are pending subscriptions awaits confirmation.
fn state_of(status: &str, codes: &[&str]) -> &'static str {
    match status {
        "compliant" => "compliant",
        "blocked" => "blocked",
        "not_auditable" => "not_auditable",
        _ if !codes.is_empty() && codes.iter().all(|c| *c == "subscription_pending") => {
            "awaiting_confirmation"
        }
        _ => "non_compliant",
    }
}

/// (account, control) → state, from a report document.
fn report_states(report: &Value) -> Vec<(String, String, String)> {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| {
            let id = a["account_id"].as_str().unwrap().to_string();
            a["results"].as_array().unwrap().iter().map(move |r| {
                let codes: Vec<&str> = r["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["code"].as_str().unwrap())
                    .collect();
                let state = r["state"].as_str().unwrap();
                assert_eq!(
                    state,
                    state_of(r["status"].as_str().unwrap(), &codes),
                    "{r:#}"
                );
                (
                    id.clone(),
                    r["id"].as_str().unwrap().to_string(),
                    state.to_string(),
                )
            })
        })
        .collect()
}

/// The report's (account, control, status) in order, as the plan has them.
fn report_statuses(report: &Value) -> Vec<(String, String, String)> {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| {
            let id = a["account_id"].as_str().unwrap().to_string();
            a["results"].as_array().unwrap().iter().map(move |r| {
                (
                    id.clone(),
                    r["id"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn the_demo_accounts_report_agrees_with_its_plan_in_json_text_and_csv() {
    let account = Account::demo().await;
    account.reset_calls();
    let report = report_json(&account, &[]);
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
    assert_eq!(report_statuses(&report), plan_statuses(&account, &[]));
    let states = report_states(&report);
    assert!(
        states.iter().any(|(_, _, s)| s == "compliant"),
        "{states:?}"
    );
    assert!(
        states.iter().any(|(_, _, s)| s == "non_compliant"),
        "{states:?}"
    );
    // Each control names its line in the catalog.
    let first = &report["controls"][0];
    assert_eq!(first["source"]["file"], "plans/cis-7.0.toml");

    // Text: one line per control, with its state.
    let out = account.run(&["report"]);
    assert_ok(&out);
    let text = stdout(&out);
    for (_, control, state) in &states {
        assert!(
            text.lines().any(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.len() >= 2 && words[0] == control && words[1] == state
            }),
            "{control} {state}:\n{text}"
        );
    }

    // CSV: one row per control, read back, the same states in the same order.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("report.csv");
    assert_ok(&account.run(&["report", "--format", "csv", "--out", csv.to_str().unwrap()]));
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), states.len());
    for (row, (account_id, control, state)) in rows.iter().zip(&states) {
        let cell = |name: &str| row[name].as_str().unwrap_or_default().to_string();
        assert_eq!(
            (cell("account_id"), cell("control_id"), cell("state")),
            (account_id.clone(), control.clone(), state.clone())
        );
    }

    // --detailed-exitcode gates CI as plan's does.
    let out = account.run(&["report", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The rows of a CSV file as header → value maps, read by Python's `csv` module.
fn csv_rows(path: &std::path::Path) -> Vec<serde_json::Map<String, Value>> {
    let out = std::process::Command::new(crate::harness::python())
        .args([
            "-c",
            "import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='')))))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Vec<serde_json::Map<String, Value>>>(&out.stdout).unwrap()
}

#[tokio::test]
async fn an_organizations_report_has_every_account_and_agrees_with_its_plan() {
    let (management, members) = organization_of_four().await;
    let report = report_json(&management, &["--org"]);
    let ids: Vec<&str> = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    for member in &members {
        assert!(ids.contains(&member.id.as_str()), "{ids:?}");
    }
    assert_eq!(
        report_statuses(&report),
        plan_statuses(&management, &["--org"])
    );
    report_states(&report);
    assert_eq!(report["summary"]["accounts"], 4);
}
