//! The audit on in-memory snapshots: every link of the chain, reuse, ownership and ordering.

use super::*;
use crate::catalog;
use crate::inventory::{
    Alarm, MetricFilter, RegionSnapshot, Subscription, Topic, TopicDelivery, Trail,
};
use crate::ownership::{self, AlarmRecord};
use crate::pattern::Relation;

/// The audit of `snapshot` as the inventory would have read it: every topic a subscription
/// names exists, with AWS's default policy and no key, unless the test set it up otherwise.
pub(crate) fn audit(catalog: &Catalog, snapshot: &Snapshot, options: &Options) -> Plan {
    let mut s = snapshot.clone();
    for r in s.regions.values_mut() {
        let arns: Vec<String> = r
            .subscriptions
            .iter()
            .map(|s| s.topic_arn.clone())
            .collect();
        for arn in arns {
            match r.topics.iter_mut().find(|t| t.arn == arn) {
                Some(t) if t.exists && t.delivery.is_none() => {
                    t.delivery = Some(TopicDelivery::default())
                }
                Some(_) => {}
                None => r.topics.push(Topic {
                    arn,
                    exists: true,
                    delivery: Some(TopicDelivery::default()),
                    ..Default::default()
                }),
            }
        }
    }
    super::audit(catalog, &s, options)
}

pub(crate) const ACCOUNT: &str = "111122223333";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const GROUP: &str = "ct-logs";
const FAILURES: &str =
    r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;

pub(crate) fn catalog(ids: &[&str]) -> Catalog {
    let wanted: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    catalog::load_builtin("cis-5.0")
        .unwrap()
        .select(&wanted)
        .unwrap()
}

pub(crate) fn trail(name: &str, group: &str) -> Trail {
    Trail {
        name: name.into(),
        arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"),
        home_region: REGION.into(),
        is_multi_region: true,
        is_logging: true,
        log_group_arn: Some(format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"
        )),
        ..Default::default()
    }
}

/// An account with one qualifying trail and nothing else.
pub(crate) fn account() -> Snapshot {
    let mut s = Snapshot {
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        trails: vec![trail("main", GROUP)],
        ..Default::default()
    };
    s.regions.insert(REGION.into(), RegionSnapshot::default());
    s
}

fn region(s: &mut Snapshot) -> &mut RegionSnapshot {
    s.regions.get_mut(REGION).unwrap()
}

pub(crate) fn filter(group: &str, name: &str, pattern: &str, metric: &str) -> MetricFilter {
    MetricFilter {
        log_group: group.into(),
        name: name.into(),
        pattern: pattern.into(),
        metric_name: metric.into(),
        metric_namespace: "CISBenchmark".into(),
        metric_value: "1".into(),
        default_value: None,
        unit: None,
        dimensions: vec![],
        ..Default::default()
    }
}

pub(crate) fn alarm(name: &str, metric: &str, topic: Option<&str>) -> Alarm {
    Alarm {
        name: name.into(),
        arn: format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"),
        metric_name: Some(metric.into()),
        namespace: Some("CISBenchmark".into()),
        actions_enabled: true,
        alarm_actions: topic.map(|t| vec![t.to_string()]).unwrap_or_default(),
        statistic: Some("Sum".into()),
        period: Some(300),
        threshold: Some(1.0),
        comparison_operator: Some("GreaterThanOrEqualToThreshold".into()),
        evaluation_periods: Some(1),
        ..Default::default()
    }
}

pub(crate) fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}")
}

pub(crate) fn subscription(
    topic: &str,
    protocol: &str,
    endpoint: &str,
    confirmed: bool,
) -> Subscription {
    Subscription {
        arn: if confirmed {
            format!("{topic}:0f0f0f0f-0000-4000-8000-000000000001")
        } else {
            "PendingConfirmation".into()
        },
        topic_arn: topic.into(),
        protocol: protocol.into(),
        endpoint: endpoint.into(),
    }
}

/// 4.6 fully wired: filter → alarm → topic with a confirmed subscription.
fn compliant_46(s: &mut Snapshot, pattern: &str) {
    let topic = topic_arn("ops");
    let r = region(s);
    r.metric_filters
        .push(filter(GROUP, "failures", pattern, "Failures"));
    r.alarms.push(alarm("failures", "Failures", Some(&topic)));
    r.subscriptions.push(subscription(
        &topic,
        "sqs",
        "arn:aws:sqs:us-east-1:111122223333:q",
        true,
    ));
}

fn notify() -> Options {
    Options {
        notify: vec!["email:sec@example.com".parse().unwrap()],
        ..Options::default()
    }
}

fn codes(plan: &Plan, id: &str) -> Vec<Code> {
    plan.controls
        .iter()
        .find(|c| c.id == id)
        .unwrap()
        .findings
        .iter()
        .map(|f| f.code)
        .collect()
}

fn status(plan: &Plan, id: &str) -> Status {
    plan.controls.iter().find(|c| c.id == id).unwrap().status
}

fn calls(plan: &Plan) -> Vec<(&'static str, Mode, Option<&str>)> {
    plan.actions
        .iter()
        .map(|a| (a.call.name(), a.mode, a.control.as_deref()))
        .collect()
}

#[test]
fn a_full_chain_is_compliant() {
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert_eq!(status(&plan, "4.6"), Status::Compliant);
    let chain = plan.controls[0].chain.as_ref().unwrap();
    assert_eq!(chain.filter, "failures");
    assert_eq!(chain.alarm, "failures");
    assert_eq!(chain.relation, Relation::Equivalent);
    assert!(plan.actions.is_empty());
    assert!(plan.is_compliant());
    assert_eq!(plan.summary.compliant, 1);
}

