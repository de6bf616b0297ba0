//! One answer per control (issue 14): on the demo account, every control's verdict and
//! planned actions are the same whether it is planned alone (`--controls ID`) or with all the
//! others, with and without `--notify`.

use serde_json::Value;

use crate::harness::{assert_ok, control, queue, stderr, stdout, Account};

/// The demo's half-compliant account (examples/seed_account.py): 5.1 and 5.6 deliver through
/// the user's `security-alerts` topic, 5.3's alarm notifies a topic nobody subscribed to,
/// 5.4's filter is a near miss.
async fn demo_account() -> Account {
    Account::demo().await
}

/// What a plan says and does for one control: its report (status, findings, chain, what it
/// will be after the apply), its own actions, and the shared ones (a topic, a subscriber) its
/// alarm notifies.
fn answer(plan: &Value, id: &str) -> (Value, Vec<Value>) {
    let all = plan["actions"].as_array().cloned().unwrap_or_default();
    let notified: Vec<Value> = all
        .iter()
        .filter(|a| a["control"] == id && a["action"] == "put_metric_alarm")
        .flat_map(|a| a["alarm_actions"].as_array().cloned().unwrap_or_default())
        .collect();
    let actions = all
        .into_iter()
        .filter(|a| {
            a["control"] == id
                || (a["control"].is_null()
                    && matches!(a["action"].as_str(), Some("create_topic" | "subscribe"))
                    && notified.contains(&a["topic_arn"]))
        })
        .collect();
    (control(plan, id).clone(), actions)
}

fn ids(plan: &Value) -> Vec<String> {
    plan["controls"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Plans every control alone and compares it with the full plan.
fn assert_one_answer_per_control(account: &Account, options: &[&str]) -> Value {
    let full = account.plan(options);
    let every = ids(&full);
    assert_eq!(every.len(), 15, "cis-7.0 has 15 controls: {full:#}");
    for id in &every {
        let mut args = vec!["--controls", id.as_str()];
        args.extend_from_slice(options);
        // `--notify` is a request of its own: for a control compliant on a topic cis-fix did
        // not create, alone, there is nothing to subscribe it to, and the plan says so.
        let compliant = full["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.as_str() && c["status"] == "compliant");
        if compliant && options.contains(&"--notify") {
            let mut plan = vec!["plan"];
            plan.extend_from_slice(&args);
            let out = account.run(&plan);
            assert_eq!(out.status.code(), Some(1), "{id} alone ({options:?})");
            assert!(
                crate::harness::stderr(&out).contains("--notify: every selected control"),
                "{id}: {}",
                crate::harness::stderr(&out)
            );
            continue;
        }
        let alone = account.plan(&args);
        assert_eq!(ids(&alone), std::slice::from_ref(id));
        let (report, actions) = answer(&alone, id);
        let (expected_report, expected_actions) = answer(&full, id);
        assert_eq!(
            report, expected_report,
            "{id} alone ({options:?}): its report differs from the full plan's"
        );
        assert_eq!(
            actions, expected_actions,
            "{id} alone ({options:?}): its actions differ from the full plan's"
        );
        // The topic the plan relies on is named the same way, whatever the selection.
        if !actions.is_empty() {
            assert_eq!(
                alone.get("notifications"),
                full.get("notifications"),
                "{id} alone ({options:?})"
            );
        }
    }
    full
}

#[tokio::test]
async fn every_control_of_the_demo_gets_the_same_plan_alone_or_with_the_others() {
    let account = demo_account().await;
    let security_alerts = account.topic_arn("security-alerts");

    // Without --notify: the user's topic, which already delivers for 5.1 and 5.6, serves
    // every control, and the plan says so once.
    let full = assert_one_answer_per_control(&account, &[]);
    assert_eq!(
        full["notifications"],
        serde_json::json!({"topic_arn": security_alerts, "delivers_for": ["5.1", "5.6"]}),
        "{full:#}"
    );
    // The case that used to differ: 5.2 alone said "pass --notify".
    let alone = account.plan(&["--controls", "5.2"]);
    let (report, actions) = answer(&alone, "5.2");
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "needs_subscriber"),
        "{alone:#}"
    );
    let alarm = actions
        .iter()
        .find(|a| a["action"] == "put_metric_alarm")
        .unwrap_or_else(|| panic!("{alone:#}"));
    assert_eq!(alarm["alarm_actions"], serde_json::json!([security_alerts]));

    // With --notify: cis-fix's own topic and subscriber, planned for each control that needs
    // them; no user topic is relied on.
    let notify = queue(&account);
    let full = assert_one_answer_per_control(&account, &["--notify", &notify]);
    assert!(full.get("notifications").is_none(), "{full:#}");
    let alone = account.plan(&["--controls", "5.2", "--notify", &notify]);
    let (_, actions) = answer(&alone, "5.2");
    let kinds: Vec<&str> = actions
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "create_topic",
            "subscribe",
            "put_metric_filter",
            "put_metric_alarm"
        ]
    );
}

