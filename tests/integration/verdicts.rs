//! Sound verdicts (issue 12): an alarm on the right metric that cannot fire on one matching
//! event is not a chain, and cis-fix's own drifted alarm is changed attribute by attribute.

use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder as Put;
use aws_sdk_cloudwatch::types::{ComparisonOperator, StandardUnit, Statistic};
use aws_sdk_cloudwatchlogs::types::MetricTransformation;

use crate::harness::words;
use crate::harness::{assert_ok, codes, control, status, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";
const NS: &str = "CISBenchmark";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

/// A filter for 5.6 with this metric value and default value.
async fn filter(account: &Account, value: &str, default: Option<f64>) {
    let mut transformation = MetricTransformation::builder()
        .metric_name("AuthFailures")
        .metric_namespace(NS)
        .metric_value(value);
    if let Some(d) = default {
        transformation = transformation.default_value(d);
    }
    account
        .logs()
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name("auth-failures")
        .filter_pattern(AUTH_FAILURES)
        .metric_transformations(transformation.build().unwrap())
        .send()
        .await
        .unwrap();
}

/// A 5.6 chain whose alarm `tune` adjusts; returns the plan's status and finding codes.
async fn verdict(
    value: &str,
    default: Option<f64>,
    tune: impl FnOnce(Put) -> Put,
) -> (String, Vec<String>) {
    let account = tuned_chain(value, default, tune).await;
    let plan = account.plan(&["--controls", "5.6"]);
    (status(&plan, "5.6").to_string(), codes(&plan, "5.6"))
}

/// An account with a 5.6 chain whose alarm `tune` adjusts.
async fn tuned_chain(value: &str, default: Option<f64>, tune: impl FnOnce(Put) -> Put) -> Account {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    filter(&account, value, default).await;
    let topic = account.topic("alerts").await;
    let (_, queue) = account.queue("oncall").await;
    account.subscribe(&topic, "sqs", &queue).await;
    let put = account
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name("auth-failures")
        .metric_name("AuthFailures")
        .namespace(NS)
        .statistic(Statistic::Sum)
        .period(300)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .evaluation_periods(1)
        .alarm_actions(&topic);
    tune(put).send().await.unwrap();
    account
}

#[tokio::test]
async fn alarms_that_cannot_fire_on_one_event_are_not_compliant() {
    let (status, _) = verdict("1", None, |p| p).await;
    assert_eq!(status, "compliant");

    type Tune = Box<dyn FnOnce(Put) -> Put>;
    let cases: Vec<(&str, &str, Option<f64>, Tune)> = vec![
        ("threshold 5", "1", None, Box::new(|p| p.threshold(5.0))),
        (
            "LessThan",
            "1",
            None,
            Box::new(|p| p.comparison_operator(ComparisonOperator::LessThanThreshold)),
        ),
        (
            "3 of 3",
            "1",
            None,
            Box::new(|p| p.evaluation_periods(3).datapoints_to_alarm(3)),
        ),
        (
            "Average with defaultValue",
            "1",
            Some(0.0),
            Box::new(|p| p.statistic(Statistic::Average)),
        ),
        (
            "unit Seconds",
            "1",
            None,
            Box::new(|p| p.unit(StandardUnit::Seconds)),
        ),
        ("metricValue 0", "0", None, Box::new(|p| p)),
        ("metricValue $.field", "$.count", None, Box::new(|p| p)),
    ];
    let expected = [
        "alarm_threshold_unreachable",
        "alarm_threshold_unreachable",
        "alarm_needs_several_datapoints",
        "alarm_statistic_unreliable",
        "alarm_unit_mismatch",
        "alarm_threshold_unreachable",
        "alarm_firing_unverified",
    ];
    for ((label, value, default, tune), code) in cases.into_iter().zip(expected) {
        let (status, codes) = verdict(value, default, tune).await;
        assert_eq!(status, "non_compliant", "{label}: {codes:?}");
        assert!(codes.contains(&code.to_string()), "{label}: {codes:?}");
    }
}

#[tokio::test]
async fn cis_fixs_own_raised_threshold_is_a_change_with_before_and_after() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let (_, queue) = account.queue("inbox").await;
    let notify = format!("sqs:{queue}");
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.2",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let plan = account.plan(&["--controls", "5.2"]);
    assert_eq!(status(&plan, "5.2"), "compliant", "{plan:#}");
    let alarm = control(&plan, "5.2")["chain"]["alarm"]
        .as_str()
        .unwrap()
        .to_string();

    // Someone raises the threshold of cis-fix's own alarm to 5.
    let existing = account
        .cloudwatch()
        .describe_alarms()
        .alarm_names(&alarm)
        .send()
        .await
        .unwrap()
        .metric_alarms
        .unwrap()
        .remove(0);
    account
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name(&alarm)
        .set_alarm_description(existing.alarm_description)
        .set_metric_name(existing.metric_name)
        .set_namespace(existing.namespace)
        .set_statistic(existing.statistic)
        .set_period(existing.period)
        .threshold(5.0)
        .set_comparison_operator(existing.comparison_operator)
        .set_evaluation_periods(existing.evaluation_periods)
        .set_alarm_actions(existing.alarm_actions)
        .send()
        .await
        .unwrap();

    let plan = account.plan(&["--controls", "5.2"]);
    assert_eq!(status(&plan, "5.2"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "5.2").contains(&"alarm_threshold_unreachable".to_string()),
        "{plan:#}"
    );
    let change = &plan["actions"][0];
    assert_eq!(change["mode"], "change", "{plan:#}");
    assert_eq!(change["reason"], "cis-fix's alarm differs: threshold 5 → 1");
    assert_ok(&account.run(&["apply", "--controls", "5.2", "--auto-approve"]));
    let plan = account.plan(&["--controls", "5.2"]);
    assert_eq!(status(&plan, "5.2"), "compliant", "{plan:#}");
}

