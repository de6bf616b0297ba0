//! The alarm → topic delivery link (issue 10): topics encrypted with a key CloudWatch may not
//! use, topic policies that do not let the alarm publish, `--topic-kms-key`, and
//! `cis-fix drill`, which proves delivery end to end (the emulator publishes through SNS, so
//! an SQS subscriber really receives the alarm).

use serde_json::{json, Value};

use crate::harness::words;
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

/// 5.6 wired to `topic`, which gets a real SQS subscriber; returns the queue's URL.
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
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "5.6").contains(&"topic_key_denies_cloudwatch".to_string()),
        "{plan:#}"
    );
    let text = messages(&plan, "5.6");
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
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");

    let other = Account::new().await;
    let default_policy = other.key(None).await;
    let topic = other.encrypted_topic("alerts", &default_policy).await;
    chain_46(&other, &topic).await;
    let plan = other.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "5.6").contains(&"topic_key_denies_cloudwatch".to_string()),
        "{plan:#}"
    );
    // The finding shows the statement to add.
    assert!(
        messages(&plan, "5.6").contains("\"kms:GenerateDataKey*\""),
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
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "5.6").contains(&"topic_policy_denies_cloudwatch".to_string()),
        "{plan:#}"
    );
    // The statement to paste names the topic by its full ARN, in JSON and in text, where the
    // prose around it names the topic by its name.
    let resource = format!("\"Resource\": \"{topic}\"");
    assert!(messages(&plan, "5.6").contains(&resource), "{plan:#}");
    let text = words(&stdout(&account.run(&["plan", "--controls", "5.6"])));
    assert!(text.contains(&resource), "{text}");
    assert!(text.contains("topic alerts's access policy"), "{text}");

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
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");

    // A condition cis-fix cannot evaluate leaves the link unproven, never compliant.
    let by_org = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OrgOnly", "Effect": "Allow", "Principal": "*",
        "Action": "sns:Publish", "Resource": topic,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]});
    account.set_topic_policy(&topic, &by_org.to_string()).await;
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
    assert!(
        codes(&plan, "5.6").contains(&"topic_delivery_unverified".to_string()),
        "{plan:#}"
    );
    assert!(messages(&plan, "5.6").contains("OrgOnly"), "{plan:#}");
    assert_eq!(
        control(&plan, "5.6")["delivery_unproven"]["alarm"],
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
    let plan = account.plan(&["--controls", "5.6", "--notify", &notify]);
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
        "5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
    assert_ne!(control(&plan, "5.6")["chain"]["topic_arn"], topic.as_str());
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
            "5.6",
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
        // It shows the key-policy statement to add, and the finding's code, in one sentence.
        assert!(err.contains("cloudwatch.amazonaws.com"), "{err}");
        assert!(
            err.contains("(topic_key_denies_cloudwatch); nothing was planned or changed"),
            "{err}"
        );
        assert!(!err.contains(".;"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(writes(&account).is_empty());
    }

    let good = account
        .key(Some(&key_policy(&account, &[cloudwatch_key_statement()])))
        .await;
    let args = [
        "--controls",
        "5.6",
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
    let plan = account.plan(&["--controls", "5.6"]);
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
}

#[tokio::test]
async fn drill_proves_delivery_to_a_real_subscriber() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    let queue_url = chain_46(&account, &topic).await;
    account.reset_calls();
    let out = account.run(&["drill", "--controls", "5.6,5.1", "--auto-approve"]);
    assert_ok(&out);
    // The drill changed alarm states only.
    let changed = writes(&account);
    assert_eq!(changed, ["SetAlarmState", "SetAlarmState"], "{changed:?}");
    let text = stdout(&out);
    assert!(text.contains("5.6 delivered"), "{text}");
    // The skipped control, and why.
    assert!(
        text.lines().any(|l| l
            == "  5.1: not compliant: no whole chain to test (run `cis-fix plan` to see what is missing)"),
        "{text}"
    );
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
            .contains("cis-fix drill for CIS control 5.6"),
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

    let out = account.run(&["plan", "--controls", "5.6", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::harness::validate(&plan, "plan");
    assert_eq!(status(&plan, "5.6"), "not_auditable", "{plan:#}");
    assert!(
        messages(&plan, "5.6").contains("kms:GetKeyPolicy"),
        "{plan:#}"
    );
    assert!(
        stderr(&out).contains("kms:GetKeyPolicy"),
        "{}",
        stderr(&out)
    );

    drill_fails_with_awss_key_text(&account, &queue_url).await;
}

/// Drills 5.6, whose topic's key blocks CloudWatch: AWS's failure text, exit 1, nothing in
/// the queue, the alarm back to OK, and no write but the alarm's state.
async fn drill_fails_with_awss_key_text(account: &Account, queue_url: &str) {
    account.reset_calls();
    let out = account.run(&["drill", "--controls", "5.6", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        words(&stdout(&out)).contains(
            "CloudWatch Alarms does not have authorization to access the SNS topic encryption key"
        ),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("did not deliver"), "{}", stderr(&out));
    assert_eq!(writes(account), ["SetAlarmState", "SetAlarmState"]);
    assert!(account.receive(queue_url).await.is_empty());
    assert_eq!(alarm_state(account, "auth-failures").await, "OK");
}

async fn alarm_state(account: &Account, alarm: &str) -> String {
    account
        .cloudwatch()
        .describe_alarms()
        .alarm_names(alarm)
        .send()
        .await
        .unwrap()
        .metric_alarms
        .unwrap()[0]
        .state_value
        .clone()
        .unwrap()
        .as_str()
        .to_string()
}

#[tokio::test]
async fn a_denied_describe_key_is_unproven_not_missing_and_the_drill_proves_it() {
    let account = Account::new().await;
    let blocked = account.key(None).await;
    let topic = account.encrypted_topic("alerts", &blocked).await;
    let queue_url = chain_46(&account, &topic).await;
    account.faults(&["access_denied"], &["DescribeKey"], 1.0);

    let out = account.run(&["plan", "--controls", "5.6", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::harness::validate(&plan, "plan");
    assert_eq!(status(&plan, "5.6"), "not_auditable", "{plan:#}");
    assert!(
        messages(&plan, "5.6").contains("kms:DescribeKey"),
        "{plan:#}"
    );
    // Not taken for a key that does not exist: the chain is kept for a drill.
    assert!(
        !messages(&plan, "5.6").contains("does not exist"),
        "{plan:#}"
    );
    assert_eq!(
        control(&plan, "5.6")["delivery_unproven"]["alarm"],
        "auth-failures",
        "{plan:#}"
    );

    drill_fails_with_awss_key_text(&account, &queue_url).await;
}

#[tokio::test]
async fn an_allow_for_the_account_alone_is_unverified_and_the_drill_settles_it() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    let queue_url = chain_46(&account, &topic).await;
    for principal in [
        json!({"AWS": account.id}),
        json!({"AWS": format!("arn:aws:iam::{}:root", account.id)}),
    ] {
        let root_only = json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "AccountOnly", "Effect": "Allow", "Principal": principal,
            "Action": "sns:Publish", "Resource": topic}]});
        account
            .set_topic_policy(&topic, &root_only.to_string())
            .await;
        let plan = account.plan(&["--controls", "5.6"]);
        assert_eq!(status(&plan, "5.6"), "non_compliant", "{plan:#}");
        let codes = codes(&plan, "5.6");
        assert!(
            codes.contains(&"topic_delivery_unverified".to_string()),
            "{plan:#}"
        );
        // Never a proof of denial.
        assert!(
            !codes.contains(&"topic_policy_denies_cloudwatch".to_string()),
            "{plan:#}"
        );
        let text = messages(&plan, "5.6");
        assert!(
            text.contains("AccountOnly") && text.contains("drill"),
            "{text}"
        );
        assert_eq!(
            control(&plan, "5.6")["delivery_unproven"]["alarm"],
            "auth-failures"
        );
    }

    // The emulator reads such a statement as AWS's service-principal rule does (it does not let
    // CloudWatch publish): the drill shows the failure rather than guessing.
    account.reset_calls();
    let out = account.run(&["drill", "--controls", "5.6", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        words(&stdout(&out)).contains("5.6 not delivered"),
        "{}",
        stdout(&out)
    );
    assert_eq!(writes(&account), ["SetAlarmState", "SetAlarmState"]);
    assert!(account.receive(&queue_url).await.is_empty());
    assert_eq!(alarm_state(&account, "auth-failures").await, "OK");
}

#[tokio::test]
async fn topic_kms_key_is_refused_when_cis_fixs_topic_exists_with_another_key() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let (_, queue) = account.queue("inbox").await;
    let notify = format!("sqs:{queue}");
    // cis-fix's own topic, created without a key.
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let good = account
        .key(Some(&key_policy(&account, &[cloudwatch_key_statement()])))
        .await;
    for command in [&["plan"][..], &["apply", "--auto-approve"]] {
        account.reset_calls();
        let mut all = command.to_vec();
        all.extend([
            "--controls",
            "5.1,5.6",
            "--notify",
            &notify,
            "--topic-kms-key",
            &good,
        ]);
        let out = account.run(&all);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "--topic-kms-key {good}: cis-fix's topic cis-fix-alerts"
            )) && err.contains("already exists, not encrypted")
                && err.contains("cis-fix backout"),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(writes(&account).is_empty(), "{:?}", writes(&account));
    }

    // Backed out and made again with the key: the same key, however named, is fine; another
    // is refused, naming the key the topic has.
    assert_ok(&account.run(&["backout", "--auto-approve"]));
    let args = |key: &str| {
        vec![
            "--controls".to_string(),
            "5.6".into(),
            "--notify".into(),
            notify.clone(),
            "--topic-kms-key".into(),
            key.to_string(),
        ]
    };
    let with = |first: &str, key: &str| {
        let mut all = vec![first.to_string()];
        all.extend(args(key));
        account.run(&all.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let mut apply = args(&good);
    apply.insert(0, "apply".into());
    apply.push("--auto-approve".into());
    assert_ok(&account.run(&apply.iter().map(String::as_str).collect::<Vec<_>>()));
    let key_id = good.rsplit('/').next().unwrap().to_string();
    for same in [good.as_str(), key_id.as_str()] {
        assert_ok(&with("plan", same));
    }
    let other = account
        .key(Some(&key_policy(&account, &[cloudwatch_key_statement()])))
        .await;
    let out = with("plan", &other);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!("already exists, encrypted with {good}")),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn ctrl_c_during_a_drill_sets_the_alarm_back_to_ok_and_exits_130() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    chain_46(&account, &topic).await;
    // A slow history read, so that the Ctrl-C finds the drill waiting for the result.
    account.faults_with(json!({
        "kinds": ["delay"], "operations": ["DescribeAlarmHistory"], "rate": 1.0,
        "delay_ms": 20000
    }));
    account.reset_calls();
    let child = account
        .command(&["drill", "--controls", "5.6", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start drill");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !writes(&account).iter().any(|w| w == "SetAlarmState") {
        assert!(std::time::Instant::now() < deadline, "no SetAlarmState");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(alarm_state(&account, "auth-failures").await, "ALARM");
    std::thread::sleep(std::time::Duration::from_millis(200));
    // Ctrl-C, as the terminal sends it.
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let started = std::time::Instant::now();
    let out = child.wait_with_output().expect("wait for drill");
    account.clear_faults();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    // It did not sit out the slow read.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let err = stderr(&out);
    assert!(
        err.contains("interrupted: the drill stopped") && err.contains("back to OK"),
        "{err}"
    );
    assert_eq!(alarm_state(&account, "auth-failures").await, "OK");
    assert_eq!(writes(&account), ["SetAlarmState", "SetAlarmState"]);
}

/// A fault on the second `SetAlarmState` only: the reset back to OK.
fn fail_the_reset(account: &Account) {
    account.faults_with(json!({
        "kinds": ["access_denied"], "operations": ["SetAlarmState"], "rate": 1.0, "skip": 1
    }));
}

/// The drill says the notification went out, names the alarm left in ALARM with the command
/// that resets it, and exits 1.
fn assert_left_in_alarm(out: &std::process::Output, account: &Account) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let text = words(&stdout(out));
    assert!(
        text.contains("5.6 delivered: alarm auth-failures published to alerts"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "! 5.6 alarm auth-failures in account {}, us-east-1: AWS call cloudwatch:SetAlarmState failed",
            account.id
        )),
        "{text}"
    );
    // The command, whole on one line, to copy.
    assert!(
        stdout(out).lines().any(|l| l.trim()
            == "aws cloudwatch set-alarm-state --alarm-name 'auth-failures' --state-value OK --state-reason 'cis-fix drill: reset by hand' --region us-east-1"),
        "{}",
        stdout(out)
    );
    let err = stderr(out);
    assert!(
        err.starts_with(&format!(
            "error: the drill left alarm `auth-failures` (account {}, us-east-1) in ALARM: setting it back to OK failed",
            account.id
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[tokio::test]
async fn a_drill_that_cannot_set_the_alarm_back_names_it_and_keeps_the_result() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    let queue_url = chain_46(&account, &topic).await;
    fail_the_reset(&account);
    account.reset_calls();
    let out = account.run(&["drill", "--controls", "5.6", "--auto-approve"]);
    account.clear_faults();
    assert_left_in_alarm(&out, &account);
    assert!(
        words(&stdout(&out)).contains("Drill complete: 1 of 1 delivered; 1 alarm left in ALARM."),
        "{}",
        stdout(&out)
    );
    assert_eq!(writes(&account), ["SetAlarmState", "SetAlarmState"]);
    assert_eq!(alarm_state(&account, "auth-failures").await, "ALARM");
    assert_eq!(account.receive(&queue_url).await.len(), 1);
}

#[tokio::test]
async fn an_organization_drill_names_the_alarm_it_could_not_set_back() {
    let management = Account::new().await;
    let member = Account::new().await;
    management.organization(&[&member]);
    let topic = member.topic("alerts").await;
    chain_46(&member, &topic).await;
    // The member's calls are made with its role's credentials: its own fault plan.
    fail_the_reset(&member);
    let out = management.run(&[
        "drill",
        "--accounts",
        &member.id,
        "--controls",
        "5.6",
        "--auto-approve",
    ]);
    member.clear_faults();
    assert_left_in_alarm(&out, &member);
    assert!(
        words(&stdout(&out))
            .contains("Drill complete across 1 account: 1 of 1 delivered; 1 alarm left in ALARM."),
        "{}",
        stdout(&out)
    );
    assert_eq!(alarm_state(&member, "auth-failures").await, "ALARM");
}

#[tokio::test]
async fn drill_refuses_without_a_terminal_and_changes_nothing() {
    let account = Account::new().await;
    let topic = account.topic("alerts").await;
    chain_46(&account, &topic).await;
    account.reset_calls();
    let out = account.run(&["drill", "--controls", "5.6"]);
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
    assert_eq!(status(&plan, "5.1"), "compliant", "{plan:#}");
    assert_eq!(status(&plan, "5.6"), "compliant", "{plan:#}");
    let all = account.calls().len();
    assert_eq!(count(&account, "GetTopicAttributes"), 1);
    assert_eq!(count(&account, "DescribeKey"), 1);
    assert_eq!(count(&account, "GetKeyPolicy"), 1);

    account.reset_calls();
    account.plan(&["--controls", "5.6"]);
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

const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";

#[tokio::test]
async fn drill_org_drills_each_alarm_once_in_the_account_that_owns_it() {
    // The management account's organization trail carries 5.6 for itself and for `relies`;
    // `own` has a chain of its own; `denied` cannot be reached.
    let management = Account::new().await;
    let relies = Account::new().await;
    let own = Account::new().await;
    let denied = Account::new().await;
    management.organization(&[&relies, &own, &denied]);
    management.organization_trail("org", ORG_GROUP).await;
    management
        .filter(
            ORG_GROUP,
            "auth-failures",
            AUTH_FAILURES,
            "AuthFailures",
            NS,
        )
        .await;
    let org_topic = management.topic("security").await;
    let (org_queue, org_queue_arn) = management.queue("security-inbox").await;
    management
        .subscribe(&org_topic, "sqs", &org_queue_arn)
        .await;
    management
        .alarm("auth-failures", "AuthFailures", NS, Some(&org_topic), true)
        .await;
    let own_topic = own.topic("alerts").await;
    let own_queue = chain_46(&own, &own_topic).await;

    let accounts = format!("{},{},{}", management.id, relies.id, own.id);
    for a in [&management, &relies, &own] {
        a.reset_calls();
    }
    let out = management.run(&[
        "drill",
        "--accounts",
        &accounts,
        "--controls",
        "5.6",
        "--auto-approve",
    ]);
    assert_ok(&out);
    // The documented organization policies allow every call the drill made in each account
    // (read before this test reads its queues, which logs calls too).
    for (account, file) in [
        (&management, "org-management"),
        (&relies, "org-member"),
        (&own, "org-member"),
    ] {
        let used = crate::harness::actions_used(account);
        assert!(!used.is_empty(), "{}", account.id);
        crate::harness::assert_allows(file, &used);
    }
    let text = words(&stdout(&out));
    assert!(
        text.contains(&format!(
            "5.6: its chain is account {}'s (the organization trail's): alarm `auth-failures` is drilled once, in account {}",
            management.id, management.id
        )),
        "{text}"
    );
    assert!(
        text.contains("Drill complete across 2 accounts: 2 of 2 delivered."),
        "{text}"
    );
    // Each subscriber received exactly one notification, from its own account's alarm.
    for (account, queue) in [(&management, &org_queue), (&own, &own_queue)] {
        assert_eq!(writes(account), ["SetAlarmState", "SetAlarmState"]);
        let bodies = account.receive(queue).await;
        assert_eq!(bodies.len(), 1, "{}: {bodies:?}", account.id);
        let envelope: Value = serde_json::from_str(&bodies[0]).unwrap();
        let alarm: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        assert_eq!(alarm["AWSAccountId"], account.id.as_str(), "{alarm:#}");
        assert_eq!(alarm_state(account, "auth-failures").await, "OK");
    }
    // The member relying on the organization trail is not touched.
    assert!(writes(&relies).is_empty(), "{:?}", writes(&relies));

    // --org with an account whose role cannot be assumed: reported, the others drilled, exit 1.
    management.faults_with(json!({
        "kinds": ["access_denied"], "operations": ["AssumeRole"], "target_account": denied.id,
        "rate": 1.0
    }));
    let out = management.run(&["drill", "--org", "--controls", "5.6", "--auto-approve"]);
    management.clear_faults();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = words(&stdout(&out));
    assert!(
        text.contains(&format!("account {} could not be read", denied.id)),
        "{text}"
    );
    assert!(text.contains("2 of 2 delivered"), "{text}");
    assert!(
        stderr(&out).contains("1 account could not be read"),
        "{}",
        stderr(&out)
    );

    // Without a terminal and without --auto-approve: refused, nothing set.
    management.reset_calls();
    let out = management.run(&["drill", "--accounts", &accounts, "--controls", "5.6"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--auto-approve"), "{}", stderr(&out));
    assert!(writes(&management).is_empty(), "{:?}", writes(&management));
}
