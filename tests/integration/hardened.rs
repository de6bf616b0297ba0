//! `--benchmark hardened` (issue 21): cis-7.0's 15 controls and cis-fix's own H1-H13, planned,
//! applied, drilled, exported and backed out like any benchmark's, alone and with `--org`.

use serde_json::Value;

use crate::harness::words;
use crate::harness::{
    actions, assert_ok, codes, control, queue, status, stdout, Account, TrailSpec,
};

const GROUP: &str = "cloudtrail/management";
const HARDENED: [&str; 2] = ["--benchmark", "hardened"];

/// The watch rule apply wrote, asked of EventBridge's own matcher (TestEventPattern, the
/// emulator's from moto, apart from cis-fix's filter evaluator): each of H13's technique
/// records, as CloudTrail delivers it to the default bus, matches; each benign one does not.
async fn the_watch_rule_matches_h13s_records_as_eventbridge_does(account: &Account) {
    let rule = account
        .events()
        .describe_rule()
        .name("cis-fix-alarm-chain-tampering-watch")
        .send()
        .await
        .unwrap();
    let pattern = rule.event_pattern().unwrap();
    let records = std::fs::read_to_string(crate::harness::path_in_repo(
        "src/catalog/testdata/hardened-records.jsonl",
    ))
    .unwrap();
    let mut seen = (0, 0);
    for line in records.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        if case["control"] != "H13" {
            continue;
        }
        let record = &case["record"];
        let service = record["eventSource"].as_str().unwrap();
        let event = serde_json::json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "AWS API Call via CloudTrail",
            "source": format!("aws.{}", service.trim_end_matches(".amazonaws.com")),
            "account": account.id,
            "time": "2026-11-02T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": record,
        });
        let matched = account
            .events()
            .test_event_pattern()
            .event_pattern(pattern)
            .event(event.to_string())
            .send()
            .await
            .unwrap()
            .result();
        let technique = case["kind"] == "technique";
        assert_eq!(matched, technique, "{}", case["source"]);
        if technique {
            seen.0 += 1;
        } else {
            seen.1 += 1;
        }
    }
    assert!(seen.0 >= 10 && seen.1 >= 3, "{seen:?}");
}

async fn h13s_watch_path_outlives_its_metric_path(account: &Account) {
    let filters = account
        .logs()
        .describe_metric_filters()
        .filter_name_prefix("cis-fix-alarm-chain-tampering-")
        .send()
        .await
        .unwrap();
    for f in filters.metric_filters() {
        account
            .logs()
            .delete_metric_filter()
            .log_group_name(f.log_group_name().unwrap())
            .filter_name(f.filter_name().unwrap())
            .send()
            .await
            .unwrap();
    }
    account
        .cloudwatch()
        .delete_alarms()
        .alarm_names("cis-fix-alarm-chain-tampering")
        .send()
        .await
        .unwrap();
    let plan = account.plan(&["--benchmark", "hardened", "--controls", "H13"]);
    assert_eq!(status(&plan, "H13"), "non_compliant", "{plan:#}");
    let codes = codes(&plan, "H13");
    assert!(!codes.is_empty(), "{plan:#}");
    assert!(!codes.iter().any(|c| c.starts_with("watch_")), "{codes:?}");
    assert_eq!(
        actions(&plan, Some("H13")),
        ["put_metric_filter", "put_metric_alarm"],
        "{plan:#}"
    );
    assert!(plan["actions"].as_array().unwrap().len() == 2, "{plan:#}");
    let rule = account
        .events()
        .list_targets_by_rule()
        .rule("cis-fix-alarm-chain-tampering-watch")
        .send()
        .await
        .unwrap();
    assert!(rule.targets()[0].arn().ends_with(":cis-fix-chain-watch"));
}

