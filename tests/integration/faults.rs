//! Failures AWS really produces, injected by the emulator: throttling, 503s, replies lost
//! after the change was made, denied reads, and a kill in the middle of an apply. Every one
//! must end in a correct account and a clear message.

use std::time::{Duration, Instant};

use crate::harness::{assert_ok, control, queue, stderr, stdout, writes, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";

/// The account holds exactly one of each thing cis-fix creates: no duplicates.
async fn assert_converged(account: &Account) {
    let out = account.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let state = account.state().await;
    let count = |prefix: &str| state.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("filter "), 15, "{state:#?}");
    assert_eq!(count("alarm "), 15, "{state:#?}");
    assert_eq!(count("topic "), 1, "{state:#?}");
    assert_eq!(count("subscription "), 1, "{state:#?}");
}

#[tokio::test]
async fn apply_and_backout_converge_with_30_percent_of_calls_failing() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let before = account.state().await;

    // Throttling, 503 before the change, and 503 after it (a lost reply), on every call.
    account.faults(&["throttle", "unavailable", "lost_reply"], &[], 0.3);
    let out = account.run(&[
        "apply",
        "--notify",
        &queue(&account),
        "--auto-approve",
        "--max-attempts",
        "12",
    ]);
    account.clear_faults();
    assert_ok(&out);
    assert_converged(&account).await;

    account.faults(&["throttle", "unavailable", "lost_reply"], &[], 0.3);
    let out = account.run(&["backout", "--auto-approve", "--max-attempts", "12"]);
    account.clear_faults();
    assert_ok(&out);
    assert_eq!(account.state().await, before, "{}", stdout(&out));
}

#[tokio::test]
async fn lost_alarm_replies_fail_clearly_then_a_second_apply_converges() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let before = account.state().await;

    account.faults(&["lost_reply"], &["PutMetricAlarm"], 1.0);
    let out = account.run(&[
        "apply",
        "--notify",
        &queue(&account),
        "--auto-approve",
        "--max-attempts",
        "2",
    ]);
    account.clear_faults();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: AWS call cloudwatch:PutMetricAlarm failed"),
        "{err}"
    );
    assert!(err.contains("run the same command again"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    assert_ok(&account.run(&["apply", "--notify", &queue(&account), "--auto-approve"]));
    assert_converged(&account).await;
    assert_ok(&account.run(&["backout", "--auto-approve"]));
    assert_eq!(account.state().await, before);
}

#[tokio::test]
async fn an_apply_killed_part_way_is_undone_by_backout_alone() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let before = account.state().await;

    // Metric filters take 2 s each, so the kill lands after the topic and subscription and
    // while the first filter is being written (that write still lands after the kill).
    account.faults_with(serde_json::json!({
        "kinds": ["delay"], "operations": ["PutMetricFilter"], "rate": 1.0, "delay_ms": 2000
    }));
    let mut child = account
        .command(&["apply", "--notify", &queue(&account), "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start apply");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !writes(&account).iter().any(|w| w == "Subscribe") {
        assert!(
            Instant::now() < deadline,
            "apply made no writes: {:?}",
            account.calls()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL apply");
    let _ = child.wait();
    // The filter write in flight still lands: wait for it, so backout has it to find.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !writes(&account).iter().any(|w| w == "PutMetricFilter") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    account.clear_faults();
    let interrupted = account.state().await;
    assert_ne!(interrupted, before, "the kill came too late or too early");
    assert!(
        !interrupted.iter().any(|l| l.starts_with("alarm ")),
        "{interrupted:#?}"
    );

    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    assert_eq!(account.state().await, before, "{}", stdout(&out));

    assert_ok(&account.run(&["apply", "--notify", &queue(&account), "--auto-approve"]));
    assert_converged(&account).await;
}

#[tokio::test]
async fn a_denied_read_makes_controls_not_auditable_and_names_the_permission() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    for (operation, permission) in [
        ("DescribeMetricFilters", "logs:DescribeMetricFilters"),
        ("DescribeAlarms", "cloudwatch:DescribeAlarms"),
        ("ListSubscriptions", "sns:ListSubscriptions"),
        ("GetTrailStatus", "cloudtrail:GetTrailStatus"),
        ("GetEventSelectors", "cloudtrail:GetEventSelectors"),
        ("DescribeTrails", "cloudtrail:DescribeTrails"),
    ] {
        account.faults(&["access_denied"], &[operation], 1.0);
        let out = account.run(&["plan", "--format", "json", "--notify", &queue(&account)]);
        account.clear_faults();
        assert_eq!(out.status.code(), Some(1), "{operation}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(permission),
            "{operation}: {}",
            stderr(&out)
        );
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        let plan: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the plan is still printed");
        crate::harness::validate(&plan, "plan");
        let controls = plan["controls"].as_array().unwrap();
        assert!(
            controls.iter().all(|c| c["status"] == "not_auditable"),
            "{operation}: {plan:#}"
        );
        assert!(control(&plan, "5.1")["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains(permission));
        assert!(
            plan["actions"].as_array().unwrap().is_empty(),
            "no actions on partial knowledge"
        );
    }

    // apply and backout refuse too, without writing.
    account.reset_calls();
    account.faults(&["access_denied"], &["ListSubscriptions"], 1.0);
    let out = account.run(&["apply", "--notify", &queue(&account), "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("sns:ListSubscriptions"),
        "{}",
        stderr(&out)
    );
    account.clear_faults();
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
    account.faults(&["access_denied"], &["ListTagsForResource"], 1.0);
    let out = account.run(&["backout", "--auto-approve"]);
    account.clear_faults();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
}

#[tokio::test]
async fn a_forged_alarm_with_cis_fix_name_and_description_is_never_written() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // Someone copies the name and even the description record of a cis-fix alarm, but
    // not its tags.
    let record = "CIS 5.6: copied. Managed by cis-fix. cis-fix-record:{\"control\":\"console-authentication-failures\"}";
    account
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name("cis-fix-console-authentication-failures")
        .alarm_description(record)
        .metric_name("Other")
        .namespace("Mine")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .threshold(5.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .evaluation_periods(1)
        .send()
        .await
        .unwrap();
    let forged = |state: &[String]| {
        state
            .iter()
            .find(|l| l.contains("\"cis-fix-console-authentication-failures\""))
            .cloned()
    };
    let before = forged(&account.state().await).expect("the forged alarm");

    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        &queue(&account),
        "--auto-approve",
    ]));
    assert_eq!(
        forged(&account.state().await),
        Some(before.clone()),
        "apply overwrote a user's alarm"
    );
    assert_ok(&account.run(&["backout", "--auto-approve"]));
    assert_eq!(
        forged(&account.state().await),
        Some(before),
        "backout deleted a user's alarm"
    );
}
