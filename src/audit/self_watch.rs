//! Controls that watch cis-fix's own calls. The hardened catalog's chain-watch control (H13)
//! watches `PutMetricFilter` and `PutMetricAlarm` on cis-fix's names, among others: an apply
//! makes exactly those calls, so its alarm fires a few minutes later because of cis-fix
//! itself. Which controls see which calls is not written down anywhere: it is found by
//! evaluating each selected control's pattern on the CloudTrail record each call will leave.

use serde_json::{json, Value};

use super::backout::{Removal, RemoveCall};
use super::plan::{Action, Call};
use crate::catalog::Control;
use crate::ownership;

/// The CloudTrail record a successful call leaves: the fields a pattern may test (source,
/// name, the resource's name in `requestParameters`), and no `errorCode`. Subscription
/// endpoints are left out: nothing here is printed, but a pattern has no need of them.
pub fn record_of(call: &Call, region: &str) -> Value {
    let (source, name, parameters) = match call {
        Call::CreateTopic { topic_name, .. } => {
            ("sns", "CreateTopic", json!({ "name": topic_name }))
        }
        Call::Subscribe {
            topic_arn,
            protocol,
            ..
        } => (
            "sns",
            "Subscribe",
            json!({ "topicArn": topic_arn, "protocol": protocol }),
        ),
        Call::PutMetricFilter(f) => (
            "logs",
            "PutMetricFilter",
            json!({
                "logGroupName": f.log_group_name,
                "filterName": f.filter_name,
                "filterPattern": f.filter_pattern,
            }),
        ),
        Call::PutMetricAlarm(a) => (
            "monitoring",
            "PutMetricAlarm",
            json!({ "alarmName": a.alarm_name, "metricName": a.metric_name, "namespace": a.namespace }),
        ),
        Call::SetTopicPolicy { topic_arn, .. } => (
            "sns",
            "SetTopicAttributes",
            json!({ "topicArn": topic_arn, "attributeName": "Policy" }),
        ),
        Call::PutRule(r) => ("events", "PutRule", json!({ "name": r.rule_name })),
        Call::PutTargets { rule_name, .. } => {
            ("events", "PutTargets", json!({ "rule": rule_name }))
        }
    };
    record(source, name, region, parameters)
}

/// The record a backout's removal leaves, as [`record_of`] for an apply's call.
pub fn removal_record(call: &RemoveCall, region: &str) -> (&'static str, Value) {
    let (source, name, label, parameters) = match call {
        RemoveCall::DeleteAlarm { alarm_name } => (
            "monitoring",
            "DeleteAlarms",
            "delete_alarm",
            json!({ "alarmNames": [alarm_name] }),
        ),
        RemoveCall::DeleteMetricFilter {
            log_group_name,
            filter_name,
        } => (
            "logs",
            "DeleteMetricFilter",
            "delete_metric_filter",
            json!({ "logGroupName": log_group_name, "filterName": filter_name }),
        ),
        RemoveCall::Unsubscribe {
            subscription_arn, ..
        } => (
            "sns",
            "Unsubscribe",
            "unsubscribe",
            json!({ "subscriptionArn": subscription_arn }),
        ),
        // RemoveTargets comes first, but the rule's deletion is what a watcher would name.
        RemoveCall::DeleteRule { rule_name, .. } => (
            "events",
            "DeleteRule",
            "delete_rule",
            json!({ "name": rule_name }),
        ),
        RemoveCall::DeleteTopic { topic_arn } => (
            "sns",
            "DeleteTopic",
            "delete_topic",
            json!({ "topicArn": topic_arn }),
        ),
    };
    (label, record(source, name, region, parameters))
}

fn record(source: &str, name: &str, region: &str, parameters: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": { "type": "AssumedRole" },
        "eventSource": format!("{source}.amazonaws.com"),
        "eventName": name,
        "awsRegion": region,
        "eventType": "AwsApiCall",
        "readOnly": false,
        "managementEvent": true,
        "requestParameters": parameters,
    })
}

