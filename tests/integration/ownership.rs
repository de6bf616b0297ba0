//! Touch only what cis-fix made (issue 18): a copied record, an edited or organization plan
//! file, a changed catalog, another account's subscriber, copied tags, and what a user's alarms
//! depend on. Each case fails if cis-fix writes to or deletes what it did not create.

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::words;
use crate::harness::{assert_ok, queue, stderr, stdout, writes, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";
const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";
const COLLEAGUES: &str = "cis-fix-root-account-usage";

/// A colleague's alarm under cis-fix's readable name for 5.3: untagged, threshold 5, its
/// description ending in a copy of cis-fix's record.
async fn colleagues_alarm(account: &Account) {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
    account
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name(COLLEAGUES)
        .alarm_description(
            "Root usage, paged to the SRE team. cis-fix-record:{\"control\":\"root-account-usage\"}",
        )
        .metric_name("RootAccountUsage")
        .namespace("CISBenchmark")
        .statistic(Statistic::Sum)
        .period(300)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .evaluation_periods(1)
        .send()
        .await
        .unwrap();
}

/// An alarm as it is: (threshold, description, tags), or `None` when it is gone.
async fn alarm_now(account: &Account, name: &str) -> Option<(f64, String, Vec<String>)> {
    let alarms = account
        .cloudwatch()
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap();
    let alarm = alarms.metric_alarms().first()?;
    let tags = account
        .cloudwatch()
        .list_tags_for_resource()
        .resource_arn(alarm.alarm_arn().unwrap())
        .send()
        .await
        .unwrap();
    Some((
        alarm.threshold().unwrap(),
        alarm.alarm_description().unwrap_or_default().to_string(),
        tags.tags()
            .iter()
            .map(|t| format!("{}={}", t.key().unwrap(), t.value().unwrap()))
            .collect(),
    ))
}

async fn assert_colleagues_alarm_untouched(account: &Account) {
    let (threshold, description, tags) = alarm_now(account, COLLEAGUES)
        .await
        .expect("the colleague's alarm is still there");
    assert_eq!(threshold, 5.0);
    assert!(
        description.starts_with("Root usage, paged"),
        "{description}"
    );
    assert!(tags.is_empty(), "{tags:?}");
}

/// The put_metric_alarm actions of a JSON plan (single account or organization), by name.
fn alarm_actions(plan: &Value) -> Vec<(String, String)> {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "put_metric_alarm")
        .map(|a| {
            (
                a["alarm_name"].as_str().unwrap().to_string(),
                a["mode"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a plan file as `plan --out` would leave it: readable by its owner only.
fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test]
async fn a_copied_record_never_makes_an_alarm_cis_fixs_in_one_account() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    colleagues_alarm(&account).await;
    let notify = queue(&account);

    // The plan creates cis-fix's own alarm beside it, under the digest name.
    let plan = account.plan(&["--controls", "5.3", "--notify", &notify]);
    let alarms = alarm_actions(&plan);
    assert_eq!(alarms.len(), 1, "{plan:#}");
    assert!(
        alarms[0].0.starts_with("cis-fix-root-account-usage-") && alarms[0].1 == "create",
        "{alarms:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    assert_ok(&account.run(&[
        "plan",
        "--controls",
        "5.3",
        "--notify",
        &notify,
        "--out",
        file,
    ]));
    assert_ok(&account.run(&["apply", file]));
    assert_colleagues_alarm_untouched(&account).await;
    assert_ok(&account.run(&["backout", "--auto-approve"]));
    assert_colleagues_alarm_untouched(&account).await;
    assert_eq!(alarm_now(&account, &alarms[0].0).await, None);
}

#[tokio::test]
async fn a_saved_organization_plan_and_an_org_backout_never_touch_a_colleagues_alarm() {
    let management = Account::new().await;
    let member = Account::new().await;
    management.organization(&[&member]);
    management.organization_trail("org", ORG_GROUP).await;
    colleagues_alarm(&management).await;
    let (_, inbox) = management.queue("security").await;
    let notify = format!("sqs:{inbox}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org-plan.json");
    let file = path.to_str().unwrap();

    let out = management.run(&[
        "plan",
        "--org",
        "--controls",
        "5.3",
        "--notify",
        &notify,
        "--out",
        file,
    ]);
    assert_ok(&out);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let alarms = alarm_actions(&saved["plan"]);
    assert!(
        !alarms.iter().any(|(name, _)| name == COLLEAGUES) && !alarms.is_empty(),
        "{alarms:?}"
    );
    // plan --out says the file's SHA-256; apply FILE says it again.
    let digest = sha256(&path);
    assert!(stdout(&out).contains(&digest), "{}", stdout(&out));
    let out = management.run(&["apply", file]);
    assert_ok(&out);
    assert!(stdout(&out).contains(&digest), "{}", stdout(&out));
    assert_colleagues_alarm_untouched(&management).await;

    assert_ok(&management.run(&["backout", "--org", "--auto-approve"]));
    assert_colleagues_alarm_untouched(&management).await;
    for (name, _) in &alarms {
        assert_eq!(alarm_now(&management, name).await, None, "{name}");
    }
}

/// An account with a trail and a team's own filter, alarm and topic with a subscriber.
async fn team_account() -> (Account, String) {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .filter(
            GROUP,
            "team-filter",
            "{ $.eventName = \"Foo\" }",
            "Foo",
            "Team",
        )
        .await;
    account.alarm("team-root", "Foo", "Team", None, true).await;
    let topic = account.topic("team-pager").await;
    let (_, inbox) = account.queue("team-inbox").await;
    account.subscribe(&topic, "sqs", &inbox).await;
    (account, topic)
}

/// Applies `text` as a plan file, and checks it is refused as differing from a fresh plan,
/// with no write.
fn assert_refused(account: &Account, path: &Path, text: &str, why: &str) {
    write_private(path, text);
    account.reset_calls();
    let out = account.run(&["apply", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{why}: {err}");
    assert!(
        err.contains("is stale") && err.contains("its actions differ from a fresh plan's"),
        "{why}: {err}"
    );
    assert!(writes(account).is_empty(), "{why}: {:?}", writes(account));
}

fn first_mut<'a>(plan: &'a mut Value, action: &str) -> &'a mut Value {
    plan["plan"]["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["action"] == action)
        .unwrap()
}

#[tokio::test]
async fn an_edited_plan_file_is_refused_with_no_write() {
    let (account, team_topic) = team_account().await;
    let before = account.state().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let notify = queue(&account);
    assert_ok(&account.run(&[
        "plan",
        "--controls",
        "5.1,5.3",
        "--notify",
        &notify,
        "--out",
        path.to_str().unwrap(),
    ]));
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let edited = dir.path().join("edited.json");
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut plan = original.clone();
        change(&mut plan);
        serde_json::to_string_pretty(&plan).unwrap()
    };

    // A create re-pointed at a user's alarm.
    let text = edit(&|p| first_mut(p, "put_metric_alarm")["alarm_name"] = "team-root".into());
    assert_refused(&account, &edited, &text, "alarm");
    // A user's filter overwritten with a pattern that never matches.
    let text = edit(&|p| {
        let f = first_mut(p, "put_metric_filter");
        f["filter_name"] = "team-filter".into();
        f["filter_pattern"] = "{ $.never = 1 }".into();
    });
    assert_refused(&account, &edited, &text, "filter");
    // An attacker's URL subscribed to the team's topic.
    let text = edit(&|p| {
        let s = first_mut(p, "subscribe");
        s["topic_arn"] = team_topic.clone().into();
        s["protocol"] = "https".into();
        s["endpoint"] = "https://attacker.example.com/hook".into();
    });
    assert_refused(&account, &edited, &text, "subscribe");
    // `mode: change`, which the old check keyed on, changes nothing either.
    let text = edit(&|p| first_mut(p, "put_metric_alarm")["mode"] = "change".into());
    assert_refused(&account, &edited, &text, "mode");
    // Options edited alone: a fresh plan from them has other actions than the file.
    let text = edit(&|p| {
        p["options"]["notify"][0]["endpoint"] = "https://attacker.example.com/hook".into();
        p["options"]["notify"][0]["protocol"] = "https".into();
    });
    assert_refused(&account, &edited, &text, "options");
    assert_eq!(account.state().await, before);

    // A file others may write is refused before any call, whatever it holds.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    account.reset_calls();
    let out = account.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("writable by its group (mode 0664)")
            && stderr(&out).contains("chmod go-w"),
        "{}",
        stderr(&out)
    );
    assert!(account.calls().is_empty(), "{:?}", account.calls());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    // So is one owned by another user (where the tests may give it away: as root).
    let other = dir.path().join("other.json");
    std::fs::copy(&path, &other).unwrap();
    if std::os::unix::fs::chown(&other, Some(65534), None).is_ok() {
        let out = account.run(&["apply", other.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("is owned by user 65534"),
            "{}",
            stderr(&out)
        );
    }

    // The file as it was written applies.
    let out = account.run(&["apply", path.to_str().unwrap()]);
    assert_ok(&out);
    assert!(stdout(&out).contains(&sha256(&path)), "{}", stdout(&out));
}

#[tokio::test]
async fn a_plan_made_with_a_catalog_is_refused_once_the_catalog_changed() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.toml");
    let original =
        std::fs::read_to_string(crate::harness::path_in_repo("plans/cis-7.0.toml")).unwrap();
    std::fs::write(&catalog, &original).unwrap();
    let path = dir.path().join("plan.json");
    let notify = queue(&account);
    assert_ok(&account.run(&[
        "plan",
        "--catalog",
        catalog.to_str().unwrap(),
        "--controls",
        "5.3",
        "--notify",
        &notify,
        "--out",
        path.to_str().unwrap(),
    ]));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["catalog"]["sha256"], sha256(&catalog));

    std::fs::write(&catalog, format!("{original}\n# edited\n")).unwrap();
    account.reset_calls();
    let out = account.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("changed since the plan was made"),
        "{}",
        stderr(&out)
    );
    assert!(account.calls().is_empty(), "{:?}", account.calls());

    std::fs::write(&catalog, &original).unwrap();
    assert_ok(&account.run(&["apply", path.to_str().unwrap()]));
}

