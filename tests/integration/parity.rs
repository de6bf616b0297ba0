//! One flow for one account or many (issue 20): across an organization of fourteen members,
//! `apply` and `backout` write one JSON document for every account, a saved organization plan
//! is applied like a single account's (also with `--format json`), `-q` is as quiet, and a
//! situation the members share is said once, however many share it.

use std::process::Output;

use serde_json::Value;

use crate::harness::words;
use crate::harness::{stderr, stdout, validate, Account};

const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";
const MEMBERS: usize = 14;

/// A management account with an organization trail, and fourteen members relying on it.
async fn organization() -> (Account, Vec<Account>) {
    organization_of_first(MEMBERS).await
}

/// A management account with an organization trail, and fourteen accounts of which the first
/// `joined` are members relying on it (the rest can join later).
async fn organization_of_first(joined: usize) -> (Account, Vec<Account>) {
    let management = Account::new().await;
    let mut members = Vec::new();
    for _ in 0..MEMBERS {
        members.push(Account::new().await);
    }
    management.organization(&members.iter().take(joined).collect::<Vec<_>>());
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

/// The first line of each chain a plan's text shows (`5.1 unauthorized-api-calls: trail …`).
fn chain_heads(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("  5.") && l.contains(": trail "))
        .collect()
}

/// How many `operation` calls `-v` logged on stderr.
fn logged(log: &str, operation: &str) -> usize {
    let line = format!("aws {operation} (us-east-1): ");
    log.lines().filter(|l| l.starts_with(&line)).count()
}

/// A management account whose organization trail's chain is whole for `controls` (applied),
/// with fourteen members of which only the first twelve are in its organization yet.
async fn twelve_members_compliant(controls: &str) -> (Account, Vec<Account>) {
    let (management, members) = organization_of_first(12).await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
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
    (management, members)
}

/// `plan -v` across accounts shows every compliant control's chain as one account's does, a
/// chain the members share said once with their count: two members more add no chain line.
#[tokio::test]
async fn plan_v_across_accounts_shows_each_shared_chain_once() {
    let controls = "5.1,5.6";
    let (management, members) = twelve_members_compliant(controls).await;
    let plan = |args: &[&str]| {
        let out = management.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        out
    };
    let twelve = plan(&["plan", "--org", "--controls", controls, "-v"]);
    let text = stdout(&twelve);
    // -v logs every account's calls on stderr, as for one: the members' too.
    let log = stderr(&twelve);
    assert!(logged(&log, "organizations:ListAccounts") >= 1, "{log}");
    assert!(logged(&log, "sts:AssumeRole") >= 12, "{log}");
    assert!(logged(&log, "cloudtrail:DescribeTrails") >= 13, "{log}");

    // Each compliant control's chain, as each account's plan words it, its topic named as the
    // view's actions name it: the management account and the twelve members relying on its
    // chain read alike, so one line each control says it for all thirteen.
    assert_eq!(chain_heads(&text).len(), 2, "{text}");
    let said = words(&text);
    for (control, slug) in [
        ("5.1", "unauthorized-api-calls"),
        ("5.6", "console-authentication-failures"),
    ] {
        let head = format!(
            "{control} {slug}: trail org -> log group {ORG_GROUP} -> filter cis-fix-{slug}-"
        );
        assert_eq!(said.matches(&head).count(), 1, "{text}");
    }
    let shared = format!(
        "-> topic cis-fix-alerts (1 confirmed subscription) ×13 accounts: {}, {}, {}, {}, {}, … and 8 more ",
        management.id, members[0].id, members[1].id, members[2].id, members[3].id
    );
    assert_eq!(said.matches(&shared).count(), 2, "{text}");

    // Without -v, no chain; with -q, no findings at all.
    let normal = stdout(&plan(&["plan", "--org", "--controls", controls]));
    assert!(chain_heads(&normal).is_empty(), "{normal}");
    let quiet = stdout(&plan(&["plan", "--org", "--controls", controls, "-q"]));
    assert!(!quiet.contains("Findings"), "{quiet}");

    // Two members more: the same chains, counted anew; only the matrix grows.
    let rest: Vec<&Account> = members.iter().skip(12).collect();
    management.organization(&rest);
    let fourteen = stdout(&plan(&["plan", "--org", "--controls", controls, "-v"]));
    assert_eq!(chain_heads(&fourteen), chain_heads(&text), "{fourteen}");
    assert_eq!(
        words(&fourteen).matches(" ×15 accounts: ").count(),
        2,
        "{fourteen}"
    );
    assert_eq!(
        fourteen.lines().count(),
        text.lines().count() + 2,
        "{text}\n{fourteen}"
    );

    // A list of accounts reads alike.
    let some = format!("{},{},{}", management.id, members[0].id, members[1].id);
    let listed = stdout(&plan(&[
        "plan",
        "--accounts",
        &some,
        "--controls",
        controls,
        "-v",
    ]));
    assert_eq!(chain_heads(&listed).len(), 2, "{listed}");
    assert_eq!(
        words(&listed).matches(" ×3 accounts: ").count(),
        2,
        "{listed}"
    );
}
