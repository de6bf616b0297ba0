//! Organizations (issue 7): a member alone, `--org` across a management account and members,
//! an organization trail's chain fixed once in the account that owns it.

use serde_json::Value;

use crate::harness::{assert_ok, stderr, stdout, validate, writes, Account, TrailSpec};

const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";
const OWN_GROUP: &str = "cloudtrail/own";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

fn account_json<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == id)
        .unwrap_or_else(|| panic!("no account {id}: {plan:#}"))
}

fn status_in<'a>(plan: &'a Value, account: &str, control: &str) -> &'a str {
    account_json(plan, account)["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == control)
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no control {control} in {account}: {plan:#}"))
}

fn org_plan(account: &Account, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let out = account.run(&all);
    let plan = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", stdout(&out), stderr(&out)));
    validate(&plan, "org-plan");
    (out.status.code(), plan)
}

/// A management account with an organization trail, and one member relying on it.
async fn organization_of_one() -> (Account, Account) {
    let management = Account::new().await;
    let member = Account::new().await;
    management.organization(&[&member]);
    management.organization_trail("org", ORG_GROUP).await;
    (management, member)
}

#[tokio::test]
async fn a_member_alone_prints_a_plan_names_the_management_account_and_exits_1() {
    let (management, member) = organization_of_one().await;

    member.reset_calls();
    let out = member.run(&["plan", "--controls", "4.1,4.6"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "(organization trail of account {})",
            management.id
        )),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&management.id) && err.contains("cis-fix plan --org"),
        "{err}"
    );
    assert!(err.trim_end().lines().count() == 1, "{err}");
    // The member never asks for what only the owner may read.
    let ops: Vec<String> = member.calls().into_iter().map(|(_, op)| op).collect();
    assert!(!ops.contains(&"GetEventSelectors".to_string()), "{ops:?}");

    let out = member.run(&["plan", "--controls", "4.6", "--format", "json"]);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&plan, "plan");
    assert_eq!(plan["controls"][0]["status"], "not_auditable", "{plan:#}");
    assert!(plan["actions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn org_plan_fixes_the_organization_chain_once_and_apply_backout_round_trip() {
    let management = Account::new().await;
    let relies = Account::new().await;
    let own = Account::new().await;
    let denied = Account::new().await;
    management.organization(&[&relies, &own, &denied]);
    management.organization_trail("org", ORG_GROUP).await;
    // `own` has its own trail and a whole 4.6 chain of its own.
    own.trail(TrailSpec::good("own", OWN_GROUP)).await;
    own.filter(
        OWN_GROUP,
        "auth",
        AUTH_FAILURES,
        "AuthFailures",
        "CISBenchmark",
    )
    .await;
    let topic = own.topic("ops").await;
    let (_, queue) = own.queue("ops-inbox").await;
    own.subscribe(&topic, "sqs", &queue).await;
    own.alarm("auth", "AuthFailures", "CISBenchmark", Some(&topic), true)
        .await;
    // The role into `denied` cannot be assumed.
    management.faults_with(serde_json::json!({
        "kinds": ["access_denied"], "operations": ["AssumeRole"], "target_account": denied.id,
        "rate": 1.0
    }));

    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let (code, plan) = org_plan(
        &management,
        &["--org", "--controls", "4.1,4.6", "--notify", &notify],
    );
    assert_eq!(code, Some(1), "one account could not be read: {plan:#}");
    assert_eq!(plan["accounts"].as_array().unwrap().len(), 4, "{plan:#}");
    assert_eq!(account_json(&plan, &denied.id)["status"], "not_auditable");
    assert!(account_json(&plan, &denied.id)["error"]
        .as_str()
        .unwrap()
        .contains("OrganizationAccountAccessRole"));
    assert_eq!(status_in(&plan, &own.id, "4.6"), "compliant");
    assert_eq!(status_in(&plan, &relies.id, "4.1"), "non_compliant");
    // Every action is in the management account, where the organization trail's log group is.
    let actions = plan["actions"].as_array().unwrap();
    assert!(!actions.is_empty());
    assert!(
        actions
            .iter()
            .all(|a| a["account_id"] == management.id.as_str()),
        "{plan:#}"
    );
    let alarm = actions
        .iter()
        .find(|a| a["action"] == "put_metric_alarm" && a["control"] == "4.1")
        .unwrap();
    let fixes = alarm["fixes"].as_array().unwrap();
    assert!(
        fixes.len() >= 3,
        "the management account and the members relying on it: {alarm:#}"
    );

    // The text view: a matrix, the unreadable account once.
    let out = management.run(&[
        "plan",
        "--org",
        "--controls",
        "4.1,4.6",
        "--notify",
        &notify,
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("Accounts") && text.contains(&relies.id),
        "{text}"
    );
    assert!(text.contains("Not auditable"), "{text}");

    // Apply across the readable accounts, then everything is compliant and members untouched.
    management.clear_faults();
    let accounts = format!("{},{},{}", management.id, relies.id, own.id);
    relies.reset_calls();
    let out = management.run(&[
        "apply",
        "--accounts",
        &accounts,
        "--controls",
        "4.1,4.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]);
    assert_ok(&out);
    assert!(writes(&relies).is_empty(), "{:?}", writes(&relies));
    let (code, plan) = org_plan(
        &management,
        &["--accounts", &accounts, "--controls", "4.1,4.6"],
    );
    assert_eq!(code, Some(0), "{plan:#}");
    for account in [&management.id, &relies.id, &own.id] {
        for control in ["4.1", "4.6"] {
            assert_eq!(
                status_in(&plan, account, control),
                "compliant",
                "{account} {control}: {plan:#}"
            );
        }
    }
    let chain = account_json(&plan, &relies.id)["controls"][0]["chain"].clone();
    assert_eq!(chain["account_id"], management.id.as_str(), "{chain:#}");

    // A second apply writes nothing anywhere.
    for a in [&management, &relies, &own] {
        a.reset_calls();
    }
    assert_ok(&management.run(&[
        "apply",
        "--accounts",
        &accounts,
        "--controls",
        "4.1,4.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    for a in [&management, &relies, &own] {
        assert!(writes(a).is_empty(), "{}: {:?}", a.id, writes(a));
    }

    // Backout removes what cis-fix created, in every account, and nothing else.
    assert_ok(&management.run(&["backout", "--accounts", &accounts, "--auto-approve"]));
    let (_, plan) = org_plan(
        &management,
        &["--accounts", &accounts, "--controls", "4.1,4.6"],
    );
    assert_eq!(
        status_in(&plan, &own.id, "4.6"),
        "compliant",
        "the user's chain stays"
    );
    assert_eq!(status_in(&plan, &management.id, "4.1"), "non_compliant");
}

#[tokio::test]
async fn an_org_apply_converges_under_throttling_and_the_org_policies_cover_its_calls() {
    let (management, member) = organization_of_one().await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");

    // The plan's calls against the documented policies: the caller's and the member role's.
    management.reset_calls();
    member.reset_calls();
    let out = management.run(&["plan", "--org", "--notify", &notify]);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(2),
        "{}",
        stderr(&out)
    );
    // A member behind the organization trail costs its trail list, and the role (counted in
    // the management account), nothing else.
    let member_calls = member.calls();
    assert!(member_calls.len() <= 2, "{member_calls:?}");
    // The caller's identity is asked once, not again for its own account's read.
    let identity = management
        .calls()
        .iter()
        .filter(|(_, op)| op == "GetCallerIdentity")
        .count();
    assert_eq!(identity, 1);
    for (account, file) in [
        (&management, "examples/iam-org-management.json"),
        (&member, "examples/iam-org-member.json"),
    ] {
        let policy = crate::harness::allowed(file);
        for (service, op) in account.calls() {
            let action = format!("{service}:{op}");
            assert!(policy.contains(&action), "{file} lacks {action}");
        }
    }

    // 30% of the member's and the management account's calls throttled: still converges.
    for a in [&management, &member] {
        a.faults(&["throttle"], &[], 0.3);
    }
    let out = management.run(&[
        "apply",
        "--org",
        "--notify",
        &notify,
        "--auto-approve",
        "--max-attempts",
        "10",
    ]);
    assert_ok(&out);
    for a in [&management, &member] {
        a.clear_faults();
    }
    let (code, plan) = org_plan(&management, &["--org", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{plan:#}");
}

#[tokio::test]
async fn a_saved_organization_plan_is_checked_per_account_and_applied_without_asking() {
    let (management, member) = organization_of_one().await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org-plan.json");
    let file = path.to_str().unwrap();
    let save = || {
        let out = management.run(&[
            "plan",
            "--org",
            "--controls",
            "4.6",
            "--notify",
            &notify,
            "--out",
            file,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let saved = std::fs::read_to_string(&path).unwrap();
        validate(&serde_json::from_str(&saved).unwrap(), "saved-org-plan");
    };
    save();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // The management account changes where the plan looked: stale, nothing written.
    management
        .filter(
            ORG_GROUP,
            "new",
            "{ $.eventName = ConsoleLogin }",
            "Logins",
            "CISBenchmark",
        )
        .await;
    management.reset_calls();
    let out = management.run(&["apply", file]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("stale") && err.contains(&management.id),
        "{err}"
    );
    assert!(writes(&management).is_empty(), "{:?}", writes(&management));

    // A fresh one applies, with no question (the saved plan is the approval).
    save();
    assert_ok(&management.run(&["apply", file]));
    let (code, plan) = org_plan(&management, &["--org", "--controls", "4.6"]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(status_in(&plan, &member.id, "4.6"), "compliant");
}

#[tokio::test]
async fn plan_org_takes_the_callers_credentials_from_profile() {
    let (management, member) = organization_of_one().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile management]\nregion = us-east-1\nendpoint_url = {}\naws_access_key_id = {}\naws_secret_access_key = test-secret\n",
            management.emulator.url(),
            management.id
        ),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.args([
        "plan",
        "--org",
        "--format",
        "json",
        "--profile",
        "management",
    ]);
    crate::harness::isolate(&mut cmd);
    cmd.env("AWS_CONFIG_FILE", &config);
    let out = cmd.output().unwrap();
    let plan: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    validate(&plan, "org-plan");
    assert_eq!(
        plan["caller_account_id"],
        management.id.as_str(),
        "{plan:#}"
    );
    assert_eq!(plan["accounts"].as_array().unwrap().len(), 2, "{plan:#}");
    assert_eq!(account_json(&plan, &member.id)["status"], "audited");
}
