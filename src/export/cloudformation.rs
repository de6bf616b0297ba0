//! The export as CloudFormation: one YAML template per (account, region), as a StackSet
//! deploys them.
//!
//! Every value is emitted by `serde_norway` (YAML quoting and block scalars are its job);
//! only the comments and the two-space nesting under `Resources:` are added here, around
//! whole emitted documents, so no value's text is ever touched.

use serde_norway::value::{Tag, TaggedValue};
use serde_norway::{Mapping, Value};

use super::{ImportId, Item, Source, Target};
use crate::audit::Call;

/// One template: the stack for one (account, region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub account_id: String,
    pub region: String,
    pub text: String,
}

impl Template {
    /// `<account>-<region>.yaml`, the file name with `--out DIR`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.account_id, self.region)
    }
}

/// Every template, in plan order. With nothing to create, one template of comments only.
pub fn render(source: &Source) -> Result<Vec<Template>, serde_norway::Error> {
    let mut header = String::new();
    for line in source.header("cloudformation") {
        comment(&mut header, "", &line);
    }
    if source.is_empty() {
        return Ok(vec![Template {
            account_id: source.caller_account.clone(),
            region: source.region.clone(),
            text: header,
        }]);
    }
    source
        .targets()
        .iter()
        .map(|target| {
            Ok(Template {
                account_id: target.account_id.to_string(),
                region: target.region.to_string(),
                text: template(source, target, &header)?,
            })
        })
        .collect()
}

