//! The export as Terraform (HCL), laid out as `terraform fmt` lays it out.
//!
//! Strings escape quotes, backslashes, control characters and HCL's template markers
//! (`${` → `$${`, `%{` → `%%{`), so every filter pattern reads back byte for byte; the
//! property tests read them back with `hcl-rs`, and the integration tests with python-hcl2.
//! The layout (blocks, aligned `=`, comments) is written here too: no HCL crate aligns as
//! `terraform fmt` does or writes comments.

use std::fmt::Write as _;

use super::{ImportId, Item, Source, Target};
use crate::audit::Call;

/// Terraform 1.5 introduced `import` blocks.
const REQUIRED_VERSION: &str = ">= 1.5.0";
/// Alarm tags and `import` support for every resource used.
const PROVIDER_VERSION: &str = ">= 5.0";

/// The whole file.
pub fn render(source: &Source) -> String {
    let mut out = String::new();
    for line in source.header("terraform") {
        comment(&mut out, "", &line);
    }
    if source.is_empty() {
        return out;
    }
    let targets = source.targets();
    let several = targets.len() > 1;
    out.push('\n');
    write_block(
        &mut out,
        "",
        "terraform",
        &[
            Entry::attr("required_version", string(REQUIRED_VERSION)),
            Entry::Block(
                "required_providers".into(),
                vec![Entry::Object(
                    "aws".into(),
                    vec![
                        ("source".into(), string("hashicorp/aws")),
                        ("version".into(), string(PROVIDER_VERSION)),
                    ],
                )],
            ),
        ],
    );
    let assumes = targets
        .iter()
        .any(|t| source.role_arn(t.account_id).is_some());
    if assumes && source.external_id {
        out.push('\n');
        comment(
            &mut out,
            "",
            "The external ID cis-fix assumed the role with; pass it with -var or TF_VAR_external_id.",
        );
        write_block(
            &mut out,
            "",
            "variable \"external_id\"",
            &[
                Entry::attr("type", "string".into()),
                Entry::attr("sensitive", "true".into()),
            ],
        );
    }
    for target in &targets {
        out.push('\n');
        provider(&mut out, source, target, several);
    }
    for target in &targets {
        let alias = several.then(|| alias(target));
        for item in &target.items {
            out.push('\n');
            resource(&mut out, item, alias.as_deref(), target);
        }
    }
    out
}

/// `a111122223333_us_east_1`: provider aliases must start with a letter.
fn alias(target: &Target<'_>) -> String {
    format!("a{}_{}", target.account_id, super::snake(target.region))
}

/// The resource name: the item's, plus the target when there are several.
fn local_name(item_name: &str, alias: Option<&str>) -> String {
    match alias {
        Some(alias) => format!("{item_name}_{}", alias.trim_start_matches('a')),
        None => item_name.to_string(),
    }
}

fn provider(out: &mut String, source: &Source, target: &Target<'_>, several: bool) {
    let mut entries = Vec::new();
    if several {
        entries.push(Entry::attr("alias", string(&alias(target))));
    }
    entries.push(Entry::attr("region", string(target.region)));
    entries.push(Entry::attr(
        "allowed_account_ids",
        format!("[{}]", string(target.account_id)),
    ));
    if let Some(role_arn) = source.role_arn(target.account_id) {
        let mut assume = vec![Entry::attr("role_arn", string(&role_arn))];
        if source.external_id {
            assume.push(Entry::attr("external_id", "var.external_id".into()));
        }
        entries.push(Entry::Block("assume_role".into(), assume));
    }
    comment(
        out,
        "",
        &format!(
            "Account {}, region {}{}.",
            target.account_id,
            target.region,
            if source.role_arn(target.account_id).is_some() {
                ", through the role cis-fix assumed"
            } else {
                ""
            }
        ),
    );
    write_block(out, "", "provider \"aws\"", &entries);
}

fn resource(out: &mut String, item: &Item<'_>, alias: Option<&str>, target: &Target<'_>) {
    let name = local_name(&item.name, alias);
    let mut entries = Vec::new();
    if let Some(alias) = alias {
        entries.push(Entry::attr("provider", format!("aws.{alias}")));
    }
    let (kind, arguments) = arguments(item, alias);
    entries.extend(arguments);
    for line in &item.comments {
        comment(out, "", line);
    }
    write_block(
        out,
        "",
        &format!("resource \"{kind}\" \"{name}\""),
        &entries,
    );
    if let Some(import) = &item.import {
        import_block(out, import, &format!("{kind}.{name}"), alias, target);
    }
}

