//! Honest in a pipeline (issue 13): options that name something unusable are input errors,
//! summaries and exit codes say what an apply leaves undone, endpoints never leak, and saved
//! plans a team can use.

use crate::harness::words;
use crate::harness::{assert_ok, status, stderr, stdout, writes, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";

async fn account_with_trail() -> Account {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
}

/// Runs `cis-fix ARGS`, expecting an input error: exit 1, one line naming `option` and
/// `value`, nothing on stdout, no write.
fn assert_input_error(account: &Account, args: &[&str], option: &str, value: &str) {
    account.reset_calls();
    let out = account.run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: one line: {err}"
    );
    assert!(
        err.contains(option) && err.contains(value),
        "{args:?}: {err}"
    );
    assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    assert!(
        writes(account).is_empty(),
        "{args:?}: {:?}",
        writes(account)
    );
}

#[tokio::test]
async fn options_naming_something_unusable_are_input_errors() {
    let account = account_with_trail().await;
    let missing = format!("arn:aws:sns:us-east-1:{}:no-such-topic", account.id);
    for command in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let mut args = command.to_vec();
        args.extend(["--topic-arn", missing.as_str()]);
        assert_input_error(&account, &args, "--topic-arn", &missing);
    }

    let elsewhere = account
        .topic("alerts")
        .await
        .replace("us-east-1", "eu-west-1");
    assert_input_error(
        &account,
        &["apply", "--auto-approve", "--topic-arn", &elsewhere],
        "--topic-arn",
        &elsewhere,
    );

    // A topic named like cis-fix's, made by someone else.
    account.topic("cis-fix-alerts").await;
    assert_input_error(
        &account,
        &[
            "apply",
            "--auto-approve",
            "--notify",
            "sqs:arn:aws:sqs:us-east-1:111122223333:q",
        ],
        "--topic-name",
        "cis-fix-alerts",
    );

    let other = account_with_trail().await;
    assert_input_error(
        &other,
        &[
            "apply",
            "--auto-approve",
            "--notify",
            "sqs:arn:aws:sqs:us-east-1:111122223333:q",
            "--topic-kms-key",
            "alias/aws/sns",
        ],
        "--topic-kms-key",
        "alias/aws/sns",
    );
}

#[tokio::test]
async fn no_changes_only_when_all_is_compliant_and_apply_says_what_it_leaves_undone() {
    let account = account_with_trail().await;
    // No --notify and no topic to reuse: nothing can be planned.
    let out = account.run(&["plan"]);
    // Lines wrap at 100 columns outside a terminal: read the words, not the layout.
    let text = words(&stdout(&out));
    assert!(!text.contains("No changes."), "{text}");
    assert!(
        text.contains("Nothing can be planned for 15 non-compliant controls: no topic to notify (pass --notify PROTOCOL:ENDPOINT or --topic-arn ARN)."),
        "{text}"
    );
    account.reset_calls();
    let out = account.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no topic to notify"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&account).is_empty());

    // An email subscriber: the apply is complete but for the confirmation, and says so.
    let out = account.run(&[
        "apply",
        "--controls",
        "5.1,5.6",
        "--notify",
        "email:security@example.com",
        "--auto-approve",
    ]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("2 controls wait for a subscription to be confirmed"),
        "{}",
        stdout(&out)
    );

    // An SQS subscriber: compliant at once, exit 0.
    let sqs = account_with_trail().await;
    let (_, queue) = sqs.queue("inbox").await;
    let out = sqs.run(&[
        "apply",
        "--controls",
        "5.1",
        "--notify",
        &format!("sqs:{queue}"),
        "--auto-approve",
    ]);
    assert_ok(&out);
    let plan = sqs.plan(&["--controls", "5.1"]);
    assert_eq!(status(&plan, "5.1"), "compliant");
    let out = sqs.run(&["plan", "--controls", "5.1"]);
    assert!(stdout(&out).contains("No changes."), "{}", stdout(&out));
}