#[test]
fn a_reordered_filter_still_counts() {
    let mut s = account();
    compliant_46(
        &mut s,
        "{\n  $.errorMessage = \"Failed authentication\"\n  && ($.eventName = \"ConsoleLogin\") }",
    );
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert_eq!(status(&plan, "4.6"), Status::Compliant);
}

#[test]
fn each_broken_link_is_named() {
    let topic = topic_arn("ops");
    type Break = fn(&mut Snapshot);
    let cases: Vec<(&str, Break, Code)> = vec![
        (
            "single-region trail",
            |s| s.trails[0].is_multi_region = false,
            Code::NoQualifyingTrail,
        ),
        (
            "stopped trail",
            |s| s.trails[0].is_logging = false,
            Code::NoQualifyingTrail,
        ),
        (
            "no log group",
            |s| s.trails[0].log_group_arn = None,
            Code::NoQualifyingTrail,
        ),
        (
            "other account's log group",
            |s| {
                s.trails[0].log_group_arn =
                    Some("arn:aws:logs:us-east-1:999999999999:log-group:ct-logs:*".into())
            },
            Code::NoQualifyingTrail,
        ),
        (
            "namespace mismatch",
            |s| region(s).alarms[0].namespace = Some("Other".into()),
            Code::NoAlarm,
        ),
        (
            "actions disabled",
            |s| region(s).alarms[0].actions_enabled = false,
            Code::AlarmActionsDisabled,
        ),
        (
            "no sns action",
            |s| {
                region(s).alarms[0].alarm_actions =
                    vec!["arn:aws:automate:us-east-1:ec2:stop".into()]
            },
            Code::AlarmWithoutSnsAction,
        ),
        (
            "dimension mismatch",
            |s| region(s).alarms[0].dimensions = vec!["InstanceId".into()],
            Code::AlarmDimensionsMismatch,
        ),
        (
            // One series per event name: the alarm on one of them misses the others.
            "dimensions taken from each event, the alarm on one value",
            |s| {
                region(s).metric_filters[0].dimensions = vec!["EventName".into()];
                region(s).alarms[0].dimensions = vec!["EventName".into()];
            },
            Code::FilterEventDimensions,
        ),
        (
            "dimensions taken from each event, the alarm on none",
            |s| region(s).metric_filters[0].dimensions = vec!["EventName".into()],
            Code::FilterEventDimensions,
        ),
        (
            "no subscription",
            |s| region(s).subscriptions.clear(),
            Code::TopicNotSubscribed,
        ),
        (
            "pending subscription",
            |s| region(s).subscriptions[0].arn = "PendingConfirmation".into(),
            Code::SubscriptionPending,
        ),
        (
            "filter on another log group",
            |s| region(s).metric_filters[0].log_group = "other".into(),
            Code::NoCoveringFilter,
        ),
        (
            "weaker filter",
            |s| {
                region(s).metric_filters[0].pattern = "{ $.eventName = ConsoleLogin && $.errorMessage = \"Failed authentication\" && $.awsRegion = \"us-east-1\" }".into()
            },
            Code::NearMissFilter,
        ),
    ];
    for (what, break_it, code) in cases {
        let mut s = account();
        compliant_46(&mut s, FAILURES);
        break_it(&mut s);
        let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
        assert_ne!(status(&plan, "4.6"), Status::Compliant, "{what}");
        assert!(
            codes(&plan, "4.6").contains(&code),
            "{what}: {:?}",
            codes(&plan, "4.6")
        );
        assert!(!plan.is_compliant());
    }
    // Sanity: the unbroken chain notifies the topic the cases break.
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    assert_eq!(
        audit(&catalog(&["4.6"]), &s, &Options::default()).controls[0]
            .chain
            .as_ref()
            .unwrap()
            .topic_arn,
        topic
    );
}

#[test]
fn without_a_qualifying_trail_controls_are_blocked_and_nothing_is_planned() {
    let mut s = account();
    s.trails.clear();
    let plan = audit(&catalog(&[]), &s, &notify());
    assert!(plan.controls.iter().all(|c| c.status == Status::Blocked));
    assert_eq!(codes(&plan, "4.1"), [Code::NoTrail]);
    assert!(plan.actions.is_empty());
    assert_eq!(plan.summary.blocked, 15);
}

#[test]
fn a_bare_account_gets_topic_subscription_filter_and_alarm_in_that_order() {
    let plan = audit(&catalog(&["4.1", "4.6"]), &account(), &notify());
    assert_eq!(
        calls(&plan),
        [
            ("create_topic", Mode::Create, None),
            ("subscribe", Mode::Create, None),
            ("put_metric_filter", Mode::Create, Some("4.1")),
            ("put_metric_filter", Mode::Create, Some("4.6")),
            ("put_metric_alarm", Mode::Create, Some("4.1")),
            ("put_metric_alarm", Mode::Create, Some("4.6")),
        ]
    );
    assert_eq!(plan.summary.to_create, 6);
    let Call::PutMetricFilter(FilterCall {
        filter_name,
        filter_pattern,
        log_group_name,
        metric_name,
        ..
    }) = &plan.actions[3].call
    else {
        panic!()
    };
    assert_eq!(log_group_name, GROUP);
    assert_eq!(filter_pattern, FAILURES);
    assert_eq!(metric_name, "ConsoleAuthenticationFailures");
    assert_eq!(
        ownership::owned_filter_slug(ACCOUNT, REGION, GROUP, filter_name),
        Some("console-authentication-failures")
    );
    let Call::PutMetricAlarm(AlarmCall {
        alarm_actions,
        alarm_description,
        tags,
        ..
    }) = &plan.actions[5].call
    else {
        panic!()
    };
    assert_eq!(alarm_actions, &[topic_arn("cis-fix-alerts")]);
    let record = ownership::alarm_record(Some(alarm_description)).unwrap();
    assert_eq!(record.control, "console-authentication-failures");
    assert_eq!(record.filter.unwrap().name, *filter_name);
    assert!(ownership::is_managed(tags));
}