/// The text views of issue 14 on the demo account, through the real binary: the reuse line,
/// the 100-column layout off a terminal, `--quiet` and `-v` for plan, apply and backout.
#[tokio::test]
async fn the_demo_reads_at_a_glance_quietly_or_verbosely() {
    let account = demo_account().await;

    // Relying on the user's topic is said once, prominently, before the actions.
    let out = account.run(&["plan"]);
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let reuse = lines
        .iter()
        .position(|l| {
            l.starts_with(
                "Notifications: reusing topic security-alerts (already delivers for 5.1, 5.6)",
            )
        })
        .unwrap_or_else(|| panic!("{text}"));
    let actions = lines
        .iter()
        .position(|l| l.starts_with("Actions"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(reuse < actions, "{text}");
    // Off a terminal: 100 columns; the verdict table and the summary end the output.
    for line in &lines {
        assert!(
            line.chars().count() <= 100 || !line.trim().contains(' '),
            "wider than 100: {line}"
        );
    }
    let table = lines
        .iter()
        .rposition(|l| *l == "Controls")
        .unwrap_or_else(|| panic!("{text}"));
    let summary = lines
        .iter()
        .rposition(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(summary, table + 15 + 2, "{text}");

    // --quiet: the header, the table and the summary, and the line saying whose topic the
    // alarms would notify (never reused unseen); nothing else.
    let out = account.run(&["plan", "--quiet"]);
    assert_ok(&out);
    let quiet = stdout(&out);
    assert!(quiet.starts_with("cis-fix plan:"), "{quiet}");
    assert!(
        quiet.contains("\nNotifications: reusing topic security-alerts"),
        "{quiet}"
    );
    for gone in ["Trails", "Findings", "Actions"] {
        assert!(
            !quiet.lines().any(|l| l.starts_with(gone)),
            "{gone} in --quiet: {quiet}"
        );
    }
    assert!(
        quiet.contains("\nControls\n") && quiet.contains("\nPlan: "),
        "{quiet}"
    );
    assert!(quiet.lines().count() <= 15 + 8, "{quiet}");

    // -v: every compliant control's chain on stdout, every AWS call with its time on stderr.
    let out = account.run(&["plan", "-v"]);
    assert_ok(&out);
    let chains = stdout(&out);
    assert!(
        chains
            .lines()
            .any(|l| l.contains("5.6 console-authentication-failures: trail ")),
        "{chains}"
    );
    let log = stderr(&out);
    assert!(
        log.lines().any(
            |l| l.starts_with("aws logs:DescribeMetricFilters (us-east-1): ") && l.ends_with(" ms")
        ),
        "{log}"
    );

    // apply --quiet: no record line per call, the plan's table and the outcome.
    let notify = queue(&account);
    let out = account.run(&["apply", "--quiet", "--auto-approve", "--notify", &notify]);
    assert_ok(&out);
    let applied = stdout(&out);
    assert!(!applied.lines().any(|l| l.starts_with("  + ")), "{applied}");
    assert!(applied.contains("Apply complete:"), "{applied}");

    // backout --quiet: the count, not the list.
    let out = account.run(&["backout", "--quiet", "--auto-approve"]);
    assert_ok(&out);
    let removed = stdout(&out);
    assert!(
        removed
            .lines()
            .any(|l| l.starts_with("Plan: ") && l.contains(" to destroy.")),
        "{removed}"
    );
    assert!(!removed.lines().any(|l| l.starts_with("  - ")), "{removed}");
}
