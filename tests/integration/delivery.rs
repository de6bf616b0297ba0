//! The alarm → topic delivery link (issue 10): topics encrypted with a key CloudWatch may not
//! use, topic policies that do not let the alarm publish, `--topic-kms-key`, and
//! `cis-fix drill`, which proves delivery end to end (the emulator publishes through SNS, so
//! an SQS subscriber really receives the alarm).

use serde_json::{json, Value};

use crate::harness::{
    assert_ok, codes, control, status, stderr, stdout, writes, Account, TrailSpec,
};

const GROUP: &str = "cloudtrail/management";
const NS: &str = "CISBenchmark";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

/// The key-policy statement that lets CloudWatch Alarms use a key.
fn cloudwatch_key_statement() -> Value {
    json!({"Sid": "AllowCloudWatchAlarms", "Effect": "Allow",
           "Principal": {"Service": "cloudwatch.amazonaws.com"},
           "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"})
}

/// AWS's default key policy (the account may use the key through IAM), plus `extra`.
fn key_policy(account: &Account, extra: &[Value]) -> String {
    let mut statements = vec![json!({
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", account.id)},
        "Action": "kms:*", "Resource": "*"})];
    statements.extend_from_slice(extra);
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// 4.6 wired to `topic`, which gets a real SQS subscriber; returns the queue's URL.
async fn chain_46(account: &Account, topic: &str) -> String {
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .filter(GROUP, "auth-failures", AUTH_FAILURES, "AuthFailures", NS)
        .await;
    let (url, arn) = account.queue("oncall").await;
    account.subscribe(topic, "sqs", &arn).await;
    account
        .alarm("auth-failures", "AuthFailures", NS, Some(topic), true)
        .await;
    url
}

fn messages(plan: &Value, id: &str) -> String {
    control(plan, id)["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| f["message"].as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_topic_under_the_aws_managed_key_is_not_compliant() {
    let account = Account::new().await;
    let topic = account.encrypted_topic("alerts", "alias/aws/sns").await;
    chain_46(&account, &topic).await;
    let plan = account.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "4.6").contains(&"topic_key_denies_cloudwatch".to_string()),
        "{plan:#}"
    );
    let text = messages(&plan, "4.6");
    assert!(text.contains("AWS managed key"), "{text}");
    assert!(text.contains("cloudwatch.amazonaws.com"), "{text}");
}

#[tokio::test]
async fn a_customer_key_decides_by_its_policy() {
    let account = Account::new().await;
    let allows = account
        .key(Some(&key_policy(&account, &[cloudwatch_key_statement()])))
        .await;
    let topic = account.encrypted_topic("alerts", &allows).await;
    chain_46(&account, &topic).await;
    let plan = account.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "compliant", "{plan:#}");

    let other = Account::new().await;
    let default_policy = other.key(None).await;
    let topic = other.encrypted_topic("alerts", &default_policy).await;
    chain_46(&other, &topic).await;
    let plan = other.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "4.6").contains(&"topic_key_denies_cloudwatch".to_string()),
        "{plan:#}"
    );
    // The finding shows the statement to add.
    assert!(
        messages(&plan, "4.6").contains("\"kms:GenerateDataKey*\""),
        "{plan:#}"
    );
}

#[tokio::test]
async fn the_topic_policy_must_let_the_alarm_publish() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    chain_46(&account, &topic).await;
    let role_only = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:role/publisher", account.id)},
        "Action": "sns:Publish", "Resource": topic}]});
    account
        .set_topic_policy(&topic, &role_only.to_string())
        .await;
    let plan = account.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "4.6").contains(&"topic_policy_denies_cloudwatch".to_string()),
        "{plan:#}"
    );

    let alarm_arn = format!(
        "arn:aws:cloudwatch:us-east-1:{}:alarm:auth-failures",
        account.id
    );
    let by_source_arn = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish", "Resource": topic,
        "Condition": {"ArnLike": {"aws:SourceArn": alarm_arn}}}]});
    account
        .set_topic_policy(&topic, &by_source_arn.to_string())
        .await;
    let plan = account.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "compliant", "{plan:#}");

    // A condition cis-fix cannot evaluate leaves the link unproven, never compliant.
    let by_org = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OrgOnly", "Effect": "Allow", "Principal": "*",
        "Action": "sns:Publish", "Resource": topic,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]});
    account.set_topic_policy(&topic, &by_org.to_string()).await;
    let plan = account.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "4.6").contains(&"topic_delivery_unverified".to_string()),
        "{plan:#}"
    );
    assert!(messages(&plan, "4.6").contains("OrgOnly"), "{plan:#}");
    assert_eq!(
        control(&plan, "4.6")["delivery_unproven"]["alarm"],
        "auth-failures"
    );
}

