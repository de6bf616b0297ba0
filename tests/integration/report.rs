//! `cis-fix report` (issue 22): the evidence document and its text and CSV views, on the demo
//! account and on an organization of four, agreeing with `plan --format json` control by
//! control. The other formats have a file each (`report_*.rs`), read back by their validators.

use serde_json::Value;

use crate::harness::{assert_ok, stderr, stdout, validate, writes, Account, TrailSpec};

/// A management account with an organization trail and `members` members relying on it.
pub(crate) async fn organization_of(members: usize) -> (Account, Vec<Account>) {
    let management = Account::new().await;
    let mut joined = Vec::new();
    for _ in 0..members {
        joined.push(Account::new().await);
    }
    management.organization(&joined.iter().collect::<Vec<_>>());
    management
        .organization_trail("org", crate::org::ORG_GROUP)
        .await;
    (management, joined)
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
        true => crate::org::org_plan(account, args).1,
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

/// Every (account, control result) of a report document, in order.
fn results(report: &Value) -> Vec<(String, Value)> {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| {
            let id = a["account_id"].as_str().unwrap().to_string();
            let results = a["results"].as_array().unwrap().clone();
            results.into_iter().map(move |r| (id.clone(), r))
        })
        .collect()
}

/// (account, control) → state, from a report document; each state checked against the
/// result's plan status and findings.
fn report_states(report: &Value) -> Vec<(String, String, String)> {
    results(report)
        .into_iter()
        .map(|(id, r)| {
            let codes: Vec<&str> = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap())
                .collect();
            let state = r["state"].as_str().unwrap();
            let expected = state_of(r["status"].as_str().unwrap(), &codes);
            assert_eq!(state, expected, "{r:#}");
            (id, r["id"].as_str().unwrap().to_string(), state.to_string())
        })
        .collect()
}

/// The report's (account, control, status) in order, as the plan has them.
fn report_statuses(report: &Value) -> Vec<(String, String, String)> {
    results(report)
        .into_iter()
        .map(|(id, r)| {
            let field = |name: &str| r[name].as_str().unwrap().to_string();
            (id, field("id"), field("status"))
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
    assert_csv_is(&csv, &states);

    // --detailed-exitcode gates CI as plan's does.
    let out = account.run(&["report", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Asserts that the CSV at `path` has one row per (account, control, state), in order.
fn assert_csv_is(path: &std::path::Path, states: &[(String, String, String)]) {
    let rows = csv_rows(path);
    assert_eq!(rows.len(), states.len());
    for (row, (account_id, control, state)) in rows.iter().zip(states) {
        let cell = |name: &str| row[name].as_str().unwrap_or_default().to_string();
        assert_eq!(
            (cell("account_id"), cell("control_id"), cell("state")),
            (account_id.clone(), control.clone(), state.clone())
        );
    }
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
    let (management, members) = organization_of(3).await;
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
    let states = report_states(&report);
    assert_eq!(report["summary"]["accounts"], 4);
    // CSV: a row per control and account, the JSON's states in the JSON's order.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("org.csv");
    let out = management.run(&[
        "report",
        "--org",
        "--format",
        "csv",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_ok(&out);
    assert_csv_is(&csv, &states);
}

const OWN_GROUP: &str = "cloudtrail/own";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";
const UNAUTHORIZED: &str = "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }";

/// A management account with an organization trail and three members: `relies` on it alone,
/// `own` with a trail of its own, `denied` whose role cannot be assumed. On the organization
/// trail's log group, the chain for unauthorized API calls is whole and the one for console
/// failures notifies a topic whose only subscription is an email not yet confirmed; `own`'s
/// own trail has a whole chain for console failures.
pub(crate) async fn organization_with_every_state() -> (Account, [Account; 3]) {
    let management = Account::new().await;
    let relies = Account::new().await;
    let own = Account::new().await;
    let denied = Account::new().await;
    management.organization(&[&relies, &own, &denied]);
    management
        .organization_trail("org", crate::org::ORG_GROUP)
        .await;
    let topic = management.topic("security").await;
    let (_, queue) = management.queue("security-inbox").await;
    management.subscribe(&topic, "sqs", &queue).await;
    management
        .filter(
            crate::org::ORG_GROUP,
            "unauth",
            UNAUTHORIZED,
            "Unauthorized",
            "CIS",
        )
        .await;
    management
        .alarm("unauth", "Unauthorized", "CIS", Some(&topic), true)
        .await;
    let pager = management.topic("pager").await;
    management
        .subscribe(&pager, "email", "oncall@example.com")
        .await;
    management
        .filter(
            crate::org::ORG_GROUP,
            "auth",
            AUTH_FAILURES,
            "AuthFailures",
            "CIS",
        )
        .await;
    management
        .alarm("auth", "AuthFailures", "CIS", Some(&pager), true)
        .await;
    own.trail(TrailSpec::good("own", OWN_GROUP)).await;
    own.filter(OWN_GROUP, "auth", AUTH_FAILURES, "AuthFailures", "CIS")
        .await;
    let ops = own.topic("ops").await;
    let (_, inbox) = own.queue("ops-inbox").await;
    own.subscribe(&ops, "sqs", &inbox).await;
    own.alarm("auth", "AuthFailures", "CIS", Some(&ops), true)
        .await;
    management.faults_with(serde_json::json!({
        "kinds": ["access_denied"], "operations": ["AssumeRole"], "target_account": denied.id,
        "rate": 1.0
    }));
    (management, [relies, own, denied])
}