/// The controls whose pattern matches one of `calls`' records (each call as its label and its
/// record), each with the calls it sees (`put_metric_filter ×15`), in catalog order.
pub fn watchers<'c>(
    controls: &'c [Control],
    calls: &[(&str, Value)],
) -> Vec<(&'c Control, String)> {
    controls
        .iter()
        .filter_map(|control| {
            let mut seen: Vec<(&str, usize)> = Vec::new();
            for (label, record) in calls {
                if !control.pattern.matches(record) {
                    continue;
                }
                match seen.iter_mut().find(|(name, _)| name == label) {
                    Some((_, count)) => *count += 1,
                    None => seen.push((label, 1)),
                }
            }
            let calls: Vec<String> = seen
                .iter()
                .map(|(name, count)| format!("{name} ×{count}"))
                .collect();
            (!calls.is_empty()).then(|| (control, calls.join(", ")))
        })
        .collect()
}

/// The plan's note for each selected control that will see the apply's own calls.
pub fn notes(controls: &[Control], actions: &[Action]) -> Vec<String> {
    let calls: Vec<(&str, Value)> = actions
        .iter()
        .map(|a| (a.call.name(), record_of(&a.call, &a.region)))
        .collect();
    watchers(controls, &calls)
        .into_iter()
        .map(|(control, calls)| {
            let rule = match control.watch_rule.is_some() {
                false => String::new(),
                true if creates_rule(actions, &control.slug) => format!(
                    "; its watch rule {}, created last, notifies {} once per matching event that reaches EventBridge after it exists: at least its own creation (put_rule), which shows the second path works",
                    ownership::watch_rule_name(&control.slug),
                    ownership::WATCH_TOPIC_NAME
                ),
                true => format!(
                    "; its watch rule {} notifies {} once per call it sees",
                    ownership::watch_rule_name(&control.slug),
                    ownership::WATCH_TOPIC_NAME
                ),
            };
            format!(
                "{} ({}) watches calls this apply makes ({calls}): expect its alarm once, a few minutes after the apply, for cis-fix's own calls (its alarm history shows them){rule}",
                control.id, control.slug
            )
        })
        .collect()
}

/// Whether the apply creates (or rewrites) the watch rule of the control `slug`.
fn creates_rule(actions: &[Action], slug: &str) -> bool {
    let name = ownership::watch_rule_name(slug);
    actions
        .iter()
        .any(|a| matches!(&a.call, Call::PutRule(rule) if rule.rule_name == name))
}