/// The resource type and its arguments: the call's own values, with references to what the
/// same export creates.
fn arguments(item: &Item<'_>, alias: Option<&str>) -> (&'static str, Vec<Entry>) {
    let reference = |item_name: &str| local_name(item_name, alias);
    // A topic this export creates, by reference; any other, by its ARN.
    let topic = |arn: &str, created: &Option<String>| topic_value(arn, created, alias);
    match &item.action.call {
        Call::CreateTopic {
            topic_name,
            tags,
            kms_master_key_id,
            ..
        } => {
            let mut entries = vec![Entry::attr("name", string(topic_name))];
            if let Some(key) = kms_master_key_id {
                entries.push(Entry::attr("kms_master_key_id", string(key)));
            }
            entries.push(tags_entry(tags));
            ("aws_sns_topic", entries)
        }
        Call::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => {
            let created = item.topic_refs.first().cloned().flatten();
            let entries = vec![
                Entry::attr("topic_arn", topic(topic_arn, &created)),
                Entry::attr("protocol", string(protocol)),
                Entry::attr("endpoint", string(endpoint)),
            ];
            ("aws_sns_topic_subscription", entries)
        }
        Call::PutMetricFilter(filter) => {
            let transformation = vec![
                Entry::attr("name", string(&filter.metric_name)),
                Entry::attr("namespace", string(&filter.metric_namespace)),
                Entry::attr("value", string(&filter.metric_value)),
            ];
            let entries = vec![
                Entry::attr("name", string(&filter.filter_name)),
                Entry::attr("log_group_name", string(&filter.log_group_name)),
                Entry::attr("pattern", string(&filter.filter_pattern)),
                Entry::Block("metric_transformation".into(), transformation),
            ];
            ("aws_cloudwatch_log_metric_filter", entries)
        }
        Call::PutMetricAlarm(alarm) => alarm_arguments(item, alias, alarm),
        Call::PutRule(rule) => rule_arguments(rule),
        Call::PutTargets {
            rule_name,
            target_id,
            target_arn,
        } => {
            let rule = match &item.rule_ref {
                Some(rule) => format!("aws_cloudwatch_event_rule.{}.name", reference(rule)),
                None => string(rule_name),
            };
            let created = item.topic_refs.first().cloned().flatten();
            let entries = vec![
                Entry::attr("rule", rule),
                Entry::attr("target_id", string(target_id)),
                Entry::attr("arn", topic(target_arn, &created)),
            ];
            ("aws_cloudwatch_event_target", entries)
        }
        Call::SetTopicPolicy { topic_arn, policy } => {
            let created = item.topic_refs.first().cloned().flatten();
            let entries = vec![
                Entry::attr("arn", topic(topic_arn, &created)),
                Entry::attr("policy", string(policy)),
            ];
            ("aws_sns_topic_policy", entries)
        }
    }
}

/// An alarm: on the metric of a filter this export creates, by reference; notifying the
/// topics it creates by reference, the others by ARN.
fn alarm_arguments(
    item: &Item<'_>,
    alias: Option<&str>,
    alarm: &crate::audit::AlarmCall,
) -> (&'static str, Vec<Entry>) {
    let reference = |item_name: &str| local_name(item_name, alias);
    let topic = |arn: &str, created: &Option<String>| topic_value(arn, created, alias);
    // The metric of a filter this export creates, by reference.
    let (metric_name, namespace) = match &item.filter_ref {
        Some(filter) => {
            let filter = format!(
                "aws_cloudwatch_log_metric_filter.{}.metric_transformation[0]",
                reference(filter)
            );
            (format!("{filter}.name"), format!("{filter}.namespace"))
        }
        None => (string(&alarm.metric_name), string(&alarm.namespace)),
    };
    let actions: Vec<String> = alarm
        .alarm_actions
        .iter()
        .zip(item.topic_refs.iter())
        .map(|(arn, created)| topic(arn, created))
        .collect();
    let entries = vec![
        Entry::attr("alarm_name", string(&alarm.alarm_name)),
        Entry::attr("alarm_description", string(&alarm.alarm_description)),
        Entry::attr("metric_name", metric_name),
        Entry::attr("namespace", namespace),
        Entry::attr("statistic", string(&alarm.statistic)),
        Entry::attr("period", alarm.period.to_string()),
        Entry::attr("threshold", number(alarm.threshold)),
        Entry::attr("comparison_operator", string(&alarm.comparison_operator)),
        Entry::attr("evaluation_periods", alarm.evaluation_periods.to_string()),
        // `apply` enables the actions explicitly; so does the export.
        Entry::attr("actions_enabled", "true".into()),
        Entry::attr("alarm_actions", format!("[{}]", actions.join(", "))),
        tags_entry(&alarm.tags),
    ];
    ("aws_cloudwatch_metric_alarm", entries)
}

/// A topic this export creates, by reference; any other, by its ARN.
fn topic_value(arn: &str, created: &Option<String>, alias: Option<&str>) -> String {
    match created {
        Some(topic) => format!("aws_sns_topic.{}.arn", local_name(topic, alias)),
        None => string(arn),
    }
}