#[test]
fn a_covering_filter_is_reused_and_only_the_alarm_is_added() {
    let mut s = account();
    region(&mut s)
        .metric_filters
        .push(filter(GROUP, "users-own", FAILURES, "Failures"));
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    assert_eq!(codes(&plan, "4.6"), [Code::NoAlarm]);
    let alarm = plan
        .actions
        .iter()
        .find(|a| a.call.name() == "put_metric_alarm")
        .unwrap();
    let Call::PutMetricAlarm(AlarmCall {
        metric_name,
        alarm_description,
        ..
    }) = &alarm.call
    else {
        panic!()
    };
    assert_eq!(metric_name, "Failures");
    // The user's filter is not recorded as cis-fix's.
    assert_eq!(
        ownership::alarm_record(Some(alarm_description))
            .unwrap()
            .filter,
        None
    );
    assert!(!plan
        .actions
        .iter()
        .any(|a| a.call.name() == "put_metric_filter"));
}

#[test]
fn a_copied_record_without_cis_fixs_tags_gets_an_alarm_beside_it() {
    // A colleague's alarm with cis-fix's name, whose description ends in a copy of cis-fix's
    // record: untagged, or with tags that were never read, or tagged for another control.
    let own_topic = topic_arn("cis-fix-alerts");
    let record = AlarmRecord {
        control: "root-account-usage".into(),
        filter: None,
    };
    for tags in [
        None,
        Some(Default::default()),
        Some(ownership::alarm_tags("unauthorized-api-calls")),
    ] {
        let mut s = account();
        let mut a = alarm("cis-fix-root-account-usage", "RootUsage", Some(&own_topic));
        a.threshold = Some(5.0);
        a.description = Some(format!(
            "Team alarm. {}",
            ownership::alarm_description("4.3", "t", &record)
        ));
        a.tags = tags.clone();
        region(&mut s).alarms.push(a);
        let plan = audit(&catalog(&["4.3"]), &s, &notify());
        let alarms: Vec<(&str, Mode)> = plan
            .actions
            .iter()
            .filter_map(|a| match &a.call {
                Call::PutMetricAlarm(AlarmCall { alarm_name, .. }) => {
                    Some((alarm_name.as_str(), a.mode))
                }
                _ => None,
            })
            .collect();
        let beside = &ownership::alarm_names(ACCOUNT, REGION, "root-account-usage")[1];
        assert_eq!(alarms, [(beside.as_str(), Mode::Create)], "tags {tags:?}");
    }
}

#[test]
fn cis_fix_changes_only_its_own_resources() {
    // cis-fix's filter with an outdated pattern and its alarm without actions: both `~`.
    let mut s = account();
    let name = ownership::filter_name(ACCOUNT, REGION, GROUP, "console-authentication-failures");
    let own_topic = topic_arn("cis-fix-alerts");
    let tags = ownership::topic_tags([("email", "sec@example.com")]);
    {
        let r = region(&mut s);
        // An older, narrower pattern: it no longer covers the catalog's.
        let outdated = "{ $.eventName = ConsoleLogin && $.errorMessage = \"Failed authentication\" && $.userIdentity.type = IAMUser }";
        r.metric_filters.push(filter(
            GROUP,
            &name,
            outdated,
            "ConsoleAuthenticationFailures",
        ));
        let mut a = alarm(
            "cis-fix-console-authentication-failures",
            "ConsoleAuthenticationFailures",
            Some(&own_topic),
        );
        a.actions_enabled = false;
        a.description = Some(ownership::alarm_description(
            "4.6",
            "t",
            &AlarmRecord {
                control: "console-authentication-failures".into(),
                filter: None,
            },
        ));
        a.tags = Some(ownership::alarm_tags("console-authentication-failures"));
        r.alarms.push(a);
        r.topics.push(Topic {
            arn: own_topic.clone(),
            exists: true,
            tags,
            delivery: Some(Default::default()),
        });
        r.subscriptions
            .push(subscription(&own_topic, "email", "sec@example.com", true));
    }
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    assert_eq!(
        calls(&plan),
        [
            ("put_metric_filter", Mode::Change, Some("4.6")),
            ("put_metric_alarm", Mode::Change, Some("4.6")),
        ]
    );
    assert_eq!(plan.summary.to_change, 2);
    assert!(
        plan.actions[1]
            .reason
            .contains("actions_enabled false → true"),
        "{}",
        plan.actions[1].reason
    );
    // Each difference as data; a pattern whole, before and after.
    let pattern = &plan.actions[0].changes;
    assert_eq!(pattern.len(), 1, "{pattern:?}");
    assert_eq!(pattern[0].attribute, "filter_pattern");
    assert!(pattern[0].before.contains("IAMUser"), "{pattern:?}");
    assert_eq!(pattern[0].after, FAILURES);
    let alarm_changes: Vec<(&str, &str, &str)> = plan.actions[1]
        .changes
        .iter()
        .map(|c| (c.attribute.as_str(), c.before.as_str(), c.after.as_str()))
        .collect();
    assert!(
        alarm_changes.contains(&("actions_enabled", "false", "true")),
        "{alarm_changes:?}"
    );
    // The reason lists the same attributes, in the same order.
    let listed: Vec<String> = plan.actions[1]
        .changes
        .iter()
        .map(Change::summary)
        .collect();
    assert_eq!(
        plan.actions[1].reason,
        format!("cis-fix's alarm differs: {}", listed.join(", "))
    );
    // Creations carry no changes, and JSON says none.
    let created = audit(&catalog(&["4.6"]), &account(), &notify());
    assert!(created.actions.iter().all(|a| a.changes.is_empty()));
    let json = serde_json::to_value(&created).unwrap();
    assert!(json["actions"][0].get("changes").is_none());

    // The same resources without cis-fix's marks are the user's: left alone, new ones added.
    let mut s = account();
    {
        let r = region(&mut s);
        r.metric_filters.push(filter(
            GROUP,
            "cis-fix-console-authentication-failures",
            "{ $.eventName = ConsoleLogin }",
            "Logins",
        ));
        r.alarms.push(alarm(
            "cis-fix-console-authentication-failures",
            "Logins",
            None,
        ));
    }
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    assert!(
        plan.actions.iter().all(|a| a.mode == Mode::Create),
        "{:?}",
        calls(&plan)
    );
    let names: Vec<String> = plan
        .actions
        .iter()
        .filter_map(|a| match &a.call {
            Call::PutMetricFilter(FilterCall { filter_name, .. }) => Some(filter_name.clone()),
            Call::PutMetricAlarm(AlarmCall { alarm_name, .. }) => Some(alarm_name.clone()),
            _ => None,
        })
        .collect();
    assert!(
        !names.contains(&"cis-fix-console-authentication-failures".to_string()),
        "{names:?}"
    );
}

