//! Organizations (issue 7): a member alone, `--org` across a management account and members,
//! an organization trail's chain fixed once in the account that owns it.

use serde_json::Value;

use crate::harness::words;
use crate::harness::{
    actions_used, assert_allows, assert_ok, stderr, stdout, validate, writes, Account, TrailSpec,
};

pub(crate) const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";
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

pub(crate) fn org_plan(account: &Account, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let out = account.run(&all);
    let plan = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", stdout(&out), stderr(&out)));
    validate(&plan, "org-plan");
    (out.status.code(), plan)
}

/// A management account with an organization trail, and one member relying on it.
pub(crate) async fn organization_of_one() -> (Account, Account) {
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
    let out = member.run(&["plan", "--controls", "5.1,5.6"]);
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
    // The organization trail is the member's only trail: no status is asked of it either.
    assert!(!ops.contains(&"GetTrailStatus".to_string()), "{ops:?}");

    let out = member.run(&["plan", "--controls", "5.6", "--format", "json"]);
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
    // `own` has its own trail and a whole 5.6 chain of its own.
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
        &["--org", "--controls", "5.1,5.6", "--notify", &notify],
    );
    assert_eq!(code, Some(1), "one account could not be read: {plan:#}");
    assert_eq!(plan["accounts"].as_array().unwrap().len(), 4, "{plan:#}");
    assert_eq!(account_json(&plan, &denied.id)["status"], "not_auditable");
    assert!(account_json(&plan, &denied.id)["error"]
        .as_str()
        .unwrap()
        .contains("OrganizationAccountAccessRole"));
    assert_eq!(status_in(&plan, &own.id, "5.6"), "compliant");
    assert_eq!(status_in(&plan, &relies.id, "5.1"), "non_compliant");
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
        .find(|a| a["action"] == "put_metric_alarm" && a["control"] == "5.1")
        .unwrap();
    let fixes = alarm["fixes"].as_array().unwrap();
    // The management account and the two members that rely on its trail for 5.1 (`own`'s
    // chain covers 5.6 only); `denied` was not read, so nothing is said to fix it.
    let mut fixed: Vec<&str> = fixes.iter().filter_map(Value::as_str).collect();
    fixed.sort_unstable();
    let mut expected = vec![management.id.as_str(), relies.id.as_str(), own.id.as_str()];
    expected.sort_unstable();
    assert_eq!(fixed, expected, "{alarm:#}");

    // The text view: a matrix, the unreadable account once.
    let out = management.run(&[
        "plan",
        "--org",
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("Accounts") && text.contains(&relies.id),
        "{text}"
    );
    assert!(text.contains("Not auditable"), "{text}");

    // Every resource of the readable accounts, to compare with after the backout.
    let readable = [&management, &relies, &own];
    let mut before = Vec::new();
    for a in readable {
        before.push(a.state().await);
    }

    // `apply --org`: the denied member makes the run exit 1, after the others were applied.
    for a in [&management, &relies, &own, &denied] {
        a.reset_calls();
    }
    let apply = [
        "apply",
        "--org",
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ];
    let out = management.run(&apply);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        !writes(&management).is_empty(),
        "the management account was applied"
    );
    // Members untouched: the one relying on the organization trail, and the one with its own
    // chain (its 5.1 relies on the organization trail too); nothing reached the denied one.
    for a in [&relies, &own, &denied] {
        assert!(writes(a).is_empty(), "{}: {:?}", a.id, writes(a));
    }
    let accounts = format!("{},{},{}", management.id, relies.id, own.id);
    let (code, plan) = org_plan(
        &management,
        &["--accounts", &accounts, "--controls", "5.1,5.6"],
    );
    assert_eq!(code, Some(0), "{plan:#}");
    for account in [&management.id, &relies.id, &own.id] {
        for control in ["5.1", "5.6"] {
            assert_eq!(
                status_in(&plan, account, control),
                "compliant",
                "{account} {control}: {plan:#}"
            );
        }
    }
    let chain = account_json(&plan, &relies.id)["controls"][0]["chain"].clone();
    assert_eq!(chain["account_id"], management.id.as_str(), "{chain:#}");
    assert_eq!(chain["trail"], "org", "{chain:#}");

    // A second apply writes nothing anywhere (and still says the denied member failed).
    for a in [&management, &relies, &own, &denied] {
        a.reset_calls();
    }
    let out = management.run(&apply);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for a in [&management, &relies, &own, &denied] {
        assert!(writes(a).is_empty(), "{}: {:?}", a.id, writes(a));
    }

    // `backout --org` with the member still denied: every readable account is restored to
    // exactly what it held before the apply, the denied one is not touched, and the run
    // exits 1 naming it.
    let out = management.run(&["backout", "--org", "--auto-approve"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains(&denied.id), "{}", stderr(&out));
    assert!(writes(&denied).is_empty(), "{:?}", writes(&denied));
    for (a, before) in readable.iter().zip(&before) {
        assert_eq!(&a.state().await, before, "{} after backout", a.id);
    }
    let (_, plan) = org_plan(
        &management,
        &["--accounts", &accounts, "--controls", "5.1,5.6"],
    );
    assert_eq!(
        status_in(&plan, &own.id, "5.6"),
        "compliant",
        "the user's chain stays"
    );
    assert_eq!(status_in(&plan, &management.id, "5.1"), "non_compliant");
}

