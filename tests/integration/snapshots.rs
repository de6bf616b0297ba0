//! Whole outputs, pinned (issue 20): `plan`, `apply`, `backout`, `drill` and `export`, text and
//! JSON, for one account and with `--org`, on the demo account and a small organization. They
//! are the proof that a redesign changes no byte; a change of wording shows as a snapshot
//! change, to be reviewed as such (`cargo insta review`, or `INSTA_UPDATE=always`).
//!
//! What varies from run to run is replaced by names: each account id by its role, the
//! emulator's port, subscription and message ids, times, SHA-256 digests and the digest
//! that ends a filter's name or an endpoint's tag (they hash the account id).

use std::process::Output;

use crate::harness::{Account, TrailSpec};

const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";

/// The accounts of one fixture, by the name they take in the snapshots.
struct Names(Vec<(String, &'static str)>);

impl Names {
    fn of(accounts: &[(&Account, &'static str)]) -> Names {
        Names(accounts.iter().map(|(a, n)| (a.id.clone(), *n)).collect())
    }

    /// `text` with every varying part replaced.
    fn settle(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (id, name) in &self.0 {
            out = out.replace(id.as_str(), &format!("[{name}]"));
        }
        let rules: [(&str, &str); 8] = [
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
            (
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "[UUID]",
            ),
            (
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                "[TIME]",
            ),
            (r"\b[0-9a-f]{64}\b", "[SHA256]"),
            // A filter's (or a second alarm's) name ends in a digest of its account.
            (
                r"\b(cis-fix-[a-z0-9-]*[a-z0-9])-[0-9a-f]{8}\b",
                "$1-[DIGEST]",
            ),
            // So does the tag naming a subscription's endpoint.
            (
                r"\bcis-fix:endpoint:[0-9a-f]{8}\b",
                "cis-fix:endpoint:[DIGEST]",
            ),
            (r"/tmp/\.tmp\w+", "[TMP]"),
            (r"\d+\.\d\d s\b", "[SECONDS] s"),
        ];
        for (pattern, to) in rules {
            out = regex::Regex::new(pattern)
                .unwrap()
                .replace_all(&out, to)
                .into_owned();
        }
        out
    }

    /// The whole of a run: its exit code, stdout and stderr.
    fn run(&self, out: &Output) -> String {
        self.settle(&format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn pin(name: &str, text: String) {
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[tokio::test]
async fn one_account_plan_apply_drill_backout() {
    let account = Account::demo().await;
    let names = Names::of(&[(&account, "ACCOUNT")]);
    let notify = format!("sqs:arn:aws:sqs:us-east-1:{}:security-alerts", account.id);
    let run = |args: &[&str]| names.run(&account.run(args));
    pin("one-plan-text", run(&["plan", "--notify", &notify]));
    pin(
        "one-plan-json",
        run(&["plan", "--notify", &notify, "--format", "json"]),
    );
    pin(
        "one-plan-quiet",
        run(&["plan", "--notify", &notify, "--quiet"]),
    );
    pin(
        "one-export-terraform",
        names.run(
            &account
                .command(&["export", "terraform", "--notify", &notify])
                .env("SOURCE_DATE_EPOCH", "1764547200")
                .output()
                .unwrap(),
        ),
    );
    pin(
        "one-export-cloudformation",
        names.run(
            &account
                .command(&["export", "cloudformation", "--notify", &notify])
                .env("SOURCE_DATE_EPOCH", "1764547200")
                .output()
                .unwrap(),
        ),
    );
    pin(
        "one-apply-text",
        run(&["apply", "--notify", &notify, "--auto-approve"]),
    );
    pin(
        "one-plan-after-apply",
        run(&["plan", "--detailed-exitcode"]),
    );
    pin(
        "one-drill-text",
        run(&[
            "drill",
            "--controls",
            "5.1,5.3",
            "--auto-approve",
            "--wait",
            "10",
        ]),
    );
    pin(
        "one-backout-json",
        run(&[
            "backout",
            "--controls",
            "5.3",
            "--format",
            "json",
            "--auto-approve",
        ]),
    );
    pin("one-backout-text", run(&["backout", "--auto-approve"]));
    pin("one-backout-nothing", run(&["backout", "--auto-approve"]));
    pin(
        "one-apply-json",
        run(&[
            "apply",
            "--controls",
            "5.2",
            "--notify",
            &notify,
            "--format",
            "json",
            "--auto-approve",
        ]),
    );
}

/// A management account with an organization trail and two members: one relying on it, one
/// with its own trail and nothing else.
async fn organization() -> (Account, Account, Account) {
    let management = Account::new().await;
    let relies = Account::new().await;
    let own = Account::new().await;
    management.organization(&[&relies, &own]);
    management.organization_trail("org", ORG_GROUP).await;
    own.trail(TrailSpec::good("own", "cloudtrail/own")).await;
    (management, relies, own)
}

#[tokio::test]
async fn organization_plan_apply_drill_backout() {
    let (management, relies, own) = organization().await;
    let names = Names::of(&[
        (&management, "MANAGEMENT"),
        (&relies, "MEMBER-RELIES"),
        (&own, "MEMBER-OWN"),
    ]);
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let controls = "5.1,5.3,5.6";
    let run = |args: &[&str]| names.run(&management.run(args));
    let plan = ["plan", "--org", "--controls", controls, "--notify", &notify];
    pin("org-plan-text", run(&plan));
    let mut json = plan.to_vec();
    json.extend(["--format", "json"]);
    pin("org-plan-json", run(&json));
    let mut quiet = plan.to_vec();
    quiet.push("--quiet");
    pin("org-plan-quiet", run(&quiet));
    pin(
        "org-export-terraform",
        names.run(
            &management
                .command(&[
                    "export",
                    "terraform",
                    "--org",
                    "--controls",
                    controls,
                    "--notify",
                    &notify,
                ])
                .env("SOURCE_DATE_EPOCH", "1764547200")
                .output()
                .unwrap(),
        ),
    );
    pin(
        "org-apply-text",
        run(&[
            "apply",
            "--org",
            "--controls",
            controls,
            "--notify",
            &notify,
            "--auto-approve",
        ]),
    );
    // -v once every chain is whole: each shown, the members' once. stdout alone: stderr logs
    // each call, in the order the accounts' reads happen to interleave.
    let mut verbose = plan.to_vec();
    verbose.push("-v");
    let out = management.run(&verbose);
    pin(
        "org-plan-verbose",
        names.settle(&format!(
            "exit {:?}\n--- stdout\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout)
        )),
    );
    pin(
        "org-drill-text",
        run(&[
            "drill",
            "--org",
            "--controls",
            controls,
            "--auto-approve",
            "--wait",
            "10",
        ]),
    );
    pin(
        "org-backout-text",
        run(&["backout", "--org", "--auto-approve"]),
    );
    pin(
        "org-backout-nothing",
        run(&["backout", "--org", "--auto-approve"]),
    );
}