fn template(
    source: &Source,
    target: &Target<'_>,
    header: &str,
) -> Result<String, serde_norway::Error> {
    let mut out = header.to_string();
    comment(
        &mut out,
        "",
        &format!(
            "This template: account {}, region {}.",
            target.account_id, target.region
        ),
    );
    let imports: Vec<(&Item<'_>, &ImportId)> = target
        .items
        .iter()
        .filter_map(|i| i.import.as_ref().map(|id| (i, id)))
        .collect();
    if !imports.is_empty() {
        import_instructions(&mut out, &imports);
    }
    out.push('\n');
    let mut top = Mapping::new();
    top.insert(
        "AWSTemplateFormatVersion".into(),
        Value::String("2010-09-09".into()),
    );
    top.insert(
        "Description".into(),
        Value::String(format!(
            "cis-fix: CIS Monitoring controls ({}) in account {}, region {}",
            source.benchmark, target.account_id, target.region
        )),
    );
    out.push_str(&serde_norway::to_string(&top)?);
    out.push_str("Resources:\n");
    // A rule's targets are declared inside it (`Targets`): no resource of their own.
    let declared = target
        .items
        .iter()
        .filter(|i| !matches!(i.action.call, Call::PutTargets { .. }));
    for (index, item) in declared.enumerate() {
        if index > 0 {
            out.push('\n');
        }
        for line in &item.comments {
            comment(&mut out, "  ", line);
        }
        let mut resource = Mapping::new();
        resource.insert(logical_id(item).into(), body(item, target));
        for line in serde_norway::to_string(&resource)?.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// `UnauthorizedApiCallsAlarm`: the item's name and its kind.
pub fn logical_id(item: &Item<'_>) -> String {
    let kind = match item.action.call {
        Call::CreateTopic { .. } => "Topic",
        Call::Subscribe { .. } => "Subscription",
        Call::PutMetricFilter(_) => "Filter",
        Call::PutMetricAlarm(_) => "Alarm",
        Call::PutRule(_) | Call::PutTargets { .. } => "Rule",
        Call::SetTopicPolicy { .. } => "TopicPolicy",
    };
    format!("{}{kind}", super::camel(&item.name))
}

fn id_of(target: &Target<'_>, kind: &str, name: &str) -> String {
    target
        .items
        .iter()
        .find(|i| i.name == name && i.action.call.name() == kind)
        .map(logical_id)
        .unwrap_or_else(|| super::camel(name))
}

fn body(item: &Item<'_>, target: &Target<'_>) -> Value {
    let mut ordered = Mapping::new();
    ordered.insert("Type".into(), kind(item).into());
    // A metric filter returns no attribute naming its metric: an alarm on one names it and
    // waits for the filter.
    if let Some(filter) = &item.filter_ref {
        ordered.insert(
            "DependsOn".into(),
            id_of(target, "put_metric_filter", filter).into(),
        );
    }
    if item.import.is_some() {
        // A resource import requires a DeletionPolicy; once adopted, the stack owns it.
        ordered.insert("DeletionPolicy".into(), "Delete".into());
    }
    ordered.insert(
        "Properties".into(),
        Value::Mapping(properties(item, target)),
    );
    Value::Mapping(ordered)
}

/// The resource type of an item's call.
fn kind(item: &Item<'_>) -> &'static str {
    match item.action.call {
        Call::CreateTopic { .. } => "AWS::SNS::Topic",
        Call::Subscribe { .. } => "AWS::SNS::Subscription",
        Call::PutMetricFilter(_) => "AWS::Logs::MetricFilter",
        Call::PutMetricAlarm(_) => "AWS::CloudWatch::Alarm",
        Call::PutRule(_) | Call::PutTargets { .. } => "AWS::Events::Rule",
        Call::SetTopicPolicy { .. } => "AWS::SNS::TopicPolicy",
    }
}

/// The call's own values, with references to what the same template creates.
fn properties(item: &Item<'_>, target: &Target<'_>) -> Mapping {
    let mut properties = Mapping::new();
    // A topic this template creates, by reference; any other, by its ARN.
    let topic_ref = |arn: &str, topic: &Option<String>| match topic {
        Some(name) => reference(&id_of(target, "create_topic", name)),
        None => Value::String(arn.to_string()),
    };
    match &item.action.call {
        Call::CreateTopic {
            topic_name,
            tags,
            kms_master_key_id,
            ..
        } => {
            properties.insert("TopicName".into(), topic_name.as_str().into());
            if let Some(key) = kms_master_key_id {
                properties.insert("KmsMasterKeyId".into(), key.as_str().into());
            }
            properties.insert("Tags".into(), tag_list(tags));
        }
        Call::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => {
            let topic = item.topic_refs.first().cloned().flatten();
            properties.insert("TopicArn".into(), topic_ref(topic_arn, &topic));
            properties.insert("Protocol".into(), protocol.as_str().into());
            properties.insert("Endpoint".into(), endpoint.as_str().into());
        }
        Call::PutMetricFilter(filter) => {
            properties.insert("FilterName".into(), filter.filter_name.as_str().into());
            properties.insert("LogGroupName".into(), filter.log_group_name.as_str().into());
            properties.insert(
                "FilterPattern".into(),
                filter.filter_pattern.as_str().into(),
            );
            let mut transformation = Mapping::new();
            transformation.insert("MetricName".into(), filter.metric_name.as_str().into());
            transformation.insert(
                "MetricNamespace".into(),
                filter.metric_namespace.as_str().into(),
            );
            transformation.insert("MetricValue".into(), filter.metric_value.as_str().into());
            properties.insert(
                "MetricTransformations".into(),
                Value::Sequence(vec![Value::Mapping(transformation)]),
            );
        }
        Call::PutMetricAlarm(alarm) => {
            properties.insert("AlarmName".into(), alarm.alarm_name.as_str().into());
            properties.insert(
                "AlarmDescription".into(),
                alarm.alarm_description.as_str().into(),
            );
            properties.insert("MetricName".into(), alarm.metric_name.as_str().into());
            properties.insert("Namespace".into(), alarm.namespace.as_str().into());
            properties.insert("Statistic".into(), alarm.statistic.as_str().into());
            properties.insert("Period".into(), Value::from(alarm.period));
            properties.insert("Threshold".into(), Value::from(alarm.threshold));
            properties.insert(
                "ComparisonOperator".into(),
                alarm.comparison_operator.as_str().into(),
            );
            properties.insert(
                "EvaluationPeriods".into(),
                Value::from(alarm.evaluation_periods),
            );
            properties.insert("ActionsEnabled".into(), Value::Bool(true));
            let actions = alarm
                .alarm_actions
                .iter()
                .zip(item.topic_refs.iter())
                .map(|(arn, topic)| topic_ref(arn, topic))
                .collect();
            properties.insert("AlarmActions".into(), Value::Sequence(actions));
            properties.insert("Tags".into(), tag_list(&alarm.tags));
        }
        Call::PutRule(rule) => {
            properties.insert("Name".into(), rule.rule_name.as_str().into());
            properties.insert("Description".into(), rule.description.as_str().into());
            properties.insert("EventPattern".into(), json_value(&rule.event_pattern));
            properties.insert("State".into(), "ENABLED".into());
            properties.insert("Targets".into(), rule_targets(&rule.rule_name, target));
            properties.insert("Tags".into(), tag_list(&rule.tags));
        }
        // Declared inside its rule (`Targets`), which `export::unexported` makes sure is here.
        Call::PutTargets { .. } => {}
        Call::SetTopicPolicy { topic_arn, policy } => {
            let topic = item.topic_refs.first().cloned().flatten();
            properties.insert(
                "Topics".into(),
                Value::Sequence(vec![topic_ref(topic_arn, &topic)]),
            );
            properties.insert("PolicyDocument".into(), json_value(policy));
        }
    }
    properties
}

/// The targets the template's `put_targets` items give rule `rule_name`, each topic this
/// template creates by reference.
fn rule_targets(rule_name: &str, target: &Target<'_>) -> Value {
    let targets = target
        .items
        .iter()
        .filter_map(|item| match &item.action.call {
            Call::PutTargets {
                rule_name: of,
                target_id,
                target_arn,
            } if of == rule_name => {
                let mut entry = Mapping::new();
                entry.insert("Id".into(), target_id.as_str().into());
                let arn = match item.topic_refs.first().cloned().flatten() {
                    Some(name) => reference(&id_of(target, "create_topic", &name)),
                    None => Value::String(target_arn.clone()),
                };
                entry.insert("Arn".into(), arn);
                Some(Value::Mapping(entry))
            }
            _ => None,
        });
    Value::Sequence(targets.collect())
}

/// A JSON document (an event pattern, a policy) as YAML, so that it reads as the template's
/// own structure; text that is not JSON stays text.
fn json_value(text: &str) -> Value {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|json| serde_norway::to_value(json).ok())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

fn reference(logical_id: &str) -> Value {
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new("Ref"),
        value: Value::String(logical_id.to_string()),
    }))
}

/// The resource's tags, and the mark that the stack owns it (`cloudformation stack NAME`), so
/// that `cis-fix backout` leaves it to the stack.
fn tag_list(tags: &std::collections::BTreeMap<String, String>) -> Value {
    let deployed_by = Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new("Sub"),
        value: Value::String("cloudformation stack ${AWS::StackName}".into()),
    }));
    let mut all: Vec<(&str, Value)> = tags
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str().into()))
        .collect();
    all.push((crate::ownership::TAG_DEPLOYED_BY, deployed_by));
    all.sort_by(|a, b| a.0.cmp(b.0));
    Value::Sequence(
        all.into_iter()
            .map(|(key, value)| {
                let mut tag = Mapping::new();
                tag.insert("Key".into(), key.into());
                tag.insert("Value".into(), value);
                Value::Mapping(tag)
            })
            .collect(),
    )
}