/// The subscriptions to a topic as its owner sees them: (protocol, endpoint).
async fn subscribers(account: &Account, topic: &str) -> Vec<(String, String)> {
    let subs = account
        .sns()
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .unwrap();
    subs.subscriptions()
        .iter()
        .map(|s| {
            (
                s.protocol().unwrap().to_string(),
                s.endpoint().unwrap().to_string(),
            )
        })
        .collect()
}

async fn topic_exists(account: &Account, topic: &str) -> bool {
    account
        .sns()
        .list_topics()
        .send()
        .await
        .unwrap()
        .topics()
        .iter()
        .any(|t| t.topic_arn() == Some(topic))
}

#[tokio::test]
async fn backout_keeps_a_topic_another_account_subscribed_to() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.3",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let topic = account.topic_arn("cis-fix-alerts");
    // A central security account subscribes its queue, with its own credentials: the topic's
    // owner sees it only through ListSubscriptionsByTopic.
    let security = Account::new().await;
    let (_, central) = security.queue("central").await;
    security.subscribe(&topic, "sqs", &central).await;

    account.reset_calls();
    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    let ops: Vec<String> = account.calls().into_iter().map(|(_, op)| op).collect();
    assert!(
        ops.contains(&"ListSubscriptionsByTopic".to_string()),
        "{ops:?}"
    );
    let text = words(&stdout(&out));
    assert!(
        text.contains("it has 1 subscription cis-fix did not make (from any account)"),
        "{text}"
    );
    assert!(topic_exists(&account, &topic).await);
    assert_eq!(
        subscribers(&account, &topic).await,
        [("sqs".to_string(), central.clone())],
        "cis-fix's own subscriber goes, the central one stays"
    );

    assert_ok(&account.run(&["backout", "--force", "--auto-approve"]));
    assert!(!topic_exists(&account, &topic).await);
}

