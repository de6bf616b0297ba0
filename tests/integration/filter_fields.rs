//! Metric-filter fields that narrow or reshape a chain (issue 19, item 2):
//! `fieldSelectionCriteria`, `emitSystemFieldDimensions` and `applyOnTransformedLogs`. A chain
//! through such a filter is compliant only where proven; cis-fix's own filter with one of them
//! is put back as cis-fix wrote it.

use aws_sdk_cloudwatch::types::Dimension;
use aws_sdk_cloudwatchlogs::operation::put_metric_filter::builders::PutMetricFilterFluentBuilder;
use aws_sdk_cloudwatchlogs::types::{MetricTransformation, PolicyType, Processor};
use serde_json::Value;

use crate::harness::{
    actions_used, assert_allows, assert_ok, codes, control, first_action, queue, status, stderr,
    stdout, validate, Account, TrailSpec,
};

const GROUP: &str = "cloudtrail/management";
const NS: &str = "CISBenchmark";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

type Fields = fn(PutMetricFilterFluentBuilder, &str) -> PutMetricFilterFluentBuilder;

/// A 5.6 chain (filter, alarm, topic with a confirmed subscriber) whose filter `fields`
/// adjusts (given the account id) and whose alarm has `dimensions`.
async fn chain(fields: Fields, dimensions: &[(&str, &str)]) -> Account {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let put = account
        .logs()
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name("auth-failures")
        .filter_pattern(AUTH_FAILURES)
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("AuthFailures")
                .metric_namespace(NS)
                .metric_value("1")
                .build()
                .unwrap(),
        );
    fields(put, &account.id).send().await.unwrap();
    let topic = account.topic("alerts").await;
    let (_, inbox) = account.queue("oncall").await;
    account.subscribe(&topic, "sqs", &inbox).await;
    account
        .alarm("auth-failures", "AuthFailures", NS, Some(&topic), true)
        .await;
    if !dimensions.is_empty() {
        // The same alarm, on one series of the metric.
        let mut put = account
            .cloudwatch()
            .put_metric_alarm()
            .alarm_name("auth-failures")
            .metric_name("AuthFailures")
            .namespace(NS)
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(300)
            .threshold(1.0)
            .comparison_operator(
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
            )
            .evaluation_periods(1)
            .alarm_actions(&topic);
        for (name, value) in dimensions {
            let value = value.replace("ACCOUNT", &account.id);
            put = put.dimensions(Dimension::builder().name(*name).value(value).build());
        }
        put.send().await.unwrap();
    }
    account
}

fn plan_46(account: &Account) -> Value {
    account.plan(&["--controls", "5.6", "--notify", &queue(account)])
}

/// 5.6's verdict as it stands, asking nothing of the plan: `--notify` is a request of its own,
/// refused when the control is compliant on the user's topic.
fn verdict_46(account: &Account) -> (String, Vec<String>) {
    let plan = account.plan(&["--controls", "5.6"]);
    let codes = codes(&plan, "5.6")
        .into_iter()
        .filter(|c| c != "needs_subscriber")
        .collect();
    (status(&plan, "5.6").to_string(), codes)
}

fn finding<'a>(plan: &'a Value, code: &str) -> &'a str {
    control(plan, "5.6")["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["code"] == code))
        .and_then(|f| f["message"].as_str())
        .unwrap_or_else(|| panic!("no {code}: {plan:#}"))
}

/// cis-fix plans its own filter beside the user's (which it does not reuse), and once applied
/// the control is compliant with nothing left to do.
fn own_filter_then_compliant(account: &Account, plan: &Value) {
    let put = first_action(plan, "put_metric_filter");
    assert_eq!(put["mode"], "create", "{plan:#}");
    assert_ne!(put["filter_name"], "auth-failures", "{plan:#}");
    let alarm = first_action(plan, "put_metric_alarm");
    assert_eq!(alarm["metric_name"], put["metric_name"], "{plan:#}");
    apply(account);
    let plan = plan_46(account);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
    assert_eq!(plan["actions"], serde_json::json!([]), "{plan:#}");
}

fn apply(account: &Account) {
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        &queue(account),
        "--auto-approve",
    ]));
}

