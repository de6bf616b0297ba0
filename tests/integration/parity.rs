//! One flow for one account or many (issue 20): across an organization of fourteen members,
//! `apply` and `backout` write one JSON document for every account, a saved organization plan
//! is applied like a single account's (also with `--format json`), `-q` is as quiet, and a
//! situation the members share is said once, however many share it.

use std::process::Output;

use serde_json::Value;

use crate::harness::{stderr, stdout, validate, Account};

const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";
const MEMBERS: usize = 14;

/// A management account with an organization trail, and fourteen members relying on it.
async fn organization() -> (Account, Vec<Account>) {
    let management = Account::new().await;
    let mut members = Vec::new();
    for _ in 0..MEMBERS {
        members.push(Account::new().await);
    }
    management.organization(&members.iter().collect::<Vec<_>>());
    management.organization_trail("org", ORG_GROUP).await;
    (management, members)
}

/// stdout as the one JSON document of `schema`, validated against it.
fn document(out: &Output, schema: &str) -> Value {
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr: {}",
            stdout(out),
            stderr(out)
        )
    });
    validate(&doc, schema);
    doc
}

fn lines(out: &Output) -> usize {
    stdout(out).lines().count()
}

#[tokio::test]
async fn a_saved_organization_plan_applies_with_one_json_document_for_every_account() {
    let (management, members) = organization().await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org-plan.json");
    let file = file.to_str().unwrap();
    let plan = management.run(&[
        "plan",
        "--org",
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
        "--out",
        file,
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));

    // A file made with --org names its accounts: another list is a conflict, said before
    // any call; --org itself agrees with it.
    management.reset_calls();
    let other = management.run(&["apply", file, "--accounts", &members[0].id]);
    assert_eq!(other.status.code(), Some(1), "{}", stderr(&other));
    assert!(
        stderr(&other).contains(
            "was made with --org: a saved plan applies only to the accounts it was made for"
        ),
        "{}",
        stderr(&other)
    );
    assert!(management.calls().is_empty(), "{:?}", management.calls());

    let out = management.run(&["apply", file, "--org", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = document(&out, "org-apply-result");
    assert_eq!(doc["kind"], "cis-fix-org-apply-result");
    assert_eq!(doc["interrupted"], false);
    let actions = doc["actions"].as_array().unwrap();
    assert!(!actions.is_empty());
    assert!(actions.iter().all(|a| a["outcome"] == "done"), "{doc:#}");
    assert!(actions
        .iter()
        .all(|a| a["account_id"] == management.id.as_str()));
    assert_eq!(doc["counts"]["done"], actions.len());
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), MEMBERS + 1);
    for account in accounts {
        let controls = account["controls"].as_array().unwrap();
        assert_eq!(controls.len(), 2, "{account:#}");
        for control in controls {
            assert_eq!(control["before"], "non_compliant", "{account:#}");
            assert_eq!(control["after"], "compliant", "{account:#}");
        }
    }
    // The view went to stderr, the document alone to stdout.
    assert!(
        stderr(&out).contains("Applying saved plan"),
        "{}",
        stderr(&out)
    );

    // What it said is what a fresh plan finds.
    let after = management.run(&["plan", "--org", "--controls", "5.1,5.6", "--format", "json"]);
    let after = document(&after, "org-plan");
    assert_eq!(
        after["summary"]["compliant"],
        2 * (MEMBERS + 1),
        "{after:#}"
    );
}

#[tokio::test]
async fn apply_drill_and_backout_across_fourteen_members_say_each_situation_once() {
    let (management, members) = organization().await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let controls = "5.1,5.3,5.6";

    // -q: no record lines and no per-account headings, as for one account.
    let out = management.run(&[
        "apply",
        "--org",
        "--controls",
        controls,
        "--notify",
        &notify,
        "--auto-approve",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains(": done"), "{text}");
    assert!(!text.contains("\nAccount "), "{text}");
    assert!(
        text.contains("Apply complete in 1 of 1 account: 8 created, 0 changed."),
        "{text}"
    );

    // The members' drills are their owner's: one section names them all.
    for quiet in [false, true] {
        let mut args = vec![
            "drill",
            "--org",
            "--controls",
            controls,
            "--auto-approve",
            "--wait",
            "10",
        ];
        if quiet {
            args.push("-q");
        }
        let out = management.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        let heading = format!("cis-fix drill: {MEMBERS} accounts ({}, ", members[0].id);
        assert_eq!(text.matches(&heading).count(), 1, "{text}");
        assert_eq!(text.matches("cis-fix drill:").count(), 2, "{text}");
        assert!(text.contains("and 9 more), region us-east-1"), "{text}");
        assert!(lines(&out) < 40, "{} lines:\n{text}", lines(&out));
    }

    let out = management.run(&["backout", "--org", "--format", "json", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = document(&out, "org-backout-result");
    assert_eq!(doc["kind"], "cis-fix-org-backout-result");
    assert_eq!(doc["counts"]["done"], 8, "{doc:#}");
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), MEMBERS + 1);
    let own = &accounts[0];
    assert_eq!(own["account_id"], management.id.as_str());
    assert_eq!(own["actions"].as_array().unwrap().len(), 8);
    // Read again afterwards: every control of every account is non-compliant once more.
    for account in accounts {
        let controls = account["controls"]
            .as_array()
            .unwrap_or_else(|| panic!("{account:#}"));
        assert_eq!(controls.len(), 15, "{account:#}");
        assert!(
            controls.iter().all(|c| c["after"] == "non_compliant"),
            "{account:#}"
        );
    }
    assert_eq!(doc["not_touched"], serde_json::json!([]));

    // Nothing left: one line says so for all fifteen, quiet or not.
    for quiet in [false, true] {
        let mut args = vec!["backout", "--org", "--auto-approve"];
        if quiet {
            args.push("-q");
        }
        let out = management.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.matches("cis-fix backout:").count(), 1, "{text}");
        assert!(
            text.starts_with(&format!("cis-fix backout: {} accounts (", MEMBERS + 1)),
            "{text}"
        );
        assert!(lines(&out) <= 5, "{text}");
    }
    let out = management.run(&["backout", "--org", "--format", "json", "--auto-approve"]);
    let doc = document(&out, "org-backout-result");
    assert_eq!(doc["counts"]["done"], 0);
    assert_eq!(doc["accounts"].as_array().unwrap().len(), MEMBERS + 1);
}

#[tokio::test]
async fn the_export_header_across_fourteen_members_says_each_situation_once() {
    let (management, members) = organization().await;
    let out = management.run(&[
        "export",
        "terraform",
        "--org",
        "--notify",
        "email:security@example.com",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    // Fifteen accounts × fifteen controls awaiting one confirmation: one line, not 225.
    assert_eq!(header.len(), 5, "{text}");
    assert!(
        header[1].contains(&format!(
            "from {} accounts ({}, {}, ",
            MEMBERS + 1,
            management.id,
            members[0].id
        )),
        "{text}"
    );
    assert!(
        header[1].contains(", … and 10 more), benchmark cis-7.0"),
        "{text}"
    );
    assert_eq!(
        header[4],
        "# all 15 accounts, all 15 controls: compliant once the new subscription is confirmed (AWS sends the endpoint a confirmation)."
    );
    // The members rely on the organization trail: what is declared is the management
    // account's, and the header names no more than the first few members.
    assert!(!text.contains(&members[MEMBERS - 1].id), "{text}");
    assert!(text.contains("resource \"aws_sns_topic\""), "{text}");
}