#[tokio::test]
async fn copied_tags_do_not_make_backout_touch_a_teams_topic() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    // The team's own whole chain for 5.6, on its topic with its pager's queue.
    account
        .filter(GROUP, "auth", AUTH_FAILURES, "AuthFailures", "CISBenchmark")
        .await;
    let team = account.topic("team-pager").await;
    let (_, pager) = account.queue("pager").await;
    account.subscribe(&team, "sqs", &pager).await;
    account
        .alarm(
            "team-auth",
            "AuthFailures",
            "CISBenchmark",
            Some(&team),
            true,
        )
        .await;
    // cis-fix reuses the team's topic for 5.1.
    let out = account.run(&["apply", "--controls", "5.1,5.6", "--auto-approve"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("reusing topic team-pager"),
        "{}",
        stdout(&out)
    );
    // Someone with only sns:TagResource copies cis-fix's tags onto it, the pager's too.
    let mut tag = account.sns().tag_resource().resource_arn(&team);
    for (key, value) in cis_fix::ownership::topic_tags([("sqs", pager.as_str())]) {
        tag = tag.tags(
            aws_sdk_sns::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .unwrap(),
        );
    }
    tag.send().await.unwrap();

    // Even forced, the topic and its pager stay, and the plan says why.
    let out = account.run(&["backout", "--force", "--auto-approve"]);
    assert_ok(&out);
    let text = words(&stdout(&out));
    assert!(
        text.contains(
            "it carries cis-fix's tags, but cis-fix creates its topic only as `cis-fix-alerts`"
        ),
        "{text}"
    );
    assert!(topic_exists(&account, &team).await);
    assert_eq!(
        subscribers(&account, &team).await,
        [("sqs".to_string(), pager.clone())]
    );
    // cis-fix's own alarm for 5.1 went; the team's stays.
    assert!(alarm_now(&account, "team-auth").await.is_some());
    assert_eq!(
        alarm_now(&account, "cis-fix-unauthorized-api-calls").await,
        None
    );
}