#[tokio::test]
async fn apply_with_a_broken_user_topic_creates_its_own_and_becomes_compliant() {
    let account = Account::new().await;
    let topic = account.encrypted_topic("alerts", "alias/aws/sns").await;
    chain_46(&account, &topic).await;
    let (_, queue) = account.queue("cis-fix-inbox").await;
    let notify = format!("sqs:{queue}");
    let plan = account.plan(&["--controls", "4.6", "--notify", &notify]);
    let calls: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls,
        ["create_topic", "subscribe", "put_metric_alarm"],
        "{plan:#}"
    );
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "4.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let plan = account.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "compliant", "{plan:#}");
    assert_ne!(control(&plan, "4.6")["chain"]["topic_arn"], topic.as_str());
    // The user's topic and its key are untouched.
    let attributes = account
        .sns()
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes["KmsMasterKeyId"], "alias/aws/sns");
}

#[tokio::test]
async fn topic_kms_key_is_checked_before_it_is_used() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let (_, queue) = account.queue("inbox").await;
    let notify = format!("sqs:{queue}");

    // A key that would block CloudWatch is an input error: one line, no plan, no write.
    let blocked = account.key(None).await;
    for key in ["alias/aws/sns", blocked.as_str()] {
        account.reset_calls();
        let out = account.run(&[
            "plan",
            "--controls",
            "4.6",
            "--notify",
            &notify,
            "--topic-kms-key",
            key,
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("--topic-kms-key") && err.contains(key),
            "{err}"
        );
        // It shows the key-policy statement to add.
        assert!(err.contains("cloudwatch.amazonaws.com"), "{err}");
        assert!(writes(&account).is_empty());
    }

    let good = account
        .key(Some(&key_policy(&account, &[cloudwatch_key_statement()])))
        .await;
    let args = [
        "--controls",
        "4.6",
        "--notify",
        &notify,
        "--topic-kms-key",
        &good,
    ];
    let plan = account.plan(&args);
    let create = &plan["actions"][0];
    assert_eq!(create["action"], "create_topic", "{plan:#}");
    assert_eq!(create["kms_master_key_id"], good.as_str());
    let mut apply = vec!["apply", "--auto-approve"];
    apply.extend_from_slice(&args);
    assert_ok(&account.run(&apply));
    let plan = account.plan(&["--controls", "4.6"]);
    assert_eq!(status(&plan, "4.6"), "compliant", "{plan:#}");
}

#[tokio::test]
async fn drill_proves_delivery_to_a_real_subscriber() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    let queue_url = chain_46(&account, &topic).await;
    account.reset_calls();
    let out = account.run(&["drill", "--controls", "4.6,4.1", "--auto-approve"]);
    assert_ok(&out);
    // The drill changed alarm states only.
    let changed = writes(&account);
    assert_eq!(changed, ["SetAlarmState", "SetAlarmState"], "{changed:?}");
    let text = stdout(&out);
    assert!(text.contains("4.6 delivered"), "{text}");
    assert!(text.contains("4.1:"), "skipped control named: {text}");
    assert!(text.contains("Drill complete: 1 of 1 delivered."), "{text}");

    // The subscriber really received the alarm, with the drill's reason in it.
    let bodies = account.receive(&queue_url).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let envelope: Value = serde_json::from_str(&bodies[0]).unwrap();
    let alarm: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(alarm["AlarmName"], "auth-failures");
    assert_eq!(alarm["NewStateValue"], "ALARM");
    assert!(
        alarm["NewStateReason"]
            .as_str()
            .unwrap()
            .contains("cis-fix drill for CIS control 4.6"),
        "{alarm:#}"
    );

    // It left the alarm at OK.
    let state = account
        .cloudwatch()
        .describe_alarms()
        .alarm_names("auth-failures")
        .send()
        .await
        .unwrap()
        .metric_alarms
        .unwrap()[0]
        .state_value
        .clone()
        .unwrap();
    assert_eq!(state.as_str(), "OK");
}