/// The catalog's 5.6 text, verbatim.
const AUTH_FAILURES_CATALOG: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";
/// The same, reordered and re-quoted: covers, but not verbatim.
const AUTH_FAILURES_REWRITTEN: &str =
    "{ $.errorMessage = \"Failed authentication\" && $.eventName = \"ConsoleLogin\" }";
const IAM_CATALOG: &str = "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}";

/// A whole chain for a control: filter with `pattern` on `metric`, alarm, topic, subscriber.
async fn chain(account: &Account, pattern: &str, metric: &str) {
    account
        .filter(GROUP, &format!("{metric}-filter"), pattern, metric, NS)
        .await;
    let topic = account.topic(&format!("{metric}-alerts")).await;
    let (_, queue) = account.queue(&format!("{metric}-inbox")).await;
    account.subscribe(&topic, "sqs", &queue).await;
    account
        .alarm(&format!("{metric}-alarm"), metric, NS, Some(&topic), true)
        .await;
}

fn test_calls(account: &Account) -> usize {
    account
        .calls()
        .iter()
        .filter(|(_, op)| op == "TestMetricFilter")
        .count()
}

#[tokio::test]
async fn a_star_inside_a_value_is_literal_so_these_filters_do_not_cover() {
    let cases = [
        (
            "5.6",
            "{ ($.eventName = Console*Login) && ($.errorMessage = \"Failed authentication\") }",
            "Console*Login",
        ),
        (
            "5.1",
            "{ ($.errorCode = \"*Unauthorized*Operation\") || ($.errorCode = \"AccessDenied*\") }",
            "*Unauthorized*Operation",
        ),
        (
            "5.4",
            &IAM_CATALOG.replace("($.eventName=CreatePolicy)", "($.eventName=Create*Policy)"),
            "Create*Policy",
        ),
    ];
    for (id, pattern, term) in cases {
        let account = Account::new().await;
        account.trail(TrailSpec::good("main", GROUP)).await;
        chain(&account, pattern, "Metric").await;
        let (_, queue) = account.queue("cis-fix-inbox").await;
        let plan = account.plan(&["--controls", id, "--notify", &format!("sqs:{queue}")]);
        assert_eq!(status(&plan, id), "non_compliant", "{id}: {plan:#}");
        assert!(
            codes(&plan, id).contains(&"pattern_ambiguous".to_string()),
            "{id}: {plan:#}"
        );
        let text = plan.to_string();
        assert!(
            text.contains(term),
            "{id}: the finding names {term}: {plan:#}"
        );
        // cis-fix plans its own filter, as for a weaker one.
        assert!(
            plan["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "put_metric_filter"),
            "{id}: {plan:#}"
        );
    }
}

#[tokio::test]
async fn aws_checks_rewritten_filters_and_never_verbatim_ones() {
    let verbatim = Account::new().await;
    verbatim.trail(TrailSpec::good("main", GROUP)).await;
    chain(&verbatim, AUTH_FAILURES_CATALOG, "AuthFailures").await;
    verbatim.reset_calls();
    let plan = verbatim.plan(&[]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
    assert_eq!(test_calls(&verbatim), 0);
    assert!(control(&plan, "5.6")["chain"].get("evidence").is_none());

    let rewritten = Account::new().await;
    rewritten.trail(TrailSpec::good("main", GROUP)).await;
    chain(&rewritten, AUTH_FAILURES_REWRITTEN, "AuthFailures").await;
    rewritten.reset_calls();
    let plan = rewritten.plan(&[]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
    assert_eq!(test_calls(&rewritten), 1, "one call per distinct pattern");
    let evidence = &control(&plan, "5.6")["chain"]["evidence"];
    assert!(evidence["witnesses"].as_u64().unwrap() >= 1, "{plan:#}");
    assert_eq!(evidence["witnesses"], evidence["matched"], "{plan:#}");
    // The same calls whatever the selection.
    rewritten.reset_calls();
    rewritten.plan(&["--controls", "5.1"]);
    assert_eq!(test_calls(&rewritten), 1);
}

#[tokio::test]
async fn when_aws_disagrees_the_filter_does_not_count() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    chain(&account, AUTH_FAILURES_REWRITTEN, "AuthFailures").await;
    account.faults(&["no_matches"], &["TestMetricFilter"], 1.0);
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "5.6").contains(&"aws_test_refutes".to_string()),
        "{plan:#}"
    );
    assert!(
        plan.to_string().contains("ConsoleLogin"),
        "the event is shown: {plan:#}"
    );
}