/// A `~ change` to cis-fix's own resource: CloudFormation cannot create what exists, so the
/// stack must import it first.
fn import_instructions(out: &mut String, imports: &[(&Item<'_>, &ImportId)]) {
    let resources: Vec<serde_json::Value> = imports
        .iter()
        .map(|(item, id)| {
            let (kind, identifier) = match id {
                ImportId::Alarm { alarm_name } => (
                    "AWS::CloudWatch::Alarm",
                    serde_json::json!({ "AlarmName": alarm_name }),
                ),
                ImportId::Filter {
                    log_group_name,
                    filter_name,
                } => (
                    "AWS::Logs::MetricFilter",
                    serde_json::json!({ "LogGroupName": log_group_name, "FilterName": filter_name }),
                ),
            };
            serde_json::json!({
                "ResourceType": kind,
                "LogicalResourceId": logical_id(item),
                "ResourceIdentifier": identifier,
            })
        })
        .collect();
    let names: Vec<String> = imports.iter().map(|(item, _)| logical_id(item)).collect();
    comment(out, "", "");
    comment(
        out,
        "",
        &format!(
            "NEEDS A RESOURCE IMPORT: {} already exist{} (cis-fix's own) and this template changes {}.",
            names.join(", "),
            if names.len() == 1 { "s" } else { "" },
            if names.len() == 1 { "it" } else { "them" }
        ),
    );
    comment(
        out,
        "",
        "An import change set may hold only the imported resources (and those the stack has): import with a copy of this template that keeps only those, then update the stack with this template:",
    );
    comment(
        out,
        "",
        &format!(
            "  aws cloudformation create-change-set --change-set-type IMPORT --stack-name STACK --change-set-name cis-fix-import --template-body file://IMPORT_COPY.yaml --resources-to-import '{}'",
            serde_json::Value::Array(resources)
        ),
    );
}

fn comment(out: &mut String, indent: &str, text: &str) {
    use std::fmt::Write as _;
    if text.is_empty() {
        let _ = writeln!(out, "{indent}#");
    } else {
        let _ = writeln!(out, "{indent}# {}", text.replace('\n', " "));
    }
}
