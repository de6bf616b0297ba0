//! `cis-fix report --format asff` and `--to-security-hub` (issue 22): the findings validated
//! by botocore's Security Hub model (tests/emulator/validate_asff.py), each (account,
//! control)'s compliance status as `plan` has it, and the import: 15 findings, the same 15
//! updated by a second run, an organization's in each member's own Security Hub, and a denied
//! import said in one line while the report is still written.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::harness::{
    actions_used, assert_allows, assert_ok, path_in_repo, python, stderr, stdout, Account,
};

/// The ASFF file `path`, checked by validate_asff.py (botocore's model, not ours).
fn validated(path: &Path) -> Vec<Value> {
    let out = Command::new(python())
        .arg(path_in_repo("tests/emulator/validate_asff.py"))
        .arg(path)
        .output()
        .expect("run validate_asff.py");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validate_asff.py answered ({e}): {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(answer["errors"], serde_json::json!([]), "{answer:#}");
    assert!(out.status.success());
    let text = std::fs::read_to_string(path).expect("read the ASFF file");
    serde_json::from_str(&text).expect("the ASFF file is a JSON array")
}

/// `cis-fix report --format asff --out FILE` plus `args`: its output, and the findings.
fn report(account: &Account, args: &[&str]) -> (Output, Vec<Value>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("findings.asff.json");
    let mut all = vec!["report", "--format", "asff", "--out"];
    all.push(file.to_str().expect("a UTF-8 path"));
    all.extend_from_slice(args);
    let out = account.run(&all);
    assert!(file.is_file(), "no report written: {}", stderr(&out));
    (out, validated(&file))
}

/// The ASFF status a plan's control report maps to (docs/report.md, "ASFF").
fn expected_status(control: &Value) -> &'static str {
    let pending = control["findings"].as_array().is_some_and(|fs| {
        !fs.is_empty()
            && fs
                .iter()
                .all(|f| f["code"].as_str() == Some("subscription_pending"))
    });
    match control["status"].as_str() {
        Some("compliant") => "PASSED",
        Some("non_compliant") if pending => "WARNING",
        Some("non_compliant" | "blocked") => "FAILED",
        Some("not_auditable") => "NOT_AVAILABLE",
        other => panic!("unknown status {other:?}"),
    }
}

/// (account, control id) -> ASFF status, from the findings.
fn statuses(findings: &[Value]) -> BTreeMap<(String, String), String> {
    findings
        .iter()
        .map(|f| {
            let control = f["ProductFields"]["cis-fix/ControlId"]
                .as_str()
                .unwrap_or_default();
            let key = (f["AwsAccountId"].as_str().unwrap_or_default(), control);
            let status = f["Compliance"]["Status"].as_str().unwrap_or_default();
            ((key.0.to_string(), key.1.to_string()), status.to_string())
        })
        .collect()
}

/// (account, control id) -> the ASFF status of the plan's verdict, for one account's plan.
fn plan_statuses(account: &str, controls: &Value) -> BTreeMap<(String, String), String> {
    controls
        .as_array()
        .expect("controls")
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap_or_default().to_string();
            ((account.to_string(), id), expected_status(c).to_string())
        })
        .collect()
}

/// The findings in `account`'s own Security Hub (GetFindings, every page).
async fn hub_findings(account: &Account) -> Vec<Value> {
    let client = aws_sdk_securityhub::Client::new(&account.config);
    let mut all = Vec::new();
    let mut pages = client.get_findings().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.expect("GetFindings");
        for f in page.findings() {
            all.push(serde_json::json!({
                "Id": f.id(),
                "AwsAccountId": f.aws_account_id(),
                "ProductArn": f.product_arn(),
                "Status": f.compliance().and_then(|c| c.status()).map(|s| s.as_str()),
                "Reasons": f.compliance().map(|c| c.status_reasons().len()),
            }));
        }
    }
    all
}

fn by_id(findings: &[Value]) -> BTreeMap<String, Value> {
    findings
        .iter()
        .map(|f| (f["Id"].as_str().unwrap_or_default().to_string(), f.clone()))
        .collect()
}