#[tokio::test]
async fn a_denied_test_metric_filter_leaves_the_proof_alone_and_says_so_once() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    chain(&account, AUTH_FAILURES_REWRITTEN, "AuthFailures").await;
    account.faults(&["access_denied"], &["TestMetricFilter"], 1.0);
    let plan = account.plan(&[]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
    let notes = plan["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{plan:#}");
    assert!(notes[0].as_str().unwrap().contains("logs:TestMetricFilter"));
    let out = account.run(&["plan", "--controls", "5.6"]);
    let text = crate::harness::stdout(&out);
    assert_eq!(text.matches("logs:TestMetricFilter").count(), 1, "{text}");
}

/// `cis-fix` with no AWS configuration at all: the pattern commands need none.
pub(crate) fn offline(args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.args(args);
    crate::harness::isolate(&mut cmd);
    // An endpoint nobody listens on: any AWS call would fail loudly.
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run cis-fix");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        input.write_all(bytes).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait for cis-fix")
}

#[test]
fn pattern_check_judges_a_hand_written_pattern_under_every_reading() {
    let out = offline(
        &[
            "pattern",
            "check",
            "--control",
            "5.6",
            AUTH_FAILURES_REWRITTEN,
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    let text = crate::harness::stdout(&out);
    assert!(text.contains("equivalent under every reading"), "{text}");

    let ambiguous =
        "{ ($.eventName = Console*Login) && ($.errorMessage = \"Failed authentication\") }";
    let out = offline(&["pattern", "check", "--control", "5.6", ambiguous], None);
    assert_eq!(out.status.code(), Some(2));
    let text = crate::harness::stdout(&out);
    assert!(text.contains("pattern_ambiguous"), "{text}");
    assert!(text.contains("Console*Login"), "{text}");
    assert!(text.contains("literal"), "{text}");
    assert!(text.contains("counterexample"), "{text}");
    let per_reading = text
        .lines()
        .filter(|l| l.starts_with("  different ") || l.starts_with("  covers "))
        .count();
    assert_eq!(per_reading, 4, "one line per reading: {text}");

    let weaker = "{ $.eventName = ConsoleLogin && $.errorMessage = \"Failed authentication\" && $.sourceIPAddress = \"10.*\" }";
    let out = offline(
        &[
            "pattern",
            "check",
            "--control",
            "console-authentication-failures",
            "--format",
            "json",
            weaker,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["relation"], "weaker", "{json:#}");
    assert_eq!(
        json["counterexample"]["eventName"], "ConsoleLogin",
        "{json:#}"
    );

    let out = offline(
        &["pattern", "check", "--control", "5.6", "{ $.eventName = "],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = crate::harness::stderr(&out);
    assert!(
        err.contains("does not parse") && err.contains("at byte 16"),
        "{err}"
    );
}

#[test]
fn pattern_test_backtests_recorded_cloudtrail_events_offline() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let records = serde_json::json!({"Records": [
        {"eventTime": "2026-11-01T10:00:00Z", "eventName": "ConsoleLogin", "eventID": "e-1",
         "errorMessage": "Failed authentication"},
        {"eventTime": "2026-11-01T10:01:00Z", "eventName": "ConsoleLogin", "eventID": "e-2"},
        {"eventTime": "2026-11-01T10:02:00Z", "eventName": "GetObject", "eventID": "e-3"},
    ]});
    let gz = dir.path().join("trail.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(records.to_string().as_bytes()).unwrap();
    encoder.finish().unwrap();
    let gz = gz.to_str().unwrap();

    let out = offline(&["pattern", "test", "--control", "5.6", gz], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    let text = crate::harness::stdout(&out);
    assert!(
        text.contains("2026-11-01T10:00:00Z ConsoleLogin e-1"),
        "{text}"
    );
    assert!(text.contains("1 of 3 events match"), "{text}");

    // JSON lines on stdin, a pattern of one's own, JSON output.
    let lines = b"{\"eventName\": \"ConsoleLogin\", \"eventID\": \"a\"}\n{\"eventName\": \"Other\", \"eventID\": \"b\"}\n";
    let out = offline(
        &[
            "pattern",
            "test",
            "--pattern",
            "{ $.eventName = Console* }",
            "--format",
            "json",
            "-",
        ],
        Some(lines),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["matched"], 1);
    assert_eq!(json["matches"][0]["position"], "line 1");
    assert_eq!(json["matches"][0]["event_id"], "a");

    // Unreadable input names the file and the position.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"eventName\": \"x\"}\n{not json}\n").unwrap();
    let out = offline(
        &["pattern", "test", "--control", "5.6", bad.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = crate::harness::stderr(&out);
    assert!(err.contains("bad.jsonl") && err.contains("line 2"), "{err}");
}

/// The product's evaluator and the emulator's (written apart, from AWS's documentation)
/// check each other: every witness cis-fix generates for a catalog pattern is matched by the
/// emulator's TestMetricFilter, and every counterexample cis-fix gives is not.
#[tokio::test]
async fn the_two_evaluators_agree_on_witnesses_and_counterexamples() {
    let account = Account::new().await;
    let logs = account.logs();
    let test = |pattern: String, events: Vec<String>| {
        let logs = logs.clone();
        async move {
            let out = logs
                .test_metric_filter()
                .filter_pattern(&pattern)
                .set_log_event_messages(Some(events.clone()))
                .send()
                .await
                .unwrap_or_else(|e| panic!("TestMetricFilter on {pattern}: {e:?}"));
            let matched: Vec<i64> = out
                .matches
                .unwrap_or_default()
                .iter()
                .map(|m| m.event_number)
                .collect();
            (1..=events.len() as i64)
                .map(|n| matched.contains(&n))
                .collect::<Vec<bool>>()
        }
    };
    for benchmark in cis_fix::catalog::builtin_names() {
        let catalog = cis_fix::catalog::load_builtin(benchmark).unwrap();
        for control in &catalog.controls {
            let events: Vec<String> = cis_fix::pattern::witnesses(&control.pattern)
                .iter()
                .map(|e| e.to_string())
                .collect();
            assert!(!events.is_empty(), "{benchmark} {}", control.id);
            let matched = test(control.pattern_text.clone(), events.clone()).await;
            for (event, ok) in events.iter().zip(matched) {
                assert!(
                    ok,
                    "{benchmark} {}: the emulator does not match witness {event}",
                    control.id
                );
            }
        }
    }

    let catalog = cis_fix::catalog::load_builtin("cis-7.0").unwrap();
    let sso = sso_variant();
    for (id, text) in [
        ("5.6", "{ ($.eventName = Console*Login) && ($.errorMessage = \"Failed authentication\") }"),
        ("5.6", "{ $.eventName = ConsoleLogin && $.errorMessage = \"Failed authentication\" && $.sourceIPAddress = \"10.*\" }"),
        // The realistic record of a root sign-in without MFA, which the variant misses.
        ("5.2", sso.as_str()),
        ("5.4", "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = AttachGroupPolicy) }"),
    ] {
        let control = catalog.controls.iter().find(|c| c.id == id).unwrap();
        let user = cis_fix::pattern::parse(text).unwrap();
        let comparison = cis_fix::pattern::compare_detailed(&user, &control.pattern);
        let event = comparison.counterexample.expect("a counterexample");
        // A record, as CloudTrail writes one.
        assert_eq!(event["eventVersion"], "1.08", "{event}");
        assert!(event["eventSource"].as_str().is_some_and(|s| s.ends_with(".amazonaws.com")), "{event}");
        assert!(event["userIdentity"]["arn"].is_string(), "{event}");
        let event = cis_fix::pattern::record_text(&event);
        let both = test(control.pattern_text.clone(), vec![event.clone()]).await;
        assert_eq!(both, [true], "the control's pattern matches {event}");
        let user_matches = test(text.to_string(), vec![event.clone()]).await;
        assert_eq!(user_matches, [false], "{text} misses {event}");
    }
}

/// The catalog's 5.2 `also_accept` text (Security Hub CloudWatch.3's SSO-aware variant).
fn sso_variant() -> String {
    let catalog = cis_fix::catalog::load_builtin("cis-7.0").unwrap();
    let mfa = catalog.controls.iter().find(|c| c.id == "5.2").unwrap();
    mfa.also_accept.first().unwrap().text.clone()
}

#[tokio::test]
async fn an_also_accept_text_is_verbatim_and_its_own_witnesses_are_tested() {
    let sso = sso_variant();
    let verbatim = Account::new().await;
    verbatim.trail(TrailSpec::good("main", GROUP)).await;
    chain(&verbatim, &sso, "NoMfa").await;
    verbatim.reset_calls();
    let plan = verbatim.plan(&["--controls", "5.2"]);
    assert_eq!(status(&plan, "5.2"), "compliant", "{plan:#}");
    assert_eq!(
        test_calls(&verbatim),
        0,
        "verbatim: no TestMetricFilter call"
    );

    // The same pattern rewritten: AWS is asked once, with the variant's witnesses (which it
    // matches), not the primary pattern's (which it would not).
    let rewritten = Account::new().await;
    rewritten.trail(TrailSpec::good("main", GROUP)).await;
    let text = sso
        .replace("(", "( ")
        .replace("\"ConsoleLogin\")", "ConsoleLogin)");
    assert_ne!(text, sso);
    chain(&rewritten, &text, "NoMfa").await;
    rewritten.reset_calls();
    let plan = rewritten.plan(&["--controls", "5.2"]);
    assert_eq!(status(&plan, "5.2"), "compliant", "{plan:#}");
    assert_eq!(test_calls(&rewritten), 1, "{plan:#}");
    let evidence = &control(&plan, "5.2")["chain"]["evidence"];
    assert_eq!(evidence["witnesses"], evidence["matched"], "{plan:#}");
    // The chain names the pattern that decided, and what it leaves out.
    let alternative = &control(&plan, "5.2")["chain"]["alternative"];
    assert_eq!(alternative["name"], "SSO-aware alternative", "{plan:#}");
    assert_eq!(alternative["pattern"], sso.as_str(), "{plan:#}");
    assert!(
        alternative["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("misses root")),
        "{plan:#}"
    );
}

#[test]
fn pattern_check_names_the_alternative_it_compared_with_and_the_variant_cis_1_2_refuses() {
    let sso = sso_variant();
    let out = offline(&["pattern", "check", "--control", "5.2", &sso], None);
    assert_eq!(out.status.code(), Some(0));
    // Wrapped at 100 columns off a terminal: read as one run of words.
    let text = words(&crate::harness::stdout(&out));
    assert!(
        text.contains("compared with the benchmark's SSO-aware alternative for 5.2 (misses root and federated sign-ins without MFA, and failed ones): yours does not cover the control's own pattern"),
        "{text}"
    );
    assert!(
        text.contains("Relation: equivalent to the benchmark's SSO-aware alternative for 5.2"),
        "{text}"
    );
    let out = offline(
        &[
            "pattern",
            "check",
            "--control",
            "5.2",
            "--format",
            "json",
            &sso,
        ],
        None,
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["compared_with"], "alternative", "{json:#}");
    assert_eq!(
        json["alternative"]["name"], "SSO-aware alternative",
        "{json:#}"
    );

    // The control's own pattern: compared with it, nothing more said.
    let own = "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }";
    let out = offline(
        &[
            "pattern",
            "check",
            "--control",
            "5.2",
            "--format",
            "json",
            own,
        ],
        None,
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["compared_with"], "control", "{json:#}");
    assert_eq!(json["alternative"], serde_json::Value::Null, "{json:#}");

    // CIS v1.2.0 does not offer the variant; Security Hub's CloudWatch.3 checks for it.
    let out = offline(
        &[
            "pattern",
            "check",
            "--benchmark",
            "cis-1.2",
            "--control",
            "3.2",
            &sso,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let text = words(&crate::harness::stdout(&out));
    assert!(
        text.contains("not_accepted: it covers Security Hub's SSO-aware variant, which this benchmark does not accept: Security Hub's CloudWatch.3 checks for it, but the CIS v1.2.0 text of 3.2 offers only the control's pattern"),
        "{text}"
    );
    assert!(text.contains("Relation: weaker"), "{text}");
}

#[tokio::test]
async fn a_catch_all_pattern_is_tested_in_one_call() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    chain(
        &account,
        "{ $.eventName = * || $.errorCode = * || $.userIdentity.type = * || $.eventSource = * }",
        "Everything",
    )
    .await;
    account.reset_calls();
    let plan = account.plan(&[]);
    assert_eq!(test_calls(&account), 1, "one call per distinct pattern");
    for c in plan["controls"].as_array().unwrap() {
        assert_eq!(c["status"], "compliant", "{c:#}");
    }
}

/// Plans, applies and plans again: the second plan must find nothing left to do.
fn apply_and_replan(account: &Account, id: &str) {
    let queue = crate::harness::queue(account);
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        id,
        "--notify",
        &queue,
        "--auto-approve",
    ]));
    let plan = account.plan(&["--controls", id, "--notify", &queue]);
    assert_eq!(status(&plan, id), "compliant", "{plan:#}");
    assert!(
        plan["actions"].as_array().is_some_and(Vec::is_empty),
        "{plan:#}"
    );
}

#[tokio::test]
async fn a_covering_filter_that_publishes_zero_is_not_reused() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    filter(&account, "0", None).await;
    let topic = account.topic("alerts").await;
    let (_, queue) = account.queue("oncall").await;
    account.subscribe(&topic, "sqs", &queue).await;
    account
        .alarm("auth-failures", "AuthFailures", NS, Some(&topic), true)
        .await;
    let notify = crate::harness::queue(&account);
    let plan = account.plan(&["--controls", "5.6", "--notify", &notify]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    // cis-fix's own filter (publishing 1) and an alarm on its metric, not on `AuthFailures`.
    let put_filter = crate::harness::first_action(&plan, "put_metric_filter");
    assert_eq!(put_filter["metric_value"], "1", "{plan:#}");
    let put_alarm = crate::harness::first_action(&plan, "put_metric_alarm");
    assert_ne!(put_alarm["metric_name"], "AuthFailures", "{plan:#}");
    assert_eq!(
        put_alarm["metric_name"], put_filter["metric_name"],
        "{plan:#}"
    );
    apply_and_replan(&account, "5.6");
}

#[tokio::test]
async fn cis_fixs_own_drifted_filter_is_a_change_with_before_and_after() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = crate::harness::queue(&account);
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.2",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let plan = account.plan(&["--controls", "5.2"]);
    assert_eq!(status(&plan, "5.2"), "compliant", "{plan:#}");

    // Someone makes cis-fix's own filter publish 0, with a default of 0.
    let own = account
        .logs()
        .describe_metric_filters()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap()
        .metric_filters
        .unwrap()
        .remove(0);
    let metric = own.metric_transformations.unwrap().remove(0);
    account
        .logs()
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name(own.filter_name.unwrap())
        .filter_pattern(own.filter_pattern.unwrap())
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name(metric.metric_name)
                .metric_namespace(metric.metric_namespace)
                .metric_value("0")
                .default_value(0.0)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let plan = account.plan(&["--controls", "5.2"]);
    assert_eq!(status(&plan, "5.2"), "non_compliant", "{plan:#}");
    let change = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "put_metric_filter")
        .unwrap_or_else(|| panic!("a change of the filter: {plan:#}"));
    assert_eq!(change["mode"], "change", "{plan:#}");
    assert_eq!(
        change["reason"], "cis-fix's filter differs: metric_value 0 → 1, default_value 0 → (unset)",
        "{plan:#}"
    );
    apply_and_replan(&account, "5.2");
}

#[tokio::test]
async fn an_ambiguous_disjunct_is_reported_even_when_the_filter_serves_another_control() {
    let catalog = cis_fix::catalog::load_builtin("cis-7.0").unwrap();
    let trail_changes = &catalog.controls.iter().find(|c| c.id == "5.5").unwrap();
    let inner = trail_changes
        .pattern_text
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}');
    let pattern = format!(
        "{{ {inner} || (($.eventName = Console*Login) && ($.errorMessage = \"Failed authentication\")) }}"
    );
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    chain(&account, &pattern, "TrailAndLogins").await;
    let notify = crate::harness::queue(&account);
    let plan = account.plan(&["--controls", "5.5,5.6", "--notify", &notify]);
    assert_eq!(status(&plan, "5.5"), "compliant", "{plan:#}");
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "5.6").contains(&"pattern_ambiguous".to_string()),
        "{plan:#}"
    );
}

#[tokio::test]
async fn the_counterexample_is_one_line_of_json_in_text() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let weaker = "{ $.eventName = ConsoleLogin && $.errorMessage = \"Failed authentication\" && $.sourceIPAddress = \"10.*\" }";
    chain(&account, weaker, "AuthFailures").await;
    let notify = crate::harness::queue(&account);
    let out = account.run(&["plan", "--controls", "5.6", "--notify", &notify]);
    let text = crate::harness::stdout(&out);
    let at = text
        .lines()
        .position(|l| l.contains("counterexample"))
        .unwrap_or_else(|| panic!("{text}"));
    let lines: Vec<&str> = text.lines().collect();
    let line = lines[at];
    let json = match line.split_once("filter): ") {
        Some((_, json)) => json,
        None => lines[at + 1].trim(),
    };
    let event: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json:?} in {text}"));
    assert_eq!(event["errorMessage"], "Failed authentication", "{text}");
}