#[tokio::test]
async fn the_same_chain_without_these_fields_is_compliant() {
    let account = chain(|put, _| put, &[]).await;
    assert_eq!(verdict_46(&account), ("compliant".to_string(), vec![]));
    // An account without a filter on transformed logs reads no transformer.
    let calls: Vec<String> = account.calls().into_iter().map(|(_, op)| op).collect();
    assert!(
        !calls
            .iter()
            .any(|op| op == "GetTransformer" || op == "DescribeAccountPolicies"),
        "{calls:?}"
    );
}

#[tokio::test]
async fn selection_criteria_leave_the_chain_unproven() {
    let account = chain(
        |put, id| put.field_selection_criteria(format!("@aws.account = \"{id}\"")),
        &[],
    )
    .await;
    let plan = plan_46(&account);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    let message = finding(&plan, "filter_selection_criteria");
    assert!(
        message.contains(&format!("`@aws.account = \"{}\"`", account.id)),
        "{message}"
    );
    assert!(
        message.contains("leaves out every event sent from accounts it does not select"),
        "{message}"
    );
    own_filter_then_compliant(&account, &plan);
}

#[tokio::test]
async fn system_dimensions_are_seen_by_no_alarm_on_one_series_or_none() {
    let emitted: Fields = |put, _| put.emit_system_field_dimensions("@aws.account");
    for dimensions in [&[][..], &[("@aws.account", "ACCOUNT")]] {
        let account = chain(emitted, dimensions).await;
        let plan = plan_46(&account);
        assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
        let message = finding(&plan, "filter_system_dimensions");
        let sees = if dimensions.is_empty() {
            "sees none of them"
        } else {
            "watches a single one of those series"
        };
        assert!(message.contains(sees), "{message}");
        own_filter_then_compliant(&account, &plan);
    }
}