#[tokio::test]
async fn backout_keeps_what_a_users_alarms_depend_on_unless_forced() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.1",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let topic = account.topic_arn("cis-fix-alerts");
    let filters = account
        .logs()
        .describe_metric_filters()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    let own = filters
        .metric_filters()
        .iter()
        .find(|f| f.filter_name().unwrap().starts_with("cis-fix-"))
        .unwrap();
    let metric = &own.metric_transformations()[0];
    // A user's alarm notifies cis-fix's topic; another watches cis-fix's filter's metric.
    account
        .alarm("billing", "Spend", "Billing", Some(&topic), true)
        .await;
    account
        .alarm(
            "soc-unauthorized",
            metric.metric_name(),
            metric.metric_namespace(),
            None,
            true,
        )
        .await;

    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    let text = words(&stdout(&out));
    assert!(
        text.contains("alarm `billing` (not created by cis-fix) notifies it")
            && text
                .contains("alarm `soc-unauthorized` (not created by cis-fix) watches its metric")
            && text.contains("--force"),
        "{text}"
    );
    assert!(topic_exists(&account, &topic).await);
    assert_eq!(subscribers(&account, &topic).await.len(), 1, "kept whole");
    assert_eq!(
        alarm_now(&account, "cis-fix-unauthorized-api-calls").await,
        None
    );

    assert_ok(&account.run(&["backout", "--force", "--auto-approve"]));
    assert!(!topic_exists(&account, &topic).await);
    let left = account
        .logs()
        .describe_metric_filters()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    assert!(left.metric_filters().is_empty(), "{left:?}");
    // The users' alarms are theirs: never deleted, even forced.
    assert!(alarm_now(&account, "billing").await.is_some());
    assert!(alarm_now(&account, "soc-unauthorized").await.is_some());
}
