//! `cis-fix apply` and `cis-fix backout` against the emulator: real calls, counted there.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::{
    assert_ok, isolate, queue, status, stderr, stdout, writes, Account, TrailSpec,
};

const GROUP: &str = "cloudtrail/management";
const NS: &str = "CISBenchmark";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

#[tokio::test]
async fn apply_from_a_bare_trail_then_the_plan_is_clean_and_a_second_apply_writes_nothing() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);

    let out = account.run(&["apply", "--notify", &notify, "--auto-approve"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("Plan: 32 to create, 0 to change."), "{text}");
    assert!(
        text.contains("+ create_topic cis-fix-alerts (us-east-1): done"),
        "{text}"
    );
    assert!(
        text.contains("Apply complete: 32 created, 0 changed."),
        "{text}"
    );
    // In order: the topic before the subscription before filters before alarms.
    let order: Vec<String> = writes(&account);
    let first = |op: &str| {
        order
            .iter()
            .position(|o| o == op)
            .unwrap_or_else(|| panic!("{op} not in {order:?}"))
    };
    assert!(first("CreateTopic") < first("Subscribe"));
    assert!(first("Subscribe") < first("PutMetricFilter"));
    assert!(order.iter().rposition(|o| o == "PutMetricFilter") < Some(first("PutMetricAlarm")));

    let out = account.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // cis-fix's marks are on what it created.
    let topic = account.topic_arn("cis-fix-alerts");
    let tags = account
        .sns()
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == "cis-fix:managed" && t.value() == "true"));
    let alarm_arn = format!(
        "arn:aws:cloudwatch:us-east-1:{}:alarm:cis-fix-console-authentication-failures",
        account.id
    );
    let tags = account
        .cloudwatch()
        .list_tags_for_resource()
        .resource_arn(&alarm_arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == Some("cis-fix:managed")),
        "{tags:?}"
    );

    // Idempotent: the second apply finds nothing to do and writes nothing.
    account.reset_calls();
    let out = account.run(&["apply", "--notify", &notify, "--auto-approve"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("No changes."), "{}", stdout(&out));
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
}

#[tokio::test]
async fn apply_reuses_a_users_filter_and_backout_leaves_it() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .filter(GROUP, "users-failures", AUTH_FAILURES, "Failures", NS)
        .await;
    let before = account.state().await;

    let out = account.run(&[
        "apply",
        "--controls",
        "4.6",
        "--notify",
        &queue(&account),
        "--auto-approve",
    ]);
    assert_ok(&out);
    assert!(
        !stdout(&out).contains("put_metric_filter"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        status(&account.plan(&["--controls", "4.6"]), "4.6"),
        "compliant"
    );

    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Plan: 3 to destroy."),
        "{}",
        stdout(&out)
    );
    assert_eq!(account.state().await, before);
}

#[tokio::test]
async fn backout_restores_the_exact_before_state() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // Things of the user's that must survive untouched, some with cis-fix-like names.
    let users_topic = account.topic("ops").await;
    account.subscribe(&users_topic, "sms", "+15555550100").await;
    account
        .filter(
            GROUP,
            "cis-fix-root-account-usage",
            "{ $.eventName = ConsoleLogin }",
            "Logins",
            NS,
        )
        .await;
    account
        .alarm(
            "cis-fix-vpc-changes",
            "Logins",
            NS,
            Some(&users_topic),
            true,
        )
        .await;
    let before = account.state().await;

    let out = account.run(&[
        "apply",
        "--notify",
        &queue(&account),
        "--notify",
        "email:sec@example.com",
        "--auto-approve",
    ]);
    assert_ok(&out);
    assert_ne!(account.state().await, before);

    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("Backout complete"), "{text}");
    assert_eq!(account.state().await, before, "{text}");

    // Nothing left: a second backout says so and exits 0.
    account.reset_calls();
    let out = account.run(&["backout"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Nothing to remove"),
        "{}",
        stdout(&out)
    );
    assert!(writes(&account).is_empty());
}

#[tokio::test]
async fn backout_keeps_a_topic_someone_else_subscribed_to_unless_forced() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "4.6",
        "--notify",
        &queue(&account),
        "--auto-approve",
    ]));
    let topic = account.topic_arn("cis-fix-alerts");
    account.subscribe(&topic, "sms", "+15555550100").await;

    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("pass --force"), "{}", stdout(&out));
    let subs = account
        .sns()
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = subs
        .subscriptions()
        .iter()
        .filter_map(|s| s.protocol())
        .collect();
    assert_eq!(left, ["sms"], "only the user's subscription stays");

    let out = account.run(&["backout", "--force", "--auto-approve"]);
    assert_ok(&out);
    let topics = account.sns().list_topics().send().await.unwrap();
    assert!(topics
        .topics()
        .iter()
        .all(|t| t.topic_arn() != Some(topic.as_str())));
}