#[test]
fn a_foreign_topic_with_cis_fix_name_is_not_used() {
    let mut s = account();
    region(&mut s).topics.push(Topic {
        arn: topic_arn("cis-fix-alerts"),
        exists: true,
        tags: Default::default(),
        delivery: Some(Default::default()),
    });
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    assert_eq!(
        codes(&plan, "4.6"),
        [Code::NoCoveringFilter, Code::TopicNameTaken]
    );
    assert!(plan.actions.is_empty());
}

#[test]
fn an_existing_cis_fix_topic_is_reused_and_only_new_endpoints_subscribed() {
    let mut s = account();
    let own = topic_arn("cis-fix-alerts");
    {
        let r = region(&mut s);
        r.topics.push(Topic {
            arn: own.clone(),
            exists: true,
            tags: ownership::topic_tags([("email", "sec@example.com")]),
            delivery: Some(Default::default()),
        });
        r.subscriptions
            .push(subscription(&own, "email", "sec@example.com", true));
    }
    let mut options = notify();
    options.notify.push("sms:+15555550100".parse().unwrap());
    let plan = audit(&catalog(&["4.6"]), &s, &options);
    assert_eq!(
        calls(&plan),
        [
            ("subscribe", Mode::Create, None),
            ("put_metric_filter", Mode::Create, Some("4.6")),
            ("put_metric_alarm", Mode::Create, Some("4.6")),
        ]
    );
    let Call::Subscribe { protocol, .. } = &plan.actions[0].call else {
        panic!()
    };
    assert_eq!(protocol, "sms");
}

#[test]
fn no_subscriber_source_means_no_actions_and_a_hint() {
    let plan = audit(&catalog(&["4.6"]), &account(), &Options::default());
    assert_eq!(
        codes(&plan, "4.6"),
        [Code::NoCoveringFilter, Code::NeedsSubscriber]
    );
    assert!(plan.controls[0].findings[1].message.contains("--notify"));
    assert!(plan.actions.is_empty());
}

#[test]
fn a_compliant_controls_topic_serves_the_others() {
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    let plan = audit(&catalog(&["4.1", "4.6"]), &s, &Options::default());
    let Some(Call::PutMetricAlarm(AlarmCall { alarm_actions, .. })) = plan
        .actions
        .iter()
        .map(|a| &a.call)
        .find(|c| c.name() == "put_metric_alarm")
    else {
        panic!("{:?}", calls(&plan))
    };
    assert_eq!(alarm_actions, &[topic_arn("ops")]);
}

#[test]
fn topic_arn_in_another_region_is_refused() {
    let options = Options {
        topic: TopicChoice::Arn("arn:aws:sns:eu-west-1:111122223333:ops".into()),
        ..Options::default()
    };
    let plan = audit(&catalog(&["4.6"]), &account(), &options);
    assert!(codes(&plan, "4.6").contains(&Code::TopicInOtherRegion));
    assert!(plan.actions.is_empty());
}

#[test]
fn a_metric_someone_else_publishes_is_not_shared() {
    let mut s = account();
    // Logouts: not a covering filter, but it publishes the metric cis-fix would use.
    region(&mut s).metric_filters.push(filter(
        GROUP,
        "logouts",
        "{ $.eventName = ConsoleLogout }",
        "ConsoleAuthenticationFailures",
    ));
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    let action = plan
        .actions
        .iter()
        .find(|a| a.call.name() == "put_metric_filter")
        .unwrap();
    let Call::PutMetricFilter(FilterCall { metric_name, .. }) = &action.call else {
        panic!("{action:?}")
    };
    assert_eq!(metric_name, "ConsoleAuthenticationFailures-cis-fix");
    // The action says why, and the text view shows it under the action line.
    assert!(
        action.reason.ends_with("; metric ConsoleAuthenticationFailures-cis-fix, not ConsoleAuthenticationFailures: the filter `logouts` (not cis-fix's) publishes that one, and an alarm on it would fire for its events too"),
        "{}",
        action.reason
    );
    assert!(crate::render::extra_reason(action).is_some_and(
        |extra| extra.starts_with("metric ConsoleAuthenticationFailures-cis-fix, not")
    ));
}

#[test]
fn a_full_log_group_is_reported_not_overfilled() {
    let mut s = account();
    for i in 0..100 {
        region(&mut s).metric_filters.push(filter(
            GROUP,
            &format!("f{i}"),
            "{ $.x = 1 }",
            &format!("M{i}"),
        ));
    }
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    assert!(codes(&plan, "4.6").contains(&Code::LogGroupFilterLimit));
    assert!(!plan
        .actions
        .iter()
        .any(|a| a.call.name() == "put_metric_filter"));
}