#[tokio::test]
async fn drill_shows_awss_failure_when_the_key_policy_cannot_be_read() {
    let account = Account::new().await;
    let blocked = account.key(None).await;
    let topic = account.encrypted_topic("alerts", &blocked).await;
    let queue_url = chain_46(&account, &topic).await;
    account.faults(&["access_denied"], &["GetKeyPolicy"], 1.0);

    let out = account.run(&["plan", "--controls", "4.6", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::harness::validate(&plan, "plan");
    assert_eq!(status(&plan, "4.6"), "not_auditable", "{plan:#}");
    assert!(
        messages(&plan, "4.6").contains("kms:GetKeyPolicy"),
        "{plan:#}"
    );
    assert!(
        stderr(&out).contains("kms:GetKeyPolicy"),
        "{}",
        stderr(&out)
    );

    let out = account.run(&["drill", "--controls", "4.6", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // Lines wrap at 100 columns outside a terminal: read the words, not the layout.
    let text = stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains(
            "CloudWatch Alarms does not have authorization to access the SNS topic encryption key"
        ),
        "{text}"
    );
    assert!(stderr(&out).contains("did not deliver"), "{}", stderr(&out));
    assert!(account.receive(&queue_url).await.is_empty());
}

#[tokio::test]
async fn drill_refuses_without_a_terminal_and_changes_nothing() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    chain_46(&account, &topic).await;
    account.reset_calls();
    let out = account.run(&["drill", "--controls", "4.6"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--auto-approve"), "{}", stderr(&out));
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    // Nothing whole to drill: says so, exits 1, sets no alarm.
    let empty = Account::new().await;
    empty.trail(TrailSpec::good("main", GROUP)).await;
    empty.reset_calls();
    let out = empty.run(&["drill", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to drill"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&empty).is_empty(), "{:?}", writes(&empty));
}

fn count(account: &Account, operation: &str) -> usize {
    account
        .calls()
        .iter()
        .filter(|(_, op)| op == operation)
        .count()
}

#[tokio::test]
async fn delivery_reads_grow_with_topics_and_keys_not_with_controls() {
    let account = Account::new().await;
    let key = account
        .key(Some(&key_policy(&account, &[cloudwatch_key_statement()])))
        .await;
    let topic = account.encrypted_topic("alerts", &key).await;
    chain_46(&account, &topic).await;
    // A second control's chain through the same topic.
    let unauthorized = "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName != \"HeadBucket\") }";
    account
        .filter(GROUP, "unauthorized", unauthorized, "Unauthorized", NS)
        .await;
    account
        .alarm("unauthorized", "Unauthorized", NS, Some(&topic), true)
        .await;

    account.reset_calls();
    let plan = account.plan(&[]);
    assert_eq!(status(&plan, "4.1"), "compliant", "{plan:#}");
    assert_eq!(status(&plan, "4.6"), "compliant", "{plan:#}");
    let all = account.calls().len();
    assert_eq!(count(&account, "GetTopicAttributes"), 1);
    assert_eq!(count(&account, "DescribeKey"), 1);
    assert_eq!(count(&account, "GetKeyPolicy"), 1);

    account.reset_calls();
    account.plan(&["--controls", "4.6"]);
    assert_eq!(
        account.calls().len(),
        all,
        "calls must not depend on the controls"
    );

    // A second topic under the same key: one more topic read, no more key reads.
    let second = account.encrypted_topic("alerts-2", &key).await;
    let (_, queue) = account.queue("second").await;
    account.subscribe(&second, "sqs", &queue).await;
    account
        .alarm("auth-failures-2", "AuthFailures", NS, Some(&second), true)
        .await;
    account.reset_calls();
    account.plan(&[]);
    assert_eq!(count(&account, "GetTopicAttributes"), 2);
    assert_eq!(count(&account, "DescribeKey"), 1);
    assert_eq!(count(&account, "GetKeyPolicy"), 1);
}