fn ids(plan: &Value) -> Vec<String> {
    plan["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn hardened_plan_apply_plan_then_backout_restores_the_account() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let before = account.state().await;
    let notify = queue(&account);

    let plan = account.plan(&HARDENED);
    let all = ids(&plan);
    assert_eq!(all.len(), 28, "{all:?}");
    assert_eq!(
        all[15..],
        (1..=13).map(|n| format!("H{n}")).collect::<Vec<_>>()[..]
    );
    assert!(
        all.iter().all(|id| status(&plan, id) == "non_compliant"),
        "{plan:#}"
    );
    // H13 watches cis-fix's own filters and alarms: the plan says its alarm will fire once
    // because of the apply; no CIS control sees an apply.
    let with_notify = ["--benchmark", "hardened", "--notify", notify.as_str()];
    let preview = account.plan(&with_notify);
    let notes = preview["notes"].as_array().cloned().unwrap_or_default();
    assert_eq!(notes.len(), 1, "{preview:#}");
    assert!(
        notes[0].as_str().unwrap_or_default().starts_with(
            "H13 (alarm-chain-tampering) watches calls this apply makes (put_metric_filter ×28, put_metric_alarm ×28, set_topic_policy ×1, put_rule ×1)"
        ) && notes[0].as_str().unwrap_or_default().ends_with(
            "its watch rule cis-fix-alarm-chain-tampering-watch, created last, notifies cis-fix-chain-watch once per matching event that reaches EventBridge after it exists: at least its own creation (put_rule), which shows the second path works"
        ),
        "{notes:#?}"
    );
    let cis = account.plan(&["--notify", notify.as_str()]);
    assert!(cis.get("notes").is_none(), "{cis:#}");

    let out = account.run(&[
        "apply",
        "--benchmark",
        "hardened",
        "--notify",
        &notify,
        "--auto-approve",
    ]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("Apply complete: 63 created, 0 changed."),
        "{text}"
    );

    // Every control compliant, H13 with its watch path too, and nothing left to do.
    let plan = account.plan(&HARDENED);
    for id in &all {
        assert_eq!(
            status(&plan, id),
            "compliant",
            "{id}: {:#}",
            control(&plan, id)
        );
    }
    let out = account.run(&["plan", "--benchmark", "hardened", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The H alarms say they are no CIS control; their records are cis-fix's as for any.
    let alarms = account
        .cloudwatch()
        .describe_alarms()
        .alarm_names("cis-fix-alarm-chain-tampering")
        .send()
        .await
        .unwrap();
    let description = alarms.metric_alarms()[0].alarm_description().unwrap();
    assert!(
        description.starts_with("H13: Ensure tampering"),
        "{description}"
    );
    the_watch_rule_matches_h13s_records_as_eventbridge_does(&account).await;
    // The default benchmark sees its 15 controls compliant and leaves the H chains alone.
    let out = account.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // drill and export take the H ids.
    let out = account.run(&[
        "drill",
        "--benchmark",
        "hardened",
        "--controls",
        "H13",
        "--auto-approve",
    ]);
    assert_ok(&out);
    let out = account.run(&[
        "export",
        "terraform",
        "--benchmark",
        "hardened",
        "--notify",
        &notify,
    ]);
    assert_ok(&out);

    // What silences H13's metric path leaves its watch path whole: with its filter and alarm
    // deleted, the plan asks for those two again and finds nothing missing of the rule path.
    h13s_watch_path_outlives_its_metric_path(&account).await;

    let out = account.run(&["backout", "--benchmark", "hardened", "--auto-approve"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Backout complete"),
        "{}",
        stdout(&out)
    );
    assert_eq!(account.state().await, before);
}

#[tokio::test]
async fn backout_under_cis_7_0_leaves_nothing_of_a_hardened_apply_either() {
    // Ownership is by record and name, not by benchmark: the default's backout removes the
    // H chains too (what it created is cis-fix's under any catalog).
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let before = account.state().await;
    let notify = queue(&account);
    assert_ok(&account.run(&[
        "apply",
        "--benchmark",
        "hardened",
        "--controls",
        "H1,H13",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    // Backing out H1 alone under hardened keeps H13's alarm: the backout says H13 will see
    // its removals. The default's full backout removes H13 too, and says nothing of it.
    let out = account.run(&[
        "backout",
        "--benchmark",
        "hardened",
        "--controls",
        "H1",
        "--auto-approve",
    ]);
    assert_ok(&out);
    let text = words(&stdout(&out));
    assert!(
        text.contains("note: H13 (alarm-chain-tampering) watches calls this backout makes (delete_alarm ×1, delete_metric_filter ×1) and keeps its own alarm")
            && text.contains("its watch rule cis-fix-alarm-chain-tampering-watch, if in place, notifies cis-fix-chain-watch once per call"),
        "{text}"
    );
    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    assert!(!stdout(&out).contains("note:"), "{}", stdout(&out));
    assert_eq!(account.state().await, before, "{}", stdout(&out));
}

#[tokio::test]
async fn hardened_with_org_covers_a_member_through_the_organization_trail() {
    let (management, member) = crate::org::organization_of_one().await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let select = ["--org", "--benchmark", "hardened", "--controls", "H8,H13"];
    // Across accounts the plan says it too, once.
    let mut preview = vec!["plan", "--notify", &notify];
    preview.extend_from_slice(&select);
    let text = stdout(&management.run(&preview));
    assert_eq!(
        text.matches("note: H13 (alarm-chain-tampering) watches calls this apply makes")
            .count(),
        1,
        "{text}"
    );
    let mut apply = vec!["apply", "--notify", &notify, "--auto-approve"];
    apply.extend_from_slice(&select);
    assert_ok(&management.run(&apply));
    let mut plan = vec!["plan", "--format", "json"];
    plan.extend_from_slice(&select);
    let out = management.run(&plan);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    for account in plan["accounts"].as_array().unwrap() {
        for c in account["controls"].as_array().unwrap() {
            assert_eq!(c["status"], "compliant", "{} {c:#}", account["account_id"]);
        }
    }
    assert!(plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["account_id"] == member.id.as_str()));
    // H13's watch rule lives with the chain it watches: in the account of the organization
    // trail's log group, where the calls that break that chain are made; none in the member.
    let rules = |account: &crate::harness::Account| {
        let account = account.events();
        async move {
            let listed = account.list_rules().send().await.unwrap();
            listed
                .rules()
                .iter()
                .filter_map(|r| r.name().map(str::to_string))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        rules(&management).await,
        ["cis-fix-alarm-chain-tampering-watch"]
    );
    assert!(rules(&member).await.is_empty());
}

#[test]
fn controls_shows_what_each_own_control_catches_text_and_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"))
        .args(["controls", "--benchmark", "hardened", "--format", "json"])
        .output()
        .unwrap();
    assert_ok(&out);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let h8 = &doc["controls"][22];
    assert_eq!(h8["id"], "H8");
    assert_eq!(h8["attack"], serde_json::json!(["T1537"]));
    assert!(h8["stratus"]
        .as_array()
        .unwrap()
        .contains(&Value::from("aws.exfiltration.ec2-share-ami")));
    for field in ["catches", "cis_gap", "limits"] {
        assert!(h8[field].is_string(), "{field}: {h8:#}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"))
        .args(["controls", "--benchmark", "hardened", "--controls", "H13"])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("\nH13 alarm-chain-tampering  (level 1)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  catches  A metric filter deleted"),
        "{text}"
    );
    assert!(
        text.contains("\n  att&ck   T1562.001, T1562.008\n"),
        "{text}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(stdout(&out).contains("cis-7.0 (default), hardened"));
}