#[test]
fn several_trails_on_one_log_group_make_one_target() {
    let mut s = account();
    s.trails.push(trail("second", GROUP));
    compliant_46(&mut s, FAILURES);
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert_eq!(
        plan.controls[0].chain.as_ref().unwrap().trail,
        "main, second"
    );
}

#[test]
fn the_plan_serialises_to_the_documented_json_shape() {
    let plan = audit(&catalog(&["4.1", "4.6"]), &account(), &notify());
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["format_version"], 2);
    assert_eq!(json["controls"][0]["status"], "non_compliant");
    let first = &json["actions"][0];
    assert_eq!(first["action"], "create_topic");
    assert_eq!(first["mode"], "create");
    assert_eq!(first["control"], serde_json::Value::Null);
    assert_eq!(first["region"], REGION);
    let filter = &json["actions"][2];
    assert_eq!(filter["action"], "put_metric_filter");
    assert_eq!(filter["control"], "4.1");
    for key in [
        "log_group_name",
        "filter_name",
        "filter_pattern",
        "metric_name",
        "namespace",
        "metric_value",
    ] {
        assert!(filter.get(key).is_some(), "{key}");
    }
    // The same name for the same thing in every kind of action.
    assert!(filter.get("metric_namespace").is_none());
    // And back.
    let back: Plan = serde_json::from_value(json).unwrap();
    assert_eq!(back, plan);
}

#[test]
fn a_denied_read_makes_undecided_controls_not_auditable_and_plans_nothing() {
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    s.unreadable.push(crate::inventory::ReadFailure {
        permission: "sns:ListSubscriptions".into(),
        region: REGION.into(),
    });
    let plan = audit(&catalog(&["4.1", "4.6"]), &s, &notify());
    // What was proven stays proven; what was not cannot be decided.
    assert_eq!(status(&plan, "4.6"), Status::Compliant);
    assert_eq!(status(&plan, "4.1"), Status::NotAuditable);
    assert_eq!(codes(&plan, "4.1"), [Code::NotAuditable]);
    assert!(plan.controls[0].findings[0]
        .message
        .contains("sns:ListSubscriptions (us-east-1)"));
    assert!(plan.actions.is_empty());
    assert_eq!(plan.summary.not_auditable, 1);
    assert!(!plan.is_compliant());
}

/// Sets the delivery attributes of `topic` as the inventory would have read them.
fn set_delivery(s: &mut Snapshot, topic: &str, key: Option<&str>, policy: Option<&str>) {
    let r = region(s);
    r.topics.retain(|t| t.arn != topic);
    r.topics.push(Topic {
        arn: topic.into(),
        exists: true,
        delivery: Some(TopicDelivery {
            kms_master_key_id: key.map(str::to_string),
            policy: policy.map(str::to_string),
        }),
        ..Default::default()
    });
}

#[test]
fn a_topic_under_the_aws_managed_key_breaks_the_chain_and_cis_fix_plans_its_own_topic() {
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    set_delivery(&mut s, &topic_arn("ops"), Some("alias/aws/sns"), None);
    region(&mut s).keys.push(crate::inventory::KmsKey {
        reference: "alias/aws/sns".into(),
        metadata: Some(crate::inventory::KeyMetadata {
            arn: format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/aws-sns"),
            manager: "AWS".into(),
            state: "Enabled".into(),
        }),
        policy: None,
    });
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert_eq!(status(&plan, "4.6"), Status::NonCompliant);
    assert!(codes(&plan, "4.6").contains(&Code::TopicKeyDeniesCloudwatch));
    // Without --notify there is no topic to use: the broken one is never reused.
    assert!(codes(&plan, "4.6").contains(&Code::NeedsSubscriber));
    assert!(plan.actions.is_empty());

    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    assert_eq!(
        calls(&plan),
        [
            ("create_topic", Mode::Create, None),
            ("subscribe", Mode::Create, None),
            ("put_metric_alarm", Mode::Create, Some("4.6")),
        ]
    );
    let Call::PutMetricAlarm(AlarmCall { alarm_actions, .. }) = &plan.actions[2].call else {
        panic!()
    };
    assert_eq!(alarm_actions, &vec![topic_arn(DEFAULT_TOPIC)]);
}

const DEFAULT_TOPIC: &str = "cis-fix-alerts";

#[test]
fn a_reused_topic_must_let_the_new_alarm_publish() {
    // 4.6 delivers through `ops`, whose policy lets only 4.6's own alarm publish.
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    let ops = topic_arn("ops");
    let only_failures = format!(
        r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"Service": "cloudwatch.amazonaws.com"}}, "Action": "sns:Publish", "Resource": "{ops}", "Condition": {{"ArnEquals": {{"aws:SourceArn": "arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:failures"}}}}}}]}}"#
    );
    set_delivery(&mut s, &ops, None, Some(&only_failures));
    let plan = audit(&catalog(&["4.6", "4.1"]), &s, &Options::default());
    assert_eq!(status(&plan, "4.6"), Status::Compliant);
    assert_eq!(status(&plan, "4.1"), Status::NonCompliant);
    assert!(
        codes(&plan, "4.1").contains(&Code::TopicPolicyDeniesCloudwatch),
        "{:?}",
        codes(&plan, "4.1")
    );
    // Nothing is planned for 4.1: an alarm on `ops` would never notify anyone.
    assert!(calls(&plan).iter().all(|(_, _, c)| *c != Some("4.1")));
}