/// How many of `account`'s calls since its last reset the emulator answered with an injected
/// fault, by kind.
fn injected(account: &Account, kind: &str) -> usize {
    let url = format!(
        "{}/_emulator/calls?account={}",
        account.emulator.url(),
        account.id
    );
    let text = ureq::get(&url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["fault"] == kind)
        .count()
}

/// How the management account's organization trail fails its members, while a local trail of
/// the management account (which logs only the management account's events) has a whole 5.6
/// chain.
#[derive(Clone, Copy, Debug)]
enum OrgTrailGap {
    NotLogging,
    NoLogGroup,
}

/// A management account whose 5.6 chain runs on its local trail `local`, and whose
/// organization trail `org` cannot serve (`gap`); members `bare` (no trail of its own) and
/// `own` (its own qualifying trail, no chain yet).
async fn organization_with_a_local_chain(gap: OrgTrailGap) -> (Account, Account, Account) {
    let management = Account::new().await;
    let bare = Account::new().await;
    let own = Account::new().await;
    management.organization(&[&bare, &own]);
    management.trail(TrailSpec::good("local", OWN_GROUP)).await;
    management
        .filter(
            OWN_GROUP,
            "auth",
            AUTH_FAILURES,
            "AuthFailures",
            "CISBenchmark",
        )
        .await;
    let topic = management.topic("ops").await;
    let (_, queue) = management.queue("ops-inbox").await;
    management.subscribe(&topic, "sqs", &queue).await;
    management
        .alarm("auth", "AuthFailures", "CISBenchmark", Some(&topic), true)
        .await;
    match gap {
        OrgTrailGap::NotLogging => {
            management.organization_trail("org", ORG_GROUP).await;
            management
                .cloudtrail()
                .stop_logging()
                .name("org")
                .send()
                .await
                .unwrap();
        }
        OrgTrailGap::NoLogGroup => {
            let bucket = format!("org-trail-bucket-{}", management.id);
            management.bucket(&bucket);
            management
                .cloudtrail()
                .create_trail()
                .name("org")
                .s3_bucket_name(&bucket)
                .is_multi_region_trail(true)
                .is_organization_trail(true)
                .send()
                .await
                .unwrap();
            management
                .cloudtrail()
                .start_logging()
                .name("org")
                .send()
                .await
                .unwrap();
        }
    }
    own.trail(TrailSpec::good("own", "member-logs")).await;
    (management, bare, own)
}

