//! `cis-fix apply` and `cis-fix backout` against the emulator: real calls, counted there.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::words;
use crate::harness::{
    actions_used, assert_allows, assert_ok, isolate, queue, status, stderr, stdout, writes,
    Account, TrailSpec,
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
        text.contains("+ create_topic cis-fix-alerts: done"),
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
        "5.6",
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
        status(&account.plan(&["--controls", "5.6"]), "5.6"),
        "compliant"
    );

    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Plan: 3 to destroy."),
        "{}",
        stdout(&out)
    );
    // The same control tag as plan and apply give it, in the list and in the record.
    assert!(
        stdout(&out).contains("- delete_alarm cis-fix-console-authentication-failures [5.6]: done"),
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
        "5.6",
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
            "5.1,5.6",
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
    let out = account.run(&["plan", "--controls", "5.1,5.6", "--detailed-exitcode"]);
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
        "5.6",
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
    let args = ["apply", "--controls", "5.6", "--notify", notify.as_str()];
    account.reset_calls();
    let out = on_terminal(&account, &args, "no\n");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // The question wraps to the terminal (80 columns here): read as words.
    let words = words(&stdout(&out));
    assert!(
        words.contains(&format!(
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
        status(&account.plan(&["--controls", "5.6"]), "5.6"),
        "compliant"
    );
}

/// Asserts that the policy of `command` (`cis-fix iam-policy COMMAND`) allows every call the
/// emulator saw since the last reset.
fn assert_policy_covers(account: &Account, command: &str, extra: &[&str]) {
    let mut used = actions_used(account);
    used.extend(extra.iter().map(|a| a.to_string()));
    assert_allows(command, &used);
    // And no more: every action it adds to the reads was needed.
    let reads = crate::harness::allowed("plan");
    for action in crate::harness::allowed(command) {
        assert!(
            reads.contains(&action) || used.contains(&action),
            "`cis-fix iam-policy {command}` allows {action}, which {command} did not use"
        );
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
    // A filter on transformed logs, so that plans read the log group's transformers too.
    account
        .logs()
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name("errors")
        .filter_pattern("{ $.level = \"ERROR\" }")
        .metric_transformations(
            aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name("Errors")
                .metric_namespace("App")
                .metric_value("1")
                .build()
                .unwrap(),
        )
        .apply_on_transformed_logs(true)
        .send()
        .await
        .unwrap();
    let (_, queue_arn) = account.queue("policy-check").await;
    let notify = format!("sqs:{queue_arn}");
    let fix = ["--notify", notify.as_str(), "--topic-kms-key", key.as_str()];

    account.reset_calls();
    let mut plan = vec!["plan"];
    plan.extend_from_slice(&fix);
    assert_ok(&account.run(&plan));
    assert_policy_covers(&account, "plan", &[]);

    account.reset_calls();
    let mut export = vec!["export", "terraform"];
    export.extend_from_slice(&fix);
    assert_ok(&account.run(&export));
    assert_policy_covers(&account, "export", &[]);

    account.reset_calls();
    let mut apply = vec!["apply", "--auto-approve"];
    apply.extend_from_slice(&fix);
    assert_ok(&account.run(&apply));
    // The hardened catalog's watch path (an EventBridge rule, its target, the watch topic and
    // its policy) is written by apply too: its calls count with the CIS apply's.
    let mut hardened = apply.clone();
    hardened.extend_from_slice(&["--benchmark", "hardened"]);
    assert_ok(&account.run(&hardened));
    // Tags given to PutMetricAlarm and PutRule need cloudwatch:TagResource and
    // events:TagResource as well.
    assert_policy_covers(
        &account,
        "apply",
        &["cloudwatch:TagResource", "events:TagResource"],
    );

    // A plan of the fixed account reads the topic's attributes, its key and the key policy.
    account.reset_calls();
    assert_ok(&account.run(&["plan"]));
    let used = actions_used(&account);
    for read in [
        "sns:GetTopicAttributes",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "logs:GetTransformer",
        "logs:DescribeAccountPolicies",
    ] {
        assert!(
            used.contains(&read.to_string()),
            "{read} not exercised: {used:?}"
        );
    }
    assert_policy_covers(&account, "plan", &[]);

    account.reset_calls();
    assert_ok(&account.run(&["drill", "--controls", "5.6", "--auto-approve"]));
    assert_policy_covers(&account, "drill", &[]);

    account.reset_calls();
    // A backout under the default benchmark removes the hardened watch path too.
    assert_ok(&account.run(&["backout", "--auto-approve"]));
    assert_policy_covers(&account, "backout", &[]);
    for delete in [
        "cloudwatch:DeleteAlarms",
        "events:DeleteRule",
        "sns:DeleteTopic",
    ] {
        assert!(
            actions_used(&account).contains(&delete.to_string()),
            "{delete}: {:?}",
            actions_used(&account)
        );
    }
}

#[test]
fn iam_policy_prints_each_policy_file_as_it_is() {
    for (command, file) in [
        ("plan", "iam-plan"),
        ("apply", "iam-apply"),
        ("backout", "iam-backout"),
        ("drill", "iam-drill"),
        ("export", "iam-plan"),
        ("org-management", "iam-org-management"),
        ("org-member", "iam-org-member"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"))
            .args(["iam-policy", command])
            .output()
            .unwrap();
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        let path = crate::harness::path_in_repo(&format!("examples/{file}.json"));
        assert_eq!(
            stdout(&out),
            std::fs::read_to_string(path).unwrap(),
            "{command}"
        );
        let printed = crate::harness::iam_policy(command);
        assert_eq!(printed["Version"], "2012-10-17", "{command}");
    }
    // Only commands that call AWS have one.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cis-fix"))
        .args(["iam-policy", "controls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid value 'controls'"),
        "{}",
        stderr(&out)
    );
}

/// Runs cis-fix with `--format json` and reads its stdout: one result document, checked
/// against its published schema.
fn json_result(out: &std::process::Output, schema: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr: {}",
            stdout(out),
            stderr(out)
        )
    });
    crate::harness::validate(&doc, schema);
    doc
}

/// Each action's `outcome`, in order.
fn outcomes(doc: &serde_json::Value) -> Vec<String> {
    doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// Each control's `after` status, by id.
fn after(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["controls"]
        .as_array()
        .unwrap_or_else(|| panic!("no controls: {doc:#}"))
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["after"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn apply_and_backout_print_their_results_as_json() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let before = account.state().await;
    let notify = queue(&account);
    let apply = [
        "apply",
        "--controls",
        "5.1,5.6",
        "--notify",
        notify.as_str(),
        "--notify",
        "email:security@example.com",
        "--format",
        "json",
        "--auto-approve",
    ];

    let out = account.run(&apply);
    assert_ok(&out);
    let doc = json_result(&out, "apply-result");
    assert_eq!(doc["kind"], "cis-fix-apply-result");
    assert_eq!(doc["account_id"], account.id.as_str());
    assert_eq!(doc["region"], "us-east-1");
    assert_eq!(doc["interrupted"], false);
    // The topic, two subscriptions, then a filter and an alarm per control.
    let calls: Vec<&str> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls,
        [
            "create_topic",
            "subscribe",
            "subscribe",
            "put_metric_filter",
            "put_metric_filter",
            "put_metric_alarm",
            "put_metric_alarm"
        ],
        "{doc:#}"
    );
    assert!(outcomes(&doc).iter().all(|o| o == "done"), "{doc:#}");
    assert!(
        doc["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a.get("error").is_none()),
        "{doc:#}"
    );
    assert_eq!(
        doc["counts"],
        serde_json::json!({"done": 7, "failed": 0, "not_attempted": 0})
    );
    // Actions are written as the plan writes them, endpoints masked.
    let email = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["protocol"] == "email")
        .unwrap();
    assert_eq!(email["endpoint"], "s****@example.com", "{doc:#}");
    assert!(!stdout(&out).contains("security@example.com"));
    assert_eq!(
        after(&doc),
        [
            ("5.1".to_string(), "compliant".to_string()),
            ("5.6".to_string(), "compliant".to_string())
        ]
    );
    assert!(doc["controls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["before"] == "non_compliant"));
    // The human text goes to stderr, without a progress line (stderr is not a terminal).
    let err = stderr(&out);
    assert!(err.contains("Plan: 7 to create, 0 to change."), "{err}");
    assert!(err.contains("+ create_topic cis-fix-alerts: done"), "{err}");
    assert!(err.contains("Apply complete: 7 created"), "{err}");
    assert!(!err.contains('\r') && !err.contains("\x1b["), "{err:?}");
    let plan = account.plan(&["--controls", "5.1,5.6"]);
    assert_eq!(status(&plan, "5.6"), "compliant");
    // Its actions are the plan's: it follows the plan's format version.
    assert_eq!(doc["format_version"], plan["format_version"]);

    // Nothing left to do: still a document, with no action.
    account.reset_calls();
    let out = account.run(&apply);
    assert_ok(&out);
    let doc = json_result(&out, "apply-result");
    assert_eq!(doc["actions"], serde_json::json!([]));
    assert_eq!(
        doc["counts"],
        serde_json::json!({"done": 0, "failed": 0, "not_attempted": 0})
    );
    assert!(after(&doc).iter().all(|(_, a)| a == "compliant"), "{doc:#}");
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    // Backout, as JSON: every removal done, and the controls read again afterwards. (Someone
    // confirms the email subscription, so that it is unsubscribed too.)
    account.confirm_topic(&account.topic_arn("cis-fix-alerts"));
    let out = account.run(&["backout", "--format", "json", "--auto-approve"]);
    assert_ok(&out);
    let doc = json_result(&out, "backout-result");
    assert_eq!(doc["kind"], "cis-fix-backout-result");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["account_id"], account.id.as_str());
    assert_eq!(doc["interrupted"], false);
    let removals: Vec<&str> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        removals,
        [
            "delete_alarm",
            "delete_alarm",
            "delete_metric_filter",
            "delete_metric_filter",
            "unsubscribe",
            "unsubscribe",
            "delete_topic"
        ],
        "{doc:#}"
    );
    assert!(outcomes(&doc).iter().all(|o| o == "done"), "{doc:#}");
    assert_eq!(
        doc["counts"],
        serde_json::json!({"done": 7, "failed": 0, "not_attempted": 0})
    );
    let unsubscribe = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["protocol"] == "email")
        .unwrap_or_else(|| panic!("no email unsubscribe: {doc:#}"));
    assert_eq!(unsubscribe["endpoint"], "s****@example.com", "{doc:#}");
    assert_eq!(doc["kept"], serde_json::json!([]));
    // Every control of the benchmark, none compliant any more.
    let controls = after(&doc);
    assert_eq!(controls.len(), 15, "{doc:#}");
    assert!(
        controls.iter().all(|(_, a)| a == "non_compliant"),
        "{doc:#}"
    );
    assert!(doc.get("controls_unknown").is_none(), "{doc:#}");
    let err = stderr(&out);
    assert!(err.contains("Plan: 7 to destroy."), "{err}");
    assert!(err.contains("Backout complete: 7 removed."), "{err}");
    assert_eq!(account.state().await, before);

    // Nothing left to remove: a document with no removal.
    let out = account.run(&[
        "backout",
        "--controls",
        "5.6",
        "--format",
        "json",
        "--auto-approve",
    ]);
    assert_ok(&out);
    let doc = json_result(&out, "backout-result");
    assert_eq!(doc["actions"], serde_json::json!([]));
    assert_eq!(
        after(&doc),
        [("5.6".to_string(), "non_compliant".to_string())]
    );
}

#[tokio::test]
async fn a_failed_call_is_failed_in_the_json_result_and_the_rest_not_attempted() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);

    account.faults(&["access_denied"], &["PutMetricAlarm"], 1.0);
    let out = account.run(&[
        "apply",
        "--controls",
        "5.1,5.6",
        "--notify",
        &notify,
        "--format",
        "json",
        "--auto-approve",
    ]);
    account.clear_faults();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_result(&out, "apply-result");
    assert_eq!(
        outcomes(&doc),
        ["done", "done", "done", "done", "failed", "not_attempted"],
        "{doc:#}"
    );
    let actions = doc["actions"].as_array().unwrap();
    assert_eq!(actions[4]["action"], "put_metric_alarm");
    let error = actions[4]["error"].as_str().unwrap();
    assert!(
        error.starts_with("AWS call cloudwatch:PutMetricAlarm failed"),
        "{error}"
    );
    assert!(actions[5].get("error").is_none(), "{doc:#}");
    assert_eq!(
        doc["counts"],
        serde_json::json!({"done": 4, "failed": 1, "not_attempted": 1})
    );
    assert_eq!(doc["interrupted"], false);
    assert!(
        after(&doc).iter().all(|(_, a)| a == "non_compliant"),
        "{doc:#}"
    );
    // The error is said on stderr as in text mode, last.
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: AWS call cloudwatch:PutMetricAlarm failed")
            && last.contains("4 changes were made before it; run the same command again"),
        "{err}"
    );

    // A removal that fails the same way.
    account.faults(&["access_denied"], &["DeleteMetricFilter"], 1.0);
    let out = account.run(&["backout", "--format", "json", "--auto-approve"]);
    account.clear_faults();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_result(&out, "backout-result");
    // The two filters, the subscription and the topic: the first filter fails.
    assert_eq!(
        outcomes(&doc),
        ["failed", "not_attempted", "not_attempted", "not_attempted"],
        "{doc:#}"
    );
    assert!(doc["actions"][0]["error"]
        .as_str()
        .unwrap()
        .starts_with("AWS call logs:DeleteMetricFilter failed"));
    assert_eq!(
        doc["counts"],
        serde_json::json!({"done": 0, "failed": 1, "not_attempted": 3})
    );
    assert_eq!(after(&doc).len(), 15, "{doc:#}");
    assert!(
        stderr(&out).contains(
            "0 resources were removed before it; run the same command again to remove the rest"
        ),
        "{}",
        stderr(&out)
    );
    assert_ok(&account.run(&["backout", "--auto-approve"]));

    // A run of one named with --accounts writes the organization's documents.
    let notify = queue(&account);
    let out = account.run(&[
        "apply",
        "--accounts",
        &account.id,
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--format",
        "json",
        "--auto-approve",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json_result(&out, "org-apply-result");
    assert_eq!(doc["kind"], "cis-fix-org-apply-result");
    assert_eq!(doc["counts"]["done"], 4, "{doc:#}");
    assert_eq!(doc["accounts"][0]["controls"][0]["after"], "compliant");
    let out = account.run(&[
        "backout",
        "--accounts",
        &account.id,
        "--format",
        "json",
        "--auto-approve",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json_result(&out, "org-backout-result");
    assert_eq!(doc["counts"]["done"], 4, "{doc:#}");
    assert_eq!(doc["accounts"][0]["account_id"], account.id.as_str());
}

#[tokio::test]
async fn on_a_terminal_a_progress_line_shows_under_the_records_and_is_cleared() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // Slow filters, so that the progress line is drawn while one is in flight.
    account.faults_with(serde_json::json!({
        "kinds": ["delay"], "operations": ["PutMetricFilter"], "rate": 1.0, "delay_ms": 700
    }));
    let notify = queue(&account);
    let out = on_terminal(
        &account,
        &["apply", "--controls", "5.6", "--notify", notify.as_str()],
        "yes\n",
    );
    account.clear_faults();
    let screen = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    // The call in flight, n of N.
    let bar = screen
        .find("3 of 4: + put_metric_filter")
        .unwrap_or_else(|| panic!("no progress line: {screen:?}"));
    // The records stay; the line is cleared before the summary.
    assert!(
        screen.contains("+ create_topic cis-fix-alerts: done"),
        "{screen}"
    );
    let complete = screen.find("Apply complete: 4 created").unwrap();
    assert!(bar < complete, "{screen:?}");
    assert!(
        screen[bar..complete].contains("\x1b[2K"),
        "not cleared: {screen:?}"
    );
    assert!(!screen.contains("\x1b[?25l"), "cursor hidden: {screen:?}");
}

#[tokio::test]
async fn ctrl_c_during_a_json_apply_leaves_the_rest_not_attempted_and_exits_130() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // Slow filters, so that the Ctrl-C finds the first one in flight.
    account.faults_with(serde_json::json!({
        "kinds": ["delay"], "operations": ["PutMetricFilter"], "rate": 1.0, "delay_ms": 1500
    }));
    let notify = queue(&account);
    let child = account
        .command(&[
            "apply",
            "--controls",
            "5.1,5.6",
            "--notify",
            &notify,
            "--format",
            "json",
            "--auto-approve",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apply");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !writes(&account).iter().any(|w| w == "Subscribe") {
        assert!(std::time::Instant::now() < deadline, "no writes");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Ctrl-C, as the terminal sends it.
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait for apply");
    account.clear_faults();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let doc = json_result(&out, "apply-result");
    assert_eq!(doc["interrupted"], true, "{doc:#}");
    // The topic, the subscription and at most the filter in flight; nothing after.
    let made = outcomes(&doc).iter().filter(|o| *o == "done").count();
    assert!((2..=3).contains(&made), "{doc:#}");
    let mut expected = vec!["done"; made];
    expected.resize(6, "not_attempted");
    assert_eq!(outcomes(&doc), expected, "{doc:#}");
    assert_eq!(
        doc["counts"],
        serde_json::json!({"done": made, "failed": 0, "not_attempted": 6 - made})
    );
    assert!(
        after(&doc).iter().all(|(_, a)| a == "non_compliant"),
        "{doc:#}"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("interrupted: {made} of 6 changes were made")),
        "{err}"
    );
}