#[tokio::test]
async fn a_webhook_token_never_appears_in_output() {
    const TOKEN: &str = "XoXb5ecretT0ken";
    const MASKED: &str = "hooks.example.com/****";
    let account = account_with_trail().await;
    let notify = format!("https:https://hooks.example.com/services/T000/B000/{TOKEN}");
    // Credentials in the URL are as secret as its path.
    let with_password = format!("https://hookuser:{TOKEN}@hooks.example.com/cis");
    let mistyped = format!("htps://hooks.example.com/services/T000/B000/{TOKEN}");
    let bad_https = format!("https:{TOKEN}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let file = path.to_str().unwrap();
    // Each run: its arguments, its exit code, and whether its output shows the masked form.
    let runs: Vec<(Vec<&str>, i32, bool)> = vec![
        (vec!["plan", "--notify", &notify], 0, true),
        (vec!["plan", "-v", "--notify", &notify], 0, true),
        (
            vec!["plan", "--notify", &notify, "--format", "json", "--stats"],
            0,
            true,
        ),
        (vec!["plan", "--notify", &notify, "--out", file], 0, true),
        (vec!["plan", "--notify", &with_password], 0, true),
        (
            vec!["plan", "--notify", &with_password, "--format", "json"],
            0,
            true,
        ),
        // A value that does not parse is not echoed as typed.
        (vec!["plan", "--notify", &mistyped], 1, false),
        (vec!["plan", "--notify", &bad_https], 1, false),
        // The first apply subscribes the webhook (JSON result), the second has nothing to do.
        (
            vec![
                "apply",
                "-v",
                "--notify",
                &notify,
                "--auto-approve",
                "--format",
                "json",
            ],
            0,
            true,
        ),
        (
            vec![
                "apply",
                "-v",
                "--notify",
                &notify,
                "--auto-approve",
                "--stats",
            ],
            0,
            false,
        ),
        // Pending subscriptions: counted, their endpoints not named.
        (vec!["plan", "--format", "json"], 0, false),
        (vec!["plan", "-v"], 0, false),
    ];
    for (args, code, masked) in &runs {
        let out = account.run(args);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(*code), "{args:?}:\n{all}");
        assert!(!all.contains(TOKEN), "{args:?} printed the token:\n{all}");
        if *masked {
            assert!(all.contains(MASKED), "{args:?}: no {MASKED}:\n{all}");
        }
    }
    // The mistyped value is masked, not dropped: the user can tell which one it was.
    let err = stderr(&account.run(&["plan", "--notify", &mistyped]));
    assert!(
        err.contains("htps:****") && err.contains("unknown protocol"),
        "{err}"
    );
    let out = account.run(&["plan", "--notify", &with_password]);
    assert!(
        stdout(&out).contains("https://****@hooks.example.com/****"),
        "{}",
        stdout(&out)
    );

    // The saved plan must keep it to subscribe, in a file only its owner can read.
    let saved = std::fs::read_to_string(&path).unwrap();
    crate::harness::validate(&serde_json::from_str(&saved).unwrap(), "saved-plan");
    assert!(saved.contains(TOKEN));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // The apply above made it stale: the error's command masks the endpoint, and says so.
    account.reset_calls();
    let out = account.run(&["apply", file]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("stale") && !err.contains(TOKEN), "{err}");
    assert!(err.contains(MASKED) && err.contains("masked"), "{err}");
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    assert!(!format!("{}{}", stdout(&out), stderr(&out)).contains(TOKEN));
    // --show-endpoints is the explicit exception, in text and JSON alike.
    let out = account.run(&["plan", "--notify", &notify, "--show-endpoints"]);
    assert!(stdout(&out).contains(TOKEN));
    let out = account.run(&[
        "plan",
        "--notify",
        &notify,
        "--show-endpoints",
        "--format",
        "json",
    ]);
    assert!(stdout(&out).contains(TOKEN));
}