#[test]
fn an_unevaluable_topic_policy_keeps_the_chain_for_a_drill() {
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    let ops = topic_arn("ops");
    let org_only = format!(
        r#"{{"Statement": [{{"Sid": "OrgOnly", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "{ops}", "Condition": {{"StringEquals": {{"aws:PrincipalOrgID": "o-abc"}}}}}}]}}"#
    );
    set_delivery(&mut s, &ops, None, Some(&org_only));
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    let report = &plan.controls[0];
    assert_eq!(report.status, Status::NonCompliant);
    assert!(report.chain.is_none());
    assert!(codes(&plan, "4.6").contains(&Code::TopicDeliveryUnverified));
    let unproven = report.delivery_unproven.as_ref().unwrap();
    assert_eq!(unproven.alarm, "failures");
    assert_eq!(unproven.topic_arn, ops);
}

#[test]
fn an_alarm_that_cannot_fire_on_one_event_breaks_the_chain() {
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    region(&mut s).alarms[0].threshold = Some(5.0);
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert_eq!(status(&plan, "4.6"), Status::NonCompliant);
    assert!(codes(&plan, "4.6").contains(&Code::AlarmThresholdUnreachable));

    let mut s = account();
    compliant_46(&mut s, FAILURES);
    region(&mut s).alarms[0].evaluation_periods = Some(3);
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert!(codes(&plan, "4.6").contains(&Code::AlarmNeedsSeveralDatapoints));
}

#[test]
fn cis_fixs_own_drifted_alarm_is_changed_attribute_by_attribute() {
    let mut s = account();
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    // Build the account as the apply would leave it, then raise the alarm's threshold.
    let r = region(&mut s);
    for action in &plan.actions {
        match &action.call {
            Call::PutMetricFilter(FilterCall {
                log_group_name,
                filter_name,
                filter_pattern,
                metric_name,
                metric_namespace,
                metric_value,
            }) => r.metric_filters.push(MetricFilter {
                log_group: log_group_name.clone(),
                name: filter_name.clone(),
                pattern: filter_pattern.clone(),
                metric_name: metric_name.clone(),
                metric_namespace: metric_namespace.clone(),
                metric_value: metric_value.clone(),
                ..Default::default()
            }),
            Call::PutMetricAlarm(AlarmCall {
                alarm_name,
                alarm_description,
                metric_name,
                namespace,
                statistic,
                period,
                comparison_operator,
                evaluation_periods,
                alarm_actions,
                tags,
                ..
            }) => r.alarms.push(Alarm {
                name: alarm_name.clone(),
                arn: format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm_name}"),
                metric_name: Some(metric_name.clone()),
                namespace: Some(namespace.clone()),
                actions_enabled: true,
                alarm_actions: alarm_actions.clone(),
                description: Some(alarm_description.clone()),
                statistic: Some(statistic.clone()),
                period: Some(*period),
                threshold: Some(5.0),
                comparison_operator: Some(comparison_operator.clone()),
                evaluation_periods: Some(*evaluation_periods),
                tags: Some(tags.clone()),
                ..Default::default()
            }),
            Call::CreateTopic {
                topic_arn, tags, ..
            } => r.topics.push(Topic {
                arn: topic_arn.clone(),
                exists: true,
                tags: tags.clone(),
                delivery: Some(TopicDelivery::default()),
            }),
            Call::Subscribe {
                topic_arn,
                protocol,
                endpoint,
            } => r
                .subscriptions
                .push(subscription(topic_arn, protocol, endpoint, true)),
            // 4.6 has no watch rule.
            Call::PutRule(_) | Call::PutTargets { .. } | Call::SetTopicPolicy { .. } => {}
        }
    }
    let plan = audit(&catalog(&["4.6"]), &s, &notify());
    assert_eq!(status(&plan, "4.6"), Status::NonCompliant);
    assert_eq!(
        calls(&plan),
        [("put_metric_alarm", Mode::Change, Some("4.6"))]
    );
    assert_eq!(
        plan.actions[0].reason,
        "cis-fix's alarm differs: threshold 5 → 1"
    );
    // The same, as data: one attribute, before and after.
    assert_eq!(
        plan.actions[0].changes,
        [Change {
            attribute: "threshold".into(),
            before: "5".into(),
            after: "1".into(),
        }]
    );
    let json = serde_json::to_value(&plan.actions[0]).unwrap();
    assert_eq!(
        json["changes"],
        serde_json::json!([{"attribute": "threshold", "before": "5", "after": "1"}])
    );
}

/// The organization trail of management account 999988887777, as a member sees it.
fn organization_trail() -> Trail {
    Trail {
        name: "org".into(),
        arn: "arn:aws:cloudtrail:us-east-1:999988887777:trail/org".into(),
        home_region: REGION.into(),
        is_multi_region: true,
        log_group_arn: Some(
            "arn:aws:logs:us-east-1:999988887777:log-group:aws-controltower/CloudTrailLogs:*"
                .into(),
        ),
        is_organization_trail: true,
        details_hidden: true,
        ..Default::default()
    }
}

#[test]
fn a_member_alone_defers_to_the_management_account() {
    let mut s = account();
    s.trails = vec![organization_trail()];
    let plan = audit(&catalog(&["4.1", "4.6"]), &s, &notify());
    for c in &plan.controls {
        assert_eq!(c.status, Status::NotAuditable, "{}", c.id);
        assert_eq!(c.findings.len(), 1);
        assert!(
            c.findings[0].message.contains("999988887777"),
            "{}",
            c.findings[0].message
        );
        assert!(c.findings[0].message.contains("cis-fix plan --org"));
    }
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert_eq!(plan.summary.not_auditable, 2);
    assert_eq!(
        plan.trails[0].organization_owner.as_deref(),
        Some("999988887777")
    );
    assert!(plan.trails[0].problems[0].contains("only that account can read"));
}