#[test]
fn pattern_test_places_errors_in_broken_files() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    // Pretty-printed and cut short: the error is where the document breaks, not line 1.
    let pretty = dir.path().join("pretty.json");
    std::fs::write(
        &pretty,
        "{\n  \"Records\": [\n    {\"eventName\": \"ConsoleLogin\", \"eventID\": \"e-1\"",
    )
    .unwrap();
    let out = offline(
        &[
            "pattern",
            "test",
            "--control",
            "5.6",
            pretty.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = crate::harness::stderr(&out);
    assert!(
        err.contains("pretty.json") && err.contains("line 3, column"),
        "{err}"
    );

    // A gzip file cut short names the file and says so.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(br#"{"Records": [{"eventName": "ConsoleLogin", "eventID": "e-1"}]}"#)
        .unwrap();
    let gz = gz.finish().unwrap();
    let cut = dir.path().join("cut.json.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let out = offline(
        &["pattern", "test", "--control", "5.6", cut.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = crate::harness::stderr(&out);
    assert!(
        err.contains("cut.json.gz") && err.contains("truncated"),
        "{err}"
    );

    // A byte order mark is no error.
    let bom = dir.path().join("bom.json");
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(br#"{"Records": [{"eventName": "ConsoleLogin", "errorMessage": "Failed authentication", "eventID": "e-1"}]}"#);
    std::fs::write(&bom, bytes).unwrap();
    let out = offline(
        &["pattern", "test", "--control", "5.6", bom.to_str().unwrap()],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    assert!(crate::harness::stdout(&out).contains("1 of 1 event match"));
}

#[test]
fn a_gzip_bomb_of_blank_lines_is_streamed_through() {
    use std::io::Write;
    // 1 MiB of newlines, gzipped (about 1 KB); 64 such members, then one more byte: gzip
    // readers take concatenated members as one stream, so this decompresses to 64 MiB + 1.
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![b'\n'; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    let mut last = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    last.write_all(b"\n").unwrap();
    let mut bomb = member.repeat(64);
    bomb.extend_from_slice(&last.finish().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bomb.json.gz");
    std::fs::write(&file, &bomb).unwrap();

    let out = offline(
        &[
            "pattern",
            "test",
            "--control",
            "5.6",
            file.to_str().unwrap(),
        ],
        None,
    );
    // Events are streamed: a bomb costs time, not memory; a gigabyte of blank lines holds
    // no event (the memory is measured by examples/bench-pattern-test.sh).
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    assert!(
        crate::harness::stdout(&out).contains("0 of 0 events match"),
        "{}",
        crate::harness::stdout(&out)
    );
}

/// The finding of a control with this code.
fn finding_message(plan: &serde_json::Value, id: &str, code: &str) -> String {
    control(plan, id)["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["code"] == code))
        .and_then(|f| f["message"].as_str())
        .unwrap_or_else(|| panic!("no {code} for {id}: {plan:#}"))
        .to_string()
}

#[tokio::test]
async fn alarms_that_miss_several_events_or_never_leave_alarm_are_not_compliant_and_fixed() {
    type Tune = Box<dyn FnOnce(Put) -> Put>;
    let cases: Vec<(&str, Option<f64>, Tune, &str, &str)> = vec![
        // 5.5 as reported: five events in a period give Sum 5 and no alarm.
        (
            "1",
            None,
            Box::new(|p| {
                p.comparison_operator(ComparisonOperator::LessThanThreshold)
                    .threshold(5.0)
            }),
            "alarm_threshold_unreachable",
            "uses LessThanThreshold 5: 5 matching events in 300 s give Sum 5 and no alarm",
        ),
        // 5.15 as reported: two events in a period and it stays silent.
        (
            "1",
            None,
            Box::new(|p| p.comparison_operator(ComparisonOperator::LessThanOrEqualToThreshold)),
            "alarm_threshold_unreachable",
            "uses LessThanOrEqualToThreshold 1: 2 matching events in 300 s give Sum 2 and no alarm",
        ),
        // 5.13 as reported: Average of a default of 1 is already ≥ 1 without any event.
        (
            "2",
            Some(1.0),
            Box::new(|p| p.statistic(Statistic::Average)),
            "alarm_stuck_in_alarm",
            "with no matching event, in every period with other log events, Average is 1 ≥ 1, so the alarm stays in ALARM and never notifies again",
        ),
    ];
    for (value, default, tune, code, arithmetic) in cases {
        let account = tuned_chain(value, default, tune).await;
        let notify = crate::harness::queue(&account);
        let plan = account.plan(&["--controls", "5.6", "--notify", &notify]);
        assert_eq!(status(&plan, "5.6"), "non_compliant", "{code}: {plan:#}");
        let message = finding_message(&plan, "5.6", code);
        assert!(message.contains(arithmetic), "{message}");
        if default.is_some() {
            // A filter publishing 1 for every other event is not reused: cis-fix adds its own.
            let put_filter = crate::harness::first_action(&plan, "put_metric_filter");
            assert_eq!(put_filter["metric_value"], "1", "{plan:#}");
        }
        // cis-fix's own alarm (and, for the filter that publishes 1 for other events, its own
        // filter) makes the control compliant, with nothing left to do.
        apply_and_replan(&account, "5.6");
    }
}