#[tokio::test]
async fn transformed_logs_count_only_where_the_log_group_has_no_transformer() {
    let account = chain(|put, _| put.apply_on_transformed_logs(true), &[]).await;
    let logs = account.logs();
    let verdict = verdict_46;
    let unproven = || {
        (
            "non_compliant".to_string(),
            vec![
                "filter_on_transformed_logs".to_string(),
                "no_covering_filter".to_string(),
            ],
        )
    };

    // Neither its own transformer nor a policy: the filter sees the CloudTrail record.
    account.reset_calls();
    assert_eq!(verdict(&account), ("compliant".to_string(), vec![]));
    let used = actions_used(&account);
    for read in ["logs:GetTransformer", "logs:DescribeAccountPolicies"] {
        assert!(used.contains(&read.to_string()), "{used:?}");
    }
    assert_allows("plan", &used);

    // Its own transformer.
    logs.put_transformer()
        .log_group_identifier(GROUP)
        .transformer_config(
            Processor::builder()
                .parse_json(aws_sdk_cloudwatchlogs::types::ParseJson::builder().build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(verdict(&account), unproven());
    logs.delete_transformer()
        .log_group_identifier(GROUP)
        .send()
        .await
        .unwrap();

    // An account policy: for every log group, by a prefix of this one, or by another prefix.
    let policy = |criteria: Option<&str>| {
        logs.put_account_policy()
            .policy_name("central")
            .policy_type(PolicyType::TransformerPolicy)
            .policy_document(r#"{"transformerConfig": [{"parseJSON": {}}]}"#)
            .set_selection_criteria(criteria.map(str::to_string))
            .send()
    };
    policy(None).await.unwrap();
    assert_eq!(verdict(&account), unproven());
    policy(Some(r#"LogGroupNamePrefix IN ["cloudtrail/"]"#))
        .await
        .unwrap();
    let (_, codes) = verdict(&account);
    assert_eq!(codes, unproven().1);
    let plan = plan_46(&account);
    let message = finding(&plan, "filter_on_transformed_logs");
    assert!(
        message.contains("transformer policy `central` applies to the log group"),
        "{message}"
    );
    policy(Some(r#"LogGroupNamePrefix IN ["/aws/lambda"]"#))
        .await
        .unwrap();
    assert_eq!(verdict(&account), ("compliant".to_string(), vec![]));
}

#[tokio::test]
async fn a_denied_transformer_read_leaves_the_control_not_auditable() {
    for denied in ["GetTransformer", "DescribeAccountPolicies"] {
        let account = chain(|put, _| put.apply_on_transformed_logs(true), &[]).await;
        account.faults(&["access_denied"], &[denied], 1.0);
        let out = account.run(&["plan", "--controls", "5.6", "--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("logs:{denied}")),
            "{}",
            stderr(&out)
        );
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        validate(&plan, "plan");
        assert_eq!(status(&plan, "5.6"), "not_auditable", "{plan:#}");
        let message = finding(&plan, "not_auditable");
        assert!(message.contains(&format!("logs:{denied}")), "{message}");
        assert_eq!(plan["actions"], serde_json::json!([]), "{plan:#}");
    }
}

#[tokio::test]
async fn cis_fixs_own_filter_with_these_fields_is_put_back() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    apply(&account);
    assert_eq!(status(&plan_46(&account), "5.6"), "compliant");

    // Someone adds the fields to cis-fix's own filter.
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
    account
        .logs()
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name(own.filter_name.clone().unwrap())
        .filter_pattern(own.filter_pattern.clone().unwrap())
        .set_metric_transformations(own.metric_transformations.clone())
        .field_selection_criteria(r#"@aws.region = "us-east-1""#)
        .emit_system_field_dimensions("@aws.region")
        .apply_on_transformed_logs(true)
        .send()
        .await
        .unwrap();

    let plan = plan_46(&account);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    let change = first_action(&plan, "put_metric_filter");
    assert_eq!(change["mode"], "change", "{plan:#}");
    assert_eq!(change["filter_name"], own.filter_name.unwrap().as_str());
    assert_eq!(
        change["reason"],
        "cis-fix's filter differs: field_selection_criteria @aws.region = \"us-east-1\" → (unset), \
         emit_system_field_dimensions @aws.region → (unset), apply_on_transformed_logs true → (unset)",
        "{plan:#}"
    );
    let text = stdout(&account.run(&["plan", "--controls", "5.6"]));
    assert!(text.contains("~ put_metric_filter"), "{text}");
    assert_eq!(
        plan["actions"].as_array().map(Vec::len),
        Some(1),
        "{plan:#}"
    );

    apply(&account);
    let filter = account
        .logs()
        .describe_metric_filters()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap()
        .metric_filters
        .unwrap()
        .remove(0);
    assert!(!filter.apply_on_transformed_logs, "{filter:?}");
    assert!(
        filter.field_selection_criteria().is_none_or(str::is_empty),
        "{filter:?}"
    );
    assert!(
        filter.emit_system_field_dimensions().is_empty(),
        "{filter:?}"
    );
    let plan = plan_46(&account);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
    assert_eq!(plan["actions"], serde_json::json!([]), "{plan:#}");
}

/// A filter whose metric takes dimensions from each event publishes one series per value
/// ("each different value found for a dimension is treated as a separate metric"): an alarm
/// on one value sees only those events, so the chain is not compliant, even when the alarm's
/// dimension names are the filter's.
#[tokio::test]
async fn dimensions_taken_from_each_event_are_seen_by_no_alarm_whole() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .logs()
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name("auth-failures")
        .filter_pattern(AUTH_FAILURES)
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("AuthFailures")
                .metric_namespace(NS)
                .metric_value("1")
                .dimensions("EventName", "$.eventName")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let topic = account.topic("alerts").await;
    let (_, inbox) = account.queue("oncall").await;
    account.subscribe(&topic, "sqs", &inbox).await;
    account
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name("auth-failures")
        .metric_name("AuthFailures")
        .namespace(NS)
        .dimensions(
            Dimension::builder()
                .name("EventName")
                .value("ConsoleLogin")
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(300)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .evaluation_periods(1)
        .alarm_actions(&topic)
        .send()
        .await
        .unwrap();
    let (status, codes) = verdict_46(&account);
    assert_eq!(status, "non_compliant");
    assert!(
        codes.contains(&"filter_event_dimensions".to_string()),
        "{codes:?}"
    );
    let plan = plan_46(&account);
    let message = finding(&plan, "filter_event_dimensions");
    assert!(message.contains("one series per value"), "{message}");
    own_filter_then_compliant(&account, &plan);
}