/// A watch rule, enabled, with its tags.
fn rule_arguments(rule: &crate::audit::RuleCall) -> (&'static str, Vec<Entry>) {
    let entries = vec![
        Entry::attr("name", string(&rule.rule_name)),
        Entry::attr("description", string(&rule.description)),
        Entry::attr("event_pattern", string(&rule.event_pattern)),
        Entry::attr("state", string("ENABLED")),
        tags_entry(&rule.tags),
    ];
    ("aws_cloudwatch_event_rule", entries)
}

/// The `import` block that adopts cis-fix's existing resource (`to` is `TYPE.NAME`).
fn import_block(
    out: &mut String,
    import: &ImportId,
    to: &str,
    alias: Option<&str>,
    target: &Target<'_>,
) {
    let (id, what) = match import {
        ImportId::Alarm { alarm_name } => (alarm_name.clone(), "alarm"),
        // The provider's import id for a metric filter: `log_group_name:name`.
        ImportId::Filter {
            log_group_name,
            filter_name,
        } => (format!("{log_group_name}:{filter_name}"), "metric filter"),
    };
    let mut entries = Vec::new();
    if let Some(alias) = alias {
        entries.push(Entry::attr("provider", format!("aws.{alias}")));
    }
    entries.push(Entry::attr("to", to.to_string()));
    entries.push(Entry::attr("id", string(&id)));
    out.push('\n');
    comment(
        out,
        "",
        &format!(
            "Adopts cis-fix's existing {what} into the state (account {}, region {}).",
            target.account_id, target.region
        ),
    );
    write_block(out, "", "import", &entries);
}

/// The resource's tags, and the mark that this Terraform state owns it (`terraform workspace
/// NAME`), so that `cis-fix backout` leaves it to Terraform.
fn tags_entry(tags: &std::collections::BTreeMap<String, String>) -> Entry {
    let mut all: Vec<(&str, String)> = tags.iter().map(|(k, v)| (k.as_str(), string(v))).collect();
    all.push((
        crate::ownership::TAG_DEPLOYED_BY,
        "\"terraform workspace ${terraform.workspace}\"".into(),
    ));
    all.sort_by(|a, b| a.0.cmp(b.0));
    Entry::Object(
        "tags".into(),
        all.into_iter().map(|(k, v)| (string(k), v)).collect(),
    )
}

/// One line of a block body.
enum Entry {
    /// `key = value`, the value already written.
    Attr(String, String),
    /// `key = { k = v … }`, one item per line.
    Object(String, Vec<(String, String)>),
    /// A nested block.
    Block(String, Vec<Entry>),
}

impl Entry {
    fn attr(key: &str, value: String) -> Entry {
        Entry::Attr(key.to_string(), value)
    }
}

/// Writes `header { … }`. As `terraform fmt` does, the `=` of consecutive one-line attributes
/// line up; an object or nested block starts after a blank line and ends the run.
fn write_block(out: &mut String, indent: &str, header: &str, entries: &[Entry]) {
    let _ = writeln!(out, "{indent}{header} {{");
    let inner = format!("{indent}  ");
    let mut run: Vec<(&String, &String)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if let Entry::Attr(key, value) = entry {
            run.push((key, value));
            continue;
        }
        write_aligned(out, &inner, &run);
        run.clear();
        if index > 0 {
            out.push('\n');
        }
        match entry {
            Entry::Object(key, items) => {
                let _ = writeln!(out, "{inner}{key} = {{");
                let items: Vec<(&String, &String)> = items.iter().map(|(k, v)| (k, v)).collect();
                write_aligned(out, &format!("{inner}  "), &items);
                let _ = writeln!(out, "{inner}}}");
            }
            Entry::Block(header, body) => write_block(out, &inner, header, body),
            Entry::Attr(..) => {}
        }
    }
    write_aligned(out, &inner, &run);
    let _ = writeln!(out, "{indent}}}");
}

fn write_aligned(out: &mut String, indent: &str, run: &[(&String, &String)]) {
    let width = run
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (key, value) in run {
        let pad = width - key.chars().count();
        let _ = writeln!(out, "{indent}{key}{} = {value}", " ".repeat(pad));
    }
}

fn comment(out: &mut String, indent: &str, text: &str) {
    if text.is_empty() {
        let _ = writeln!(out, "{indent}#");
    } else {
        let _ = writeln!(out, "{indent}# {}", text.replace('\n', " "));
    }
}

/// A quoted HCL string: backslash escapes for `"`, `\` and control characters, and the
/// template markers doubled (`${` → `$${`, `%{` → `%%{`), as the HCL spec defines them.
///
/// Written here rather than by `hcl-rs` because its marker escaping (hcl-primitives
/// `escape_markers`, 0.1) skips a marker that follows a `$` or `%`: it writes `$${` for the
/// literal `$${`, which Terraform reads back as `${`. The property tests below catch that.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as HCL writes it: `1`, not `1.0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
