//! Views of a plan: terraform-like text for people, versioned JSON for machines.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use crate::audit::backout::{Removal, RemovalPlan, RemoveCall};
use crate::audit::drill::{DrillTarget, Outcome, Skipped};
use crate::audit::options::mask_endpoint;
use crate::audit::{Action, AfterApply, Call, Mode, Plan, Status};

pub mod controls;
pub mod org;

#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
    /// Show subscription endpoints in full instead of masked.
    pub show_endpoints: bool,
}

/// The plan as pretty JSON (the schema is documented in the README), with subscription
/// endpoints masked unless `show_endpoints`: a webhook URL carries its token, and JSON ends up
/// in CI logs and artifacts.
pub fn json(plan: &Plan, show_endpoints: bool) -> String {
    let mut shown = plan.clone();
    if !show_endpoints {
        for action in &mut shown.actions {
            if let Call::Subscribe {
                protocol, endpoint, ..
            } = &mut action.call
            {
                *endpoint = mask_endpoint(protocol, endpoint);
            }
        }
    }
    // A plan holds only strings, numbers, maps and lists: serialising it cannot fail.
    serde_json::to_string_pretty(&shown).unwrap_or_default()
}

struct Painter(bool);

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
    fn green(&self, t: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), t)
    }
    fn red(&self, t: &str) -> String {
        self.paint(AnsiColor::Red.on_default(), t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint(AnsiColor::Yellow.on_default(), t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint(Style::new().bold(), t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint(Style::new().dimmed(), t)
    }
}

pub fn text(plan: &Plan, options: TextOptions) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} account {}, region {}, benchmark {} ({} control{})",
        p.bold("cis-fix plan:"),
        plan.account_id,
        plan.region,
        plan.benchmark,
        plan.controls.len(),
        if plan.controls.len() == 1 { "" } else { "s" }
    );

    for note in &plan.notes {
        let _ = writeln!(out, "{} {note}", p.yellow("note:"));
    }

    out.push('\n');
    let _ = writeln!(out, "{}", p.bold("Trails"));
    if plan.trails.is_empty() {
        let _ = writeln!(out, "  (none visible from {})", plan.region);
    }
    for t in &plan.trails {
        let target = t
            .log_group
            .as_deref()
            .map(|g| format!(" -> log group {g}"))
            .unwrap_or_default();
        let target = match &t.organization_owner {
            Some(owner) => format!(" (organization trail of account {owner}){target}"),
            None => target,
        };
        if t.qualifies {
            let _ = writeln!(out, "  {} {}{target}", p.green("ok  "), t.name);
        } else {
            let _ = writeln!(out, "  {} {}{target}", p.red("no  "), t.name);
            for problem in &t.problems {
                let _ = writeln!(out, "         {problem}");
            }
        }
    }

    out.push('\n');
    let _ = writeln!(out, "{}", p.bold("Controls"));
    let width = plan
        .controls
        .iter()
        .map(|c| c.id.len() + c.slug.len() + 1)
        .max()
        .unwrap_or(0);
    for c in &plan.controls {
        let status = match c.status {
            Status::Compliant => p.green("compliant"),
            Status::NonCompliant => p.red("non-compliant"),
            Status::Blocked => p.yellow("blocked"),
            Status::NotAuditable => p.yellow("not auditable"),
        };
        let label = format!("{} {}", c.id, c.slug);
        let _ = writeln!(out, "  {label:<width$}  {status}");
        if let Some(chain) = &c.chain {
            let _ = writeln!(
                out,
                "      {}",
                p.dim(&format!(
                    "trail {} -> log group {} -> filter {} ({}{}) -> alarm {} -> topic {} ({} confirmed subscription{})",
                    chain.trail,
                    chain.log_group,
                    chain.filter,
                    serde_json::to_value(chain.relation).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                    chain.evidence.map(|e| format!("; AWS matched {} of {} witness events", e.matched, e.witnesses)).unwrap_or_default(),
                    chain.alarm,
                    chain.topic_arn,
                    chain.confirmed_subscriptions,
                    if chain.confirmed_subscriptions == 1 { "" } else { "s" }
                ))
            );
        }
        for f in &c.findings {
            let _ = writeln!(out, "      - {}", f.message);
            if let Some(event) = &f.counterexample {
                let _ = writeln!(out, "        counterexample (matched by the control, missed by the filter): {event}");
            }
            if let Some(diff) = &f.diff {
                for line in diff.lines() {
                    let colored = match line.chars().next() {
                        Some('-') => p.red(line),
                        Some('+') => p.green(line),
                        _ => line.to_string(),
                    };
                    let _ = writeln!(out, "          {colored}");
                }
            }
        }
    }

    out.push('\n');
    if plan.actions.is_empty() {
        // "No changes" would read as "all is well": say it only when it is.
        let head = if plan.is_compliant() {
            "No changes."
        } else {
            "Nothing to apply."
        };
        let _ = writeln!(out, "{head} {}", summary_tail(plan));
        for line in unplanned(plan) {
            let _ = writeln!(out, "{line}");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "{} ({} create, {} change)",
        p.bold("Actions"),
        p.green("+"),
        p.yellow("~")
    );
    for a in &plan.actions {
        let sign = match a.mode {
            Mode::Create => p.green("+"),
            Mode::Change => p.yellow("~"),
        };
        let control = control_suffix(a.control.as_deref());
        let _ = writeln!(
            out,
            "  {sign} {}{control}",
            describe(a, options.show_endpoints)
        );
        let _ = writeln!(out, "      {}", p.dim(&a.reason));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{} {}",
        p.bold(&format!(
            "Plan: {} to create, {} to change.",
            plan.summary.to_create, plan.summary.to_change
        )),
        summary_tail(plan)
    );
    for line in unplanned(plan) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Why some non-compliant controls stay so after an apply, and what would fix it: one line per
/// reason, e.g. "Nothing can be planned for 13 non-compliant controls: no topic to notify
/// (pass --notify PROTOCOL:ENDPOINT or --topic-arn ARN)."
pub fn unplanned(plan: &Plan) -> Vec<String> {
    let mut reasons: Vec<(&'static str, usize)> = Vec::new();
    for c in &plan.controls {
        if c.after_apply != Some(AfterApply::NonCompliant) {
            continue;
        }
        let reason = c
            .findings
            .iter()
            .find_map(|f| unplanned_reason(&f.code))
            .unwrap_or("see each control's findings above");
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => reasons.push((reason, 1)),
        }
    }
    reasons
        .into_iter()
        .map(|(reason, n)| {
            format!(
                "Nothing can be planned for {n} non-compliant control{}: {reason}.",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
}

/// Controls that will be whole once someone confirms a new subscription.
pub fn awaiting_confirmation(plan: &Plan) -> usize {
    plan.controls
        .iter()
        .filter(|c| c.after_apply == Some(AfterApply::AwaitsConfirmation))
        .count()
}

fn unplanned_reason(code: &str) -> Option<&'static str> {
    Some(match code {
        "needs_subscriber" => {
            "no topic to notify (pass --notify PROTOCOL:ENDPOINT or --topic-arn ARN)"
        }
        "no_trail" | "no_qualifying_trail" => {
            "no qualifying trail (fix a trail as its findings say; cis-fix does not change trails)"
        }
        "not_auditable" => "AWS denied reads (grant the permissions named above)",
        "organization_trail_elsewhere" => {
            "an organization trail of another account may satisfy them (run `cis-fix plan --org` from the management account)"
        }
        "topic_not_subscribed" => {
            "the topic has no confirmed subscription (subscribe an endpoint to it and confirm it)"
        }
        "topic_delivery_unverified" => {
            "delivery to the topic cannot be proven (`cis-fix drill` proves it)"
        }
        "topic_key_denies_cloudwatch" | "topic_policy_denies_cloudwatch" => {
            "the topic's key or policy blocks CloudWatch (see the findings)"
        }
        "alarm_name_taken" => "cis-fix's alarm names are taken by alarms it did not create",
        "log_group_filter_limit" => "the log group has 100 metric filters, the limit",
        "topic_not_found" | "topic_in_other_region" | "topic_name_taken" => {
            "the topic option names a topic cis-fix cannot use (see the findings)"
        }
        _ => return None,
    })
}

fn summary_tail(plan: &Plan) -> String {
    let s = &plan.summary;
    let not_auditable = if s.not_auditable > 0 {
        format!(", {} not auditable", s.not_auditable)
    } else {
        String::new()
    };
    format!(
        "Controls: {} compliant, {} non-compliant, {} blocked{not_auditable}.",
        s.compliant, s.non_compliant, s.blocked
    )
}

/// One line per action: the call and what it names.
pub fn describe(action: &Action, show_endpoints: bool) -> String {
    let region = &action.region;
    match &action.call {
        Call::CreateTopic {
            topic_name,
            kms_master_key_id,
            ..
        } => match kms_master_key_id {
            Some(key) => format!("create_topic {topic_name} ({region}, encrypted with {key})"),
            None => format!("create_topic {topic_name} ({region})"),
        },
        Call::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => {
            let shown = shown_endpoint(protocol, endpoint, show_endpoints);
            format!("subscribe {protocol} {shown} to {topic_arn}")
        }
        Call::PutMetricFilter {
            log_group_name,
            filter_name,
            metric_namespace,
            metric_name,
            ..
        } => format!(
            "put_metric_filter {filter_name} on log group {log_group_name} -> {metric_namespace}/{metric_name} ({region})"
        ),
        Call::PutMetricAlarm {
            alarm_name,
            namespace,
            metric_name,
            ..
        } => format!("put_metric_alarm {alarm_name} on {namespace}/{metric_name} ({region})"),
    }
}

/// ` [4.1]` after an action that serves one control.
fn control_suffix(control: Option<&str>) -> String {
    control.map(|c| format!(" [{c}]")).unwrap_or_default()
}

/// Endpoints are masked unless the user asked to see them.
fn shown_endpoint(protocol: &str, endpoint: &str, show: bool) -> String {
    if show {
        endpoint.to_string()
    } else {
        mask_endpoint(protocol, endpoint)
    }
}

/// One line per removal.
pub fn describe_removal(removal: &Removal, show_endpoints: bool) -> String {
    let region = &removal.region;
    match &removal.call {
        RemoveCall::DeleteAlarm { alarm_name } => format!("delete_alarm {alarm_name} ({region})"),
        RemoveCall::DeleteMetricFilter {
            log_group_name,
            filter_name,
        } => format!("delete_metric_filter {filter_name} on log group {log_group_name} ({region})"),
        RemoveCall::Unsubscribe {
            topic_arn,
            protocol,
            endpoint,
            ..
        } => {
            let shown = shown_endpoint(protocol, endpoint, show_endpoints);
            format!("unsubscribe {protocol} {shown} from {topic_arn}")
        }
        RemoveCall::DeleteTopic { topic_arn } => format!("delete_topic {topic_arn}"),
    }
}

/// What a backout will remove and keep, terraform-style.
pub fn removal_text(
    account: &str,
    region: &str,
    plan: &RemovalPlan,
    options: TextOptions,
) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} account {account}, region {region}",
        p.bold("cis-fix backout:")
    );
    out.push('\n');
    if !plan.kept.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Kept"));
        for k in &plan.kept {
            let _ = writeln!(out, "  {}: {}", k.resource, k.reason);
        }
        out.push('\n');
    }
    if plan.removals.is_empty() {
        let _ = writeln!(
            out,
            "Nothing to remove: no resource created by cis-fix was found."
        );
        return out;
    }
    let _ = writeln!(out, "{} ({} destroy)", p.bold("Actions"), p.red("-"));
    for r in &plan.removals {
        let control = control_suffix(r.control.as_deref());
        let _ = writeln!(
            out,
            "  {} {}{control}",
            p.red("-"),
            describe_removal(r, options.show_endpoints)
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!("Plan: {} to destroy.", plan.removals.len()))
    );
    out
}