#[test]
fn a_members_own_chain_still_counts_beside_the_organization_trail() {
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    s.trails.push(organization_trail());
    let plan = audit(&catalog(&["4.1", "4.6"]), &s, &notify());
    assert_eq!(status(&plan, "4.6"), Status::Compliant);
    assert_eq!(status(&plan, "4.1"), Status::NotAuditable);
    // Nothing planned in the member for what the organization's chain may already serve.
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
}

/// Another control's own chain, with the catalog's pattern, notifying `topic` (which gets a
/// confirmed subscription if it has none).
fn chain_to(s: &mut Snapshot, id: &str, topic: &str) {
    let benchmark = catalog(&[]);
    let control = benchmark.controls.iter().find(|c| c.id == id).unwrap();
    let name = format!("users-{}", control.slug);
    let metric = format!("{}Users", control.metric.name);
    let r = region(s);
    r.metric_filters
        .push(filter(GROUP, &name, &control.pattern_text, &metric));
    r.alarms.push(alarm(&name, &metric, Some(topic)));
    if !r.subscriptions.iter().any(|x| x.topic_arn == topic) {
        r.subscriptions.push(subscription(
            topic,
            "sqs",
            "arn:aws:sqs:us-east-1:111122223333:q",
            true,
        ));
    }
}

/// What a plan says and does for one control: its report, its own actions, and the shared
/// ones (a topic, a subscriber) that its alarm notifies.
fn answer_for(plan: &Plan, id: &str) -> (ControlReport, Vec<Action>) {
    let report = plan.controls.iter().find(|c| c.id == id).unwrap().clone();
    let notified: Vec<&String> = plan
        .actions
        .iter()
        .filter(|a| a.control.as_deref() == Some(id))
        .filter_map(|a| match &a.call {
            Call::PutMetricAlarm(AlarmCall { alarm_actions, .. }) => Some(alarm_actions),
            _ => None,
        })
        .flatten()
        .collect();
    let actions = plan
        .actions
        .iter()
        .filter(|a| match (&a.control, &a.call) {
            (Some(control), _) => control == id,
            (None, Call::CreateTopic { topic_arn, .. } | Call::Subscribe { topic_arn, .. }) => {
                notified.contains(&topic_arn)
            }
            (None, _) => false,
        })
        .cloned()
        .collect();
    (report, actions)
}

/// 4.1 and 4.6 deliver through `ops`, 4.8 through `team`; 4.3's alarm notifies a topic
/// nobody subscribed to; 4.5 has a covering filter without an alarm.
fn a_mixed_account() -> Snapshot {
    let mut s = account();
    chain_to(&mut s, "4.1", &topic_arn("ops"));
    chain_to(&mut s, "4.6", &topic_arn("ops"));
    chain_to(&mut s, "4.8", &topic_arn("team"));
    let benchmark = catalog(&[]);
    let pattern = |id: &str| {
        benchmark
            .controls
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .pattern_text
            .clone()
    };
    let root = topic_arn("root-activity");
    let r = region(&mut s);
    r.metric_filters
        .push(filter(GROUP, "root", &pattern("4.3"), "Root"));
    r.alarms.push(alarm("root", "Root", Some(&root)));
    r.topics.push(Topic {
        arn: root,
        exists: true,
        delivery: Some(TopicDelivery::default()),
        ..Default::default()
    });
    r.metric_filters.push(filter(
        GROUP,
        "trail-changes",
        &pattern("4.5"),
        "TrailChanges",
    ));
    s
}

#[test]
fn a_controls_plan_is_the_same_alone_or_with_the_others() {
    let s = a_mixed_account();
    let ids: Vec<String> = catalog(&[]).controls.into_iter().map(|c| c.id).collect();
    for options in [Options::default(), notify()] {
        let all = audit(&catalog(&[]), &s, &options);
        for id in &ids {
            let expected = answer_for(&all, id);
            let alone = audit(&catalog(&[id]), &s, &options);
            assert_eq!(answer_for(&alone, id), expected, "{id} alone");
            // With a control whose topic is not the most used one.
            let beside = audit(&catalog(&[id, "4.8"]), &s, &options);
            assert_eq!(answer_for(&beside, id), expected, "{id} with 4.8");
            // And the plan names the same reused topic, whatever the selection.
            if alone
                .actions
                .iter()
                .any(|a| a.call.name() == "put_metric_alarm")
            {
                assert_eq!(alone.notifications, all.notifications, "{id}");
            }
        }
        // The shared topic is planned once, for all of them.
        let topics = all
            .actions
            .iter()
            .filter(|a| a.call.name() == "create_topic")
            .count();
        assert_eq!(topics, usize::from(!options.notify.is_empty()));
    }
}

#[test]
fn a_control_alone_reuses_the_topic_that_delivers_for_the_most_controls() {
    // The bug this guards: alone, 4.2 used to find no topic (the reuse looked only at the
    // selected controls' chains), and beside 4.8 it used 4.8's.
    let s = a_mixed_account();
    for selection in [&["4.2"][..], &["4.2", "4.8"], &["4.8", "4.2", "4.1"]] {
        let plan = audit(&catalog(selection), &s, &Options::default());
        assert_eq!(status(&plan, "4.2"), Status::NonCompliant);
        assert!(!codes(&plan, "4.2").contains(&Code::NeedsSubscriber));
        let alarm = plan
            .actions
            .iter()
            .find(|a| a.control.as_deref() == Some("4.2") && a.call.name() == "put_metric_alarm")
            .unwrap_or_else(|| panic!("{selection:?}: {:?}", calls(&plan)));
        let Call::PutMetricAlarm(AlarmCall { alarm_actions, .. }) = &alarm.call else {
            panic!()
        };
        assert_eq!(alarm_actions, &[topic_arn("ops")], "{selection:?}");
        assert_eq!(
            plan.notifications,
            Some(TopicReuse {
                topic_arn: topic_arn("ops"),
                delivers_for: vec!["4.1".into(), "4.6".into()],
            }),
            "{selection:?}"
        );
    }
}

