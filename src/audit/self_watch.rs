//! Controls that watch cis-fix's own calls. The hardened catalog's chain-watch control (H13)
//! watches `PutMetricFilter` and `PutMetricAlarm` on cis-fix's names, among others: an apply
//! makes exactly those calls, so its alarm fires a few minutes later because of cis-fix
//! itself. Which controls see which calls is not written down anywhere: it is found by
//! evaluating each selected control's pattern on the CloudTrail record each call will leave.

use serde_json::{json, Value};

use super::plan::{Action, Call};
use crate::catalog::Control;

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
    };
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

/// The selected controls whose pattern matches the record of one of `actions`' calls, each
/// with the calls it sees (`put_metric_filter ×15`), in catalog order.
pub fn watchers<'c>(controls: &'c [Control], actions: &[Action]) -> Vec<(&'c Control, String)> {
    controls
        .iter()
        .filter_map(|control| {
            let mut seen: Vec<(&str, usize)> = Vec::new();
            for action in actions {
                if !control
                    .pattern
                    .matches(&record_of(&action.call, &action.region))
                {
                    continue;
                }
                match seen
                    .iter_mut()
                    .find(|(name, _)| *name == action.call.name())
                {
                    Some((_, count)) => *count += 1,
                    None => seen.push((action.call.name(), 1)),
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

/// The plan's note for each control that will see the apply's own calls.
pub fn notes(controls: &[Control], actions: &[Action]) -> Vec<String> {
    watchers(controls, actions)
        .into_iter()
        .map(|(control, calls)| {
            format!(
                "{} ({}) watches calls this apply makes ({calls}): expect its alarm once, a few minutes after the apply, for cis-fix's own calls (its alarm history shows them)",
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
    }
}