#[tokio::test]
async fn the_demo_accounts_findings_validate_and_agree_with_its_plan() {
    let account = Account::demo().await;
    let plan = account.plan(&[]);
    let (out, findings) = report(&account, &[]);
    assert_ok(&out);
    assert_eq!(findings.len(), 15, "one finding per cis-7.0 control");
    assert_eq!(
        statuses(&findings),
        plan_statuses(&account.id, &plan["controls"])
    );
    for f in &findings {
        assert_eq!(
            f["ProductArn"],
            format!(
                "arn:aws:securityhub:us-east-1:{0}:product/{0}/default",
                account.id
            )
        );
        assert!(f.get("Workflow").is_none(), "Workflow is the customer's");
    }
    // A compliant control names its chain's resources, the topic among them.
    let passed = findings
        .iter()
        .find(|f| f["Compliance"]["Status"] == "PASSED")
        .expect("the demo has compliant controls");
    let kinds: Vec<&str> = passed["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["Type"].as_str())
        .collect();
    assert!(kinds.contains(&"AwsSnsTopic"), "{passed:#}");
}

#[tokio::test]
async fn an_organizations_findings_validate_and_agree_with_its_plan() {
    let (management, members) = crate::report::organization_of(4).await;
    let out = management.run(&["plan", "--org", "--format", "json"]);
    assert_ok(&out);
    let plan: Value = serde_json::from_slice(&out.stdout).expect("the org plan");
    let (out, findings) = report(&management, &["--org"]);
    assert_ok(&out);
    let mut expected = BTreeMap::new();
    for account in plan["accounts"].as_array().expect("accounts") {
        let id = account["account_id"].as_str().unwrap_or_default();
        expected.extend(plan_statuses(id, &account["controls"]));
    }
    assert_eq!(findings.len(), 15 * 5);
    assert_eq!(statuses(&findings), expected);
    for member in &members {
        assert!(
            findings
                .iter()
                .any(|f| f["AwsAccountId"] == member.id.as_str()),
            "{}",
            member.id
        );
    }
}

/// The control of `plan` that an apply of it alone makes compliant.
fn fixable(plan: &Value) -> String {
    plan["controls"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["status"] == "non_compliant" && c["after_apply"] == "compliant")
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no control an apply makes compliant: {plan:#}"))
        .to_string()
}

#[tokio::test]
async fn a_second_import_updates_the_same_fifteen_findings() {
    let account = Account::demo().await;
    account.reset_calls();
    let (out, first) = report(&account, &["--to-security-hub"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!(
            "Imported 15 findings into Security Hub in account {} (us-east-1)",
            account.id
        )),
        "{}",
        stdout(&out)
    );
    // The policy of `cis-fix iam-policy report` allows every call, and needs its import.
    let used = actions_used(&account);
    assert!(used.contains(&"securityhub:BatchImportFindings".to_string()));
    assert_allows("report", &used);
    let imported = by_id(&hub_findings(&account).await);
    assert_eq!(imported.len(), 15);
    for f in &first {
        let id = f["Id"].as_str().unwrap_or_default();
        assert_eq!(imported[id]["Status"], f["Compliance"]["Status"], "{id}");
    }

    // One control made compliant between the runs.
    let plan = account.plan(&[]);
    let control = fixable(&plan);
    assert_ok(&account.run(&["apply", "--controls", &control, "--auto-approve"]));
    let (out, second) = report(&account, &["--to-security-hub"]);
    assert_ok(&out);
    let updated = by_id(&hub_findings(&account).await);
    assert_eq!(updated.len(), 15, "updated, not added");
    assert_eq!(
        updated.keys().collect::<Vec<_>>(),
        imported.keys().collect::<Vec<_>>()
    );
    let fixed = second
        .iter()
        .find(|f| f["ProductFields"]["cis-fix/ControlId"] == control.as_str())
        .expect("the fixed control's finding");
    assert_eq!(fixed["Compliance"]["Status"], "PASSED");
    let id = fixed["Id"].as_str().unwrap_or_default();
    assert_eq!(imported[id]["Status"], "FAILED");
    assert_eq!(updated[id]["Status"], "PASSED");
    assert_eq!(updated[id]["Reasons"], 0, "the failure's reasons are gone");
}

#[tokio::test]
async fn an_organizations_findings_land_in_each_accounts_own_security_hub() {
    let (management, members) = crate::report::organization_of(4).await;
    management.reset_calls();
    for member in &members {
        member.reset_calls();
    }
    let (out, findings) = report(&management, &["--org", "--to-security-hub"]);
    assert_ok(&out);
    // Each member imported with its own session (the role assumed there), as the documented
    // policies allow (read before this test's own GetFindings, which the log counts too).
    assert_allows("org-management", &actions_used(&management));
    for member in &members {
        let used = actions_used(member);
        assert!(used.contains(&"securityhub:BatchImportFindings".to_string()));
        assert_allows("org-member", &used);
    }
    let text = stdout(&out);
    for account in std::iter::once(&management).chain(&members) {
        assert!(
            text.contains(&format!(
                "Imported 15 findings into Security Hub in account {} (us-east-1)",
                account.id
            )),
            "{text}"
        );
        let own = hub_findings(account).await;
        assert_eq!(own.len(), 15, "{}", account.id);
        assert!(own.iter().all(|f| f["AwsAccountId"] == account.id.as_str()));
        let expected: Vec<&Value> = findings
            .iter()
            .filter(|f| f["AwsAccountId"] == account.id.as_str())
            .collect();
        let own = by_id(&own);
        for f in expected {
            let id = f["Id"].as_str().unwrap_or_default();
            assert_eq!(own[id]["Status"], f["Compliance"]["Status"], "{id}");
        }
    }
}

#[tokio::test]
async fn a_denied_import_is_one_line_naming_the_permission_and_the_account() {
    let account = Account::demo().await;
    account.faults(&["access_denied"], &["BatchImportFindings"], 1.0);
    let (out, findings) = report(&account, &["--to-security-hub", "--detailed-exitcode"]);
    account.clear_faults();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings.len(), 15, "the report is still written");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("securityhub:BatchImportFindings") && lines[0].contains(&account.id),
        "{err}"
    );
    assert!(!stdout(&out).contains("Imported"), "{}", stdout(&out));
    assert!(hub_findings(&account).await.is_empty());
}