#[test]
fn between_topics_that_deliver_for_as_many_controls_the_earliest_controls_wins() {
    let mut s = account();
    chain_to(&mut s, "4.6", &topic_arn("ops"));
    chain_to(&mut s, "4.1", &topic_arn("team"));
    for selection in [&["4.2"][..], &["4.6", "4.2"], &[]] {
        let plan = audit(&catalog(selection), &s, &Options::default());
        let reused = plan.notifications.as_ref().unwrap();
        assert_eq!(reused.topic_arn, topic_arn("team"), "{selection:?}");
        assert_eq!(reused.delivers_for, ["4.1"]);
    }
}

#[test]
fn the_plan_names_a_users_topic_only_when_its_alarms_rely_on_it() {
    let s = a_mixed_account();
    // Nothing planned: nothing relied on.
    let plan = audit(&catalog(&["4.1", "4.6"]), &s, &Options::default());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.notifications, None);
    // --notify: cis-fix's own topic.
    let plan = audit(&catalog(&["4.2"]), &s, &notify());
    assert_eq!(plan.notifications, None);
    // --topic-arn: the user chose it.
    let chosen = Options {
        topic: TopicChoice::Arn(topic_arn("ops")),
        ..Options::default()
    };
    let plan = audit(&catalog(&["4.2"]), &s, &chosen);
    assert!(calls(&plan).contains(&("put_metric_alarm", Mode::Create, Some("4.2"))));
    assert_eq!(plan.notifications, None);
    // And it is said in JSON only when there is one.
    let json = serde_json::to_value(&plan).unwrap();
    assert!(json.get("notifications").is_none());
    let plan = audit(&catalog(&["4.2"]), &s, &Options::default());
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(
        json["notifications"],
        serde_json::json!({"topic_arn": topic_arn("ops"), "delivers_for": ["4.1", "4.6"]})
    );
}

#[test]
fn the_topic_of_a_users_own_alarm_is_named_with_no_compliant_control() {
    // 4.6's filter and alarm exist, but the alarm's actions are disabled: cis-fix's alarm
    // notifies the user's topic, which delivers for no compliant control yet.
    let mut s = account();
    compliant_46(&mut s, FAILURES);
    region(&mut s).alarms[0].actions_enabled = false;
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert!(calls(&plan).contains(&("put_metric_alarm", Mode::Create, Some("4.6"))));
    assert_eq!(
        plan.notifications,
        Some(TopicReuse {
            topic_arn: topic_arn("ops"),
            delivers_for: vec![],
        })
    );
}

/// The SSO-aware variant of 4.2, rewritten (so it is no verbatim catalog text).
const SSO_REWRITTEN: &str = r#"{ $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed != Yes && $.userIdentity.type = IAMUser && $.responseElements.ConsoleLogin = Success }"#;

/// A whole 4.2 chain (filter, alarm, confirmed subscriber) on `pattern`.
fn chain_42(pattern: &str) -> Snapshot {
    let mut s = account();
    let topic = topic_arn("ops");
    let r = region(&mut s);
    r.metric_filters
        .push(filter(GROUP, "no-mfa", pattern, "NoMfa"));
    r.alarms.push(alarm("no-mfa", "NoMfa", Some(&topic)));
    r.subscriptions
        .push(subscription(&topic, "email", "oncall@example.com", true));
    s
}

#[test]
fn a_chain_through_an_alternative_pattern_names_it() {
    let own = r#"{ $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed != Yes }"#;
    for (pattern, expected) in [
        (
            SSO_REWRITTEN,
            Some(("SSO-aware alternative", Relation::Equivalent)),
        ),
        (own, None),
    ] {
        let plan = audit(&catalog(&["4.2"]), &chain_42(pattern), &Options::default());
        let c = &plan.controls[0];
        assert_eq!(c.status, Status::Compliant, "{pattern}");
        let chain = c.chain.as_ref().unwrap();
        let named = chain
            .alternative
            .as_ref()
            .map(|a| (a.name.as_str(), chain.relation));
        assert_eq!(named, expected, "{pattern}");
        if let Some(a) = &chain.alternative {
            assert_eq!(a.index, 0);
            assert_eq!(
                a.note.as_deref(),
                Some("misses root and federated sign-ins without MFA, and failed ones")
            );
            let json = serde_json::to_value(chain).unwrap();
            assert_eq!(json["alternative"]["name"], "SSO-aware alternative");
        } else {
            assert!(serde_json::to_value(chain)
                .unwrap()
                .get("alternative")
                .is_none());
        }
    }
}

#[test]
fn under_cis_1_2_the_sso_aware_variant_does_not_count_and_the_finding_says_why() {
    let v12 = catalog::load_builtin("cis-1.2")
        .unwrap()
        .select(&["3.2".to_string()])
        .unwrap();
    let plan = audit(&v12, &chain_42(SSO_REWRITTEN), &Options::default());
    let c = &plan.controls[0];
    assert_eq!(c.status, Status::NonCompliant);
    let near = c
        .findings
        .iter()
        .find(|f| f.code == Code::NearMissFilter)
        .unwrap_or_else(|| panic!("{:#?}", c.findings));
    assert!(
        near.message.contains("is weaker than the control's pattern")
            && near.message.contains("; it covers Security Hub's SSO-aware variant, which this benchmark does not accept: Security Hub's CloudWatch.3 checks for it, but the CIS v1.2.0 text of 3.2 offers only the control's pattern"),
        "{}",
        near.message
    );
    assert!(near.counterexample.is_some());
}