#[tokio::test]
async fn saved_plans_a_team_can_use() {
    let account = account_with_trail().await;
    let (_, queue) = account.queue("inbox").await;
    let notify = format!("sqs:{queue}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let file = path.to_str().unwrap();
    let save = || {
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
    save();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    crate::harness::validate(&saved, "saved-plan");
    assert_eq!(saved["cis_fix_version"], env!("CARGO_PKG_VERSION"));
    assert!(saved["created_at"].as_str().unwrap().ends_with('Z'));

    // An unrelated alarm (autoscaling, say) changes: the plan is still good.
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
    account
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name("TargetTracking-cpu-high")
        .metric_name("CPUUtilization")
        .namespace("AWS/EC2")
        .statistic(Statistic::Average)
        .period(60)
        .threshold(70.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .evaluation_periods(3)
        .send()
        .await
        .unwrap();

    // Options that would change the plan, or that it would ignore, are refused with a plan
    // file, before any AWS call.
    account.reset_calls();
    for extra in [
        &["--benchmark", "cis-1.4"][..],
        &["--topic-name", "other"][..],
        &["--role", "Auditor"][..],
        &["--external-id", "xyz"][..],
        &["--concurrency", "2"][..],
        &["--org"][..],
        &["--accounts", &account.id][..],
    ] {
        let mut args = vec!["apply", file];
        args.extend_from_slice(extra);
        let out = account.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        // --concurrency reads many accounts: without --org or --accounts it is refused;
        // with a one-account plan, so are they.
        let refused = [
            "cannot be used with",
            "required arguments were not provided:\n  <--org|--accounts",
            "was made for one account",
        ];
        assert!(
            refused.iter().any(|r| stderr(&out).contains(r)),
            "{}",
            stderr(&out)
        );
    }
    assert!(account.calls().is_empty(), "{:?}", account.calls());
    // Another region is a conflict with the plan's, not a stale plan.
    let out = account.run(&["apply", file, "--region", "eu-west-1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--region eu-west-1 conflicts with the saved plan's region us-east-1")
            && !err.contains("stale"),
        "{err}"
    );
    assert!(account.calls().is_empty(), "{:?}", account.calls());

    // A saved plan is the approval: no prompt, even without a terminal.
    let out = account.run(&["apply", file]);
    assert_ok(&out);
    assert!(stdout(&out).contains("Apply complete"), "{}", stdout(&out));

    // A change that leaves the actions as they are (here: none) leaves the plan good.
    save();
    account
        .filter(
            GROUP,
            "new",
            "{ $.eventName = ConsoleLogin }",
            "Logins",
            "CISBenchmark",
        )
        .await;
    account.reset_calls();
    assert_ok(&account.run(&["apply", file]));
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
    // A change that a fresh plan answers with other actions makes it stale, the message says
    // what differs and what changed, and gives the whole original command.
    account
        .cloudwatch()
        .delete_alarms()
        .alarm_names("cis-fix-unauthorized-api-calls")
        .send()
        .await
        .unwrap();
    account.reset_calls();
    let out = account.run(&["apply", file]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("stale"), "{err}");
    assert!(
        err.contains("a fresh plan has + put_metric_alarm cis-fix-unauthorized-api-calls")
            && err.contains("alarm us-east-1 cis-fix-unauthorized-api-calls went away"),
        "{err}"
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
    // An SQS queue ARN is not masked: nothing to fill in.
    assert!(!err.contains("masked"), "{err}");
    assert!(
        err.contains(&format!(
            "cis-fix plan --controls 5.1,5.6 --notify {notify} --out {file}"
        )),
        "{err}"
    );

    // --out - writes the saved plan to stdout, the view to stderr.
    let out = account.run(&[
        "plan",
        "--controls",
        "5.1",
        "--notify",
        &notify,
        "--out",
        "-",
    ]);
    assert_ok(&out);
    let piped: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::harness::validate(&piped, "saved-plan");
    assert_eq!(piped["kind"], "cis-fix-saved-plan");
    assert!(
        stderr(&out).contains("5.1 unauthorized-api-calls"),
        "{}",
        stderr(&out)
    );

    // An unwritable --out fails before any AWS call.
    account.reset_calls();
    let out = account.run(&["plan", "--out", "/nonexistent-dir/plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent-dir/plan.json"),
        "{}",
        stderr(&out)
    );
    assert!(account.calls().is_empty(), "{:?}", account.calls());

    // Nor a directory: refused before any AWS call, not after the whole read.
    let out = account.run(&["plan", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    assert!(account.calls().is_empty(), "{:?}", account.calls());

    // The user's own files next to the plan are never touched: not `plan.tmp`, nor any other.
    let mine = dir.path().join("plan.tmp");
    std::fs::write(&mine, "my notes").unwrap();
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    save();
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        before.len(),
        "no temporary file is left behind"
    );

    // With --format json, the note that the file holds the endpoints goes to stderr.
    let out = account.run(&[
        "plan",
        "--controls",
        "5.1",
        "--notify",
        &notify,
        "--format",
        "json",
        "--out",
        file,
    ]);
    assert_ok(&out);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
    assert!(
        words(&stderr(&out)).contains("holds the subscription endpoints in clear"),
        "{}",
        stderr(&out)
    );
}