/// The backout's note for each control of the benchmark that will see its removals, unless
/// the backout removes that control's own alarm too (then its path is gone before the events
/// arrive). Said conditionally: the control's chain may not be in place at all.
pub fn removal_notes(controls: &[Control], removals: &[&Removal]) -> Vec<String> {
    let calls: Vec<(&str, Value)> = removals
        .iter()
        .map(|r| removal_record(&r.call, &r.region))
        .collect();
    let removed_alarm = |slug: &str| {
        removals.iter().any(|r| {
            matches!(r.call, RemoveCall::DeleteAlarm { .. }) && r.control.as_deref() == Some(slug)
        })
    };
    watchers(controls, &calls)
        .into_iter()
        .filter(|(control, _)| !removed_alarm(&control.slug))
        .map(|(control, calls)| {
            // A watch rule the backout keeps sees each call; one it removes goes first.
            let rule = match control.watch_rule.is_some() {
                true => format!(
                    "; its watch rule {}, if in place, notifies {} once per call",
                    ownership::watch_rule_name(&control.slug),
                    ownership::WATCH_TOPIC_NAME
                ),
                false => String::new(),
            };
            format!(
                "{} ({}) watches calls this backout makes ({calls}) and keeps its own alarm: where its chain is in place, expect its alarm once, a few minutes after the backout, for cis-fix's own calls{rule}",
                control.id, control.slug
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hardened(ids: &[&str]) -> Vec<Control> {
        let catalog = crate::catalog::load_builtin("hardened").unwrap();
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        catalog.select(&ids).unwrap().controls
    }

    fn filter(name: &str) -> Action {
        Action {
            mode: super::super::plan::Mode::Create,
            control: Some("5.1".into()),
            region: "us-east-1".into(),
            reason: String::new(),
            changes: Vec::new(),
            call: Call::PutMetricFilter(super::super::plan::FilterCall {
                log_group_name: "trail-logs".into(),
                filter_name: name.into(),
                filter_pattern: "{ $.eventName = ConsoleLogin }".into(),
                metric_name: "M".into(),
                metric_namespace: "CISBenchmark".into(),
                metric_value: "1".into(),
            }),
        }
    }

    fn topic() -> Action {
        Action {
            call: Call::CreateTopic {
                topic_name: "cis-fix-alerts".into(),
                topic_arn: "arn:aws:sns:us-east-1:111122223333:cis-fix-alerts".into(),
                tags: Default::default(),
                kms_master_key_id: None,
            },
            ..filter("x")
        }
    }

    #[test]
    fn the_chain_watch_control_sees_cis_fixs_own_filters_and_nothing_else_does() {
        let controls = hardened(&["5.1", "5.4", "H13", "H1"]);
        let actions = [
            topic(),
            filter("cis-fix-a-0011aabb"),
            filter("cis-fix-b-22334455"),
        ];
        let notes = notes(&controls, &actions);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with(
                "H13 (alarm-chain-tampering) watches calls this apply makes (put_metric_filter ×2): expect its alarm once"
            ),
            "{notes:?}"
        );
        // A filter of the user's own name is not cis-fix's call, and CreateTopic is not watched.
        assert!(super::notes(&controls, &[topic(), filter("team-filter")]).is_empty());
        // Without the chain-watch control, no CIS control sees an apply.
        let cis = crate::catalog::load_builtin("cis-7.0").unwrap().controls;
        assert!(super::notes(&cis, &actions).is_empty());
        // Its watch rule in place already: one notification per call it sees.
        assert!(
            notes[0].ends_with(
                "; its watch rule cis-fix-alarm-chain-tampering-watch notifies cis-fix-chain-watch once per call it sees"
            ),
            "{notes:?}"
        );
    }

    #[test]
    fn an_apply_that_creates_the_watch_rule_says_the_rule_announces_itself() {
        let controls = hardened(&["H13"]);
        let rule = Action {
            call: Call::PutRule(super::super::plan::RuleCall {
                rule_name: "cis-fix-alarm-chain-tampering-watch".into(),
                rule_arn:
                    "arn:aws:events:us-east-1:111122223333:rule/cis-fix-alarm-chain-tampering-watch"
                        .into(),
                event_pattern: "{}".into(),
                description: String::new(),
                tags: Default::default(),
            }),
            ..filter("x")
        };
        let notes = notes(&controls, &[filter("cis-fix-a-0011aabb"), rule]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("(put_metric_filter ×1, put_rule ×1)")
                && notes[0].contains("created last")
                && notes[0].contains("at least its own creation (put_rule)"),
            "{notes:?}"
        );
    }

    fn removal(control: Option<&str>, call: RemoveCall) -> Removal {
        Removal {
            control: control.map(str::to_string),
            region: "us-east-1".into(),
            call,
        }
    }

    #[test]
    fn a_backout_that_keeps_the_watching_alarm_is_noted_and_one_that_removes_it_is_not() {
        let controls = hardened(&["5.1", "H8", "H13"]);
        let h8_filter = removal(
            Some("snapshot-and-image-sharing"),
            RemoveCall::DeleteMetricFilter {
                log_group_name: "trail-logs".into(),
                filter_name: "cis-fix-snapshot-and-image-sharing-0011aabb".into(),
            },
        );
        let h8_alarm = removal(
            Some("snapshot-and-image-sharing"),
            RemoveCall::DeleteAlarm {
                alarm_name: "cis-fix-snapshot-and-image-sharing".into(),
            },
        );
        let notes = removal_notes(&controls, &[&h8_alarm, &h8_filter]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("H13 (alarm-chain-tampering) watches calls this backout makes (delete_alarm ×1, delete_metric_filter ×1) and keeps its own alarm"),
            "{notes:?}"
        );
        // Removing H13's own alarm too: its path is gone before the events arrive.
        let h13_alarm = removal(
            Some("alarm-chain-tampering"),
            RemoveCall::DeleteAlarm {
                alarm_name: "cis-fix-alarm-chain-tampering".into(),
            },
        );
        assert!(removal_notes(&controls, &[&h8_alarm, &h13_alarm]).is_empty());
    }
}