/// What a drill will do, before it asks.
pub fn drill_intro(
    account: &str,
    region: &str,
    targets: &[DrillTarget],
    skipped: &[Skipped],
    options: TextOptions,
) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} account {account}, region {region}",
        p.bold("cis-fix drill:")
    );
    out.push('\n');
    if !skipped.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Skipped"));
        for s in skipped {
            let _ = writeln!(out, "  {}: {}", s.control, s.reason);
        }
        out.push('\n');
    }
    if targets.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{} ({} set to ALARM, then back to OK)",
        p.bold("Drill"),
        p.yellow("!")
    );
    for t in targets {
        let _ = writeln!(
            out,
            "  {} set_alarm_state {} ALARM -> OK ({}) [{}]",
            p.yellow("!"),
            t.alarm,
            t.region,
            t.control
        );
        let _ = writeln!(out, "      {}", p.dim(&format!("notifies {}", t.topic_arn)));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Each alarm's notification goes to every subscriber of its topic: real people may be paged. Setting it back to OK runs its OK actions, if it has any. No alarm's configuration is changed."
    );
    out
}

/// What became of each drilled control's notification, and the tally.
pub fn drill_report(targets: &[DrillTarget], outcomes: &[Outcome], options: TextOptions) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    for (t, outcome) in targets.iter().zip(outcomes) {
        let line = match outcome {
            Outcome::Delivered { message_id } => format!(
                "  {} {} delivered: alarm {} published to {}{}",
                p.green("ok"),
                t.control,
                t.alarm,
                t.topic_arn,
                message_id
                    .as_deref()
                    .map(|id| format!(" (message {id})"))
                    .unwrap_or_default()
            ),
            Outcome::Failed { error } => format!(
                "  {} {} not delivered: alarm {} could not notify {}. AWS says: {error}",
                p.red("FAILED"),
                t.control,
                t.alarm,
                t.topic_arn
            ),
            Outcome::NoResult { waited_seconds } => format!(
                "  {} {} no result: alarm {} showed no action for {} within {waited_seconds} s (raise --wait, or look at the alarm's history)",
                p.red("FAILED"),
                t.control,
                t.alarm,
                t.topic_arn
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    let delivered = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Delivered { .. }))
        .count();
    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!(
            "Drill complete: {delivered} of {} delivered.",
            outcomes.len()
        ))
    );
    out
}

#[cfg(test)]
mod tests;
