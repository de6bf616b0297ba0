//! `cis-fix plan` against account states built with the AWS API: every link of the CIS
//! chain, in both directions.

use serde_json::Value;

use crate::harness::{actions, codes, control, first_action, status, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";
const NS: &str = "CISBenchmark";

/// CIS v5.0 5.1, as the benchmark prints it.
const UNAUTHORIZED_V5: &str = "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }";
/// The same, reordered, re-quoted, re-spaced and re-parenthesised.
const UNAUTHORIZED_REORDERED: &str = "{\n  ($.eventName != \"HeadBucket\" && $.errorCode = \"AccessDenied*\"\n   && $.sourceIPAddress != \"delivery.logs.amazonaws.com\")\n  || $.errorCode = \"*UnauthorizedOperation\"\n}";
/// CIS v1.2: no exclusions, so it matches more than v5.0 asks: it covers it.
const UNAUTHORIZED_V12: &str =
    "{($.errorCode=\"*UnauthorizedOperation\") || ($.errorCode=\"AccessDenied*\")}";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

/// A qualifying trail, a covering filter, an alarm with actions and a topic with a confirmed
/// (sqs) subscription: the full chain for 5.1. Returns the topic ARN.
async fn good_chain(account: &Account, pattern: &str) -> String {
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .filter(GROUP, "unauthorized", pattern, "Unauthorized", NS)
        .await;
    let topic = account.topic("security").await;
    account
        .subscribe(
            &topic,
            "sqs",
            &format!("arn:aws:sqs:us-east-1:{}:alerts", account.id),
        )
        .await;
    account
        .alarm("unauthorized", "Unauthorized", NS, Some(&topic), true)
        .await;
    topic
}

fn relation(plan: &Value, id: &str) -> String {
    control(plan, id)["chain"]["relation"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_full_chain_is_compliant_and_needs_no_action() {
    let account = Account::new().await;
    let topic = good_chain(&account, UNAUTHORIZED_V5).await;
    let plan = account.plan(&["--controls", "5.1"]);
    assert_eq!(plan["format_version"], 2);
    assert_eq!(plan["account_id"], account.id.as_str());
    assert_eq!(status(&plan, "5.1"), "compliant", "{plan:#}");
    assert_eq!(relation(&plan, "5.1"), "equivalent");
    assert_eq!(control(&plan, "5.1")["chain"]["topic_arn"], topic.as_str());
    assert_eq!(control(&plan, "5.1")["chain"]["confirmed_subscriptions"], 1);
    assert!(plan["actions"].as_array().unwrap().is_empty(), "{plan:#}");

    let out = account.run(&["plan", "--controls", "5.1", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    let text = crate::harness::stdout(&out);
    assert!(
        text.contains("5.1 unauthorized-api-calls") && text.contains("compliant"),
        "{text}"
    );
    assert!(text.contains("No changes."), "{text}");
}

#[tokio::test]
async fn a_reordered_requoted_filter_is_recognised_as_equivalent() {
    let account = Account::new().await;
    good_chain(&account, UNAUTHORIZED_REORDERED).await;
    let plan = account.plan(&["--controls", "5.1"]);
    assert_eq!(status(&plan, "5.1"), "compliant", "{plan:#}");
    assert_eq!(relation(&plan, "5.1"), "equivalent");
}

#[tokio::test]
async fn a_broader_filter_covers_and_a_narrower_one_does_not() {
    let account = Account::new().await;
    good_chain(&account, UNAUTHORIZED_V12).await;
    let plan = account.plan(&["--controls", "5.1"]);
    assert_eq!(status(&plan, "5.1"), "compliant", "{plan:#}");
    assert_eq!(relation(&plan, "5.1"), "covers");

    // The other way round: a v5.0 filter does not satisfy v1.2's broader 3.1.
    let narrow = Account::new().await;
    good_chain(&narrow, UNAUTHORIZED_V5).await;
    let plan = narrow.plan(&[
        "--benchmark",
        "cis-1.2",
        "--controls",
        "3.1",
        "--notify",
        "email:sec@example.com",
    ]);
    assert_eq!(status(&plan, "3.1"), "non_compliant", "{plan:#}");
    let miss = control(&plan, "3.1")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "near_miss_filter")
        .unwrap_or_else(|| panic!("no near miss: {plan:#}"));
    assert!(
        miss["message"].as_str().unwrap().contains("weaker"),
        "{miss}"
    );
    // The existing filter has the exclusions 3.1 does not: they show as removed lines.
    let diff = miss["diff"].as_str().unwrap();
    assert!(
        diff.lines()
            .any(|l| l.starts_with('-') && l.contains("HeadBucket")),
        "{diff}"
    );
    assert!(!diff.lines().any(|l| l.starts_with('+')), "{diff}");
    assert_eq!(
        actions(&plan, Some("3.1")),
        ["put_metric_filter", "put_metric_alarm"]
    );
}

#[tokio::test]
async fn no_trail_at_all_blocks_every_control() {
    let account = Account::new().await;
    let plan = account.plan(&[]);
    let controls = plan["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 15);
    for c in controls {
        assert_eq!(c["status"], "blocked", "{c:#}");
    }
    assert_eq!(codes(&plan, "5.6"), ["no_trail"]);
    assert!(plan["actions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_chain_through_a_non_qualifying_trail_does_not_count() {
    // Single-region trail with an otherwise perfect chain: blocked, and the plan says why.
    let account = Account::new().await;
    account
        .trail(TrailSpec {
            multi_region: false,
            ..TrailSpec::good("regional", GROUP)
        })
        .await;
    account
        .filter(GROUP, "unauthorized", UNAUTHORIZED_V5, "Unauthorized", NS)
        .await;
    let topic = account.topic("security").await;
    account.subscribe(&topic, "sms", "+15555550100").await;
    account
        .alarm("unauthorized", "Unauthorized", NS, Some(&topic), true)
        .await;
    let plan = account.plan(&["--controls", "5.1"]);
    assert_eq!(status(&plan, "5.1"), "blocked", "{plan:#}");
    assert_eq!(
        codes(&plan, "5.1"),
        ["trail_not_qualifying", "no_qualifying_trail"]
    );
    let finding = control(&plan, "5.1")["findings"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(finding.contains("not multi-region"), "{finding}");
    assert_eq!(plan["trails"][0]["qualifies"], false);

    // Not logging, or not sending to CloudWatch Logs: blocked as well.
    let stopped = TrailSpec {
        logging: false,
        ..TrailSpec::good("stopped", GROUP)
    };
    let s3_only = TrailSpec {
        log_group: None,
        ..TrailSpec::good("s3-only", GROUP)
    };
    for (spec, why) in [(stopped, "not logging"), (s3_only, "CloudWatch Logs")] {
        let account = Account::new().await;
        account.trail(spec).await;
        let plan = account.plan(&["--controls", "5.1"]);
        assert_eq!(status(&plan, "5.1"), "blocked");
        let message = &control(&plan, "5.1")["findings"][0]["message"];
        assert!(message.as_str().unwrap().contains(why), "{message}");
    }
}

#[tokio::test]
async fn write_only_trails_do_not_qualify_but_advanced_management_selectors_do() {
    use aws_sdk_cloudtrail::types::{
        AdvancedEventSelector, AdvancedFieldSelector, EventSelector, ReadWriteType,
    };
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .cloudtrail()
        .put_event_selectors()
        .trail_name("main")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::WriteOnly)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "blocked", "{plan:#}");
    assert!(plan["trails"][0]["problems"][0]
        .as_str()
        .unwrap()
        .contains("only write"));

    account
        .cloudtrail()
        .put_event_selectors()
        .trail_name("main")
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .name("management")
                .field_selectors(
                    AdvancedFieldSelector::builder()
                        .field("eventCategory")
                        .equals("Management")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    assert_eq!(plan["trails"][0]["qualifies"], true);
}

#[tokio::test]
async fn a_filter_on_a_log_group_no_qualifying_trail_writes_to_does_not_count() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .trail(TrailSpec {
            multi_region: false,
            ..TrailSpec::good("regional", "regional-group")
        })
        .await;
    account
        .filter("regional-group", "failures", AUTH_FAILURES, "Failures", NS)
        .await;
    let topic = account.topic("security").await;
    account.subscribe(&topic, "sms", "+15555550100").await;
    account
        .alarm("failures", "Failures", NS, Some(&topic), true)
        .await;

    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    let codes = codes(&plan, "5.6");
    assert!(
        codes.contains(&"no_covering_filter".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"filter_on_unqualified_log_group".to_string()),
        "{codes:?}"
    );
    // The fix goes on the qualifying trail's log group; the existing topic is reused.
    let filter = first_action(&plan, "put_metric_filter");
    assert_eq!(filter["log_group_name"], GROUP);
    assert_eq!(filter["filter_pattern"], AUTH_FAILURES);
}

#[tokio::test]
async fn alarm_links_that_break_the_chain() {
    // Namespace mismatch: an alarm on the right metric name in another namespace.
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .filter(GROUP, "failures", AUTH_FAILURES, "Failures", NS)
        .await;
    let topic = account.topic("security").await;
    account.subscribe(&topic, "sms", "+15555550100").await;
    account
        .alarm("wrong-namespace", "Failures", "Other", Some(&topic), true)
        .await;
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    // The topic of an alarm on another metric is no subscriber source for this control.
    assert_eq!(codes(&plan, "5.6"), ["no_alarm", "needs_subscriber"]);
    assert!(control(&plan, "5.6")["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("another namespace"));

    // Actions disabled.
    account
        .alarm("disabled", "Failures", NS, Some(&topic), false)
        .await;
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant");
    assert!(
        codes(&plan, "5.6").contains(&"alarm_actions_disabled".to_string()),
        "{plan:#}"
    );
    // cis-fix does not enable the user's alarm: it adds its own on the same metric, notifying
    // the topic the user chose for it, which has a confirmed subscription.
    let alarm = first_action(&plan, "put_metric_alarm");
    assert_eq!(alarm["metric_name"], "Failures");
    assert_eq!(alarm["alarm_actions"], serde_json::json!([topic]));
    assert_eq!(actions(&plan, Some("5.6")), ["put_metric_alarm"]);

    // No SNS action.
    let no_action = Account::new().await;
    no_action.trail(TrailSpec::good("main", GROUP)).await;
    no_action
        .filter(GROUP, "failures", AUTH_FAILURES, "Failures", NS)
        .await;
    no_action.alarm("silent", "Failures", NS, None, true).await;
    let plan = no_action.plan(&["--controls", "5.6"]);
    assert!(
        codes(&plan, "5.6").contains(&"alarm_without_sns_action".to_string()),
        "{plan:#}"
    );

    // Fixing the disabled alarm's twin makes it compliant: the same chain with actions on.
    account
        .alarm("disabled", "Failures", NS, Some(&topic), true)
        .await;
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
}

#[tokio::test]
async fn a_topic_without_a_confirmed_subscription_breaks_the_chain() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .filter(GROUP, "failures", AUTH_FAILURES, "Failures", NS)
        .await;
    let topic = account.topic("nobody-listens").await;
    account
        .alarm("failures", "Failures", NS, Some(&topic), true)
        .await;
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant");
    assert!(
        codes(&plan, "5.6").contains(&"topic_not_subscribed".to_string()),
        "{plan:#}"
    );

    // A pending (unconfirmed) email subscription does not count either.
    account.subscribe(&topic, "email", "sec@example.com").await;
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant");
    assert!(
        codes(&plan, "5.6").contains(&"subscription_pending".to_string()),
        "{plan:#}"
    );

    // Once confirmed, it does.
    account.confirm_topic(&topic);
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
}

#[tokio::test]
async fn the_plan_reuses_what_exists_and_creates_only_what_is_missing() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // 5.6 has a covering filter but no alarm; 5.1 has nothing.
    account
        .filter(GROUP, "failures", AUTH_FAILURES, "Failures", NS)
        .await;
    let plan = account.plan(&["--controls", "5.1,5.6", "--notify", "email:sec@example.com"]);
    assert_eq!(actions(&plan, None), ["create_topic", "subscribe"]);
    assert_eq!(
        actions(&plan, Some("5.1")),
        ["put_metric_filter", "put_metric_alarm"]
    );
    assert_eq!(actions(&plan, Some("5.6")), ["put_metric_alarm"]);
    let all = plan["actions"].as_array().unwrap();
    // Ordered: topic, subscription, filters, alarms.
    let order: Vec<&str> = all.iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [
            "create_topic",
            "subscribe",
            "put_metric_filter",
            "put_metric_alarm",
            "put_metric_alarm"
        ]
    );
    let topic_arn = account.topic_arn("cis-fix-alerts");
    assert_eq!(all[0]["topic_arn"], topic_arn.as_str());
    assert_eq!(all[0]["tags"]["cis-fix:managed"], "true");
    assert_eq!(all[1]["protocol"], "email");
    // Endpoints are masked in JSON too (a webhook URL carries its token).
    assert_eq!(all[1]["endpoint"], "s****@example.com");
    // 5.6's alarm watches the existing filter's metric.
    let alarm_46 = all.iter().find(|a| a["control"] == "5.6").unwrap();
    assert_eq!(alarm_46["metric_name"], "Failures");
    assert_eq!(alarm_46["namespace"], NS);
    assert_eq!(alarm_46["alarm_actions"], serde_json::json!([topic_arn]));
    assert_eq!(alarm_46["statistic"], "Sum");
    assert_eq!(alarm_46["period"], 300);
    assert_eq!(alarm_46["threshold"], 1.0);
    assert_eq!(
        alarm_46["comparison_operator"],
        "GreaterThanOrEqualToThreshold"
    );
    assert_eq!(alarm_46["evaluation_periods"], 1);
    assert_eq!(plan["summary"]["to_create"], 5);
    assert_eq!(plan["summary"]["to_change"], 0);

    // An alarm already delivering for a compliant control lends its topic to the others.
    let compliant = Account::new().await;
    let topic = good_chain(&compliant, UNAUTHORIZED_V5).await;
    let plan = compliant.plan(&["--controls", "5.1,5.6"]);
    assert_eq!(status(&plan, "5.1"), "compliant");
    assert_eq!(actions(&plan, None), Vec::<String>::new());
    let alarm = first_action(&plan, "put_metric_alarm");
    assert_eq!(alarm["alarm_actions"], serde_json::json!([topic]));
}

#[tokio::test]
async fn without_a_subscriber_source_the_plan_asks_for_notify() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant");
    let findings = control(&plan, "5.6")["findings"]
        .as_array()
        .unwrap()
        .clone();
    let needs = findings
        .iter()
        .find(|f| f["code"] == "needs_subscriber")
        .expect("needs_subscriber");
    assert!(needs["message"].as_str().unwrap().contains("--notify"));
    assert!(plan["actions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn resources_cis_fix_did_not_create_are_never_planned_for_change() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // A user's topic and alarm that happen to carry cis-fix's names, without its marks.
    let user_topic = account.topic("cis-fix-alerts").await;
    account
        .alarm(
            "cis-fix-console-authentication-failures",
            "Other",
            NS,
            Some(&user_topic),
            true,
        )
        .await;

    // The default --topic-name is taken: an input error, before anything is planned.
    let out = account.run(&[
        "plan",
        "--controls",
        "5.6",
        "--notify",
        "email:sec@example.com",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = crate::harness::stderr(&out);
    assert!(
        err.contains("a topic named `cis-fix-alerts` exists"),
        "{err}"
    );

    // With another topic name, the alarm gets a name that does not collide with the user's.
    let plan = account.plan(&[
        "--controls",
        "5.6",
        "--notify",
        "email:sec@example.com",
        "--topic-name",
        "cis-alerts",
    ]);
    let alarm = first_action(&plan, "put_metric_alarm");
    assert_ne!(
        alarm["alarm_name"],
        "cis-fix-console-authentication-failures"
    );
    assert!(alarm["alarm_name"]
        .as_str()
        .unwrap()
        .starts_with("cis-fix-console-authentication-failures-"));
    assert!(plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["mode"] == "create"));
}

#[tokio::test]
async fn topic_arn_is_used_as_it_is() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let topic = account.topic("ops").await;
    account.subscribe(&topic, "sms", "+15555550100").await;
    let plan = account.plan(&["--controls", "5.6", "--topic-arn", &topic]);
    assert_eq!(actions(&plan, None), Vec::<String>::new());
    let alarm = first_action(&plan, "put_metric_alarm");
    assert_eq!(alarm["alarm_actions"], serde_json::json!([topic]));

    let missing = account.topic_arn("does-not-exist");
    let out = account.run(&["plan", "--controls", "5.6", "--topic-arn", &missing]);
    assert_eq!(out.status.code(), Some(1));
    let err = crate::harness::stderr(&out);
    assert!(
        err.contains(&format!("--topic-arn {missing} does not exist")),
        "{err}"
    );
}

#[tokio::test]
async fn one_plan_of_all_controls_makes_few_calls_whatever_the_number_of_controls() {
    let account = Account::new().await;
    good_chain(&account, UNAUTHORIZED_V5).await;
    account.reset_calls();
    let plan = account.plan(&["--notify", "email:sec@example.com"]);
    assert_eq!(plan["controls"].as_array().unwrap().len(), 15);
    let all = account.calls();
    assert!(all.len() <= 12, "{} calls: {all:?}", all.len());

    account.reset_calls();
    account.plan(&["--controls", "5.6", "--notify", "email:sec@example.com"]);
    assert_eq!(
        account.calls().len(),
        all.len(),
        "calls must not depend on the number of controls"
    );
    // Nothing but reads.
    for (_, op) in &all {
        assert!(
            ["Get", "Describe", "List"]
                .iter()
                .any(|p| op.starts_with(p)),
            "plan made a non-read call {op}"
        );
    }

    // --stats reports the same count.
    let out = account.run(&["plan", "--stats"]);
    let stderr = crate::harness::stderr(&out);
    assert!(
        stderr.contains(&format!("stats: {} AWS API calls", all.len())),
        "{stderr}"
    );
}

#[tokio::test]
async fn text_output_lists_actions_like_terraform_and_masks_endpoints() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let out = account.run(&[
        "plan",
        "--controls",
        "5.6",
        "--notify",
        "email:security@example.com",
        "--detailed-exitcode",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        crate::harness::stderr(&out)
    );
    let text = crate::harness::stdout(&out);
    assert!(text.contains("+ create_topic cis-fix-alerts"), "{text}");
    assert!(
        text.contains("+ subscribe email s****@example.com"),
        "{text}"
    );
    assert!(!text.contains("security@example.com"), "{text}");
    assert!(text.contains("Plan: 4 to create, 0 to change."), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour when not a terminal: {text}"
    );

    let out = account.run(&[
        "plan",
        "--controls",
        "5.6",
        "--notify",
        "email:security@example.com",
        "--show-endpoints",
    ]);
    assert!(crate::harness::stdout(&out).contains("security@example.com"));
}

#[tokio::test]
async fn out_writes_a_saved_plan_with_what_it_observed() {
    let account = Account::new().await;
    good_chain(&account, UNAUTHORIZED_V5).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let out = account.run(&[
        "plan",
        "--controls",
        "5.1,5.6",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", crate::harness::stderr(&out));
    assert!(crate::harness::stdout(&out).contains("cis-fix apply"));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    crate::harness::validate(&saved, "saved-plan");
    assert_eq!(saved["kind"], "cis-fix-saved-plan");
    assert_eq!(saved["format_version"], 3);
    assert_eq!(saved["benchmark"], "cis-7.0");
    assert_eq!(saved["controls"], serde_json::json!(["5.1", "5.6"]));
    assert_eq!(saved["plan"]["account_id"], account.id.as_str());
    let observed = saved["observed"].as_object().unwrap();
    assert!(
        observed
            .keys()
            .any(|k| k.starts_with("alarm us-east-1 unauthorized")),
        "{observed:?}"
    );
    assert!(observed
        .keys()
        .any(|k| k.starts_with("filter us-east-1 cloudtrail/management unauthorized")));
    assert!(observed.keys().any(|k| k.starts_with("trail ")));
    assert!(observed.keys().any(|k| k.starts_with("subscription ")));
}

#[tokio::test]
async fn actions_go_to_the_region_of_the_trails_log_group() {
    use aws_config::Region;
    let account = Account::new().await;
    let home = "eu-west-1";
    let cloudtrail = aws_sdk_cloudtrail::Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(&account.config)
            .region(Region::new(home))
            .build(),
    );
    let logs = aws_sdk_cloudwatchlogs::Client::from_conf(
        aws_sdk_cloudwatchlogs::config::Builder::from(&account.config)
            .region(Region::new(home))
            .build(),
    );
    let bucket = format!("eu-trail-{}", account.id);
    account.bucket(&bucket);
    logs.create_log_group()
        .log_group_name("eu-trail-logs")
        .send()
        .await
        .unwrap();
    cloudtrail
        .create_trail()
        .name("eu-main")
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(true)
        .cloud_watch_logs_log_group_arn(format!(
            "arn:aws:logs:{home}:{}:log-group:eu-trail-logs:*",
            account.id
        ))
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{}:role/ct", account.id))
        .send()
        .await
        .unwrap();
    cloudtrail
        .start_logging()
        .name("eu-main")
        .send()
        .await
        .unwrap();

    // Discovered from the trail's home region, everything is planned there.
    let plan = account.plan(&[
        "--region",
        home,
        "--controls",
        "5.6",
        "--notify",
        "email:sec@example.com",
    ]);
    assert_eq!(plan["region"], home);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    let actions = plan["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 4, "{plan:#}");
    for a in actions {
        assert_eq!(a["region"], home, "{a}");
    }
    assert_eq!(
        actions[0]["topic_arn"],
        format!("arn:aws:sns:{home}:{}:cis-fix-alerts", account.id)
    );
}