#[tokio::test]
async fn a_stale_saved_plan_is_refused_without_writes_and_a_fresh_one_applies() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let file = path.to_str().unwrap();
    let notify = queue(&account);
    let save_plan = || {
        assert_ok(&account.run(&[
            "plan",
            "--controls",
            "4.1,4.6",
            "--notify",
            &notify,
            "--out",
            file,
        ]))
    };
    save_plan();

    // Someone adds a filter where the plan looked.
    account
        .filter(GROUP, "new", AUTH_FAILURES, "Failures", NS)
        .await;
    account.reset_calls();
    let out = account.run(&["apply", file, "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("stale"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("filter us-east-1 cloudtrail/management new appeared"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    // The same plan, for another account: refused the same way.
    let other = Account::new().await;
    other.trail(TrailSpec::good("main", GROUP)).await;
    other.reset_calls();
    let out = other.run(&["apply", file, "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("stale") && stderr(&out).contains(&account.id),
        "{}",
        stderr(&out)
    );
    assert!(writes(&other).is_empty());

    // A fresh plan applies exactly, and leaves the account compliant.
    save_plan();
    let out = account.run(&["apply", file, "--auto-approve"]);
    assert_ok(&out);
    let out = account.run(&["plan", "--controls", "4.1,4.6", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[tokio::test]
async fn without_a_terminal_and_without_auto_approve_nothing_is_written() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account.reset_calls();
    // `output()` gives the child no stdin: not a terminal.
    let out = account.run(&["apply", "--notify", &queue(&account)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--auto-approve"), "{}", stderr(&out));
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "4.6",
        "--notify",
        &queue(&account),
        "--auto-approve",
    ]));
    account.reset_calls();
    let out = account.run(&["backout"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--auto-approve"), "{}", stderr(&out));
    assert!(writes(&account).is_empty());
}

/// Runs cis-fix on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt
/// (see prompt.rs for the question itself).
fn on_terminal(account: &Account, args: &[&str], answer: &str) -> std::process::Output {
    let mut inner = vec![env!("CARGO_BIN_EXE_cis-fix").to_string()];
    inner.extend(args.iter().map(|a| a.to_string()));
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &inner.join(" "), "/dev/null"]);
    isolate(&mut cmd);
    cmd.env("AWS_ENDPOINT_URL", account.emulator.url())
        .env("AWS_ACCESS_KEY_ID", &account.id)
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run script(1)");
    let mut stdin = child.stdin.take().expect("stdin");
    // Answer once the prompt is up; the line waits in the terminal's buffer until read.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = stdin.write_all(answer.as_bytes());
    let _ = stdin.flush();
    let out = child.wait_with_output().expect("wait for script(1)");
    drop(stdin);
    out
}

#[tokio::test]
async fn on_a_terminal_no_refuses_and_yes_applies() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    let args = ["apply", "--controls", "4.6", "--notify", notify.as_str()];
    account.reset_calls();
    let out = on_terminal(&account, &args, "no\n");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!(
            "Apply 4 changes to account {} in us-east-1? Only 'yes' will be accepted:",
            account.id
        )),
        "{}",
        stdout(&out)
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    let out = on_terminal(&account, &args, "yes\n");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("Apply complete"), "{}", stdout(&out));
    assert_eq!(
        status(&account.plan(&["--controls", "4.6"]), "4.6"),
        "compliant"
    );
}

/// Every call cis-fix made, as the IAM action it needs.
fn actions_used(account: &Account) -> Vec<String> {
    let mut used: Vec<String> = account
        .calls()
        .into_iter()
        .map(|(service, op)| format!("{service}:{op}"))
        .collect();
    used.sort();
    used.dedup();
    used
}

/// Asserts that `file` allows every call the emulator saw since the last reset.
fn assert_policy_covers(account: &Account, file: &str, extra: &[&str]) {
    let policy = crate::harness::allowed(file);
    let mut used = actions_used(account);
    used.extend(extra.iter().map(|a| a.to_string()));
    for action in used {
        assert!(policy.contains(&action), "{file} lacks {action}");
    }
}

#[tokio::test]
async fn the_documented_iam_policies_cover_every_call() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // A key CloudWatch may use, so that plans read a key and its policy too.
    let key_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", account.id)},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]});
    let key = account.key(Some(&key_policy.to_string())).await;
    // A filter written differently from the catalog, so that plans ask AWS's TestMetricFilter.
    account
        .filter(
            GROUP,
            "auth-failures",
            "{ $.errorMessage = \"Failed authentication\" && $.eventName = \"ConsoleLogin\" }",
            "AuthFailures",
            "CISBenchmark",
        )
        .await;
    let (_, queue_arn) = account.queue("policy-check").await;
    let notify = format!("sqs:{queue_arn}");
    let fix = ["--notify", notify.as_str(), "--topic-kms-key", key.as_str()];

    account.reset_calls();
    let mut plan = vec!["plan"];
    plan.extend_from_slice(&fix);
    assert_ok(&account.run(&plan));
    assert_policy_covers(&account, "examples/iam-plan.json", &[]);

    account.reset_calls();
    let mut apply = vec!["apply", "--auto-approve"];
    apply.extend_from_slice(&fix);
    assert_ok(&account.run(&apply));
    // Tags given to PutMetricAlarm need cloudwatch:TagResource as well.
    assert_policy_covers(
        &account,
        "examples/iam-apply.json",
        &["cloudwatch:TagResource"],
    );

    // A plan of the fixed account reads the topic's attributes, its key and the key policy.
    account.reset_calls();
    assert_ok(&account.run(&["plan"]));
    let used = actions_used(&account);
    for read in [
        "sns:GetTopicAttributes",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
    ] {
        assert!(
            used.contains(&read.to_string()),
            "{read} not exercised: {used:?}"
        );
    }
    assert_policy_covers(&account, "examples/iam-plan.json", &[]);

    account.reset_calls();
    assert_ok(&account.run(&["drill", "--controls", "4.6", "--auto-approve"]));
    assert_policy_covers(&account, "examples/iam-drill.json", &[]);

    account.reset_calls();
    assert_ok(&account.run(&["backout", "--auto-approve"]));
    assert_policy_covers(&account, "examples/iam-apply.json", &[]);
}