/// The audit's reproduction: the management account's whole chain on a local trail must not
/// make a member compliant; a member's own trail decides, and is planned, in the member.
#[tokio::test]
async fn a_member_is_never_compliant_through_a_local_trail_of_the_management_account() {
    for gap in [OrgTrailGap::NotLogging, OrgTrailGap::NoLogGroup] {
        let (management, bare, own) = organization_with_a_local_chain(gap).await;
        let (_, inbox) = management.queue("security").await;
        let notify = format!("sqs:{inbox}");
        let (code, plan) = org_plan(
            &management,
            &["--org", "--controls", "5.6", "--notify", &notify],
        );
        assert_ne!(code, Some(1), "{gap:?}: every account was read: {plan:#}");
        assert_eq!(
            status_in(&plan, &management.id, "5.6"),
            "compliant",
            "{gap:?}"
        );
        for member in [&bare, &own] {
            let report = &account_json(&plan, &member.id)["controls"][0];
            assert_ne!(
                report["status"], "compliant",
                "{gap:?} {}: {plan:#}",
                member.id
            );
            assert!(report["chain"].is_null(), "{gap:?}: {report:#}");
        }
        // Nothing claims to fix `bare`; `own`'s own trail is planned in `own`, for `own`.
        let actions = plan["actions"].as_array().unwrap();
        assert!(
            actions.iter().all(|a| !a["fixes"]
                .as_array()
                .unwrap()
                .contains(&Value::from(bare.id.as_str()))),
            "{gap:?}: {plan:#}"
        );
        let filter = actions
            .iter()
            .find(|a| a["account_id"] == own.id.as_str() && a["action"] == "put_metric_filter")
            .unwrap_or_else(|| panic!("{gap:?}: nothing planned in {}: {plan:#}", own.id));
        assert_eq!(filter["log_group_name"], "member-logs");
        assert_eq!(filter["fixes"], serde_json::json!([own.id]));
        // With --detailed-exitcode the false pass was exit 0; now there is something to do.
        let out = management.run(&[
            "plan",
            "--org",
            "--controls",
            "5.6",
            "--notify",
            &notify,
            "--detailed-exitcode",
        ]);
        assert_ne!(out.status.code(), Some(0), "{gap:?}: {}", stdout(&out));
    }
}

/// The management account is compliant through its local trail, and its organization trail
/// qualifies but has no chain: the organization chain is planned in the management account,
/// for the member, and once applied the member is compliant through it.
#[tokio::test]
async fn the_organization_chain_is_planned_when_the_management_account_is_compliant_elsewhere() {
    let management = Account::new().await;
    let member = Account::new().await;
    management.organization(&[&member]);
    management.trail(TrailSpec::good("local", OWN_GROUP)).await;
    management
        .filter(
            OWN_GROUP,
            "auth",
            AUTH_FAILURES,
            "AuthFailures",
            "CISBenchmark",
        )
        .await;
    let topic = management.topic("ops").await;
    let (_, queue) = management.queue("ops-inbox").await;
    management.subscribe(&topic, "sqs", &queue).await;
    management
        .alarm("auth", "AuthFailures", "CISBenchmark", Some(&topic), true)
        .await;
    management.organization_trail("org", ORG_GROUP).await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");

    let (_, plan) = org_plan(
        &management,
        &["--org", "--controls", "5.6", "--notify", &notify],
    );
    assert_eq!(status_in(&plan, &management.id, "5.6"), "compliant");
    assert_eq!(
        status_in(&plan, &member.id, "5.6"),
        "non_compliant",
        "{plan:#}"
    );
    let actions = plan["actions"].as_array().unwrap();
    let filter = actions
        .iter()
        .find(|a| a["action"] == "put_metric_filter")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(filter["account_id"], management.id.as_str());
    assert_eq!(filter["log_group_name"], ORG_GROUP);
    assert_eq!(filter["fixes"], serde_json::json!([member.id]));

    member.reset_calls();
    assert_ok(&management.run(&[
        "apply",
        "--org",
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    assert!(writes(&member).is_empty(), "{:?}", writes(&member));
    let (code, plan) = org_plan(&management, &["--org", "--controls", "5.6"]);
    assert_eq!(code, Some(0), "{plan:#}");
    let chain = &account_json(&plan, &member.id)["controls"][0]["chain"];
    assert_eq!(chain["trail"], "org", "{chain:#}");
    assert_eq!(chain["account_id"], management.id.as_str(), "{chain:#}");
}

/// The management account has a partial 5.6 chain on its local trail (a covering filter, no
/// alarm) and the organization trail has none: the organization chain is planned in place of
/// the local one, so one `apply --org` makes the management account and every member
/// compliant, and the next plan has nothing to do.
#[tokio::test]
async fn one_apply_fixes_the_organization_chain_when_the_management_account_has_a_partial_local_one(
) {
    let management = Account::new().await;
    let bare = Account::new().await;
    let own = Account::new().await;
    management.organization(&[&bare, &own]);
    management.trail(TrailSpec::good("local", OWN_GROUP)).await;
    management
        .filter(
            OWN_GROUP,
            "auth",
            AUTH_FAILURES,
            "AuthFailures",
            "CISBenchmark",
        )
        .await;
    management.organization_trail("org", ORG_GROUP).await;
    own.trail(TrailSpec::good("own", "member-logs")).await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");

    let (_, plan) = org_plan(
        &management,
        &["--org", "--controls", "5.6", "--notify", &notify],
    );
    let actions = plan["actions"].as_array().unwrap();
    // One alarm of cis-fix's name, on the organization trail's log group, for every account.
    let alarms: Vec<&Value> = actions
        .iter()
        .filter(|a| a["action"] == "put_metric_alarm")
        .collect();
    assert_eq!(alarms.len(), 1, "{plan:#}");
    let filter = actions
        .iter()
        .find(|a| a["action"] == "put_metric_filter")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(filter["log_group_name"], ORG_GROUP, "{plan:#}");
    assert!(
        actions
            .iter()
            .all(|a| a["account_id"] == management.id.as_str()),
        "{plan:#}"
    );
    assert_eq!(alarms[0]["fixes"].as_array().unwrap().len(), 3, "{plan:#}");
    for member in [&bare, &own] {
        let report = &account_json(&plan, &member.id)["controls"][0];
        assert_eq!(
            report["findings"][0]["code"], "organization_chain_incomplete",
            "{report:#}"
        );
    }

    bare.reset_calls();
    own.reset_calls();
    assert_ok(&management.run(&[
        "apply",
        "--org",
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    assert!(writes(&bare).is_empty(), "{:?}", writes(&bare));
    assert!(writes(&own).is_empty(), "{:?}", writes(&own));
    let (code, plan) = org_plan(
        &management,
        &["--org", "--controls", "5.6", "--notify", &notify],
    );
    assert_eq!(code, Some(0), "{plan:#}");
    for account in [&management, &bare, &own] {
        assert_eq!(
            status_in(&plan, &account.id, "5.6"),
            "compliant",
            "{plan:#}"
        );
    }
    assert!(plan["actions"].as_array().unwrap().is_empty(), "{plan:#}");
}

/// A member fixed on its own trail, by `apply --org`: the member role's policy covers its
/// calls; a member failing part-way does not stop the others, and the run exits 1.
#[tokio::test]
async fn a_member_failing_part_way_does_not_stop_the_others() {
    let (management, bare, own) = organization_with_a_local_chain(OrgTrailGap::NotLogging).await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let before = own.state().await;
    // The member's alarm write is denied: its topic and filter are made, then it fails.
    own.faults(&["access_denied"], &["PutMetricAlarm"], 1.0);
    for a in [&management, &bare, &own] {
        a.reset_calls();
    }
    let out = management.run(&[
        "apply",
        "--org",
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains(&own.id), "{said}");
    assert!(injected(&own, "access_denied") > 0);
    assert!(
        writes(&own).iter().any(|w| w == "PutMetricFilter"),
        "{:?}",
        writes(&own)
    );
    let member_used = actions_used(&own);
    own.clear_faults();
    // The management account was applied regardless: its 5.1 is whole now (on its local
    // trail, the only one that qualifies).
    let (_, plan) = org_plan(&management, &["--org", "--controls", "5.1,5.6"]);
    assert_eq!(
        status_in(&plan, &management.id, "5.1"),
        "compliant",
        "{plan:#}"
    );
    assert_eq!(
        status_in(&plan, &own.id, "5.6"),
        "non_compliant",
        "{plan:#}"
    );
    assert!(writes(&bare).is_empty(), "{:?}", writes(&bare));

    // Applied again without the fault, the member converges on its own chain (`bare`, whose
    // controls nothing can plan, is left out: with it the run would exit 2).
    own.reset_calls();
    let accounts = format!("{},{}", management.id, own.id);
    assert_ok(&management.run(&[
        "apply",
        "--accounts",
        &accounts,
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let mut member_used = [member_used, actions_used(&own)].concat();
    let (_, plan) = org_plan(&management, &["--org", "--controls", "5.1,5.6"]);
    for control in ["5.1", "5.6"] {
        assert_eq!(status_in(&plan, &own.id, control), "compliant", "{plan:#}");
    }
    let chain = &account_json(&plan, &own.id)["controls"][1]["chain"];
    assert_eq!(chain["account_id"], own.id.as_str(), "{chain:#}");

    // And backs out to what it held before.
    own.reset_calls();
    assert_ok(&management.run(&["backout", "--org", "--auto-approve"]));
    member_used.extend(actions_used(&own));
    assert_eq!(own.state().await, before);
    member_used.push("cloudwatch:TagResource".into());
    assert_allows("org-member", &member_used);
}

/// A member alone whose organization trail has no CloudWatch Logs log group: that trail can
/// never satisfy a control, so nothing is deferred to its owner; the member's own trail is
/// judged and planned as in any account.
#[tokio::test]
async fn a_member_alone_plans_its_own_trail_when_the_organization_trail_has_no_log_group() {
    let (management, _, own) = organization_with_a_local_chain(OrgTrailGap::NoLogGroup).await;
    own.reset_calls();
    let notify = crate::harness::queue(&own);
    let out = own.run(&[
        "plan",
        "--controls",
        "5.6",
        "--format",
        "json",
        "--notify",
        &notify,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&plan, "plan");
    assert_eq!(plan["controls"][0]["status"], "non_compliant", "{plan:#}");
    assert_eq!(plan["summary"]["not_auditable"], 0, "{plan:#}");
    let filter = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "put_metric_filter")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(filter["log_group_name"], "member-logs");
    let org = plan["trails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "org")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(org["organization_owner"], management.id.as_str());
    // The member reads its own trail's status, never the organization trail's: one call.
    let status = own
        .calls()
        .iter()
        .filter(|(_, op)| op == "GetTrailStatus")
        .count();
    assert_eq!(status, 1);
}

/// `--org` reads members as ListAccounts pages arrive (20 a page): every page is read, every
/// ACTIVE account once, a SUSPENDED one not at all.
#[tokio::test]
async fn org_reads_every_page_of_list_accounts_and_only_active_accounts() {
    let management = Account::new().await;
    let mut members = Vec::new();
    for _ in 0..45 {
        members.push(Account::new().await);
    }
    let suspended = Account::new().await;
    let mut accounts: Vec<Value> = members
        .iter()
        .map(|m| serde_json::json!({"id": m.id, "name": format!("m-{}", m.id)}))
        .collect();
    accounts.push(serde_json::json!({"id": suspended.id, "status": "SUSPENDED"}));
    let body = serde_json::json!({"management": management.id, "accounts": accounts});
    ureq::post(&format!(
        "{}/_emulator/organization",
        management.emulator.url()
    ))
    .header("Content-Type", "application/json")
    .send(body.to_string())
    .unwrap();
    management.organization_trail("org", ORG_GROUP).await;
    management.reset_calls();
    let (_, plan) = org_plan(&management, &["--org", "--controls", "5.6"]);
    let mut listed: Vec<&str> = plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    listed.sort_unstable();
    let mut expected: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    expected.push(&management.id);
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let pages = management
        .calls()
        .iter()
        .filter(|(_, op)| op == "ListAccounts")
        .count();
    assert_eq!(pages, 3);
    // No topic and no --notify: the organization chain is blocked in the management account,
    // and every member, relying on it, is said to be so too.
    let owners = status_in(&plan, &management.id, "5.6");
    assert_ne!(owners, "compliant");
    for m in &members {
        assert_eq!(status_in(&plan, &m.id, "5.6"), owners, "{plan:#}");
    }
}

#[tokio::test]
async fn an_org_apply_converges_under_throttling_and_the_org_policies_cover_its_calls() {
    let (management, member) = organization_of_one().await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    // Every call of plan, apply and backout, per side, to check against the policies.
    let mut management_used = Vec::new();
    let mut member_used = Vec::new();

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
    management_used.extend(actions_used(&management));
    member_used.extend(actions_used(&member));

    // 30% of the member's and the management account's calls throttled: still converges.
    management.reset_calls();
    member.reset_calls();
    management.faults(&["throttle"], &[], 0.3);
    // The member makes one call (its trail list): a seed whose first draw is under 0.3, so
    // that the throttling reaches the member too, deterministically.
    member.faults_with(serde_json::json!({
        "kinds": ["throttle"], "operations": [], "rate": 0.3, "seed": 1
    }));
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
    // The throttling did happen, on both sides: the convergence was earned.
    assert!(
        injected(&management, "throttle") > 0,
        "no call of the management account was throttled"
    );
    assert!(
        injected(&member, "throttle") > 0,
        "no call of the member was throttled"
    );
    for a in [&management, &member] {
        a.clear_faults();
    }
    management_used.extend(actions_used(&management));
    member_used.extend(actions_used(&member));
    let (code, plan) = org_plan(&management, &["--org", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{plan:#}");

    management.reset_calls();
    member.reset_calls();
    assert_ok(&management.run(&["backout", "--org", "--auto-approve"]));
    management_used.extend(actions_used(&management));
    member_used.extend(actions_used(&member));
    assert!(
        management_used.contains(&"cloudwatch:DeleteAlarms".to_string()),
        "{management_used:?}"
    );

    // Tags given to PutMetricAlarm need cloudwatch:TagResource as well.
    management_used.push("cloudwatch:TagResource".into());
    assert_allows("org-management", &management_used);
    assert_allows("org-member", &member_used);
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
            "5.6",
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
    let (code, plan) = org_plan(&management, &["--org", "--controls", "5.6"]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(status_in(&plan, &member.id, "5.6"), "compliant");
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

/// The accounts of `organization_of_one`, as `--accounts` takes them.
fn both(management: &Account, member: &Account) -> String {
    format!("{},{}", management.id, member.id)
}

#[tokio::test]
async fn an_org_apply_exits_as_a_single_account_apply_does_and_counts_what_it_did() {
    let (management, member) = organization_of_one().await;
    let accounts = both(&management, &member);

    // No --notify and no topic to reuse: nothing can be planned, the controls stay
    // non-compliant, and the apply says so and exits 2, as a single-account apply does.
    management.reset_calls();
    let out = management.run(&[
        "apply",
        "--accounts",
        &accounts,
        "--controls",
        "5.1,5.6",
        "--auto-approve",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Nothing can be planned for")
            && stderr(&out).contains("no topic to notify"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&management).is_empty(), "{:?}", writes(&management));

    // An account that fails part-way: exit 1, and the summary counts what was made, not
    // what was planned.
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    management.faults_with(serde_json::json!({
        "kinds": ["access_denied"], "operations": ["PutMetricAlarm"], "rate": 1.0
    }));
    let out = management.run(&[
        "apply",
        "--accounts",
        &accounts,
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]);
    management.clear_faults();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let summary = text
        .lines()
        .find(|l| l.starts_with("Apply complete in"))
        .unwrap_or_else(|| panic!("{text}"));
    let planned = text
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        summary.starts_with("Apply complete in 0 of 1 account: "),
        "{summary}"
    );
    // The first number of each: "Plan: N to create", "…: N created".
    let first_number = |line: &str| -> usize {
        line.split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .map(|w| w.parse::<usize>().unwrap())
            .next()
            .unwrap()
    };
    let created: usize = summary
        .split(": ")
        .nth(1)
        .map(first_number)
        .unwrap_or_else(|| panic!("{summary}"));
    let to_create = first_number(planned.split(" to create").next().unwrap());
    assert!(
        created < to_create,
        "counted as planned: {planned} / {summary}"
    );
    assert!(stderr(&out).contains("failed part-way"), "{}", stderr(&out));

    // Once it converges, every selected control of every account is compliant: exit 0.
    let out = management.run(&[
        "apply",
        "--accounts",
        &accounts,
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Apply complete in 1 of 1 account: "),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn an_unusable_topic_arn_is_an_input_error_across_accounts() {
    let (management, member) = organization_of_one().await;
    let accounts = both(&management, &member);
    let missing = format!("arn:aws:sns:us-east-1:{}:nope", management.id);
    for command in [
        &["plan", "--accounts", &accounts][..],
        &["plan", "--org", "--format", "json"][..],
        &["apply", "--org", "--auto-approve"][..],
        &["export", "terraform", "--org"][..],
    ] {
        management.reset_calls();
        member.reset_calls();
        let mut args = command.to_vec();
        args.extend(["--topic-arn", missing.as_str()]);
        let out = management.run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("--topic-arn") && err.contains(&missing),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        for a in [&management, &member] {
            assert!(writes(a).is_empty(), "{args:?}: {:?}", writes(a));
        }
    }
    // A topic that exists is no error.
    let topic = management.topic("security-alerts").await;
    let out = management.run(&["plan", "--accounts", &accounts, "--topic-arn", &topic]);
    assert_ok(&out);
}

#[tokio::test]
async fn a_saved_organization_plan_of_another_format_version_is_refused() {
    let (management, _member) = organization_of_one().await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org-plan.json");
    let file = path.to_str().unwrap();
    // `--out -` prints the plan on stdout, and says on stderr that it holds the endpoints.
    let out = management.run(&[
        "plan",
        "--org",
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--out",
        "-",
    ]);
    assert_ok(&out);
    assert!(
        words(&stderr(&out)).contains("holds the subscription endpoints in clear"),
        "{}",
        stderr(&out)
    );
    let mut saved: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&saved, "saved-org-plan");
    saved["format_version"] = Value::from(99);
    std::fs::write(&path, saved.to_string()).unwrap();
    management.reset_calls();
    let out = management.run(&["apply", file]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot use saved plan {file}"))
            && err.contains("format_version 99 is not supported"),
        "{err}"
    );
    assert!(management.calls().is_empty(), "{:?}", management.calls());
}

#[tokio::test]
async fn an_org_backout_names_the_accounts_it_could_not_read() {
    let (management, member) = organization_of_one().await;
    management.faults_with(serde_json::json!({
        "kinds": ["access_denied"], "operations": ["AssumeRole"], "target_account": member.id,
        "rate": 1.0
    }));
    let out = management.run(&["backout", "--org", "--auto-approve"]);
    management.clear_faults();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("1 account could not be read, so nothing was removed there")
            && err.contains(&member.id),
        "{err}"
    );
    assert!(!err.contains("control verdict"), "{err}");
}
